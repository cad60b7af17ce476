"""Train the cross-fitted quality classifier: K fold models, fold k's learning the trusted sample
(positives) against as many documents of the pool outside fold k (negatives, a seeded sample; with
--shuffled-negatives part of them word-shuffled trusted documents), so that the fold's model scores
only documents it never learned (sandbox/classifier/model.py, sandbox/feedback/crossfit.py).

Writes the K model files (the suffix names the backend: .npz hashed_lr, .bin fasttext) and a JSON
record: settings, per fold the documents learned (the pool negatives' sandbox_row ids, for the audit)
and the training seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.classifier import model as classifier
from sandbox.feedback.crossfit import MIN_FOLDS
from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError, iter_jsonl, text_of


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", required=True, type=Path,
                        help="the working pool (JSONL: text, sandbox_row)")
    parser.add_argument("--reference", required=True, type=Path,
                        help="the trusted sample (any dataset format)")
    parser.add_argument("--reference-text-key", default="text")
    parser.add_argument("--backend", choices=classifier.BACKENDS, default=classifier.HASHED_LR)
    parser.add_argument("--shuffled-negatives", type=float, default=0.5,
                        help="share of each fold's negatives that are word-shuffled trusted documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-models", required=True, type=Path, nargs="+",
                        help=f"K >= {MIN_FOLDS} model files in fold order; their suffix names the backend")
    parser.add_argument("--out-meta", required=True, type=Path)
    args = parser.parse_args()
    if len(args.out_models) < MIN_FOLDS:
        parser.error(f"--out-models needs at least {MIN_FOLDS} files (one per fold), "
                     f"got {len(args.out_models)}")
    if not 0 <= args.shuffled_negatives < 1:
        parser.error(f"--shuffled-negatives must be in [0, 1), got {args.shuffled_negatives}")
    return args


def main() -> None:
    args = parse_args()
    folds = len(args.out_models)
    pool_lines = list(iter_jsonl(args.pool))
    pool = [text_of(record, "text", args.pool, line) for line, record in pool_lines]
    rows = [record.get("sandbox_row", index) for index, (_, record) in enumerate(pool_lines)]
    reference = [text_of(record, args.reference_text_key, args.reference, line)
                 for line, record in iter_dataset(args.reference)]
    if not reference:
        raise InputError(f"{args.reference}: no trusted documents. Fix: a sample of a few hundred clean "
                         "documents.")
    per_fold = []
    for fold, path in enumerate(args.out_models):
        training = classifier.fold_training_set(reference, pool, rows, fold, folds, args.seed,
                                                args.shuffled_negatives)
        classifier.require_both_classes(training, args.reference, args.pool)
        seconds = classifier.train(args.backend, training, args.seed, path)
        per_fold.append({"model": str(path), "positives": len(training.positives),
                         "positives_left_out_as_pool_documents_of_this_fold": training.positives_left_out,
                         "pool_negatives": len(training.negative_rows),
                         "shuffled_negatives": training.shuffled,
                         "negative_rows": training.negative_rows, "train_seconds": round(seconds, 3)})
        print(f"fold {fold}: {len(training.positives)} trusted vs {len(training.negatives)} negatives "
              f"({training.shuffled} shuffled), {seconds:.2f}s -> {path}", flush=True)
    hashed = args.backend == classifier.HASHED_LR
    settings = classifier.HASHED_VECTORIZER if hashed else classifier.FASTTEXT_SETTINGS
    meta = {"backend": args.backend, "settings": settings, "folds": folds, "seed": args.seed,
            "shuffled_negatives": args.shuffled_negatives, "pool": str(args.pool), "pool_docs": len(pool),
            "reference": str(args.reference), "reference_docs": len(reference),
            "seconds": round(sum(entry["train_seconds"] for entry in per_fold), 3), "per_fold": per_fold}
    args.out_meta.parent.mkdir(parents=True, exist_ok=True)
    args.out_meta.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
