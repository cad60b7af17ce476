"""Checks of a sweep against the recipe it searches and Data-Juicer's operators (hpo_check.py).

Apart from sandbox/hpo/sweep.py, which stays free of Data-Juicer so the Snakefile can read a sweep at
DAG time.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from sandbox.hpo.sweep import Sweep
from sandbox.io.jsonl import InputError
from sandbox.recipe.op_args import is_int_parameter


def int_arguments(sweep: Sweep, recipe_ops: list[str], path: Path) -> list[str]:
    """Names (op.arg) of int-typed parameters; InputError for an unknown op or argument."""
    from data_juicer.ops import OPERATORS

    int_names = []
    for parameter in sweep.parameters:
        if parameter.op not in recipe_ops:
            raise InputError(
                f"{path}: parameter '{parameter.name}' names op '{parameter.op}', which the recipe does not "
                f"have (its ops: {', '.join(recipe_ops)}). Fix: name an op of the recipe."
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


def check_dict_arguments(sweep: Sweep, recipe: dict[str, Any], path: Path) -> None:
    """A nested parameter (op.arg.key) sets a key inside arg's dict: the recipe's arg must be a
    dict or unset, never a scalar the trial would overwrite."""
    for parameter in sweep.parameters:
        if not parameter.keys:
            continue
        for entry in recipe["process"]:
            current = (entry.get(parameter.op) or {}).get(parameter.arg)
            if current is not None and not isinstance(current, dict):
                argument = f"{parameter.op}.{parameter.arg}"
                raise InputError(
                    f"{path}: parameter '{parameter.name}' sets key '{'.'.join(parameter.keys)}' inside "
                    f"'{argument}', but the recipe sets that argument to {current!r}, not a mapping. "
                    f"Fix: search '{argument}' itself, or make it a mapping in the recipe."
                )
