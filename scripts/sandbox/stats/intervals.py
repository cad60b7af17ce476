"""Intervals for proportions, in plain Python (the data metrics run in the base environment, no numpy).

A recall or precision is a share of documents: k of n. Its Wilson score interval (Wilson 1927) keeps
close to nominal coverage for small n and for shares near 0 or 1, where the Wald interval (p ± z·se)
collapses to a point; tests/unit/test_quality_intervals.py checks its coverage and power by simulation.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of successes/trials; (0, 1) when there are no trials."""
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in 0..trials, got {successes} of {trials}")
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = successes / trials
    denominator = 1 + z**2 / trials
    centre = (share + z**2 / (2 * trials)) / denominator
    half_width = z * math.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / denominator
    # at 0 or n successes one end is exactly the share; rounding must not put it beyond
    return max(0.0, min(share, centre - half_width)), min(1.0, max(share, centre + half_width))
