"""Data-Juicer's Ray executor and Ray analysis on a running Ray cluster (data_juicer.executor: ray).

The workflow passes the choice to its jobs through the environment (SANDBOX_DJ_EXECUTOR,
SANDBOX_RAY_ADDRESS), not through params: both executors give the same results, so switching must
not rerun every step after the analysis.

What runs on the cluster: the analysis computes every filter's stats with Data-Juicer's
RayAnalyzer; the process step's executor path runs Data-Juicer's RayExecutor. Ray runs the ops
lazily, so there is no "Left N samples" line per op: per-op counts come from the filters' own
decisions on the removed documents, as on the default path, or with --trace from Data-Juicer's
tracer. What stays on the submitting machine: the overall stats and plots, drawn from the stats
Ray computed by the Data-Juicer classes the default Analyzer uses (so both executors give the
same overall.json and k-sigma thresholds, up to the 10 decimals the default Analyzer's JSON export
keeps), and the mask path, which runs no operator.

Ray writes its output as Parquet shards in any order; every result is put back in input order
by sandbox_row. Paths handed to Ray are absolute: its workers do not run in the job's directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.recipe.recipe_file import Process, load_recipe, op_names, write_recipe

EXECUTOR_ENV = "SANDBOX_DJ_EXECUTOR"
RAY_ADDRESS_ENV = "SANDBOX_RAY_ADDRESS"
STATS_FIELD = "__dj__stats__"
ROW_FIELD = "sandbox_row"
# Default-mode ops the workflow runs in Ray mode through their Ray counterpart (same hash, so
# the same number of documents removed; which copy of a duplicate survives may differ).
RAY_COUNTERPARTS = {"document_deduplicator": "ray_document_deduplicator"}


@dataclass(frozen=True)
class Executor:
    """Which Data-Juicer executor a job uses: default (in the job's process) or ray (a cluster)."""

    kind: str = "default"
    ray_address: str = "auto"

    @property
    def is_ray(self) -> bool:
        return self.kind == "ray"


def executor_from_env() -> Executor:
    """The executor the workflow chose (config data_juicer.executor and ray_address)."""
    kind = os.environ.get(EXECUTOR_ENV, "default") or "default"
    if kind not in ("default", "ray"):
        raise InputError(f"{EXECUTOR_ENV}={kind!r}: the executor must be default or ray "
                         "(config key data_juicer.executor).")
    return Executor(kind, os.environ.get(RAY_ADDRESS_ENV, "auto") or "auto")


def ray_unsupported_ops(process: Process) -> list[str]:
    """The recipe's ops Data-Juicer's Ray mode does not run, and that have no Ray counterpart here."""
    from data_juicer.ops import OPERATORS

    unsupported = []
    for index, name in enumerate(op_names(process)):
        modes = getattr(OPERATORS.modules[name], "_supported_exec_modes", ())
        if "ray" not in modes and name not in RAY_COUNTERPARTS:
            unsupported.append(f"{name} (op {index + 1}; runs in {', '.join(modes)})")
    return unsupported


def check_ray_support(recipe_path: Path, process: Process) -> None:
    """InputError naming every op the Ray executor cannot run, with the fix."""
    unsupported = ray_unsupported_ops(process)
    if unsupported:
        listed = "\n  - ".join(unsupported)
        raise InputError(
            f"{recipe_path}: data_juicer.executor is ray, and Data-Juicer's Ray mode does not run "
            f"{len(unsupported)} operator(s):\n  - {listed}\n"
            "Fix: use their Ray counterparts (e.g. ray_bts_minhash_deduplicator for "
            "document_minhash_deduplicator), remove them, or set data_juicer.executor: default."
        )


def ray_args(executor: Executor) -> list[str]:
    """init_configs arguments that select Data-Juicer's Ray executor and the cluster to join."""
    return ["--executor_type", "ray", "--ray_address", executor.ray_address]


def connect(cfg: Any) -> None:
    """Join the running cluster the way Data-Juicer does, or fail saying how to start one.

    Joining first also keeps Data-Juicer's RayAnalyzer from starting a local Ray instance of
    its own when no cluster answers: the workflow never starts Ray behind the user's back.
    """
    from data_juicer.utils.ray_utils import initialize_ray

    try:
        initialize_ray(cfg=cfg)
    except ConnectionError as error:
        raise InputError(
            f"data_juicer.executor is ray, but no Ray cluster answers at ray_address "
            f"{cfg.ray_address!r} ({error}). Fix: start one (`ray start --head` on this machine, or "
            "README \"Data-Juicer on a Ray cluster\" for SLURM), set data_juicer.ray_address to "
            "its address, or set data_juicer.executor: default."
        ) from None


def read_shards(directory: Path) -> list[dict[str, Any]]:
    """Every record of Ray's Parquet shards in a directory (any order).

    Parquet, not JSON: Ray writes JSON through pandas, which keeps 10 significant digits, so a
    stat would no longer equal the default executor's (and could fall on the other side of a
    threshold).
    """
    import pyarrow.parquet as pq

    records = []
    for shard in sorted(directory.glob("*.parquet")):
        records.extend(pq.read_table(shard).to_pylist())
    return records


def in_input_order(dataset_path: Path, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records sorted as their documents come in the input file (matched by sandbox_row)."""
    position = {record[ROW_FIELD]: index for index, (_, record) in enumerate(iter_jsonl(dataset_path))}
    ordered = sorted(records, key=lambda record: position[record[ROW_FIELD]])
    if len({record[ROW_FIELD] for record in ordered}) != len(ordered):
        raise RuntimeError("Ray returned a document twice (a retried task?); rerun the step")
    return ordered


def summarise_stats(records: list[dict[str, Any]], analysis_dir: Path, percentiles: list[float],
                    np: int) -> None:
    """overall.csv and the plots, by the classes the default Analyzer uses, from the stats Ray computed."""
    from data_juicer.analysis import ColumnWiseAnalysis, CorrelationAnalysis, OverallAnalysis
    from data_juicer.utils.constant import Fields

    columns = {Fields.stats: [record.get(Fields.stats) or {} for record in records],
               Fields.meta: [record.get(Fields.meta) or {} for record in records]}
    overall = OverallAnalysis(columns, str(analysis_dir)).analyze(percentiles=percentiles, num_proc=np)
    ColumnWiseAnalysis(columns, str(analysis_dir), overall_result=overall).analyze()
    CorrelationAnalysis(columns, str(analysis_dir)).analyze()


def stats_only_analyzer(ray_analyzer: type) -> type:
    """RayAnalyzer without its Ray aggregation of overall stats.

    Its dataset is lazy, so that aggregation would compute every stat a second time after the
    export; summarise_stats computes the overall stats from the export instead (with quantiles,
    which the aggregation lacks).
    """
    # An override of a method the class no longer has would be silently ignored.
    if not callable(getattr(ray_analyzer, "_compute_overall", None)):
        from sandbox.recipe.dj import internal_changed

        raise internal_changed(
            "RayAnalyzer._compute_overall (its Ray aggregation of the overall stats)",
            "stats_only_analyzer in scripts/sandbox/recipe/ray_mode.py",
            "find the method RayAnalyzer.run now computes the overall stats with "
            "(data_juicer/core/ray_analyzer.py) and override that one",
        )

    class StatsOnlyRayAnalyzer(ray_analyzer):
        def _compute_overall(self, dataset: Any) -> None:
            return None

    return StatsOnlyRayAnalyzer


def run_ray_analyzer(recipe_path: Path, dataset_path: Path, export_path: Path, work_dir: Path, np: int,
                     executor: Executor) -> Path:
    """Data-Juicer's RayAnalyzer on the cluster; writes export_path (records with their stats) and
    data_stats.jsonl beside it, in input order, as the default Analyzer does; returns the folder
    holding overall.csv and the plots."""
    from data_juicer.config import init_configs
    from data_juicer.core.ray_analyzer import RayAnalyzer

    from sandbox.recipe.dj import dj_args

    shards = export_path.with_name("ray-shards.parquet")
    args = dj_args(recipe_path.resolve(), dataset_path.resolve(), shards.resolve(), work_dir.resolve(), np)
    cfg = init_configs(args=args + ray_args(executor), allow_auto=True)
    connect(cfg)
    stats_only_analyzer(RayAnalyzer)(cfg).run(skip_return=True)
    records = in_input_order(dataset_path, read_shards(shards))
    write_jsonl(export_path, records)
    write_jsonl(export_path.with_name("data_stats.jsonl"), ({STATS_FIELD: record.get(STATS_FIELD) or {}}
                                                             for record in records))
    analysis_dir = work_dir / "summary"
    summarise_stats(records, analysis_dir, cfg.percentiles, np)
    return analysis_dir


def with_ray_counterparts(recipe: dict[str, Any]) -> dict[str, Any]:
    """The recipe with each default-mode op of RAY_COUNTERPARTS replaced by its Ray op."""
    process = []
    for entry in recipe["process"]:
        (name, op_args), = entry.items()
        process.append({RAY_COUNTERPARTS.get(name, name): dict(op_args)})
    return {**recipe, "process": process}


def traced_removals(trace_dir: Path, ray_name: str) -> int:
    """How many documents the tracer recorded an op removing (no file: it removed none)."""
    trace_file = trace_dir / f"sample_trace-{ray_name}.jsonl"
    return sum(1 for _ in iter_jsonl(trace_file)) if trace_file.exists() else 0


def left_after_each_op(process: Process, trace_dir: Path, input_count: int, output_count: int,
                       ) -> list[tuple[str, int]]:
    """(op, documents left) after each op, from the tracer's per-filter removals; mappers remove none."""
    from data_juicer.ops import OPERATORS, Filter

    left, report = input_count, []
    for name in op_names(process):
        ray_name = RAY_COUNTERPARTS.get(name, name)
        if issubclass(OPERATORS.modules[ray_name], Filter):
            left -= traced_removals(trace_dir, ray_name)
        report.append((name, left))
    if left != output_count:
        raise RuntimeError(f"the tracer accounts for {input_count - left} removals, "
                           f"the Ray executor removed {input_count - output_count}")
    return report


def run_ray_executor(recipe_path: Path, dataset_path: Path, export_path: Path, work_dir: Path, np: int,
                     executor: Executor,
                     trace_limit: int | None) -> tuple[list[tuple[str, int]], Path | None]:
    """Data-Juicer's RayExecutor on the cluster; writes the kept documents to export_path in input order.

    With a trace_limit (at least the input size), its tracer records every removal, and the
    result is (documents left after each op, trace folder); without, ([], None): the executor
    itself reports no per-op counts.
    """
    from data_juicer.config import init_configs
    from data_juicer.core.executor.ray_executor import RayExecutor

    from sandbox.recipe.dj import dj_args

    recipe = load_recipe(recipe_path)
    ray_recipe = work_dir.parent / "ray-recipe.yaml"
    write_recipe(ray_recipe, with_ray_counterparts(recipe))
    shards = export_path.with_name("ray-shards.parquet")
    args = dj_args(ray_recipe.resolve(), dataset_path.resolve(), shards.resolve(), work_dir.resolve(), np)
    args += ray_args(executor)
    if trace_limit is not None:
        args += ["--open_tracer", "true", "--trace_num", str(max(trace_limit, 1))]
    cfg = init_configs(args=args)
    connect(cfg)
    RayExecutor(cfg).run(skip_return=True)
    records = in_input_order(dataset_path, read_shards(shards))
    write_jsonl(export_path, records)
    if trace_limit is None:
        return [], None
    trace_dir = Path(cfg.work_dir) / "trace"
    input_count = sum(1 for _ in iter_jsonl(dataset_path))
    return left_after_each_op(recipe["process"], trace_dir, input_count, len(records)), trace_dir
