"""For each filter of a processed variant: the removed and the kept documents closest to its
thresholds, so a user can judge a threshold by eye.

Stat values come from the raw analysis (the same values the filters compared with their thresholds).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.origin import origin_of

PREVIEW_CHARS = 160


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", required=True, type=Path, help="op_counts.json of the variant")
    parser.add_argument("--removed", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path, help="the variant's processed data")
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--raw-stats", required=True, type=Path, help="analysis/raw/stats.jsonl")
    parser.add_argument("--per-side", type=int, default=3)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def bounds(thresholds: dict[str, float]) -> tuple[float, float]:
    """The (low, high) interval a filter keeps, from its min_*/max_* arguments."""
    low = max((value for name, value in thresholds.items() if name.startswith("min_")), default=-math.inf)
    high = min((value for name, value in thresholds.items() if name.startswith("max_")), default=math.inf)
    return low, high


def distance_outside(value: float, low: float, high: float) -> float:
    return low - value if value < low else value - high


def distance_inside(value: float, low: float, high: float) -> float:
    return min(value - low, high - value)


def example(row: int, value: float, pool: dict[int, dict[str, Any]]) -> dict[str, Any]:
    record = pool[row]
    text = " ".join(record["text"].split())
    return {"sandbox_row": row, "value": value, "origin": origin_of(record), "preview": text[:PREVIEW_CHARS]}


def near_threshold(op: dict[str, Any], removed_rows: list[int], kept_rows: list[int],
                   stats: dict[int, dict[str, float]], pool: dict[int, dict[str, Any]],
                   per_side: int) -> dict[str, Any]:
    """The per_side removed and kept documents nearest to one filter's thresholds."""
    (stat,) = op["stats"]
    low, high = bounds(op["thresholds"])
    removed = [(row, stats[row][stat]) for row in removed_rows if stat in stats.get(row, {})]
    kept = [(row, stats[row][stat]) for row in kept_rows if stat in stats.get(row, {})]
    removed.sort(key=lambda item: distance_outside(item[1], low, high))
    kept.sort(key=lambda item: distance_inside(item[1], low, high))
    return {
        "op_index": op["op_index"],
        "op": op["op"],
        "stat": stat,
        "keep_interval": [low if math.isfinite(low) else None, high if math.isfinite(high) else None],
        "removed": [example(row, value, pool) for row, value in removed[:per_side]],
        "kept": [example(row, value, pool) for row, value in kept[:per_side]],
    }


def main() -> None:
    args = parse_args()
    counts = json.loads(args.counts.read_text(encoding="utf-8"))
    pool = {record["sandbox_row"]: record for _, record in iter_jsonl(args.pool)}
    stats = {record["sandbox_row"]: record for _, record in iter_jsonl(args.raw_stats)}
    kept_rows = [record["sandbox_row"] for _, record in iter_jsonl(args.data)]
    removed_by_op: dict[int, list[int]] = {}
    for _, record in iter_jsonl(args.removed):
        removed_by_op.setdefault(record["op_index"], []).append(record["sandbox_row"])
    report = [
        near_threshold(op, removed_by_op.get(op["op_index"], []), kept_rows, stats, pool, args.per_side)
        for op in counts["ops"]
        if len(op.get("stats", [])) == 1
    ]
    args.out.write_text(json.dumps({"variant": counts["variant"], "filters": report}, indent=2) + "\n",
                        encoding="utf-8")
    print(f"{counts['variant']}: examples near the thresholds of {len(report)} filters -> {args.out}")


if __name__ == "__main__":
    run_main(main)
