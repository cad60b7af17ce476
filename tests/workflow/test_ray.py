"""data_juicer.executor: ray on a real Ray cluster (a head and a worker node on this machine, started
by tests/ray/cluster.sh): the demo's data steps give the same kept documents, per-op counts and
stats as the default executor, Data-Juicer's RayExecutor gives the same per-op counts as its
DefaultExecutor, and Ray's state API shows the tasks ran on the cluster's nodes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conftest import (
    BIN,
    REPO,
    TINY_CONFIG,
    copy_workflow,
    planned_jobs,
    snakemake,
    workflow_env,
    write_config,
)

pytestmark = pytest.mark.ray

CLUSTER = REPO / "tests" / "ray" / "cluster.sh"
EXPERIMENT = "ray"
# One Ray analysis (raw) feeds both processed variants: the fewest Ray jobs that cover the data steps.
TARGETS = [f"results/{EXPERIMENT}/processed/{variant}/op_counts.json" for variant in ("recipe", "k_sigma")]
# The tiny run's data and recipe (its experiment is the reference), on the Ray executor.
CONFIG = {**TINY_CONFIG, "experiment": EXPERIMENT}
# The default Analyzer exports stats through pandas' JSON writer (10 decimal places); the Ray path
# reads Ray's Parquet export (full precision): stats and thresholds derived from them agree to
# these tolerances, documents and counts exactly.
RELATIVE, ABSOLUTE = 1e-9, 1e-9
CLOSE_FILES = ["analysis/raw/overall.json", "analysis/raw/stats.jsonl", "recipes/k_sigma.yaml"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[dict[str, str]]:
    """A two-node Ray cluster on free ports; yields its address and dashboard URL."""
    ports = {"RAY_TEST_PORT": free_port(), "RAY_TEST_DASHBOARD_PORT": free_port(),
             "RAY_TEST_CLIENT_PORT": free_port()}
    # Ray's socket paths must stay short, so its folder is not under pytest's long tmp path.
    base = Path(f"/tmp/rs-ray-test-{os.getpid()}")
    env = {**workflow_env(), **{key: str(port) for key, port in ports.items()}, "RAY_BIN": str(BIN / "ray"),
           "RAY_TEST_BASE": str(base)}
    up = subprocess.run([str(CLUSTER), "up"], capture_output=True, text=True, timeout=300, env=env)
    try:
        assert up.returncode == 0, f"Ray cluster did not start:\n{up.stderr[-4000:]}"
        print(up.stderr)
        yield {"address": up.stdout.strip().splitlines()[-1],
               "dashboard": f"http://127.0.0.1:{ports['RAY_TEST_DASHBOARD_PORT']}"}
    finally:
        subprocess.run([str(CLUSTER), "down"], capture_output=True, text=True, timeout=300, env=env)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def runs(tiny_run: Path, ray_cluster: dict[str, str],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The data steps on the Ray executor, and the session's tiny run (default executor, same data
    and recipe) as the reference; their results folders."""
    workdir = copy_workflow(tmp_path_factory.mktemp("ray-run"))
    settings = {"np": 1, "executor": "ray", "ray_address": ray_cluster["address"]}
    config = write_config(workdir, {**CONFIG, "data_juicer": settings})
    run = snakemake(workdir, "--cores", "2", f"--configfile={config}", *TARGETS, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-8000:]
    return {"ray": workdir / "results" / EXPERIMENT,
            "default": tiny_run / "results" / TINY_CONFIG["experiment"]}


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def per_op(counts_file: Path) -> list[tuple[str, int, int]]:
    return [(op["op"], op["removed"], op["left"]) for op in json.loads(counts_file.read_text())["ops"]]


def assert_close(actual: Any, expected: Any, where: str) -> None:
    """Equal structures; floats equal to the tolerances."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for key in expected:
            assert_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for index, (left, right) in enumerate(zip(actual, expected)):
            assert_close(left, right, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=RELATIVE, abs=ABSOLUTE), where
    else:
        assert actual == expected, where


def load(path: Path) -> Any:
    if path.suffix == ".jsonl":
        return read_records(path)
    return json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())


def test_data_steps_on_ray_equal_the_default_executor(runs: dict[str, Path]) -> None:
    ray, default = runs["ray"], runs["default"]
    for relative in CLOSE_FILES:
        assert_close(load(ray / relative), load(default / relative), relative)
    for variant in ("recipe", "k_sigma"):
        folder = f"processed/{variant}"
        assert read_records(ray / folder / "data.jsonl") == read_records(default / folder / "data.jsonl"), \
            variant
        removed = {run: [(row["removed_by"], row["op_index"], row["sandbox_row"], row["text"])
                         for row in read_records(results / folder / "removed.jsonl")]
                   for run, results in runs.items()}
        assert removed["ray"] == removed["default"], variant
        counts = {run: json.loads((results / folder / "op_counts.json").read_text())
                  for run, results in runs.items()}
        assert (counts["ray"]["executor"] == "ray"
                and counts["default"].get("executor", "default") == "default")
        assert_close(counts["ray"]["ops"], counts["default"]["ops"], f"{folder}/op_counts.json")
        print(f"{variant}: kept {counts['ray']['output_docs']}/{counts['ray']['input_docs']} on both "
              f"executors; per op (op, removed, left): {per_op(ray / folder / 'op_counts.json')}")
    log = (ray / "logs/analyze/raw.log").read_text()
    assert "Computing stats with Ray" in log and "Connected to Ray cluster" in log


def test_switching_the_executor_reruns_nothing(runs: dict[str, Path]) -> None:
    workdir = runs["ray"].parent.parent
    config = write_config(workdir, {**CONFIG, "data_juicer": {"np": 1, "executor": "default"}},
                          "default.yaml")
    assert planned_jobs(workdir, f"--configfile={config}", *TARGETS) == {}


def other_analyzed_recipe(results: Path, path: Path) -> Path:
    """The checked recipe with a non-threshold argument changed: its stats cannot stand for k_sigma's."""
    recipe = yaml.safe_load((results / "recipes/recipe.yaml").read_text())
    for entry in recipe["process"]:
        if "document_deduplicator" in entry:
            entry["document_deduplicator"]["lowercase"] = True
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def run_process_script(results: Path, address: str, out: Path, *options: str) -> dict[str, Any]:
    """process.py for k_sigma on the Ray executor path, on the raw analysis of a run; its op_counts."""
    out.mkdir(parents=True)
    command = [str(BIN / "python"), "scripts/process.py", "--variant", "k_sigma", "--np", "1",
               "--recipe", f"results/{EXPERIMENT}/recipes/k_sigma.yaml",
               "--pool", f"results/{EXPERIMENT}/data/pool.jsonl",
               "--pool-with-stats", f"results/{EXPERIMENT}/analysis/raw/with_stats.jsonl",
               "--stats-cache", f"results/{EXPERIMENT}/analysis/raw/stats.parquet",
               "--out-data", str(out / "data.jsonl"), "--out-counts", str(out / "op_counts.json"),
               "--out-removed", str(out / "removed.jsonl"), *options]
    env = {**workflow_env(), "SANDBOX_DJ_EXECUTOR": "ray", "SANDBOX_RAY_ADDRESS": address}
    done = subprocess.run(command, cwd=results.parent.parent, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert "Connected to Ray cluster" in done.stderr + done.stdout
    return json.loads((out / "op_counts.json").read_text())


@pytest.mark.parametrize("route", ["tracer", "decisions"])
def test_ray_executor_gives_the_default_executors_counts(runs: dict[str, Path], ray_cluster: dict[str, str],
                                                         tmp_path: Path, route: str) -> None:
    """Data-Juicer's RayExecutor runs k_sigma (its per-op counts from the tracer, or from the filters'
    decisions on the removed documents); the default executor's run of the same variant is the reference."""
    results, reference = runs["ray"], runs["default"] / "processed/k_sigma"
    if route == "tracer":
        options = ["--trace", "--analyzed-recipe", f"results/{EXPERIMENT}/recipes/recipe.yaml"]
    else:
        options = ["--analyzed-recipe", str(other_analyzed_recipe(results, tmp_path / "other.yaml"))]
    counts = run_process_script(results, ray_cluster["address"], tmp_path / "out", *options)
    assert counts["path"] == "executor" and counts["executor"] == "ray"
    assert (counts["removals_attributed_by"] == "tracer") == (route == "tracer")
    assert per_op(tmp_path / "out/op_counts.json") == per_op(reference / "op_counts.json")
    kept, expected = read_records(tmp_path / "out/data.jsonl"), read_records(reference / "data.jsonl")
    # Which copy of an exact duplicate survives may differ (Ray deduplicates in task order); the texts do not.
    assert sorted(doc["text"] for doc in kept) == sorted(doc["text"] for doc in expected)
    removed = read_records(tmp_path / "out/removed.jsonl")
    assert sorted((row["removed_by"], row["text"]) for row in removed) == sorted(
        (row["removed_by"], row["text"]) for row in read_records(reference / "removed.jsonl"))
    print(f"RayExecutor ({route}): kept {counts['output_docs']}/{counts['input_docs']}, same rows as the "
          "default executor: "
          f"{[doc['sandbox_row'] for doc in kept] == [doc['sandbox_row'] for doc in expected]}")


def test_state_api_shows_the_tasks_ran_on_the_cluster(runs: dict[str, Path],
                                                      ray_cluster: dict[str, str]) -> None:
    from ray.util.state import list_jobs, list_nodes, list_tasks

    address = ray_cluster["dashboard"]
    nodes = {node.node_id: node for node in list_nodes(address=address)}
    head = next(node_id for node_id, node in nodes.items() if node.is_head_node)
    drivers = [job for job in list_jobs(address=address)
               if any(script in (job.entrypoint or "")
                      for script in ("scripts/analyze.py", "scripts/process.py"))]
    assert drivers, "no analyze or process driver among the cluster's jobs"
    finished = [task for job in drivers
                for task in list_tasks(address=address, filters=[("job_id", "=", job.job_id)], limit=10000,
                                       raise_on_missing_output=False)
                if task.state == "FINISHED"]
    # Tasks the driver ran itself carry no node.
    where = {task.node_id for task in finished if task.node_id}
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
                                    "data_juicer": {"np": 1, "executor": "ray",
                                                    "ray_address": "127.0.0.1:1"}})
    run = snakemake(workdir, "--cores", "1", f"--configfile={config}", *TARGETS)
    assert run.returncode != 0
    log = (workdir / f"results/{EXPERIMENT}/logs/check_recipe.log").read_text()
    assert "Ray mode does not run 1 operator(s)" in log and "document_minhash_deduplicator (op 10" in log, log
    assert "data_juicer.executor: default" in log
    assert not (workdir / f"results/{EXPERIMENT}/analysis").exists(), "a data step ran despite the refusal"
