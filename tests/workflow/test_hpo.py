"""Recipe HPO through the real workflow: Optuna trials in rounds, each round one batched job (mask
path, n-gram proxy) or, with hpo.batched false or a GPT metric, process/train/evaluate jobs per trial
(the sweep and the study in process: unit/test_hpo_study.py)."""

from __future__ import annotations

import csv
import itertools
import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import TINY_CONFIG, copy_workflow, planned_jobs, snakemake, write_config

HPO_DIR = Path("results/tiny/hpo")
HPO_CONFIG = {**TINY_CONFIG, "variants": ["raw", "recipe"], "seeds": [0]}


def write_sweep(workdir: Path, sweep: dict) -> Path:
    path = workdir / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def setup(tmp_path: Path, sweep: dict, batched: bool = True) -> tuple[Path, Path]:
    workdir = copy_workflow(tmp_path / "wf")
    sweep_path = write_sweep(workdir, sweep)
    config = write_config(workdir,
                          {**HPO_CONFIG, "hpo": {"sweep": str(sweep_path), "seeds": [0], "sampler_seed": 0,
                                                          "confirm_top": 3, "batched": batched}})
    return workdir, config


def read_trials(workdir: Path) -> list[dict[str, str]]:
    with (workdir / HPO_DIR / "trials.tsv").open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_bayes_sweep_on_the_ngram_rung_confirms_its_best_trials(tmp_path: Path) -> None:
    sweep = {
        "name": "tiny-bayes", "method": "bayes", "metric": {"name": "heldout_bpb@ngram", "goal": "minimize"},
        "parameters": {"text_length_filter.min_len": {"min": 0, "max": 300},
                       "special_characters_filter.max_ratio": {"min": 0.2, "max": 0.5}},
        "run_cap": 4, "parallel_trials": 2,
    }
    workdir, config = setup(tmp_path, sweep)
    # the search trains on seed 0 only; confirmation re-runs the best 2 trials on seeds 0 and 1
    config = write_config(workdir, {**HPO_CONFIG, "seeds": [0, 1], "hpo": {
        "sweep": str(workdir / "sweep.yaml"), "seeds": [0], "sampler_seed": 0, "confirm_top": 2,
        "batched": True}})
    first_round = planned_jobs(workdir, "hpo", "--configfile", str(config))
    assert first_round["hpo_ask"] == 2 and first_round["hpo_round_eval"] == 1, \
        "the dry run shows the first round"
    assert "train_gpt" not in first_round, "one job evaluates the whole round"
    # the n-gram's budget is the smallest judged variant's size: the recipe is processed to measure it
    assert first_round.get("ngram_budget") == 1 and first_round.get("process") == 1, first_round
    result = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-6000:]
    rows = read_trials(workdir)
    assert [int(row["trial"]) for row in rows] == [0, 1, 2, 3]
    sampled = {(row["text_length_filter.min_len"], row["special_characters_filter.max_ratio"])
               for row in rows}
    assert len(sampled) == 4, "every trial samples its own parameters"
    assert all(isinstance(int(row["text_length_filter.min_len"]), int) for row in rows)
    round_evals = {}
    for path in (workdir / HPO_DIR / "rounds").glob("*.eval.json"):
        round_evals.update(json.loads(path.read_text())["trials"])
    for row in rows:
        trial_eval = round_evals[row["trial"]]
        # the search reads the validation part of the eval split, never test
        assert float(row["heldout_bpb@ngram"]) == trial_eval["validation_bpb"] != trial_eval["heldout_bpb"]
        assert trial_eval["path"] == "mask" and list(trial_eval["heldout_bpb_per_seed"]) == ["0"]

    confirmed = json.loads((workdir / HPO_DIR / "confirmed.json").read_text())
    top_two = sorted(rows, key=lambda row: (float(row["heldout_bpb@ngram"]), int(row["trial"])))[:2]
    assert [trial["trial"] for trial in confirmed["trials"]] == sorted(int(row["trial"]) for row in top_two)
    for trial in confirmed["trials"]:
        assert set(trial["proxies"]) == {"ngram", "gpt"}
        for proxy, entry in trial["proxies"].items():
            assert entry["seeds"] == [0, 1] and "vs_raw" in entry, proxy
            assert (entry["vs_raw"]["ci_low"] <= entry["vs_raw"]["mean_difference"]
                    <= entry["vs_raw"]["ci_high"])
    best_confirmed = min(confirmed["trials"], key=lambda trial: trial["proxies"]["ngram"]["validation_bpb"])
    summary = json.loads((workdir / HPO_DIR / "summary.json").read_text())
    assert summary["best_trial"] == confirmed["best_trial"] == best_confirmed["trial"]
    assert summary["confirmed_value"] == best_confirmed["proxies"]["ngram"]["validation_bpb"]
    assert (summary["test_value"] == best_confirmed["proxies"]["ngram"]["test_bpb"]
            != summary["confirmed_value"])
    test_docs = json.loads((workdir / "results/tiny/data/eval_split.json").read_text())["docs"]["test"]
    assert summary["test_vs_raw"]["n_docs"] == test_docs, "the winner's comparison is on the test part"
    assert summary["confirmed"]["proxies"]["gpt"]["vs_raw"]["n_seeds"] == 2
    assert summary["trials"] == 4 and summary["stop_reason"].startswith("run_cap reached")
    best_row = rows[summary["best_trial"]]
    best_recipe = yaml.safe_load((workdir / HPO_DIR / "best_recipe.yaml").read_text())
    assert (best_recipe["process"][0]["text_length_filter"]["min_len"]
            == int(best_row["text_length_filter.min_len"]))
    assert (workdir / HPO_DIR / "history.png").stat().st_size > 1000
    assert (workdir / HPO_DIR / "confirmed.png").stat().st_size > 1000, \
        "the report's figure of the confirmed trials"
    for trial in confirmed["trials"]:
        # the confirmed trial re-ran as an ordinary variant (process, train_ngram): its seed-0
        # n-gram score is the one the batched round computed
        model = workdir / "results/tiny/models/ngram" / f"trial{trial['trial']}/seed0/train_meta.json"
        counts = json.loads((workdir / "results/tiny/processed"
                             / f"trial{trial['trial']}/op_counts.json").read_text())
        batched = round_evals[str(trial["trial"])]
        assert (json.loads(model.read_text())["heldout_bpb"]
                == pytest.approx(batched["heldout_bpb_per_seed"]["0"], rel=1e-12))
        assert counts["path"] == "mask" and counts["output_docs"] == batched["docs"]
    assert planned_jobs(workdir, "hpo", "--configfile", str(config)) == {}


def test_resume_keeps_finished_trials_and_raising_run_cap_continues(tmp_path: Path) -> None:
    sweep = {
        "name": "tiny-resume", "method": "random", "metric": {"name": "kept_fraction", "goal": "maximize"},
        "parameters": {"text_length_filter.min_len": {"min": 0, "max": 600},
                       "alphanumeric_filter.min_ratio": {"min": 0.3, "max": 0.8}},
        "run_cap": 4, "parallel_trials": 2,
    }
    workdir, config = setup(tmp_path, sweep)
    first = snakemake(workdir, str(HPO_DIR / "rounds/0.json"), "--cores", "2", "--configfile", str(config))
    assert first.returncode == 0, first.stderr[-6000:]
    round0 = workdir / HPO_DIR / "rounds/0.json"
    before, mtime = json.loads(round0.read_text())["trials"], round0.stat().st_mtime_ns
    assert not any("train" in line for line in first.stdout.splitlines() if line.startswith("rule ")), \
        "a data-only metric needs no training"

    rest = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(config))
    assert rest.returncode == 0, rest.stderr[-6000:]
    assert round0.stat().st_mtime_ns == mtime, "round 0 was not rerun"
    rows = read_trials(workdir)
    assert len(rows) == 4 and len({row["alphanumeric_filter.min_ratio"] for row in rows}) == 4
    for trial in before:
        row = rows[trial["trial"]]
        assert float(row["kept_fraction"]) == trial["value"]
        assert float(row["alphanumeric_filter.min_ratio"]) == trial["params"]["alphanumeric_filter.min_ratio"]

    raised = write_config(workdir,
                          {**HPO_CONFIG, "hpo": {"sweep": str(write_sweep(workdir, {**sweep, "run_cap": 6})),
                                                          "seeds": [0], "sampler_seed": 0, "confirm_top": 3,
                                                          "batched": True}})
    jobs = planned_jobs(workdir, "hpo", "--configfile", str(raised))
    assert jobs["hpo_ask"] == 2 and jobs["hpo_round_eval"] == 1, "only the two new trials run"
    more = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(raised))
    assert more.returncode == 0, more.stderr[-6000:]
    assert len(read_trials(workdir)) == 6
    assert ([row["kept_fraction"] for row in read_trials(workdir)[:4]]
            == [row["kept_fraction"] for row in rows])


def test_grid_sweep_runs_exactly_the_grid_with_jobs_per_trial(tmp_path: Path) -> None:
    grid = {"text_length_filter.min_len": [20, 200], "word_repetition_filter.max_ratio": [0.2, 0.5]}
    sweep = {"name": "tiny-grid", "method": "grid", "metric": {"name": "noise_recall", "goal": "maximize"},
             "parameters": {name: {"values": values} for name, values in grid.items()}, "parallel_trials": 2}
    workdir, config = setup(tmp_path, sweep, batched=False)
    first_round = planned_jobs(workdir, "hpo", "--configfile", str(config))
    assert first_round["process"] == 2 and "hpo_round_eval" not in first_round
    result = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-6000:]
    rows = read_trials(workdir)
    seen = {(int(row["text_length_filter.min_len"]), float(row["word_repetition_filter.max_ratio"]))
            for row in rows}
    assert len(rows) == 4 and seen == set(itertools.product(*grid.values()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "hyperband"}, "unknown method 'hyperband'"),
        ({"metric": {"name": "quality_score", "goal": "maximize"}}, "produces no metric 'quality_score'"),
        ({"parameters": {"text_length_filter.min_len": {"min": 500, "max": 10}}}, "min 500 > max 10"),
        ({"parameters": {"text_length_filter.min_len": {"distribution": "gamma", "min": 1, "max": 9}}},
         "unknown distribution 'gamma'"),
    ],
)
def test_bad_sweep_fails_before_any_trial(tmp_path: Path, change: dict, message: str) -> None:
    sweep = {"name": "bad", "method": "random", "metric": {"name": "kept_fraction", "goal": "maximize"},
             "parameters": {"text_length_filter.min_len": {"min": 0, "max": 100}}, "run_cap": 2, **change}
    workdir, config = setup(tmp_path, sweep)
    result = snakemake(workdir, "hpo", "-n", "--configfile", str(config))
    assert result.returncode != 0 and message in result.stdout + result.stderr
    assert "sweep.yaml" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("parameter", "message"),
    [("stopwords_filter.min_ratio", "names op 'stopwords_filter', which the recipe does not have"),
     ("text_length_filter.min_length", "op 'text_length_filter' has no argument 'min_length'")],
)
def test_unknown_op_or_argument_fails_before_any_trial(tmp_path: Path, parameter: str, message: str) -> None:
    sweep = {"name": "bad-op", "method": "random", "metric": {"name": "kept_fraction", "goal": "maximize"},
             "parameters": {parameter: {"min": 0, "max": 1}}, "run_cap": 2}
    workdir, config = setup(tmp_path, sweep)
    result = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(config))
    assert result.returncode != 0 and message in result.stdout + result.stderr
    assert not (workdir / HPO_DIR / "trials").exists(), "no trial may start"
    assert not os.path.exists(workdir / HPO_DIR / "study.journal")
