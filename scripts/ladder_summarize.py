"""Summarize the scale ladder (rule ladder_summarize): decision accuracy of every (proxy, scale) against the
target, with its CPU-seconds, the cheapest scale that reaches the configured accuracy, and per variant the
scaling of test bpb with the bytes its models saw (sandbox.ladder.summary).

Writes ladder/summary.json and ladder/summary.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.data.eval_set import read_split_labels
from sandbox.io.cli import run_main
from sandbox.ladder.summary import build_ladder_summary, ladder_markdown, load_scale


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--results", required=True, help="results/<experiment>: where the models are")
    parser.add_argument("--scales", required=True, help="JSON list of the scales (sandbox.ladder.config)")
    parser.add_argument("--target", required=True, help="<proxy>@<scale>")
    parser.add_argument("--variants", required=True, nargs="+")
    parser.add_argument("--eval-split", required=True, type=Path, help="data/eval_split.json")
    parser.add_argument("--eval-set", type=Path, default=None, help="data/eval_set.json")
    parser.add_argument("--oracle-in-pairs", action="store_true")
    parser.add_argument("--accuracy", type=float, default=0.9)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--bootstrap-samples", type=int, default=1000)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    labels = read_split_labels(args.eval_split)
    scales = [load_scale(spec, args.results, args.variants, labels)
              for spec in json.loads(args.scales)]
    eval_set = json.loads(args.eval_set.read_text(encoding="utf-8")) if args.eval_set else None
    summary = build_ladder_summary(args.experiment, scales, args.target, args.variants, args.oracle_in_pairs,
                                   args.accuracy, args.confidence, args.bootstrap_samples, eval_set)
    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    args.out_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    args.out_md.write_text(ladder_markdown(summary), encoding="utf-8")
    print(summary["line"])


if __name__ == "__main__":
    run_main(main)
