"""Benchmark the mask path (threshold-only variants from cached stats) against `dj-process`.

For each pool size: build a demo pool (3000 documents: the demo itself; larger: demo pools of
successive seeds concatenated, so cross-seed copies are exact duplicates, as scraped data has),
analyse it once with the demo recipe (Data-Juicer's Analyzer plus the stats cache), then run the
same tightened thresholds three ways and print the times:
  mask step   reading the stats cache and applying every op's decision (in this process, imports
              excluded): what one threshold-only trial costs inside a batched HPO round;
  process.py  the workflow's process script on the mask path, start-up and file writes included;
  executor    the same script on the executor path: told the stats came from a recipe that differs
              in a non-threshold argument, it runs Data-Juicer's executor on the plain pool (np 2)
              and attributes removals from the stats the filters compute for the removed documents,
              as for any variant the masks cannot compute;
  dj-process  Data-Juicer's own CLI on the plain pool (np 2), computing every stat and hash.
It also checks that the mask path keeps exactly the documents dj-process keeps.

With --with-sweep it then runs bench/hpo_sweep.py (100 demo trials on the n-gram rung, killed once
and resumed) and prints its lines too, so one run gives every figure of the fast-trials issue.

Run from the repository root: `.venv/bin/python bench/masks.py [--sizes 3000 100000] [--with-sweep]`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "scripts"))

from sandbox.demo.corpus import build_demo  # noqa: E402
from sandbox.io.jsonl import write_jsonl  # noqa: E402

DEMO_RECIPE = REPO / "config/recipes/demo.yaml"
TIGHTENED = {"text_length_filter": {"min_len": 300, "max_len": 1200},
             "alphanumeric_filter": {"min_ratio": 0.75},
             "special_characters_filter": {"max_ratio": 0.25},
             "word_repetition_filter": {"max_ratio": 0.1}}
LEFT_LINE = re.compile(r"OP \[\w+\] Done in [\d.]+s\. Left (\d+) samples")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 100000])
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of the mask step and process.py (min counts)")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep pools and analyses here")
    parser.add_argument("--with-sweep", action="store_true",
                        help="also run bench/hpo_sweep.py and print its figures")
    return parser.parse_args()


def run(command: list[str], cwd: Path = REPO) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed, result


def build_pool(size: int, folder: Path) -> Path:
    """A demo pool of `size` documents with sandbox_row, as prepare_input writes it."""
    documents, seed = [], 0
    while len(documents) < size:
        pool, _ = build_demo(seed, pool_docs=min(3000, size - len(documents)), eval_docs=50)
        documents.extend(pool)
        seed += 1
    for row, document in enumerate(documents):
        document["sandbox_row"] = row
    path = folder / "pool.jsonl"
    write_jsonl(path, documents)
    return path


def tightened_recipe(path: Path) -> Path:
    recipe = yaml.safe_load(DEMO_RECIPE.read_text())
    for entry in recipe["process"]:
        (name, args), = entry.items()
        args.update(TIGHTENED.get(name, {}))
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def other_analyzed_recipe(path: Path) -> Path:
    """The demo recipe with a non-threshold argument changed: its stats cannot stand for ours."""
    recipe = yaml.safe_load(DEMO_RECIPE.read_text())
    for entry in recipe["process"]:
        if "document_deduplicator" in entry:
            entry["document_deduplicator"]["lowercase"] = True
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def process_py(recipe: Path, analyzed: Path, pool: Path, folder: Path, out: Path) -> tuple[float, dict]:
    """Wall seconds of scripts/process.py and its op_counts.json."""
    seconds, _ = run([sys.executable, "scripts/process.py", "--variant", "bench", "--recipe", str(recipe),
                      "--analyzed-recipe", str(analyzed), "--pool", str(pool),
                      "--pool-with-stats", str(folder / "with_stats.jsonl"),
                      "--stats-cache", str(folder / "stats.parquet"), "--out-data", str(out / "data.jsonl"),
                      "--out-counts", str(out / "op_counts.json"),
                      "--out-removed", str(out / "removed.jsonl"), "--np", "2"])
    return seconds, json.loads((out / "op_counts.json").read_text())


def mask_step_seconds(recipe: Path, cache_path: Path, repeats: int) -> tuple[float, list[int]]:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.masks import apply_ops, read_stats_cache

    ops = load_ops(yaml.safe_load(recipe.read_text())["process"])
    times, kept = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        cache = read_stats_cache(cache_path)
        result = apply_ops(ops, cache)
        times.append(time.perf_counter() - started)
        kept = sorted(cache.rows[result.kept].tolist())
    return min(times), kept


def bench_size(size: int, folder: Path, repeats: int) -> dict[str, float]:
    folder.mkdir(parents=True, exist_ok=True)
    pool = build_pool(size, folder)
    recipe = tightened_recipe(folder / "recipe.yaml")
    analyze_seconds, _ = run([sys.executable, "scripts/analyze.py", "--recipe", str(DEMO_RECIPE),
                              "--data", str(pool), "--out-stats", str(folder / "stats.jsonl"),
                              "--out-overall", str(folder / "overall.json"),
                              "--out-plots", str(folder / "plots"),
                              "--out-dataset", str(folder / "with_stats.jsonl"),
                              "--out-stats-cache", str(folder / "stats.parquet"), "--np", "2"])
    mask_seconds, mask_kept = mask_step_seconds(recipe, folder / "stats.parquet", repeats)
    process_times = []
    for _ in range(repeats):
        seconds, counts = process_py(recipe, DEMO_RECIPE, pool, folder, folder / "out")
        process_times.append(seconds)
    assert counts["path"] == "mask", counts["executor_reason"]
    other = other_analyzed_recipe(folder / "other.yaml")
    # The executor path and dj-process alternate, so this shared machine's drifts hit both; min counts.
    executor_times, dj_times = [], []
    for attempt in range(repeats):
        seconds, executor_counts = process_py(recipe, other, pool, folder, folder / "executor")
        executor_times.append(seconds)
        assert executor_counts["path"] == "executor" and executor_counts["ops"] == counts["ops"]
        export = folder / f"dj{attempt}/data.jsonl"
        seconds, result = run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path", str(pool),
                               "--export_path", str(export), "--work_dir", str(folder / f"dj{attempt}/work"),
                               "--np", "2", "--open_monitor", "false"], cwd=folder)
        dj_times.append(seconds)
    executor_seconds, dj_seconds = min(executor_times), min(dj_times)
    dj_kept = sorted(json.loads(line)["sandbox_row"] for line in export.read_text().splitlines())
    dj_left = [int(left) for left in LEFT_LINE.findall(result.stdout + result.stderr)]
    if dj_kept != mask_kept or dj_left != [op["left"] for op in counts["ops"]]:
        sys.exit(f"{size} docs: the mask path and dj-process disagree "
                 f"(kept {len(mask_kept)} vs {len(dj_kept)})")
    return {"docs": size, "analyze_s": analyze_seconds, "mask_step_s": mask_seconds,
            "process_py_s": min(process_times), "executor_s": executor_seconds, "dj_process_s": dj_seconds,
            "kept": len(mask_kept)}


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-masks-") as scratch:
        base = args.work_dir or Path(scratch)
        rows = [bench_size(size, base / str(size), args.repeats) for size in args.sizes]
    print("| docs | kept | analyze once (s) | mask step (s) | process.py, mask path (s) "
          "| process.py, executor path (s) | dj-process (s) | mask step / dj-process "
          "| mask path / dj-process | executor path / dj-process |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        direct = row["dj_process_s"]
        print(f"| {row['docs']} | {row['kept']} | {row['analyze_s']:.1f} | {row['mask_step_s']:.3f} "
              f"| {row['process_py_s']:.2f} | {row['executor_s']:.1f} | {direct:.1f} "
              f"| {row['mask_step_s'] / direct:.4f} | {row['process_py_s'] / direct:.3f} "
              f"| {row['executor_s'] / direct:.2f} |")
    if args.with_sweep:
        _, sweep = run([sys.executable, "bench/hpo_sweep.py"])
        print("\n100-trial sweep on the n-gram rung (bench/hpo_sweep.py):\n" + sweep.stdout.strip())


if __name__ == "__main__":
    main()
