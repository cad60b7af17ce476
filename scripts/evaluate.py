"""Evaluate one variant under one proxy: held-out bits per byte for each seed (and their mean and
std) beside the variant's data metrics (kept fraction, per-op removals, noise precision/recall), and
the per-document scores that the summary's paired comparison reads.

heldout_bpb (sandbox.summary.metrics, v3): total negative log-likelihood in bits over total UTF-8 bytes of
the eval set, every byte predicted once; the GPT scores a document from BOS at its start and later
bytes in sliding windows over the bytes before them. validation_bpb and test_bpb are the same on
each part of the eval split (split_eval.py): selections read validation, reports read test.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sandbox.data.eval_set import read_split_labels
from sandbox.io.cli import run_main
from sandbox.stats.bootstrap import read_scores
from sandbox.summary.evaluation import evaluation, seed_of


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--proxy", required=True,
                        help="the proxy model that produced the scores (ngram, gpt)")
    parser.add_argument("--heldout", required=True, nargs="+", type=Path,
                        help="per-sample held-out scores, one file per seed")
    parser.add_argument("--train-meta", required=True, nargs="+", type=Path,
                        help="train_meta.json, one per seed")
    parser.add_argument("--data-metrics", required=True, type=Path)
    parser.add_argument("--eval-split", required=True, type=Path, help="data/eval_split.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    scores = read_scores({seed_of(path): path for path in args.heldout})
    train_meta = {seed_of(path): json.loads(path.read_text(encoding="utf-8")) for path in args.train_meta}
    data_metrics: dict[str, Any] = json.loads(args.data_metrics.read_text(encoding="utf-8"))
    result = evaluation(args.variant, args.proxy, scores, train_meta, data_metrics,
                        read_split_labels(args.eval_split))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.proxy} {args.variant}: heldout_bpb {result['heldout_bpb']:.4f} +/- "
          f"{result['heldout_bpb_std']:.4f} over seeds {result['seeds']}; "
          f"validation {result['validation_bpb']:.4f}, test {result['test_bpb']:.4f}")


if __name__ == "__main__":
    run_main(main)
