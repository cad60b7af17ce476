"""DJ-Sandbox's pool manipulations over pool files: combine the top-N pools of the ranking, duplicate a
pool, downsample a pool to a number of documents or of bytes, merge pools. Each keeps documents
unchanged (their sandbox_row too), so every result can be traced to the pool and the pool document it
came from.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

Record = dict[str, Any]


def combine(pools: Sequence[Sequence[Record]]) -> list[Record]:
    """The pools' documents one after another (the top-N of the ranking, best first)."""
    return [record for pool in pools for record in pool]


def duplicate(pool: Sequence[Record], times: int) -> list[Record]:
    """Every document `times` times, in the pool's order, copy after copy (upsampling a pool)."""
    if times < 1:
        raise ValueError(f"a pool is duplicated at least once, not {times} times")
    return [record for _ in range(times) for record in pool]


def downsample(pool: Sequence[Record], docs: int, seed: int) -> list[Record]:
    """`docs` documents drawn without replacement (seeded), in the pool's order; all of a smaller pool."""
    if docs >= len(pool):
        return list(pool)
    chosen = sorted(random.Random(seed).sample(range(len(pool)), docs))
    return [pool[position] for position in chosen]


def downsample_bytes(pool: Sequence[Record], max_bytes: int, seed: int) -> list[Record]:
    """Documents in a seeded order while their texts (one separator each) fit in max_bytes, kept in the
    pool's order: a pool cut to another pool's size (at least one document)."""
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    chosen, total = [], 0
    for position in order:
        size = len(pool[position]["text"].encode("utf-8")) + 1
        if chosen and total + size > max_bytes:
            break
        chosen.append(position)
        total += size
    return [pool[position] for position in sorted(chosen)]


def merge(pools: Sequence[Sequence[Record]]) -> list[Record]:
    """All pools as one dataset, in sandbox_row order (the base variant's order), each document once."""
    seen, merged = set(), []
    for record in sorted(combine(pools), key=lambda record: record.get("sandbox_row", 0)):
        key = record.get("sandbox_row", id(record))
        if key not in seen:
            seen.add(key)
            merged.append(record)
    return merged
