"""Paired intervals, oracle gain and provenance, checked against hand-computed values."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
from pathlib import Path

from conftest import TINY_CONFIG, copy_workflow, planned_jobs, write_config

from sandbox.stats import paired_interval
from summarize import add_oracle_gain


def test_paired_interval_matches_a_hand_computed_example() -> None:
    # differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(0.975, df=2) = 4.302653, half width 0.248414
    treated = {0: 1.1, 1: 2.2, 2: 3.3}
    baseline = {0: 1.0, 1: 2.0, 2: 3.0}
    result = paired_interval(treated, baseline)
    assert result["n"] == 3
    assert math.isclose(result["mean_difference"], 0.2)
    assert math.isclose(result["ci_low"], 0.2 - 0.2484138, abs_tol=1e-6)
    assert math.isclose(result["ci_high"], 0.2 + 0.2484138, abs_tol=1e-6)
    assert result["significant"] is False


def test_significance_flips_when_the_interval_leaves_zero() -> None:
    baseline = {0: 1.0, 1: 2.0, 2: 3.0}
    assert paired_interval({0: 1.1, 1: 2.2, 2: 3.3}, baseline)["significant"] is False
    narrow = paired_interval({0: 1.19, 1: 2.2, 2: 3.21}, baseline)  # differences 0.19, 0.2, 0.21
    assert narrow["ci_low"] > 0 and narrow["significant"] is True
    improved = paired_interval({0: 0.81, 1: 1.8, 2: 2.79}, baseline)
    assert improved["ci_high"] < 0 and improved["significant"] is True


def test_one_seed_gives_no_interval() -> None:
    result = paired_interval({0: 1.5}, {0: 1.0, 1: 2.0})
    assert result["n"] == 1 and result["ci_low"] is None and result["significant"] is None


def test_oracle_gain_only_with_an_oracle() -> None:
    with_oracle = {"raw": {"heldout_bpb": 3.0}, "k_sigma": {"heldout_bpb": 2.5}, "oracle": {"heldout_bpb": 2.0}}
    add_oracle_gain(with_oracle)
    assert with_oracle["k_sigma"]["fraction_of_oracle_gain"] == 0.5
    assert with_oracle["oracle"]["fraction_of_oracle_gain"] == 1.0
    without = {"raw": {"heldout_bpb": 3.0}, "k_sigma": {"heldout_bpb": 2.5}}
    add_oracle_gain(without)
    assert "fraction_of_oracle_gain" not in without["k_sigma"]


def test_untagged_data_plans_no_oracle(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "wf")
    data = workdir / "untagged.jsonl"
    data.write_text("".join(json.dumps({"text": f"plain document {i} " * 20}) + "\n" for i in range(50)))
    config = write_config(workdir, {**TINY_CONFIG, "dataset_path": str(data)})
    jobs = planned_jobs(workdir, "--configfile", str(config))
    assert "select_oracle" not in jobs and jobs["train"] == 2 * 3  # raw, recipe, k_sigma x 2 seeds


def provenance_args(repo: Path, recipe: Path, data: Path, meta: Path, out: Path) -> argparse.Namespace:
    return argparse.Namespace(repo=repo, config_json=json.dumps({"seeds": [0]}), recipe=recipe, inputs=[data],
                              op_counts=[], train_meta=[meta], snakemake_version="9", out=out)


def test_provenance_hashes_the_recipe_and_flags_a_dirty_tree(tmp_path: Path) -> None:
    from provenance import build_provenance

    repo = tmp_path / "repo"
    repo.mkdir()
    recipe, data, meta = repo / "recipe.yaml", repo / "data.jsonl", repo / "meta.json"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 10}\n")
    data.write_text('{"text": "x"}\n')
    meta.write_text('{"torch_version": "2.13.0"}')
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    args = provenance_args(repo, recipe, data, meta, tmp_path / "p.json")

    clean = build_provenance(args)
    assert clean["git"]["dirty"] is False and len(clean["git"]["commit"]) == 40
    recipe.write_text("process:\n  - text_length_filter: {min_len: 20}\n")
    dirty = build_provenance(args)
    assert dirty["git"]["dirty"] is True
    assert dirty["recipe"]["sha256"] != clean["recipe"]["sha256"]
    assert dirty["inputs"] == clean["inputs"]
