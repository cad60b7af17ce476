"""Score one variant's documents with the quality classifier (the data evaluator): P(trusted) of every
document, each by the fold model that never learned it; writes the mean with its interval over
documents and the scores' distribution (sandbox/classifier/quality.py). With --separation and an origin tag on
every document (the raw pool), also how well the classifier alone separates noise from clean text:
AUC, and the precision and recall of removing the lowest-scored 1 - keep_fraction, with intervals.

Every variant is a subset of the pool, whose scores feedback_scores.py computed once with the classifier's
own op (--pool-scores, analysis/raw/feedback_classifier.parquet): a document takes its score from there by
its sandbox_row when its text is the one scored (the same cross-fitted score: its fold's model never
learned it); only the others (a mapper changed the text, or the document is not from the pool) are
scored here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sandbox.classifier import model as classifier
from sandbox.classifier.quality import score_summary, separation
from sandbox.feedback.ops import CLASSIFIER_OP, model_files
from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, text_of
from sandbox.io.origin import origin_of
from sandbox.recipe.model_stats import read_model_stats, scores_by_row


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--data", required=True, type=Path,
                        help="the variant's documents (JSONL, field text)")
    parser.add_argument("--models", required=True, type=Path, nargs="+",
                        help="the classifier: K cross-fitted fold models in fold order, or one model")
    parser.add_argument("--pool-scores", type=Path, default=None,
                        help="the pool's scores by the classifier's op (feedback_scores.py), read by row id")
    parser.add_argument("--meta", type=Path, default=None,
                        help="the classifier's train_meta.json (its settings)")
    parser.add_argument("--separation", action="store_true",
                        help="also the classifier's precision/recall of noise (needs origin tags)")
    parser.add_argument("--keep-fraction", type=float, default=0.8)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def cached_scores(path: Path, paths: list[str], records: list[dict], texts: list[str]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The documents' scores from the pool's cache (NaN where absent) and which were found there; the
    cache must come from these very models."""
    pool = read_model_stats(path)
    cached_models = model_files(pool.op_args)
    if pool.op_name != CLASSIFIER_OP or cached_models != paths:
        raise InputError(f"{path}: scores of {pool.op_name} with {cached_models}, not of the classifier "
                         f"{paths}. Fix: rerun it (snakemake --forcerun feedback_scores).")
    return scores_by_row(pool, [record.get("sandbox_row") for record in records], texts)


def score(args: argparse.Namespace, paths: list[str], records: list[dict], texts: list[str]
          ) -> tuple[np.ndarray, int]:
    """Every document's score, and how many came from the pool's cache: the rest are scored here, each by
    its own fold's model, as the op scored the pool."""
    values, found = np.full(len(texts), np.nan), np.zeros(len(texts), dtype=bool)
    if args.pool_scores is not None:
        values, found = cached_scores(args.pool_scores, paths, records, texts)
    missing = np.flatnonzero(~found)
    if len(missing):
        values[missing] = classifier.scores(paths[0] if len(paths) == 1 else paths,
                                            [texts[index] for index in missing])
    return values, int(found.sum())


def main() -> None:
    args = parse_args()
    lines = list(iter_jsonl(args.data))
    texts = [text_of(record, "text", args.data, line) for line, record in lines]
    if not texts:
        raise InputError(f"{args.data}: no documents to score. Fix: check the step that wrote it.")
    paths = [str(path) for path in args.models]
    start = time.perf_counter()
    values, from_pool = score(args, paths, [record for _, record in lines], texts)
    seconds = time.perf_counter() - start
    result = {"variant": args.variant, "backend": classifier.backend_of(paths[0]), "models": paths,
              **score_summary(values, args.confidence), "score_seconds": round(seconds, 3),
              "scores_from_pool_cache": from_pool}
    if args.meta is not None:
        meta = json.loads(args.meta.read_text(encoding="utf-8"))
        result["classifier"] = {key: meta.get(key) for key in ("backend", "shuffled_negatives", "reference",
                                                               "reference_docs", "folds", "seed", "seconds")}
    origins = [origin_of(record) for _, record in lines]
    if args.separation and all(origin is not None for origin in origins):
        result["separation"] = separation(values, origins, args.keep_fraction, args.confidence)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.variant}: {len(texts)} documents, mean P(trusted) {result['mean']:.4f} "
          f"[{result['ci_low']}, {result['ci_high']}], {from_pool} scores from the pool's, the rest scored "
          f"in {seconds:.2f}s")


if __name__ == "__main__":
    run_main(main)
