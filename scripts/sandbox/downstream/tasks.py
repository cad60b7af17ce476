"""Downstream tasks (lm-evaluation-harness): which YAML defines each configured task, the local data
files it reads, and the error when one is not on disk. Plain Python and PyYAML: Snakemake reads this
module at DAG time, before any lm-eval job runs.

A `tasks:` entry is a task name, looked up among the YAML files under `tasks_path` (their `task:`
key) and otherwise left to lm-eval's own catalogue (hellaswag, arc_easy, ...), or the path of a task
YAML. Data files named by a local builder (`dataset_path: json` with `dataset_kwargs.data_files`)
are read relative to the working directory, as lm-eval and `datasets` read them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import REGISTRY

# `datasets` builders that read local files named by data_files (no hub, no cache)
LOCAL_BUILDERS = ("json", "csv", "parquet", "text", "arrow")
YAML_SUFFIXES = (".yaml", ".yml")
# a task name is a path component of every downstream file: no separators, nothing hidden
TASK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# the proxies whose trained models the lm-eval wrappers load (sandbox.downstream.harness), and the file or
# folder
# of models/<proxy>/<variant>/seed<N>/ each loads; `command` keeps no model the workflow knows
HARNESS_MODELS = {name: proxy.harness_model for name, proxy in REGISTRY.items() if proxy.harness_model}
# the demo's own task (sandbox.demo.task) and the demo settings its paragraphs are held out under
DEMO_TASK = "sotu_hellaswag"
DEMO_TASK_SETTINGS = {"seed": 0, "eval_docs": 400, "reference_docs": 300}


class _TaskLoader(yaml.SafeLoader):
    """A YAML loader for lm-eval task files: custom tags (`!function utils.process_docs`) load as
    their text, since only the plain keys are read here."""


_TaskLoader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix} {getattr(node, 'value', '')}")


@dataclass(frozen=True)
class TaskSpec:
    """One configured task: its name, its YAML (None for a task of lm-eval's catalogue), the folder
    lm-eval indexes for it, and the local data files it reads."""

    name: str
    yaml_path: Path | None
    include_path: Path | None
    data_files: tuple[Path, ...]

    @property
    def files(self) -> list[str]:
        """What a downstream job reads of the task: its YAML and data (inputs: editing one reruns it)."""
        return ([str(self.yaml_path)] if self.yaml_path else []) + [str(path) for path in self.data_files]


def read_task_yaml(path: Path) -> dict[str, Any]:
    """A task YAML with its `include:` (a base YAML beside it) merged under its own keys."""
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_TaskLoader)
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: not a readable task YAML ({error}). Fix: check the file.") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: not a task YAML (a mapping with a `task:` key).")
    base = loaded.pop("include", None)
    if isinstance(base, str):
        return {**read_task_yaml(path.parent / base), **loaded}
    return loaded


def catalogue(folder: Path) -> dict[str, Path]:
    """Task name -> YAML of every task file under folder (groups and unreadable files skipped)."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES):
        try:
            name = read_task_yaml(path).get("task")
        except InputError:
            continue
        if isinstance(name, str):
            found.setdefault(name, path)
    return found


def data_files(config: dict[str, Any]) -> tuple[Path, ...]:
    """The local files a task's dataset is built from (none for a hub dataset)."""
    if config.get("dataset_path") not in LOCAL_BUILDERS:
        return ()
    files = (config.get("dataset_kwargs") or {}).get("data_files") or ()
    if isinstance(files, dict):
        files = list(files.values())
    if isinstance(files, str):
        files = [files]
    flat = [name for entry in files for name in ([entry] if isinstance(entry, str) else entry)]
    return tuple(Path(name) for name in flat)


def resolve_task(entry: str, tasks_path: Path) -> TaskSpec:
    """The task a `tasks:` entry names: a YAML path, a task under tasks_path, or lm-eval's own."""
    if entry.endswith(YAML_SUFFIXES):
        path = Path(entry)
        if not path.is_file():
            raise InputError(f"tasks: {entry} is not a file. Fix: give the path of an lm-eval task YAML, "
                             f"or a task name (found under tasks_path {tasks_path} or in lm-eval).")
        config = read_task_yaml(path)
        name = config.get("task")
        if not isinstance(name, str):
            raise InputError(f"{path}: no `task:` name. Fix: name the task in its YAML.")
        return checked(TaskSpec(name, path, path.parent, data_files(config)))
    local = catalogue(tasks_path).get(entry)
    if local is None:
        return checked(TaskSpec(entry, None, None, ()))
    return checked(TaskSpec(entry, local, tasks_path, data_files(read_task_yaml(local))))


def checked(spec: TaskSpec) -> TaskSpec:
    """The spec, if its name can be a folder of downstream/."""
    if not TASK_NAME.match(spec.name):
        raise InputError(f"task {spec.name!r}: the name becomes a folder of results/<experiment>/"
                         "downstream/, so it takes letters, digits, _ . - only. Fix: rename the task in "
                         "its YAML.")
    return spec


def resolve_tasks(entries: list[str], tasks_path: Path) -> dict[str, TaskSpec]:
    """Name -> spec of every configured task; the same name twice is an error."""
    specs: dict[str, TaskSpec] = {}
    for entry in entries:
        spec = resolve_task(entry, tasks_path)
        if spec.name in specs:
            raise InputError(f"tasks: {spec.name} is listed twice. Fix: list each task once.")
        specs[spec.name] = spec
    return specs


def require_data(specs: dict[str, TaskSpec]) -> None:
    """InputError naming the first task whose data file is not on disk, and the file."""
    for spec in specs.values():
        problem = missing_data(spec)
        if problem:
            raise InputError(problem)


def missing_data(spec: TaskSpec) -> str | None:
    """The error for a task whose data file is not on disk (naming the task and the file), else None."""
    for path in spec.data_files:
        if not path.is_file():
            return (f"task {spec.name}: its data file {path} is not on disk ({spec.yaml_path}, "
                    "dataset_kwargs.data_files; read relative to the workflow's folder). Downstream jobs "
                    "run offline, so nothing is downloaded. Fix: put the file there, or correct the path.")
    return None


def offline() -> None:
    """Downstream jobs never reach a hub: data and models come from disk. Call before `datasets`,
    `transformers` or lm-eval are imported (they read the variables then)."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
