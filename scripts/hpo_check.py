"""Check a sweep against the recipe and Data-Juicer before any trial runs; write it as JSON.

Every parameter must name an op of the recipe and an argument of that op's constructor; int-typed
arguments are recorded so that trials get ints (Data-Juicer's preflight rejects floats there).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from sandbox.hpo.sweep import load_sweep, study_name
from sandbox.hpo.sweep_check import check_dict_arguments, int_arguments
from sandbox.io.cli import run_main
from sandbox.recipe.dj import forbid_runtime_installs, register_custom_operators
from sandbox.recipe.recipe_file import load_recipe, op_names
from sandbox.workflow.variants import RECIPE


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", required=True, type=Path)
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--base", default=RECIPE, help="hpo.base: the recipe the sweep's parameters set")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    sweep = load_sweep(args.sweep)
    for warning in sweep.warnings:
        print(f"WARNING: {warning}")
    recipe = load_recipe(args.recipe)
    # a feedback base's filter is a custom op: its arguments are checked like any other op's
    register_custom_operators(recipe)
    int_names = int_arguments(sweep, op_names(recipe["process"]), args.sweep)
    check_dict_arguments(sweep, recipe, args.sweep)
    document = {**dataclasses.asdict(sweep), "int_parameters": int_names, "base": args.base}
    document["name"] = study_name(sweep.name, args.base)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"{args.sweep}: {sweep.method} search of {len(sweep.parameters)} parameters, "
          f"{sweep.run_cap} trials, {sweep.parallel_trials} at a time, {sweep.metric} ({sweep.goal})")


if __name__ == "__main__":
    run_main(main)
