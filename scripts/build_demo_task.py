"""Build the demo's downstream task, sotu_hellaswag (sandbox.demo.task), into its lm-eval folder.

Run once by the maintainers (the files are shipped in config/tasks/sotu_hellaswag/); the same
arguments rebuild them byte for byte, which tests/unit/test_downstream.py checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sandbox.demo.task import DemoSettings, build_items, card_facts
from sandbox.io.jsonl import write_jsonl

FOLDER = Path("config/tasks/sotu_hellaswag")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="the task's own draws (order, distractors)")
    parser.add_argument("--out", type=Path, default=FOLDER / "sotu_hellaswag.jsonl")
    parser.add_argument("--facts-out", type=Path, default=FOLDER / "build.json",
                        help="what the data card states: sizes, speeches, demo settings")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    settings = DemoSettings()
    rows = build_items(args.items, args.seed, settings)
    write_jsonl(args.out, rows)
    facts = {**card_facts(rows, settings), "seed": args.seed}
    args.facts_out.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} items from {len(facts['speeches'])} speeches to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
