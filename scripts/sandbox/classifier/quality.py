"""The quality classifier as a data evaluator: a variant's mean P(trusted) with its interval over documents
and the scores' distribution; on the raw pool with origin tags, how well the classifier separates noise
from clean text (sandbox.classifier.model scores; scripts/quality_scores.py writes quality/<variant>.json).

The mean's interval is the Student-t interval over documents (the documents are the sample; the
models are fixed): mean ± t(n-1) · sd / sqrt(n). Scores are bounded in [0, 1], so the central limit
theorem holds well at the sizes the workflow sees; tests/unit/test_quality_intervals.py checks coverage and
power by simulation, on skewed and two-humped score distributions.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from sandbox.io.origin import is_noise
from sandbox.stats.intervals import wilson_interval

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 10


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float | None, float | None]:
    """(mean, low, high): the Student-t interval of the mean over documents; no interval below 2."""
    from scipy.stats import t as student_t

    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise ValueError("no documents to score")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, None, None
    half_width = float(student_t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1)
                       / np.sqrt(len(values)))
    return mean, mean - half_width, mean + half_width


def distribution(values: np.ndarray) -> dict[str, Any]:
    """Quantiles and a histogram of the scores on [0, 1] in HISTOGRAM_BINS equal bins."""
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    return {"quantiles": {str(q): float(np.quantile(values, q)) for q in QUANTILES},
            "histogram": {"edges": [round(float(edge), 6) for edge in edges], "counts": counts.tolist()}}


def score_summary(values: np.ndarray, confidence: float) -> dict[str, Any]:
    """A variant's scores: documents, mean with its interval, and distribution."""
    mean, low, high = mean_interval(values, confidence)
    return {"docs": int(len(values)), "mean": mean, "ci_low": low, "ci_high": high, "confidence": confidence,
            **distribution(values)}


def auc(positives: np.ndarray, negatives: np.ndarray) -> float | None:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney)."""
    from scipy.stats import rankdata

    if len(positives) == 0 or len(negatives) == 0:
        return None
    ranks = rankdata(np.concatenate([positives, negatives]))
    n = len(positives)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * len(negatives)))


def share_with_interval(successes: int, trials: int, confidence: float) -> dict[str, Any]:
    """k/n with its Wilson interval (None for 0 trials)."""
    low, high = wilson_interval(successes, trials, confidence)
    return {"value": successes / trials if trials else None, "ci_low": low if trials else None,
            "ci_high": high if trials else None, "successes": successes, "trials": trials}


def separation(values: np.ndarray, origins: Sequence[str], keep_fraction: float,
               confidence: float) -> dict[str, Any]:
    """How the classifier alone sorts the pool: AUC of clean over noise (and over each kind), and the
    precision and recall of removing what scores below the pool's (1 - keep_fraction) quantile, as the
    `classifier` feedback filter does on its own, each with a Wilson interval."""
    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins)
    noise = np.array([is_noise(origin) for origin in origins])
    threshold = float(np.quantile(values, 1 - keep_fraction))
    removed = values < threshold
    kinds = sorted({str(origin) for origin in origins[noise]})
    clean = values[~noise]
    return {
        "keep_fraction": keep_fraction,
        "threshold": threshold,
        "auc_clean_vs_noise": auc(clean, values[noise]),
        "auc_clean_vs_kind": {kind: auc(clean, values[origins == kind]) for kind in kinds},
        "precision": share_with_interval(int((removed & noise).sum()), int(removed.sum()), confidence),
        "recall": share_with_interval(int((removed & noise).sum()), int(noise.sum()), confidence),
        "recall_per_kind": {kind: share_with_interval(int((removed & (origins == kind)).sum()),
                                                      int((origins == kind).sum()), confidence)
                            for kind in kinds},
    }
