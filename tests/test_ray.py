"""data_juicer.executor: ray on a real Ray cluster (a head and a worker node on this machine, started
by tests/ray/cluster.sh): the demo's data steps give the same kept documents, per-op counts and
stats as the default executor, Data-Juicer's RayExecutor gives the same per-op counts as its
DefaultExecutor, and Ray's state API shows the tasks ran on the cluster's nodes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BIN, REPO, TINY_CONFIG, copy_workflow, snakemake, workflow_env, write_config

pytestmark = pytest.mark.ray

CLUSTER = REPO / "tests" / "ray" / "cluster.sh"
EXPERIMENT = "ray"
# One Ray analysis (raw) feeds both processed variants: the fewest Ray jobs that cover the data steps.
TARGETS = [f"results/{EXPERIMENT}/processed/{variant}/op_counts.json" for variant in ("recipe", "k_sigma")]
CONFIG = {**TINY_CONFIG, "experiment": EXPERIMENT, "variants": ["raw", "recipe", "k_sigma"]}
SAME_FILES = ["analysis/raw/overall.json", "analysis/raw/stats.jsonl", "recipes/k_sigma.yaml",
              "processed/recipe/data.jsonl", "processed/k_sigma/data.jsonl",
              "processed/recipe/removed.jsonl", "processed/k_sigma/removed.jsonl"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A two-node Ray cluster on free ports; yields its address and dashboard URL."""
    ports = {"RAY_TEST_PORT": free_port(), "RAY_TEST_DASHBOARD_PORT": free_port(),
             "RAY_TEST_CLIENT_PORT": free_port()}
    env = {**workflow_env(), **{key: str(port) for key, port in ports.items()}, "RAY_BIN": str(BIN / "ray"),
           # Ray's socket paths must stay short, so not under pytest's long tmp path.
           "RAY_TEST_BASE": f"/tmp/rs-ray-test-{os.getpid()}"}
    up = subprocess.run([str(CLUSTER), "up"], capture_output=True, text=True, timeout=300, env=env)
    try:
        assert up.returncode == 0, f"Ray cluster did not start:\n{up.stderr[-4000:]}"
        print(up.stderr)
        yield {"address": up.stdout.strip().splitlines()[-1],
               "dashboard": f"http://127.0.0.1:{ports['RAY_TEST_DASHBOARD_PORT']}"}
    finally:
        subprocess.run([str(CLUSTER), "down"], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def runs(ray_cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The data steps run once per executor on the same config; the results folders."""
    folders = {}
    for executor in ("ray", "default"):
        workdir = copy_workflow(tmp_path_factory.mktemp(f"{executor}-run"))
        settings = {"np": 1, "executor": executor, "ray_address": ray_cluster["address"]}
        config = write_config(workdir, {**CONFIG, "data_juicer": settings})
        run = snakemake(workdir, "--cores", "2", f"--configfile={config}", *TARGETS, timeout=900)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-8000:]
        folders[executor] = workdir / "results" / EXPERIMENT
    return folders


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def per_op(counts_file: Path) -> list[tuple[str, int, int]]:
    return [(op["op"], op["removed"], op["left"]) for op in json.loads(counts_file.read_text())["ops"]]


def test_data_steps_on_ray_equal_the_default_executor(runs: dict[str, Path]) -> None:
    ray, default = runs["ray"], runs["default"]
    for relative in SAME_FILES:
        if relative.endswith(".jsonl"):
            assert read_records(ray / relative) == read_records(default / relative), f"{relative} differs"
        else:
            assert (ray / relative).read_text() == (default / relative).read_text(), f"{relative} differs"
    for variant in ("recipe", "k_sigma"):
        ray_counts = json.loads((ray / f"processed/{variant}/op_counts.json").read_text())
        assert ray_counts["executor"] == "ray"
        assert per_op(ray / f"processed/{variant}/op_counts.json") == per_op(
            default / f"processed/{variant}/op_counts.json")
        print(f"{variant}: kept {ray_counts['output_docs']}/{ray_counts['input_docs']} on both executors; "
              f"per op (op, removed, left): {per_op(ray / f'processed/{variant}/op_counts.json')}")
    log = (ray.parent.parent / f"results/{EXPERIMENT}/logs/analyze/raw.log").read_text()
    assert "Computing stats with Ray" in log and "Connected to Ray cluster" in log


def run_process_script(results: Path, executor: str, address: str, out: Path) -> dict[str, Any]:
    """process.py --trace (always the executor path) on the raw analysis of a run; its op_counts."""
    out.mkdir(parents=True)
    command = [str(BIN / "python"), "scripts/process.py", "--variant", "k_sigma", "--trace", "--np", "1",
               "--recipe", f"results/{EXPERIMENT}/recipes/k_sigma.yaml",
               "--analyzed-recipe", f"results/{EXPERIMENT}/recipes/recipe.yaml",
               "--pool", f"results/{EXPERIMENT}/data/pool.jsonl",
               "--pool-with-stats", f"results/{EXPERIMENT}/analysis/raw/with_stats.jsonl",
               "--stats-cache", f"results/{EXPERIMENT}/analysis/raw/stats.parquet",
               "--out-data", str(out / "data.jsonl"), "--out-counts", str(out / "op_counts.json"),
               "--out-removed", str(out / "removed.jsonl")]
    env = {**workflow_env(), "SANDBOX_DJ_EXECUTOR": executor, "SANDBOX_RAY_ADDRESS": address}
    done = subprocess.run(command, cwd=results.parent.parent, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads((out / "op_counts.json").read_text())


def test_ray_executor_counts_equal_the_default_executor(runs: dict[str, Path], ray_cluster: dict[str, str],
                                                        tmp_path: Path) -> None:
    ray = run_process_script(runs["ray"], "ray", ray_cluster["address"], tmp_path / "ray")
    default = run_process_script(runs["ray"], "default", ray_cluster["address"], tmp_path / "default")
    assert ray["path"] == default["path"] == "executor" and ray["removals_attributed_by"] == "tracer"
    assert [(op["op"], op["removed"], op["left"]) for op in ray["ops"]] == [
        (op["op"], op["removed"], op["left"]) for op in default["ops"]]
    kept = {name: read_records(tmp_path / name / "data.jsonl") for name in ("ray", "default")}
    # Which copy of an exact duplicate survives may differ (Ray deduplicates in task order); the texts do not.
    assert sorted(doc["text"] for doc in kept["ray"]) == sorted(doc["text"] for doc in kept["default"])
    removed = {name: read_records(tmp_path / name / "removed.jsonl") for name in ("ray", "default")}
    assert sorted((row["removed_by"], row["text"]) for row in removed["ray"]) == sorted(
        (row["removed_by"], row["text"]) for row in removed["default"])
    print(f"RayExecutor: kept {ray['output_docs']}/{ray['input_docs']}, same rows as DefaultExecutor: "
          f"{[d['sandbox_row'] for d in kept['ray']] == [d['sandbox_row'] for d in kept['default']]}")


def test_state_api_shows_the_tasks_ran_on_the_cluster(runs: dict[str, Path], ray_cluster: dict[str, str]) -> None:
    from ray.util.state import list_jobs, list_nodes, list_tasks

    address = ray_cluster["dashboard"]
    nodes = {node.node_id: node for node in list_nodes(address=address)}
    head = next(node_id for node_id, node in nodes.items() if node.is_head_node)
    drivers = [job for job in list_jobs(address=address)
               if any(script in (job.entrypoint or "") for script in ("scripts/analyze.py", "scripts/process.py"))]
    assert drivers, "no analyze or process driver among the cluster's jobs"
    finished = [task for job in drivers
                for task in list_tasks(address=address, filters=[("job_id", "=", job.job_id)], limit=10000,
                                       raise_on_missing_output=False)
                if task.state == "FINISHED"]
    where = {task.node_id for task in finished}
    on_worker = sorted({task.name for task in finished if task.node_id != head})
    print(f"{len(nodes)} nodes; {len(drivers)} data-step drivers: {len(finished)} finished tasks, "
          f"{sum(task.node_id != head for task in finished)} on the worker node ({', '.join(on_worker[:5])})")
    assert len(nodes) == 2 and finished
    assert where <= set(nodes) and where - {head}, "no task of the analysis ran on the worker node"


def test_an_op_ray_mode_cannot_run_is_named_before_any_data_step(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "unsupported")
    recipe = yaml.safe_load((workdir / "config/recipes/demo.yaml").read_text())
    recipe["process"].append({"document_minhash_deduplicator": {}})
    (workdir / "minhash.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    config = write_config(workdir, {**CONFIG, "recipe": "minhash.yaml",
                                    "data_juicer": {"np": 1, "executor": "ray", "ray_address": "127.0.0.1:1"}})
    run = snakemake(workdir, "--cores", "1", f"--configfile={config}", *TARGETS)
    assert run.returncode != 0
    log = (workdir / f"results/{EXPERIMENT}/logs/check_recipe.log").read_text()
    assert "Ray mode does not run 1 operator(s)" in log and "document_minhash_deduplicator (op 10" in log, log
    assert "data_juicer.executor: default" in log
    assert not (workdir / f"results/{EXPERIMENT}/analysis").exists(), "a data step ran despite the refusal"
