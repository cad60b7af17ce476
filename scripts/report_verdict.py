"""The report's verdict page: summary.json as one small self-contained HTML page (the verdict per
proxy, held-out bpb with its paired intervals over documents and seeds, and what each variant kept of the
pool), with the same tables as summary.md (sandbox.report.verdict_page)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.report.verdict_page import render


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True, type=Path, help="summary.json of the experiment")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(summary), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
