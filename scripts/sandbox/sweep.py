"""W&B sweep-format configs for recipe HPO: parse, check, and decide when a search stops.

Pure Python (no Optuna, no Data-Juicer), so the Snakefile can read a sweep at DAG time. The format
is Weights & Biases' (method, metric, parameters, run_cap), as Data-Juicer's tools/hpo uses it;
parameters are named `op_name.arg_name` after the recipe's ops. Extras: parallel_trials, target,
patience.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.jsonl import InputError
from sandbox.recipe import read_yaml

METHODS = ("random", "grid", "bayes")
DISTRIBUTIONS = ("uniform", "int_uniform", "log_uniform_values", "q_uniform", "q_log_uniform_values",
                 "normal", "categorical", "constant")
# Metrics a trial produces. Model metrics need training; data metrics only processing. A model
# metric may name its proxy model (heldout_bpb@ngram); without one, the first configured proxy.
MODEL_METRICS = ("heldout_bpb",)
PROXY_MODELS = ("ngram", "gpt", "command", "hf")
DATA_METRICS = ("kept_fraction", "docs", "noise_precision", "noise_recall")
TARGET = re.compile(r"^\s*([\w@]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")
COMPARISONS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Parameter:
    """One searched (or fixed) recipe argument."""

    op: str
    arg: str
    distribution: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    q: float | None = None
    mu: float | None = None
    sigma: float | None = None

    @property
    def name(self) -> str:
        return f"{self.op}.{self.arg}"


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
    method = raw.get("method", "bayes")
    if method not in METHODS:
        raise InputError(f"{path}: unknown method '{method}'. Fix: use one of {', '.join(METHODS)}.")
    metric, goal = parse_metric(raw.get("metric"), path)
    parameters = tuple(parse_parameter(name, spec, path) for name, spec in (raw.get("parameters") or {}).items())
    if not any(parameter.distribution != "constant" for parameter in parameters):
        raise InputError(f"{path}: no parameter to search. Fix: give `parameters:` with values or min/max.")
    if method == "grid":
        for parameter in parameters:
            if parameter.distribution not in ("categorical", "constant"):
                raise InputError(
                    f"{path}: method 'grid' needs a finite set for every parameter, but "
                    f"'{parameter.name}' is continuous ({parameter.distribution}). Fix: give it `values:`."
                )
    # Data-Juicer's tools/hpo names these sweep_max_count and sweep_name.
    run_cap = raw.get("run_cap", raw.get("sweep_count", raw.get("sweep_max_count")))
    if method == "grid" and run_cap is None:
        run_cap = math.prod(len(parameter.values) or 1 for parameter in parameters)
    run_cap = positive_int(run_cap, "run_cap", path)
    parallel = positive_int(raw.get("parallel_trials", 2), "parallel_trials", path)
    warnings = []
    if "early_terminate" in raw:
        warnings.append(f"{path}: early_terminate is ignored (every trial runs to the end of its budget).")
    return Sweep(
        path=path,
        name=str(raw.get("name") or raw.get("sweep_name") or Path(path).stem),
        method=method,
        metric=metric,
        goal=goal,
        parameters=parameters,
        run_cap=run_cap,
        parallel_trials=parallel,
        target=parse_target(raw.get("target"), metric, path),
        patience=positive_int(raw["patience"], "patience", path) if raw.get("patience") is not None else None,
        warnings=tuple(warnings),
    )


def parse_metric(raw: Any, path: str) -> tuple[str, str]:
    metric = raw or {"name": "heldout_bpb", "goal": "minimize"}
    if not isinstance(metric, dict):
        raise InputError(f"{path}: `metric` must be a mapping with name and goal.")
    name, goal = metric.get("name", "heldout_bpb"), metric.get("goal", "minimize")
    known = MODEL_METRICS + tuple(f"{model}@{proxy}" for model in MODEL_METRICS for proxy in PROXY_MODELS)
    if name not in known + DATA_METRICS:
        raise InputError(
            f"{path}: the evaluation produces no metric '{name}'. "
            f"Fix: use one of {', '.join(known + DATA_METRICS)}."
        )
    if goal not in ("minimize", "maximize"):
        raise InputError(f"{path}: metric goal '{goal}' must be minimize or maximize.")
    return name, goal


def parse_parameter(name: str, spec: Any, path: str) -> Parameter:
    """One entry of `parameters:`, named op_name.arg_name."""
    if name.count(".") != 1:
        raise InputError(f"{path}: parameter '{name}' must be named op_name.arg_name, e.g. text_length_filter.min_len.")
    op, arg = name.split(".")
    if not isinstance(spec, dict):
        raise InputError(f"{path}: parameter '{name}' must be a mapping (value, values, min/max, distribution).")
    if "value" in spec:
        return Parameter(op, arg, "constant", values=(spec["value"],))
    distribution = spec.get("distribution") or infer_distribution(spec)
    if distribution not in DISTRIBUTIONS:
        raise InputError(
            f"{path}: parameter '{name}' has unknown distribution '{distribution}'. "
            f"Fix: use one of {', '.join(DISTRIBUTIONS)}."
        )
    if distribution == "categorical" or "values" in spec:
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise InputError(f"{path}: parameter '{name}' needs a non-empty `values:` list.")
        return Parameter(op, arg, "categorical", values=tuple(values))
    if distribution == "normal":
        return Parameter(op, arg, "normal", mu=float(spec.get("mu", 0.0)), sigma=float(spec.get("sigma", 1.0)))
    if "min" not in spec or "max" not in spec:
        raise InputError(f"{path}: parameter '{name}' ({distribution}) needs `min:` and `max:`.")
    low, high = spec["min"], spec["max"]
    if low > high:
        raise InputError(f"{path}: parameter '{name}' has min {low} > max {high}. Fix: swap or correct them.")
    if distribution.startswith("log") or distribution.startswith("q_log"):
        if low <= 0:
            raise InputError(f"{path}: parameter '{name}' is log-distributed, so min must be > 0 (got {low}).")
    return Parameter(op, arg, distribution, low=low, high=high, q=spec.get("q"))


def infer_distribution(spec: dict[str, Any]) -> str:
    """W&B's rule: values -> categorical; int min and max -> int_uniform; else uniform."""
    if "values" in spec:
        return "categorical"
    if isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int):
        return "int_uniform"
    return "uniform"


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
    """The sweep metric from a trial's eval (of the metric's proxy) or data-metrics JSON."""
    metric = metric.split("@")[0]
    if metric in ("noise_precision", "noise_recall"):
        value = evaluation.get("noise_removal", {}).get(metric.split("_", 1)[1])
    else:
        value = evaluation.get(metric)
    if value is None:
        raise ValueError(f"trial evaluation has no value for {metric}")
    return float(value)
