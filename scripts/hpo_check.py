"""Check a sweep against the recipe and Data-Juicer before any trial runs; write it as JSON.

Every parameter must name an op of the recipe and an argument of that op's constructor; int-typed
arguments are recorded so that trials get ints (Data-Juicer's preflight rejects floats there).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.dj import forbid_runtime_installs, register_custom_operators  # noqa: E402
from sandbox.jsonl import InputError  # noqa: E402
from sandbox.op_args import is_int_parameter  # noqa: E402
from sandbox.recipe import load_recipe, op_names  # noqa: E402
from sandbox.sweep import Sweep, load_sweep  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", required=True, type=Path)
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--base", default="recipe", help="hpo.base: the recipe the sweep's parameters set")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def int_arguments(sweep: Sweep, recipe_ops: list[str], path: Path) -> list[str]:
    """Names (op.arg) of int-typed parameters; InputError for an unknown op or argument."""
    from data_juicer.ops import OPERATORS

    int_names = []
    for parameter in sweep.parameters:
        if parameter.op not in recipe_ops:
            raise InputError(
                f"{path}: parameter '{parameter.name}' names op '{parameter.op}', which the recipe does not have "
                f"(its ops: {', '.join(recipe_ops)}). Fix: name an op of the recipe."
            )
        arguments = inspect.signature(OPERATORS.modules[parameter.op].__init__).parameters
        if parameter.arg not in arguments or parameter.arg in ("self", "args", "kwargs"):
            known = ", ".join(name for name in arguments if name not in ("self", "args", "kwargs"))
            raise InputError(
                f"{path}: op '{parameter.op}' has no argument '{parameter.arg}' (it has: {known}). "
                "Fix: correct the parameter name."
            )
        # a deeper name sets a key inside a dict argument: the key's type is not in the signature
        if not parameter.keys and is_int_parameter(arguments[parameter.arg]):
            int_names.append(parameter.name)
    return int_names


def check_dict_arguments(sweep: Sweep, recipe: dict, path: Path) -> None:
    """A nested parameter (op.arg.key) sets a key inside arg's dict: the recipe's arg must be a
    dict or unset, never a scalar the trial would overwrite."""
    for parameter in sweep.parameters:
        if not parameter.keys:
            continue
        for entry in recipe["process"]:
            current = (entry.get(parameter.op) or {}).get(parameter.arg)
            if current is not None and not isinstance(current, dict):
                raise InputError(
                    f"{path}: parameter '{parameter.name}' sets key '{'.'.join(parameter.keys)}' inside "
                    f"'{parameter.op}.{parameter.arg}', but the recipe sets that argument to {current!r}, not a "
                    f"mapping. Fix: search '{parameter.op}.{parameter.arg}' itself, or make it a mapping in the recipe."
                )


def study_name(sweep_name: str, base: str) -> str:
    """The Optuna study of a sweep over a base recipe: trials sampled over another base recipe
    (hpo.base) live in a study of their own in the same journal, never mixed with these."""
    return sweep_name if base == "recipe" else f"{sweep_name}@{base}"


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
