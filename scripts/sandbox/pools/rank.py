"""The pools' ranking by one proxy: each pool's models (trained on as much of every pool: the smallest
pool's bytes) ordered by validation bpb, and each pool against the top one on test by the paired
comparison (documents and seeds), so "pool A beats pool B" carries its interval; the order is chosen on
validation and every number reported is computed on test, as the main summary does.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from sandbox.data.eval_set import TEST, VALIDATION
from sandbox.stats.bootstrap import Scores, paired_comparison


def rank_pools(scores: dict[str, Scores], labels: Sequence[str], confidence: float,
               proxy: str = "ngram") -> list[dict[str, Any]]:
    """Pools best first (validation bpb), each with its test bpb and its comparison with the top pool."""
    validation = {name: pool.part(labels, VALIDATION) for name, pool in scores.items()}
    test = {name: pool.part(labels, TEST) for name, pool in scores.items()}
    order = sorted(scores, key=lambda name: validation[name].bpb())
    top = order[0]
    ranking = []
    for rank, name in enumerate(order, start=1):
        entry: dict[str, Any] = {"rank": rank, "pool": name, "validation_bpb": validation[name].bpb(),
                                 "test_bpb": test[name].bpb(),
                                 "test_bpb_std": float(np.std(list(test[name].per_seed_bpb().values()),
                                                              ddof=1)) if len(test[name].seeds) > 1 else None}
        if name != top:
            entry["vs_top"] = paired_comparison(name, top, test, confidence, proxy)
        ranking.append(entry)
    return ranking
