"""Evaluate one HPO round's trials in one job: mask, train the n-gram proxy, score, per trial.

A round of K trials would otherwise be K × (process, data metrics, train per seed, evaluate)
jobs, each paying Python and Data-Juicer start-up (~4 s) for well under a second of work. Here the
pool, its stats cache and the eval set are read once; each trial's recipe takes the mask path
(sandbox/recipe/masks.py) when it only moves thresholds, else Data-Juicer's executor runs it in this
process; the n-gram proxy then trains on each seed at the fixed budget and scores the eval set,
exactly as the n-gram trainer and evaluate.py do. The search's value is validation_bpb, the bpb on the
validation part of the eval split (the test part is never a search objective). The output holds one
evaluation per trial, read by hpo_tell.py like a per-trial evaluation file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sandbox.data.eval_set import VALIDATION, read_split_labels
from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.origin import noise_removal, origin_of
from sandbox.io.scoring import read_documents
from sandbox.proxies.budget import add_budget_arguments, resolve_budget
from sandbox.proxies.ngram import heldout_nll_bits
from sandbox.recipe.dj import forbid_runtime_installs, job_scratch, register_custom_operators, run_executor
from sandbox.recipe.masks import StatsCache, apply_ops, choose_path, read_stats_cache
from sandbox.recipe.recipe_file import load_recipe
from sandbox.workflow.variants import trial_variant


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", required=True, nargs="+", type=Path, help="params.json per trial")
    parser.add_argument("--recipes", required=True, nargs="+", type=Path,
                        help="recipe.yaml per trial, same order")
    parser.add_argument("--analyzed-recipe", required=True, type=Path)
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--stats-cache", required=True, type=Path)
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--eval-split", required=True, type=Path, help="data/eval_split.json")
    parser.add_argument("--train", action="store_true",
                        help="train and score the n-gram proxy (model metrics)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    add_budget_arguments(parser, "the n-gram's byte budget")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--np", type=int, default=1,
                        help="executor processes for a trial the mask path refuses")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    resolve_budget(parser, args, required=True)
    if len(args.params) != len(args.recipes):
        parser.error("--params and --recipes must list the same trials")
    return args


def kept_by_executor(recipe_path: Path, pool_path: Path, np_workers: int, scratch_parent: Path,
                     scratch_prefix: str) -> list[int]:
    """Kept sandbox_rows when the mask path cannot run the recipe: Data-Juicer's executor, in process."""
    with job_scratch(scratch_parent, scratch_prefix) as scratch:
        export = scratch / "export" / "data.jsonl"
        run_executor(recipe_path, pool_path, export, scratch / "work", np_workers, None)
        kept = [record["sandbox_row"] for _, record in iter_jsonl(export)] if export.exists() else []
    return kept


def kept_rows(recipe_path: Path, analyzed: dict[str, Any], cache: StatsCache, pool_path: Path,
              np_workers: int, scratch_parent: Path, scratch_prefix: str) -> tuple[list[int], str]:
    """The trial's kept sandbox_rows and which path computed them."""
    recipe = load_recipe(recipe_path)
    register_custom_operators(recipe)
    choice = choose_path(recipe, analyzed, cache)
    if choice.is_mask:
        return cache.rows[apply_ops(choice.ops, cache).kept].tolist(), choice.path
    return kept_by_executor(recipe_path, pool_path, np_workers, scratch_parent, scratch_prefix), choice.path


def ngram_bpb(train_texts: list[bytes], eval_texts: list[bytes], validation: list[bool], seed: int,
              budget: int, order: int) -> tuple[float, float]:
    """Bits per byte of the n-gram proxy on the whole eval set (as the n-gram trainer computes it) and on its
    validation part."""
    bits = heldout_nll_bits(train_texts, eval_texts, budget, seed, order)
    validation_bits = sum(value for value, chosen in zip(bits, validation) if chosen)
    validation_bytes = sum(len(text) for text, chosen in zip(eval_texts, validation) if chosen)
    return float(sum(bits)) / sum(len(text) for text in eval_texts), float(validation_bits) / validation_bytes


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    pool = [record for _, record in iter_jsonl(args.pool)]
    text_of_row = {record["sandbox_row"]: record["text"].encode("utf-8") for record in pool}
    origins = {record["sandbox_row"]: origin_of(record) for record in pool}
    tagged = all(origin is not None for origin in origins.values())
    cache = read_stats_cache(args.stats_cache)
    analyzed = load_recipe(args.analyzed_recipe)
    eval_records = read_documents(args.eval, "text") if args.train else []
    eval_texts = [record["text"].encode("utf-8") for record in eval_records]
    validation = [label == VALIDATION for label in read_split_labels(args.eval_split)]
    if args.train and len(validation) != len(eval_texts):
        raise ValueError(f"{args.eval_split} labels {len(validation)} documents, "
                         f"{args.eval} has {len(eval_texts)}")
    evaluations: dict[str, dict[str, Any]] = {}
    trials = list(zip(args.params, args.recipes))
    for params_path, recipe_path in tqdm(trials, desc="trials", mininterval=10, file=sys.stderr):
        trial = json.loads(params_path.read_text(encoding="utf-8"))["trial"]
        started = time.perf_counter()
        kept, path = kept_rows(recipe_path, analyzed, cache, args.pool, args.np, args.out.parent,
                               f".dj-{args.out.name}-")
        evaluation: dict[str, Any] = {"variant": trial_variant(trial), "path": path, "pool_docs": len(pool),
                                      "docs": len(kept), "kept_fraction": len(kept) / len(pool)}
        if tagged:
            evaluation["noise_removal"] = noise_removal(origins, set(origins) - set(kept))
        if args.train:
            if not kept:
                raise RuntimeError(f"trial {trial} ({recipe_path}) removed every document")
            texts = [text_of_row[row] for row in kept]
            both = {str(seed): ngram_bpb(texts, eval_texts, validation, seed, args.budget_bytes, args.order)
                    for seed in args.seeds}
            if not all(math.isfinite(value) for pair in both.values() for value in pair):
                raise ValueError(f"trial {trial}: held-out bits per byte is not finite: {both}")
            per_seed = {seed: pair[0] for seed, pair in both.items()}
            on_validation = {seed: pair[1] for seed, pair in both.items()}
            evaluation.update({"proxy": "ngram", "seeds": args.seeds, "heldout_bpb_per_seed": per_seed,
                               "heldout_bpb": sum(per_seed.values()) / len(per_seed),
                               "validation_bpb_per_seed": on_validation,
                               "validation_bpb": sum(on_validation.values()) / len(on_validation)})
        evaluation["seconds"] = round(time.perf_counter() - started, 3)
        evaluations[str(trial)] = evaluation
        print(f"trial {trial}: {path} path, kept {len(kept)}/{len(pool)}, "
              f"validation_bpb {evaluation.get('validation_bpb')}, {evaluation['seconds']} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"trials": evaluations}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
