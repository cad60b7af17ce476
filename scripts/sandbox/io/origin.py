"""Origin tags: `meta.origin` is "clean" or "noise:<kind>" on documents whose origin is known."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox.stats.intervals import wilson_interval

# The confidence of the recall intervals (Wilson), the summary's default for every interval.
RECALL_CONFIDENCE = 0.95


def origin_of(record: dict[str, Any]) -> str | None:
    """The record's origin tag, or None when it has none."""
    meta = record.get("meta")
    if not isinstance(meta, dict):
        return None
    origin = meta.get("origin")
    return origin if isinstance(origin, str) and origin else None


def is_noise(origin: str) -> bool:
    """Every tag but "clean" marks a document the recipe should remove."""
    return origin != "clean"


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def noise_removal(pool_origins: dict[int, str], removed_rows: set[int]) -> dict[str, Any]:
    """Precision and recall of removing noise-tagged documents, overall and per noise kind, the recalls
    with Wilson intervals (RECALL_CONFIDENCE): a kind has a hundred-odd documents on the demo."""
    noise_rows = {row for row, origin in pool_origins.items() if is_noise(origin)}
    removed_noise = removed_rows & noise_rows
    per_kind_total = Counter(pool_origins[row] for row in noise_rows)
    per_kind_removed = Counter(pool_origins[row] for row in removed_noise)
    return {
        "precision": ratio(len(removed_noise), len(removed_rows)),
        "recall": ratio(len(removed_noise), len(noise_rows)),
        "removed": len(removed_rows),
        "removed_noise": len(removed_noise),
        "pool_noise": len(noise_rows),
        "recall_per_kind": {kind: per_kind_removed[kind] / total
                            for kind, total in sorted(per_kind_total.items())},
        "recall_interval": list(wilson_interval(len(removed_noise), len(noise_rows), RECALL_CONFIDENCE)),
        "recall_per_kind_interval": {
            kind: list(wilson_interval(per_kind_removed[kind], total, RECALL_CONFIDENCE))
            for kind, total in sorted(per_kind_total.items())},
        "recall_confidence": RECALL_CONFIDENCE,
    }
