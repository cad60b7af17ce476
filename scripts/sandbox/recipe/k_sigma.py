"""k-sigma refinement: each filter's min/max threshold becomes mean -/+ k*std of the stat it filters on.

Same idea as Data-Juicer's tools/hpo k-sigma tool, done correctly: only numeric `min_*`/`max_*`
arguments of an op that computes exactly one stat are touched (never `min_closed_interval` and the
like), int-typed arguments get ints rounded inward, ratios are clamped to [0, 1] and every other
stat to >= 0. Ops whose stat is absent from the analysis (mappers, deduplicators) are left alone.
"""

from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass
from typing import Any

from sandbox.recipe.op_args import ThresholdArg, stat_keys_of, threshold_args_of  # noqa: F401 (re-exported)
from sandbox.recipe.recipe_file import Process

# Stats that are shares of a whole; every other Data-Juicer text stat is a count, length or score >= 0.
RATIO_SUFFIXES = ("_ratio",)


@dataclass(frozen=True)
class Change:
    """One refined threshold, for the old -> new table."""

    op_index: int
    op_name: str
    arg: str
    stat: str
    mean: float
    std: float
    old: Any
    new: Any
    clamped: bool


def refined_value(mean: float, std: float, k: float, arg: ThresholdArg,
                  stat: str) -> tuple[float | int, bool]:
    """mean -/+ k*std for one bound, clamped to the stat's valid range and typed like the argument."""
    raw = mean - k * std if arg.bound == "min" else mean + k * std
    low, high = (0.0, 1.0) if stat.endswith(RATIO_SUFFIXES) else (0.0, math.inf)
    value = min(max(raw, low), high)
    clamped = value != raw
    if arg.is_int:
        # Round inward: never widen the interval beyond mean -/+ k*std.
        value = math.ceil(value) if arg.bound == "min" else math.floor(value)
    return value, clamped


def refine_process(process: Process, overall: dict[str, dict[str, float]], k: float,
                   op_classes: dict[str, type],
                   op_stats: dict[int, list[str]]) -> tuple[Process, list[Change]]:
    """Return the refined process list and the table of changes.

    overall maps stat -> {"mean": ..., "std": ...}; op_stats maps process index -> stat keys the
    op computes. Only ops with exactly one stat present in `overall` are refined.
    """
    refined = copy.deepcopy(process)
    changes: list[Change] = []
    for index, entry in enumerate(refined):
        (name, args), = entry.items()
        stats = [stat for stat in op_stats.get(index, []) if stat in overall]
        if len(stats) != 1:
            continue
        stat = stats[0]
        mean, std = float(overall[stat]["mean"]), float(overall[stat]["std"])
        if not (math.isfinite(mean) and math.isfinite(std)):
            continue
        defaults = inspect.signature(op_classes[name].__init__).parameters
        new_values: dict[str, tuple[Any, bool]] = {}
        for arg in threshold_args_of(op_classes[name]):
            new_values[arg.name] = refined_value(mean, std, k, arg, stat)
        keep_interval_nonempty(new_values, threshold_args_of(op_classes[name]))
        for arg_name, (value, clamped) in new_values.items():
            old = args.get(arg_name, defaults[arg_name].default)
            args[arg_name] = value
            changes.append(Change(index, name, arg_name, stat, mean, std, old, value, clamped))
    return refined, changes


def keep_interval_nonempty(values: dict[str, tuple[Any, bool]], args: list[ThresholdArg]) -> None:
    """When inward rounding of a zero-width interval crosses min over max, round outward instead."""
    mins = [arg for arg in args if arg.bound == "min"]
    maxs = [arg for arg in args if arg.bound == "max"]
    if len(mins) != 1 or len(maxs) != 1:
        return
    low_arg, high_arg = mins[0], maxs[0]
    low, low_clamped = values[low_arg.name]
    high, high_clamped = values[high_arg.name]
    if low > high and low_arg.is_int and high_arg.is_int:
        values[low_arg.name] = (math.floor((low + high) / 2), low_clamped)
        values[high_arg.name] = (math.ceil((low + high) / 2), high_clamped)
