"""Score every pool document once with a model-feedback op and cache the stat beside the Analyzer's.

The op (sandbox/feedback/ops.py: ngram_loss_filter, ngram_importance_filter or quality_classifier_filter,
a Data-Juicer custom operator) computes its own stat with its own compute_stats, exactly as `dj-process`
runs it: with K fold models listed, each document is scored by the fold model that never trained on it
(sandbox/feedback/crossfit.py). Writes analysis/raw/feedback_<method>.parquet (sandbox/recipe/model_stats.py):
each document's sandbox_row, a digest of its text and the stat, with the op entry and the seconds it
took. feedback_recipe.py sets the thresholds from it, process.py filters the feedback variant on it (the
mask path), and quality_scores.py reads the classifier's scores of any variant from it, so no job scores
the pool again.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.feedback.ops import METHODS, custom_operator_paths, feedback_op
from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl
from sandbox.recipe.dj import forbid_runtime_installs, register_custom_operators
from sandbox.recipe.model_stats import ModelStats, text_digest, write_model_stats

STATS_FIELD = "__dj__stats__"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--model", required=True, type=Path, nargs="+",
                        help="the model whose stat is scored: one file, or K cross-fitted fold models in "
                             "fold order")
    parser.add_argument("--background-model", type=Path, nargs="+", default=None,
                        help="importance: the pool's LM (its K fold models)")
    parser.add_argument("--out", required=True, type=Path, help="analysis/raw/feedback_<method>.parquet")
    return parser.parse_args()


def pool_stats(name: str, op_args: dict[str, Any], texts: list[str]) -> tuple[str, np.ndarray]:
    """The op's stat key and its own stat of every pool document, computed by its compute_stats."""
    from data_juicer.ops.load import load_ops

    (op,) = load_ops([{name: op_args}])
    samples = {op.text_key: texts, STATS_FIELD: [{} for _ in texts]}
    computed = op.compute_stats_batched(samples)[STATS_FIELD]
    return op.stat_key, np.array([stats[op.stat_key] for stats in computed], dtype=float)


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    register_custom_operators({"custom_operator_paths": custom_operator_paths({}, args.method)})
    name, op_args = feedback_op(args.method, args.model, args.background_model)
    records = [record for _, record in iter_jsonl(args.pool)]
    rows = [record.get("sandbox_row") for record in records]
    if not records or not all(isinstance(row, int) for row in rows):
        raise InputError(f"{args.pool}: the working pool must list documents, each with its sandbox_row. "
                         "Fix: rerun prepare_input (snakemake --forcerun prepare_input).")
    texts = [record["text"] for record in records]
    start = time.perf_counter()
    stat_key, values = pool_stats(name, op_args, texts)
    seconds = round(time.perf_counter() - start, 3)
    write_model_stats(args.out, ModelStats(rows=np.array(rows, dtype=np.int64),
                                           digests=[text_digest(text) for text in texts],
                                           op={name: op_args}, stat_key=stat_key, values=values,
                                           seconds=seconds))
    print(f"{args.out}: {name} scored {len(texts)} documents ({stat_key}) in {seconds:.2f}s")


if __name__ == "__main__":
    run_main(main)
