"""Datamodels: linear fits recover known effects, the LDS tells signal from noise (the store through
Snakemake's own plan: workflow/test_datamodels_store.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sandbox.datamodels.linear import analyse, linear_datamodeling_score
from sandbox.datamodels.subsets import read_store, subset_mask, write_store


def synthetic_store(folder: Path, effects: np.ndarray, noise: float, models: int = 240,
                    documents: int = 30) -> None:
    """A store whose outputs are linear in the masks: margins = 2 + masks @ per-document effects + noise."""
    rng = np.random.default_rng(1)
    masks = np.array([subset_mask(0, m, len(effects), 0.5) for m in range(models)])
    # every document shares the group effects, scaled by its own positive weight
    weights = rng.uniform(0.5, 1.5, documents)
    margins = 2.0 + (masks @ effects)[:, None] * weights[None, :] + rng.normal(0, noise, (models, documents))
    bpb = margins.mean(axis=1)
    write_store(folder, {"masks": masks, "margins": margins.astype(np.float32), "bpb": bpb,
                         "train_docs": np.full(models, 100)},
                {"groups": [f"g{i}" for i in range(len(effects))], "group_by": "ops", "models": models,
                 "alpha": 0.5, "seed": 0})


def test_known_linear_effects_are_recovered_with_lds_near_one(tmp_path: Path) -> None:
    effects = np.array([-0.05, 0.0, 0.03, -0.01, 0.0, 0.02])
    synthetic_store(tmp_path, effects, noise=0.002)
    result = analyse(read_store(tmp_path), "ridge", holdout_every=4, samples=200, confidence=0.95, seed=0)
    by_group = {group["group"]: group for group in result["groups"]}
    weight_mean = np.mean(np.random.default_rng(1).uniform(0.5, 1.5, 30))
    for index, truth in enumerate(effects):
        group = by_group[f"g{index}"]
        assert abs(group["effect_bpb"] - truth * weight_mean) < 0.003, group
        assert group["resolved"] == (truth != 0), group
    assert [group["group"] for group in result["groups"]][0] == "g0"  # the most helpful group ranks first
    assert result["lds"]["documents"] > 0.9
    assert result["lds"]["mean_bpb"] > 0.95


def test_lds_is_near_zero_when_outputs_ignore_the_masks(tmp_path: Path) -> None:
    synthetic_store(tmp_path, np.zeros(6), noise=0.01)
    result = analyse(read_store(tmp_path), "ridge", holdout_every=4, samples=50, confidence=0.95, seed=0)
    assert abs(result["lds"]["documents"]) < 0.15
    assert sum(group["resolved"] for group in result["groups"]) <= 1


def test_lds_is_a_mean_of_per_document_spearman_correlations() -> None:
    actual = np.array([[1.0, 4.0], [2.0, 3.0], [3.0, 2.0], [4.0, 1.0]])
    predicted = np.array([[10.0, 0.0], [20.0, 1.0], [30.0, 2.0], [40.0, 3.0]])
    assert linear_datamodeling_score(predicted, actual) == (0.0, 2)  # +1 and -1
    assert linear_datamodeling_score(predicted[:, :1], actual[:, :1]) == (1.0, 1)


def test_lasso_fits_too(tmp_path: Path) -> None:
    synthetic_store(tmp_path, np.array([-0.05, 0.0, 0.03]), noise=0.002, models=80, documents=5)
    result = analyse(read_store(tmp_path), "lasso", holdout_every=4, samples=20, confidence=0.95, seed=0)
    assert result["groups"][0]["group"] == "g0" and result["lds"]["mean_bpb"] > 0.9


def test_a_document_without_the_group_field_is_named_with_the_fix(tmp_path: Path) -> None:
    import pytest

    from sandbox.datamodels.groups import MetaGroups
    from sandbox.io.jsonl import InputError

    pool = [{"text": "a", "meta": {"source": "x"}}, {"text": "b", "meta": {}}]
    with pytest.raises(InputError, match=r"pool.jsonl: document 2 has no 'meta.source'.*Fix"):
        MetaGroups(pool, "meta.source", tmp_path / "pool.jsonl")
    groups = MetaGroups(pool[:1] * 3 + [{"text": "c", "meta": {"source": "y"}}], "meta.source",
                        tmp_path / "p")
    assert groups.names == ["x", "y"]
    assert groups.kept_positions(np.array([False, True])).tolist() == [3]
    from sandbox.datamodels.groups import DocumentGroups

    documents = DocumentGroups([{"sandbox_row": 7}, {"sandbox_row": 9}])
    assert documents.names == ["7", "9"] and documents.kept_positions(np.array([True, False])).tolist() == [0]
