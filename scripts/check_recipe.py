"""Check a Data-Juicer recipe before any data is touched, and write the copy the workflow runs.

Data-Juicer's own preflight check validates operator names, argument names and argument types;
its errors are reported here with the recipe's path. The copy differs from the original only in
`text_keys: text`, the field the working pool uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.jsonl import InputError  # noqa: E402
from sandbox.recipe import load_recipe, write_recipe  # noqa: E402


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


def main() -> None:
    args = parse_args()
    recipe = load_recipe(args.recipe)
    preflight(args.recipe, recipe["process"])
    recipe["text_keys"] = "text"
    write_recipe(args.out, recipe)
    print(f"{args.recipe}: {len(recipe['process'])} operators checked -> {args.out}")


if __name__ == "__main__":
    run_main(main)
