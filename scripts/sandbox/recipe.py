"""Data-Juicer recipes: load, check op names, and write them back in the format dj-process reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sandbox.jsonl import InputError

Process = list[dict[str, dict[str, Any]]]


def read_yaml(path: Path, kind: str, fix_missing: str) -> Any:
    """Parse a YAML config file; raise InputError naming the file when it is missing or not YAML."""
    if not path.is_file():
        raise InputError(f"{path}: {kind} not found. Fix: {fix_missing}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error}). Fix: repair the {kind} file.") from None


def load_recipe(path: str | Path) -> dict[str, Any]:
    """Parse a recipe YAML and check the shape of its process list; raise InputError otherwise."""
    path = Path(path)
    recipe = read_yaml(path, "recipe", "set `recipe:` in the config to a Data-Juicer recipe YAML.")
    if not isinstance(recipe, dict) or not isinstance(recipe.get("process"), list) or not recipe["process"]:
        raise InputError(
            f"{path}: a recipe needs a non-empty `process:` list of operators. "
            "Fix: write it as in Data-Juicer's recipes, e.g. `process: [{text_length_filter: {min_len: 10}}]`."
        )
    recipe["process"] = [normalise_op_entry(entry, path, index) for index, entry in enumerate(recipe["process"])]
    return recipe


def normalise_op_entry(entry: Any, path: Path, index: int) -> dict[str, dict[str, Any]]:
    """Return {op_name: args} for one process entry, with args {} where the recipe gives none."""
    if isinstance(entry, str):
        return {entry: {}}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise InputError(
            f"{path}: process entry {index + 1} is {entry!r}; each entry must be one operator name "
            "mapping to its arguments. Fix: write it as `- op_name: {arg: value}`."
        )
    (op_name, args), = entry.items()
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise InputError(
            f"{path}: the arguments of operator '{op_name}' (entry {index + 1}) must be a mapping, got {args!r}."
        )
    return {str(op_name): dict(args)}


def op_names(process: Process) -> list[str]:
    """The operator names of a process list, in order."""
    return [next(iter(entry)) for entry in process]


def write_recipe(path: str | Path, recipe: dict[str, Any]) -> None:
    """Write a recipe YAML that dj-process reads unchanged (block style, keys in the given order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False, default_flow_style=False), encoding="utf-8")


def strip_thresholds(process: Process, threshold_args: dict[str, set[str]]) -> Process:
    """The process list without the given threshold arguments of each op (to compare op settings)."""
    stripped: Process = []
    for entry in process:
        (name, args), = entry.items()
        skip = threshold_args.get(name, set())
        stripped.append({name: {key: value for key, value in args.items() if key not in skip}})
    return stripped
