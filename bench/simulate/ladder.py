"""Simulated ladders with a known truth, to check the coverage of the ladder's intervals
(sandbox.ladder.stats):
decision accuracy, the power-law exponent and the trend of a gain over raw. tests/unit/test_ladder.py runs
them.

Each simulated model's per-document bits are (true bpb + a per-seed model offset + a per-variant document
effect + a seed x document interaction + a document difficulty shared by every model) x the document's
bytes, with the demo eval set's lengths (simulate.calibration) and noise of the n-gram rung's measured sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sandbox.ladder.stats import (
    Replicates,
    accuracy_interval,
    decision_accuracy,
    fit_exponents,
    point_bpb,
    replicate_bpb,
    seed_df,
    t_interval,
    trend_slopes,
)
from simulate.calibration import NGRAM, Noise, document_lengths

# per-document difficulty shared by every model of every scale (bpb)
DIFFICULTY_SD = 0.3


@dataclass(frozen=True)
class Design:
    seeds: int = 3
    docs: int = 150
    samples: int = 300
    noise: Noise = NGRAM


def simulate_models(rng: np.random.Generator, true_bpb: np.ndarray, n_bytes: np.ndarray, design: Design,
                    difficulty: np.ndarray, model_scale: float = 1.0) -> np.ndarray:
    """Bits (models, seeds, docs) of models with the given true bpb (models,)."""
    noise, models, docs = design.noise, len(true_bpb), len(n_bytes)
    offsets = model_scale * noise.model_sd * rng.standard_normal((models, design.seeds, 1))
    bpb = (true_bpb[:, None, None] + offsets
           + noise.document_sd * rng.standard_normal((models, 1, docs))
           + noise.interaction_sd * rng.standard_normal((models, design.seeds, docs)) + difficulty)
    return bpb * n_bytes


def pair_se(design: Design, n_bytes: np.ndarray) -> float:
    """The standard error of one variant pair's bpb difference under this design."""
    noise, share = design.noise, (n_bytes**2).sum() / n_bytes.sum() ** 2
    return math.sqrt(2 * noise.model_sd**2 / design.seeds
                     + 2 * (noise.document_sd**2 + noise.interaction_sd**2 / design.seeds) * share)


def accuracy_coverage(gap_in_se: float, swapped: bool, experiments: int, design: Design = Design(),
                      variants: int = 6, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """(coverage, mean width) of the decision-accuracy interval: the target's true bpb are evenly spaced
    by gap_in_se pair standard errors, the proxy's the same with two neighbouring pairs swapped (or not);
    the target's models are three times as seed-noisy as the proxy's."""
    rng = np.random.default_rng(seed)
    n_bytes = document_lengths(rng, design.docs)
    target_true = 2.0 + gap_in_se * pair_se(design, n_bytes) * np.arange(variants)
    proxy_true = target_true.copy()
    if swapped:
        proxy_true[[1, 2]] = proxy_true[[2, 1]]
        proxy_true[[4, 5]] = proxy_true[[5, 4]]
    truth = float(decision_accuracy(proxy_true, target_true))
    covered, widths = 0, []
    for experiment in range(experiments):
        difficulty = DIFFICULTY_SD * rng.standard_normal(design.docs)
        proxy = simulate_models(rng, proxy_true, n_bytes, design, difficulty)
        target = simulate_models(rng, target_true, n_bytes, design, difficulty, model_scale=3.0)
        replicates = Replicates.draw(design.docs, design.seeds, design.samples, seed * 100_003 + experiment)
        estimate = float(decision_accuracy(point_bpb(proxy, n_bytes), point_bpb(target, n_bytes)))
        replicated = decision_accuracy(replicate_bpb(proxy, n_bytes, replicates),
                                       replicate_bpb(target, n_bytes, replicates))
        low, high = accuracy_interval(replicated, estimate, confidence)
        covered += low - 1e-9 <= truth <= high + 1e-9
        widths.append(high - low)
    return covered / experiments, float(np.mean(widths))


def exponent_coverage(exponent: float, experiments: int, design: Design = Design(),
                      multipliers: tuple[float, ...] = (0.25, 0.5, 1, 2, 4), confidence: float = 0.95,
                      seed: int = 0, model_scale: float = 4.0) -> tuple[float, float]:
    """(coverage, mean width) of the power-law exponent's interval: one variant at every multiplier of a
    1.2 MB budget, true bpb 2.5 * (bytes / 1 MB) ** -exponent, each scale's models drawn afresh (seed
    offsets model_scale times the n-gram's)."""
    rng = np.random.default_rng(seed)
    n_bytes = document_lengths(rng, design.docs)
    seen = 1.2e6 * np.array(multipliers)
    true_bpb = 2.5 * (seen / 1e6) ** -exponent
    covered, widths = 0, []
    for experiment in range(experiments):
        difficulty = DIFFICULTY_SD * rng.standard_normal(design.docs)
        # the scales stand where the variants stand elsewhere: one model per scale
        scales = simulate_models(rng, true_bpb, n_bytes, design, difficulty, model_scale)
        replicates = Replicates.draw(design.docs, design.seeds, design.samples, seed * 100_003 + experiment)
        estimate = float(fit_exponents(seen, point_bpb(scales, n_bytes))[0])
        replicated = fit_exponents(seen, replicate_bpb(scales, n_bytes, replicates))[0]
        low, high = t_interval(replicated, estimate, seed_df(len(seen), design.seeds), confidence)
        covered += low <= exponent <= high
        widths.append(high - low)
    return covered / experiments, float(np.mean(widths))


def trend_coverage(slope_percent: float, experiments: int, design: Design = Design(),
                   multipliers: tuple[float, ...] = (0.25, 0.5, 1, 2, 4), confidence: float = 0.95,
                   seed: int = 0) -> tuple[float, float]:
    """(coverage, mean width) of the gain trend's interval: a variant whose gain over raw is 2 % at x1 and
    changes by slope_percent per doubling of the budget; each scale's raw and variant models drawn afresh."""
    rng = np.random.default_rng(seed)
    n_bytes = document_lengths(rng, design.docs)
    log2 = np.log2(multipliers)
    raw_true = 2.5 * (2.0**log2) ** -0.05
    variant_true = raw_true * (1 - (2.0 + slope_percent * log2) / 100)
    covered, widths = 0, []
    for experiment in range(experiments):
        difficulty = DIFFICULTY_SD * rng.standard_normal(design.docs)
        replicates = Replicates.draw(design.docs, design.seeds, design.samples, seed * 100_003 + experiment)
        gains, points = [], []
        for raw_bpb, variant_bpb in zip(raw_true, variant_true):
            models = simulate_models(rng, np.array([raw_bpb, variant_bpb]), n_bytes, design, difficulty)
            replicated = replicate_bpb(models, n_bytes, replicates)
            gains.append(100 * (1 - replicated[:, 1] / replicated[:, 0]))
            point = point_bpb(models, n_bytes)
            points.append(100 * (1 - point[1] / point[0]))
        estimate = float(trend_slopes(log2, np.array(points)))
        low, high = t_interval(trend_slopes(log2, np.stack(gains, axis=-1)), estimate,
                               seed_df(len(log2), design.seeds), confidence)
        covered += low <= slope_percent <= high
        widths.append(high - low)
    return covered / experiments, float(np.mean(widths))
