"""The scale ladder's statistics: decision accuracy against a target scale, power-law fits of held-out
bpb against training bytes, and the trend of each recipe's gain over raw, each with a bootstrap interval.

Decision accuracy (DataDecide, Magnusson et al. 2025) of a (proxy, scale) is the share of variant pairs
it orders as the target orders them, by test bpb (mean over seeds). A pair counts 1 when both order it
the same way (a tie under both is the same order), 0 when they order it oppositely, and 1/2 when exactly
one of them ties it (an exact tie: identical held-out bits, e.g. two variants with the same data under a
deterministic model), the expected agreement of a coin flip.

Every interval comes from one set of bootstrap replicates shared by all scales: the test documents are
resampled with replacement (the same documents for every variant and scale: the comparisons are paired),
and the seeds are resampled jointly across scales (seed N of every model together, which keeps whatever a
seed shares between scales, e.g. the n-gram's document order). Three seeds resampled as if they were
many would understate the seed-to-seed variance by (S-1)/S, so each replicate's seed part is inflated by
sqrt(S/(S-1)) around its document-resampled value. tests/unit/test_ladder.py checks the coverage of both
intervals on simulated ladders with a known truth.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

TIE_CREDIT = 0.5


@dataclass(frozen=True)
class Replicates:
    """Bootstrap weights: doc_counts (B, D) and seed_counts (B, S), multinomial resampling counts."""

    doc_counts: np.ndarray
    seed_counts: np.ndarray
    seed: int = 0

    @classmethod
    def draw(cls, n_docs: int, n_seeds: int, samples: int, seed: int) -> Replicates:
        rng = np.random.default_rng(seed)
        docs = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=samples)
        seeds = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=samples)
        return cls(docs.astype(np.float64), seeds.astype(np.float64), seed)

    def seed_counts_for(self, n_seeds: int) -> np.ndarray:
        """Seed resampling counts (B, n_seeds): the drawn ones, or for a proxy with another seed count
        (ngram.seeds) its own draw, the same on every call."""
        if n_seeds == self.seed_counts.shape[1]:
            return self.seed_counts
        rng = np.random.default_rng([self.seed, n_seeds])
        counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=len(self.doc_counts))
        return counts.astype(np.float64)


def point_bpb(nll_bits: np.ndarray, n_bytes: np.ndarray) -> np.ndarray:
    """Bits per byte per variant: the mean over seeds of each seed's total bits over total bytes.
    nll_bits (..., variants, seeds, docs)."""
    return (nll_bits.sum(axis=-1) / n_bytes.sum()).mean(axis=-1)


def replicate_bpb(nll_bits: np.ndarray, n_bytes: np.ndarray, replicates: Replicates) -> np.ndarray:
    """Bits per byte per replicate and variant (B, V) of nll_bits (V, S, D); see the module docstring."""
    per_seed = np.einsum("vsd,bd->bvs", nll_bits, replicates.doc_counts) / (
        replicates.doc_counts @ n_bytes)[:, None, None]
    documents_only = per_seed.mean(axis=-1)
    n_seeds = nll_bits.shape[1]
    if n_seeds == 1:
        return documents_only
    resampled = np.einsum("bvs,bs->bv", per_seed, replicates.seed_counts_for(n_seeds)) / n_seeds
    return documents_only + math.sqrt(n_seeds / (n_seeds - 1)) * (resampled - documents_only)


def variant_pairs(n_variants: int) -> list[tuple[int, int]]:
    return list(itertools.combinations(range(n_variants), 2))


def pair_agreement(bpb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Agreement (1, 1/2 or 0) of each variant pair's order, (..., pairs), from bpb (..., V) of the scale
    and of the target (broadcast against each other)."""
    pairs = np.array(variant_pairs(bpb.shape[-1]))
    if len(pairs) == 0:
        return np.zeros(np.broadcast_shapes(bpb.shape, target.shape)[:-1] + (0,))
    first = np.sign(bpb[..., pairs[:, 0]] - bpb[..., pairs[:, 1]])
    second = np.sign(target[..., pairs[:, 0]] - target[..., pairs[:, 1]])
    one_tie = (first == 0) != (second == 0)
    return np.where(one_tie, TIE_CREDIT, (first == second).astype(np.float64))


def decision_accuracy(bpb: np.ndarray, target: np.ndarray, pair_mask: np.ndarray | None = None) -> np.ndarray:
    """The share of (masked) variant pairs ordered as the target orders them; nan without a pair."""
    agreement = pair_agreement(bpb, target)
    if pair_mask is not None:
        agreement = agreement[..., pair_mask]
    if agreement.shape[-1] == 0:
        return np.full(agreement.shape[:-1], np.nan)
    return agreement.mean(axis=-1)


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central `confidence` interval of bootstrap values (nan-free)."""
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def t_interval(replicates: np.ndarray, estimate: float, df: int, confidence: float) -> tuple[float, float]:
    """estimate ± a Student t quantile times the replicates' standard deviation.

    For a smooth statistic of several scales (a fitted exponent, a slope): a bootstrap over three seeds per
    scale knows the seed variance only on (seeds - 1) degrees of freedom per scale, so its normal-theory
    or percentile interval is too narrow (simulated: 92 % at a nominal 95 %); df is that count.
    """
    from scipy.stats import t as student_t

    half = float(student_t.ppf(0.5 + confidence / 2, max(df, 1)) * np.std(replicates, ddof=1))
    return estimate - half, estimate + half


def seed_df(scales: int, seeds: int) -> int:
    """Degrees of freedom of the seed variance over several scales, each with its own models."""
    return scales * (seeds - 1) if seeds > 1 else 10**6


def accuracy_interval(replicates: np.ndarray, estimate: float, confidence: float) -> tuple[float, float]:
    """The interval of a decision accuracy: the bootstrap's percentile interval joined with its reflection
    about the estimate (the basic bootstrap), within [0, 1].

    A replicate re-noises both rankings, so near-ties flip more often in replicates than in the estimate
    and the percentile interval alone sits below the truth (simulated, identical true rankings with
    neighbouring variants 2 standard errors apart: 86 % coverage at a nominal 95 %); the reflection
    corrects that bias. Neither covers when neighbours are under about one standard error apart: the
    order of such a pair is noise at either scale.
    """
    low, high = percentile_interval(replicates[np.isfinite(replicates)], confidence)
    return max(0.0, min(low, 2 * estimate - high)), min(1.0, max(high, 2 * estimate - low))


@dataclass(frozen=True)
class PowerLaw:
    """bpb = coefficient * bytes ** -exponent, fitted on log-log points by least squares."""

    exponent: float
    coefficient: float

    def predict(self, n_bytes: np.ndarray) -> np.ndarray:
        return self.coefficient * np.asarray(n_bytes, dtype=np.float64) ** -self.exponent


def fit_exponents(n_bytes: np.ndarray, bpb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exponent, log coefficient) of log bpb = c - exponent * log bytes, over the last axis of bpb
    (..., points); n_bytes (points,). Vectorised over replicates."""
    x = np.log(np.asarray(n_bytes, dtype=np.float64))
    y = np.log(bpb)
    x_centred = x - x.mean()
    slope = (y * x_centred).sum(axis=-1) / (x_centred**2).sum()
    return -slope, y.mean(axis=-1) - slope * x.mean()


def fit_power_law(n_bytes: np.ndarray, bpb: np.ndarray) -> PowerLaw:
    exponent, log_coefficient = fit_exponents(n_bytes, bpb)
    return PowerLaw(float(exponent), float(np.exp(log_coefficient)))


def trend_slopes(log2_multiplier: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Least-squares slope of gains (..., points) against log2 of the budget multiplier (points,)."""
    x_centred = log2_multiplier - log2_multiplier.mean()
    return (gains * x_centred).sum(axis=-1) / (x_centred**2).sum()


def trend_word(low: float, high: float) -> str:
    """grows / shrinks when the slope's interval excludes 0, else holds."""
    if low > 0:
        return "grows"
    if high < 0:
        return "shrinks"
    return "holds"
