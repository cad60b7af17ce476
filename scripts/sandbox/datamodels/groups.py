"""The groups a datamodels run switches on and off: a recipe's ops (over the cached stats, as the mask
path applies them), the values of a metadata field, or single documents. Needs Data-Juicer for the ops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sandbox.datamodels.subsets import meta_value
from sandbox.io.jsonl import InputError
from sandbox.recipe.dj import register_custom_operators
from sandbox.recipe.masks import apply_ops, choose_path, read_stats_cache
from sandbox.recipe.recipe_file import load_recipe, op_names


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
