"""W&B sweep-format configs for recipe HPO: parse, check, and decide when a search stops.

Pure Python (no Optuna, no Data-Juicer), so the Snakefile can read a sweep at DAG time. The format
is Weights & Biases' (method, metric, parameters, early_terminate, run_cap), as Data-Juicer's
tools/hpo uses it. Every parameter form W&B's sweep schema defines is accepted: `value`, `values`
(with optional `probabilities`), `min`/`max`, a `distribution` with its own keys (q, mu, sigma, a,
b), and nested `parameters:` blocks. A parameter's name, after nested blocks are flattened to dotted
names, is `op_name.arg_name` (deeper names set keys inside a dict-valued argument). How each
distribution is sampled with Optuna is in sandbox/hpo/study.py. Extras: parallel_trials, target,
patience.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import REGISTRY
from sandbox.recipe.recipe_file import read_yaml
from sandbox.workflow.variants import RECIPE

METHODS = ("random", "grid", "bayes")
# W&B's distributions and the keys each may carry besides `distribution` (its sweep schema,
# wandb/sweeps config/schema.json: every definition there has additionalProperties false).
DISTRIBUTION_KEYS: dict[str, frozenset[str]] = {
    "constant": frozenset({"value"}),
    "categorical": frozenset({"values"}),
    "categorical_w_probabilities": frozenset({"values", "probabilities"}),
    "int_uniform": frozenset({"min", "max"}),
    "uniform": frozenset({"min", "max"}),
    "q_uniform": frozenset({"min", "max", "q"}),
    "log_uniform": frozenset({"min", "max"}),
    "log_uniform_values": frozenset({"min", "max"}),
    "q_log_uniform": frozenset({"min", "max", "q"}),
    "q_log_uniform_values": frozenset({"min", "max", "q"}),
    "inv_log_uniform": frozenset({"min", "max"}),
    "inv_log_uniform_values": frozenset({"min", "max"}),
    "normal": frozenset({"mu", "sigma"}),
    "q_normal": frozenset({"mu", "sigma", "q"}),
    "log_normal": frozenset({"mu", "sigma"}),
    "q_log_normal": frozenset({"mu", "sigma", "q"}),
    "beta": frozenset({"a", "b"}),
    "q_beta": frozenset({"a", "b", "q"}),
}
DISTRIBUTIONS = tuple(DISTRIBUTION_KEYS)
# min/max bound the value itself; for log_uniform, q_log_uniform and inv_log_uniform they are
# natural-log exponents instead (W&B: exp(uniform(min, max)), exp(-uniform(min, max))).
BOUNDED = frozenset(name for name, keys in DISTRIBUTION_KEYS.items() if "min" in keys)
POSITIVE_BOUNDS = frozenset({"log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"})
NORMAL_FAMILY = frozenset({"normal", "q_normal", "log_normal", "q_log_normal"})
BETA_FAMILY = frozenset({"beta", "q_beta"})
# W&B's grid search also takes int_uniform (every integer of min..max) and q_uniform (min, min+q,
# ... below max, as wandb/sweeps grid_search.py builds it); the rest need `values:`.
GRID_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "q_uniform")
# Metrics a trial produces. Model metrics need training; data metrics only processing. A model
# metric may name its proxy model (heldout_bpb@ngram, any name of sandbox.proxies.registry); without one, the
# first configured proxy.
MODEL_METRICS = ("heldout_bpb",)
DATA_METRICS = ("kept_fraction", "docs", "noise_precision", "noise_recall")
TARGET = re.compile(r"^\s*([\w@]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")
COMPARISONS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Parameter:
    """One searched (or fixed) recipe argument, with its W&B distribution's settings.

    `keys` is empty for `op.arg`; a deeper dotted name (from nested `parameters:` blocks) sets
    keys inside the argument's dict value.
    """

    op: str
    arg: str
    distribution: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    q: float | None = None
    mu: float | None = None
    sigma: float | None = None
    a: float | None = None
    b: float | None = None
    probabilities: tuple[float, ...] = ()
    keys: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return ".".join((self.op, self.arg, *self.keys))


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: everything the search needs."""

    path: str
    name: str
    method: str
    metric: str
    goal: str
    parameters: tuple[Parameter, ...]
    run_cap: int
    parallel_trials: int
    target: tuple[str, str, float] | None = None
    patience: int | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def needs_training(self) -> bool:
        return self.metric.split("@")[0] in MODEL_METRICS

    @property
    def proxy(self) -> str | None:
        """The proxy model a model metric names (heldout_bpb@ngram), or None."""
        return self.metric.split("@")[1] if "@" in self.metric else None


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep YAML; raise InputError naming the file and the fix."""
    path = Path(path)
    raw = read_yaml(path, "sweep config", "set `hpo.sweep:` to a W&B sweep-format YAML.")
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a sweep config is a mapping with method, metric and parameters.")
    return parse_sweep(raw, str(path))


def parse_sweep(raw: dict[str, Any], path: str) -> Sweep:
    """Check a sweep mapping read from `path` (named in every error)."""
    method = raw.get("method", "bayes")
    if method not in METHODS:
        raise InputError(f"{path}: unknown method '{method}'. Fix: use one of {', '.join(METHODS)}.")
    metric, goal = parse_metric(raw.get("metric"), path)
    flat = flatten_parameters(raw.get("parameters"), path)
    parameters = tuple(parse_parameter(name, spec, path) for name, spec in flat)
    if not any(parameter.distribution != "constant" for parameter in parameters):
        raise InputError(f"{path}: no parameter to search. Fix: give `parameters:` with values or min/max.")
    if method == "grid":
        parameters = tuple(grid_parameter(parameter, path) for parameter in parameters)
    # Data-Juicer's tools/hpo names these sweep_max_count and sweep_name.
    run_cap = raw.get("run_cap", raw.get("sweep_count", raw.get("sweep_max_count")))
    if method == "grid" and run_cap is None:
        run_cap = math.prod(len(parameter.values) or 1 for parameter in parameters)
    if run_cap is None:
        # W&B runs a sweep without run_cap until it is stopped by hand; a workflow needs a budget
        raise InputError(f"{path}: no `run_cap`. Fix: set `run_cap:` to the number of trials to run.")
    run_cap = positive_int(run_cap, "run_cap", path)
    patience = positive_int(raw["patience"], "patience", path) if raw.get("patience") is not None else None
    target = merge_targets(parse_target(raw.get("target"), metric, path),
                           metric_target(raw.get("metric"), metric, goal, path), path)
    warnings = []
    if raw.get("early_terminate") is not None:
        warnings.append(early_terminate_note(raw["early_terminate"], path, metric, run_cap, target, patience))
    return Sweep(
        path=path,
        name=str(raw.get("name") or raw.get("sweep_name") or Path(path).stem),
        method=method,
        metric=metric,
        goal=goal,
        parameters=parameters,
        run_cap=run_cap,
        parallel_trials=positive_int(raw.get("parallel_trials", 2), "parallel_trials", path),
        target=target,
        patience=patience,
        warnings=tuple(warnings),
    )


def parse_metric(raw: Any, path: str) -> tuple[str, str]:
    metric = raw or {"name": "heldout_bpb", "goal": "minimize"}
    if not isinstance(metric, dict):
        raise InputError(f"{path}: `metric` must be a mapping with name and goal.")
    name, goal = metric.get("name", "heldout_bpb"), metric.get("goal", "minimize")
    known = MODEL_METRICS + tuple(f"{model}@{proxy}" for model in MODEL_METRICS for proxy in REGISTRY)
    if name not in known + DATA_METRICS:
        raise InputError(
            f"{path}: the evaluation produces no metric '{name}'. "
            f"Fix: use one of {', '.join(known + DATA_METRICS)}."
        )
    if goal not in ("minimize", "maximize"):
        raise InputError(f"{path}: metric goal '{goal}' must be minimize or maximize.")
    return name, goal


def metric_target(raw: Any, metric: str, goal: str, path: str) -> tuple[str, str, float] | None:
    """W&B's `metric.target`: no new runs once a run reaches it, i.e. the best value is at or
    below it when minimizing, at or above it when maximizing."""
    if not isinstance(raw, dict) or raw.get("target") is None:
        return None
    value = raw["target"]
    if not is_number(value):
        raise InputError(f"{path}: metric.target must be a number, got {value!r}. Fix: e.g. `target: 2.8`.")
    return metric, "<=" if goal == "minimize" else ">=", float(value)


def merge_targets(top: tuple[str, str, float] | None, wandb: tuple[str, str, float] | None,
                  path: str) -> tuple[str, str, float] | None:
    """One stop target from the top-level `target` and W&B's `metric.target`; both may be given
    only if they say the same thing."""
    if top is not None and wandb is not None and top != wandb:
        raise InputError(
            f"{path}: `target: {top[0]} {top[1]} {top[2]:g}` and `metric.target: {wandb[2]:g}` "
            f"(meaning {wandb[0]} {wandb[1]} {wandb[2]:g}) disagree. Fix: keep one of them."
        )
    return top if top is not None else wandb


def early_terminate_note(raw: Any, path: str, metric: str, run_cap: int,
                         target: tuple[str, str, float] | None, patience: int | None) -> str:
    """What W&B's early_terminate (which kills runs whose intermediate metric lags) does here."""
    kind = raw.get("type", "?") if isinstance(raw, dict) else raw
    rules = [f"run_cap ({run_cap} trials)"]
    if target is not None:
        rules.append(f"target ({target[0]} {target[1]} {target[2]:g})")
    if patience is not None:
        rules.append(f"patience ({patience} trials without improvement)")
    return (f"{path}: early_terminate ({kind}) stops no trial here: a trial reports one final {metric} "
            "when its evaluation ends, with no intermediate values to prune on, so every trial runs to "
            f"the end; the search itself stops at {', '.join(rules)}.")


def flatten_parameters(raw: Any, path: str, prefix: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """W&B's nested `parameters:` blocks flattened to dotted names (op: {parameters: {arg: ...}}
    gives op.arg), in file order."""
    if not isinstance(raw, dict) or not raw:
        where = f"'{'.'.join(prefix)}'" if prefix else "the sweep"
        raise InputError(f"{path}: `parameters:` of {where} must be a non-empty mapping of names to "
                         "settings.")
    flat: list[tuple[str, Any]] = []
    for key, spec in raw.items():
        parts = (*prefix, *str(key).split("."))
        if isinstance(spec, dict) and "parameters" in spec:
            if len(spec) > 1:
                raise InputError(
                    f"{path}: parameter '{'.'.join(parts)}' has `parameters:` and also "
                    f"{', '.join(sorted(set(spec) - {'parameters'}))}. Fix: a nested block holds only "
                    "`parameters:`."
                )
            flat.extend(flatten_parameters(spec["parameters"], path, parts))
        else:
            flat.append((".".join(parts), spec))
    names = [name for name, _ in flat]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise InputError(
            f"{path}: parameter {', '.join(duplicates)} is given twice (dotted and nested). Fix: keep one."
        )
    return flat


def parse_parameter(name: str, spec: Any, path: str) -> Parameter:
    """One flattened entry of `parameters:`, named op_name.arg_name[.key...]."""
    parts = name.split(".")
    if len(parts) < 2 or not all(parts):
        raise InputError(
            f"{path}: parameter '{name}' must name an op and its argument: op_name.arg_name "
            "(e.g. text_length_filter.min_len), "
            "or nest it as `text_length_filter: {parameters: {min_len: ...}}`."
        )
    if not isinstance(spec, dict):
        raise InputError(f"{path}: parameter '{name}' must be a mapping (value, values, min/max, "
                         "distribution).")
    distribution = spec.get("distribution") or infer_distribution(spec)
    if distribution not in DISTRIBUTION_KEYS:
        raise InputError(
            f"{path}: parameter '{name}' has unknown distribution '{distribution}'. "
            f"Fix: use one of {', '.join(DISTRIBUTIONS)}."
        )
    if extra := sorted(set(spec) - DISTRIBUTION_KEYS[distribution] - {"distribution"}):
        raise InputError(
            f"{path}: parameter '{name}' ({distribution}) has keys W&B does not define for it: "
            f"{', '.join(extra)}. Fix: use only {', '.join(sorted(DISTRIBUTION_KEYS[distribution]))}."
        )
    op, arg, *keys = parts
    settings = distribution_settings(name, distribution, spec, path)
    return Parameter(op, arg, distribution, keys=tuple(keys), **settings)


def infer_distribution(spec: dict[str, Any]) -> str:
    """W&B's rule: value -> constant; values -> categorical (with probabilities: weighted);
    int min and max -> int_uniform; else uniform."""
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical_w_probabilities" if "probabilities" in spec else "categorical"
    if isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int):
        return "int_uniform"
    return "uniform"


def distribution_settings(name: str, distribution: str, spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The checked settings of one distribution, W&B's defaults filled in (q 1, mu 0, sigma 1,
    a 1, b 1)."""
    where = f"{path}: parameter '{name}' ({distribution})"
    if distribution == "constant":
        if "value" not in spec:
            raise InputError(f"{where} needs `value:`.")
        return {"values": (spec["value"],)}
    if distribution.startswith("categorical"):
        return categorical_settings(where, distribution, spec)
    settings: dict[str, Any] = {}
    if "q" in DISTRIBUTION_KEYS[distribution]:
        settings["q"] = number(spec.get("q", 1.0), "q", where, positive=True)
    if distribution in BOUNDED:
        if "min" not in spec or "max" not in spec:
            raise InputError(f"{where} needs `min:` and `max:`.")
        low, high = number(spec["min"], "min", where), number(spec["max"], "max", where)
        if low > high:
            raise InputError(f"{path}: parameter '{name}' has min {low} > max {high}. Fix: swap or correct "
                             "them.")
        if distribution in POSITIVE_BOUNDS and low <= 0:
            raise InputError(
                f"{where} is log-distributed over values, so min must be > 0 (got {low}). Fix: a positive "
                "min, or log_uniform, whose min/max are natural-log exponents."
            )
        return {**settings, "low": low, "high": high}
    if distribution in NORMAL_FAMILY:
        return {**settings, "mu": number(spec.get("mu", 0.0), "mu", where),
                "sigma": number(spec.get("sigma", 1.0), "sigma", where, positive=True)}
    return {**settings, "a": number(spec.get("a", 1.0), "a", where, positive=True),
            "b": number(spec.get("b", 1.0), "b", where, positive=True)}


def categorical_settings(where: str, distribution: str, spec: dict[str, Any]) -> dict[str, Any]:
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise InputError(f"{where} needs a non-empty `values:` list.")
    if distribution == "categorical":
        return {"values": tuple(values)}
    probabilities = spec.get("probabilities")
    if (not isinstance(probabilities, list) or len(probabilities) != len(values)
            or not all(is_number(p) and p >= 0 for p in probabilities)
            or not math.isclose(sum(probabilities), 1.0)):
        raise InputError(f"{where} needs `probabilities:`, one number >= 0 per value, summing to 1.")
    return {"values": tuple(values), "probabilities": tuple(float(p) for p in probabilities)}


def grid_parameter(parameter: Parameter, path: str) -> Parameter:
    """A parameter as W&B's grid search sees it: a finite list of values."""
    if parameter.distribution not in GRID_DISTRIBUTIONS:
        raise InputError(
            f"{path}: method 'grid' needs a finite set for every parameter, but '{parameter.name}' is "
            f"{parameter.distribution}. Fix: give it `values:` (grid also takes int_uniform and q_uniform)."
        )
    if parameter.distribution == "int_uniform":
        values = tuple(range(math.ceil(parameter.low), math.floor(parameter.high) + 1))
    elif parameter.distribution == "q_uniform":
        # W&B builds numpy.arange(min, max, q): max is left out, though arange's float error can
        # let it in (arange(0.1, 0.4, 0.1) ends at 0.4); the tolerance keeps it out every time
        count = max(0, math.ceil((parameter.high - parameter.low) / parameter.q - 1e-9))
        step_values = (parameter.low + step * parameter.q for step in range(count))
        # int min and q give ints, as arange does
        exact = isinstance(parameter.low, int) and isinstance(parameter.q, int)
        values = tuple(value if exact else clean(value) for value in step_values) or (parameter.low,)
    else:
        return parameter
    return Parameter(parameter.op, parameter.arg, "categorical", values=values, keys=parameter.keys)


def clean(value: float) -> float:
    """Drop the float noise of min + k*q (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.12g}")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: Any, key: str, where: str, positive: bool = False) -> float:
    if not is_number(value) or not math.isfinite(value) or (positive and value <= 0):
        raise InputError(f"{where}: `{key}` must be a {'positive ' if positive else ''}number, got "
                         f"{value!r}.")
    return value


def positive_int(value: Any, key: str, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{path}: `{key}` must be a positive integer, got {value!r}.")
    return value


def parse_target(raw: Any, metric: str, path: str) -> tuple[str, str, float] | None:
    if raw is None:
        return None
    match = TARGET.match(str(raw))
    if not match or match.group(1) != metric:
        raise InputError(f"{path}: target '{raw}' must read like '{metric} <= 2.9' (the sweep's metric).")
    return match.group(1), match.group(2), float(match.group(3))


def trials_in_round(round_index: int, sweep: Sweep) -> list[int]:
    """Trial numbers of one round: parallel_trials at a time, up to run_cap."""
    first = round_index * sweep.parallel_trials
    return list(range(first, min(first + sweep.parallel_trials, sweep.run_cap)))


def stop_reason(values: list[float], sweep: Sweep) -> str | None:
    """Why the search stops after these finished trials (in trial order), or None to go on."""
    if len(values) >= sweep.run_cap:
        return f"run_cap reached ({sweep.run_cap} trials)"
    if values and sweep.target is not None:
        _, comparison, threshold = sweep.target
        best = best_value(values, sweep)
        if COMPARISONS[comparison](best, threshold):
            return f"target met ({sweep.metric} {comparison} {threshold}: best {best:.6g})"
    if values and sweep.patience is not None:
        best_index = values.index(best_value(values, sweep))
        if len(values) - 1 - best_index >= sweep.patience:
            return f"patience exhausted ({sweep.patience} trials without improvement)"
    return None


def best_value(values: list[float], sweep: Sweep) -> float:
    return min(values) if sweep.goal == "minimize" else max(values)


def trial_metric(evaluation: dict[str, Any], metric: str) -> float:
    """The sweep metric from a trial's eval (of the metric's proxy) or data-metrics JSON; a model
    metric is read on the validation part of the eval split, never on test."""
    metric = metric.split("@")[0]
    if metric in MODEL_METRICS:
        value = evaluation.get("validation_bpb")
    elif metric in ("noise_precision", "noise_recall"):
        value = evaluation.get("noise_removal", {}).get(metric.split("_", 1)[1])
    else:
        value = evaluation.get(metric)
    if value is None:
        raise ValueError(f"trial evaluation has no value for {metric}")
    return float(value)


def study_name(sweep_name: str, base: str) -> str:
    """The Optuna study of a sweep over a base recipe: trials sampled over another base recipe
    (hpo.base) live in a study of their own in the same journal, never mixed with these."""
    return sweep_name if base == RECIPE else f"{sweep_name}@{base}"
