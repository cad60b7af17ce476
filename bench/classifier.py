"""The quality classifier's backends on a finished demo run, without the workflow: each backend with and
without shuffled negatives, cross-fitted as the workflow trains it (sandbox.classifier.model), scored on the
raw pool. Prints per setting the training and scoring time, the AUC of clean against each noise kind,
and what the filter alone removes at keep_fraction (the (1 - keep) quantile of the raw pool's scores,
as feedback_recipe.py sets it): noise precision and recall, and word-salad recall with its Wilson
interval.

    python bench/classifier.py --run results/demo [--folds 5] [--keep-fraction 0.8] [--seed 0]

With --versus METHOD it instead compares the run's feedback_classifier with feedback_<METHOD> under
the proxy (--proxy, default ngram): the paired comparison of the summary (test part, documents and
seeds), from eval/<proxy>/<variant>.json.

    python bench/classifier.py --run results/demo --versus importance
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import numpy as np  # noqa: E402

from sandbox.classifier import model as classifier  # noqa: E402
from sandbox.classifier.quality import auc  # noqa: E402
from sandbox.io.jsonl import iter_jsonl  # noqa: E402
from sandbox.stats.intervals import wilson_interval  # noqa: E402
from sandbox.workflow.variants import feedback_variant  # noqa: E402

SETTINGS = [(classifier.HASHED_LR, 0.0), (classifier.HASHED_LR, 0.5), (classifier.FASTTEXT, 0.0),
            (classifier.FASTTEXT, 0.5)]


def cross_fitted(backend: str, shuffled: float, reference: list[str], pool: list[str], folds: int, seed: int,
                 folder: Path) -> tuple[np.ndarray, float, float]:
    """The pool's cross-fitted scores, training seconds and scoring seconds (all folds)."""
    rows = list(range(len(pool)))
    paths, train_seconds = [], 0.0
    for fold in range(folds):
        training = classifier.fold_training_set(reference, pool, rows, fold, folds, seed, shuffled)
        path = folder / f"{backend}-{shuffled}-fold{fold}{classifier.SUFFIX[backend]}"
        train_seconds += classifier.train(backend, training, seed, path)
        paths.append(str(path))
    start = time.perf_counter()
    values = classifier.scores(paths, pool)
    return values, train_seconds, time.perf_counter() - start


def versus(run: Path, proxy: str, method: str) -> None:
    """feedback_classifier against feedback_<method>: the summary's paired comparison, on test."""
    from sandbox.stats.bootstrap import aligned, paired_comparison
    from sandbox.summary.verdict import scores_of

    names = [feedback_variant("classifier"), feedback_variant(method)]
    evaluations = {name: json.loads((run / f"eval/{proxy}/{name}.json").read_text()) for name in names}
    scores = aligned({name: scores_of(evaluation) for name, evaluation in evaluations.items()})
    comparison = paired_comparison(*names, scores, 0.95, proxy)
    low, high = comparison["relative_ci_percent"]
    print(f"{proxy}: {names[0]} vs {names[1]}: "
          f"{comparison['relative_percent']:+.2f} % test bpb, "
          f"95 % CI [{low:+.2f}, {high:+.2f}], significant: {comparison['significant']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=REPO / "results/demo",
                        help="a finished demo run's folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--keep-fraction", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--versus", default=None, help="compare feedback_classifier with feedback_<VERSUS>")
    parser.add_argument("--proxy", default="ngram")
    args = parser.parse_args()
    if args.versus:
        versus(args.run, args.proxy, args.versus)
        return
    pool_records = [record for _, record in iter_jsonl(args.run / "data/pool.jsonl")]
    pool = [record["text"] for record in pool_records]
    origins = np.array([record["meta"]["origin"] for record in pool_records])
    reference = [record["text"] for _, record in iter_jsonl(args.run / "demo/reference.jsonl")]
    print(f"pool {len(pool)} documents, trusted reference {len(reference)}, {args.folds} folds")
    with tempfile.TemporaryDirectory() as folder:
        for backend, shuffled in SETTINGS:
            values, train_seconds, score_seconds = cross_fitted(backend, shuffled, reference, pool,
                                                                args.folds, args.seed, Path(folder))
            removed = values < np.quantile(values, 1 - args.keep_fraction)
            noise = origins != "clean"
            salad = origins == "noise:word_salad"
            low, high = wilson_interval(int((removed & salad).sum()), int(salad.sum()), 0.95)
            clean = values[origins == "clean"]
            aucs = {kind.removeprefix("noise:"): round(auc(clean, values[origins == kind]), 3)
                    for kind in sorted(set(origins)) if kind != "clean"}
            print(json.dumps({"backend": backend, "shuffled_negatives": shuffled,
                              "train_seconds": round(train_seconds, 1),
                              "score_seconds": round(score_seconds, 2),
                              "noise_precision": round(float(noise[removed].mean()), 3),
                              "noise_recall": round(float(removed[noise].mean()), 3),
                              "word_salad_recall": [round(float(removed[salad].mean()), 3), round(low, 3),
                                                    round(high, 3)],
                              "auc_clean_vs": aucs}), flush=True)


if __name__ == "__main__":
    main()
