"""Threshold-only variants from cached stats, with no executor run (the "mask path").

The raw analysis writes a columnar stats cache (Parquet): each document's sandbox_row, one column
per stat the recipe's filters computed, and, for each exact deduplicator of the recipe, the hash
that deduplicator's own `compute_hash` gives the document. A variant whose ops differ from the
analysed recipe's only in filter thresholds then needs no operator to run: each filter's own
keep/drop code (`process_batched` / `process_single`) is asked on the cached stats, and an exact
deduplicator keeps the first document per hash among the survivors, as Data-Juicer's does. The ops
apply in recipe order, each to the documents the previous ones kept, so per-op removal counts are
those the executor reports. choose_path decides, for process.py, the HPO rounds and datamodels alike,
whether a recipe takes this path or Data-Juicer's executor.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from sandbox.recipe.op_args import threshold_args_of
from sandbox.recipe.recipe_file import Process, op_names, strip_thresholds

STATS_FIELD = "__dj__stats__"
ROW_COLUMN = "sandbox_row"
HASH_PREFIX = "hash:"
STAT_PREFIX = "stat:"


def is_exact_deduplicator(op: Any) -> bool:
    """True for Data-Juicer's document_deduplicator (exact md5), whose decisions a cached hash replays."""
    from data_juicer.ops.deduplicator import DocumentDeduplicator

    return type(op) is DocumentDeduplicator


def hash_column(op_index: int) -> str:
    return f"{HASH_PREFIX}{op_index}"


def write_stats_cache(path: Path, records: Sequence[dict[str, Any]], ops: Sequence[Any],
                      text_key: str) -> None:
    """Write the stats cache for records that carry __dj__stats__ (the Analyzer's export)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from data_juicer.utils.constant import HashKeys

    columns: dict[str, list[Any]] = {ROW_COLUMN: [record["sandbox_row"] for record in records]}
    stat_keys = sorted({key for record in records for key in record.get(STATS_FIELD, {})})
    for key in stat_keys:
        columns[STAT_PREFIX + key] = [record.get(STATS_FIELD, {}).get(key) for record in records]
    for index, op in enumerate(ops):
        if is_exact_deduplicator(op):
            columns[hash_column(index)] = [op.compute_hash({text_key: record[text_key]})[HashKeys.hash]
                                           for record in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(pa.table(columns), partial)
    partial.replace(path)


@dataclass
class StatsCache:
    """The cache in memory: rows in pool order, each document's stats dict, hashes per op index."""

    rows: np.ndarray
    stats: list[dict[str, Any]]
    hashes: dict[int, list[str]]


def read_stats_cache(path: Path) -> StatsCache:
    """Read a cache written by write_stats_cache."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    stat_columns = [name for name in table.column_names if name.startswith(STAT_PREFIX)]
    values = [table.column(name).to_pylist() for name in stat_columns]
    keys = [name[len(STAT_PREFIX):] for name in stat_columns]
    # A stat absent from a document stays absent (Arrow stores it as null).
    stats = [{key: value for key, value in zip(keys, row) if value is not None} for row in zip(*values)]
    if not stat_columns:
        stats = [{} for _ in range(table.num_rows)]
    hashes = {int(name[len(HASH_PREFIX):]): table.column(name).to_pylist()
              for name in table.column_names if name.startswith(HASH_PREFIX)}
    return StatsCache(rows=table.column(ROW_COLUMN).to_numpy(), stats=stats, hashes=hashes)


def can_reuse_stats(process: Process, analyzed: Process) -> bool:
    """True when precomputed stats describe exactly what this variant's filters would compute."""
    from data_juicer.ops import OPERATORS, Filter, Mapper

    if op_names(process) != op_names(analyzed):
        return False
    classes = [OPERATORS.modules[name] for name in op_names(process)]
    thresholds = {name: {arg.name for arg in threshold_args_of(cls)}
                  for name, cls in zip(op_names(process), classes)}
    if strip_thresholds(process, thresholds) != strip_thresholds(analyzed, thresholds):
        return False
    # The Analyzer skips mappers, so its stats describe the text before any mapper ran: they are
    # only valid for filters that no mapper precedes.
    filter_positions = [i for i, cls in enumerate(classes) if issubclass(cls, Filter)]
    last_filter = max(filter_positions, default=-1)
    return not any(issubclass(cls, Mapper) for cls in classes[:last_filter])


def mask_path_refusal(ops: Sequence[Any], cache: StatsCache) -> str | None:
    """Why these (already threshold-only) ops cannot take the mask path, or None when they can."""
    from data_juicer.ops import Filter

    for index, op in enumerate(ops):
        if is_exact_deduplicator(op):
            if index not in cache.hashes:
                return f"op {index} ({op._name}) has no cached hash in the stats cache"
        elif not isinstance(op, Filter):
            return f"op {index} ({op._name}) is neither a filter nor an exact deduplicator"
    return None


MASK_PATH = "mask"
EXECUTOR_PATH = "executor"
OPS_DIFFER = ("its ops differ from the analysed recipe's in more than filter thresholds, "
              "or a mapper runs before a filter")


@dataclass
class PathChoice:
    """How a recipe is run: on the mask path or by Data-Juicer's executor, and why not by masks."""

    path: str  # MASK_PATH or EXECUTOR_PATH
    executor_reason: str | None  # None on the mask path
    ops: list[Any]  # the recipe's ops, loaded
    stats_reused: bool  # the analysed recipe's stats describe what this recipe's filters compute
    cache: StatsCache | None  # read when the stats are reusable

    @property
    def is_mask(self) -> bool:
        return self.path == MASK_PATH


def choose_path(recipe: dict[str, Any], analyzed: dict[str, Any], cache: StatsCache | Path) -> PathChoice:
    """The mask path when the recipe differs from the analysed one only in filter thresholds and each op
    is a filter or an exact deduplicator with a cached hash; else the executor, with the reason.

    cache: the analysed recipe's stats cache, or its path (read only when the stats are reusable).
    The recipe's custom operators must be registered first (sandbox.recipe.dj.register_custom_operators).
    """
    from data_juicer.ops.load import load_ops

    reusable = can_reuse_stats(recipe["process"], analyzed["process"])
    ops = load_ops(recipe["process"])
    if not reusable:
        return PathChoice(EXECUTOR_PATH, OPS_DIFFER, ops, stats_reused=False, cache=None)
    stats_cache = read_stats_cache(cache) if isinstance(cache, Path) else cache
    refusal = mask_path_refusal(ops, stats_cache)
    return PathChoice(MASK_PATH if refusal is None else EXECUTOR_PATH, refusal, ops, stats_reused=True,
                      cache=stats_cache)


def filter_keeps_stats(op: Any, stats: list[dict[str, Any]]) -> list[bool]:
    """The filter's own keep/drop decision for each stats dict (filters decide from stats alone)."""
    if not stats:
        return []
    if not op.is_batched_op():
        return [bool(op.process_single({STATS_FIELD: sample_stats})) for sample_stats in stats]
    return [bool(keep) for keep in op.process_batched({STATS_FIELD: stats})]


@contextmanager
def stats_keys_resolved_once() -> Iterator[None]:
    """Make each of Data-Juicer's StatsKeys a plain class attribute while inside.

    StatsKeys resolves every attribute through a metaclass hook that records which module read
    which key (inspect.currentframe on each access, ~5 us); filters read a key per document, which
    made that hook 40 % of a 100k-document mask step. The values are the same; only the access
    log (used by the Analyzer's auto mode, not here) misses these reads.
    """
    from data_juicer.utils.constant import StatsKeys

    constants = StatsKeys._constants_class
    added = [name for name in vars(constants) if not name.startswith("_") and name not in vars(StatsKeys)]
    for name in added:
        setattr(StatsKeys, name, getattr(constants, name))
    try:
        yield
    finally:
        for name in added:
            delattr(StatsKeys, name)


def first_per_hash(hashes: Sequence[str]) -> np.ndarray:
    """Keep flags: True for the first occurrence of each hash, in order."""
    seen: set[str] = set()
    keep = np.zeros(len(hashes), dtype=bool)
    for position, value in enumerate(hashes):
        if value not in seen:
            seen.add(value)
            keep[position] = True
    return keep


@dataclass
class MaskResult:
    """Which cache positions survive, and for each op the positions it removed."""

    kept: np.ndarray
    removed_by_op: list[np.ndarray]


def apply_ops(ops: Sequence[Any], cache: StatsCache,
              analyzed_positions: Sequence[int] | None = None) -> MaskResult:
    """Apply the ops in order to the cached stats and hashes; each op sees only the survivors.

    analyzed_positions: each op's position in the analysed recipe (where its hash column comes
    from), for a subset of that recipe's ops; default: the ops are the analysed recipe's, in order.
    """
    from data_juicer.ops import Filter

    positions_in_analysis = list(range(len(ops))) if analyzed_positions is None else list(analyzed_positions)
    alive = np.ones(len(cache.stats), dtype=bool)
    removed_by_op: list[np.ndarray] = []
    with stats_keys_resolved_once():
        for op, index in zip(ops, positions_in_analysis):
            positions = np.flatnonzero(alive)
            if isinstance(op, Filter):
                stats = cache.stats
                keep = np.fromiter(filter_keeps_stats(op, [stats[p] for p in positions.tolist()]),
                                   dtype=bool, count=len(positions))
            else:
                column = cache.hashes[index]
                keep = first_per_hash([column[p] for p in positions.tolist()])
            removed = positions[~keep]
            alive[removed] = False
            removed_by_op.append(removed)
    return MaskResult(kept=np.flatnonzero(alive), removed_by_op=removed_by_op)
