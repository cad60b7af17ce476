"""The scale ladder: decision accuracy on constructed rankings, the power-law fit on synthetic data, the
coverage of every interval on simulated ladders with a known truth (simulate.ladder), and the scales
and the target from the config. `snakemake ladder` on a copy of the tiny run is in
workflow/test_ladder_run.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from conftest import REPO
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
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


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
