"""Write the training file of each cross-fitted pool LM: fold k's is the pool minus fold k.

A document's fold is sandbox.feedback.crossfit.fold_of (a stable hash of its text), the same function the
feedback ops call at scoring time, so the LM that scores a document never trained on it. Each
training file holds only the text field (what the n-gram trainer reads), in pool order; folds.json
counts every fold's documents.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.feedback.crossfit import MIN_FOLDS, fold_of
from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, text_of, write_jsonl


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", required=True, type=Path, help="the working pool (JSONL, field text)")
    parser.add_argument("--folds", required=True, type=int, help=f"K, at least {MIN_FOLDS}")
    parser.add_argument("--out-train", required=True, type=Path, nargs="+",
                        help="K files, in fold order: fold k's LM trains on the k-th")
    parser.add_argument("--out-counts", required=True, type=Path, help="JSON: documents per fold")
    args = parser.parse_args()
    if args.folds < MIN_FOLDS:
        parser.error(f"--folds must be at least {MIN_FOLDS}, got {args.folds}")
    if len(args.out_train) != args.folds:
        parser.error(f"--out-train needs {args.folds} files (one per fold), got {len(args.out_train)}")
    return args


def main() -> None:
    args = parse_args()
    texts = [text_of(record, "text", args.pool, line) for line, record in iter_jsonl(args.pool)]
    folds = [fold_of(text, args.folds) for text in texts]
    counts = [folds.count(k) for k in range(args.folds)]
    if max(counts) == len(texts):
        raise InputError(f"{args.pool}: all {len(texts)} documents fall in one fold, so its LM has nothing "
                         "to learn from. Fix: a pool of more than one distinct document.")
    for k, path in enumerate(args.out_train):
        write_jsonl(path, ({"text": text} for text, fold in zip(texts, folds) if fold != k))
    summary = {"pool": str(args.pool), "folds": args.folds, "docs": len(texts), "docs_per_fold": counts}
    args.out_counts.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))


if __name__ == "__main__":
    run_main(main)
