"""Process the pool with one recipe variant: by Data-Juicer's executor, or by masks over cached stats.

Writes the processed JSONL, per-op counts (documents in, removed by each op, documents out) and
every removed document with the op that removed it. op_counts.json says which path ran.

Mask path: when the variant's ops equal the analysed recipe's except for filter thresholds, no
mapper runs before a filter, and every op is a filter or an exact deduplicator, no operator needs to
run: each filter's own keep/drop code is asked on the stats the raw analysis cached, and the exact
deduplicator keeps the first document per cached hash among the survivors (sandbox/masks.py).

Executor path (anything else): when the ops still differ only in thresholds, the executor reads the
pool with the stats the raw analysis computed (Data-Juicer's filters skip a stat a sample already
carries); otherwise the plain pool. Which filter removed a document: with reused stats (and only
filters up to the last filter), each filter's own decision is asked again on the removed documents'
stats, in recipe order; otherwise Data-Juicer's tracer records them during the run. Either way the
result must match the executor's own per-op counts.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.dj import (  # noqa: E402
    ExecutorRun, forbid_runtime_installs, job_scratch, register_custom_operators, require_nonempty_output,
    run_executor)
from sandbox.jsonl import iter_jsonl, write_jsonl  # noqa: E402
from sandbox.masks import (  # noqa: E402
    StatsCache, apply_ops, can_reuse_stats, filter_keeps_stats, mask_path_refusal, read_stats_cache)
from sandbox.op_args import stat_keys_of, threshold_args_of  # noqa: E402
from sandbox.ray_mode import Executor, check_ray_support, executor_from_env  # noqa: E402
from sandbox.recipe import Process, load_recipe, op_names  # noqa: E402

STATS_FIELD = "__dj__stats__"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--recipe", required=True, type=Path, help="the variant's recipe")
    parser.add_argument("--analyzed-recipe", required=True, type=Path, help="the recipe the raw stats came from")
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--pool-with-stats", required=True, type=Path)
    parser.add_argument("--stats-cache", required=True, type=Path, help="the raw analysis's stats.parquet")
    parser.add_argument("--out-data", required=True, type=Path)
    parser.add_argument("--out-counts", required=True, type=Path)
    parser.add_argument("--out-removed", required=True, type=Path)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--trace", action="store_true",
                        help="always run the executor, with Data-Juicer's tracer naming each removal (a cross-check)")
    return parser.parse_args()


def removals_per_op(process: Process, run: ExecutorRun, input_count: int) -> list[dict[str, Any]]:
    """Documents removed by each op, from the executor's 'Left N samples' line after each op."""
    names = op_names(process)
    logged = [name for name, _ in run.left_after_op]
    if logged != names:
        raise RuntimeError(f"executor reported ops {logged}, expected {names}")
    counts, before = [], input_count
    for index, (name, left) in enumerate(run.left_after_op):
        counts.append({"op_index": index, "op": name, "removed": before - left, "left": left})
        before = left
    return counts


def describe_filters(process: Process, ops: list[Any], counts: list[dict[str, Any]]) -> None:
    """Add each filter's stat keys and threshold values to its count entry (for threshold inspection)."""
    from data_juicer.ops import Filter

    for entry, op, count in zip(process, ops, counts):
        (name, args), = entry.items()
        if not isinstance(op, Filter):
            continue
        defaults = inspect.signature(type(op).__init__).parameters
        count["stats"] = stat_keys_of(op)
        count["thresholds"] = {arg.name: args.get(arg.name, defaults[arg.name].default)
                               for arg in threshold_args_of(type(op))}


def filters_come_first(ops: list[Any]) -> bool:
    """True when only filters run up to the last filter, so the filters' decisions alone explain their removals.

    A deduplicator or selector before a filter would remove documents that filter never saw.
    """
    from data_juicer.ops import Filter

    filter_positions = [i for i, op in enumerate(ops) if isinstance(op, Filter)]
    last_filter = max(filter_positions, default=-1)
    return all(isinstance(op, Filter) for op in ops[:last_filter])


def removed_by_stats(ops: list[Any], counts: list[dict[str, Any]], removed_records: list[dict[str, Any]],
                     compute: bool) -> list[dict[str, Any]]:
    """Every removed document, labelled with the first filter (in recipe order) that rejects its stats.

    With compute, each filter first computes its stats for the documents no earlier filter
    rejected (the executor's export holds only the kept documents' stats).
    """
    from data_juicer.ops import Filter

    pending = [{**record, STATS_FIELD: dict(record.get(STATS_FIELD) or {})} for record in removed_records]
    removed: list[dict[str, Any]] = []
    for op, count in zip(ops, counts):
        if not isinstance(op, Filter):
            continue
        if compute:
            pending = with_computed_stats(op, pending)
        keeps = filter_keeps_stats(op, [record[STATS_FIELD] for record in pending])
        rejected = [record for record, keep in zip(pending, keeps) if not keep]
        if len(rejected) != count["removed"]:
            raise RuntimeError(f"{count['op']} rejects {len(rejected)} of the removed documents' stats, "
                               f"the executor removed {count['removed']}")
        removed.extend(removed_row(record, count) for record in rejected)
        pending = [record for record, keep in zip(pending, keeps) if keep]
    return removed + removed_by_non_filters(ops, counts, pending)


def removed_by_decisions(ops: list[Any], process: Process, removed_records: list[dict[str, Any]], compute: bool,
                         input_count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-op counts and labelled removals for an executor that reports no per-op counts (Ray's,
    without its tracer, which costs a remote call per document and filter).

    Each removed document is labelled with the first filter, in recipe order, whose own decision
    rejects its stats (computed first with compute), as removed_by_stats does; the documents no
    filter rejects go to the one other op that removes documents (a deduplicator after the filters).
    """
    from data_juicer.ops import Filter, Mapper

    pending = [{**record, STATS_FIELD: dict(record.get(STATS_FIELD) or {})} for record in removed_records]
    rejected: dict[int, list[dict[str, Any]]] = {}
    for index, op in enumerate(ops):
        if not isinstance(op, Filter):
            continue
        if compute:
            pending = with_computed_stats(op, pending)
        keeps = filter_keeps_stats(op, [record[STATS_FIELD] for record in pending])
        rejected[index] = [record for record, keep in zip(pending, keeps) if not keep]
        pending = [record for record, keep in zip(pending, keeps) if keep]
    removers = [index for index, op in enumerate(ops) if not isinstance(op, (Filter, Mapper))]
    if pending and len(removers) != 1:
        raise RuntimeError(f"{len(pending)} removed documents no filter rejects, and {len(removers)} other ops "
                           "could have removed them")
    if pending:
        rejected[removers[0]] = pending
    counts, left = [], input_count
    for index, name in enumerate(op_names(process)):
        left -= len(rejected.get(index, []))
        counts.append({"op_index": index, "op": name, "removed": len(rejected.get(index, [])), "left": left})
    removed = [removed_row(record, counts[index]) for index, records in sorted(rejected.items()) for record in records]
    return counts, removed


def removed_by_tracer(ops: list[Any], counts: list[dict[str, Any]], run: ExecutorRun,
                      inputs: dict[int, dict[str, Any]], kept_rows: set[int]) -> list[dict[str, Any]]:
    """Every removed document, labelled with the op that removed it, from Data-Juicer's tracer files."""
    from data_juicer.ops import Filter

    removed: list[dict[str, Any]] = []
    traced_rows: set[int] = set()
    for op, count in zip(ops, counts):
        if not isinstance(op, Filter):
            continue
        trace_file = run.trace_dir / f"sample_trace-{count['op']}.jsonl" if run.trace_dir else None
        rows = [record for _, record in iter_jsonl(trace_file)] if trace_file and trace_file.exists() else []
        if len(rows) != count["removed"]:
            raise RuntimeError(
                f"tracer kept {len(rows)} documents for {count['op']}, the executor removed {count['removed']}")
        for record in rows:
            traced_rows.add(record["sandbox_row"])
            removed.append(removed_row(record, count))
    residual = [inputs[row] for row in sorted(set(inputs) - kept_rows - traced_rows)]
    return removed + removed_by_non_filters(ops, counts, residual)


def removed_by_non_filters(ops: list[Any], counts: list[dict[str, Any]],
                           residual: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Label the removed documents no filter accounts for with the non-filter ops that removed documents."""
    from data_juicer.ops import Filter

    removing_ops = [count for op, count in zip(ops, counts) if count["removed"] and not isinstance(op, Filter)]
    if sum(op["removed"] for op in removing_ops) != len(residual):
        raise RuntimeError(f"{len(residual)} removed documents no filter accounts for, but the other ops "
                           f"removed {sum(op['removed'] for op in removing_ops)}")
    if not residual:
        return []
    label = removing_ops[0] if len(removing_ops) == 1 else {
        "op_index": None, "op": "+".join(op["op"] for op in removing_ops)}
    return [removed_row(record, label) for record in residual]


def removed_row(record: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    row = {"removed_by": op["op"], "op_index": op["op_index"], "sandbox_row": record.get("sandbox_row")}
    row["text"] = record.get("text")
    row["meta"] = record.get("meta")
    row["stats"] = record.get(STATS_FIELD)
    return row


@dataclass
class Processed:
    """What either path produced (besides the data file it wrote): sizes, per-op counts, removed rows."""

    input_docs: int
    output_docs: int
    counts: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    attributed_by: str


def process_by_masks(args: argparse.Namespace, ops: list[Any], process: Process, cache: StatsCache) -> Processed:
    """The mask path: the ops' own decisions on the cached stats and hashes; nothing else runs."""
    pool = [record for _, record in iter_jsonl(args.pool)]
    if [record.get("sandbox_row") for record in pool] != cache.rows.tolist():
        raise RuntimeError(f"the stats cache does not list the documents of {args.pool} in order; "
                           "rerun the raw analysis (snakemake --forcerun analyze)")
    result = apply_ops(ops, cache)
    counts, removed, left = [], [], len(pool)
    for index, (name, positions) in enumerate(zip(op_names(process), result.removed_by_op)):
        left -= len(positions)
        count = {"op_index": index, "op": name, "removed": len(positions), "left": left}
        counts.append(count)
        removed.extend(removed_row({**pool[p], STATS_FIELD: cache.stats[p]}, count) for p in positions)
    require_nonempty_output(len(result.kept), args.recipe, args.variant)
    write_jsonl(args.out_data, (pool[p] for p in result.kept))
    return Processed(len(pool), len(result.kept), counts, removed, "filter decisions and cached hashes (mask path)")


def with_computed_stats(op: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with __dj__stats__ completed by the filter's own compute_stats (in place)."""
    if not records:
        return records
    if op.is_batched_op():
        batch = {op.text_key: [record[op.text_key] for record in records],
                 STATS_FIELD: [record[STATS_FIELD] for record in records]}
        for record, stats in zip(records, op.compute_stats(batch)[STATS_FIELD]):
            record[STATS_FIELD] = stats
    else:
        for record in records:
            sample = {op.text_key: record[op.text_key], STATS_FIELD: record[STATS_FIELD]}
            record[STATS_FIELD] = op.compute_stats(sample)[STATS_FIELD]
    return records


def run_and_read(args: argparse.Namespace, recipe: dict[str, Any], source: Path, scratch: Path, input_count: int,
                 trace: bool, executor: Executor
                 ) -> tuple[ExecutorRun, Path, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """One executor run: its report, export path, kept records and per-op counts (None: Ray without tracer)."""
    export_path = scratch / "export" / "data.jsonl"
    # The tracer keeps every removed sample only when its limit is at least the input size.
    run = run_executor(args.recipe, source, export_path, scratch / "work", args.np, input_count if trace else None,
                       executor)
    kept = [record for _, record in iter_jsonl(export_path)]
    if executor.is_ray and not trace:
        return run, export_path, kept, None  # no per-op counts: removed_by_decisions gives them
    return run, export_path, kept, removals_per_op(recipe["process"], run, input_count)


def process_by_executor(args: argparse.Namespace, recipe: dict[str, Any], ops: list[Any], reuse: bool,
                        executor: Executor) -> Processed:
    """The executor path: Data-Juicer's DefaultExecutor (or RayExecutor) on the pool (with its raw
    stats when reusable).

    When only filters run up to the last filter, the removed documents are attributed afterwards
    from their stats (the reused ones, or computed by the filters for the removed documents only),
    which costs far less than Data-Juicer's tracer; otherwise, or if a filter cannot compute its
    stats outside the executor, the tracer records them. The Ray executor reports no per-op counts, so
    there the same filter decisions also give the counts (removed_by_decisions).
    """
    source = args.pool_with_stats if reuse else args.pool
    inputs = {record["sandbox_row"]: record for _, record in iter_jsonl(source)}
    traced = args.trace or not filters_come_first(ops)
    with job_scratch(args.out_data.parent, ".dj-process-") as scratch:
        run, export_path, kept, counts = run_and_read(args, recipe, source, scratch / "first", len(inputs),
                                                      trace=traced, executor=executor)
        kept_rows = {record["sandbox_row"] for record in kept}
        removed = None
        if not traced:
            removed_records = [inputs[row] for row in sorted(set(inputs) - kept_rows)]
            try:
                if counts is None:
                    counts, removed = removed_by_decisions(ops, recipe["process"], removed_records, not reuse,
                                                           len(inputs))
                else:
                    removed = removed_by_stats(ops, counts, removed_records, compute=not reuse)
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                print(f"removals cannot be attributed from stats ({error!r}); running again with the tracer")
                traced = True
                run, export_path, kept, counts = run_and_read(args, recipe, source, scratch / "traced",
                                                              len(inputs), trace=True, executor=executor)
                kept_rows = {record["sandbox_row"] for record in kept}
        if traced:
            removed = removed_by_tracer(ops, counts, run, inputs, kept_rows)
        require_nonempty_output(len(kept), args.recipe, args.variant)
        os.replace(export_path, args.out_data)
    attributed_by = "tracer" if traced else (
        "filter decisions on reused stats" if reuse else "filter decisions on stats computed for removed documents")
    return Processed(len(inputs), len(kept), counts, removed, attributed_by)


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    from data_juicer.ops.load import load_ops

    recipe = load_recipe(args.recipe)
    analyzed = load_recipe(args.analyzed_recipe)
    register_custom_operators(recipe)
    executor = executor_from_env()
    if executor.is_ray:
        check_ray_support(args.recipe, recipe["process"])
    reuse = can_reuse_stats(recipe["process"], analyzed["process"])
    ops = load_ops(recipe["process"])
    cache = read_stats_cache(args.stats_cache) if reuse else None
    refusal = mask_path_refusal(ops, cache) if cache is not None else (
        "its ops differ from the analysed recipe's in more than filter thresholds, or a mapper runs before a filter")
    if args.trace:
        refusal = "--trace asks for the executor and its tracer"
    args.out_data.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if refusal is None:
        processed = process_by_masks(args, ops, recipe["process"], cache)
    else:
        processed = process_by_executor(args, recipe, ops, reuse, executor)
    seconds = time.perf_counter() - started
    describe_filters(recipe["process"], ops, processed.counts)
    counts, removed = processed.counts, processed.removed
    # Worker processes trace in any order; sorted rows make the file reproducible.
    removed.sort(key=lambda row: (row["op_index"] if row["op_index"] is not None else len(counts), row["sandbox_row"]))
    write_jsonl(args.out_removed, removed)
    summary = {
        "variant": args.variant,
        "recipe": str(args.recipe),
        "input_docs": processed.input_docs,
        "output_docs": processed.output_docs,
        "kept_fraction": processed.output_docs / processed.input_docs,
        "path": "mask" if refusal is None else "executor",
        # The mask path runs no executor; its stats came from the analysis, run by this same executor.
        "executor": executor.kind,
        "executor_reason": refusal,
        "stats_reused": reuse,
        "removals_attributed_by": processed.attributed_by,
        "data_juicer_version": importlib.metadata.version("py-data-juicer"),
        "data_step_seconds": round(seconds, 3),
        "ops": counts,
    }
    args.out_counts.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{args.variant}: kept {processed.output_docs}/{processed.input_docs} documents "
          f"({summary['path']} path{'' if refusal is None else ': ' + refusal})")
    for op in counts:
        print(f"  {op['op_index']:>2} {op['op']:<32} removed {op['removed']:>6}, left {op['left']:>6}")


if __name__ == "__main__":
    run_main(main)
