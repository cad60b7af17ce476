"""The mixture regression: validation bpb of the swarm's models as a function of their weights.

loglinear (the default, as Data Mixing Laws and Olmix): log(bpb) = c + sum_i t_i w_i; linear:
bpb = c + sum_i t_i w_i. Both fit by ridge with its regularisation chosen by cross-validation, on the
members that are not held out (datamodels' holdout, every n-th member). The fit is judged out of
sample: the Spearman correlation, over held-out members, of predicted and measured bpb, with a
percentile bootstrap interval over held-out members. Both models are monotone in each weight, so the
best mixture within the caps is the linear programme's: fill the pool with the lowest coefficient to its
cap, then the next (greedy is exact for one budget constraint and box caps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.datamodels.linear import make_estimator, percentile_interval
from sandbox.datamodels.subsets import holdout_models

METHOD = "mixture-regression-v1"
ESTIMATORS = ("loglinear", "linear")


@dataclass
class MixtureFit:
    """A fitted regression: bpb predicted from weights."""

    estimator: str
    intercept: float
    coefficients: np.ndarray
    regularisation: float

    def predict(self, weights: np.ndarray) -> np.ndarray:
        value = self.intercept + np.asarray(weights, dtype=float) @ self.coefficients
        return np.exp(value) if self.estimator == "loglinear" else value


def fit_regression(estimator: str, weights: np.ndarray, bpb: np.ndarray) -> MixtureFit:
    """Ridge (alpha by cross-validation) of log(bpb) or bpb on the weights."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown mixture estimator {estimator!r}: use one of {ESTIMATORS}")
    target = np.log(bpb) if estimator == "loglinear" else np.asarray(bpb, dtype=float)
    model = make_estimator("ridge").fit(np.asarray(weights, dtype=float), target)
    return MixtureFit(estimator, float(model.intercept_), np.asarray(model.coef_, dtype=float),
                      float(np.mean(model.alpha_)))


def best_within_caps(coefficients: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Weights summing to 1, each within its cap, that minimise sum_i t_i w_i: the lowest coefficients'
    pools filled first."""
    if caps.sum() < 1 - 1e-12:
        raise ValueError("the pools together hold less than the budget")
    weights = np.zeros(len(coefficients))
    left = 1.0
    for position in np.argsort(coefficients, kind="stable"):
        weights[position] = min(caps[position], left)
        left -= weights[position]
        if left <= 1e-12:
            break
    return weights


def spearman_rows(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row's predicted vs actual values (NaN where a row is constant)."""
    from scipy.stats import rankdata

    predicted_ranks = rankdata(predicted, axis=1)
    actual_ranks = rankdata(actual, axis=1)
    predicted_ranks -= predicted_ranks.mean(axis=1, keepdims=True)
    actual_ranks -= actual_ranks.mean(axis=1, keepdims=True)
    numerator = (predicted_ranks * actual_ranks).sum(axis=1)
    denominator = np.sqrt((predicted_ranks ** 2).sum(axis=1) * (actual_ranks ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def out_of_sample(predicted: np.ndarray, actual: np.ndarray, samples: int, confidence: float,
                  seed: int) -> dict[str, Any]:
    """Spearman of predicted vs measured over held-out members, with a percentile bootstrap interval
    over members (tests/unit/test_mixture.py measures its coverage)."""
    drawn = np.random.default_rng(seed).integers(0, len(actual), (samples, len(actual)))
    values = spearman_rows(predicted[drawn], actual[drawn])
    values = values[np.isfinite(values)]
    low, high = percentile_interval(values, confidence) if len(values) else (np.nan, np.nan)
    point = float(spearman_rows(predicted[None], actual[None])[0])
    return {"spearman": point, "interval": [float(low), float(high)], "members": int(len(actual)),
            "mean_absolute_error_bpb": float(np.mean(np.abs(predicted - actual))),
            "bootstrap": {"samples": samples, "confidence": confidence, "over": "held-out members"}}


def analyse(weights: np.ndarray, bpb: np.ndarray, names: list[str], caps: np.ndarray, natural: np.ndarray,
            estimator: str, holdout_every: int, samples: int, confidence: float,
            seed: int) -> dict[str, Any]:
    """The fit, its out-of-sample rank correlation, and the best mixture within the caps."""
    usable = np.isfinite(bpb)
    held_out = holdout_models(len(bpb), holdout_every) & usable
    training = ~holdout_models(len(bpb), holdout_every) & usable
    if training.sum() < len(names) + 2 or held_out.sum() < 3:
        raise ValueError(f"{int(training.sum())} training and {int(held_out.sum())} held-out swarm members "
                         f"are too few for {len(names)} pools. Fix: raise pools.swarm.members")
    fitted = fit_regression(estimator, weights[training], bpb[training])
    predicted_held_out = fitted.predict(weights[held_out])
    check = out_of_sample(predicted_held_out, bpb[held_out], samples, confidence, seed)
    check["points"] = {"predicted": predicted_held_out.tolist(), "measured": bpb[held_out].tolist()}
    best = best_within_caps(fitted.coefficients, caps)
    uniform = np.full(len(names), 1.0 / len(names))
    return {
        "method": METHOD, "estimator": estimator, "regularisation": fitted.regularisation,
        "intercept": fitted.intercept,
        "members": {"total": int(len(bpb)), "usable": int(usable.sum()), "training": int(training.sum()),
                    "held_out": int(held_out.sum())},
        "out_of_sample": check,
        # swarm_max: the largest weight the swarm tried, beyond which the fit extrapolates
        "pools": [{"pool": name, "coefficient": float(coefficient), "cap": float(cap),
                   "natural": float(share), "weight": float(weight), "swarm_max": float(tried)}
                  for name, coefficient, cap, share, weight, tried
                  in zip(names, fitted.coefficients, caps, natural, best, weights[usable].max(axis=0))],
        "predicted_bpb": {"mixture": float(fitted.predict(best[None])[0]),
                          "natural": float(fitted.predict(natural[None])[0]),
                          "uniform": float(fitted.predict(uniform[None])[0])},
        "swarm_bpb": {"min": float(np.nanmin(bpb)), "median": float(np.nanmedian(bpb)),
                      "max": float(np.nanmax(bpb))},
    }
