"""Paired intervals, oracle gain and provenance, checked against hand-computed values (the oracle in
Snakemake's own plan: workflow/test_comparisons_plan.py)."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from sandbox.proxies.entry import Proxy
from sandbox.proxies.registry import REGISTRY
from sandbox.stats.bootstrap import (
    Scores,
    aligned,
    oracle_fraction,
    paired_comparison,
    paired_test,
    variance_components,
)
from sandbox.stats.paired_t import paired_interval


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


def scores(nll_per_seed: list[list[float]], n_bytes: list[int],
           seeds: tuple[int, ...] | None = None) -> Scores:
    return Scores(seeds or tuple(range(len(nll_per_seed))), np.array(nll_per_seed, dtype=float),
                  np.array(n_bytes, dtype=float))


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> str:
    """A proxy registered as deterministic: the same scores for every seed."""
    monkeypatch.setitem(REGISTRY, "frozen",
                        Proxy("frozen", env="base.yaml", deterministic=True, seed_effect="nothing"))
    return "frozen"


def test_a_constant_per_byte_gain_has_a_zero_width_interval_at_its_value(frozen: str) -> None:
    rng = np.random.default_rng(1)
    n_bytes = rng.integers(50, 500, size=200)
    baseline_bits = n_bytes * rng.uniform(1.5, 3.0, size=200)
    variants = {"raw": scores([baseline_bits], n_bytes),
                "k_sigma": scores([baseline_bits - 0.1 * n_bytes], n_bytes)}
    comparison = paired_comparison("k_sigma", "raw", variants, 0.95, frozen)
    assert math.isclose(comparison["mean_difference"], -0.1)
    assert math.isclose(comparison["ci_low"], -0.1) and math.isclose(comparison["ci_high"], -0.1)
    assert comparison["significant"] is True and comparison["no_claim"] is None
    low, high = comparison["relative_ci_percent"]
    assert math.isclose(comparison["relative_percent"], -0.1 / variants["raw"].bpb() * 100)
    assert (math.isclose(low, comparison["relative_percent"])
            and math.isclose(high, comparison["relative_percent"]))


def test_one_seed_of_a_seed_dependent_proxy_makes_no_claim_and_says_why() -> None:
    n_bytes = [100] * 50
    variants = {"raw": scores([[200.0] * 50], n_bytes), "recipe": scores([[150.0] * 50], n_bytes)}
    for proxy in ("gpt", "ngram", "hf", "command", "unknown"):
        comparison = paired_comparison("recipe", "raw", variants, 0.95, proxy)
        assert comparison["significant"] is None and comparison["ci_low"] is None, proxy
        assert comparison["relative_ci_percent"] is None and comparison["mde_percent"] is None
        assert comparison["no_claim"].startswith(f"one seed of {proxy}, whose scores depend on the seed")
        assert math.isclose(comparison["relative_percent"], -25.0)
    variants["oracle"] = scores([[100.0] * 50], n_bytes)
    fraction = oracle_fraction("recipe", "raw", "oracle", variants, 0.95, "gpt")
    assert fraction["value"] == 0.5 and fraction["ci_low"] is None and fraction["no_claim"]


def test_document_component_is_the_paired_standard_error(frozen: str) -> None:
    # 1 seed, equal-length documents: the paired difference's standard error is sd(d) / sqrt(E), and
    # the 95 % interval is t(0.975, E - 1) of them either side
    rng = np.random.default_rng(2)
    docs = 400
    n_bytes = np.full(docs, 100)
    difficulty = rng.uniform(100, 400, size=docs)  # shared by both variants: pairing removes it
    per_doc_difference = rng.normal(-2.0, 10.0, size=docs)
    variants = {"raw": scores([difficulty], n_bytes),
                "recipe": scores([difficulty + per_doc_difference], n_bytes)}
    comparison = paired_comparison("recipe", "raw", variants, 0.95, frozen)
    se = (per_doc_difference / 100).std(ddof=1) / math.sqrt(docs)
    assert math.isclose(comparison["se"], se) and comparison["df"] == docs - 1
    assert math.isclose(comparison["ci_high"] - comparison["mean_difference"],
                        student_t.ppf(0.975, docs - 1) * se)
    # minimum detectable effect at 80 % power: about 1.97 + 0.84 standard errors with this many df
    mde = comparison["mde_percent"] / comparison["relative_percent"] * comparison["mean_difference"]
    assert 2.80 < mde / se < 2.83
    unpaired_se = (difficulty / 100).std(ddof=1) / math.sqrt(docs)
    assert se < unpaired_se / 5, "pairing on documents removes their shared difficulty"


def test_components_match_a_hand_computed_two_way_layout() -> None:
    # 2 seeds x 3 documents of 10 bytes; differences in bits per cell
    cells = np.array([[1.0, 2.0, 6.0], [3.0, 1.0, 8.0]])
    n_bytes = np.full(3, 10.0)
    estimate, document, seed, interaction = variance_components(cells, n_bytes)
    # per seed: 9/30, 12/30; mean 0.35; per document (seed mean): 2, 1.5, 7 bits
    assert math.isclose(estimate, 0.35)
    linear = np.array([2.0, 1.5, 7.0]) - 0.35 * 10
    assert math.isclose(document, 3 / 2 * (linear**2).sum() / 30**2)
    assert math.isclose(seed, np.var([0.3, 0.4], ddof=1) / 2)
    residual = cells - np.array([2.0, 1.5, 7.0]) - np.array([[-0.05], [0.05]]) * 10
    assert math.isclose(interaction, 3 / 2 * (residual**2).sum() / (1 * 2 * 30**2))


def test_seed_to_seed_spread_widens_the_interval_to_the_t_interval_over_seeds() -> None:
    n_bytes = [100] * 50
    baseline = [[200.0] * 50] * 3
    # identical documents within a seed, a different offset per seed: only the seed component sees it
    treated = [[190.0] * 50, [200.0] * 50, [170.0] * 50]
    variants = {"raw": scores(baseline, n_bytes), "recipe": scores(treated, n_bytes)}
    comparison = paired_comparison("recipe", "raw", variants, 0.95, "gpt")
    assert math.isclose(comparison["mean_difference"], (-0.1 + 0.0 - 0.3) / 3)
    t_interval = paired_interval(variants["recipe"].per_seed_bpb(), variants["raw"].per_seed_bpb())
    assert math.isclose(comparison["ci_low"], t_interval["ci_low"])
    assert math.isclose(comparison["ci_high"], t_interval["ci_high"])
    assert comparison["significant"] is False and comparison["df"] == 2


def test_intervals_cover_the_t_interval_over_seeds() -> None:
    # GPT-like: a per-model offset far above the per-document noise
    rng = np.random.default_rng(3)
    n_bytes = rng.integers(200, 1500, size=300)
    for _ in range(20):
        bpb = 2.5 + 0.02 * rng.standard_normal((2, 3, 1)) + 0.05 * rng.standard_normal((2, 3, 300))
        variants = {"raw": scores(list(bpb[0] * n_bytes), n_bytes),
                    "recipe": scores(list(bpb[1] * n_bytes), n_bytes)}
        comparison = paired_comparison("recipe", "raw", variants, 0.95, "gpt")
        t_interval = paired_interval(variants["recipe"].per_seed_bpb(), variants["raw"].per_seed_bpb())
        assert comparison["ci_low"] <= t_interval["ci_low"] + 1e-12
        assert comparison["ci_high"] >= t_interval["ci_high"] - 1e-12


def test_comparisons_use_only_the_seeds_both_sides_have() -> None:
    n_bytes = [10, 20]
    variants = {"raw": scores([[10.0, 20.0], [30.0, 60.0]], n_bytes, seeds=(0, 1)),
                "trial0": scores([[5.0, 10.0]], n_bytes, seeds=(0,))}
    paired = aligned(variants)
    assert paired["raw"].seeds == paired["trial0"].seeds == (0,)
    assert paired["raw"].bpb() == 1.0 and paired["trial0"].bpb() == 0.5
    comparison = paired_comparison("trial0", "raw", variants, 0.95, "gpt")
    assert comparison["n_seeds"] == 1 and comparison["mean_difference"] == -0.5


def test_oracle_fraction_with_its_interval(frozen: str) -> None:
    n_bytes = [100] * 30
    variants = {"raw": scores([[300.0] * 30], n_bytes), "k_sigma": scores([[250.0] * 30], n_bytes),
                "oracle": scores([[200.0] * 30], n_bytes)}
    fraction = oracle_fraction("k_sigma", "raw", "oracle", variants, 0.95, frozen)
    assert fraction == {"value": 0.5, "ci_low": 0.5, "ci_high": 0.5, "confidence": 0.95}
    assert oracle_fraction("oracle", "raw", "oracle", variants, 0.95, frozen)["value"] == 1.0
    flat = {**variants, "oracle": variants["raw"]}
    assert oracle_fraction("k_sigma", "raw", "oracle", flat, 0.95, frozen) is None


def test_oracle_fraction_interval_is_the_delta_method() -> None:
    rng = np.random.default_rng(4)
    n_bytes = np.full(200, 100.0)
    noise = rng.normal(0, 5.0, size=(3, 3, 200))
    bits = {name: 250.0 - shift + noise[index] for index, (name, shift) in
            enumerate({"raw": 0.0, "k_sigma": 10.0, "oracle": 20.0}.items())}
    variants = {name: scores(list(value), list(n_bytes)) for name, value in bits.items()}
    fraction = oracle_fraction("k_sigma", "raw", "oracle", variants, 0.95, "gpt")
    gap = variants["raw"].bpb() - variants["oracle"].bpb()
    contrast = bits["raw"] - bits["k_sigma"] - fraction["value"] * (bits["raw"] - bits["oracle"])
    half_width = float(paired_test(contrast, n_bytes, 0.95).half_width) / gap
    assert math.isclose(fraction["ci_high"] - fraction["value"], half_width)
    assert fraction["ci_low"] < 0.5 < fraction["ci_high"]


def test_agreement_flags_proxies_that_disagree_in_sign() -> None:
    from sandbox.summary.verdict import agreement

    def proxy(bpb: dict[str, float], significant_sign: float) -> dict:
        comparison = {"mean_difference": significant_sign, "significant": True}
        return {"variants": {name: {"test_bpb": value} for name, value in bpb.items()},
                "comparisons": {"k_sigma_vs_raw": comparison}}

    same = agreement({"ngram": proxy({"raw": 2.0, "k_sigma": 1.9, "oracle": 1.8}, -0.1),
                      "gpt": proxy({"raw": 3.0, "k_sigma": 2.9, "oracle": 2.7}, -0.1)})
    assert same["kendall_tau"]["ngram~gpt"] == 1.0 and not same["disagree"]
    assert same["comparisons"]["k_sigma_vs_raw"]["status"] == "agree"
    opposite = agreement({"ngram": proxy({"raw": 2.0, "k_sigma": 1.9, "oracle": 1.8}, -0.1),
                          "gpt": proxy({"raw": 2.9, "k_sigma": 3.0, "oracle": 2.7}, +0.1)})
    assert opposite["disagree"] and opposite["line"].startswith("Proxies DISAGREE")
    assert opposite["kendall_tau"]["ngram~gpt"] < 1.0


def provenance_args(repo: Path, recipe: Path, data: Path, meta: Path, out: Path,
                    locks: list[Path] | None = None) -> argparse.Namespace:
    return argparse.Namespace(repo=repo, config_json=json.dumps({"seeds": [0], "proxies": ["gpt"]}),
                              recipe=recipe, inputs=[data], op_counts=[], train_meta=[meta],
                              snakemake_version="9", locks=locks or [], out=out)


def test_provenance_hashes_the_recipe_and_flags_a_dirty_tree(tmp_path: Path) -> None:
    from provenance import build_provenance

    repo = tmp_path / "repo"
    repo.mkdir()
    recipe, data, meta = repo / "recipe.yaml", repo / "data.jsonl", repo / "meta.json"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 10}\n")
    data.write_text('{"text": "x"}\n')
    meta.write_text('{"proxy": "gpt", "torch_version": "2.13.0", "tokens_budget": 4096}')
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    lock = repo / "venv.txt"
    lock.write_text("pyyaml==6.0.3 \\\n    --hash=sha256:00\n")
    args = provenance_args(repo, recipe, data, meta, tmp_path / "p.json", locks=[lock])

    clean = build_provenance(args)
    assert clean["locks"] == {"envs/locks/venv.txt": hashlib.sha256(lock.read_bytes()).hexdigest()}
    assert clean["git"]["dirty"] is False and len(clean["git"]["commit"]) == 40
    recipe.write_text("process:\n  - text_length_filter: {min_len: 20}\n")
    dirty = build_provenance(args)
    assert dirty["git"]["dirty"] is True
    assert dirty["recipe"]["sha256"] != clean["recipe"]["sha256"]
    assert dirty["inputs"] == clean["inputs"]


def test_noise_tagged_eval_documents_are_warned_about_with_the_fix(tmp_path: Path) -> None:
    from sandbox.summary.verdict import eval_set_warnings

    rows = [{"text": "a", "meta": {"origin": "clean"}},
            {"text": "b", "meta": {"origin": "noise:boilerplate"}},
            {"text": "c", "meta": {"origin": "noise:spam"}}, {"text": "d"}]
    noisy = tmp_path / "noisy.jsonl"
    noisy.write_text("".join(json.dumps(row) + "\n" for row in rows))
    [warning] = eval_set_warnings(noisy)
    assert (warning.startswith(f"2 of 4 eval documents ({noisy}) are tagged noise")
            and "Fix: set eval_path" in warning)
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(row) + "\n" for row in rows if "noise" not in str(row)))
    assert eval_set_warnings(clean) == [] and eval_set_warnings(None) == []


def test_one_seed_verdict_says_why_it_makes_no_claim() -> None:
    from sandbox.summary.tables import interval_cell
    from sandbox.summary.verdict import agreement, low_power_reason, proxy_verdict

    n_bytes = [100] * 20
    variants = {"raw": scores([[200.0] * 20], n_bytes), "recipe": scores([[190.0] * 20], n_bytes)}
    comparison = paired_comparison("recipe", "raw", variants, 0.95, "hf")
    table = {"raw": {"validation_bpb": 2.0, "test_bpb": 2.0, "seeds": [0]},
             "recipe": {"validation_bpb": 1.9, "test_bpb": 1.9, "seeds": [0]}}
    verdict = proxy_verdict("hf", table, {"recipe_vs_raw": comparison}, None)
    assert verdict.startswith("hf: No claim: `recipe`, selected on validation (-5.00 % test bpb vs raw), "
                              "but one seed of hf")
    assert interval_cell(comparison) == "-5.00 % (one seed: no interval)"
    assert low_power_reason({name: {**row, "test_bpb_std": 0.0} for name, row in table.items()}, 0.015, "hf")
    proxies = {proxy: {"variants": table, "comparisons": {"recipe_vs_raw": comparison}}
               for proxy in ("hf", "gpt")}
    assert agreement(proxies)["comparisons"]["recipe_vs_raw"]["status"] == "inconclusive"


def test_the_data_table_shows_each_proxys_distinct_training_bytes_and_epochs() -> None:
    from sandbox.summary.evaluation import training_exposure
    from sandbox.summary.markdown import data_markdown

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
    assert (data_markdown(variants)[3]
            == "| variant | documents | kept fraction | noise precision | noise recall |")


def test_the_verdict_says_when_the_oracle_had_less_text_than_the_selected_variant() -> None:
    from sandbox.summary.verdict import proxy_verdict

    # pgdoc's case: the oracle's 4.14 MB of clean text against a 4.81 MB budget the filter fills
    n_bytes = [100] * 20
    variants = {"raw": scores([[200.0] * 20, [201.0] * 20], n_bytes),
                "recipe": scores([[190.0] * 20, [191.0] * 20], n_bytes),
                "oracle": scores([[195.0] * 20, [195.0] * 20], n_bytes)}
    comparisons = {f"{name}_vs_raw": paired_comparison(name, "raw", variants, 0.95, "ngram")
                   for name in ("recipe", "oracle")}
    budget = 4_814_067
    table = {"raw": {"validation_bpb": 2.0, "test_bpb": 2.0, "seeds": [0, 1], "train_distinct_bytes": budget},
             "recipe": {"validation_bpb": 1.9, "test_bpb": 1.9, "seeds": [0, 1],
                        "train_distinct_bytes": budget,
                        "fraction_of_oracle_gain": {"value": 2.0, "ci_low": 1.5, "ci_high": 2.5}},
             "oracle": {"validation_bpb": 1.95, "test_bpb": 1.95, "seeds": [0, 1],
                        "train_distinct_bytes": 4_144_231}}
    verdict = proxy_verdict("ngram", table, comparisons, None)
    assert ("The oracle trained on 4.14 MB, all the clean text there is, against 4.81 MB for `recipe`: "
            "with less data its gain is not a ceiling here.") in verdict
    table["oracle"]["train_distinct_bytes"] = budget
    assert "not a ceiling" not in proxy_verdict("ngram", table, comparisons, None)
