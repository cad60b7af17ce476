"""The pool's model-feedback stats, computed once and cached beside the Analyzer's stats
(analysis/raw/feedback_<method>.parquet, written by scripts/feedback_scores.py).

One file per model-feedback op: each pool document's sandbox_row, a digest of its text, and the stat the
op's own compute_stats gave it (cross-fitted: each document by the fold model that never learned it),
with the op entry (name and model arguments, thresholds left open) and the scoring time in the file's
metadata. Its readers never score again: feedback_recipe.py sets the op's thresholds from the values;
process.py adds the op to the analysed recipe and its stat to the Analyzer's stats cache
(sandbox/recipe/masks.py, with_model_stats), so a feedback variant takes the mask path like a
threshold-only one; quality_scores.py takes each variant document's classifier score from the pool's by
row id, where the digest says the text is the one scored.

Plain numpy and pyarrow: the data evaluator's env has no Data-Juicer (and no PyYAML).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sandbox.io.jsonl import InputError

ROW_COLUMN = "sandbox_row"
DIGEST_COLUMN = "text_digest"
STAT_PREFIX = "stat:"
METADATA_KEY = b"recipe_sandbox.model_stats"


def text_digest(text: str) -> str:
    """A short digest of a document's text: tells a reader that its copy is the text that was scored."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class ModelStats:
    """One op's stat of every pool document, in pool order."""

    rows: np.ndarray  # sandbox_row of each document
    digests: list[str]  # text_digest of each document
    op: dict[str, dict[str, Any]]  # {op name: its arguments}, as a recipe's process entry
    stat_key: str  # where the op writes its stat under __dj__stats__
    values: np.ndarray  # the stat, as the op computed it
    seconds: float  # how long the op took to score the pool

    @property
    def op_name(self) -> str:
        return next(iter(self.op))

    @property
    def op_args(self) -> dict[str, Any]:
        return next(iter(self.op.values()))


def write_model_stats(path: Path, stats: ModelStats) -> None:
    """Write one op's pool stats (atomically: a reader never sees half a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({ROW_COLUMN: stats.rows, DIGEST_COLUMN: stats.digests,
                      STAT_PREFIX + stats.stat_key: np.asarray(stats.values, dtype=np.float64)})
    metadata = {"op": stats.op, "stat_key": stats.stat_key, "seconds": stats.seconds}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode("utf-8")})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(path)


def read_model_stats(path: Path) -> ModelStats:
    """Read a file written by write_model_stats; InputError naming the fix for anything else."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: not a model-feedback stats file (no {METADATA_KEY.decode()} metadata). "
                         "Fix: rerun its rule (snakemake --forcerun feedback_scores).")
    metadata = json.loads(raw)
    stat_key = metadata["stat_key"]
    return ModelStats(rows=table.column(ROW_COLUMN).to_numpy(),
                      digests=table.column(DIGEST_COLUMN).to_pylist(), op=metadata["op"], stat_key=stat_key,
                      values=table.column(STAT_PREFIX + stat_key).to_numpy(), seconds=metadata["seconds"])


def scores_by_row(stats: ModelStats, rows: Sequence[Any],
                  texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each document's cached value, found by its sandbox_row, and whether it was found: not where the
    row is not in the pool's file or the text is not the one scored (e.g. a mapper changed it)."""
    position = {int(row): index for index, row in enumerate(stats.rows.tolist())}
    values = np.full(len(texts), np.nan)
    found = np.zeros(len(texts), dtype=bool)
    for index, (row, text) in enumerate(zip(rows, texts)):
        at = position.get(row) if isinstance(row, int) else None
        if at is not None and stats.digests[at] == text_digest(text):
            values[index], found[index] = stats.values[at], True
    return values, found
