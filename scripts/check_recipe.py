"""Check a Data-Juicer recipe before any data is touched, and write the copy the workflow runs.

Data-Juicer's own preflight check validates operator names, argument names and argument types;
its errors are reported here with the recipe's path. Every global key is honoured, set by the
workflow (and dropped from the copy, with a note), or refused, all refusals in one message
(sandbox/recipe/recipe_file.py says which is which). With data_juicer.executor: ray, every op
Data-Juicer's Ray cannot run is named (sandbox/recipe/ray_mode.py). Then every op is built with
downloads intercepted: every
model file, word list or package an op needs and this machine lacks is named in one message, with
where to place it (sandbox/recipe/resources.py). The copy otherwise differs from the original only in
`text_keys: text`, the field the working pool uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError
from sandbox.recipe.dj import forbid_runtime_installs, register_custom_operators
from sandbox.recipe.ray_mode import check_ray_support, executor_from_env
from sandbox.recipe.recipe_file import (
    OVERRIDDEN_ON_EVERY_RUN,
    SET_BY_WORKFLOW,
    global_key_problems,
    load_recipe,
    write_recipe,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def preflight(recipe_path: Path, process: list) -> None:
    """Data-Juicer's pre-instantiation check, re-raised as InputError naming the recipe."""
    from data_juicer.core.preflight import PipelineConfigError, pre_instantiation_check

    try:
        pre_instantiation_check(process)
    except PipelineConfigError as error:
        raise InputError(
            f"{recipe_path}: Data-Juicer rejects this recipe: {error} "
            "Fix: correct the operator or argument named above (see Data-Juicer's operator docs)."
        ) from None


def check_resources(recipe_path: Path, process: list) -> None:
    """InputError naming every op that needs a model file, word list or package this machine lacks."""
    from sandbox.recipe.resources import missing_resources

    missing = missing_resources(process)
    if not missing:
        return
    ops = sorted({(problem.op_index, problem.op_name) for problem in missing})
    listed = "\n  - ".join(problem.line() for problem in missing)
    raise InputError(
        f"{recipe_path}: {len(ops)} operator(s) need resources this machine does not have "
        f"({', '.join(name for _, name in ops)}); a run never downloads or installs:\n  - {listed}\n"
        "Fix: place each file where named (the file Data-Juicer would download, fetched on a machine "
        "with internet), add the packages, or remove those operators; then rerun."
    )


def data_juicer_keys() -> set[str]:
    """Every global setting Data-Juicer's own config parser knows."""
    from data_juicer.config.config import build_base_parser

    return {action.dest for action in build_base_parser()._actions}


def check_global_keys(recipe_path: Path, recipe: dict) -> dict:
    """The recipe without the keys the workflow sets; InputError naming every refused key."""
    refusals, notes = global_key_problems(recipe, data_juicer_keys())
    if refusals:
        listed = "\n  - ".join(refusals)
        raise InputError(f"{recipe_path}: {len(refusals)} global setting(s) cannot run here:\n  - {listed}")
    for note in notes:
        print(f"{recipe_path}: {note}", file=sys.stderr)
    dropped = set(SET_BY_WORKFLOW) - OVERRIDDEN_ON_EVERY_RUN
    return {key: value for key, value in recipe.items() if key not in dropped}


def main() -> None:
    args = parse_args()
    recipe = check_global_keys(args.recipe, load_recipe(args.recipe))
    forbid_runtime_installs()
    register_custom_operators(recipe)
    preflight(args.recipe, recipe["process"])
    # The first job, so ops the Ray executor cannot run are named before any data step starts.
    if executor_from_env().is_ray:
        check_ray_support(args.recipe, recipe["process"])
    check_resources(args.recipe, recipe["process"])
    recipe["text_keys"] = "text"
    write_recipe(args.out, recipe)
    print(f"{args.recipe}: {len(recipe['process'])} operators checked -> {args.out}")


if __name__ == "__main__":
    run_main(main)
