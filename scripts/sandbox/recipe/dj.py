"""Running Data-Juicer's own Analyzer and executor from a recipe, with no run-time installs."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sandbox.io.jsonl import InputError
from sandbox.recipe.ray_mode import Executor
from sandbox.recipe.recipe_file import load_recipe

# The executor logs one line per op: "[2/9] OP [words_num_filter] Done in 0.1s. Left 812 samples."
# Data-Juicer 1.6.1 has no public per-op count (its tracer, monitor and event log give none for every
# op), so this log line is read; tests/unit/test_dj_canary.py checks it against the installed version.
OP_DONE_LINE = re.compile(r"\[(\d+)/(\d+)\] OP \[([\w.]+)\] Done in [\d.]+s\. Left (\d+) samples\.")


def internal_changed(internal: str, ours: str, fix: str) -> RuntimeError:
    """The error for a Data-Juicer internal this project relies on that the installed version changed.

    Raised where the internal is used, so an upgrade fails at the cause, not steps later.
    """
    import importlib.metadata

    version = importlib.metadata.version("py-data-juicer")
    return RuntimeError(
        f"py-data-juicer {version} changed {internal}, which {ours} relies on. Fix: {fix}; then run "
        "`.venv/bin/pytest tests/unit/test_dj_canary.py`, which checks every Data-Juicer internal we use."
    )


def forbid_runtime_installs() -> None:
    """Make Data-Juicer's lazy loader fail instead of pip-installing a missing package mid-run."""
    from data_juicer.utils.lazy_loader import LazyLoader

    # Patching a name the loader no longer calls would silently let installs through again.
    if not isinstance(vars(LazyLoader).get("_install_package"), classmethod):
        raise internal_changed(
            "LazyLoader._install_package (the classmethod its lazy loader installs packages with)",
            "forbid_runtime_installs in scripts/sandbox/recipe/dj.py",
            "find where data_juicer/utils/lazy_loader.py now installs a missing package and refuse there",
        )

    def refuse(cls: type, package_spec: str, pip_args: Any = None) -> None:
        raise ImportError(
            f"Data-Juicer asked to install '{package_spec}' at run time; recipe-sandbox never installs "
            "during a run. Fix: add the package, pinned, to envs/data-juicer.yaml, then `make venv` "
            "(or let `--use-conda` rebuild the env)."
        )

    LazyLoader._install_package = classmethod(refuse)


@contextmanager
def job_scratch(parent: Path, prefix: str) -> Iterator[Path]:
    """A scratch folder for one job's Data-Juicer run, inside parent, removed afterwards.

    First removes any parent/prefix* an earlier run of the same job left behind: a job killed
    with SIGKILL (or by a node failure) never runs TemporaryDirectory's cleanup. The prefix must
    name the job's output, so no other running job shares it.
    """
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f"{prefix}*"):
        print(f"removing {stale}, left by an interrupted run", flush=True)
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as scratch:
        yield Path(scratch)


def register_custom_operators(recipe: dict[str, Any]) -> None:
    """Load the recipe's custom_operator_paths in this process, so load_ops finds the ops.

    Data-Juicer's loader refuses a module it already loaded, and its init_configs loads the
    recipe's paths again; so its loader is also made to skip modules already loaded here.
    """
    import sys

    from data_juicer.config import config as dj_config

    for name in ("_generate_module_name", "load_custom_operators"):
        if not callable(getattr(dj_config, name, None)):
            raise internal_changed(
                f"data_juicer.config.config.{name} (how init_configs loads custom_operator_paths)",
                "register_custom_operators in scripts/sandbox/recipe/dj.py",
                "find where init_configs now loads custom_operator_paths and names their modules, "
                "and make register_custom_operators skip modules already loaded there",
            )

    def module_name(path: str) -> str:  # as Data-Juicer names a file, or a package folder
        path = os.path.abspath(path)
        return os.path.basename(path) if os.path.isdir(path) else dj_config._generate_module_name(path)

    def not_loaded(paths: list[str]) -> list[str]:
        return [path for path in paths or [] if module_name(path) not in sys.modules]

    if not getattr(dj_config.load_custom_operators, "skips_loaded_modules", False):
        original = dj_config.load_custom_operators

        def load_new_only(paths: list[str]) -> None:
            original(not_loaded(paths))

        load_new_only.skips_loaded_modules = True  # type: ignore[attr-defined]
        dj_config.load_custom_operators = load_new_only
    dj_config.load_custom_operators(recipe.get("custom_operator_paths") or [])


def use_private_datasets_cache(directory: Path) -> None:
    """Keep Hugging Face datasets' Arrow cache in the job's scratch dir, not in ~/.cache.

    Otherwise every run adds cache files there that nothing ever removes.
    """
    import datasets

    directory.mkdir(parents=True, exist_ok=True)
    os.environ["HF_DATASETS_CACHE"] = str(directory)
    datasets.config.HF_DATASETS_CACHE = directory


def dj_args(recipe_path: Path, dataset_path: Path, export_path: Path, work_dir: Path, np: int) -> list[str]:
    """Command-line style arguments for data_juicer.config.init_configs; ours override the recipe's."""
    return [
        "--config", str(recipe_path),
        "--dataset_path", str(dataset_path),
        "--export_path", str(export_path),
        "--work_dir", str(work_dir),
        # A fixed job id keeps Data-Juicer's work dir at a known path instead of a timestamped one.
        "--job_id", "dj",
        "--np", str(np),
        "--text_keys", "text",
        "--open_monitor", "false",
    ]


def run_analyzer(recipe_path: Path, dataset_path: Path, export_path: Path, work_dir: Path, np: int,
                 export_dataset: bool, executor: Executor = Executor()) -> Path:
    """Run Data-Juicer's Analyzer (or its RayAnalyzer, which always exports the dataset); return the
    directory holding overall.csv and the plots."""
    from data_juicer.config import init_configs
    from data_juicer.core import Analyzer

    register_custom_operators(load_recipe(recipe_path))
    use_private_datasets_cache(work_dir.parent / "hf-datasets")
    if executor.is_ray:
        from sandbox.recipe.ray_mode import run_ray_analyzer

        return run_ray_analyzer(recipe_path, dataset_path, export_path, work_dir, np, executor)
    args = dj_args(recipe_path, dataset_path, export_path, work_dir, np)
    args += ["--export_original_dataset", str(export_dataset).lower()]
    cfg = init_configs(args=args, allow_auto=True)
    analyzer = Analyzer(cfg)
    analyzer.run()
    return Path(analyzer.analysis_path)


@dataclass
class ExecutorRun:
    """What one executor run reports: samples left after each op, and the tracer's directory."""

    left_after_op: list[tuple[str, int]] = field(default_factory=list)
    trace_dir: Path | None = None


def run_executor(recipe_path: Path, dataset_path: Path, export_path: Path, work_dir: Path, np: int,
                 trace_limit: int | None, executor: Executor = Executor()) -> ExecutorRun:
    """Run Data-Juicer's DefaultExecutor and collect its per-op sample counts.

    With a trace_limit, Data-Juicer's tracer records up to that many samples each op removes.
    The Ray executor reports no per-op counts: left_after_op stays empty unless it traces.
    """
    from data_juicer.config import init_configs
    from data_juicer.core import DefaultExecutor
    from loguru import logger

    register_custom_operators(load_recipe(recipe_path))
    use_private_datasets_cache(work_dir.parent / "hf-datasets")
    if executor.is_ray:
        from sandbox.recipe.ray_mode import run_ray_executor

        left, trace_dir = run_ray_executor(recipe_path, dataset_path, export_path, work_dir, np, executor,
                                           trace_limit)
        return ExecutorRun(left_after_op=left, trace_dir=trace_dir)
    args = dj_args(recipe_path, dataset_path, export_path, work_dir, np)
    if trace_limit is not None:
        args += ["--open_tracer", "true", "--trace_num", str(max(trace_limit, 1))]
    cfg = init_configs(args=args)
    report = ExecutorRun()

    def record_op_line(message: Any) -> None:
        match = OP_DONE_LINE.search(message.record["message"])
        if match:
            report.left_after_op.append((match.group(3), int(match.group(4))))

    sink_id = logger.add(record_op_line, level="INFO")
    try:
        executor = DefaultExecutor(cfg)
        executor.run()
    finally:
        logger.remove(sink_id)
    if trace_limit is not None:
        report.trace_dir = Path(executor.tracer.work_dir)
    return report


def require_nonempty_output(kept: int, recipe_path: Path, variant: str) -> None:
    """Fail with a clear message when the recipe removed every document."""
    if kept == 0:
        raise InputError(
            f"{recipe_path}: variant '{variant}' removed every document, so there is nothing to train on. "
            "Fix: loosen the thresholds in the recipe, or raise `k` for the k_sigma variant, "
            "and look at results/<experiment>/analysis/raw/overall.json for each stat's range."
        )
