"""Linear datamodels on a datamodels store: which groups (operators or sources) matter.

Two fits from each model's 0/1 group vector, on the models not held out: to the whole eval set's
held-out bpb (a coefficient is the bpb a group adds when switched on, others fixed; an interval from
refitting on models resampled with replacement), and to each eval document's bits per byte. The
linear datamodeling score (LDS) is the Spearman correlation, over the held-out models, between
predicted and actual output, averaged over eval documents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sandbox.datamodels.subsets import Store, holdout_models, usable_models

METHOD = "datamodels-linear-v1"


def make_estimator(kind: str, alpha: float | None = None, multi_output: bool = False) -> Any:
    """A scikit-learn linear model: with alpha None, its cross-validated variant."""
    from sklearn.linear_model import Lasso, LassoCV, MultiTaskLasso, MultiTaskLassoCV, Ridge, RidgeCV

    alphas = np.logspace(-6, 3, 28)
    if kind == "ridge":
        return RidgeCV(alphas=alphas) if alpha is None else Ridge(alpha=alpha)
    if kind == "lasso":
        if multi_output:
            if alpha is None:
                return MultiTaskLassoCV(cv=5, max_iter=20000)
            return MultiTaskLasso(alpha=alpha, max_iter=20000)
        return LassoCV(cv=5, max_iter=20000) if alpha is None else Lasso(alpha=alpha, max_iter=20000)
    raise ValueError(f"unknown estimator {kind!r}: use ridge or lasso")


def fit(kind: str, masks: np.ndarray, outputs: np.ndarray) -> Any:
    """The cross-validated linear datamodel from 0/1 masks (M x G) to outputs (M or M x E)."""
    return make_estimator(kind, multi_output=outputs.ndim == 2).fit(masks.astype(float), outputs)


def chosen_alpha(model: Any) -> float:
    return float(np.mean(model.alpha_))


def bootstrap_effects(kind: str, alpha: float, masks: np.ndarray, outputs: np.ndarray, samples: int,
                      seed: int) -> np.ndarray:
    """Coefficients refitted (at the chosen alpha) on models resampled with replacement: samples x G."""
    rng = np.random.default_rng(seed)
    effects = np.empty((samples, masks.shape[1]))
    for sample in range(samples):
        drawn = rng.integers(0, len(masks), len(masks))
        effects[sample] = make_estimator(kind, alpha).fit(masks[drawn].astype(float), outputs[drawn]).coef_
    return effects


def rank_columns(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(values, axis=0)


def spearman_per_column(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column's predicted vs actual values (NaN for a constant column)."""
    predicted_ranks = rank_columns(predicted) - (len(predicted) + 1) / 2
    actual_ranks = rank_columns(actual) - (len(actual) + 1) / 2
    numerator = (predicted_ranks * actual_ranks).sum(axis=0)
    denominator = np.sqrt((predicted_ranks ** 2).sum(axis=0) * (actual_ranks ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def linear_datamodeling_score(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, int]:
    """LDS: Spearman correlation over held-out subsets between predicted and actual output, averaged
    over eval documents (columns); also how many documents entered the average (constant ones do not)."""
    correlations = spearman_per_column(predicted.reshape(len(predicted), -1), actual.reshape(len(actual), -1))
    finite = correlations[np.isfinite(correlations)]
    return (float(finite.mean()) if len(finite) else float("nan")), int(len(finite))


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - confidence) / 2 * 100
    return np.percentile(values, tail, axis=0), np.percentile(values, 100 - tail, axis=0)


def analyse(store: Store, estimator: str, holdout_every: int, samples: int, confidence: float,
            seed: int) -> dict[str, Any]:
    """Effects with intervals, LDS on held-out models, and the sizes they rest on."""
    usable = usable_models(np.asarray(store.bpb))
    held_out = holdout_models(len(store.bpb), holdout_every) & usable
    training = ~holdout_models(len(store.bpb), holdout_every) & usable
    masks, bpb = np.asarray(store.masks), np.asarray(store.bpb)
    margins = np.asarray(store.margins, dtype=float)
    if training.sum() < 4 or held_out.sum() < 3:
        raise ValueError(f"{int(training.sum())} training and {int(held_out.sum())} held-out models are too "
                         "few; raise datamodels.models")
    documents = np.all(np.isfinite(margins[usable]), axis=0)
    mean_model = fit(estimator, masks[training], bpb[training])
    alpha = chosen_alpha(mean_model)
    effects = bootstrap_effects(estimator, alpha, masks[training], bpb[training], samples, seed)
    low, high = percentile_interval(effects, confidence)
    mean_lds, _ = linear_datamodeling_score(mean_model.predict(masks[held_out].astype(float)), bpb[held_out])
    document_model = fit(estimator, masks[training], margins[training][:, documents])
    document_lds, documents_scored = linear_datamodeling_score(
        document_model.predict(masks[held_out].astype(float)), margins[held_out][:, documents])
    mean_bpb = float(bpb[usable].mean())
    groups = [
        {"group": name, "effect_bpb": float(coefficient), "interval": [float(lo), float(hi)],
         "effect_percent": 100 * float(coefficient) / mean_bpb,
         "resolved": bool(lo > 0 or hi < 0), "included_in": float(masks[usable][:, position].mean())}
        for position, (name, coefficient, lo, hi) in enumerate(zip(store.groups, mean_model.coef_, low, high))
    ]
    groups.sort(key=lambda group: group["effect_bpb"])
    return {
        "method": METHOD,
        "estimator": estimator,
        "regularisation": alpha,
        "models": {"total": int(len(bpb)), "usable": int(usable.sum()), "training": int(training.sum()),
                   "held_out": int(held_out.sum())},
        "mean_bpb": mean_bpb,
        "intercept_bpb": float(mean_model.intercept_),
        "lds": {"documents": document_lds, "documents_scored": documents_scored, "mean_bpb": mean_lds},
        "bootstrap": {"samples": samples, "confidence": confidence, "seed": seed, "over": "models"},
        "groups": groups,
    }


def markdown(result: dict[str, Any], index: dict[str, Any]) -> str:
    """summary.md: the fit, its LDS and the groups ranked by effect."""
    what = "operators" if index["group_by"] == "ops" else f"values of {index['group_by']}"
    models = result["models"]
    lds = result["lds"]
    confidence = round(100 * result["bootstrap"]["confidence"])
    lines = [
        f"# Which {what} matter: linear datamodels",
        "",
        f"{models['usable']} models of the {index['proxy']['name']} proxy (order {index['proxy']['order']}, "
        f"{index['proxy']['budget_bytes']} training symbols each), each trained on a random subset of "
        f"{len(index['groups'])} groups (each included with probability {index['alpha']}); "
        f"{models['training']} fit the {result['estimator']} datamodel (regularisation "
        f"{result['regularisation']:.3g}, chosen by cross-validation), {models['held_out']} are held out.",
        "",
        f"**LDS** (Spearman over held-out subsets, predicted vs actual): per eval document "
        f"{lds['documents']:.3f} (mean over {lds['documents_scored']} documents); "
        f"whole-eval bpb {lds['mean_bpb']:.3f}.",
        "",
        "Effect: held-out bpb a group adds when included, the others fixed (negative: it makes better data); "
        f"{confidence} % interval from {result['bootstrap']['samples']} refits on resampled models.",
        "",
        f"| rank | group | effect (bpb) | {confidence} % interval "
        f"| effect (% of {result['mean_bpb']:.4f}) | resolved |",
        "|---|---|---|---|---|---|",
    ]
    for rank, group in enumerate(result["groups"], start=1):
        low, high = group["interval"]
        lines.append(f"| {rank} | {group['group']} | {group['effect_bpb']:+.5f} | [{low:+.5f}, {high:+.5f}] "
                     f"| {group['effect_percent']:+.2f} % | {'yes' if group['resolved'] else 'no'} |")
    source = f"the ops of `{index['recipe']}`" if index["recipe"] else f"the documents' {index['group_by']}"
    lines += ["", f"Groups: {source}. Store: {len(index['chunks'])} chunks; method `{result['method']}`."]
    return "\n".join(lines) + "\n"
