"""The datamodels' store through Snakemake's own plan, on a copy of the tiny run: it resumes after a
killed run, extends when models are raised, and feeds the main summary (the fits themselves are checked
in process in unit/test_datamodels.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from conftest import TINY_CONFIG, planned_jobs, snakemake, write_config
from sandbox.datamodels.subsets import read_store

# the tiny run's own: its main target runs them and adds them to summary.md
TINY_DATAMODELS = TINY_CONFIG["datamodels"]


def test_store_resumes_and_extends_through_snakemakes_plan(tiny_run_copy: Path) -> None:
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "datamodels": TINY_DATAMODELS},
                          name="dm-config.yaml")
    result = snakemake(tiny_run_copy, "datamodels", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    folder = tiny_run_copy / "results/tiny/datamodels/ops"
    store = read_store(folder / "store")
    recipe_ops = yaml.safe_load((tiny_run_copy / "results/tiny/recipes/k_sigma.yaml").read_text())["process"]
    assert store.masks.shape == (8, len(recipe_ops)) and store.margins.shape[0] == 8
    assert np.isfinite(store.bpb).all() and len({float(value) for value in store.bpb}) > 1
    first_masks, first_bpb = np.array(store.masks), np.array(store.bpb)
    summary = json.loads((folder / "summary.json").read_text())
    assert {group["group"] for group in summary["groups"]} == set(store.groups)

    # Nothing to do on a rerun. A run killed after the first chunk (the second chunk, the store and
    # the fit missing) resumes with the second chunk alone, then the store and fit.
    assert planned_jobs(tiny_run_copy, "datamodels", "--configfile", str(config)) == {}
    for lost in ("chunks/4-8.npz", "store/index.json", "summary.json"):
        (folder / lost).unlink()
    assert planned_jobs(tiny_run_copy, "datamodels", "--configfile", str(config)) == {
        "datamodels_train": 1, "datamodels_store": 1, "datamodels_fit": 1, "datamodels": 1}

    # Raising models to 12 trains only models 8-11 (and redoes the lost chunk); the first 8 stay as they were.
    more = write_config(tiny_run_copy, {**TINY_CONFIG, "datamodels": {**TINY_DATAMODELS, "models": 12}},
                        name="dm-config-12.yaml")
    assert planned_jobs(tiny_run_copy, "datamodels", "--configfile", str(more))["datamodels_train"] == 2
    result = snakemake(tiny_run_copy, "datamodels", "--cores", "2", "--configfile", str(more))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    extended = read_store(folder / "store")
    assert extended.masks.shape[0] == 12
    assert np.array_equal(extended.masks[:8], first_masks)
    assert np.array_equal(extended.bpb[:8], first_bpb)

    # The main summary reports the datamodels (in_summary); back at 8 models, the store and fit
    # follow and the summary is rewritten from them.
    tiny = write_config(tiny_run_copy, TINY_CONFIG)
    result = snakemake(tiny_run_copy, "--cores", "2", "--configfile", str(tiny))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    main_summary = json.loads((tiny_run_copy / "results/tiny/summary.json").read_text())
    assert main_summary["datamodels"]["models"]["total"] == 8
    assert main_summary["datamodels"]["groups"] == json.loads((folder / "summary.json").read_text())["groups"]
    markdown = (tiny_run_copy / "results/tiny/summary.md").read_text()
    assert "## Which operators matter (linear datamodels)" in markdown
    assert f"| 1 | {main_summary['datamodels']['groups'][0]['group']} |" in markdown
