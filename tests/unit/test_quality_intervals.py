"""The quality classifier's intervals, by simulation (as unit/test_calibration.py does for the paired
comparison): the mean score's t-interval over documents and the Wilson interval of a recall cover the
true value at the nominal rate (known null), and find a known effect as often as they should (power)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox.classifier.quality import mean_interval
from sandbox.stats.intervals import wilson_interval

EXPERIMENTS = 2000
CONFIDENCE = 0.95
# two Monte-Carlo standard errors of a rate of 0.95 (or 0.8) over EXPERIMENTS
COVERAGE_SLACK = 2 * math.sqrt(0.95 * 0.05 / EXPERIMENTS)
POWER_SLACK = 2 * math.sqrt(0.8 * 0.2 / EXPERIMENTS)


def skewed(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Scores piled near 0 with a long tail: what a noisy pool's classifier scores look like."""
    return rng.beta(0.6, 3.0, size)


def two_humped(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Clean documents near 0.6, a fifth of noise near 0.1."""
    noise = rng.random(size) < 0.2
    return np.where(noise, rng.beta(2, 18, size), rng.beta(12, 8, size))


SCORE_LAWS = {"skewed": (skewed, 0.6 / 3.6), "two_humped": (two_humped, 0.2 * 0.1 + 0.8 * 0.6)}


@pytest.mark.parametrize("law", SCORE_LAWS)
@pytest.mark.parametrize("docs", [30, 200])
def test_the_mean_scores_interval_covers_the_true_mean_at_the_nominal_rate(law: str, docs: int) -> None:
    draw, true_mean = SCORE_LAWS[law]
    rng = np.random.default_rng(docs)
    samples = draw(rng, (EXPERIMENTS, docs))
    intervals = [mean_interval(sample, CONFIDENCE) for sample in samples]
    covered = np.mean([low <= true_mean <= high for _, low, high in intervals])
    assert abs(covered - CONFIDENCE) <= COVERAGE_SLACK + 0.01, covered


@pytest.mark.parametrize("law", SCORE_LAWS)
def test_the_mean_scores_interval_finds_a_shift_of_three_standard_errors(law: str) -> None:
    # a variant whose true mean lies 3 standard errors from a reference value: a two-sided test at 95 %
    # finds it with probability 0.85 (normal approximation), at least 0.8 with Monte-Carlo slack
    draw, true_mean = SCORE_LAWS[law]
    docs = 200
    rng = np.random.default_rng(7)
    samples = draw(rng, (EXPERIMENTS, docs))
    reference = true_mean + 3 * samples.std() / math.sqrt(docs)
    found = np.mean([not low <= reference <= high for _, low, high in
                     (mean_interval(sample, CONFIDENCE) for sample in samples)])
    assert found >= 0.8 - POWER_SLACK, found


@pytest.mark.parametrize("recall", [0.05, 0.5, 0.83])
@pytest.mark.parametrize("documents", [20, 150])
def test_the_wilson_interval_covers_the_true_recall(recall: float, documents: int) -> None:
    # Binomial coverage oscillates with the true share; Wilson stays near nominal on average and never
    # far below it (the Wald interval drops to ~0.6 at n = 20, recall 0.05)
    rng = np.random.default_rng(documents)
    caught = rng.binomial(documents, recall, EXPERIMENTS)
    covered = np.mean([low <= recall <= high for low, high in
                       (wilson_interval(int(k), documents, CONFIDENCE) for k in caught)])
    assert 0.92 - COVERAGE_SLACK <= covered <= 0.99, covered


def test_the_wilson_interval_rarely_claims_a_goal_that_is_not_met_and_finds_one_that_is() -> None:
    # the goal: word-salad recall above 0.5, on the demo's 150 word-salad documents
    documents, goal = 150, 0.5
    rng = np.random.default_rng(3)
    at_goal = rng.binomial(documents, goal, EXPERIMENTS)
    false_claims = np.mean([wilson_interval(int(k), documents, CONFIDENCE)[0] > goal for k in at_goal])
    assert false_claims <= 0.025 + 2 * math.sqrt(0.025 * 0.975 / EXPERIMENTS), false_claims
    above = rng.binomial(documents, 0.65, EXPERIMENTS)  # 0.15 above the goal: about 3.7 standard errors
    found = np.mean([wilson_interval(int(k), documents, CONFIDENCE)[0] > goal for k in above])
    assert found >= 0.8 - POWER_SLACK, found


def test_the_wilson_interval_handles_the_edges() -> None:
    assert wilson_interval(0, 0, CONFIDENCE) == (0.0, 1.0)
    low, high = wilson_interval(0, 150, CONFIDENCE)
    assert low == 0.0 and 0 < high < 0.03
    low, high = wilson_interval(150, 150, CONFIDENCE)
    assert high == 1.0 and 0.97 < low < 1
    with pytest.raises(ValueError):
        wilson_interval(3, 2, CONFIDENCE)
