"""The mixture search's plan for this run, decided while Snakemake parses the workflow (rules/common.smk):
pools.by and pools.buckets resolved, and why the search cannot run on this data. Its own module, so that
editing it reruns no job that splits the pools. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sandbox.pools.split import FEEDBACK_PREFIX, QUALITY


@dataclass(frozen=True)
class PoolPlan:
    """pools.by and pools.buckets resolved for this run, and why the search cannot run ("" when it can)."""

    splitters: list[str]
    buckets: int
    problem: str


def plan_pools(pools: dict[str, Any], uses_demo: bool, has_reference: bool,
               feedback_methods: Sequence[str]) -> PoolPlan:
    """Resolve pools.by (auto: the demo's era crossed with quality buckets; on the user's data quality
    buckets alone, which need a trusted sample) and pools.buckets (0: 4 for one splitter, 2 crossed)."""
    by = pools["by"]
    problem = ""
    if by == "auto":
        if uses_demo:
            by = ["meta.era", QUALITY] if has_reference else ["meta.era"]
        elif has_reference:
            by = [QUALITY]
        else:
            by = []
            problem = ("pools.by: auto splits by the quality classifier's score, which needs a trusted "
                       "sample. Fix: set trusted_path (or feedback.reference_path), or set pools.by to a "
                       "meta field of your documents (pools.by=meta.source).")
    by = [by] if isinstance(by, str) else list(by)
    if QUALITY in by and not has_reference:
        problem = ("pools.by: quality needs the quality classifier, which needs a trusted sample. Fix: set "
                   "trusted_path (or feedback.reference_path), or split by a meta field.")
    for spec in by:
        method = spec.removeprefix(FEEDBACK_PREFIX)
        if spec.startswith(FEEDBACK_PREFIX) and method not in feedback_methods:
            problem = (f"pools.by: {spec} needs feedback_{method}, which is not a "
                       f"feedback variant of this run (feedback.methods: {list(feedback_methods)}). Fix: add "
                       f"{method} to feedback.methods.")
    base = pools["base"]
    if base.startswith("feedback_") and base.removeprefix("feedback_") not in feedback_methods:
        problem = (f"pools.base: {base} is not a feedback variant of this run (feedback.methods: "
                   f"{list(feedback_methods)}). Fix: add {base.removeprefix('feedback_')} to "
                   "feedback.methods, or set pools.base to k_sigma.")
    buckets = pools["buckets"] or (4 if len(by) == 1 else 2)
    return PoolPlan(by, buckets, problem)
