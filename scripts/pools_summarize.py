"""Summarize the mixture search (sandbox/mixture/summary.py): the verdict on `mixture` under each
confirming proxy, the pools' rankings, the swarm's fit and the exported configs (the n-gram's, and
those at each neural proxy's own budget with repeats). Writes
pools/summary.json and pools/summary.md.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.mixture.page import markdown
from sandbox.mixture.summary import confirm
from sandbox.summary.verdict import read_evaluations
from sandbox.workflow.variants import MIXTURE


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--ranking", required=True, nargs="+", type=Path,
                        help="ranking.json (it picks best_pool), then ranking.<proxy>.json of other proxies")
    parser.add_argument("--fit", required=True, type=Path)
    parser.add_argument("--claims", required=True, nargs="+", type=Path)
    parser.add_argument("--counts", required=True, nargs="+", type=Path)
    parser.add_argument("--evaluations", required=True, nargs="+", type=Path)
    parser.add_argument("--eval-set", required=True, type=Path)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    return parser.parse_args()


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def main() -> None:
    args = parse_args()
    evaluations = read_evaluations(args.evaluations)
    every_claim = [read_json(path) for path in args.claims]
    # the n-gram's mixtures (no repeats), and those at each repeating proxy's own budget
    claims = [claim for claim in every_claim if claim["proxy"] == "ngram"]
    claims_at: dict[str, list[dict]] = defaultdict(list)
    for claim in every_claim:
        if claim["proxy"] != "ngram":
            claims_at[claim["proxy"]].append(claim)
    rankings = [read_json(path) for path in args.ranking]
    summary = {
        "confidence": args.confidence,
        "judges_cleaning": read_json(args.eval_set)["judges_cleaning"],
        "proxies": {proxy: confirm(proxy, by_variant, args.confidence)
                    for proxy, by_variant in evaluations.items()},
        "index": read_json(args.index),
        "ranking": rankings[0],
        "rankings": {ranking["proxy"]: ranking for ranking in rankings},
        "fit": read_json(args.fit),
        "claims": claims,
        "claims_at_proxy_budget": claims_at,
        "counts": [read_json(path) for path in args.counts],
        "configs": {claim["name"]: claim["config"] for claim in claims},
        "achieved_validation_bpb": {name: evaluation["validation_bpb"]
                                    for name, evaluation in evaluations.get("ngram", {}).items()},
    }
    summary["predicted_vs_achieved"] = {
        name: {"predicted": summary["fit"]["predicted_bpb"][name],
               "achieved": summary["achieved_validation_bpb"].get(name)}
        for name in summary["fit"]["predicted_bpb"]}
    args.out_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    args.out_md.write_text(markdown(summary), encoding="utf-8")
    print(f"{MIXTURE}: {args.out_md}")


if __name__ == "__main__":
    run_main(main)
