"""Confirm the best trials of a search on every seed and every proxy, against raw and k_sigma.

A search ranks trials on one proxy and few seeds, so its best value is optimistic. The top trials
re-run as ordinary variants on all seeds under every proxy. The best confirmed trial is the lowest
all-seed bpb on the validation part of the eval split under the sweep's own proxy (the part the
search read); every reported number, each trial's test_bpb and its paired comparison with raw and
k_sigma (the summary's), is computed on the test part, which neither the search nor this choice read.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from sandbox.data.eval_set import TEST, VALIDATION, read_split_labels
from sandbox.io.cli import run_main
from sandbox.stats.bootstrap import Scores, paired_comparison, read_scores
from sandbox.workflow.variants import REFERENCES, trial_number

# The proxies' output contract: models/<proxy>/<variant>/seed<N>/heldout.jsonl
SCORE_PATH = re.compile(r"models/(?P<proxy>\w+)/(?P<variant>\w+)/seed(?P<seed>\d+)/heldout\.jsonl$")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep-json", required=True, type=Path)
    parser.add_argument("--rounds", required=True, nargs="+", type=Path)
    parser.add_argument("--scores", nargs="*", type=Path, default=[],
                        help="heldout.jsonl of trials and references")
    parser.add_argument("--proxy", required=True, help="the proxy the sweep's metric names")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--eval-split", required=True, type=Path, help="data/eval_split.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def group_scores(paths: list[Path]) -> dict[str, dict[str, dict[int, Path]]]:
    """proxy -> variant -> seed -> heldout.jsonl, from the paths' layout."""
    grouped: dict[str, dict[str, dict[int, Path]]] = {}
    for path in paths:
        match = SCORE_PATH.search(path.as_posix())
        if match is None:
            raise ValueError(f"{path}: not a models/<proxy>/<variant>/seed<N>/heldout.jsonl path")
        grouped.setdefault(match["proxy"], {}).setdefault(match["variant"], {})[int(match["seed"])] = path
    return grouped


def confirm_proxy(proxy: str, by_variant: dict[str, dict[int, Path]], labels: list[str],
                  args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Per trial under one proxy: its all-seed validation_bpb (for the choice), test_bpb and its paired
    comparisons with the references on test (for the report)."""
    scores: dict[str, Scores] = {variant: read_scores(paths) for variant, paths in by_variant.items()}
    on_test = {variant: variant_scores.part(labels, TEST) for variant, variant_scores in scores.items()}
    results = {}
    for variant, variant_scores in scores.items():
        if variant in REFERENCES:
            continue
        per_seed = on_test[variant].per_seed_bpb()
        entry: dict[str, Any] = {"validation_bpb": variant_scores.part(labels, VALIDATION).bpb(),
                                 "test_bpb": on_test[variant].bpb(), "seeds": list(variant_scores.seeds),
                                 "test_bpb_per_seed": {str(seed): value for seed, value in per_seed.items()}}
        for reference in REFERENCES:
            if reference in scores:
                entry[f"vs_{reference}"] = paired_comparison(variant, reference, on_test, args.confidence,
                                                             proxy)
        results[variant] = entry
    return results


def main() -> None:
    args = parse_args()
    sweep = json.loads(args.sweep_json.read_text(encoding="utf-8"))
    searched = {trial["trial"]: trial
                for path in args.rounds for trial in json.loads(path.read_text())["trials"]}
    grouped = group_scores(args.scores)
    labels = read_split_labels(args.eval_split)
    by_proxy = {proxy: confirm_proxy(proxy, by_variant, labels, args)
                for proxy, by_variant in grouped.items()}
    trials = []
    for variant in sorted(by_proxy.get(args.proxy, {}), key=trial_number):
        number = trial_number(variant)
        trials.append({"trial": number, "params": searched[number]["params"],
                       "search_value": searched[number]["value"],
                       "proxies": {proxy: results[variant] for proxy, results in by_proxy.items()}})
    best = min(trials, key=lambda trial: trial["proxies"][args.proxy]["validation_bpb"], default=None)
    confirmation = {"metric": sweep["metric"], "proxy": args.proxy, "proxies": sorted(by_proxy),
                    "selected_by": "validation_bpb", "reported_on": "test",
                    "trials": trials, "best_trial": best["trial"] if best else None}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(confirmation, indent=2) + "\n", encoding="utf-8")
    for trial in trials:
        values = ", ".join(f"{proxy} validation {entry['validation_bpb']:.4f}, test {entry['test_bpb']:.4f}"
                           for proxy, entry in trial["proxies"].items())
        print(f"trial {trial['trial']}: searched {trial['search_value']:.4f}; confirmed {values}")
    print(f"best confirmed trial: {confirmation['best_trial']}")


if __name__ == "__main__":
    run_main(main)
