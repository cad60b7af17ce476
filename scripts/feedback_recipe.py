"""Write a model-feedback recipe: the base recipe plus one filter whose stat comes from a model (an
n-gram LM or the quality classifier).

The filter is a Data-Juicer custom operator (sandbox/dj_ops/ngram_filters.py or
quality_classifier.py, loaded through the recipe's custom_operator_paths), so `dj-process --config
<this recipe>` runs it as the workflow does. Its thresholds come from the op's own stat on the raw pool:
  self_loss      ngram_loss_filter under the pool's LM, min/max = mean -/+ k std of the pool's losses;
  reference_ppl  ngram_loss_filter under the reference LM, max = the keep_fraction quantile;
  importance     ngram_importance_filter (reference vs pool), min = the (1 - keep_fraction) quantile;
  classifier     quality_classifier_filter (trusted vs pool), min = the (1 - keep_fraction) quantile.
The pool's LM and the classifier are cross-fitted: --model (self_loss, classifier) or
--background-model (importance) lists K fold models in fold order, and the op scores each document
by the fold model that never trained on it (sandbox/feedback/crossfit.py), here and wherever the recipe runs.
Also writes the stat's distribution, the thresholds and the cost (the models' training seconds, from
--model-meta, and the seconds the op took to score the pool) as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.recipe.dj import forbid_runtime_installs, register_custom_operators
from sandbox.recipe.recipe_file import load_recipe, write_recipe

# relative to the workflow's folder (also how sandbox/workflow/code_deps.py finds them as this script's code)
OPS_FILE = "scripts/sandbox/dj_ops/ngram_filters.py"
CLASSIFIER_OPS_FILE = "scripts/sandbox/dj_ops/quality_classifier.py"
WORKFLOW_DIR = Path(__file__).resolve().parents[1]
METHODS = ["self_loss", "reference_ppl", "importance", "classifier"]
STATS_FIELD = "__dj__stats__"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--base", required=True, type=Path, help="the recipe the filter is appended to")
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--model", required=True, type=Path, nargs="+",
                        help="the model whose stat is scored: one file, or K cross-fitted fold models in "
                             "fold order")
    parser.add_argument("--background-model", type=Path, nargs="+", default=None,
                        help="importance: the pool's LM (its K fold models)")
    parser.add_argument("--model-meta", type=Path, nargs="*", default=[],
                        help="the models' train_meta.json files: their training seconds go to the cost")
    parser.add_argument("--k", type=float, default=2.0)
    parser.add_argument("--keep-fraction", type=float, default=0.8)
    parser.add_argument("--out-recipe", required=True, type=Path)
    parser.add_argument("--out-stats", required=True, type=Path)
    return parser.parse_args()


def model_arg(paths: list[Path]) -> str | list[str]:
    """The op's model argument: a path, or the list of fold models."""
    return str(paths[0]) if len(paths) == 1 else [str(path) for path in paths]


def feedback_op(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The op name and its arguments, thresholds left open."""
    if args.method == "importance":
        if args.background_model is None:
            raise SystemExit("--method importance needs --background-model")
        return "ngram_importance_filter", {"model_path": model_arg(args.model),
                                           "background_model_path": model_arg(args.background_model)}
    if args.method == "classifier":
        return "quality_classifier_filter", {"model_path": model_arg(args.model)}
    return "ngram_loss_filter", {"model_path": model_arg(args.model)}


def ops_file(method: str) -> str:
    """The custom operator file the method's filter lives in (absolute)."""
    return str(WORKFLOW_DIR / (CLASSIFIER_OPS_FILE if method == "classifier" else OPS_FILE))


def custom_operator_paths(recipe: dict[str, Any], method: str) -> list[str]:
    """The recipe's custom_operator_paths plus, by absolute path, the sandbox package and the method's op
    file: Data-Juicer loads a package folder with its parent on sys.path, after which the op file's
    `from sandbox...` imports resolve, under plain `dj-process` too; its Ray executor ships both to the
    workers (runtime_env py_modules)."""
    paths = list(recipe.get("custom_operator_paths") or [])
    for path in (str(WORKFLOW_DIR / "scripts/sandbox"), ops_file(method)):
        if path not in paths:
            paths.append(path)
    return paths


def training_seconds(metas: list[Path]) -> float | None:
    """The models' total training time (their train_meta.json "seconds"); None without them."""
    if not metas:
        return None
    return round(sum(float(json.loads(path.read_text(encoding="utf-8"))["seconds"]) for path in metas), 3)


def pool_stats(name: str, op_args: dict[str, Any], texts: list[str]) -> np.ndarray:
    """The op's own stat of every pool document, computed by its compute_stats."""
    from data_juicer.ops.load import load_ops

    (op,) = load_ops([{name: op_args}])
    samples = {op.text_key: texts, STATS_FIELD: [{} for _ in texts]}
    computed = op.compute_stats_batched(samples)[STATS_FIELD]
    return np.array([stats[op.stat_key] for stats in computed], dtype=float)


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
    forbid_runtime_installs()
    recipe = load_recipe(args.base)
    recipe["custom_operator_paths"] = custom_operator_paths(recipe, args.method)
    register_custom_operators(recipe)
    name, op_args = feedback_op(args)
    texts = [record["text"] for _, record in iter_jsonl(args.pool)]
    start = time.perf_counter()
    values = pool_stats(name, op_args, texts)
    score_seconds = time.perf_counter() - start
    bounds = thresholds(args.method, values, args.k, args.keep_fraction)
    op_args.update(bounds)
    recipe["process"] = [*recipe["process"], {name: op_args}]
    write_recipe(args.out_recipe, recipe)
    lower, upper = bounds.get("min_value", -np.inf), bounds.get("max_value", np.inf)
    kept = float(np.mean((values >= lower) & (values <= upper)))
    folds = [len(value) for value in op_args.values() if isinstance(value, list)]
    summary = {"method": args.method, "op": name, "base": str(args.base), "thresholds": bounds,
               "pool_lm_folds": max(folds, default=None),
               "pool_docs": len(texts), "kept_fraction_by_this_filter_alone": kept,
               "cost": {"models": len(args.model) + len(args.background_model or []),
                        "train_seconds": training_seconds(args.model_meta),
                        "score_pool_seconds": round(score_seconds, 3)},
               "stat": {"mean": float(values.mean()), "std": float(values.std()),
                        "quantiles": {str(q): float(np.quantile(values, q))
                                      for q in (0.05, 0.25, 0.5, 0.75, 0.95)}}}
    args.out_stats.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{args.out_recipe}: {args.base} + {name} {bounds}; keeps {kept:.1%} of the pool on its own")


if __name__ == "__main__":
    run_main(main)
