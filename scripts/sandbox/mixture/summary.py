"""The mixture search's confirmation (pools/summary.json): `mixture` against raw, k_sigma, the best
feedback variant, the best single pool, `natural` and `uniform` on test under each confirming proxy
(the calibrated paired comparison, the same as the main summary's), and its fraction of the oracle
gain. sandbox/mixture/page.py renders it.

Only `mixture` is a candidate: the pools, natural and uniform are references, so no selection among
them widens its interval. The best feedback variant is chosen on validation, by each proxy.
"""

from __future__ import annotations

from typing import Any

from sandbox.mixture.page import BEST_FEEDBACK
from sandbox.stats.bootstrap import aligned, oracle_fraction, paired_comparison
from sandbox.summary.verdict import scores_of
from sandbox.workflow.variants import (
    BEST_POOL,
    K_SIGMA,
    MIXTURE,
    NATURAL,
    ORACLE,
    RAW,
    UNIFORM,
    is_feedback,
)


def best_feedback(evaluations: dict[str, dict[str, Any]]) -> str | None:
    """The feedback variant with the lowest validation bpb (None without one)."""
    names = [name for name in evaluations if is_feedback(name)]
    return min(names, key=lambda name: evaluations[name]["validation_bpb"], default=None)


def references_of(evaluations: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What mixture is compared with: label -> variant, for those this proxy evaluated."""
    references = {name: name for name in (NATURAL, UNIFORM, BEST_POOL, RAW, K_SIGMA) if name in evaluations}
    feedback = best_feedback(evaluations)
    if feedback:
        references[BEST_FEEDBACK] = feedback
    return references


def confirm(proxy: str, evaluations: dict[str, dict[str, Any]], confidence: float) -> dict[str, Any]:
    """mixture against every reference on test, and its fraction of the oracle gain, for one proxy."""
    scores = aligned({name: scores_of(evaluation) for name, evaluation in evaluations.items()})
    comparisons = {label: {"variant": variant,
                           **paired_comparison(MIXTURE, variant, scores, confidence, proxy)}
                   for label, variant in references_of(evaluations).items()}
    fraction = (oracle_fraction(MIXTURE, RAW, ORACLE, scores, confidence, proxy)
                if ORACLE in scores and RAW in scores else None)
    test_bpb = {name: evaluations[name]["test_bpb"]
                for name in (MIXTURE, *references_of(evaluations).values())}
    # epochs: how often the proxy's models saw their data (a neural proxy's mixtures repeat pools)
    epochs = {name: evaluations[name].get("train_epochs")
              for name in (MIXTURE, *references_of(evaluations).values())}
    return {"comparisons": comparisons, "fraction_of_oracle_gain": fraction, "test_bpb": test_bpb,
            "epochs": epochs,
            "validation_bpb": {name: evaluation["validation_bpb"]
                               for name, evaluation in evaluations.items()}}
