"""Rank the data pools by one proxy (sandbox/pools/rank.py): every pool's models trained on as much of
each pool (the smallest pool's bytes), ordered on validation, each compared with the top pool on test.
The n-gram's scores come from pool_rank_train (rank/ngram/<pool>.npz); another proxy's from its
ordinary training jobs on the variants pool-<pool> (models/<proxy>/pool-<pool>/seed<N>/heldout.jsonl).
Writes the ranking's JSON and, with --out-best, copies the top pool's documents to the best_pool
variant's data, the single-pool reference the mixture is judged against.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np

from sandbox.data.eval_set import read_split_labels
from sandbox.io.cli import run_main
from sandbox.pools.rank import rank_pools
from sandbox.stats.bootstrap import Scores, read_scores
from sandbox.summary.evaluation import seed_of
from sandbox.workflow.variants import ranked_pool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proxy", default="ngram")
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--scores", required=True, nargs="+", type=Path,
                        help="rank/ngram/<pool>.npz files, or a proxy's pool-<pool>/seed<N>/heldout.jsonl")
    parser.add_argument("--eval-split", required=True, type=Path)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-best", type=Path)
    return parser.parse_args()


def read_pool_scores(path: Path) -> tuple[str, Scores]:
    data = np.load(path)
    seeds = tuple(int(seed) for seed in data["seeds"])
    return str(data["name"]), Scores(seeds, np.asarray(data["nll_bits"], dtype=float),
                                     np.asarray(data["n_bytes"], dtype=float))


def read_heldout_scores(paths: list[Path]) -> dict[str, Scores]:
    """Each pool's scores from its ranking variant's per-seed heldout.jsonl files."""
    by_pool: dict[str, dict[int, Path]] = defaultdict(dict)
    for path in paths:
        by_pool[ranked_pool(path.parent.parent.name)][seed_of(path)] = path
    return {pool: read_scores(files) for pool, files in by_pool.items()}


def main() -> None:
    args = parse_args()
    index = json.loads(args.index.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in index["pools"]}
    scores = (dict(read_pool_scores(path) for path in args.scores) if args.scores[0].suffix == ".npz"
              else read_heldout_scores(args.scores))
    ranking = rank_pools(scores, read_split_labels(args.eval_split), args.confidence, args.proxy)
    budget = min(entries[name]["bytes"] for name in scores)
    for entry in ranking:
        entry.update({key: entries[entry["pool"]][key] for key in ("docs", "bytes", "noise_share")
                      if key in entries[entry["pool"]]})
    top = ranking[0]["pool"]
    if args.out_best:
        args.out_best.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entries[top]["path"], args.out_best)
    result = {"proxy": args.proxy, "budget_bytes": budget, "confidence": args.confidence,
              "seeds": list(scores[top].seeds), "best_pool": top, "ranking": ranking,
              "picks_best_pool": bool(args.out_best), "selected_on": "validation", "reported_on": "test"}
    args.out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for entry in ranking:
        print(f"{args.proxy} {entry['rank']}. {entry['pool']}: test bpb {entry['test_bpb']:.4f}")


if __name__ == "__main__":
    run_main(main)
