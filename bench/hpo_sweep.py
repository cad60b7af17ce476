"""Benchmark a 100-trial sweep of the demo recipe on the n-gram rung, killed once and resumed.

Uses its own experiment (default `bench-sweep`) and a sweep like config/sweeps/demo.yaml with
run_cap 100 and 10 trials per round, confirmation off (confirm_top 0: the figure is the search).
Steps: (1) build the demo data and the raw analysis (not timed); (2) start `snakemake hpo`, kill
its whole process group after --kill-after seconds; (3) resume it to the end. Prints wall times,
trials per minute, and checks that no trial was lost or run twice: trials.tsv lists trials
0..99 once each, and the rounds told before the kill were not told again.

Run from the repository root: `.venv/bin/python bench/hpo_sweep.py`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="bench-sweep")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--parallel-trials", type=int, default=10)
    parser.add_argument("--kill-after", type=float, default=60.0,
                        help="seconds before the first run is killed")
    return parser.parse_args()


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("WANDB_MODE", "offline")
    return env


def snakemake_command(args: argparse.Namespace, sweep_path: Path, *targets: str) -> list[str]:
    return [str(BIN / "snakemake"), *targets, "--cores", str(args.cores), "--config",
            f"experiment={args.experiment}", "tracking=none",
            f"hpo={{sweep: {sweep_path}, seeds: [0], sampler_seed: 0, confirm_top: 0}}"]


def run(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-4000:]}")
    return time.perf_counter() - started


def told_rounds(hpo: Path) -> dict[str, int]:
    """Round file -> mtime (ns), for the rounds told so far."""
    return {path.name: path.stat().st_mtime_ns for path in (hpo / "rounds").glob("[0-9]*.json")
            if not path.name.endswith(".eval.json")}


def main() -> None:
    args = parse_args()
    out = REPO / "results" / args.experiment
    hpo = out / "hpo"
    sweep = yaml.safe_load((REPO / "config/sweeps/demo.yaml").read_text())
    sweep.update({"name": f"{args.experiment}-sweep", "run_cap": args.trials,
                  "parallel_trials": args.parallel_trials})
    sweep.pop("patience", None)
    sweep_path = out / "sweep.yaml"
    out.mkdir(parents=True, exist_ok=True)
    if hpo.exists():
        sys.exit(f"{hpo} exists: remove it to start a fresh sweep")
    sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    setup = run(snakemake_command(args, sweep_path, f"results/{args.experiment}/analysis/raw/stats.parquet",
                                  f"results/{args.experiment}/data/eval.jsonl"))

    started = time.perf_counter()
    first = subprocess.Popen(snakemake_command(args, sweep_path, "hpo"), cwd=REPO, env=environment(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        first.wait(timeout=args.kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    first_seconds = time.perf_counter() - started
    before_kill = told_rounds(hpo)
    # a killed run leaves Snakemake's lock behind, as after a power cut
    subprocess.run([str(BIN / "snakemake"), "--unlock", *snakemake_command(args, sweep_path)[2:]], cwd=REPO,
                   env=environment(), capture_output=True)
    resume_seconds = run(snakemake_command(args, sweep_path, "hpo"))

    with (hpo / "trials.tsv").open() as handle:
        trials = [int(row["trial"]) for row in csv.DictReader(handle, delimiter="\t")]
    after = told_rounds(hpo)
    retold = [name for name, mtime in before_kill.items() if after.get(name) != mtime]
    paths: dict[str, int] = {}
    for path in (hpo / "rounds").glob("*.eval.json"):
        for evaluation in json.loads(path.read_text())["trials"].values():
            paths[evaluation["path"]] = paths.get(evaluation["path"], 0) + 1
    total = first_seconds + resume_seconds
    print(f"setup (demo data + raw analysis, not counted): {setup:.0f} s")
    print(f"first run: {first_seconds:.0f} s, killed with {len(before_kill)} rounds told; "
          f"resume: {resume_seconds:.0f} s; total {total:.0f} s = {total / 60:.1f} min "
          f"for {len(trials)} trials ({len(trials) / (total / 60):.1f} trials/min)")
    print(f"trials 0..{args.trials - 1} each once: {sorted(trials) == list(range(args.trials))}; "
          f"rounds told again after the kill: {retold or 'none'}; trial paths: {paths}")


if __name__ == "__main__":
    main()
