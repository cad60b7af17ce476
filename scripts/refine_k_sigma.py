"""Refine a recipe's filter thresholds to mean -/+ k*std of each filter's stat on the raw data.

Writes the refined recipe (dj-process runs it unchanged) and a TSV of old -> new thresholds.
See sandbox/recipe/k_sigma.py for the exact rule (typing, inward rounding, clamping).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.recipe.dj import forbid_runtime_installs, register_custom_operators
from sandbox.recipe.k_sigma import Change, refine_process, stat_keys_of
from sandbox.recipe.recipe_file import load_recipe, write_recipe

TABLE_COLUMNS = ["op_index", "op_name", "arg", "stat", "mean", "std", "old", "new", "clamped"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--overall", required=True, type=Path, help="overall.json of the raw analysis")
    parser.add_argument("--k", required=True, type=float)
    parser.add_argument("--out-recipe", required=True, type=Path)
    parser.add_argument("--out-table", required=True, type=Path)
    return parser.parse_args()


def filter_stats(process: list) -> tuple[dict[str, type], dict[int, list[str]]]:
    """Each op's class, and the stat keys of each Filter op (by process index)."""
    from data_juicer.ops import OPERATORS, Filter
    from data_juicer.ops.load import load_ops

    op_classes = {name: OPERATORS.modules[name] for entry in process for name in entry}
    op_stats: dict[int, list[str]] = {}
    for index, entry in enumerate(process):
        (name,) = entry
        if issubclass(op_classes[name], Filter):
            (op,) = load_ops([entry])
            op_stats[index] = stat_keys_of(op)
    return op_classes, op_stats


def write_table(path: Path, changes: list[Change]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(TABLE_COLUMNS)
        for change in changes:
            writer.writerow([getattr(change, column) for column in TABLE_COLUMNS])


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    recipe = load_recipe(args.recipe)
    register_custom_operators(recipe)
    overall = json.loads(args.overall.read_text(encoding="utf-8"))
    op_classes, op_stats = filter_stats(recipe["process"])
    recipe["process"], changes = refine_process(recipe["process"], overall, args.k, op_classes, op_stats)
    write_recipe(args.out_recipe, recipe)
    write_table(args.out_table, changes)
    for change in changes:
        note = " (clamped)" if change.clamped else ""
        print(f"{change.op_name}.{change.arg}: {change.old} -> {change.new}{note}  [{change.stat}]")


if __name__ == "__main__":
    run_main(main)
