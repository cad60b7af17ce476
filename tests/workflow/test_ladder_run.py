"""`snakemake ladder` on a copy of the tiny run: it reuses the main run's models, adding a scale plans
only that scale's jobs, the hf and command proxies climb it too, and the report shows the ladder figure
in headless Chromium. The ladder's statistics and config are checked in process in unit/test_ladder.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import TINY_CONFIG, copy_run, planned_jobs, snakemake, write_config
from report_browser import check_report_renders, embedded
from test_ladder import demo_config

LADDER = {"ngram": {"multipliers": [0.5, 1, 2], "sizes": []}, "gpt": {"multipliers": [0.5, 1], "sizes": []}}
OUT = f"results/{TINY_CONFIG['experiment']}"
VARIANTS = len(TINY_CONFIG.get("variants", ["raw", "recipe", "k_sigma", "oracle"]))


def ladder_config_file(workdir: Path, ladder: dict[str, Any], name: str = "ladder-config.yaml") -> str:
    write_config(workdir, {**TINY_CONFIG, "ladder": {**demo_config()["ladder"], **ladder}}, name)
    return name


@pytest.fixture(scope="module")
def ladder_run(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny run (mtimes and Snakemake's metadata kept), where `snakemake ladder` ran."""
    workdir = copy_run(tiny_run, tmp_path_factory.mktemp("ladder-run") / "run")
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
    # x1 is the smallest judged variant's size (models/ngram/budget.json): raw fills x0.5 and x1 with
    # fresh data, and x2 only if it is at least twice that size
    budget = json.loads((ladder_run / OUT / "models/ngram/budget.json").read_text())
    beyond_raw = budget["sizes"]["raw"] < 2 * budget["budget_bytes"]
    assert [point["data_limited"] for point in raw["points"]] == [False, False, beyond_raw]
    assert raw["fit"]["points"] == 3 - beyond_raw and raw["fit"]["interval"][0] <= raw["fit"]["exponent"]
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
    # x1 is each proxy's main-run model, planned under its own rule, one per variant and seed (the tiny
    # run trains ngram and gpt only, and no test leaves models in it); the shipped hf and command
    # ladders add x0.5 and x2 under the ladder's rules
    for proxy in ("hf", "command"):
        assert jobs.get(f"train_{proxy}", 0) == models, (proxy, jobs)
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
