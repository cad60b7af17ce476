"""Write the n-gram proxy's byte budget (budget.json), which every n-gram job of the run reads (rule
ngram_budget; sandbox/proxies/budget.py says why).

Without --explicit: the smallest stream-symbol size (UTF-8 bytes plus one separator per document) among
the judged variants given (raw, recipe, k_sigma and the feedback variants), capped by --cap, so every
seed of every variant draws its own subsample of the same size and the largest variant is not left
mostly unread. With --explicit (ngram.budget_bytes): that value, and no variant is read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError, text_of
from sandbox.proxies.budget import data_budget, stream_symbols


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="*", default=[], metavar="VARIANT=PATH",
                        help="the judged variants' training data")
    parser.add_argument("--cap", type=int, required=True, help="ngram.max_budget_bytes")
    parser.add_argument("--explicit", type=int, default=0, help="ngram.budget_bytes (0: from the data)")
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    if args.cap < 1:
        parser.error("--cap must be at least 1")
    if not args.explicit and not args.data:
        parser.error("--data is needed unless --explicit is given")
    return args


def variant_size(path: Path, text_key: str) -> int:
    """A variant's size in stream symbols."""
    return stream_symbols(text_of(record, text_key, path, line) for line, record in iter_dataset(path))


def main() -> None:
    args = parse_args()
    sizes = {}
    for item in args.data:
        name, separator, path = item.partition("=")
        if not separator:
            raise InputError(f"--data {item!r}: expected VARIANT=PATH. Fix: name each variant's file.")
        sizes[name] = variant_size(Path(path), args.text_key)
    budget = data_budget(sizes, args.cap, args.explicit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(budget, indent=2) + "\n", encoding="utf-8")
    print(f"n-gram budget {budget['budget_bytes']} symbols: {budget['why']}", flush=True)


if __name__ == "__main__":
    run_main(main)
