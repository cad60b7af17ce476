"""Data-Juicer recipes: load, check op names, and write them back in the format dj-process reads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from sandbox.io.jsonl import InputError

Process = list[dict[str, dict[str, Any]]]


def read_yaml(path: Path, kind: str, fix_missing: str) -> Any:
    """Parse a YAML config file; raise InputError naming the file when it is missing or not YAML."""
    if not path.is_file():
        raise InputError(f"{path}: {kind} not found. Fix: {fix_missing}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error}). Fix: repair the {kind} file.") from None


def load_recipe(path: str | Path) -> dict[str, Any]:
    """Parse a recipe YAML and check the shape of its process list; raise InputError otherwise."""
    path = Path(path)
    recipe = read_yaml(path, "recipe", "set `recipe:` in the config to a Data-Juicer recipe YAML.")
    if not isinstance(recipe, dict) or not isinstance(recipe.get("process"), list) or not recipe["process"]:
        raise InputError(
            f"{path}: a recipe needs a non-empty `process:` list of operators. "
            "Fix: write it as in Data-Juicer's recipes, e.g. "
            "`process: [{text_length_filter: {min_len: 10}}]`."
        )
    recipe["process"] = [normalise_op_entry(entry, path, index)
                         for index, entry in enumerate(recipe["process"])]
    return recipe


def normalise_op_entry(entry: Any, path: Path, index: int) -> dict[str, dict[str, Any]]:
    """Return {op_name: args} for one process entry, with args {} where the recipe gives none."""
    if isinstance(entry, str):
        return {entry: {}}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise InputError(
            f"{path}: process entry {index + 1} is {entry!r}; each entry must be one operator name "
            "mapping to its arguments. Fix: write it as `- op_name: {arg: value}`."
        )
    (op_name, args), = entry.items()
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise InputError(
            f"{path}: the arguments of operator '{op_name}' (entry {index + 1}) must be a mapping, "
            f"got {args!r}."
        )
    return {str(op_name): dict(args)}


def op_names(process: Process) -> list[str]:
    """The operator names of a process list, in order."""
    return [next(iter(entry)) for entry in process]


def write_recipe(path: str | Path, recipe: dict[str, Any]) -> None:
    """Write a recipe YAML that dj-process reads unchanged (block style, keys in the given order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False, default_flow_style=False), encoding="utf-8")


def strip_thresholds(process: Process, threshold_args: dict[str, set[str]]) -> Process:
    """The process list without the given threshold arguments of each op (to compare op settings)."""
    stripped: Process = []
    for entry in process:
        (name, args), = entry.items()
        skip = threshold_args.get(name, set())
        stripped.append({name: {key: value for key, value in args.items() if key not in skip}})
    return stripped


# What the workflow does with each global key of a Data-Juicer recipe (besides `process`). Keys
# Data-Juicer itself does not know are refused; so are known keys missing from these tables.
SET_BY_WORKFLOW = {
    "dataset_path": "the pool comes from the config's dataset_path",
    "dataset": "the pool comes from the config's dataset_path",
    "export_path": "each step writes its own outputs under results/<experiment>/",
    "export_type": "processed data is always written as JSONL",
    "export_shard_size": "processed data is always one JSONL file",
    "export_in_parallel": "processed data is always one JSONL file",
    "export_original_dataset": "the analysis step sets it",
    "work_dir": "each job has its own scratch folder",
    "job_id": "each job has its own scratch folder",
    "temp_dir": "each job has its own scratch folder",
    "ds_cache_dir": "each job has its own scratch folder",
    "np": "worker processes come from the config's data_juicer.np",
    "text_keys": "the working pool keeps its text in `text` (the config's text_key names your field)",
    "open_monitor": "the workflow measures time and memory per job (benchmarks/)",
    "open_tracer": "removed documents are always recorded (processed/<variant>/removed.jsonl)",
    "trace_num": "removed documents are always recorded (processed/<variant>/removed.jsonl)",
    "trace_keys": "removed documents are always recorded (processed/<variant>/removed.jsonl)",
    "op_list_to_trace": "removed documents are always recorded (processed/<variant>/removed.jsonl)",
    "keep_stats_in_res_ds": "stats are written by the analysis step",
    "keep_hashes_in_res_ds": "stats are written by the analysis step",
    "save_stats_in_one_file": "stats are written by the analysis step",
    "suffixes": "the pool is one JSONL file",
}
# Set on every Data-Juicer run by sandbox/recipe/dj.py (dj_args), so the recipe's value never takes effect
# and the checked copy may keep it; every other SET_BY_WORKFLOW key is dropped from the copy.
OVERRIDDEN_ON_EVERY_RUN = {
    "dataset_path", "export_path", "work_dir", "job_id", "np", "text_keys", "open_monitor",
}
PASSED_TO_DATA_JUICER = {
    "project_name", "use_cache", "cache_compress", "percentiles", "strict_preflight", "debug",
    "custom_operator_paths", "load_jsonl_lenient", "event_log_dir", "event_logging.enabled",
    "image_key", "image_bytes_key", "audio_key", "video_key", "image_special_token", "audio_special_token",
    "video_special_token", "eoc_special_token",
}
REFUSED = {
    "op_fusion": ("fused ops report one count for several ops, so per-op removals and the mask path "
                  "break; set op_fusion: false (at this scale fusion saves little)"),
    "fusion_strategy": ("it only applies with op_fusion, which the sandbox refuses; remove it"),
    "mapper_fusion": ("fused mappers report one count for several ops; set mapper_fusion: false"),
    "executor_type": ("the workflow's config chooses the executor for every step; remove it and set "
                      "data_juicer.executor: ray in the config"),
    "ray_address": ("the workflow's config names the Ray cluster; remove it and set "
                    "data_juicer.ray_address in the config"),
    "skip_op_error": ("a document an op fails on would vanish without a count; set skip_op_error: false"),
    "use_checkpoint": ("Snakemake reruns whole steps; set use_checkpoint: false"),
    "resume": ("Snakemake reruns whole steps; set resume: false"),
}
HARMLESS_VALUES = {"op_fusion": False, "mapper_fusion": False, "executor_type": "default",
                   "skip_op_error": False, "use_checkpoint": False, "resume": False}


def global_key_problems(recipe: dict[str, Any], known_keys: set[str]) -> tuple[list[str], list[str]]:
    """(refusals, notes) for the recipe's global keys: each refusal says why and the fix; each note
    names a key the workflow sets itself (dropped from the copy it runs)."""
    refusals, notes = [], []
    for key, value in recipe.items():
        if key == "process":
            continue
        if key in SET_BY_WORKFLOW:
            notes.append(f"{key}: ignored, {SET_BY_WORKFLOW[key]}")
        elif key in PASSED_TO_DATA_JUICER:
            continue
        elif key in REFUSED:
            if key in HARMLESS_VALUES and value == HARMLESS_VALUES[key]:
                continue
            refusals.append(f"{key}: {value!r} is not supported: {REFUSED[key]}")
        elif key in known_keys:
            refusals.append(f"{key}: a Data-Juicer setting the sandbox does not handle; remove it")
        else:
            refusals.append(f"{key}: not a Data-Juicer setting (a typo?); remove or correct it")
    return refusals, notes


def apply_params(recipe: dict[str, Any], values: dict[str, object]) -> dict[str, Any]:
    """A copy of the recipe with each value set on every op of that name: op_name.arg_name sets
    the argument; a deeper name (from a nested W&B `parameters:` block) sets a key inside the
    argument's dict, which is created (or extended) as needed."""
    refined = copy.deepcopy(recipe)
    for name, value in values.items():
        op, arg, *keys = name.split(".")
        for entry in refined["process"]:
            if op in entry:
                if entry[op] is None:  # an op listed without arguments
                    entry[op] = {}
                set_nested(entry[op], [arg, *keys], value)
    return refined


def set_nested(arguments: dict[str, Any], keys: list[str], value: object) -> None:
    """arguments[k0][k1]...[kn] = value, making the intermediate dicts."""
    for key in keys[:-1]:
        if not isinstance(arguments.get(key), dict):
            arguments[key] = {}
        arguments = arguments[key]
    arguments[keys[-1]] = value
