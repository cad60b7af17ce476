"""Paired intervals, oracle gain and provenance, checked against hand-computed values."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
from pathlib import Path

from conftest import TINY_CONFIG, copy_workflow, planned_jobs, write_config

import numpy as np

from sandbox.bootstrap import Scores, bootstrap_bpb, oracle_fraction, paired_comparison
from sandbox.stats import paired_interval


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


def scores(nll_per_seed: list[list[float]], n_bytes: list[int], seeds: tuple[int, ...] | None = None) -> Scores:
    return Scores(seeds or tuple(range(len(nll_per_seed))), np.array(nll_per_seed, dtype=float),
                  np.array(n_bytes, dtype=float))


def test_a_constant_per_byte_gain_has_a_zero_width_interval_at_its_value() -> None:
    rng = np.random.default_rng(1)
    n_bytes = rng.integers(50, 500, size=200)
    baseline_bits = n_bytes * rng.uniform(1.5, 3.0, size=200)
    variants = {"raw": scores([baseline_bits], n_bytes), "k_sigma": scores([baseline_bits - 0.1 * n_bytes], n_bytes)}
    replicates = bootstrap_bpb(variants, samples=500, seed=0)
    points = {name: variant.bpb() for name, variant in variants.items()}
    comparison = paired_comparison("k_sigma", "raw", points, replicates, 0.95, n_seeds=1)
    assert math.isclose(comparison["mean_difference"], -0.1)
    assert math.isclose(comparison["ci_low"], -0.1) and math.isclose(comparison["ci_high"], -0.1)
    assert comparison["significant"] is True
    # in percent of raw the gain still varies with the resampled raw bpb, so only its point is exact
    low, high = comparison["relative_ci_percent"]
    assert math.isclose(comparison["relative_percent"], -0.1 / points["raw"] * 100)
    assert low <= comparison["relative_percent"] <= high


def test_document_bootstrap_matches_the_normal_approximation() -> None:
    # 1 seed, equal-length documents: the paired difference's standard error is sd(d) / sqrt(E),
    # so the 95 % interval's half-width is close to 1.96 * sd(d) / sqrt(E).
    rng = np.random.default_rng(2)
    docs = 400
    n_bytes = np.full(docs, 100)
    difficulty = rng.uniform(100, 400, size=docs)  # shared by both variants: pairing removes it
    per_doc_difference = rng.normal(-2.0, 10.0, size=docs)
    variants = {"raw": scores([difficulty], n_bytes), "recipe": scores([difficulty + per_doc_difference], n_bytes)}
    replicates = bootstrap_bpb(variants, samples=4000, seed=0)
    points = {name: variant.bpb() for name, variant in variants.items()}
    comparison = paired_comparison("recipe", "raw", points, replicates, 0.95, n_seeds=1)
    expected_half_width = 1.96 * (per_doc_difference / 100).std(ddof=1) / math.sqrt(docs)
    half_width = (comparison["ci_high"] - comparison["ci_low"]) / 2
    assert abs(half_width - expected_half_width) < 0.1 * expected_half_width
    unpaired_half_width = 1.96 * (difficulty / 100).std(ddof=1) / math.sqrt(docs)
    assert half_width < unpaired_half_width / 5, "pairing on documents removes their shared difficulty"


def test_seed_to_seed_spread_widens_the_interval() -> None:
    n_bytes = [100] * 50
    baseline = [[200.0] * 50] * 3
    # identical documents within a seed, a different offset per seed: only seed resampling sees it
    treated = [[190.0] * 50, [200.0] * 50, [170.0] * 50]
    variants = {"raw": scores(baseline, n_bytes), "recipe": scores(treated, n_bytes)}
    replicates = bootstrap_bpb(variants, samples=2000, seed=0)
    points = {name: variant.bpb() for name, variant in variants.items()}
    comparison = paired_comparison("recipe", "raw", points, replicates, 0.95, n_seeds=3)
    assert math.isclose(comparison["mean_difference"], (-0.1 + 0.0 - 0.3) / 3)
    assert comparison["ci_low"] <= -0.25 and comparison["ci_high"] >= -0.05, comparison


def test_bootstrap_uses_only_the_seeds_both_sides_have() -> None:
    n_bytes = [10, 20]
    variants = {"raw": scores([[10.0, 20.0], [30.0, 60.0]], n_bytes, seeds=(0, 1)),
                "trial0": scores([[5.0, 10.0]], n_bytes, seeds=(0,))}
    replicates = bootstrap_bpb(variants, samples=200, seed=0)
    assert np.allclose(replicates["raw"], 1.0) and np.allclose(replicates["trial0"], 0.5)


def test_oracle_fraction_with_its_interval() -> None:
    n_bytes = [100] * 30
    variants = {"raw": scores([[300.0] * 30], n_bytes), "k_sigma": scores([[250.0] * 30], n_bytes),
                "oracle": scores([[200.0] * 30], n_bytes)}
    replicates = bootstrap_bpb(variants, samples=300, seed=0)
    points = {name: variant.bpb() for name, variant in variants.items()}
    fraction = oracle_fraction("k_sigma", "raw", "oracle", points, replicates, 0.95)
    assert fraction == {"value": 0.5, "ci_low": 0.5, "ci_high": 0.5, "confidence": 0.95}
    assert oracle_fraction("oracle", "raw", "oracle", points, replicates, 0.95)["value"] == 1.0
    flat = {"raw": points["raw"], "oracle": points["raw"], "k_sigma": points["k_sigma"]}
    assert oracle_fraction("k_sigma", "raw", "oracle", flat, replicates, 0.95) is None


def test_agreement_flags_proxies_that_disagree_in_sign() -> None:
    from summarize import agreement

    def proxy(bpb: dict[str, float], significant_sign: float) -> dict:
        comparison = {"mean_difference": significant_sign, "significant": True}
        return {"variants": {name: {"heldout_bpb": value} for name, value in bpb.items()},
                "comparisons": {"k_sigma_vs_raw": comparison}}

    same = agreement({"ngram": proxy({"raw": 2.0, "k_sigma": 1.9, "oracle": 1.8}, -0.1),
                      "gpt": proxy({"raw": 3.0, "k_sigma": 2.9, "oracle": 2.7}, -0.1)})
    assert same["kendall_tau"]["ngram~gpt"] == 1.0 and not same["disagree"]
    assert same["comparisons"]["k_sigma_vs_raw"]["status"] == "agree"
    opposite = agreement({"ngram": proxy({"raw": 2.0, "k_sigma": 1.9, "oracle": 1.8}, -0.1),
                          "gpt": proxy({"raw": 2.9, "k_sigma": 3.0, "oracle": 2.7}, +0.1)})
    assert opposite["disagree"] and opposite["line"].startswith("Proxies DISAGREE")
    assert opposite["kendall_tau"]["ngram~gpt"] < 1.0


def test_untagged_data_plans_no_oracle(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "wf")
    data = workdir / "untagged.jsonl"
    data.write_text("".join(json.dumps({"text": f"plain document {i} " * 20}) + "\n" for i in range(50)))
    config = write_config(workdir, {**TINY_CONFIG, "dataset_path": str(data)})
    jobs = planned_jobs(workdir, "--configfile", str(config))
    assert "select_oracle" not in jobs
    assert jobs["train_gpt"] == jobs["train_ngram"] == 2 * 3  # raw, recipe, k_sigma x 2 seeds


def provenance_args(repo: Path, recipe: Path, data: Path, meta: Path, out: Path) -> argparse.Namespace:
    return argparse.Namespace(repo=repo, config_json=json.dumps({"seeds": [0], "proxies": ["gpt"]}), recipe=recipe,
                              inputs=[data],
                              op_counts=[], train_meta=[meta], snakemake_version="9", out=out)


def test_provenance_hashes_the_recipe_and_flags_a_dirty_tree(tmp_path: Path) -> None:
    from provenance import build_provenance

    repo = tmp_path / "repo"
    repo.mkdir()
    recipe, data, meta = repo / "recipe.yaml", repo / "data.jsonl", repo / "meta.json"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 10}\n")
    data.write_text('{"text": "x"}\n')
    meta.write_text('{"torch_version": "2.13.0", "tokens_budget": 4096}')
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


def test_noise_tagged_eval_documents_are_warned_about_with_the_fix(tmp_path: Path) -> None:
    from summarize import eval_set_warnings

    rows = [{"text": "a", "meta": {"origin": "clean"}}, {"text": "b", "meta": {"origin": "noise:boilerplate"}},
            {"text": "c", "meta": {"origin": "noise:spam"}}, {"text": "d"}]
    noisy = tmp_path / "noisy.jsonl"
    noisy.write_text("".join(json.dumps(row) + "\n" for row in rows))
    [warning] = eval_set_warnings(noisy)
    assert warning.startswith(f"2 of 4 eval documents ({noisy}) are tagged noise") and "Fix: set eval_path" in warning
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(row) + "\n" for row in rows if "noise" not in str(row)))
    assert eval_set_warnings(clean) == [] and eval_set_warnings(None) == []


def test_the_data_table_shows_each_proxys_distinct_training_bytes_and_epochs() -> None:
    from evaluate import training_exposure
    from summarize import data_markdown

    ngram = training_exposure({0: {"distinct_train_bytes": 1_038_802, "epochs": 1.0},
                               1: {"distinct_train_bytes": 1_038_802, "epochs": 1.0}})
    assert ngram["train_distinct_bytes"] == 1_038_802 and ngram["train_epochs"] == 1.0
    assert ngram["train_epochs_per_seed"] == {"0": 1.0, "1": 1.0}
    gpt = training_exposure({0: {"distinct_train_bytes": 1_038_802, "epochs": 1.1},
                             1: {"distinct_train_bytes": 1_038_802, "epochs": 1.3}})
    assert math.isclose(gpt["train_epochs"], 1.2)
    # a command proxy need not state them
    assert training_exposure({0: {}})["train_distinct_bytes"] is None

    variants = {"raw": {"docs": 3000, "kept_fraction": 1.0}, "oracle": {"docs": 1950, "kept_fraction": 0.65}}
    proxies = {"ngram": {"variants": {"raw": {"train_distinct_bytes": 1_226_750, "train_epochs": 0.697},
                                      "oracle": ngram}},
               "gpt": {"variants": {"oracle": gpt}}}
    lines = data_markdown(variants, proxies)
    header = next(line for line in lines if line.startswith("| variant"))
    assert header.endswith("| `ngram`: distinct bytes × epochs | `gpt`: distinct bytes × epochs |")
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines if line.startswith("| ")}
    assert rows["raw"].endswith("| 1.23 MB × 0.70 | – |")
    assert rows["oracle"].endswith("| 1.04 MB × 1.00 | 1.04 MB × 1.20 |")
    assert len(lines[lines.index(header) + 1].split("|")) == len(header.split("|"))
    # without proxies (older callers), the table is as it was
    assert data_markdown(variants)[3] == "| variant | documents | kept fraction | noise precision | noise recall |"
