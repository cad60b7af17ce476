"""Summarize the experiment: every variant side by side under every proxy model, each against raw
(and k_sigma) by a paired comparison over per-document held-out scores and seeds, and how far the
proxies agree. The eval set has two parts (split_eval.py): the best variant is chosen on validation,
and every number reported (bpb, intervals, oracle fraction, agreement) is computed on test.

Writes summary.json ({"proxies": {proxy: {"variants", "comparisons", "verdict"}}, "variants",
"agreement", ...}) and summary.md (the same as tables), answering: did the recipe make better data
for a model, and could the instrument have seen it? The statistics are sandbox.summary.verdict's, the page
sandbox.summary.markdown's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.proxies.budget import read_budget
from sandbox.summary.markdown import markdown, read_thresholds
from sandbox.summary.verdict import build_summary, read_evaluations


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--evaluations", required=True, nargs="+", type=Path,
                        help="eval/<proxy>/<variant>.json files")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--max-seed-std", type=float, default=0.015,
                        help="above it a proxy is marked low-power")
    parser.add_argument("--thresholds", type=Path, default=None, help="k_sigma_thresholds.tsv, if refined")
    parser.add_argument("--k", type=float, default=None)
    parser.add_argument("--near-threshold", nargs="*", type=Path, default=[],
                        help="near_threshold.json files")
    parser.add_argument("--datamodels", type=Path, default=None,
                        help="datamodels/<group_by>/summary.json: adds which operators/sources matter")
    parser.add_argument("--datamodels-group-by", default="ops", help="what the datamodels' groups are")
    parser.add_argument("--ladder", type=Path, default=None,
                        help="ladder/summary.json: adds its line (decision accuracy of the cheap scales)")
    parser.add_argument("--pools", type=Path, default=None,
                        help="pools/summary.<proxy>.json: adds the mixture search's section")
    parser.add_argument("--feedback", nargs="*", type=Path, default=[],
                        help="recipes/feedback_<method>.json files: each filter's threshold and cost")
    parser.add_argument("--eval", type=Path, default=None,
                        help="the working eval set (its origin tags are checked)")
    parser.add_argument("--eval-set", type=Path, default=None,
                        help="data/eval_set.json: the eval set's source (can it judge cleaning?) and counts")
    parser.add_argument("--provenance", type=Path, default=None,
                        help="provenance.json; without it the summary is one proxy's early verdict")
    parser.add_argument("--downstream", nargs="*", type=Path, default=[],
                        help="downstream/<task>/<proxy>/<variant>/seed<N>/results.json (items.jsonl beside)")
    parser.add_argument("--design", default=None,
                        help="JSON: per proxy, where its budget and seeds come from (sandbox.proxies.budget)")
    parser.add_argument("--ngram-budget", type=Path, default=None, help="models/ngram/budget.json")
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    return parser.parse_args()


def read_feedback(paths: list[Path]) -> dict[str, dict]:
    """method -> its recipes/feedback_<method>.json."""
    entries = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return {entry["method"]: entry for entry in entries}


def main() -> None:
    args = parse_args()
    eval_set = json.loads(args.eval_set.read_text(encoding="utf-8")) if args.eval_set else None
    datamodels = (args.datamodels, args.datamodels_group_by) if args.datamodels is not None else None
    summary = build_summary(args.experiment, read_evaluations(args.evaluations), args.confidence,
                            args.max_seed_std, eval_set=eval_set, eval_path=args.eval, k=args.k,
                            datamodels=datamodels, provenance=args.provenance, downstream=args.downstream,
                            feedback=read_feedback(args.feedback),
                            design=json.loads(args.design) if args.design else None,
                            ngram_budget=read_budget(args.ngram_budget) if args.ngram_budget else None)
    if args.ladder is not None:
        ladder = json.loads(args.ladder.read_text(encoding="utf-8"))
        summary["ladder"] = {"path": str(args.ladder), "line": ladder["line"]}
    if args.pools is not None:
        summary["pools"] = {"path": str(args.pools), **json.loads(args.pools.read_text(encoding="utf-8"))}
    args.out_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    near = [json.loads(path.read_text(encoding="utf-8")) for path in args.near_threshold]
    args.out_md.write_text(markdown(summary, read_thresholds(args.thresholds), near), encoding="utf-8")
    print(summary["verdict"]["text"])
    # The last line is what the rule shows on the console: the verdict's first line and where it is.
    print(f"Verdict ({args.out_md}): {summary['verdict']['text'].splitlines()[0]}")


if __name__ == "__main__":
    run_main(main)
