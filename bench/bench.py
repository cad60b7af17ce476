"""Benchmark the workflow on this machine and print the figures the core-loop issue asks for.

(a) the process step through the workflow vs `dj-process` directly, same recipe and data (ratio):
    the process job as Snakemake's benchmark file times it (our script from start to exit: imports,
    Data-Juicer's executor, removal attribution, writes), and also a whole Snakemake invocation that
    runs only that job, start-up included. The demo's `recipe` variant only has filters and an exact
    deduplicator, so its job takes the mask path; bench/masks.py times the executor path too;
(b) a no-op rerun; (c) the full demo from scratch; (d) peak memory of any job.

Run from the repository root with the venv's Python: `.venv/bin/python bench/bench.py`.
It uses its own experiment name (default `bench`), so results/demo is left alone.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="bench")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of (a) per side; the minimum counts")
    parser.add_argument("--keep", action="store_true", help="keep results/<experiment> afterwards")
    parser.add_argument("--no-full-run", action="store_true",
                        help="skip (c): reuse a finished results/<experiment> (implies --keep)")
    return parser.parse_args()


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("WANDB_MODE", "offline")
    return env


def timed(command: list[str]) -> float:
    """Wall seconds of one command run in the repository root; fails loudly."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def snakemake(experiment: str, cores: int, *targets: str, forcerun: str = "") -> list[str]:
    # Targets go first: --config and --forcerun take every word after them.
    command = [str(BIN / "snakemake"), *targets, "--cores", str(cores)]
    if forcerun:
        command += ["--forcerun", forcerun]
    return command + ["--config", f"experiment={experiment}"]


def job_seconds(benchmark_file: Path) -> float:
    """Wall seconds of the job Snakemake last ran for this benchmark file."""
    with benchmark_file.open() as handle:
        return float(list(csv.DictReader(handle, delimiter="\t"))[-1]["s"])


def dj_process(out: Path, scratch: Path, cores: int) -> list[str]:
    """`dj-process` on the workflow's recipe and pool, as a user would run it by hand."""
    return [str(BIN / "dj-process"), "--config", str(out / "recipes/recipe.yaml"),
            "--dataset_path", str(out / "data/pool.jsonl"), "--export_path", str(scratch / "out.jsonl"),
            "--work_dir", str(scratch / "work"), "--np", str(cores)]


def peak_memory_mb(out: Path) -> tuple[float, str]:
    """The largest max_rss over the jobs' Snakemake benchmark files, and which job it was."""
    peak, where = 0.0, ""
    for path in (out / "benchmarks").rglob("*.tsv"):
        with path.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                value = float(row["max_rss"]) if row["max_rss"] not in ("", "-", "NA") else 0.0
                if value > peak:
                    peak, where = value, str(path.relative_to(out / "benchmarks"))
    return peak, where


def fmt(seconds: list[float]) -> str:
    return "/".join(f"{value:.1f}" for value in seconds)


def main() -> None:
    args = parse_args()
    out = REPO / "results" / args.experiment
    full_demo = None
    if args.no_full_run:
        args.keep = True
    else:
        if out.exists():
            shutil.rmtree(out)
        full_demo = timed(snakemake(args.experiment, args.cores))
    noop = min(timed(snakemake(args.experiment, args.cores)) for _ in range(args.repeats))

    target = f"{out.relative_to(REPO)}/processed/recipe/op_counts.json"
    invocation_runs, job_runs, direct_runs = [], [], []
    # Alternating the two sides spreads this shared machine's drifts over both.
    for _ in range(args.repeats):
        invocation_runs.append(timed(snakemake(args.experiment, args.cores, target, forcerun="process")))
        job_runs.append(job_seconds(out / "benchmarks/process/recipe.tsv"))
        with tempfile.TemporaryDirectory() as scratch:
            direct_runs.append(timed(dj_process(out, Path(scratch), args.cores)))
    invocation, job, dj_direct = min(invocation_runs), min(job_runs), min(direct_runs)
    peak, peak_job = peak_memory_mb(out)

    print(f"(a) process step in the workflow (the job, from Snakemake's benchmark file): {job:6.1f} s")
    print(f"    process step, dj-process directly:                                        {dj_direct:6.1f} s")
    print(f"    ratio job / direct: {job / dj_direct:.2f}   (target <= 1.10)")
    print(f"    a Snakemake invocation running only that job, incl. Snakemake's start-up: "
          f"{invocation:6.1f} s, ratio {invocation / dj_direct:.2f} (the start-up is paid once per "
          "invocation, not per job)")
    print(f"    min of {args.repeats} alternating runs; all runs: job {fmt(job_runs)}, "
          f"invocation {fmt(invocation_runs)}, direct {fmt(direct_runs)}")
    print(f"(b) no-op rerun: {noop:.1f} s   (target <= 3 s)")
    if full_demo is not None:
        print(f"(c) full demo from scratch, {args.cores} cores: {full_demo:.0f} s = {full_demo / 60:.1f} min")
    print(f"(d) peak memory of one job: {peak:.0f} MB ({peak_job})")
    if not args.keep:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
