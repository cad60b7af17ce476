"""Analyze a dataset with Data-Juicer's Analyzer and the recipe's filters.

Writes per-sample stats (stats.jsonl, one row per document with its sandbox_row and origin),
overall stats (overall.json: count, mean, std, min, quantiles, max per stat), and Data-Juicer's
histogram and box plots (plots/). With --export-dataset the dataset is also written with its
stats attached (__dj__stats__), so that processing can reuse them instead of recomputing; with
--out-stats-cache, the same stats in columns (Parquet) with the hash of each exact deduplicator,
from which threshold-only variants are computed without running any operator (sandbox/recipe/masks.py).
With data_juicer.executor: ray the stats are computed by Data-Juicer's RayAnalyzer on a Ray cluster
(sandbox/recipe/ray_mode.py); the outputs are the same.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.recipe.dj import forbid_runtime_installs, job_scratch, run_analyzer
from sandbox.recipe.masks import write_stats_cache
from sandbox.recipe.ray_mode import check_ray_support, executor_from_env
from sandbox.recipe.recipe_file import load_recipe

STATS_FIELD = "__dj__stats__"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out-stats", required=True, type=Path)
    parser.add_argument("--out-overall", required=True, type=Path)
    parser.add_argument("--out-plots", required=True, type=Path)
    parser.add_argument("--out-dataset", type=Path, default=None,
                        help="also export the dataset with its stats")
    parser.add_argument("--out-stats-cache", type=Path, default=None,
                        help="also write the stats (and exact-dedup hashes) as a Parquet cache")
    parser.add_argument("--np", type=int, default=1)
    return parser.parse_args()


def read_overall_csv(path: Path) -> dict[str, dict[str, float]]:
    """Data-Juicer's overall.csv (rows: count, mean, std, ...; columns: stats) as {stat: {row: value}}."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0][1:], rows[1:]
    overall: dict[str, dict[str, float]] = {stat: {} for stat in header}
    for row in body:
        measure = row[0]
        for stat, cell in zip(header, row[1:]):
            value = float(cell) if cell not in ("", "nan") else math.nan
            if math.isfinite(value):
                overall[stat][measure] = value
    return {stat: values for stat, values in overall.items() if "mean" in values}


def per_sample_rows(data_path: Path, stats_path: Path) -> list[dict[str, Any]]:
    """Join Data-Juicer's per-sample stats (same order as the input) with each document's ids."""
    documents = [record for _, record in iter_jsonl(data_path)]
    stats = [record.get(STATS_FIELD, {}) for _, record in iter_jsonl(stats_path)]
    if len(documents) != len(stats):
        raise RuntimeError(f"{stats_path}: {len(stats)} stats rows for {len(documents)} documents in "
                           f"{data_path}")
    rows = []
    for document, sample_stats in zip(documents, stats):
        meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
        rows.append({"sandbox_row": document.get("sandbox_row"), "origin": meta.get("origin"),
                     **sample_stats})
    return rows


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    executor = executor_from_env()
    if executor.is_ray:
        check_ray_support(args.recipe, load_recipe(args.recipe)["process"])
    if not any(True for _ in iter_jsonl(args.data)):
        raise InputError(f"{args.data}: no documents to analyze. Fix: check the previous step's output.")
    args.out_stats.parent.mkdir(parents=True, exist_ok=True)
    # Data-Juicer's own work files live in a scratch dir next to the outputs and vanish afterwards.
    with job_scratch(args.out_stats.parent, ".dj-analyze-") as scratch_dir:
        export_path = scratch_dir / "export" / "data.jsonl"
        export_dataset = args.out_dataset is not None or args.out_stats_cache is not None
        analysis_dir = run_analyzer(args.recipe, args.data, export_path, scratch_dir / "work", args.np,
                                    export_dataset=export_dataset, executor=executor)
        overall = read_overall_csv(analysis_dir / "overall.csv")
        if not overall:
            raise InputError(f"{args.recipe}: no filter in this recipe computes a stat, so there is nothing "
                             "to analyze.")
        rows = per_sample_rows(args.data, export_path.with_name("data_stats.jsonl"))
        write_jsonl(args.out_stats, rows)
        args.out_overall.write_text(json.dumps(overall, indent=2) + "\n", encoding="utf-8")
        if args.out_plots.exists():
            shutil.rmtree(args.out_plots)
        args.out_plots.mkdir(parents=True)
        for plot in sorted(analysis_dir.glob("*.png")):
            shutil.copy2(plot, args.out_plots / plot.name)
        if args.out_stats_cache is not None:
            from data_juicer.ops.load import load_ops

            ops = load_ops(load_recipe(args.recipe)["process"])
            write_stats_cache(args.out_stats_cache, [record for _, record in iter_jsonl(export_path)], ops,
                              "text")
        if args.out_dataset is not None:
            os.replace(export_path, args.out_dataset)
    print(f"analyzed {len(rows)} documents, {len(overall)} stats: {', '.join(sorted(overall))}")


if __name__ == "__main__":
    run_main(main)
