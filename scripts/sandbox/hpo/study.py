"""The Optuna side of recipe HPO: one study per sweep in a journal file, sampled trial by trial.

Trials are numbered by the workflow (0, 1, ...) and each Optuna trial carries that number as the
user attribute `sandbox_trial`, so asking or telling again after an interruption finds the same
trial instead of making a new one.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from sandbox.hpo.sweep import study_name  # noqa: F401 (its callers read it here too)

TRIAL_ATTR = "sandbox_trial"
# Distributions Optuna lacks are searched as a quantile u in (0, 1) and mapped through their
# inverse CDF, so every sampler (TPE included) works on a bounded space; the edge keeps the
# normal's and log-normal's inverse CDF finite (|z| <= 4.75 sigma).
QUANTILE_EDGE = 1e-6
QUANTILE_DISTRIBUTIONS = frozenset({"normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta",
                                    "categorical_w_probabilities"})


def open_study(journal: Path, sweep: dict[str, Any], sampler_seed: int, trial: int = 0) -> optuna.Study:
    """The sweep's study, created on first use; the sampler follows the sweep's method.

    Each trial is asked in a fresh process, and a random or TPE sampler seeded alike in every
    process would draw the same start-up trial every time, so their seed includes the trial number.
    GridSampler's seed orders the grid, which must be the same in every process.
    """
    journal.parent.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    return optuna.create_study(
        study_name=sweep["name"],
        storage=storage,
        sampler=make_sampler(sweep, sampler_seed if sweep["method"] == "grid" else sampler_seed + trial),
        direction="minimize" if sweep["goal"] == "minimize" else "maximize",
        load_if_exists=True,
    )


def make_sampler(sweep: dict[str, Any], seed: int) -> optuna.samplers.BaseSampler:
    if sweep["method"] == "grid":
        space = {parameter_name(p): list(p["values"]) for p in sweep["parameters"]
                 if p["distribution"] == "categorical"}
        return optuna.samplers.GridSampler(space, seed=seed)
    if sweep["method"] == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # bayes: TPE after a few random trials; constant_liar keeps parallel asks apart.
    startup = max(2, min(10, sweep["run_cap"] // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True)


def parameter_name(parameter: dict[str, Any]) -> str:
    """A sweep.json parameter's dotted name: op.arg, then any keys inside a dict argument."""
    return ".".join((parameter["op"], parameter["arg"], *parameter.get("keys", ())))


def distribution_of(parameter: dict[str, Any], is_int: bool) -> BaseDistribution | None:
    """The Optuna distribution a W&B parameter is sampled from (None for a constant).

    W&B's semantics (wandb/sweeps params.py, HyperParameter.ppf) and how each maps onto Optuna:
      categorical                 CategoricalDistribution(values)
      int_uniform                 IntDistribution(min, max)
      uniform                     FloatDistribution(min, max) (IntDistribution for an int argument)
      q_uniform                   FloatDistribution(min, max), then round(x / q) * q
      log_uniform                 exp(uniform(min, max)): min/max are natural-log exponents, so
                                  FloatDistribution(e^min, e^max, log=True), the same law
      log_uniform_values          FloatDistribution(min, max, log=True)
      q_log_uniform(_values)      as log_uniform(_values), then round(x / q) * q
      inv_log_uniform             exp(-uniform(min, max)): log(1/x) uniform in [min, max], so
                                  FloatDistribution(e^-max, e^-min, log=True)
      inv_log_uniform_values      log(1/x) uniform in [log(1/max), log(1/min)]: the same law as
                                  log_uniform_values, FloatDistribution(min, max, log=True)
      normal, log_normal, beta,   Optuna has no such distributions: a quantile u is sampled from
      their q_ variants,          FloatDistribution(QUANTILE_EDGE, 1 - QUANTILE_EDGE) and mapped
      categorical_w_probabilities through the inverse CDF (recipe_value), which keeps every
                                  sampler on a bounded space and gives W&B's law under random
                                  search; q_ variants then round to multiples of q
    The value written into the recipe (and recorded as the trial's parameter) is recipe_value's.
    """
    kind = parameter["distribution"]
    low, high = parameter.get("low"), parameter.get("high")
    if kind == "constant":
        return None
    if kind == "categorical":
        return CategoricalDistribution(list(parameter["values"]))
    if kind in QUANTILE_DISTRIBUTIONS:
        return FloatDistribution(QUANTILE_EDGE, 1 - QUANTILE_EDGE)
    if kind == "int_uniform" or (kind == "uniform" and is_int):
        return IntDistribution(math.ceil(low), math.floor(high))
    if kind in ("uniform", "q_uniform"):
        return FloatDistribution(low, high)
    if kind in ("log_uniform", "q_log_uniform"):
        return FloatDistribution(math.exp(low), math.exp(high), log=True)
    if kind == "inv_log_uniform":
        return FloatDistribution(math.exp(-high), math.exp(-low), log=True)
    if kind in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        return FloatDistribution(low, high, log=True)
    raise ValueError(f"unsupported distribution {kind}")


def recipe_value(parameter: dict[str, Any], sampled: Any, is_int: bool) -> Any:
    """The value written into the recipe for one sampled parameter (see distribution_of)."""
    kind = parameter["distribution"]
    if kind == "constant":
        value = parameter["values"][0]
    elif kind in QUANTILE_DISTRIBUTIONS:
        value = from_quantile(parameter, sampled)
    else:
        value = sampled
    if kind.startswith("q_"):
        value = quantize(value, parameter.get("q") or 1.0)
    if is_int and isinstance(value, float):
        value = int(round(value))
    return value


def from_quantile(parameter: dict[str, Any], u: float) -> Any:
    """The value at quantile u of a distribution Optuna lacks (its inverse CDF, as W&B's ppf)."""
    from scipy import stats  # only these distributions need it

    kind = parameter["distribution"].removeprefix("q_")
    if kind == "categorical_w_probabilities":
        # the first value whose cumulative probability exceeds u
        cumulative = itertools.accumulate(parameter["probabilities"])
        index = next((i for i, total in enumerate(cumulative) if u < total), len(parameter["values"]) - 1)
        return parameter["values"][index]
    if kind == "normal":
        return float(stats.norm.ppf(u, loc=parameter["mu"], scale=parameter["sigma"]))
    if kind == "log_normal":
        return float(stats.lognorm.ppf(u, s=parameter["sigma"], scale=math.exp(parameter["mu"])))
    if kind == "beta":
        return float(stats.beta.ppf(u, parameter["a"], parameter["b"]))
    raise ValueError(f"no quantile mapping for {parameter['distribution']}")


def quantize(value: float, q: float) -> float | int:
    """W&B's q_ rounding, round(x / q) * q; an int q gives ints, and float noise is dropped
    (0.30000000000000004 -> 0.3)."""
    steps = round(value / q)
    if isinstance(q, int):
        return int(steps * q)
    return float(f"{steps * q:.12g}")


def find_trial(study: optuna.Study, number: int) -> FrozenTrial | None:
    """The Optuna trial that carries this workflow trial number, if any."""
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(TRIAL_ATTR) == number:
            return trial
    return None


def ask(study: optuna.Study, number: int, distributions: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Sampled values of a workflow trial: the existing ones if it was asked before."""
    existing = find_trial(study, number)
    if existing is not None:
        return dict(existing.params)
    trial = study.ask(distributions)
    trial.set_user_attr(TRIAL_ATTR, number)
    return dict(trial.params)


def tell(study: optuna.Study, number: int, value: float) -> None:
    """Report a trial's metric once; telling a finished trial again changes nothing."""
    trial = find_trial(study, number)
    if trial is None:
        raise ValueError(f"trial {number} was never asked in study {study.study_name}")
    if trial.state != TrialState.RUNNING:
        return
    try:
        study.tell(trial.number, value)
    except RuntimeError as error:
        # GridSampler calls study.stop() once the grid is exhausted, which only works inside
        # study.optimize; the value is stored before that, and the workflow decides when to stop.
        if "Study.stop" not in str(error):
            raise
