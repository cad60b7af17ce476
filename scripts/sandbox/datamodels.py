"""Datamodels over groups: which operator or data source earns its place.

Each model m trains the fast proxy on the documents a random subset of groups leaves (a group is an
operator of the recipe, switched on or off, or one value of a metadata field), at the same budget as
every other model. Its outputs are the held-out bits per byte of each eval document (the margins)
and of the whole eval set. Linear datamodels (sandbox/linear_datamodels.py) then map the subset's
0/1 vector to each output; a coefficient is what switching that group on adds to the output with the
others held fixed.

The store is contiguous: masks.npy (M x G bool), margins.npy (M x E float32), bpb.npy and
train_docs.npy (M), memory-mapped when read, plus index.json (groups, shapes, the chunks it was
assembled from). Subset m is drawn from (seed, m) alone, so raising M keeps the first M models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sandbox.dj import register_custom_operators
from sandbox.jsonl import InputError
from sandbox.masks import apply_ops, choose_path, read_stats_cache
from sandbox.recipe import load_recipe, op_names

STORE_FORMAT = "recipe-sandbox-datamodels-v1"
ARRAYS = ("masks", "margins", "bpb", "train_docs")


def subset_mask(seed: int, model_index: int, n_groups: int, alpha: float) -> np.ndarray:
    """Which groups model model_index includes: each independently with probability alpha."""
    rng = np.random.default_rng([seed, model_index])
    return rng.random(n_groups) < alpha


def meta_value(record: dict[str, Any], dotted_key: str) -> Any:
    """The value at a dotted path (meta.source) of a record; KeyError naming the missing part (the
    working pool writes a field some documents lack as "" there, so "" is missing too)."""
    value: Any = record
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or value.get(part) in (None, ""):
            raise KeyError(part)
        value = value[part]
    return value


@dataclass
class Store:
    """A datamodels store in memory (arrays memory-mapped when read from disk)."""

    masks: np.ndarray
    margins: np.ndarray
    bpb: np.ndarray
    train_docs: np.ndarray
    index: dict[str, Any]

    @property
    def groups(self) -> list[str]:
        return list(self.index["groups"])


def write_store(folder: Path, arrays: dict[str, np.ndarray], index: dict[str, Any]) -> None:
    """Write each array as .npy and index.json last, so a store with an index is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    shapes = {}
    for name in ARRAYS:
        target = np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=arrays[name].dtype,
                                           shape=arrays[name].shape)
        target[...] = arrays[name]
        target.flush()
        shapes[name] = {"shape": list(arrays[name].shape), "dtype": str(arrays[name].dtype)}
        del target
    partial = folder / "index.json.partial"
    partial.write_text(json.dumps({"format": STORE_FORMAT, **index, "arrays": shapes}, indent=2) + "\n",
                       encoding="utf-8")
    partial.replace(folder / "index.json")


def read_store(folder: Path) -> Store:
    """The store in folder, arrays memory-mapped read-only."""
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    if index.get("format") != STORE_FORMAT:
        raise ValueError(f"{folder}: not a datamodels store (format {index.get('format')!r})")
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
    return Store(index=index, **arrays)


def holdout_models(n_models: int, every: int) -> np.ndarray:
    """Held-out flags: every `every`-th model (by index), so raising M keeps earlier models' roles."""
    return np.arange(n_models) % every == every - 1


def usable_models(bpb: np.ndarray) -> np.ndarray:
    """Models that trained (a subset with no documents has NaN outputs)."""
    return np.isfinite(bpb)


def group_names_for_ops(names: Sequence[str]) -> list[str]:
    """Operator groups by recipe position, so two ops of one kind stay apart."""
    return [f"{position}:{name}" for position, name in enumerate(names)]


class OpGroups:
    """Subsets of the recipe's ops, each applied to the cached stats in recipe order (the mask path)."""

    def __init__(self, recipe_path: Path, stats_cache: Path, pool_rows: list[int]) -> None:
        recipe = load_recipe(recipe_path)
        register_custom_operators(recipe)
        self.names = group_names_for_ops(op_names(recipe["process"]))
        self.cache = read_stats_cache(stats_cache)
        if self.cache.rows.tolist() != pool_rows:
            raise InputError(f"{stats_cache} does not list the pool's documents in order. "
                             "Fix: rerun the raw analysis (snakemake --forcerun analyze).")
        # No analysed recipe comes with the job, so the recipe stands for it: what is decided is that no
        # mapper runs before a filter and that each op is a filter or an exact deduplicator with a hash.
        choice = choose_path(recipe, recipe, self.cache)
        if not choice.is_mask:
            raise InputError(
                f"{recipe_path}: datamodels with group_by: ops switch each op on and off over the cached "
                f"stats, but {choice.executor_reason}. Fix: use a recipe of filters and exact deduplicators, "
                "or group by a metadata field (datamodels.group_by: meta.source).")
        self.ops = choice.ops

    def kept_positions(self, mask: np.ndarray) -> np.ndarray:
        included = np.flatnonzero(mask).tolist()
        return apply_ops([self.ops[i] for i in included], self.cache, included).kept


class MetaGroups:
    """Subsets of a metadata field's values: a subset keeps the documents whose value it includes."""

    def __init__(self, pool: list[dict[str, Any]], field: str, pool_path: Path) -> None:
        values = []
        for line, record in enumerate(pool, start=1):
            try:
                values.append(str(meta_value(record, field)))
            except KeyError as missing:
                raise InputError(
                    f"{pool_path}: document {line} has no '{field}' ('{missing.args[0]}' is missing), so it "
                    f"belongs to no group. Fix: give every document a '{field}', or set datamodels.group_by "
                    "to ops or to another field.") from None
        self.names = sorted(set(values))
        group_of = {name: position for position, name in enumerate(self.names)}
        self.group_per_doc = np.array([group_of[value] for value in values])

    def kept_positions(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask[self.group_per_doc])


class DocumentGroups:
    """Each document its own group (named by its sandbox_row)."""

    def __init__(self, pool: list[dict[str, Any]]) -> None:
        self.names = [str(record["sandbox_row"]) for record in pool]

    def kept_positions(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)
