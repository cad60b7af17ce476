"""The Optuna side of recipe HPO: one study per sweep in a journal file, sampled trial by trial.

Trials are numbered by the workflow (0, 1, ...) and each Optuna trial carries that number as the
user attribute `sandbox_trial`, so asking or telling again after an interruption finds the same
trial instead of making a new one.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

TRIAL_ATTR = "sandbox_trial"
# normal-distributed parameters are searched as a quantile u in (0, 1) and mapped through the
# inverse normal CDF, so every sampler (TPE included) works on a bounded space.
QUANTILE_EDGE = 1e-6


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
        space = {p["op"] + "." + p["arg"]: list(p["values"]) for p in sweep["parameters"]
                 if p["distribution"] == "categorical"}
        return optuna.samplers.GridSampler(space, seed=seed)
    if sweep["method"] == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # bayes: TPE after a few random trials; constant_liar keeps parallel asks apart.
    startup = max(2, min(10, sweep["run_cap"] // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True)


def distribution_of(parameter: dict[str, Any], is_int: bool) -> BaseDistribution | None:
    """The Optuna distribution a W&B parameter is sampled from (None for a constant)."""
    kind = parameter["distribution"]
    low, high = parameter["low"], parameter["high"]
    if kind == "constant":
        return None
    if kind == "categorical":
        return CategoricalDistribution(list(parameter["values"]))
    if kind == "normal":
        return FloatDistribution(QUANTILE_EDGE, 1 - QUANTILE_EDGE)
    if kind == "int_uniform" or (kind == "uniform" and is_int):
        return IntDistribution(math.ceil(low), math.floor(high))
    if kind == "uniform":
        return FloatDistribution(low, high)
    if kind == "log_uniform_values":
        return FloatDistribution(low, high, log=True)
    if kind == "q_uniform":
        return FloatDistribution(low, high, step=parameter["q"] or 1.0)
    if kind == "q_log_uniform_values":
        # Optuna has no stepped log distribution: sample log-uniformly, round to q afterwards.
        return FloatDistribution(low, high, log=True)
    raise ValueError(f"unsupported distribution {kind}")


def recipe_value(parameter: dict[str, Any], sampled: Any, is_int: bool) -> Any:
    """The value written into the recipe for one sampled parameter."""
    kind = parameter["distribution"]
    if kind == "constant":
        value = parameter["values"][0]
    elif kind == "normal":
        value = statistics.NormalDist(parameter["mu"], parameter["sigma"]).inv_cdf(sampled)
    elif kind == "q_log_uniform_values":
        q = parameter["q"] or 1.0
        value = round(sampled / q) * q
    else:
        value = sampled
    if is_int and isinstance(value, float):
        value = int(round(value))
    return value


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
