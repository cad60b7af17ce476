"""Paired comparisons on per-document held-out scores: a hierarchical bootstrap.

Each replicate resamples the eval documents with replacement and, when there are two or more
seeds, the seeds too; every variant is scored on the same resampled documents and seeds, so the
comparison is paired. A variant's held-out bits per byte in a replicate is its total NLL over the
resampled (seed, document) cells divided by their total bytes; with every seed the same eval set,
that is the mean over seeds of each seed's bits per byte, the sandbox's heldout_bpb.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from sandbox.jsonl import iter_jsonl

# Defined, with its version, in sandbox.metrics (paired_bootstrap).
METHOD = "paired_bootstrap v1"
# Bootstrap weights are drawn in blocks so that a large eval set does not need a B x E matrix at once.
CELLS_PER_BLOCK = 4_000_000


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


def bootstrap_bpb(variants: Mapping[str, Scores], samples: int, seed: int) -> dict[str, np.ndarray]:
    """Replicates (samples,) of each variant's bpb under one shared resampling of seeds and documents."""
    seeds = common_seeds(variants)
    aligned = {name: scores.on_seeds(seeds) for name, scores in variants.items()}
    n_bytes = next(iter(aligned.values())).n_bytes
    for name, scores in aligned.items():
        if not np.array_equal(scores.n_bytes, n_bytes):
            raise ValueError(f"variant {name} was scored on a different eval set; the comparison cannot be paired")
    n_seeds, n_docs = len(seeds), len(n_bytes)
    rng = np.random.default_rng(seed)
    block = max(1, CELLS_PER_BLOCK // n_docs)
    replicates: dict[str, list[np.ndarray]] = {name: [] for name in aligned}
    for start in range(0, samples, block):
        size = min(block, samples - start)
        doc_weights = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=size).astype(np.float64)
        if n_seeds > 1:
            seed_weights = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=size).astype(np.float64)
        else:
            seed_weights = np.ones((size, 1))
        drawn_bytes = seed_weights.sum(axis=1) * (doc_weights @ n_bytes)
        for name, scores in aligned.items():
            bits = (seed_weights * (doc_weights @ scores.nll_bits.T)).sum(axis=1)
            replicates[name].append(bits / drawn_bytes)
    return {name: np.concatenate(parts) for name, parts in replicates.items()}


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def paired_comparison(
    treated: str,
    baseline: str,
    points: Mapping[str, float],
    replicates: Mapping[str, np.ndarray],
    confidence: float,
    n_seeds: int,
) -> dict[str, Any]:
    """Difference treated - baseline in bpb and in percent of baseline, with bootstrap intervals."""
    difference = points[treated] - points[baseline]
    replicate_difference = replicates[treated] - replicates[baseline]
    relative = 100.0 * replicate_difference / replicates[baseline]
    low, high = percentile_interval(replicate_difference, confidence)
    relative_low, relative_high = percentile_interval(relative, confidence)
    return {
        "method": METHOD,
        "confidence": confidence,
        "samples": len(replicate_difference),
        "n_seeds": n_seeds,
        "mean_difference": difference,
        "ci_low": low,
        "ci_high": high,
        "relative_percent": 100.0 * difference / points[baseline],
        "relative_ci_percent": [relative_low, relative_high],
        "half_width_percent": (relative_high - relative_low) / 2.0,
        "significant": bool(low > 0 or high < 0),
    }


def oracle_fraction(
    variant: str,
    baseline: str,
    oracle: str,
    points: Mapping[str, float],
    replicates: Mapping[str, np.ndarray],
    confidence: float,
) -> dict[str, Any] | None:
    """(baseline - variant) / (baseline - oracle), with a bootstrap interval; None without an oracle gap."""
    gap = points[baseline] - points[oracle]
    if gap == 0:
        return None
    replicate_gap = replicates[baseline] - replicates[oracle]
    usable = replicate_gap != 0
    fractions = (replicates[baseline][usable] - replicates[variant][usable]) / replicate_gap[usable]
    low, high = percentile_interval(fractions, confidence)
    return {"value": (points[baseline] - points[variant]) / gap, "ci_low": low, "ci_high": high,
            "confidence": confidence}
