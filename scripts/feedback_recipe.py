"""Write a model-feedback recipe: the base recipe plus one filter whose stat comes from a model (an
n-gram LM or the quality classifier).

The filter is a Data-Juicer custom operator (sandbox/dj_ops/ngram_filters.py or
quality_classifier.py, loaded through the recipe's custom_operator_paths), so `dj-process --config
<this recipe>` runs it as the workflow does. Its thresholds come from the op's own stat on the raw pool,
which feedback_scores.py computed once (--scores, analysis/raw/feedback_<method>.parquet; the op and its
model arguments come from there too):
  self_loss      ngram_loss_filter under the pool's LM, min/max = mean -/+ k std of the pool's losses;
  reference_ppl  ngram_loss_filter under the reference LM, max = the keep_fraction quantile;
  importance     ngram_importance_filter (reference vs pool), min = the (1 - keep_fraction) quantile;
  classifier     quality_classifier_filter (trusted vs pool), min = the (1 - keep_fraction) quantile.
The pool's LM and the classifier are cross-fitted: the op's model_path (self_loss, classifier) or
background_model_path (importance) lists K fold models in fold order, and the op scores each document
by the fold model that never trained on it (sandbox/feedback/crossfit.py), here and wherever the recipe runs.
Also writes the stat's distribution, the thresholds and the cost (the models' training seconds, from
--model-meta, and the seconds the op took to score the pool) as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sandbox.feedback.ops import METHODS, OP_OF_METHOD, custom_operator_paths, model_files
from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError
from sandbox.recipe.model_stats import read_model_stats
from sandbox.recipe.recipe_file import load_recipe, write_recipe


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--base", required=True, type=Path, help="the recipe the filter is appended to")
    parser.add_argument("--scores", required=True, type=Path,
                        help="the op's stat of every pool document (feedback_scores.py)")
    parser.add_argument("--model-meta", type=Path, nargs="*", default=[],
                        help="the models' train_meta.json files: their training seconds go to the cost")
    parser.add_argument("--k", type=float, default=2.0)
    parser.add_argument("--keep-fraction", type=float, default=0.8)
    parser.add_argument("--out-recipe", required=True, type=Path)
    parser.add_argument("--out-stats", required=True, type=Path)
    return parser.parse_args()


def training_seconds(metas: list[Path]) -> float | None:
    """The models' total training time (their train_meta.json "seconds"); None without them."""
    if not metas:
        return None
    return round(sum(float(json.loads(path.read_text(encoding="utf-8"))["seconds"]) for path in metas), 3)


def thresholds(method: str, values: np.ndarray, k: float, keep_fraction: float) -> dict[str, float]:
    """min_value/max_value of the method's band over the pool's values."""
    if method == "self_loss":
        mean, std = float(values.mean()), float(values.std())
        return {"min_value": mean - k * std, "max_value": mean + k * std}
    if method == "reference_ppl":
        return {"max_value": float(np.quantile(values, keep_fraction))}
    return {"min_value": float(np.quantile(values, 1 - keep_fraction))}


def main() -> None:
    args = parse_args()
    recipe = load_recipe(args.base)
    recipe["custom_operator_paths"] = custom_operator_paths(recipe, args.method)
    scores = read_model_stats(args.scores)
    name, op_args = scores.op_name, dict(scores.op_args)
    if name != OP_OF_METHOD[args.method]:
        raise InputError(f"{args.scores}: scores of {name}, not of {args.method}'s "
                         f"{OP_OF_METHOD[args.method]}. Fix: rerun feedback_scores with --forcerun.")
    values = scores.values
    bounds = thresholds(args.method, values, args.k, args.keep_fraction)
    op_args.update(bounds)
    recipe["process"] = [*recipe["process"], {name: op_args}]
    write_recipe(args.out_recipe, recipe)
    lower, upper = bounds.get("min_value", -np.inf), bounds.get("max_value", np.inf)
    kept = float(np.mean((values >= lower) & (values <= upper)))
    folds = [len(value) for value in op_args.values() if isinstance(value, list)]
    summary = {"method": args.method, "op": name, "base": str(args.base), "thresholds": bounds,
               "pool_lm_folds": max(folds, default=None),
               "pool_docs": len(values), "kept_fraction_by_this_filter_alone": kept,
               "cost": {"models": len(model_files(op_args)),
                        "train_seconds": training_seconds(args.model_meta),
                        "score_pool_seconds": scores.seconds},
               "stat": {"mean": float(values.mean()), "std": float(values.std()),
                        "quantiles": {str(q): float(np.quantile(values, q))
                                      for q in (0.05, 0.25, 0.5, 0.75, 0.95)}}}
    args.out_stats.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{args.out_recipe}: {args.base} + {name} {bounds}; keeps {kept:.1%} of the pool on its own")


if __name__ == "__main__":
    run_main(main)
