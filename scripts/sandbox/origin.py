"""Origin tags: `meta.origin` is "clean" or "noise:<kind>" on documents whose origin is known."""

from __future__ import annotations

from collections import Counter
from typing import Any


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
    """Precision and recall of removing noise-tagged documents, overall and per noise kind."""
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
    }
