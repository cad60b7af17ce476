"""The `command` proxy: a user's own trainer behind a documented contract, checked on its outputs,
and added to the ladder like any proxy (only its own jobs run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, planned_jobs, snakemake, write_config
from sandbox.demo.corpus import build_demo
from sandbox.io.jsonl import write_jsonl

EXAMPLE = ("python scripts/examples/bigram_proxy.py --train {train} --eval {eval} --out-dir {out_dir} "
           "--seed {seed} --budget-bytes {budget_bytes}")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("command")
    pool, eval_set = build_demo(0, pool_docs=120, eval_docs=15)
    paths = {"train": folder / "train.jsonl", "eval": folder / "eval.jsonl"}
    write_jsonl(paths["train"], pool)
    write_jsonl(paths["eval"], eval_set)
    return paths


def run_command(data: dict[str, Path], out_dir: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts/train.py"), "command", "--command", command,
                           "--train", str(data["train"]), "--eval", str(data["eval"]), "--out-dir",
                           str(out_dir),
                           "--seed", "1", "--budget-bytes", "5000"], cwd=REPO, capture_output=True, text=True)


def test_the_example_meets_the_contract_on_the_stated_budget(data: dict[str, Path], tmp_path: Path) -> None:
    result = run_command(data, tmp_path / "out", EXAMPLE)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out/heldout.jsonl").read_text().splitlines()]
    texts = [json.loads(line)["text"] for line in data["eval"].read_text().splitlines()]
    assert [row["n_bytes"] for row in rows] == [len(text.encode()) for text in texts]
    # a bigram LM with add-one smoothing beats uniform bytes (8 bits) on English text
    assert 0 < sum(row["nll_bits"] for row in rows) / sum(row["n_bytes"] for row in rows) < 8
    meta = json.loads((tmp_path / "out/train_meta.json").read_text())
    assert meta["proxy"] == "command" and meta["tokens_budget"] == 5000 == meta["bytes_seen"]
    assert meta["distinct_train_bytes"] == 5000 and 0 < meta["epochs"] < 1
    assert "--seed 1 --budget-bytes 5000" in meta["command"]


@pytest.mark.parametrize(("command", "message"), [
    ("exit 3", "exited with status 3"),
    ("true", "wrote no"),
    ("mkdir -p {out_dir} && echo '{{\"nll_bits\": 1, \"n_bytes\": 3}}' > {out_dir}/heldout.jsonl",
     "1 rows for 15 eval documents"),
    ("python scripts/examples/bigram_proxy.py --train {train} --eval {eval} --out-dir {out_dir} "
     "--budget-bytes 9 && echo '[]' > {out_dir}/train_meta.json", "not a JSON object"),
    ("echo {model}", "use only the placeholders {train}, {eval}, {out_dir}, {seed}, {budget_bytes}"),
])
def test_a_command_that_breaks_the_contract_is_named_with_the_fix(data: dict[str, Path], tmp_path: Path,
                                                                   command: str, message: str) -> None:
    result = run_command(data, tmp_path / "out", command)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert "Fix:" in result.stderr and "Traceback" not in result.stderr


def test_adding_the_command_proxy_runs_only_its_jobs(tiny_run_copy: Path) -> None:
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "proxies": ["ngram", "gpt", "command"],
                                     "command": {"run": EXAMPLE, "threads": 1}}, name="command-config.yaml")
    jobs = planned_jobs(tiny_run_copy, "--configfile", str(config))
    assert jobs["train_command"] == 8 and jobs["evaluate"] == 4 and jobs["summarize_proxy"] == 1, jobs
    # the report adds the new proxy's bpb figure and redraws the pages drawn from the summary
    assert set(jobs) <= {"train_command", "evaluate", "provenance", "summarize", "summarize_proxy", "all",
                         "report_verdict", "plot_bpb"}, jobs
    result = snakemake(tiny_run_copy, "results/tiny/eval/command/k_sigma.json",
                       "results/tiny/eval/command/raw.json", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    evaluation = json.loads((tiny_run_copy / "results/tiny/eval/command/k_sigma.json").read_text())
    assert evaluation["proxy"] == "command" and 0 < evaluation["heldout_bpb"] < 8
    assert set(evaluation["heldout_bpb_per_seed"]) == {"0", "1"}

    empty = write_config(tiny_run_copy,
                         {**TINY_CONFIG, "proxies": ["ngram", "command"],
                          "command": {"run": "", "threads": 1}},
                         name="command-empty.yaml")
    dry = snakemake(tiny_run_copy, "-n", "--configfile", str(empty))
    assert (dry.returncode != 0
            and "proxies lists command, but command.run is empty" in dry.stdout + dry.stderr)
