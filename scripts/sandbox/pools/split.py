"""How a processed variant splits into pools: each splitter of `pools.by` (a meta field, the quality
classifier's score, a Data-Juicer stat) gives every document a part; the pools are the non-empty
cells of all splitters crossed, so they never overlap and together hold every document.

A splitter is `meta.<field>` (one part per value), `quality` (buckets of the cross-fitted P(trusted)),
`stat:<name>` (buckets of a stat of the raw analysis) or `feedback:<method>` (buckets of a model-feedback
op's per-document score: the stat its op adds when the pool is analysed under feedback_<method>'s
recipe). Buckets are quantiles over the base variant's documents, q1 the lowest. A pool's name joins
its parts, e.g. `era_1790_1860-quality_q2`: it is stable (the same cell keeps its name when other pools
come or go), so its files and models are reused. Imported by Snakemake at DAG time: standard library
only.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Sequence

QUALITY = "quality"
STAT_PREFIX = "stat:"
FEEDBACK_PREFIX = "feedback:"
META_PREFIX = "meta."
# A pool's name: its parts (lowercase letters, digits, _) joined by "-".
POOL_PATTERN = r"[a-z0-9_]+(-[a-z0-9_]+)*"


class SplitError(ValueError):
    """A splitter or a document that cannot be placed in a pool."""


@dataclass(frozen=True)
class Splitter:
    """One entry of pools.by: what it reads and how many buckets a score gets."""

    spec: str
    buckets: int

    @property
    def is_score(self) -> bool:
        return self.spec == QUALITY or self.spec.startswith((STAT_PREFIX, FEEDBACK_PREFIX))

    @property
    def label(self) -> str:
        """The part names' prefix: the field's last part, quality, or the stat's name."""
        if self.spec.startswith(META_PREFIX):
            return slug(self.spec.rsplit(".", 1)[-1])
        if self.spec.startswith(FEEDBACK_PREFIX):
            return slug(self.spec.removeprefix(FEEDBACK_PREFIX))
        return QUALITY if self.spec == QUALITY else slug(self.spec.removeprefix(STAT_PREFIX))


def parse_splitters(by: str | Sequence[str], buckets: int) -> list[Splitter]:
    """pools.by (one splitter or a list) as Splitters; SplitError naming the fix on a bad one."""
    specs = [by] if isinstance(by, str) else list(by)
    if not specs:
        raise SplitError("pools.by is empty. Fix: name a meta field (meta.source), quality or stat:<name>.")
    splitters = []
    for spec in specs:
        if not (spec == QUALITY or spec.startswith(STAT_PREFIX) or
                re.fullmatch(r"feedback:(self_loss|reference_ppl|importance|classifier)", spec) or
                re.fullmatch(r"meta\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", spec)):
            raise SplitError(f"pools.by: {spec!r} is not a splitter. Fix: use meta.<field>, quality, "
                             "stat:<name of a Data-Juicer stat> or feedback:<method>.")
        splitters.append(Splitter(spec, buckets))
    if len({splitter.label for splitter in splitters}) < len(splitters):
        raise SplitError(f"pools.by: {specs} names one thing twice. Fix: list each splitter once.")
    return splitters


def slug(value: str) -> str:
    """A value as a name part: lowercase, runs of anything but a letter or digit become _."""
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_") or "empty"


def quantile_edges(values: Sequence[float], buckets: int) -> list[float]:
    """The buckets - 1 inner edges that split values into equal-count buckets (lower edge inclusive)."""
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[min(len(ordered) - 1, (len(ordered) * k) // buckets)] for k in range(1, buckets)]


def bucket_of(value: float, edges: Sequence[float]) -> int:
    """1-based bucket of value: q1 below the first edge, ..., qM from the last edge on."""
    return bisect.bisect_right(edges, value) + 1


def part_names(splitter: Splitter, keys: Sequence[Any], edges: Sequence[float] | None) -> list[str]:
    """Each document's part under one splitter, from its key (a meta value or a score)."""
    if splitter.is_score:
        assert edges is not None
        return [f"{splitter.label}_q{bucket_of(float(key), edges)}" for key in keys]
    names = [f"{splitter.label}_{slug(key)}" for key in keys]
    by_name: dict[str, set[str]] = {}
    for name, key in zip(names, keys):
        by_name.setdefault(name, set()).add(str(key))
    clashes = {name: values for name, values in by_name.items() if len(values) > 1}
    if clashes:
        name, values = next(iter(clashes.items()))
        raise SplitError(f"{splitter.spec}: the values {sorted(values)} all become pool part {name!r}. "
                         "Fix: give them values that differ in more than case or punctuation.")
    return names


def pool_names(splitters: Sequence[Splitter], keys: dict[str, Sequence[Any]],
               edges: dict[str, list[float]]) -> list[str]:
    """Each document's pool: its parts under every splitter, joined by "-"."""
    columns = [part_names(splitter, keys[splitter.spec], edges.get(splitter.spec)) for splitter in splitters]
    return ["-".join(parts) for parts in zip(*columns)]
