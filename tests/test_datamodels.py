"""Datamodels: linear fits recover known effects, the LDS tells signal from noise, and the store
resumes and extends through Snakemake's own plan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from conftest import TINY_CONFIG, planned_jobs, snakemake, write_config
from sandbox.datamodels.linear import analyse, linear_datamodeling_score
from sandbox.datamodels.subsets import read_store, subset_mask, write_store

# the tiny run's own: its main target runs them and adds them to summary.md
TINY_DATAMODELS = TINY_CONFIG["datamodels"]


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


def test_store_resumes_and_extends_through_snakemakes_plan(tiny_run: Path) -> None:
    config = write_config(tiny_run, {**TINY_CONFIG, "datamodels": TINY_DATAMODELS}, name="dm-config.yaml")
    result = snakemake(tiny_run, "datamodels", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    folder = tiny_run / "results/tiny/datamodels/ops"
    store = read_store(folder / "store")
    recipe_ops = yaml.safe_load((tiny_run / "results/tiny/recipes/k_sigma.yaml").read_text())["process"]
    assert store.masks.shape == (8, len(recipe_ops)) and store.margins.shape[0] == 8
    assert np.isfinite(store.bpb).all() and len({float(value) for value in store.bpb}) > 1
    first_masks, first_bpb = np.array(store.masks), np.array(store.bpb)
    summary = json.loads((folder / "summary.json").read_text())
    assert {group["group"] for group in summary["groups"]} == set(store.groups)

    # Nothing to do on a rerun. A run killed after the first chunk (the second chunk, the store and
    # the fit missing) resumes with the second chunk alone, then the store and fit.
    assert planned_jobs(tiny_run, "datamodels", "--configfile", str(config)) == {}
    for lost in ("chunks/4-8.npz", "store/index.json", "summary.json"):
        (folder / lost).unlink()
    assert planned_jobs(tiny_run, "datamodels", "--configfile", str(config)) == {
        "datamodels_train": 1, "datamodels_store": 1, "datamodels_fit": 1, "datamodels": 1}

    # Raising models to 12 trains only models 8-11 (and redoes the lost chunk); the first 8 stay as they were.
    more = write_config(tiny_run, {**TINY_CONFIG, "datamodels": {**TINY_DATAMODELS, "models": 12}},
                        name="dm-config-12.yaml")
    assert planned_jobs(tiny_run, "datamodels", "--configfile", str(more))["datamodels_train"] == 2
    result = snakemake(tiny_run, "datamodels", "--cores", "2", "--configfile", str(more))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    extended = read_store(folder / "store")
    assert extended.masks.shape[0] == 12
    assert np.array_equal(extended.masks[:8], first_masks)
    assert np.array_equal(extended.bpb[:8], first_bpb)

    # The main summary reports the datamodels (in_summary); back at 8 models, the store and fit
    # follow and the summary is rewritten from them.
    tiny = write_config(tiny_run, TINY_CONFIG)
    result = snakemake(tiny_run, "--cores", "2", "--configfile", str(tiny))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    main_summary = json.loads((tiny_run / "results/tiny/summary.json").read_text())
    assert main_summary["datamodels"]["models"]["total"] == 8
    assert main_summary["datamodels"]["groups"] == json.loads((folder / "summary.json").read_text())["groups"]
    markdown = (tiny_run / "results/tiny/summary.md").read_text()
    assert "## Which operators matter (linear datamodels)" in markdown
    assert f"| 1 | {main_summary['datamodels']['groups'][0]['group']} |" in markdown


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
