"""The slurm profile on a real single-node SLURM cluster (with accounting), started by
tests/slurm/cluster.sh. Every rule must run as a SLURM job (sacct says so), and the outputs of the
deterministic steps must equal those of a local run of the same config.

Runs as root only (the cluster needs it); elsewhere, or as root without apt-get and without SLURM, it is
skipped with the reason. As root with apt-get, a cluster that cannot be installed or started fails it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, copy_workflow, snakemake, unavailable, workflow_env, write_config

pytestmark = pytest.mark.slurm

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
# Fewer jobs than the tiny run: each SLURM job pays Snakemake's start-up inside the job.
SLURM_CONFIG = {**TINY_CONFIG, "experiment": "slurm", "variants": ["raw", "k_sigma"], "seeds": [0]}
DETERMINISTIC_OUTPUTS = [
    "demo/pool.jsonl", "data/pool.jsonl", "data/eval.jsonl", "data/probe.jsonl", "recipes/recipe.yaml",
    "analysis/raw/overall.json", "analysis/raw/stats.jsonl", "recipes/k_sigma.yaml",
    "recipes/k_sigma_thresholds.tsv", "processed/k_sigma/data.jsonl", "processed/k_sigma/removed.jsonl",
    "data_metrics/raw.json", "data_metrics/k_sigma.json",
    # Training is seeded and single-threaded, so a model scores the same on any node of one CPU type.
    "models/gpt/raw/seed0/heldout.jsonl", "infer/k_sigma/seed0/probe.jsonl",
    "models/ngram/k_sigma/seed0/heldout.jsonl",
]


def cluster_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to start slurmctld, slurmd, slurmdbd, munged and mariadbd"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "no slurm-wlm installed and no apt-get to install it"
    return None


@pytest.fixture(scope="module")
def slurm_cluster():
    reason = cluster_unavailable()
    if reason:
        pytest.skip(f"SLURM cluster not started: {reason}")
    up = subprocess.run([str(CLUSTER), "up"], capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        unavailable(f"SLURM cluster could not be started: {up.stderr[-2000:]}")
    print(up.stderr)
    yield
    subprocess.run([str(CLUSTER), "down"], capture_output=True, text=True, timeout=300)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sacct_jobs(since: str) -> list[dict[str, str]]:
    """Accounting records of every job (not steps) since the given time, with the rule it ran."""
    result = subprocess.run(["sacct", "-X", "-n", "-P", "-S", since, "-o", "JobID,State,ExitCode,SubmitLine"],
                            capture_output=True, text=True, check=True, env=workflow_env())
    jobs = []
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        job_id, state, exit_code, submit_line = line.split("|", 3)
        # The plugin submits each job as `sbatch ... --wrap='python -m snakemake ... --allowed-rules <rule>'`.
        rule = re.search(r"--allowed-rules (\S+)", submit_line)
        jobs.append({"id": job_id, "state": state, "exit": exit_code, "rule": rule.group(1) if rule else ""})
    return jobs


def test_profile_runs_every_rule_as_a_slurm_job(slurm_cluster, tmp_path: Path) -> None:
    slurm_dir = copy_workflow(tmp_path / "slurm")
    local_dir = copy_workflow(tmp_path / "local")
    started = subprocess.run(["date", "+%Y-%m-%dT%H:%M:%S"], capture_output=True, text=True).stdout.strip()

    config = write_config(slurm_dir, SLURM_CONFIG)
    # The plugin waits its init seconds (default 40) after each check that saw a job finish, and 10 s
    # more after each that saw none (up to 180): on a dependency chain of ~12 short jobs that is most of
    # the run's wall time. A one-node test cluster can be polled every 2 s; a shared cluster should not.
    run = snakemake(slurm_dir, "--profile", "profiles/slurm", "--configfile", str(config), "--jobs", "4",
                    "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2", timeout=1500)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-8000:]

    log_lines = (run.stdout + run.stderr).splitlines()
    remote = [line.split()[1].rstrip(":") for line in log_lines if line.startswith("rule ")]
    local_rules = {line.split()[1].rstrip(":") for line in log_lines if line.startswith("localrule ")}
    assert local_rules <= {"all"}, f"rules run outside SLURM: {local_rules}"
    jobs = sacct_jobs(started)
    print(f"sacct -X -S {started} (JobID | State | ExitCode | rule):")
    for job in jobs:
        print(f"   {job['id']} | {job['state']} | {job['exit']} | {job['rule']}")
    completed = [job for job in jobs if job["state"] == "COMPLETED" and job["exit"] == "0:0"]
    assert len(remote) > 10 and len(completed) == len(remote), (remote, jobs)
    assert sorted(job["rule"] for job in completed) == sorted(remote), \
        "every rule's job ran and completed in SLURM"

    local_config = write_config(local_dir, SLURM_CONFIG)
    local = snakemake(local_dir, "--cores", "2", "--configfile", str(local_config))
    assert local.returncode == 0, local.stderr[-5000:]
    for relative in DETERMINISTIC_OUTPUTS:
        slurm_file = slurm_dir / "results/slurm" / relative
        local_file = local_dir / "results/slurm" / relative
        assert sha256(slurm_file) == sha256(local_file), f"{relative} differs between SLURM and local runs"
