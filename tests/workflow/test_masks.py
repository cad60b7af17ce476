"""The mask path (threshold-only variants from cached stats) against Data-Juicer's own executor.

On the demo pool (every demo filter and the exact deduplicator), random thresholds and bound
options must give the same kept rows and the same per-op removal counts as the executor. The 20
random draws run on the pool's first 400 documents (an executor run costs about 3 s there, 6 s on 1000,
13 s on all 3000: 50 draws on 1000 documents took 6 minutes of CI); dj-process on the whole plain pool
checks the cached stats and hashes themselves. A model-feedback variant takes the mask path on its op's
cached stat of the pool; that dj-process on the saved recipe keeps the same documents is checked for every
method on the tiny run: test_feedback_ops.py (self_loss, reference_ppl, importance), test_classifier.py
(classifier).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, workflow_env

DEMO_RECIPE = REPO / "config/recipes/demo.yaml"
MAPPER_FIRST = "whitespace_normalization_mapper"
SLICE_DOCS = 400


def run_script(*args: str, cwd: Path = REPO) -> None:
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=workflow_env(), capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def demo_pool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo pool, analysed by Data-Juicer with the demo recipe (stats cache included)."""
    folder = tmp_path_factory.mktemp("masks")
    run_script("scripts/prepare_demo.py", "--pool", str(folder / "demo_pool.jsonl"),
               "--eval", str(folder / "demo_eval.jsonl"), "--seed", "0", "--pool-docs", "3000", "--eval-docs",
               "50")
    run_script("scripts/prepare_input.py", "--dataset", str(folder / "demo_pool.jsonl"),
               "--eval", str(folder / "demo_eval.jsonl"), "--out-pool", str(folder / "pool.jsonl"),
               "--out-eval", str(folder / "eval.jsonl"))
    run_script("scripts/analyze.py", "--recipe", str(DEMO_RECIPE), "--data", str(folder / "pool.jsonl"),
               "--out-stats", str(folder / "stats.jsonl"), "--out-overall", str(folder / "overall.json"),
               "--out-plots", str(folder / "plots"), "--out-dataset", str(folder / "with_stats.jsonl"),
               "--out-stats-cache", str(folder / "stats.parquet"), "--np", "2")
    return folder


@pytest.fixture(scope="module")
def demo_slice(demo_pool: Path) -> Path:
    """The first SLICE_DOCS documents of the analysed pool: their stats export and stats cache."""
    import pyarrow.parquet as pq

    folder = demo_pool / "slice"
    folder.mkdir()
    lines = (demo_pool / "with_stats.jsonl").read_text().splitlines(keepends=True)[:SLICE_DOCS]
    (folder / "with_stats.jsonl").write_text("".join(lines))
    pq.write_table(pq.read_table(demo_pool / "stats.parquet").slice(0, SLICE_DOCS), folder / "stats.parquet")
    return folder


def demo_process() -> list[dict[str, dict[str, Any]]]:
    return yaml.safe_load(DEMO_RECIPE.read_text())["process"]


def write_recipe(path: Path, process: list[dict[str, dict[str, Any]]]) -> Path:
    recipe = yaml.safe_load(DEMO_RECIPE.read_text())
    recipe["process"] = process
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def mask_outcome(process: list[dict[str, dict[str, Any]]], cache_path: Path) -> tuple[list[int], list[int]]:
    """Kept sandbox_rows and per-op removal counts from the mask path."""
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.masks import apply_ops, mask_path_refusal, read_stats_cache

    cache = read_stats_cache(cache_path)
    ops = load_ops(process)
    assert mask_path_refusal(ops, cache) is None
    result = apply_ops(ops, cache)
    return sorted(cache.rows[result.kept].tolist()), [len(removed) for removed in result.removed_by_op]


def executor_outcome(recipe_path: Path, data_path: Path, scratch: Path) -> tuple[list[int], list[int]]:
    """Kept sandbox_rows and per-op removal counts from Data-Juicer's DefaultExecutor (in process)."""
    from sandbox.io.jsonl import iter_jsonl
    from sandbox.recipe.dj import run_executor

    export = scratch / "export" / "data.jsonl"
    run = run_executor(recipe_path, data_path, export, scratch / "work", 1, None)
    kept = sorted(record["sandbox_row"] for _, record in iter_jsonl(export)) if export.exists() else []
    before, removed = sum(1 for _ in iter_jsonl(data_path)), []
    for _, left in run.left_after_op:
        removed.append(before - left)
        before = left
    return kept, removed


def stat_values(cache_path: Path) -> dict[str, list[Any]]:
    import pyarrow.parquet as pq

    from sandbox.recipe.masks import STAT_PREFIX

    table = pq.read_table(cache_path)
    return {name[len(STAT_PREFIX):]: sorted(set(table.column(name).to_pylist()))
            for name in table.column_names if name.startswith(STAT_PREFIX)}


@st.composite
def threshold_variants(draw: st.DrawFn, values: dict[str, list[Any]]) -> list[dict[str, dict[str, Any]]]:
    """The demo recipe with each filter's bounds drawn from (or between) observed stat values,
    sometimes with open bounds or a reversed range."""
    from data_juicer.ops import OPERATORS, Filter
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.k_sigma import stat_keys_of, threshold_args_of

    process = demo_process()
    for entry in process:
        (name, args), = entry.items()
        cls = OPERATORS.modules[name]
        if not issubclass(cls, Filter):
            continue
        (stat,) = stat_keys_of(load_ops([{name: args}])[0])
        observed = values[stat]
        low, high = observed[: max(1, len(observed) // 4)], observed[-max(1, len(observed) // 4):]
        for arg in threshold_args_of(cls):
            pool = low if arg.bound == "min" else high
            value = draw(st.one_of(st.sampled_from(pool), st.floats(min(pool), max(pool))))
            args[arg.name] = int(value) if arg.is_int else float(value)
        if draw(st.integers(0, 3)) == 0:
            args["min_closed_interval"] = draw(st.booleans())
            args["max_closed_interval"] = draw(st.booleans())
        if draw(st.integers(0, 7)) == 0:
            args["reversed_range"] = True
    return process


def test_stats_cache_holds_every_stat_and_the_dedup_hash(demo_pool: Path) -> None:
    from sandbox.recipe.masks import read_stats_cache

    cache = read_stats_cache(demo_pool / "stats.parquet")
    exported = [json.loads(line) for line in (demo_pool / "with_stats.jsonl").read_text().splitlines()]
    assert cache.rows.tolist() == [record["sandbox_row"] for record in exported] == list(range(3000))
    assert cache.stats == [record["__dj__stats__"] for record in exported]
    dedup_index = [next(iter(entry)) for entry in demo_process()].index("document_deduplicator")
    assert list(cache.hashes) == [dedup_index]
    assert len(set(cache.hashes[dedup_index])) < 3000, "the demo pool has exact duplicates"


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mask_path_matches_the_executor_on_random_thresholds(
        demo_slice: Path, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    # The executor reads the pool with the Analyzer's stats attached, as `process` does: Data-Juicer's
    # filters then skip computing them, so this compares decisions (the next test compares stats too).
    process = data.draw(threshold_variants(stat_values(demo_slice / "stats.parquet")))
    scratch = tmp_path_factory.mktemp("draw")
    recipe_path = write_recipe(scratch / "recipe.yaml", process)
    by_masks = mask_outcome(process, demo_slice / "stats.parquet")
    by_executor = executor_outcome(recipe_path, demo_slice / "with_stats.jsonl", scratch)
    assert by_masks == by_executor, process


def test_mask_path_matches_dj_process_on_the_plain_pool(demo_pool: Path, tmp_path: Path) -> None:
    # dj-process itself, computing every stat and hash from the text: the cached stats and hashes
    # must stand in for them exactly.
    process = demo_process()
    thresholds = {"text_length_filter": {"min_len": 300, "max_len": 1200},
                  "alphanumeric_filter": {"min_ratio": 0.75},
                  "special_characters_filter": {"max_ratio": 0.25},
                  "word_repetition_filter": {"max_ratio": 0.1}}
    for entry in process:
        (name, args), = entry.items()
        args.update(thresholds.get(name, {}))
    recipe_path = write_recipe(tmp_path / "recipe.yaml", process)
    export = tmp_path / "export.jsonl"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dj-process"), "--config", str(recipe_path),
         "--dataset_path", str(demo_pool / "pool.jsonl"), "--export_path", str(export),
         "--work_dir", str(tmp_path / "work"), "--np", "2", "--open_monitor", "false"],
        cwd=tmp_path, env=workflow_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    left = [int(count)
            for count in re.findall(r"OP \[\w+\] Done in [\d.]+s\. Left (\d+) samples", result.stderr)]
    assert len(left) == len(process)
    removed = list(-np.diff([3000, *left]))
    kept = sorted(json.loads(line)["sandbox_row"] for line in export.read_text().splitlines())

    assert mask_outcome(process, demo_pool / "stats.parquet") == (kept, removed)
    assert all(removed[:3]) and removed[-1] > 0, "each tightened filter and the deduplicator should remove"


def test_mask_path_refuses_a_recipe_with_a_mapper_first(demo_pool: Path, tmp_path: Path) -> None:
    # Stats from the unmapped text do not describe what the filters see after the mapper: the
    # executor runs. A small slice of the pool keeps the run short.
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join((demo_pool / "pool.jsonl").read_text().splitlines(keepends=True)[:300]))
    recipe = write_recipe(tmp_path / "recipe.yaml", [{MAPPER_FIRST: {}}, *demo_process()])
    out = tmp_path / "out"
    run_script("scripts/process.py", "--variant", "mapped", "--recipe", str(recipe), "--analyzed-recipe",
               str(recipe), "--pool", str(pool), "--pool-with-stats", str(demo_pool / "with_stats.jsonl"),
               "--stats-cache", str(demo_pool / "stats.parquet"), "--out-data", str(out / "data.jsonl"),
               "--out-counts", str(out / "op_counts.json"), "--out-removed", str(out / "removed.jsonl"))
    counts = json.loads((out / "op_counts.json").read_text())
    assert counts["path"] == "executor" and "mapper" in counts["executor_reason"]
    assert counts["input_docs"] == 300 and counts["ops"][0]["op"] == MAPPER_FIRST


def test_mask_path_refuses_an_op_that_is_neither_filter_nor_exact_deduplicator(demo_pool: Path) -> None:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.masks import mask_path_refusal, read_stats_cache

    ops = load_ops([*demo_process(), {"random_selector": {"select_num": 10}}])
    reason = mask_path_refusal(ops, read_stats_cache(demo_pool / "stats.parquet"))
    assert reason is not None and "random_selector" in reason
