"""The scale ladder: decision accuracy on constructed rankings, the power-law fit on synthetic data, the
coverage of every interval on simulated ladders with a known truth (simulate.ladder), the
scales and the target from the config, and `snakemake ladder` on a copy of the tiny run: it reuses the
main run's models, adding a scale plans only that scale's jobs, and the report shows the ladder figure in
headless Chromium."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import TINY_CONFIG, planned_jobs, snakemake, write_config
from report_browser import check_report_renders, embedded
from sandbox.io.jsonl import InputError
from sandbox.ladder.config import all_scales, check_ladder, target_scale
from sandbox.ladder.stats import (
    Replicates,
    decision_accuracy,
    fit_power_law,
    pair_agreement,
    replicate_bpb,
    trend_word,
)
from sandbox.ladder.summary import ScaleData, build_ladder_summary, ladder_markdown
from sandbox.proxies.train_gpt import gpt_parameters
from simulate.ladder import accuracy_coverage, exponent_coverage, trend_coverage

# --- decision accuracy on constructed rankings ---


def test_identical_rankings_agree_on_every_pair() -> None:
    bpb = np.array([2.0, 2.1, 1.9, 2.5])
    assert decision_accuracy(bpb, bpb + 0.3) == 1.0  # an offset keeps the order


def test_reversed_rankings_agree_on_no_pair() -> None:
    bpb = np.array([2.0, 2.1, 1.9, 2.5])
    assert decision_accuracy(bpb, -bpb) == 0.0


def test_ties_count_one_when_shared_and_half_when_one_sided() -> None:
    tied = np.array([2.0, 2.0, 3.0])
    assert decision_accuracy(tied, tied) == 1.0
    # pairs (0,1), (0,2), (1,2): the first tied under one ranking only
    assert list(pair_agreement(tied, np.array([2.0, 2.1, 3.0]))) == [0.5, 1.0, 1.0]
    assert decision_accuracy(tied, np.array([2.0, 2.1, 3.0])) == pytest.approx(2.5 / 3)


def test_a_pair_mask_restricts_the_pairs() -> None:
    proxy, target = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    assert decision_accuracy(proxy, target) == pytest.approx(2 / 3)
    assert decision_accuracy(proxy, target, np.array([True, True, False])) == 1.0
    assert np.isnan(decision_accuracy(proxy, target, np.zeros(3, dtype=bool)))


def test_replicates_resample_documents_and_seeds_around_the_estimate() -> None:
    rng = np.random.default_rng(0)
    n_bytes = rng.integers(100, 500, size=50).astype(float)
    bits = (2.0 + 0.1 * rng.standard_normal((3, 4, 50))) * n_bytes
    replicated = replicate_bpb(bits, n_bytes, Replicates.draw(50, 4, 400, seed=1))
    point = (bits.sum(axis=-1) / n_bytes.sum()).mean(axis=-1)
    assert replicated.shape == (400, 3)
    assert np.allclose(replicated.mean(axis=0), point, atol=0.01)


# --- the power law and the trend ---


def test_the_power_law_fit_recovers_a_known_exponent() -> None:
    seen = 1.2e6 * np.array([0.25, 0.5, 1, 2, 4])
    fit = fit_power_law(seen, 3.1 * seen**-0.12)
    assert fit.exponent == pytest.approx(0.12)
    assert fit.coefficient == pytest.approx(3.1)


def test_a_trend_is_named_by_its_interval() -> None:
    assert trend_word(0.1, 0.5) == "grows"
    assert trend_word(-0.5, -0.1) == "shrinks"
    assert trend_word(-0.1, 0.2) == "holds"


# --- coverage on simulated ladders (nominal 95 %; 200 experiments: a Monte-Carlo sd of 1.5 %) ---


@pytest.mark.parametrize("swapped", [False, True], ids=["identical", "two-pairs-swapped"])
def test_the_accuracy_interval_covers_when_variants_are_two_standard_errors_apart(swapped: bool) -> None:
    coverage, width = accuracy_coverage(gap_in_se=2.0, swapped=swapped, experiments=200, seed=3)
    assert coverage >= 0.92, (coverage, width)
    assert width < 0.5


def test_the_exponent_interval_covers_the_true_exponent() -> None:
    coverage, width = exponent_coverage(0.1, experiments=200, seed=4)
    assert 0.92 <= coverage, (coverage, width)


def test_the_gain_trend_interval_covers_the_true_slope() -> None:
    coverage, width = trend_coverage(-0.5, experiments=200, seed=5)
    assert 0.92 <= coverage, (coverage, width)


# --- the summary, on synthetic scales ---


def synthetic_scale(proxy: str, multiplier: float, true_bpb: np.ndarray, rng: np.random.Generator,
                    n_bytes: np.ndarray) -> ScaleData:
    """A (proxy, scale) whose models score the documents around true_bpb (per variant), 3 seeds."""
    bits = (true_bpb[:, None, None] + 0.01 * rng.standard_normal((len(true_bpb), 3, len(n_bytes)))) * n_bytes
    spec = {"proxy": proxy, "scale": f"x{multiplier:g}", "multiplier": multiplier, "size": "",
            "size_rank": 0.0, "overrides": {}, "budget_bytes": int(1e6 * multiplier), "base": multiplier == 1}
    seen = {"train_symbols": 1e6 * multiplier, "distinct_train_bytes": 1e6 * multiplier, "epochs": 0.5,
            "tokens_budget": 1e6 * multiplier, "n_params": None, "data_limited": False}
    return ScaleData(spec, bits, n_bytes, {name: seen for name in ("raw", "recipe", "k_sigma")},
                     {"cpu_seconds": 10.0 * multiplier, "wall_seconds": 12.0 * multiplier, "jobs": 9})


def test_a_summary_without_oracle_on_a_pool_split_says_it_is_no_verdict() -> None:
    rng = np.random.default_rng(0)
    n_bytes = rng.integers(200, 900, size=60).astype(float)
    scales = [synthetic_scale("ngram", m, np.array([2.0, 1.9, 1.8]) * m**-0.1, rng, n_bytes)
              for m in (0.5, 1, 2)]
    scales.append(synthetic_scale("gpt", 2.0, np.array([2.5, 2.3, 2.2]), rng, n_bytes))
    summary = build_ladder_summary("user", scales, "gpt@x2", ["raw", "recipe", "k_sigma"], False, 0.9, 0.95,
                                   300, {"judges_cleaning": False})
    assert summary["pairs"] == ["raw~recipe", "raw~k_sigma", "recipe~k_sigma"]
    assert summary["stop_paying"]["proxy"] == "ngram" and summary["stop_paying"]["scale"] == "x0.5"
    fit = summary["scaling"]["ngram@own"]["variants"]["raw"]["fit"]
    assert fit["exponent"] == pytest.approx(0.1, abs=0.01)
    md = ladder_markdown(summary)
    assert md.count("No verdict on cleaning can be drawn") == 1 and "`gpt@x2` (target)" in md


# --- the config ---


def demo_config() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).resolve().parents[1] / "config/config.yaml").read_text())


def test_the_demo_ladder_and_its_default_target() -> None:
    config = demo_config()
    scales = all_scales(config)
    names = [scale.label for scale in scales]
    assert names[:5] == ["ngram@x0.25", "ngram@x0.5", "ngram@x1", "ngram@x2", "ngram@x4"]
    assert "ngram@o3-x4" in names and "gpt@x0.25" in names and "gpt@x2" not in names
    assert [scale.label for scale in scales if scale.is_base] == ["ngram@x1", "gpt@x1"]
    assert target_scale(config).label == "gpt@x1"  # the strongest proxy's largest scale: the main run's
    config["ladder"]["gpt"]["multipliers"].append(2)
    assert target_scale(config).label == "gpt@x2"
    assert gpt_parameters(config["train"]) == 366_528  # ByteGPT's count, default shape


def test_a_target_can_be_named_and_a_bad_one_is_refused() -> None:
    config = demo_config()
    config["ladder"]["target"] = "ngram"
    assert target_scale(config).label == "ngram@x4"  # order 5 is larger than o3
    config["ladder"]["target"] = "ngram@o3-x2"
    assert target_scale(config).label == "ngram@o3-x2"
    config["ladder"]["target"] = "gpt@x8"
    with pytest.raises(InputError, match="gpt has no scale 'x8'"):
        check_ladder(config)
    config["ladder"]["target"] = ""
    config["ladder"]["gpt"]["sizes"] = [{"name": "wide", "d_model": 192, "lr": 0.001}]
    with pytest.raises(InputError, match="lr cannot be set per size"):
        check_ladder(config)


def test_a_larger_size_is_the_target_at_the_largest_multiplier() -> None:
    config = demo_config()
    config["ladder"]["gpt"]["sizes"] = [{"name": "small", "d_model": 48, "n_heads": 4},
                                        {"name": "wide", "d_model": 128, "multipliers": [2]}]
    assert target_scale(config).label == "gpt@wide-x2"


# --- the workflow, on a copy of the tiny run ---

LADDER = {"ngram": {"multipliers": [0.5, 1, 2], "sizes": []}, "gpt": {"multipliers": [0.5, 1], "sizes": []}}
OUT = f"results/{TINY_CONFIG['experiment']}"
VARIANTS = len(TINY_CONFIG.get("variants", ["raw", "recipe", "k_sigma", "oracle"]))


def ladder_config_file(workdir: Path, ladder: dict[str, Any], name: str = "ladder-config.yaml") -> str:
    write_config(workdir, {**TINY_CONFIG, "ladder": {**demo_config()["ladder"], **ladder}}, name)
    return name


@pytest.fixture(scope="module")
def ladder_run(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny run (mtimes and Snakemake's metadata kept), where `snakemake ladder` ran."""
    workdir = tmp_path_factory.mktemp("ladder-run") / "run"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    config = ladder_config_file(workdir, LADDER)
    jobs = planned_jobs(workdir, "ladder", "--configfile", config)
    seeds = len(TINY_CONFIG["seeds"])
    # x1 is the main run's models: reused, never retrained
    assert "train_ngram" not in jobs and "train_gpt" not in jobs, jobs
    assert jobs["ladder_train_ngram"] == 2 * VARIANTS * seeds and jobs["ladder_train_gpt"] == VARIANTS * seeds
    result = snakemake(workdir, "ladder", "--cores", "2", "--configfile", config)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return workdir


def test_the_ladder_summary_has_every_scale_against_the_target(ladder_run: Path) -> None:
    summary = json.loads((ladder_run / OUT / "ladder/summary.json").read_text())
    assert summary["target"] == "gpt@x1"  # the GPT's largest scale here
    labels = [f"{row['proxy']}@{row['scale']}" for row in summary["rows"]]
    assert labels == ["ngram@x0.5", "ngram@x1", "ngram@x2", "gpt@x0.5", "gpt@x1"]
    assert summary["pair_variants"] == ["raw", "recipe", "k_sigma"]  # oracle is not a recipe
    target_row = next(row for row in summary["rows"] if row["target"])
    assert target_row["all_pairs"]["value"] == 1.0
    for row in summary["rows"]:
        low, high = row["all_pairs"]["interval"]
        assert 0 <= low <= row["all_pairs"]["value"] <= high <= 1
        assert row["jobs"] == VARIANTS * len(TINY_CONFIG["seeds"]) and row["wall_seconds"] > 0
    raw = summary["scaling"]["ngram@own"]["variants"]["raw"]
    assert [point["multiplier"] for point in raw["points"]] == [0.5, 1.0, 2.0]
    # the tiny budget (2 kB at x1) is far below the tiny pool: every point is fresh data and fitted
    assert [point["data_limited"] for point in raw["points"]] == [False, False, False]
    assert raw["fit"]["points"] == 3 and raw["fit"]["interval"][0] <= raw["fit"]["exponent"]
    md = (ladder_run / OUT / "ladder/summary.md").read_text()
    assert "Decision accuracy against the target" in md and "`gpt@x1` (target)" in md
    main = (ladder_run / OUT / "summary.md").read_text()
    assert summary["line"] in main and main.count("Scale ladder:") == 1


def test_adding_a_scale_plans_only_its_jobs(ladder_run: Path) -> None:
    ladder = copy.deepcopy(LADDER)
    ladder["ngram"]["multipliers"].append(4)
    config = ladder_config_file(ladder_run, ladder, "ladder-plus.yaml")
    jobs = planned_jobs(ladder_run, "ladder", "--configfile", config)
    trained = {rule: count for rule, count in jobs.items() if rule.startswith(("train_", "ladder_train_"))}
    assert trained == {"ladder_train_ngram": VARIANTS * len(TINY_CONFIG["seeds"])}, jobs


def test_hf_and_command_climb_the_ladder_too(ladder_run: Path) -> None:
    config = ladder_config_file(ladder_run, LADDER)
    proxies = "proxies=[ngram,hf,command]"
    jobs = planned_jobs(ladder_run, "ladder", "--configfile", config, "--config", proxies)
    models = VARIANTS * len(TINY_CONFIG["seeds"])
    # x1 is each proxy's main-run model, planned under its own rule (at most one per variant and seed:
    # earlier tests of the session may have left some of them, current or stale, in the tiny run); the
    # shipped hf and command ladders add x0.5 and x2 under the ladder's rules
    for proxy in ("hf", "command"):
        assert jobs.get(f"train_{proxy}", 0) <= models, (proxy, jobs)
    assert jobs["ladder_train_hf"] == jobs["ladder_train_command"] == 2 * models, jobs
    assert "ladder_train_ngram" not in jobs and "ladder_train_gpt" not in jobs


def test_the_report_shows_the_ladder_figure_in_chromium(ladder_run: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    config = ladder_config_file(ladder_run, LADDER)
    # the summary gained the ladder's line, so the verdict page and the bpb figures are redrawn first
    for args in (("--cores", "2"), ("--report", str(report))):
        result = snakemake(ladder_run, "all", "ladder", *args, "--configfile", config, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    results = embedded(report.read_text(encoding="utf-8"), "results")
    ladder_figures = {path for path, entry in results.items() if "/ladder/report/" in path}
    assert ladder_figures == {f"{OUT}/ladder/report/ladder_ngram.png", f"{OUT}/ladder/report/ladder_gpt.png"}
    categories = list(embedded(report.read_text(encoding="utf-8"), "categories"))
    assert "7. Scale ladder" in categories
    check_report_renders(report, TINY_CONFIG["experiment"], categories, ["ngram", "gpt"], "7. Scale ladder",
                         tmp_path)
