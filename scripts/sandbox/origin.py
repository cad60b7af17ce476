"""Origin tags: `meta.origin` is "clean" or "noise:<kind>" on documents whose origin is known."""

from __future__ import annotations

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
