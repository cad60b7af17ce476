"""Rank the data pools (sandbox/pools/rank.py): every pool's n-gram models at the same budget, ordered
on validation, each compared with the top pool on test. Writes ranking.json and copies the top pool's
documents to the best_pool variant's data, the single-pool reference the mixture is judged against.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from sandbox.data.eval_set import read_split_labels
from sandbox.io.cli import run_main
from sandbox.pools.rank import rank_pools
from sandbox.stats.bootstrap import Scores


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--scores", required=True, nargs="+", type=Path, help="rank/ngram/<pool>.npz files")
    parser.add_argument("--eval-split", required=True, type=Path)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-best", required=True, type=Path)
    return parser.parse_args()


def read_pool_scores(path: Path) -> tuple[str, Scores]:
    data = np.load(path)
    seeds = tuple(int(seed) for seed in data["seeds"])
    return str(data["name"]), Scores(seeds, np.asarray(data["nll_bits"], dtype=float),
                                     np.asarray(data["n_bytes"], dtype=float))


def main() -> None:
    args = parse_args()
    index = json.loads(args.index.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in index["pools"]}
    scores = dict(read_pool_scores(path) for path in args.scores)
    ranking = rank_pools(scores, read_split_labels(args.eval_split), args.confidence)
    budget = min(entries[name]["bytes"] for name in scores)
    for entry in ranking:
        entry.update({key: entries[entry["pool"]][key] for key in ("docs", "bytes", "noise_share")
                      if key in entries[entry["pool"]]})
    top = ranking[0]["pool"]
    args.out_best.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entries[top]["path"], args.out_best)
    result = {"proxy": "ngram", "budget_bytes": budget, "confidence": args.confidence,
              "seeds": list(scores[top].seeds), "best_pool": top, "ranking": ranking,
              "selected_on": "validation", "reported_on": "test"}
    args.out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for entry in ranking:
        print(f"{entry['rank']}. {entry['pool']}: test bpb {entry['test_bpb']:.4f}")


if __name__ == "__main__":
    run_main(main)
