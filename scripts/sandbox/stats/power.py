"""What would resolve a comparison that did not: the seed count at which its minimum detectable effect
(80 % power, sandbox.stats.bootstrap.paired_test) falls to the effect it observed.

The seed component of a comparison's variance shrinks as 1/seeds; the documents' does not (the same
eval documents score every seed). Projected with the comparison's own components: the seed variance
per seed is se_seeds**2 * n_seeds, and with n seeds the variance is se_documents**2 + that / n (the
seed x document interaction, counted in both, is counted twice here, so the projection errs towards
more seeds), its degrees of freedom by Welch-Satterthwaite, never more than the t over seeds alone
gives. Where the documents alone put the minimum detectable effect above the observed one, no seed
count resolves it: only more eval documents (or an effect that is larger on a larger budget) can.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sandbox.stats.bootstrap import POWER, detectable_in_se

# Beyond this many seeds a projection is not advice but a sign that seeds are the wrong lever.
MAX_SEEDS = 200


def detectable_with_seeds(se_documents: float, seed_variance: float, n_docs: int, seeds: np.ndarray,
                          confidence: float) -> np.ndarray:
    """The projected minimum detectable effect (bpb) with each seed count in `seeds`."""
    seeds = np.asarray(seeds, dtype=np.float64)
    document, seed = se_documents**2, seed_variance / seeds
    variance = document + seed
    denominator = document**2 / (n_docs - 1) + seed**2 / np.maximum(seeds - 1, 1)
    df = np.clip(variance**2 / denominator, seeds - 1, n_docs - 1)
    pooled = detectable_in_se(df, confidence, POWER) * np.sqrt(variance)
    seeds_only = detectable_in_se(np.maximum(seeds - 1, 1), confidence, POWER) * np.sqrt(seed)
    return np.maximum(pooled, seeds_only)


def seeds_to_detect(comparison: dict[str, Any]) -> dict[str, Any] | None:
    """For a comparison (sandbox.stats.bootstrap.paired_comparison) with a seed component: the fewest
    seeds at which its minimum detectable effect reaches |observed difference|, or why none does.

    Returns {"seeds": n} or {"seeds": None, "documents_floor_percent": the MDE with infinitely many seeds,
    in percent}; None where there is nothing to project (no interval, or one seed)."""
    se_seeds, n_seeds = comparison.get("se_seeds"), comparison.get("n_seeds", 0)
    if comparison.get("significant") is None or se_seeds is None or n_seeds < 2:
        return None
    effect = abs(comparison["mean_difference"])
    # bpb to percent of the reference's bpb, as the comparison states it
    scale = comparison["relative_percent"] / comparison["mean_difference"] if effect else 0.0
    confidence, n_docs = comparison["confidence"], comparison["n_docs"]
    seed_variance = se_seeds**2 * n_seeds
    floor = float(detectable_in_se(np.array([n_docs - 1.0]), confidence)[0]) * comparison["se_documents"]
    if effect == 0 or floor >= effect:
        return {"seeds": None, "documents_floor_percent": abs(floor * scale)}
    candidates = np.arange(n_seeds, MAX_SEEDS + 1)
    detectable = detectable_with_seeds(comparison["se_documents"], seed_variance, n_docs, candidates,
                                       confidence)
    enough = np.flatnonzero(detectable <= effect)
    if enough.size == 0:
        return {"seeds": None, "documents_floor_percent": abs(floor * scale)}
    return {"seeds": int(candidates[enough[0]]), "documents_floor_percent": abs(floor * scale)}


def seeds_config_line(own_section: str | None, seeds: int) -> str:
    """The --config argument that gives a proxy that many seeds: its own section's count where it has
    one (ngram.seeds), else the run's `seeds` list."""
    if own_section:
        return f"--config '{own_section}={{seeds: {seeds}}}'"
    return f"--config 'seeds=[{', '.join(str(seed) for seed in range(seeds))}]'"
