"""Paired comparisons of per-seed metrics: mean difference with a Student-t confidence interval."""

from __future__ import annotations

import math
import statistics
from typing import Any


def mean_and_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0.0 for a single value)."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


def paired_interval(treated: dict[int, float], baseline: dict[int, float],
                    confidence: float = 0.95) -> dict[str, Any]:
    """Mean of (treated - baseline) over the seeds both have, with a paired t-interval.

    With one shared seed there is no interval: its bounds and `significant` are None.
    """
    from scipy.stats import t as student_t

    seeds = sorted(set(treated) & set(baseline))
    if not seeds:
        raise ValueError("no seed in common: a paired comparison needs the same seeds on both sides")
    differences = [treated[seed] - baseline[seed] for seed in seeds]
    n = len(differences)
    mean_difference = statistics.fmean(differences)
    result: dict[str, Any] = {"n": n, "seeds": seeds, "mean_difference": mean_difference,
                              "confidence": confidence, "ci_low": None, "ci_high": None, "significant": None}
    if n > 1:
        half_width = (student_t.ppf(0.5 + confidence / 2, df=n - 1) * statistics.stdev(differences)
                      / math.sqrt(n))
        result["ci_low"] = mean_difference - half_width
        result["ci_high"] = mean_difference + half_width
        result["significant"] = bool(result["ci_low"] > 0 or result["ci_high"] < 0)
    return result
