"""Data metrics of one variant: what it kept of the pool, what each op removed, and, where every
document carries an origin tag, the precision and recall of noise removal (overall, per op, per kind);
with --quality, the quality classifier's scores of the variant (quality_scores.py) under "quality",
less its timings, so the file is the same on any machine (the timings stay in quality/<variant>.json).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.origin import is_noise, noise_removal, origin_of


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path, help="the variant's training documents")
    parser.add_argument("--removed", type=Path, default=None, help="removed.jsonl of a processed variant")
    parser.add_argument("--quality", type=Path, default=None,
                        help="quality/<variant>.json: the quality classifier's scores of the variant")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def per_op_origins(removed_path: Path | None, pool_origins: dict[int, str] | None) -> dict[str, Any]:
    """For each op: documents removed, and (with origin tags) by origin and the op's precision."""
    if removed_path is None:
        return {}
    by_op: dict[str, Counter] = defaultdict(Counter)
    for _, record in iter_jsonl(removed_path):
        origin = pool_origins.get(record["sandbox_row"], "untagged") if pool_origins else "untagged"
        by_op[record["removed_by"]][origin] += 1
    report: dict[str, Any] = {}
    for op, origins in by_op.items():
        removed = sum(origins.values())
        entry: dict[str, Any] = {"removed": removed}
        if pool_origins:
            noise = sum(count for origin, count in origins.items() if is_noise(origin))
            entry["precision"] = noise / removed
            entry["by_origin"] = dict(sorted(origins.items()))
        report[op] = entry
    return report


def without_timings(quality: dict[str, Any]) -> dict[str, Any]:
    """The quality scores less their wall-clock seconds (the scoring's and the classifier's training)."""
    kept = {key: value for key, value in quality.items() if key != "score_seconds"}
    if isinstance(kept.get("classifier"), dict):
        kept["classifier"] = {key: value for key, value in kept["classifier"].items() if key != "seconds"}
    return kept


def main() -> None:
    args = parse_args()
    pool = [record for _, record in iter_jsonl(args.pool)]
    origins = {record["sandbox_row"]: origin_of(record) for record in pool}
    tagged = all(origin is not None for origin in origins.values())
    pool_origins = origins if tagged else None
    kept_rows = {record["sandbox_row"] for _, record in iter_jsonl(args.data)}
    removed_rows = set(origins) - kept_rows
    metrics: dict[str, Any] = {
        "variant": args.variant,
        "pool_docs": len(pool),
        "docs": len(kept_rows),
        "kept_fraction": len(kept_rows) / len(pool),
        "origin_tags": tagged,
        "removed_by_op": per_op_origins(args.removed, pool_origins),
    }
    if tagged:
        metrics["noise_removal"] = noise_removal(origins, removed_rows)
    if args.quality is not None:
        metrics["quality"] = without_timings(json.loads(args.quality.read_text(encoding="utf-8")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    run_main(main)
