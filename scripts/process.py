"""Process the pool with one recipe variant: by Data-Juicer's executor, or by masks over cached stats.

Writes the processed JSONL, per-op counts (documents in, removed by each op, documents out) and
every removed document with the op that removed it. op_counts.json says which path ran.

Mask path: when the variant's ops equal the analysed recipe's except for filter thresholds, no
mapper runs before a filter, and every op is a filter or an exact deduplicator, no operator needs to
run: each filter's own keep/drop code is asked on the stats the raw analysis cached, and the exact
deduplicator keeps the first document per cached hash among the survivors (sandbox/recipe/masks.py).
A model-feedback variant (the base recipe plus one model-feedback filter) takes it too: --model-stats
gives the pool's stat of that filter, which its op computed once (feedback_scores.py); the op is added to
the analysed recipe and its stat to the cached stats, so the variant again differs from the analysis
only in thresholds and no model scores the pool a second time.

Executor path (anything else): when the ops still differ only in thresholds, the executor reads the
pool with the stats the raw analysis computed (Data-Juicer's filters skip a stat a sample already
carries); otherwise the plain pool. Which filter removed a document: with reused stats (and only
filters up to the last filter), each filter's own decision is asked again on the removed documents'
stats, in recipe order; otherwise Data-Juicer's tracer records them during the run. Either way the
result must match the executor's own per-op counts (sandbox/recipe/removals.py attributes on every path).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.recipe.dj import (
    ExecutorRun,
    forbid_runtime_installs,
    job_scratch,
    register_custom_operators,
    require_nonempty_output,
    run_executor,
)
from sandbox.recipe.masks import (
    EXECUTOR_PATH,
    PathChoice,
    StatsCache,
    apply_ops,
    choose_path,
    read_stats_cache,
)
from sandbox.recipe.model_stats import ModelStats, read_model_stats
from sandbox.recipe.ray_mode import Executor, check_ray_support, executor_from_env
from sandbox.recipe.recipe_file import Process, load_recipe
from sandbox.recipe.removals import (
    counts_from_executor_log,
    describe_filters,
    filters_come_first,
    removed_by_decisions,
    removed_by_masks,
    removed_by_tracer,
    sort_removed,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--recipe", required=True, type=Path, help="the variant's recipe")
    parser.add_argument("--analyzed-recipe", required=True, type=Path,
                        help="the recipe the raw stats came from")
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--pool-with-stats", required=True, type=Path)
    parser.add_argument("--stats-cache", required=True, type=Path, help="the raw analysis's stats.parquet")
    parser.add_argument("--model-stats", type=Path, nargs="*", default=[],
                        help="the pool's stats of model-feedback ops (analysis/raw/feedback_<method>"
                        ".parquet): a recipe adding such an op to the analysed one takes the mask path too")
    parser.add_argument("--out-data", required=True, type=Path)
    parser.add_argument("--out-counts", required=True, type=Path)
    parser.add_argument("--out-removed", required=True, type=Path)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--trace", action="store_true",
                        help="always run the executor, with Data-Juicer's tracer naming each removal "
                        "(a cross-check)")
    return parser.parse_args()


@dataclass
class Processed:
    """What either path produced (besides the data file it wrote): sizes, per-op counts, removed rows."""

    input_docs: int
    output_docs: int
    counts: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    attributed_by: str


def with_model_stats(analyzed: dict[str, Any], cache: StatsCache,
                     model_stats: list[ModelStats]) -> tuple[dict[str, Any], StatsCache]:
    """The analysed recipe with each model-feedback op appended (where a feedback recipe puts its filter),
    and the stats cache with each op's cached stat of every document. The exact deduplicators' hash
    columns keep their op indices, since the ops come after the analysed ones."""
    stats = [dict(sample) for sample in cache.stats]
    for extra in model_stats:
        if extra.rows.tolist() != cache.rows.tolist():
            raise InputError(f"the cached {extra.stat_key} stats do not list the stats cache's documents in "
                             "order. Fix: rerun both (snakemake --forcerun analyze feedback_scores).")
        for sample, value in zip(stats, extra.values.tolist()):
            sample[extra.stat_key] = value
    extended = {**analyzed, "process": [*analyzed["process"], *(extra.op for extra in model_stats)]}
    return extended, replace(cache, stats=stats)


def choose(recipe: dict[str, Any], analyzed: dict[str, Any], args: argparse.Namespace) -> PathChoice:
    """choose_path, first against the analysis extended by the cached model-feedback stats (a feedback
    variant's mask path); where that refuses the mask path, the plain analysis decides as before (the
    executor computes the feedback stat itself), keeping the first refusal's reason."""
    if not args.model_stats:
        return choose_path(recipe, analyzed, args.stats_cache)
    extended, cache = with_model_stats(analyzed, read_stats_cache(args.stats_cache),
                                       [read_model_stats(path) for path in args.model_stats])
    choice = choose_path(recipe, extended, cache)
    if choice.is_mask:
        return choice
    return replace(choose_path(recipe, analyzed, args.stats_cache), executor_reason=choice.executor_reason)


def process_by_masks(args: argparse.Namespace, ops: list[Any], process: Process,
                     cache: StatsCache) -> Processed:
    """The mask path: the ops' own decisions on the cached stats and hashes; nothing else runs."""
    pool = [record for _, record in iter_jsonl(args.pool)]
    if [record.get("sandbox_row") for record in pool] != cache.rows.tolist():
        raise RuntimeError(f"the stats cache does not list the documents of {args.pool} in order; "
                           "rerun the raw analysis (snakemake --forcerun analyze)")
    result = apply_ops(ops, cache)
    counts, removed = removed_by_masks(process, result, pool, cache)
    require_nonempty_output(len(result.kept), args.recipe, args.variant)
    write_jsonl(args.out_data, (pool[p] for p in result.kept))
    return Processed(len(pool), len(result.kept), counts, removed,
                     "filter decisions and cached hashes (mask path)")


def run_and_read(args: argparse.Namespace, recipe: dict[str, Any], source: Path, scratch: Path,
                 input_count: int, trace: bool, executor: Executor
                 ) -> tuple[ExecutorRun, Path, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """One executor run: its report, export path, kept records and per-op counts (None: Ray without
    tracer)."""
    export_path = scratch / "export" / "data.jsonl"
    # The tracer keeps every removed sample only when its limit is at least the input size.
    run = run_executor(args.recipe, source, export_path, scratch / "work", args.np,
                       input_count if trace else None, executor)
    kept = [record for _, record in iter_jsonl(export_path)]
    if executor.is_ray and not trace:
        return run, export_path, kept, None  # no per-op counts: removed_by_decisions gives them
    return run, export_path, kept, counts_from_executor_log(recipe["process"], run.left_after_op, input_count)


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
                counts, removed = removed_by_decisions(ops, recipe["process"], removed_records, not reuse,
                                                       counts, len(inputs))
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                print(f"removals cannot be attributed from stats ({error!r}); running again with the tracer")
                traced = True
                run, export_path, kept, counts = run_and_read(args, recipe, source, scratch / "traced",
                                                              len(inputs), trace=True, executor=executor)
                kept_rows = {record["sandbox_row"] for record in kept}
        if traced:
            removed = removed_by_tracer(ops, counts, run.trace_dir, inputs, kept_rows)
        require_nonempty_output(len(kept), args.recipe, args.variant)
        os.replace(export_path, args.out_data)
    attributed_by = "tracer" if traced else ("filter decisions on reused stats" if reuse else
                                             "filter decisions on stats computed for removed documents")
    return Processed(len(inputs), len(kept), counts, removed, attributed_by)


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    recipe = load_recipe(args.recipe)
    analyzed = load_recipe(args.analyzed_recipe)
    register_custom_operators(recipe)
    executor = executor_from_env()
    if executor.is_ray:
        check_ray_support(args.recipe, recipe["process"])
    choice = choose(recipe, analyzed, args)
    if args.trace:
        choice = replace(choice, path=EXECUTOR_PATH,
                         executor_reason="--trace asks for the executor and its tracer")
    args.out_data.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if choice.is_mask:
        processed = process_by_masks(args, choice.ops, recipe["process"], choice.cache)
    else:
        processed = process_by_executor(args, recipe, choice.ops, choice.stats_reused, executor)
    seconds = time.perf_counter() - started
    describe_filters(recipe["process"], choice.ops, processed.counts)
    sort_removed(processed.removed, len(processed.counts))
    write_jsonl(args.out_removed, processed.removed)
    summary = {
        "variant": args.variant,
        "recipe": str(args.recipe),
        "input_docs": processed.input_docs,
        "output_docs": processed.output_docs,
        "kept_fraction": processed.output_docs / processed.input_docs,
        "path": choice.path,
        # The mask path runs no executor; its stats came from the analysis, run by this same executor.
        "executor": executor.kind,
        "executor_reason": choice.executor_reason,
        "stats_reused": choice.stats_reused,
        "removals_attributed_by": processed.attributed_by,
        "data_juicer_version": importlib.metadata.version("py-data-juicer"),
        "data_step_seconds": round(seconds, 3),
        "ops": processed.counts,
    }
    args.out_counts.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{args.variant}: kept {processed.output_docs}/{processed.input_docs} documents "
          f"({choice.path} path{'' if choice.is_mask else ': ' + choice.executor_reason})")
    for op in processed.counts:
        print(f"  {op['op_index']:>2} {op['op']:<32} removed {op['removed']:>6}, left {op['left']:>6}")


if __name__ == "__main__":
    run_main(main)
