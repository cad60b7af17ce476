"""Paired comparisons on per-document held-out scores, with two variance components.

A difference of held-out bpb between two variants (both scored on the same eval documents, with
the same seeds) varies for two reasons: the eval set is a sample of documents, and each model is
one draw of training randomness. The document component is the variance the document bootstrap
estimates (documents resampled, seeds kept), in closed form: the delta-method variance of a ratio
of totals. The seed component is the variance of the per-seed differences over the seeds, which
also holds the seed x document interaction the document component already counts; that share is
estimated from the residuals and counted once. Their sum's degrees of freedom follow Welch-
Satterthwaite (n_seeds - 1 for the seeds, n_docs - 1 for the documents); the interval is the wider
of that Student-t interval and the t-interval over seeds alone, which Welch-Satterthwaite can
undercut when the few seeds happen to agree. One seed of a seed-dependent proxy gets no interval:
its seed component is unknown. bench/calibration.py checks the false-positive rate and power.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sandbox.io.jsonl import iter_jsonl
from sandbox.proxies.registry import is_deterministic, seed_effect

# Defined, with its version, in sandbox.summary.metrics (paired_comparison).
METHOD = "paired_comparison v2"
# The minimum detectable effect is the true difference found with this probability.
POWER = 0.8


@dataclass(frozen=True)
class Scores:
    """Held-out scores of one variant under one proxy: nll_bits[seed index, document], n_bytes[document]."""

    seeds: tuple[int, ...]
    nll_bits: np.ndarray
    n_bytes: np.ndarray

    def bpb(self) -> float:
        """Mean over seeds of each seed's total bits over total bytes."""
        return float(self.nll_bits.sum() / (len(self.seeds) * self.n_bytes.sum()))

    def per_seed_bpb(self) -> dict[int, float]:
        totals = self.nll_bits.sum(axis=1) / self.n_bytes.sum()
        return {seed: float(value) for seed, value in zip(self.seeds, totals)}

    def on_seeds(self, seeds: tuple[int, ...]) -> Scores:
        rows = [self.seeds.index(seed) for seed in seeds]
        return Scores(seeds, self.nll_bits[rows], self.n_bytes)

    def on_documents(self, mask: np.ndarray) -> Scores:
        """The scores of the documents the boolean mask selects (one part of the eval set)."""
        return Scores(self.seeds, self.nll_bits[:, mask], self.n_bytes[mask])

    def part(self, labels: Sequence[str], name: str) -> Scores:
        """The scores of the eval documents labelled `name` ("validation" or "test", file order)."""
        labels_array = np.asarray(labels)
        if labels_array.shape != self.n_bytes.shape:
            raise ValueError(f"{len(labels_array)} split labels for {self.n_bytes.size} scored eval "
                             "documents: the split belongs to another eval set; rerun split_eval")
        if not (labels_array == name).any():
            raise ValueError(f"the eval split has no {name} documents")
        return self.on_documents(labels_array == name)


def read_heldout(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(nll_bits, n_bytes) per document of one heldout.jsonl file, in file order."""
    rows = [row for _, row in iter_jsonl(path)]
    nll = np.array([row["nll_bits"] for row in rows], dtype=np.float64)
    n_bytes = np.array([row["n_bytes"] for row in rows], dtype=np.float64)
    if not np.isfinite(nll).all():
        raise ValueError(f"{path}: non-finite held-out scores; the model diverged")
    return nll, n_bytes


def read_scores(paths_by_seed: Mapping[int, Path]) -> Scores:
    """One variant's Scores from its per-seed heldout.jsonl files (all over the same eval set)."""
    seeds = tuple(sorted(paths_by_seed))
    rows, n_bytes = [], None
    for seed in seeds:
        nll, seed_bytes = read_heldout(paths_by_seed[seed])
        if n_bytes is not None and not np.array_equal(n_bytes, seed_bytes):
            raise ValueError(f"{paths_by_seed[seed]}: scored a different eval set than the other seeds")
        rows.append(nll)
        n_bytes = seed_bytes
    if n_bytes is None or n_bytes.sum() == 0:
        raise ValueError(f"{paths_by_seed}: the eval set has no bytes to score")
    return Scores(seeds, np.vstack(rows), n_bytes)


def common_seeds(variants: Mapping[str, Scores]) -> tuple[int, ...]:
    shared = set.intersection(*(set(scores.seeds) for scores in variants.values()))
    if not shared:
        raise ValueError("no seed in common: a paired comparison needs the same seeds on both sides")
    return tuple(sorted(shared))


def aligned(variants: Mapping[str, Scores]) -> dict[str, Scores]:
    """Every variant on the seeds all of them have, checked to score the same eval documents."""
    seeds = common_seeds(variants)
    result = {name: scores.on_seeds(seeds) for name, scores in variants.items()}
    n_bytes = next(iter(result.values())).n_bytes
    for name, scores in result.items():
        if not np.array_equal(scores.n_bytes, n_bytes):
            raise ValueError(f"variant {name} was scored on a different eval set; the comparison cannot be "
                             "paired")
    return result


@dataclass(frozen=True)
class PairedTest:
    """A paired contrast in bpb per leading index of its cells, with its interval (all arrays)."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    se_documents: np.ndarray
    se_seeds: np.ndarray  # nan with one seed
    half_width: np.ndarray
    mde: np.ndarray

    @property
    def low(self) -> np.ndarray:
        return self.estimate - self.half_width

    @property
    def high(self) -> np.ndarray:
        return self.estimate + self.half_width

    @property
    def significant(self) -> np.ndarray:
        return (self.low > 0) | (self.high < 0)


def variance_components(cells: np.ndarray, n_bytes: np.ndarray) -> tuple[np.ndarray, ...]:
    """The mean contrast and the document, seed and interaction parts of its variance; cells
    (..., seeds, docs) in bits.

    The mean is over seeds of each seed's total bits over total bytes. The interaction part (the
    seed x document residual, a share of both other parts) and the seed part are zero with one seed.
    """
    n_seeds, n_docs = cells.shape[-2:]
    if n_docs < 2:
        raise ValueError("a paired comparison needs at least two eval documents")
    total_bytes = n_bytes.sum()
    per_seed = cells.sum(axis=-1) / total_bytes
    estimate = per_seed.mean(axis=-1)
    per_doc = cells.mean(axis=-2)
    # the linearised ratio: each document's bits less its bytes' share of the estimate
    linear = per_doc - estimate[..., None] * n_bytes
    document = n_docs / (n_docs - 1) * (linear**2).sum(axis=-1) / total_bytes**2
    if n_seeds == 1:
        zero = np.zeros_like(estimate)
        return estimate, document, zero, zero
    seed = per_seed.var(axis=-1, ddof=1) / n_seeds
    residual = cells - per_doc[..., None, :] - (per_seed - estimate[..., None])[..., None] * n_bytes
    interaction = n_docs / (n_docs - 1) * (residual**2).sum(axis=(-2, -1)) / ((n_seeds - 1) * n_seeds
                                                                                * total_bytes**2)
    return estimate, document, seed, interaction


def detectable_in_se(df: np.ndarray, confidence: float, power: float = POWER) -> np.ndarray:
    """The true difference, in standard errors, that a two-sided t-test on df degrees of freedom finds
    with the given power: the noncentral t's noncentrality (about 2.8 for many df, 5.6 for 2).

    Solved by bisection, vectorised over df; the far tail's share of the power is negligible here.
    """
    from scipy.stats import nct
    from scipy.stats import t as student_t

    df = np.asarray(df, dtype=np.float64)
    critical = student_t.ppf(0.5 + confidence / 2, df)
    low, high = np.zeros_like(df), np.full_like(df, 40.0)
    for _ in range(50):
        middle = (low + high) / 2
        enough = np.nan_to_num(nct.sf(critical, df, middle), nan=1.0) >= power
        low, high = np.where(enough, low, middle), np.where(enough, middle, high)
    return high


def detectable_on_binary(se: np.ndarray, df: np.ndarray, items: int, confidence: float,
                         power: float = POWER) -> np.ndarray:
    """The minimum detectable effect of a difference of binary outcomes (an accuracy, in its own units):
    the true difference d a two-sided t-test finds with the given power when the effect brings its own
    variance.

    Where answers are nearly fixed per item, equal variants disagree on few items, so the null's standard
    error `se` is small; a true difference d makes about d of the items newly discordant, and with them
    variance. Counted at its largest, the new discordance the same for every seed (one Bernoulli(d)
    indicator per item, variance d(1 - d) / items; discordance that differs by seed adds 1/seeds of
    that), the standard error under the alternative is sqrt(se^2 + d(1 - d) / items), and d = k * that
    (k: detectable_in_se at df) is the root of (1 + k^2/items) d^2 - (k^2/items) d - k^2 se^2 = 0. It is
    larger than k * se: the power at it is about the nominal one where the items' variance sets the
    interval (one seed) and above it where the effect adds less (items that are toss-ups, effects that
    differ by seed, few seeds whose seed-only interval binds). bench/simulate/calibration.py's
    calibrate_items and tests/unit/test_calibration.py check it.
    """
    k = detectable_in_se(df, confidence, power)
    share = k**2 / items
    return (share + np.sqrt(share**2 + 4 * (1 + share) * k**2 * np.asarray(se) ** 2)) / (2 * (1 + share))


def paired_test(cells: np.ndarray, n_bytes: np.ndarray, confidence: float) -> PairedTest:
    """Two-sided test of a contrast's mean on cells (..., seeds, docs) in bits; vectorised over
    leading axes."""
    from scipy.stats import t as student_t

    n_seeds, n_docs = cells.shape[-2:]
    estimate, document, seed, interaction = variance_components(cells, n_bytes)
    # the seed x document interaction is in both the document and the seed component: count it once,
    # and never below either component alone
    variance = np.maximum.reduce([document + seed - interaction, document, seed])
    denominator = document**2 / (n_docs - 1)
    if n_seeds > 1:
        denominator = denominator + seed**2 / (n_seeds - 1) + interaction**2 / ((n_docs - 1) * (n_seeds - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denominator > 0, variance**2 / denominator, n_docs - 1)
    df = np.clip(df, max(n_seeds - 1, 1), n_docs - 1)
    se = np.sqrt(variance)
    quantile = 0.5 + confidence / 2
    half_width = student_t.ppf(quantile, df) * se
    if n_seeds > 1:
        # never narrower than the t-interval over seeds alone (df n_seeds - 1)
        seed_only = student_t.ppf(quantile, n_seeds - 1) * np.sqrt(seed)
        wider = seed_only > half_width
        se, df = np.where(wider, np.sqrt(seed), se), np.where(wider, float(n_seeds - 1), df)
        half_width = np.maximum(half_width, seed_only)
    mde = detectable_in_se(df, confidence) * se
    se_seeds = np.sqrt(seed) if n_seeds > 1 else np.full_like(estimate, np.nan)
    return PairedTest(estimate, se, df, np.sqrt(document), se_seeds, half_width, mde)


def no_claim_reason(proxy: str, n_seeds: int) -> str | None:
    """Why a comparison makes no significance claim, or None when it does."""
    if n_seeds > 1 or is_deterministic(proxy):
        return None
    return (f"one seed of {proxy}, whose scores depend on the seed ({seed_effect(proxy)}): the seed-to-seed "
            "variance is unknown, so no interval and no significance; run two or more seeds")


def paired_comparison(treated: str, baseline: str, variants: Mapping[str, Scores], confidence: float,
                      proxy: str) -> dict[str, Any]:
    """Difference treated - baseline in bpb and in percent of baseline, with its interval and power."""
    pair = aligned({name: variants[name] for name in (treated, baseline)})
    n_seeds, n_docs = pair[baseline].nll_bits.shape
    test = paired_test(pair[treated].nll_bits - pair[baseline].nll_bits, pair[baseline].n_bytes, confidence)
    difference = float(test.estimate)
    scale = 100.0 / pair[baseline].bpb()
    reason = no_claim_reason(proxy, n_seeds)
    result: dict[str, Any] = {
        "method": METHOD, "confidence": confidence, "n": n_seeds, "n_seeds": n_seeds, "n_docs": n_docs,
        "mean_difference": difference, "relative_percent": difference * scale, "se": float(test.se),
        "df": float(test.df), "se_documents": float(test.se_documents),
        "se_seeds": None if n_seeds == 1 else float(test.se_seeds), "no_claim": reason,
    }
    if reason is not None:
        return {**result, "se": None, "df": None, "ci_low": None, "ci_high": None,
                "relative_ci_percent": None, "mde_percent": None, "significant": None}
    low, high = float(test.low), float(test.high)
    # percent of the reference's bpb, taken as known: its own uncertainty is second order here
    return {**result, "ci_low": low, "ci_high": high, "relative_ci_percent": [low * scale, high * scale],
            "mde_percent": float(test.mde) * scale, "significant": bool(test.significant)}


def oracle_fraction(variant: str, baseline: str, oracle: str, variants: Mapping[str, Scores],
                    confidence: float, proxy: str) -> dict[str, Any] | None:
    """(baseline - variant) / (baseline - oracle), with an interval; None without an oracle gap.

    The interval is the delta method's: the fraction's error is that of the contrast
    (baseline - variant) - fraction * (baseline - oracle), divided by the gap, so it has the same
    variance components and degrees of freedom as a paired comparison.
    """
    three = aligned({name: variants[name] for name in {variant, baseline, oracle}})
    points = {name: scores.bpb() for name, scores in three.items()}
    gap = points[baseline] - points[oracle]
    if gap == 0:
        return None
    value = (points[baseline] - points[variant]) / gap
    result: dict[str, Any] = {"value": value, "confidence": confidence}
    n_seeds = len(three[baseline].seeds)
    reason = no_claim_reason(proxy, n_seeds)
    if reason is not None:
        return {**result, "ci_low": None, "ci_high": None, "no_claim": reason}
    bits = {name: scores.nll_bits for name, scores in three.items()}
    cells = bits[baseline] - bits[variant] - value * (bits[baseline] - bits[oracle])
    test = paired_test(cells, three[baseline].n_bytes, confidence)
    half_width = float(test.half_width) / abs(gap)
    return {**result, "ci_low": value - half_width, "ci_high": value + half_width}


def selection_confidence(confidence: float, candidates: int) -> float:
    """The confidence of the interval that backs "the variant chosen among `candidates` beats the
    reference" (Bonferroni). Choosing on validation and reporting on test removes the documents' part of
    the winner's curse, not the seeds': test is scored by the same models, so a variant chosen for a lucky
    training run keeps its luck. calibration.selection_rates measures both."""
    return 1.0 - (1.0 - confidence) / max(candidates, 1)
