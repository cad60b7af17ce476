"""Shared fixtures of tests/unit and tests/workflow: a copy of the workflow in a temp dir, run with the
real Snakemake, Data-Juicer and torch, and the tiny run every workflow test reads (tests/README.md).

The suite must pass in any order; `.venv/bin/pytest --random-order-bucket=module tests` shuffles the
modules and the tests within each (pytest-random-order; `--random-order-seed=N` repeats an order)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, NoReturn

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
WORKFLOW_PARTS = ["Snakefile", "rules", "scripts", "envs", "config", "profiles", "report"]
BIN = Path(sys.executable).parent

# A config small enough for tests: a few hundred demo documents, a tiny model, a few steps.
TINY_CONFIG: dict[str, Any] = {
    "experiment": "tiny",
    "seeds": [0, 1],
    # the n-gram's own seeds (default 10) left empty: it follows `seeds`, which keeps tiny runs small
    "ngram": {"seeds": []},
    "demo": {"seed": 0, "pool_docs": 300, "eval_docs": 40, "noise_fraction": 0.35, "reference_docs": 60},
    "train": {"steps": 8, "batch_size": 4, "seq_len": 64, "d_model": 32, "n_layers": 1, "n_heads": 2,
              "lr": 0.003, "warmup_steps": 2, "min_lr_ratio": 0.1, "weight_decay": 0.1, "ema_decay": 0.9,
              "device": "cpu", "threads": 1},
    "infer": {"probe_docs": 50, "max_bytes": 256, "hardest": 5},
    "datamodels": {"group_by": "ops", "recipe": "k_sigma", "models": 8, "alpha": 0.5, "models_per_job": 4,
                   "seed": 0, "estimator": "ridge", "holdout_every": 2, "bootstrap_samples": 50,
                   "in_summary": True},
    # the feedback variants have their own tests (test_feedback_ops.py)
    "feedback": {"methods": []},
    # the mixture search (8 pools of about 30 documents: 4 eras x 2 quality buckets) stays out of the
    # tiny run's summary; tests/workflow/test_mixture_run.py runs it and its place in the summary
    "pools": {"base": "k_sigma", "by": "auto", "buckets": 0, "min_docs": 10, "only": [],
              "swarm": {"members": 0, "members_per_job": 40, "concentration": 1.0, "zero_probability": 0.2,
                        "seed": 0},
              "estimator": "loglinear", "holdout_every": 4, "bootstrap_samples": 200, "proxies": ["ngram"],
              "max_epochs": 4,
              "in_summary": False},
    "tracking": "none",
}


def workflow_env() -> dict[str, str]:
    """The environment a workflow run sees: this venv first on PATH, wandb offline."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["WANDB_MODE"] = "offline"
    env.pop("PYTHONPATH", None)
    return env


def can_install_system_packages() -> bool:
    """Whether a test may install what it needs from Debian (Chromium, SLURM): root, with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def unavailable(reason: str) -> NoReturn:
    """A system tool a test needs is missing or would not start. Where it could not be installed (not
    root, or no apt-get) the test is skipped with the reason; where it could, a failed install or start
    is a failure, never a skip."""
    if can_install_system_packages():
        pytest.fail(f"{reason} (root with apt-get: this must work here)", pytrace=False)
    pytest.skip(reason)


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow's sources (not results or caches) into destination."""
    destination.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=ignore)
        else:
            shutil.copy2(source, destination / part)
    return destination


def write_config(workdir: Path, overrides: dict[str, Any], name: str = "test-config.yaml") -> Path:
    """Write config/config.yaml updated (one level deep) with overrides; return its path."""
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, timeout: int = 900,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the venv's snakemake in workdir (env: extra variables); never raises on failure (tests
    check returncode)."""
    command = [str(BIN / "snakemake"), *args]
    return subprocess.run(command, cwd=workdir, env={**workflow_env(), **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


JOB_STATS_ROW = re.compile(r"^(\w+)\s+(\d+)$")


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs in Snakemake's own dry-run plan (empty when nothing is to be done)."""
    result = snakemake(workdir, "-n", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    jobs: dict[str, int] = {}
    for line in table.splitlines():
        match = JOB_STATS_ROW.match(line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
        if line.startswith("Reasons:"):
            break
    return jobs


def rule_priority_declared(rule: str) -> bool:
    """Whether the rule's block in rules/*.smk (snakefmt's layout) sets a priority."""
    for path in (REPO / "rules").glob("*.smk"):
        block = re.search(rf"^(?:rule|checkpoint) {rule}:\n(.*?)(?=^\S|\Z)", path.read_text(), re.S | re.M)
        if block:
            return "\n    priority:" in block.group(1)
    raise AssertionError(f"rule {rule} not found in rules/*.smk")


# What every Snakemake invocation rewrites, a dry run or a report included: its log and its IO cache.
PER_INVOCATION = (".snakemake/log/", ".snakemake/iocache/")


def run_state(workdir: Path) -> dict[str, tuple[int, int]]:
    """Every file of a run (but what each Snakemake invocation rewrites) -> its size and mtime."""
    state = {}
    for path in workdir.rglob("*"):
        relative = path.relative_to(workdir).as_posix()
        if not relative.startswith(PER_INVOCATION) and (path.is_file() or path.is_symlink()):
            stat = path.lstat()
            state[relative] = (stat.st_size, stat.st_mtime_ns)
    return state


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The whole workflow run once on the tiny config, shared by the session: tests only read its outputs
    and plans (dry runs). A test that runs jobs there or edits a file takes `tiny_run_copy` instead; at
    the end of the session every file of the run must be as the run left it, whatever the order."""
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny-run"))
    config = write_config(workdir, TINY_CONFIG)
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]
    before = run_state(workdir)
    yield workdir
    after = run_state(workdir)
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert not changed, f"tests changed the shared tiny run (use tiny_run_copy): {changed[:20]}"


def copy_run(run: Path, destination: Path) -> Path:
    """A copy of a finished run that Snakemake sees as the run itself: sources, configs, results and
    Snakemake's records (.snakemake) with their mtimes (copy2), and the one absolute path the records
    hold (provenance's --repo param, the run's folder) moved to the copy's, so that nothing reruns there
    that would not rerun in the run. Every file is copied, none hard-linked: jobs and tests rewrite some
    files in place (summary.md marked stale, HPO's study journal, edited scripts and configs), which
    would change the run through a shared inode; the tiny run is about 11 MB, a fraction of a second."""
    shutil.copytree(run, destination, symlinks=True)
    old = {json.dumps(str(path))[1:-1] for path in (run, run.resolve())}
    new = json.dumps(str(destination.resolve()))[1:-1]
    for record in (destination / ".snakemake" / "metadata").iterdir():
        text = record.read_text()
        moved = text
        for path in old:
            moved = moved.replace(path, new)
        if moved != text:
            kept = record.stat()
            record.write_text(moved)
            os.utime(record, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    return destination


@pytest.fixture
def tiny_run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    """This test's own copy of the finished tiny run, for a test that runs jobs in it or edits its files:
    what it leaves never reaches `tiny_run` or another test, whatever the order."""
    return copy_run(tiny_run, tmp_path / "tiny-run")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers",
                            "slurm: runs the workflow on a real single-node SLURM cluster (needs root)")
    config.addinivalue_line("markers",
                            "ray: runs the data steps on a real local Ray cluster (tests/ray/cluster.sh)")
