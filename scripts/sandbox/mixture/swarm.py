"""The swarm's mixtures and their training documents.

Weights are byte shares of the n-gram's budget. Member m's weights are drawn from (seed, m) alone, as
RegMix draws them: a Dirichlet around the natural proportions (each pool's share of the base
variant's bytes), with each pool switched off with probability zero_probability (weight 0: dropping a
pool is a mixture too). The n-gram never repeats a document, so a pool's weight is capped at its
bytes over the budget; weight above a cap goes to the other pools in proportion (water-filling). At
confirmation a neural proxy, which trains on a fixed budget of its own, may see each document up to
pools.max_epochs times (repeats up to 4 epochs cost little: Muennighoff et al. 2023, "Scaling
Data-Constrained Language Models"), so its caps are max_epochs times the pool's bytes over its budget.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# The most of the search pools' bytes a mixture may use: below all of it, so that every member has a
# choice to make (at all of it every mixture is the same, the pools whole).
MAX_POOL_SHARE = 0.8
# Redraws of the zero pattern before giving up on zeros for a member (its caps could not hold 1).
ZERO_REDRAWS = 100


def swarm_budget(pool_bytes: Sequence[int], budget_bytes: int) -> int:
    """The mixtures' byte budget: the n-gram's, unless the search pools hold less than 1/MAX_POOL_SHARE of
    it (pools.only narrowed to a few, or a base variant smaller than the budget); then MAX_POOL_SHARE of
    their bytes, and the mixture variants train on less text than the main variants (the summary says so)."""
    return int(min(budget_bytes, MAX_POOL_SHARE * sum(pool_bytes)))


def natural_weights(pool_bytes: Sequence[int]) -> np.ndarray:
    """Each pool's share of all pools' bytes: proportional sampling of the base variant."""
    sizes = np.asarray(pool_bytes, dtype=float)
    return sizes / sizes.sum()


def weight_caps(pool_bytes: Sequence[int], budget_bytes: int, max_epochs: int = 1) -> np.ndarray:
    """The most of the budget each pool can fill with each document used at most max_epochs times (the
    n-gram's 1; a neural proxy's pools.max_epochs at confirmation)."""
    return np.minimum(1.0, max_epochs * np.asarray(pool_bytes, dtype=float) / budget_bytes)


def cap_weights(weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Weights summing to 1 with none above its cap: excess goes to the uncapped pools with weight, in
    proportion to their weights. ValueError when the pools with weight cannot hold the budget."""
    weights = np.asarray(weights, dtype=float).copy()
    active = weights > 0
    if caps[active].sum() < 1 - 1e-12:
        raise ValueError(f"pools with weight hold {caps[active].sum():.3f} of the budget, "
                         "less than all of it")
    for _ in range(len(weights) + 1):
        over = weights > caps
        weights[over] = caps[over]
        free = active & ~np.isclose(weights, caps) & (weights < caps)
        missing = 1.0 - weights.sum()
        if missing <= 1e-12 or not free.any():
            break
        weights[free] += missing * weights[free] / weights[free].sum()
    return weights


def draw_weights(seed: int, member: int, natural: np.ndarray, caps: np.ndarray, concentration: float,
                 zero_probability: float) -> np.ndarray:
    """Member's mixture: Dirichlet(concentration * P * natural) over the pools it keeps, capped."""
    rng = np.random.default_rng([seed, member])
    count = len(natural)
    keep = np.ones(count, dtype=bool)
    for _ in range(ZERO_REDRAWS):
        keep = rng.random(count) >= zero_probability
        if keep.sum() >= 1 and caps[keep].sum() >= 1:
            break
    else:
        keep = np.ones(count, dtype=bool)
    weights = np.zeros(count)
    weights[keep] = rng.dirichlet(concentration * count * natural[keep])
    # a Dirichlet draw can underflow to exactly 0 for a tiny alpha; such a pool is simply switched off
    return cap_weights(weights, caps)


def pick_documents(texts: Sequence[bytes], target_bytes: float, seed: int) -> list[bytes]:
    """Documents of one pool in a seeded order until target_bytes (separators counted) are reached."""
    if target_bytes <= 0:
        return []
    order = np.random.default_rng(seed).permutation(len(texts))
    chosen, total = [], 0
    for position in order:
        if total >= target_bytes:
            break
        chosen.append(texts[position])
        total += len(texts[position]) + 1
    return chosen


def mixture_documents(pools: Sequence[Sequence[bytes]], weights: np.ndarray, budget_bytes: int,
                      seed: int) -> list[bytes]:
    """The training documents of one mixture: each pool's share of the budget, picked in its own
    seeded order (pool k's order from (seed, k), so members with the same seed share their picks)."""
    documents: list[bytes] = []
    for position, (texts, weight) in enumerate(zip(pools, weights)):
        documents += pick_documents(texts, weight * budget_bytes, seed * 1_000_003 + position)
    return documents
