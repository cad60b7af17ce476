"""Each proxy's budget and seeds (sandbox/proxies/budget.py), and what would resolve a comparison that was
not shown (sandbox/stats/power.py), checked against simulated experiments with known variance components."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from sandbox.proxies.budget import (
    add_budget_arguments,
    base_budget,
    data_budget,
    neural_budget,
    proxy_seeds,
    resolve_budget,
    stream_symbols,
)
from sandbox.stats.bootstrap import Scores, paired_comparison, paired_test
from sandbox.stats.power import seeds_config_line, seeds_to_detect

CONFIG = {"seeds": [0, 1, 2], "train": {"steps": 10, "batch_size": 4, "seq_len": 8},
          "ngram": {"budget_bytes": 0, "max_budget_bytes": 1000, "seeds": 10}, "hf": {"budget_bytes": 0},
          "command": {"budget_bytes": 77}}


def test_each_proxy_has_its_own_budget_and_seeds() -> None:
    assert base_budget(CONFIG) == 320  # the GPT's: the feedback LMs keep it
    assert neural_budget(CONFIG, "hf") == 320 and neural_budget(CONFIG, "command") == 77
    assert proxy_seeds(CONFIG, "ngram") == list(range(10))
    assert proxy_seeds(CONFIG, "train") == [0, 1, 2]
    assert proxy_seeds({**CONFIG, "ngram": {"seeds": [4, 7]}}, "ngram") == [4, 7]
    assert proxy_seeds({**CONFIG, "ngram": {"seeds": []}}, "ngram") == [0, 1, 2]


def test_the_ngram_budget_is_the_smallest_judged_variant_capped_unless_set() -> None:
    sizes = {"raw": 900, "k_sigma": 600, "recipe": 700}
    budget = data_budget(sizes, cap=1000)
    assert budget["budget_bytes"] == 600 and budget["smallest"] == "k_sigma" and "`k_sigma`" in budget["why"]
    capped = data_budget(sizes, cap=500)
    assert capped["budget_bytes"] == 500 and "max_budget_bytes" in capped["why"]
    assert data_budget({}, cap=500, explicit=123)["budget_bytes"] == 123
    with pytest.raises(ValueError):
        data_budget({}, cap=500)
    assert stream_symbols(["ab", "é"]) == 3 + 3  # bytes plus one separator each


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_budget_arguments(parser, "budget")
    args = parser.parse_args(argv)
    resolve_budget(parser, args, required=True)
    return args


def test_jobs_read_the_budget_file_times_the_ladder_multiplier(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    path.write_text(json.dumps({"budget_bytes": 1000, "why": "test"}))
    assert parse(["--budget-file", str(path)]).budget_bytes == 1000
    assert parse(["--budget-file", str(path), "--budget-multiplier", "0.25"]).budget_bytes == 250
    assert parse(["--budget-bytes", "7"]).budget_bytes == 7
    for argv in ([], ["--budget-bytes", "7", "--budget-file", str(path)], ["--budget-multiplier", "2"]):
        with pytest.raises(SystemExit):
            parse(argv)


def simulated_comparison(rng: np.random.Generator, seeds: int, docs: int, effect: float, model_sd: float,
                         document_sd: float, interaction_sd: float) -> dict:
    """One paired comparison (treated - raw) of simulated per-document bits with known components."""
    n_bytes = np.full(docs, 500.0)
    raw = (model_sd * rng.standard_normal((seeds, 1)) + document_sd * rng.standard_normal((1, docs))
           + interaction_sd * rng.standard_normal((seeds, docs)) + 2.0)
    treated = (raw - effect + model_sd * rng.standard_normal((seeds, 1))
               + interaction_sd * rng.standard_normal((seeds, docs)))
    scores = {"treated": Scores(tuple(range(seeds)), treated * n_bytes, n_bytes),
              "raw": Scores(tuple(range(seeds)), raw * n_bytes, n_bytes)}
    return paired_comparison("treated", "raw", scores, 0.95, "ngram")


def test_the_projected_seed_count_reaches_the_effect_in_simulated_experiments() -> None:
    # A pool much larger than the budget: each seed's model is its own draw (model_sd large), so three
    # seeds cannot see an effect of 0.01 bpb; the projection names the count that can, and experiments
    # run at that count state a minimum detectable effect at or below the effect, while one seed fewer
    # does not on average.
    rng = np.random.default_rng(3)
    noise = {"docs": 400, "effect": 0.01, "model_sd": 0.006, "document_sd": 0.01, "interaction_sd": 0.02}
    projected = []
    for _ in range(20):
        comparison = simulated_comparison(rng, 3, **noise)
        projection = seeds_to_detect(comparison)
        assert projection is not None and projection["seeds"] is not None
        projected.append(projection["seeds"])
    seeds = int(np.median(projected))
    assert 4 <= seeds <= 40
    stated = [simulated_comparison(rng, seeds, **noise)["mde_percent"] / 100 * 2.0 for _ in range(80)]
    fewer = [simulated_comparison(rng, max(seeds - 3, 3), **noise)["mde_percent"] / 100 * 2.0
             for _ in range(80)]
    assert np.median(stated) <= noise["effect"] * 1.15
    assert np.median(fewer) > np.median(stated)


def test_seeds_cannot_resolve_what_the_documents_alone_hide() -> None:
    rng = np.random.default_rng(4)
    comparison = simulated_comparison(rng, 3, docs=40, effect=0.0005, model_sd=0.001, document_sd=0.05,
                                      interaction_sd=0.01)
    projection = seeds_to_detect(comparison)
    assert projection is not None and projection["seeds"] is None
    assert projection["documents_floor_percent"] > abs(comparison["relative_percent"])


def test_the_config_line_names_the_proxys_own_seeds() -> None:
    assert seeds_config_line("ngram", 20) == "--config 'ngram={seeds: 20}'"
    assert seeds_config_line(None, 4) == "--config 'seeds=[0, 1, 2, 3]'"


def test_a_seed_count_of_one_projects_nothing() -> None:
    rng = np.random.default_rng(5)
    comparison = simulated_comparison(rng, 1, docs=50, effect=0.01, model_sd=0.0, document_sd=0.01,
                                      interaction_sd=0.0)
    assert seeds_to_detect(comparison) is None
    assert math.isnan(float(paired_test(np.zeros((1, 3)), np.ones(3), 0.95).se_seeds))
