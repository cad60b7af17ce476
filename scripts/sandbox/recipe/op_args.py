"""Which arguments of a Data-Juicer op are thresholds, and which stats the op writes.

Shared by the k-sigma refinement (sandbox/recipe/k_sigma.py), the mask path (sandbox/recipe/masks.py), the
removal
counts (sandbox/recipe/removals.py) and the sweep check (sandbox/hpo/sweep_check.py); kept apart from the
refinement so that editing the refinement reruns only refine_k_sigma and what follows.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThresholdArg:
    """One threshold argument of one op: which bound it sets and its declared type."""

    name: str
    bound: str  # "min" or "max"
    is_int: bool


def threshold_args_of(op_class: type) -> list[ThresholdArg]:
    """The numeric min_*/max_* arguments of an op's constructor."""
    found: list[ThresholdArg] = []
    for name, parameter in inspect.signature(op_class.__init__).parameters.items():
        bound = name.split("_", 1)[0]
        if bound not in ("min", "max") or "_" not in name:
            continue
        if not is_numeric_parameter(parameter):
            continue
        found.append(ThresholdArg(name=name, bound=bound, is_int=is_int_parameter(parameter)))
    return found


def is_numeric_parameter(parameter: inspect.Parameter) -> bool:
    """True for int/float-typed parameters (bools such as min_closed_interval excluded)."""
    default = parameter.default
    if isinstance(default, bool):
        return False
    annotation = parameter.annotation
    if annotation is bool:
        return False
    if isinstance(default, (int, float)):
        return True
    return annotation in (int, float) or is_int_parameter(parameter)


def is_int_parameter(parameter: inspect.Parameter) -> bool:
    """True when the parameter is declared as an int (pydantic's PositiveInt/NonNegativeInt included)."""
    annotation = parameter.annotation
    if annotation is int:
        return True
    # PositiveInt and friends are Annotated[int, ...], whose __origin__ is int.
    return getattr(annotation, "__origin__", None) is int


def stat_keys_of(op: Any) -> list[str]:
    """The stat keys an instantiated filter op writes, found by computing stats on one dummy sample."""
    from data_juicer.utils.constant import Fields

    text = "A short sample sentence for probing which stats an operator computes."
    if op.is_batched_op():
        sample = {op.text_key: [text], Fields.stats: [{}]}
        stats = op.compute_stats(sample)[Fields.stats][0]
    else:
        stats = op.compute_stats({op.text_key: text, Fields.stats: {}})[Fields.stats]
    return sorted(stats)
