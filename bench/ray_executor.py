"""Benchmark Data-Juicer's Ray executor against its default executor on this machine.

Starts a two-node Ray cluster with tests/ray/cluster.sh (a head and a worker node, 1 CPU each: the
same 2 CPUs the default executor's np 2 uses) unless --ray-address names a running one, builds a
demo pool (bench/masks.py's build_pool: demo pools of successive seeds), then times each executor,
alternating, the minimum of --repeats runs:
  analyze   scripts/analyze.py with the demo recipe: every filter's stats, overall stats, plots,
            stats cache (Ray: Data-Juicer's RayAnalyzer on the cluster);
  process   scripts/process.py on the executor path: tightened thresholds, told the stats came from
            a recipe that differs in a non-threshold argument, so the executor runs every op on the
            plain pool (Ray: Data-Juicer's RayExecutor on the cluster).
It checks that both executors agree: overall stats (to 1e-9), kept texts and per-op counts.

Run from the repository root: `.venv/bin/python bench/ray_executor.py [--docs 100000] [--repeats 1]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

from masks import DEMO_RECIPE, build_pool, other_analyzed_recipe, tightened_recipe  # noqa: E402

CLUSTER = REPO / "tests/ray/cluster.sh"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=1, help="runs per executor and step (min counts)")
    parser.add_argument("--ray-address", default="", help="use this running cluster instead of starting one")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep the pool and outputs here")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cluster_env() -> dict[str, str]:
    return {**os.environ, "RAY_BIN": str(BIN / "ray"), "RAY_TEST_BASE": f"/tmp/rs-ray-bench-{os.getpid()}",
            "RAY_TEST_PORT": str(free_port()), "RAY_TEST_DASHBOARD_PORT": str(free_port()),
            "RAY_TEST_CLIENT_PORT": str(free_port())}


def timed(command: list[str], executor: str, address: str) -> float:
    """Wall seconds of one script run with the given executor; fails loudly."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "SANDBOX_DJ_EXECUTOR": executor, "SANDBOX_RAY_ADDRESS": address}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{executor}: command failed: "
                 f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def analyze_command(pool: Path, out: Path) -> list[str]:
    return [sys.executable, "scripts/analyze.py", "--recipe", str(DEMO_RECIPE), "--data", str(pool),
            "--out-stats", str(out / "stats.jsonl"), "--out-overall", str(out / "overall.json"),
            "--out-plots", str(out / "plots"), "--out-dataset", str(out / "with_stats.jsonl"),
            "--out-stats-cache", str(out / "stats.parquet"), "--np", "2"]


def process_command(pool: Path, analysis: Path, recipe: Path, other: Path, out: Path) -> list[str]:
    return [sys.executable, "scripts/process.py", "--variant", "bench", "--recipe", str(recipe),
            "--analyzed-recipe", str(other), "--pool", str(pool),
            "--pool-with-stats", str(analysis / "with_stats.jsonl"), "--stats-cache",
            str(analysis / "stats.parquet"),
            "--out-data", str(out / "data.jsonl"), "--out-counts", str(out / "op_counts.json"),
            "--out-removed", str(out / "removed.jsonl"), "--np", "2"]


def overall_close(left: dict, right: dict) -> bool:
    """Equal overall stats up to the default Analyzer's JSON export, which keeps 10 decimals."""
    return left.keys() == right.keys() and all(
        left[stat].keys() == right[stat].keys()
        and all(math.isclose(left[stat][key], right[stat][key], rel_tol=1e-9, abs_tol=1e-9)
                for key in right[stat])
        for stat in right)


def check_agreement(folder: Path) -> dict:
    """SystemExit unless both executors gave the same overall stats, kept texts and per-op counts."""
    overall = {ex: json.loads((folder / ex / "analysis/overall.json").read_text())
               for ex in ("default", "ray")}
    counts = {ex: json.loads((folder / ex / "process/op_counts.json").read_text())
              for ex in ("default", "ray")}
    texts = {ex: sorted(json.loads(line)["text"] for line in (folder / ex / "process/data.jsonl").open())
             for ex in ("default", "ray")}
    per_op = {ex: [(op["op"], op["removed"]) for op in counts[ex]["ops"]] for ex in ("default", "ray")}
    if not overall_close(overall["ray"], overall["default"]) or texts["ray"] != texts["default"] \
            or per_op["ray"] != per_op["default"]:
        sys.exit(f"the executors disagree: per-op {per_op}, kept {len(texts['ray'])} vs "
                 f"{len(texts['default'])}")
    return counts["ray"]


def bench(folder: Path, docs: int, repeats: int, address: str) -> None:
    pool = build_pool(docs, folder)
    recipe, other = tightened_recipe(folder / "recipe.yaml"), other_analyzed_recipe(folder / "other.yaml")
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeats):
        for executor in ("default", "ray"):
            analysis, processed = folder / executor / "analysis", folder / executor / "process"
            analysis.mkdir(parents=True, exist_ok=True)
            processed.mkdir(parents=True, exist_ok=True)
            seconds.setdefault(("analyze", executor), []).append(
                timed(analyze_command(pool, analysis), executor, address))
            seconds.setdefault(("process", executor), []).append(
                timed(process_command(pool, analysis, recipe, other, processed), executor, address))
    print(f"{docs} documents. Wall seconds, min of {repeats}:")
    print("| step | default executor (np 2) | Ray executor (2 nodes x 1 CPU) | Ray / default |")
    print("|---|---|---|---|")
    for step in ("analyze", "process"):
        default, ray = min(seconds[(step, "default")]), min(seconds[(step, "ray")])
        print(f"| {step} | {default:.1f} | {ray:.1f} | {ray / default:.2f} |", flush=True)
    counts = check_agreement(folder)
    print("Both executors: the same overall stats, kept texts and per-op counts (kept "
          f"{counts['output_docs']}).")


def main() -> None:
    args = parse_args()
    env = cluster_env()
    address = args.ray_address
    if not address:
        up = subprocess.run([str(CLUSTER), "up"], capture_output=True, text=True, env=env)
        if up.returncode != 0:
            sys.exit(f"the Ray cluster did not start:\n{up.stderr[-3000:]}")
        address = up.stdout.strip().splitlines()[-1]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ray-") as scratch:
            bench(args.work_dir or Path(scratch), args.docs, args.repeats, address)
    finally:
        if not args.ray_address:
            subprocess.run([str(CLUSTER), "down"], capture_output=True, text=True, env=env)
            shutil.rmtree(env["RAY_TEST_BASE"], ignore_errors=True)


if __name__ == "__main__":
    main()
