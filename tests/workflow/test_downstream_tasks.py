"""Downstream tasks through the workflow's scripts and Snakemake: the folder the hf trainer saves scores as
its held-out rows, a task whose data is not on disk fails naming the task and the file, and adding a
task to a finished run runs only its jobs and the summaries they feed, whose tables then show each
variant's accuracy beside the chance level and the continuous metric with intervals. The lm-eval models
themselves are checked in process in unit/test_downstream.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval.api.registry import get_model

from conftest import REPO, TINY_CONFIG, copy_run, planned_jobs, snakemake, write_config
from sandbox.demo.corpus import build_demo
from sandbox.downstream.harness import load_task  # registers the sandbox-* models too
from sandbox.downstream.tasks import resolve_task
from sandbox.io.jsonl import InputError, write_jsonl
from test_downstream import LN2, SHIPPED, peaked_gpt

# Every trigger but params: the config in effect is a param of provenance, which every added task
# would rerun.
TRIGGERS = ["--rerun-triggers", "mtime", "input", "code", "software-env"]


def test_the_folder_train_hf_saves_reproduces_its_held_out_scores(tmp_path: Path) -> None:
    pool, eval_set = build_demo(0, pool_docs=120, eval_docs=12)
    write_jsonl(tmp_path / "train.jsonl", pool)
    write_jsonl(tmp_path / "eval.jsonl", eval_set)
    out = tmp_path / "out"
    llama = REPO / "config/hf/tiny-llama"
    command = [sys.executable, str(REPO / "scripts/train.py"), "hf", "--model", str(llama),
               "--train", str(tmp_path / "train.jsonl"), "--eval", str(tmp_path / "eval.jsonl"),
               "--out-dir", str(out), "--heldout-out", str(out / "heldout.jsonl"), "--save-model",
               str(out / "model"), "--budget-bytes", "20000", "--seq-len", "32", "--batch-size", "8",
               "--device", "cpu"]
    trained = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    lm = get_model("sandbox-hf")(model=str(out / "model"), device="cpu")
    rows = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    scores = lm.document_nats([record["text"] for record in eval_set])
    assert scores == [pytest.approx(row["nll_bits"] * LN2, rel=1e-6) for row in rows]


@pytest.fixture(scope="module")
def gpt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return peaked_gpt(tmp_path_factory.mktemp("gpt") / "model.pt")


def run_downstream(task: str, model: Path, out: Path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "scripts/downstream.py"), "--task", task, "--proxy", "gpt",
               "--model", str(model), "--items-out", str(out / "items.jsonl"), "--results-out",
               str(out / "results.json"), "--device", "cpu"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **env},
                          timeout=300)


def mini_task(folder: Path, name: str, items: int, data: str | None = None) -> Path:
    """A task of the shipped one's first items (its YAML, data path relative to the workflow folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = (SHIPPED / "sotu_hellaswag.jsonl").read_text().splitlines()[:items]
    (folder / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    text = (SHIPPED / "sotu_hellaswag.yaml").read_text().replace("task: sotu_hellaswag", f"task: {name}")
    text = text.replace("config/tasks/sotu_hellaswag/sotu_hellaswag.jsonl",
                        data or f"config/tasks/{name}/{name}.jsonl")
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


def test_a_task_whose_data_is_not_on_disk_fails_naming_the_task_and_the_file(gpt_file: Path,
                                                                              tmp_path: Path) -> None:
    lost = tmp_path / "nowhere/lost.jsonl"
    task = mini_task(tmp_path / "tasks", "lost_task", 3, data=str(lost))
    with pytest.raises(InputError, match=f"task lost_task: its data file {lost} is not on disk"):
        load_task(resolve_task(str(task), tmp_path))
    # a task of lm-eval's catalogue reads the hub's dataset from the local cache, here empty
    hub = run_downstream("hellaswag", gpt_file, tmp_path, HF_HOME=str(tmp_path / "hf"),
                         HF_DATASETS_CACHE=str(tmp_path / "hf/datasets"))
    assert hub.returncode == 2, hub.stderr[-2000:]
    assert "task hellaswag: its data is not on disk" in hub.stderr and "Rowan/hellaswag" in hub.stderr
    assert str(tmp_path / "hf/datasets") in hub.stderr


@pytest.fixture(scope="module")
def finished(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the finished tiny run (mtimes and Snakemake's records kept) with two small tasks."""
    copy = copy_run(tiny_run, tmp_path_factory.mktemp("downstream") / "run")
    for name in ("sotu_mini", "sotu_more"):
        mini_task(copy / "config/tasks" / name, name, 40)
    return copy


def test_adding_a_task_runs_only_its_jobs_and_the_summary_shows_it(finished: Path) -> None:
    config = write_config(finished, {**TINY_CONFIG, "tasks": ["sotu_mini"]}, name="task-config.yaml")
    jobs = planned_jobs(finished, "--configfile", str(config), *TRIGGERS)
    # 2 proxies x 4 variants x 2 seeds; the n-gram's models are counted again to be loaded
    assert jobs["downstream"] == 16 and jobs["ngram_model"] == 8 and jobs["summarize"] == 1, jobs
    assert set(jobs) <= {"downstream", "ngram_model", "summarize", "report_verdict", "plot_bpb", "all"}, jobs
    result = snakemake(finished, "--cores", "2", "--configfile", str(config), *TRIGGERS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    items = finished / "results/tiny/downstream/sotu_mini/gpt/k_sigma/seed1/items.jsonl"
    rows = [json.loads(line) for line in items.read_text().splitlines()]
    assert len(rows) == 40 and {row["n_choices"] for row in rows} == {4}
    assert all(row["gold_logprob_per_byte"] == pytest.approx(row["gold_logprob"] / row["gold_bytes"])
               and 0 < row["gold_prob_per_byte"] < 1 and row["acc"] in (0, 1) for row in rows)
    summary = json.loads((finished / "results/tiny/summary.json").read_text())
    task = summary["downstream"]["sotu_mini"]
    assert task["n_items"] == 40 and task["chance"] == 0.25 and set(task["proxies"]) == {"ngram", "gpt"}
    comparison = task["proxies"]["ngram"]["comparisons"]["k_sigma_vs_raw"]
    assert comparison["acc"]["ci_points"] is not None
    assert comparison["gold_bpb"]["relative_ci_percent"] is not None
    assert any(rung.startswith("ngram/sotu_mini/") for rung in summary["agreement"]["downstream_rungs"])
    assert "rungs (held-out bpb and downstream metrics)" in summary["agreement"]["line"] or \
        "Rungs DISAGREE" in summary["agreement"]["line"]
    markdown = (finished / "results/tiny/summary.md").read_text()
    assert "### Downstream tasks on `gpt`" in markdown and "| chance |" in markdown
    assert "sotu_mini on `ngram`: `" in markdown and "25.0 %" in markdown
    page = (finished / "results/tiny/report/verdict.html").read_text()
    assert "Downstream tasks on <code>gpt</code>" in page

    # a second task: its own jobs only, the first task's stay done
    both = write_config(finished, {**TINY_CONFIG, "tasks": ["sotu_mini", "sotu_more"]},
                        name="tasks-config.yaml")
    jobs = planned_jobs(finished, "--configfile", str(both), *TRIGGERS)
    assert jobs["downstream"] == 16 and "ngram_model" not in jobs, jobs
    assert set(jobs) <= {"downstream", "summarize", "report_verdict", "plot_bpb", "all"}, jobs

    lost = write_config(finished, {**TINY_CONFIG, "tasks": ["config/tasks/lost/lost.yaml"]}, name="lost.yaml")
    mini_task(finished / "config/tasks/lost", "lost", 3, data="config/tasks/lost/gone.jsonl")
    dry = snakemake(finished, "-n", "--configfile", str(lost), *TRIGGERS)
    assert dry.returncode != 0, dry.stdout[-3000:]
    assert "task lost: its data file config/tasks/lost/gone.jsonl is not on disk" in dry.stdout + dry.stderr
