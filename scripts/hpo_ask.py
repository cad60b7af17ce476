"""Ask the sweep's study for one trial's parameters and write that trial's Data-Juicer recipe.

Asking again for a trial number the study already has returns the same parameters, so an
interrupted search resumes without new trials.
"""

from __future__ import annotations

import argparse
import fcntl
import json
from pathlib import Path

from sandbox.hpo.study import ask, distribution_of, open_study, parameter_name, recipe_value
from sandbox.io.cli import run_main
from sandbox.recipe.recipe_file import apply_params, load_recipe, write_recipe


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep-json", required=True, type=Path, help="written by hpo_check.py")
    parser.add_argument("--recipe", required=True, type=Path, help="the base recipe")
    parser.add_argument("--study", required=True, type=Path, help="the study's journal file")
    parser.add_argument("--trial", required=True, type=int)
    parser.add_argument("--sampler-seed", type=int, default=0)
    parser.add_argument("--out-recipe", required=True, type=Path)
    parser.add_argument("--out-params", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sweep = json.loads(args.sweep_json.read_text(encoding="utf-8"))
    int_names = set(sweep["int_parameters"])
    parameters = {parameter_name(p): p for p in sweep["parameters"]}
    distributions = {
        name: distribution
        for name, parameter in parameters.items()
        if (distribution := distribution_of(parameter, name in int_names)) is not None
    }
    args.study.parent.mkdir(parents=True, exist_ok=True)
    # Trials of a round are asked in parallel jobs; one at a time, each sampler sees the others'
    # running trials (GridSampler skips their grid points, TPE's constant liar avoids them).
    with open(args.study.with_name(args.study.name + ".ask-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        study = open_study(args.study, sweep, args.sampler_seed, args.trial)
        sampled = ask(study, args.trial, distributions)
    values = {name: recipe_value(parameter, sampled.get(name), name in int_names)
              for name, parameter in parameters.items()}
    write_recipe(args.out_recipe, apply_params(load_recipe(args.recipe), values))
    params = {"trial": args.trial, "params": values}
    args.out_params.write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
    print(f"trial {args.trial}: {values}")


if __name__ == "__main__":
    run_main(main)
