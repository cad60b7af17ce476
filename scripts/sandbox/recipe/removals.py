"""Per-op counts and which op removed each document, for every way a recipe variant is processed.

Counts (op_counts.json's "ops"): for each op of the recipe, the documents it removed and those left
after it. A removed row (removed.jsonl) names the op that removed a document, with the document's
text, meta and stats. Three sources attribute the removals:

- the mask path: the positions each op removed from the cached stats (sandbox/recipe/masks.py apply_ops);
- filter decisions, after an executor run: each removed document goes to the first filter, in recipe
  order, whose own decision rejects its stats; the documents no filter rejects go to the non-filter
  ops that removed documents. Valid only when filters come first (filters_come_first);
- Data-Juicer's tracer, which records each filter's removals during the executor run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from sandbox.io.jsonl import iter_jsonl
from sandbox.recipe.masks import STATS_FIELD, MaskResult, StatsCache, filter_keeps_stats
from sandbox.recipe.op_args import stat_keys_of, threshold_args_of
from sandbox.recipe.recipe_file import Process, op_names

Record = dict[str, Any]
Count = dict[str, Any]


def per_op_counts(names: Sequence[str], removed_per_op: Sequence[int], input_count: int) -> list[Count]:
    """Count entries (op_index, op, removed, left) from the documents each op removed, in order."""
    counts, left = [], input_count
    for index, (name, removed) in enumerate(zip(names, removed_per_op)):
        left -= removed
        counts.append({"op_index": index, "op": name, "removed": removed, "left": left})
    return counts


def counts_from_executor_log(process: Process, left_after_op: Sequence[tuple[str, int]],
                             input_count: int) -> list[Count]:
    """Per-op counts from the executor's 'Left N samples' line after each op."""
    names = op_names(process)
    logged = [name for name, _ in left_after_op]
    if names and not logged:
        # No line matched at all: the executor ran, so its log line changed, not the recipe.
        from sandbox.recipe.dj import OP_DONE_LINE, internal_changed

        raise internal_changed(
            f"the executor's per-op log line (none matched OP_DONE_LINE /{OP_DONE_LINE.pattern}/)",
            "counts_from_executor_log in scripts/sandbox/recipe/removals.py",
            "update OP_DONE_LINE in scripts/sandbox/recipe/dj.py to the line this version logs after each "
            "op (NestedDataset.process in data_juicer/core/data/dj_dataset.py)",
        )
    if logged != names:
        raise RuntimeError(f"executor reported ops {logged}, expected {names}")
    lefts = [left for _, left in left_after_op]
    removed = [before - left for before, left in zip([input_count, *lefts], lefts)]
    return per_op_counts(names, removed, input_count)


def describe_filters(process: Process, ops: list[Any], counts: list[Count]) -> None:
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
    """True when only filters run up to the last filter, so the filters' decisions alone explain their
    removals.

    A deduplicator or selector before a filter would remove documents that filter never saw.
    """
    from data_juicer.ops import Filter

    filter_positions = [i for i, op in enumerate(ops) if isinstance(op, Filter)]
    last_filter = max(filter_positions, default=-1)
    return all(isinstance(op, Filter) for op in ops[:last_filter])


def removed_row(record: Record, op: Count) -> Record:
    """One removed.jsonl row: the removing op (a count entry, or a combined label) and the document."""
    row = {"removed_by": op["op"], "op_index": op["op_index"], "sandbox_row": record.get("sandbox_row")}
    row["text"] = record.get("text")
    row["meta"] = record.get("meta")
    row["stats"] = record.get(STATS_FIELD)
    return row


def removed_by_masks(process: Process, result: MaskResult, pool: list[Record],
                     cache: StatsCache) -> tuple[list[Count], list[Record]]:
    """Counts and removed rows of the mask path, from the cache positions each op removed."""
    removed_per_op = [len(positions) for positions in result.removed_by_op]
    counts = per_op_counts(op_names(process), removed_per_op, len(pool))
    removed = [removed_row({**pool[position], STATS_FIELD: cache.stats[position]}, count)
               for count, positions in zip(counts, result.removed_by_op) for position in positions]
    return counts, removed


def with_computed_stats(op: Any, records: list[Record]) -> list[Record]:
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


@dataclass
class FilterRejections:
    """Removed documents by the first filter (op index) whose decision rejects them, and the rest."""

    by_filter: dict[int, list[Record]]
    unexplained: list[Record]


def reject_by_filters(ops: list[Any], removed_records: list[Record], compute: bool,
                      counts: list[Count] | None) -> FilterRejections:
    """Ask each filter in recipe order for its decision on the removed documents no earlier filter rejects.

    With compute, each filter first computes its stats for those documents (an executor's export holds
    only the kept documents' stats). With counts, a filter that rejects another number of documents
    than the executor says it removed stops the attribution (RuntimeError).
    """
    from data_juicer.ops import Filter

    pending = [{**record, STATS_FIELD: dict(record.get(STATS_FIELD) or {})} for record in removed_records]
    by_filter: dict[int, list[Record]] = {}
    for index, op in enumerate(ops):
        if not isinstance(op, Filter):
            continue
        if compute:
            pending = with_computed_stats(op, pending)
        keeps = filter_keeps_stats(op, [record[STATS_FIELD] for record in pending])
        rejected = [record for record, keep in zip(pending, keeps) if not keep]
        if counts is not None and len(rejected) != counts[index]["removed"]:
            raise RuntimeError(f"{counts[index]['op']} rejects {len(rejected)} of the removed documents' "
                               f"stats, the executor removed {counts[index]['removed']}")
        by_filter[index] = rejected
        pending = [record for record, keep in zip(pending, keeps) if keep]
    return FilterRejections(by_filter, pending)


def counts_from_rejections(process: Process, ops: list[Any], rejections: FilterRejections,
                           input_count: int) -> list[Count]:
    """Per-op counts for an executor that reports none (Ray's, without its tracer): each filter removed
    what it rejects; the documents no filter rejects go to the one other op that removes documents."""
    from data_juicer.ops import Filter, Mapper

    removed_per_op = {index: len(records) for index, records in rejections.by_filter.items()}
    removers = [index for index, op in enumerate(ops) if not isinstance(op, (Filter, Mapper))]
    unexplained = len(rejections.unexplained)
    if unexplained and len(removers) != 1:
        raise RuntimeError(f"{unexplained} removed documents no filter rejects, and {len(removers)} other "
                           "ops could have removed them")
    if unexplained:
        removed_per_op[removers[0]] = unexplained
    names = op_names(process)
    return per_op_counts(names, [removed_per_op.get(index, 0) for index in range(len(names))], input_count)


def removed_by_decisions(ops: list[Any], process: Process, removed_records: list[Record], compute: bool,
                         counts: list[Count] | None, input_count: int) -> tuple[list[Count], list[Record]]:
    """Counts and removed rows after an executor run, from the filters' own decisions on the removed
    documents' stats (computed first with compute).

    counts: the executor's per-op counts, which the decisions must reproduce; None where the executor
    reports none (Ray's), and the same decisions give them.
    """
    rejections = reject_by_filters(ops, removed_records, compute, counts)
    if counts is None:
        counts = counts_from_rejections(process, ops, rejections, input_count)
    removed = [removed_row(record, counts[index])
               for index, records in sorted(rejections.by_filter.items()) for record in records]
    return counts, removed + removed_by_non_filters(ops, counts, rejections.unexplained)


def removed_by_tracer(ops: list[Any], counts: list[Count], trace_dir: Path | None, inputs: dict[int, Record],
                      kept_rows: set[int]) -> list[Record]:
    """Every removed document, labelled with the op that removed it, from Data-Juicer's tracer files."""
    from data_juicer.ops import Filter

    removed: list[Record] = []
    traced_rows: set[int] = set()
    for op, count in zip(ops, counts):
        if not isinstance(op, Filter):
            continue
        trace_file = trace_dir / f"sample_trace-{count['op']}.jsonl" if trace_dir else None
        rows = [record for _, record in iter_jsonl(trace_file)] if trace_file and trace_file.exists() else []
        if len(rows) != count["removed"]:
            raise RuntimeError(f"tracer kept {len(rows)} documents for {count['op']}, "
                               f"the executor removed {count['removed']}")
        for record in rows:
            traced_rows.add(record["sandbox_row"])
            removed.append(removed_row(record, count))
    residual = [inputs[row] for row in sorted(set(inputs) - kept_rows - traced_rows)]
    return removed + removed_by_non_filters(ops, counts, residual)


def removed_by_non_filters(ops: list[Any], counts: list[Count], residual: list[Record]) -> list[Record]:
    """Label the removed documents no filter accounts for with the non-filter ops that removed documents."""
    from data_juicer.ops import Filter

    removing_ops = [count for op, count in zip(ops, counts)
                    if count["removed"] and not isinstance(op, Filter)]
    if sum(op["removed"] for op in removing_ops) != len(residual):
        raise RuntimeError(f"{len(residual)} removed documents no filter accounts for, but the other ops "
                           f"removed {sum(op['removed'] for op in removing_ops)}")
    if not residual:
        return []
    label = removing_ops[0] if len(removing_ops) == 1 else {
        "op_index": None, "op": "+".join(op["op"] for op in removing_ops)}
    return [removed_row(record, label) for record in residual]


def sort_removed(removed: list[Record], op_count: int) -> None:
    """Order rows by op, then document (in place); combined labels (no op_index) go last."""
    # Worker processes trace in any order; sorted rows make the file reproducible.
    def order(row: Record) -> tuple[int, int]:
        return (op_count if row["op_index"] is None else row["op_index"], row["sandbox_row"])

    removed.sort(key=order)
