"""One pool manipulation of DJ-Sandbox (sandbox/pools/manipulate.py) as a job: `combine` the top-N pools of
the ranking, `duplicate` a pool, `downsample` a pool (to documents or bytes), or `merge` pools. Writes
one JSONL of unchanged documents and prints how many it holds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.pools import manipulate


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("operation", choices=["combine", "duplicate", "downsample", "merge"])
    parser.add_argument("--pools", required=True, nargs="+", type=Path,
                        help="pool files (combine: in ranking order, best first)")
    parser.add_argument("--ranking", type=Path, help="ranking.json (combine: the top pools)")
    parser.add_argument("--top", type=int, help="combine: how many of the top pools")
    parser.add_argument("--times", type=int, help="duplicate: copies of every document")
    parser.add_argument("--docs", type=int, help="downsample: documents to keep")
    parser.add_argument("--bytes", type=int, help="downsample: bytes to keep instead (separators counted)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def read(path: Path) -> list[dict]:
    return [record for _, record in iter_jsonl(path)]


def main() -> None:
    args = parse_args()
    by_name = {path.stem: path for path in args.pools}
    if args.operation == "combine":
        order = [entry["pool"] for entry in json.loads(args.ranking.read_text(encoding="utf-8"))["ranking"]]
        if args.top > len(order):
            raise InputError(f"{args.ranking}: ranks {len(order)} pools, fewer than top {args.top}. Fix: "
                             f"ask for pools/combined/top<N>.jsonl with N <= {len(order)}.")
        records = manipulate.combine([read(by_name[name]) for name in order[:args.top]])
    elif args.operation == "duplicate":
        records = manipulate.duplicate(read(args.pools[0]), args.times)
    elif args.operation == "downsample" and args.bytes:
        records = manipulate.downsample_bytes(read(args.pools[0]), args.bytes, args.seed)
    elif args.operation == "downsample":
        records = manipulate.downsample(read(args.pools[0]), args.docs, args.seed)
    else:
        records = manipulate.merge([read(path) for path in args.pools])
    write_jsonl(args.out, records)
    print(f"{args.operation}: {len(records)} documents -> {args.out}")


if __name__ == "__main__":
    run_main(main)
