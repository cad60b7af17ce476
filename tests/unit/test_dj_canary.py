"""Data-Juicer canary: every Data-Juicer internal the workflow relies on, exercised against the installed
py-data-juicer, so that an upgrade which changes one fails here, naming it, instead of breaking a
workflow run far from the cause (issue 36 item 3).

An internal is anything Data-Juicer does not promise to keep: an underscore name we call, patch or
override, a log line we parse, the names and layout of files it writes, the config keys and operator
conventions our code assumes. INTERNALS lists them, one entry each: the internal, our file that needs
it, what breaks when it changes, the fix, and a check that exercises it (runs it, not hasattr). A new
internal is one more entry. A failure names the internal, the installed Data-Juicer version and our
file, says what the check saw, and ends with "Fix:". Where it can, our code also checks an internal
where it uses it (sandbox.recipe.dj.internal_changed: forbid_runtime_installs, register_custom_operators,
ray_mode.stats_only_analyzer, removals.counts_from_executor_log), so that a run on a changed
Data-Juicer stops there with the same kind of message.

Per-op counts still come from the executor's log line (OP_DONE_LINE in sandbox/recipe/dj.py): in
py-data-juicer 1.6.1 no public route gives them. Checked in the installed source:
- DefaultExecutor.run returns only the final dataset;
- the tracer (open_tracer) writes, per filter, only the samples it removed (sample_trace-<op>.jsonl,
  capped at trace_num) and, per deduplicator, pairs of duplicates (duplicate-<op>.jsonl), not how many
  it removed; counting its files would also mean writing every removed document on every run;
- the monitor (open_monitor) records resource use per op (monitor.json), no sample counts;
- the event log (events_*.jsonl) has input_rows/output_rows in its op_complete events, but
  DefaultExecutor calls _post_execute_operations_with_dag_monitoring without metrics and builds no
  DAG here, so a run logs only job_start and job_complete;
- checkpoints and insight mining (the adapter) keep no counts.
So the log line stays, and the first entry checks it on a real executor run.

In process, as tests/unit must be: one DefaultExecutor run (with the tracer) and one Analyzer run of
six documents, shared by the entries that read them; the module takes about 20 s on two shared cores.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import json
import math
import os
import statistics
import subprocess
import sys
import types
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import REPO

DJ_VERSION = importlib.metadata.version("py-data-juicer")

# Six documents, each kept or removed by a known op, so that every count is known in advance.
LONG_DOC = " ".join(f"w{i}" for i in range(30))
DOCS = [
    "one two three four five six seven",  # 0: kept
    "short",  # 1: words_num_filter (1 word < 2)
    "one two three four five six seven",  # 2: document_deduplicator (a copy of 0)
    LONG_DOC,  # 3: words_num_filter (30 words > 20)
    "eight nine ten eleven twelve thirteen",  # 4: kept
    "ab cd",  # 5: text_length_filter (5 characters < 6)
]
NUM_WORDS = [7, 1, 7, 30, 6, 2]
TEXT_LEN = [len(doc) for doc in DOCS]
PROCESS = [
    {"words_num_filter": {"min_num": 2, "max_num": 20}},
    {"text_length_filter": {"min_len": 6, "max_len": 1000}},
    {"document_deduplicator": {}},
]
LEFT_AFTER_OP = [("words_num_filter", 4), ("text_length_filter", 3), ("document_deduplicator", 2)]
REMOVED_PER_OP = [2, 1, 1]
REMOVED_BY = {1: "words_num_filter", 2: "document_deduplicator", 3: "words_num_filter",
              5: "text_length_filter"}
KEPT_ROWS = [0, 4]


def doc_records() -> list[dict[str, Any]]:
    """The documents as the working pool holds them (text, sandbox_row, meta)."""
    return [{"text": text, "sandbox_row": row, "meta": {"origin": "canary"}} for row, text in enumerate(DOCS)]


def refuse_subprocess(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError(f"Data-Juicer's lazy loader tried to run {args[:1]} (an install) during the canary")


# Stands in for the lazy loader's `subprocess` while Data-Juicer runs here: should our refusal of
# run-time installs stop working, the canary fails instead of pip-installing.
NO_SUBPROCESS = types.SimpleNamespace(
    CalledProcessError=subprocess.CalledProcessError, check_call=refuse_subprocess, run=refuse_subprocess,
    call=refuse_subprocess, check_output=refuse_subprocess, Popen=refuse_subprocess)

CUSTOM_OP_FILE = '''"""A tiny custom filter for the Data-Juicer canary (tests/unit/test_dj_canary.py)."""
from data_juicer.ops.base_op import OPERATORS, Filter
from data_juicer.utils.constant import Fields

from {package} import STAT_KEY


@OPERATORS.register_module("{op_name}")
class CanaryWordsFilter(Filter):
    """Keeps documents of at least min_words words; batched, as sandbox/dj_ops' filters are."""

    _batched_op = True

    def __init__(self, min_words: int = 2, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_words = min_words

    def compute_stats_batched(self, samples, *args, **kwargs):
        for text, stats in zip(samples[self.text_key], samples[Fields.stats]):
            stats[STAT_KEY] = len(text.split())
        return samples

    def process_batched(self, samples):
        return [stats[STAT_KEY] >= self.min_words for stats in samples[Fields.stats]]
'''


@dataclass(frozen=True)
class CustomOps:
    """A custom operator package folder and op file, as a recipe's custom_operator_paths lists them."""

    package_dir: Path
    op_file: Path
    op_name: str

    def recipe(self) -> dict[str, Any]:
        return {"custom_operator_paths": [str(self.package_dir), str(self.op_file)],
                "process": [{self.op_name: {"min_words": 2}}]}


@dataclass(frozen=True)
class ExecutorOutcome:
    run: Any  # sandbox.recipe.dj.ExecutorRun
    export: Path
    work_dir: Path

    def op_lines(self) -> list[str]:
        """The lines of Data-Juicer's own log that mention an op, for the failure message."""
        from loguru import logger

        logger.complete()  # its file sinks write from a queue
        lines = [line.strip() for log in sorted(self.work_dir.rglob("*.txt"))
                 for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if "OP [" in line]
        return lines[:6]


@dataclass(frozen=True)
class AnalyzerOutcome:
    analysis_dir: Path
    export: Path


class Runs:
    """What the entries share, each made at most once per module: the input files, the custom operator
    files, one executor run and one Analyzer run. A failed run is reported by every entry that reads it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outcomes: dict[str, tuple[bool, Any]] = {}

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.outcomes:
            try:
                self.outcomes[key] = (True, make())
            except Exception as error:  # kept, so the next reader reports it without running again
                self.outcomes[key] = (False, error)
        ok, value = self.outcomes[key]
        if not ok:
            raise RuntimeError(f"the shared {key} failed: {type(value).__name__}: {value}") from value
        return value

    def docs_path(self) -> Path:
        def write() -> Path:
            path = self.root / "docs.jsonl"
            path.write_text("".join(json.dumps(record) + "\n" for record in doc_records()), encoding="utf-8")
            return path

        return self.once("input file", write)

    def recipe_path(self) -> Path:
        def write() -> Path:
            from sandbox.recipe.recipe_file import write_recipe

            path = self.root / "recipe.yaml"
            write_recipe(path, {"process": PROCESS})
            return path

        return self.once("recipe", write)

    def custom_ops(self) -> CustomOps:
        def write() -> CustomOps:
            # Unique names: Data-Juicer's operator registry and sys.modules outlive this module.
            stem = f"sandbox_canary_{uuid.uuid4().hex[:8]}"
            package_dir = self.root / f"{stem}_pkg"
            package_dir.mkdir()
            (package_dir / "__init__.py").write_text('STAT_KEY = "canary_words"\n', encoding="utf-8")
            op_file = self.root / f"{stem}_ops.py"
            op_name = f"{stem}_filter"
            source = CUSTOM_OP_FILE.format(package=package_dir.name, op_name=op_name)
            op_file.write_text(source, encoding="utf-8")
            return CustomOps(package_dir, op_file, op_name)

        return self.once("custom operator files", write)

    def executor(self) -> ExecutorOutcome:
        def run() -> ExecutorOutcome:
            from sandbox.recipe.dj import run_executor

            scratch = self.root / "executor"
            export = scratch / "export" / "data.jsonl"
            # a trace limit of the input size makes the tracer record every removal, as process.py asks
            report = run_executor(self.recipe_path(), self.docs_path(), export, scratch / "work", 1,
                                  trace_limit=len(DOCS))
            return ExecutorOutcome(report, export, scratch / "work")

        return self.once("DefaultExecutor run", run)

    def analyzer(self) -> AnalyzerOutcome:
        def run() -> AnalyzerOutcome:
            from sandbox.recipe.dj import run_analyzer

            scratch = self.root / "analyzer"
            export = scratch / "export" / "data.jsonl"
            analysis_dir = run_analyzer(self.recipe_path(), self.docs_path(), export, scratch / "work", 1,
                                        export_dataset=True)
            return AnalyzerOutcome(analysis_dir, export)

        return self.once("Analyzer run", run)


@dataclass
class Context:
    runs: Runs
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    from sandbox.io.jsonl import iter_jsonl

    return [record for _, record in iter_jsonl(path)]


def expect_raises(error_type: type[BaseException], call: Callable[[], Any], what: str) -> BaseException:
    """The error call raises; AssertionError naming what when it raises none or another kind."""
    try:
        call()
    except error_type as error:
        return error
    raise AssertionError(f"{what}: no {error_type.__name__} raised")


# --- the checks, one per internal ------------------------------------------------------------------


def check_op_done_line(ctx: Context) -> None:
    from sandbox.recipe.removals import counts_from_executor_log

    outcome = ctx.runs.executor()
    parsed = outcome.run.left_after_op
    assert parsed == LEFT_AFTER_OP, (f"OP_DONE_LINE parsed {parsed} from the executor's log, expected "
                                     f"{LEFT_AFTER_OP}; the log's op lines: {outcome.op_lines()}")
    counts = counts_from_executor_log(PROCESS, parsed, len(DOCS))
    assert [count["removed"] for count in counts] == REMOVED_PER_OP, counts


def check_tracer_files(ctx: Context) -> None:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.removals import counts_from_executor_log, removed_by_tracer

    outcome = ctx.runs.executor()
    trace_dir = outcome.run.trace_dir
    assert trace_dir is not None and trace_dir.is_dir(), f"no tracer folder: {trace_dir}"
    files = sorted(path.name for path in trace_dir.iterdir())
    for name in ("words_num_filter", "text_length_filter"):
        assert f"sample_trace-{name}.jsonl" in files, f"no sample_trace-{name}.jsonl in {trace_dir}: {files}"
    counts = counts_from_executor_log(PROCESS, LEFT_AFTER_OP, len(DOCS))
    kept_rows = {record["sandbox_row"] for record in read_jsonl(outcome.export)}
    assert sorted(kept_rows) == KEPT_ROWS, f"the executor kept rows {sorted(kept_rows)}, expected {KEPT_ROWS}"
    inputs = {record["sandbox_row"]: record for record in doc_records()}
    removed = removed_by_tracer(load_ops(PROCESS), counts, trace_dir, inputs, kept_rows)
    labels = {row["sandbox_row"]: row["removed_by"] for row in removed}
    assert labels == REMOVED_BY, f"removals read from {files}: {labels}, expected {REMOVED_BY}"


def check_ray_tracer_files(ctx: Context) -> None:
    from sandbox.recipe.ray_mode import traced_removals

    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed, so the Ray executor's tracer is never used here")
    from data_juicer.core.tracer.ray_tracer import RayTracer

    # @ray.remote wraps the class; its plain Python class runs here without starting Ray.
    actor_class = getattr(getattr(RayTracer, "__ray_metadata__", None), "modified_class", None)
    if actor_class is None:
        pytest.skip("this Ray version hides the class behind @ray.remote (workflow/test_ray.py runs it)")
    tracer = actor_class(str(ctx.tmp_path), show_num=5)
    expected = ctx.tmp_path / "trace" / "sample_trace-words_num_filter.jsonl"
    assert Path(tracer.get_trace_file_path("words_num_filter")) == expected, tracer.get_trace_file_path(
        "words_num_filter")
    tracer.collect_filter_sample("words_num_filter", doc_records()[1], False)
    tracer.collect_filter_sample("words_num_filter", doc_records()[0], True)  # kept: not traced
    tracer.finalize_traces()
    assert traced_removals(ctx.tmp_path / "trace", "words_num_filter") == 1, \
        f"{expected} holds {expected.read_text() if expected.exists() else 'nothing'}"


def check_load_custom_operators(ctx: Context) -> None:
    from data_juicer.config import init_configs
    from data_juicer.ops import OPERATORS

    from sandbox.recipe.dj import dj_args, register_custom_operators
    from sandbox.recipe.recipe_file import write_recipe

    ops = ctx.runs.custom_ops()
    register_custom_operators(ops.recipe())
    register_custom_operators(ops.recipe())  # a second step in the same process loads nothing again
    assert ops.op_name in OPERATORS.modules, f"{ops.op_name} is not registered after loading {ops.op_file}"
    # init_configs loads the recipe's custom_operator_paths again: it must skip what is loaded
    recipe_path = ctx.tmp_path / "recipe.yaml"
    write_recipe(recipe_path, ops.recipe())
    cfg = init_configs(args=dj_args(recipe_path, ctx.runs.docs_path(), ctx.tmp_path / "export" / "data.jsonl",
                                    ctx.tmp_path / "work", 1))
    assert [next(iter(entry)) for entry in cfg.process] == [ops.op_name], cfg.process


def check_generate_module_name(ctx: Context) -> None:
    from data_juicer.config import config as dj_config

    from sandbox.recipe.dj import register_custom_operators

    ops = ctx.runs.custom_ops()
    register_custom_operators(ops.recipe())
    name = dj_config._generate_module_name(str(ops.op_file))
    module = sys.modules.get(name)
    assert module is not None and Path(module.__file__) == ops.op_file, (
        f"_generate_module_name({ops.op_file.name}) = {name!r}, but the loader put "
        f"{getattr(module, '__file__', 'nothing')} under that name")
    # a package folder: register_custom_operators names it by the folder, as Data-Juicer's loader does
    package = sys.modules.get(ops.package_dir.name)
    assert package is not None and Path(package.__path__[0]) == ops.package_dir, \
        f"the package folder {ops.package_dir} is not loaded as {ops.package_dir.name!r}"


def check_batched_op_flag(ctx: Context) -> None:
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.dj import register_custom_operators

    ops = ctx.runs.custom_ops()
    register_custom_operators(ops.recipe())
    (op,) = load_ops([{ops.op_name: {"min_words": 2, "num_proc": 1}}])
    assert op.is_batched_op(), "a filter with _batched_op = True is not batched"
    kept = NestedDataset.from_list([{"text": "a b c"}, {"text": "x"}]).process([op], open_monitor=False)
    assert [record["text"] for record in kept.to_list()] == ["a b c"], kept.to_list()


def check_install_refused(ctx: Context) -> None:
    from data_juicer.utils import lazy_loader

    from sandbox.recipe.dj import forbid_runtime_installs

    loader = lazy_loader.LazyLoader
    original = vars(loader).get("_install_package")
    install_like = [name for name in vars(loader) if "install" in name]
    assert isinstance(original, classmethod), \
        f"no classmethod LazyLoader._install_package (it has {install_like})"
    ctx.monkeypatch.setattr(loader, "_install_package", original)  # restored after this test
    ctx.monkeypatch.setattr(lazy_loader, "subprocess", NO_SUBPROCESS)
    forbid_runtime_installs()
    missing = f"sandbox_canary_absent_{uuid.uuid4().hex[:8]}"
    triggers: dict[str, Callable[[], Any]] = {
        "a LazyLoader module": lambda: getattr(loader(missing), "anything"),
        "LazyLoader.check_packages": lambda: loader.check_packages([missing]),
    }
    for how, trigger in triggers.items():
        error = expect_raises(ImportError, trigger, f"{how} of a missing package")
        assert "never installs" in str(error), f"{how}: an ImportError that is not our refusal: {error}"


def check_compute_overall(ctx: Context) -> None:
    try:
        from data_juicer.core.ray_analyzer import RayAnalyzer
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] == "ray":
            pytest.skip("ray is not importable, so the Ray analysis is never used here")
        raise
    from sandbox.recipe.ray_mode import stats_only_analyzer

    method = getattr(RayAnalyzer, "_compute_overall", None)
    assert callable(method), "RayAnalyzer has no _compute_overall"
    parameters = list(inspect.signature(method).parameters)
    assert parameters == ["self", "dataset"], \
        f"its parameters are {parameters}; our override takes (self, dataset)"
    # overriding it skips the aggregation only while run() still calls it
    assert "self._compute_overall(" in inspect.getsource(RayAnalyzer.run), \
        "RayAnalyzer.run no longer calls it"
    stats_only = stats_only_analyzer(RayAnalyzer)
    assert stats_only._compute_overall is not RayAnalyzer._compute_overall
    assert stats_only._compute_overall(object.__new__(stats_only), None) is None


def check_supported_exec_modes(ctx: Context) -> None:
    from data_juicer.ops import OPERATORS

    from sandbox.recipe.ray_mode import RAY_COUNTERPARTS, ray_unsupported_ops

    process = [{"words_num_filter": {}}, {"document_deduplicator": {}}, {"document_minhash_deduplicator": {}}]
    unsupported = ray_unsupported_ops(process)
    assert [entry.split(" ")[0] for entry in unsupported] == ["document_minhash_deduplicator"], unsupported
    for ray_name in RAY_COUNTERPARTS.values():
        modes = getattr(OPERATORS.modules.get(ray_name), "_supported_exec_modes", ())
        assert "ray" in modes, f"{ray_name} (a Ray counterpart we substitute) runs in {modes}"


def check_stats_keys_constants(ctx: Context) -> None:
    from data_juicer.utils.constant import StatsKeys

    from sandbox.recipe.masks import stats_keys_resolved_once

    before, was_plain = StatsKeys.num_words, "num_words" in vars(StatsKeys)
    with stats_keys_resolved_once():
        assert "num_words" in vars(StatsKeys) and StatsKeys.num_words == before, \
            vars(StatsKeys).get("num_words")
    assert ("num_words" in vars(StatsKeys)) == was_plain and StatsKeys.num_words == before, "not restored"


def check_op_name(ctx: Context) -> None:
    import numpy as np
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.masks import StatsCache, mask_path_refusal

    ops = load_ops([{"words_num_filter": {}}, {"document_deduplicator": {}}])
    assert [op._name for op in ops] == ["words_num_filter", "document_deduplicator"], [vars(op) for op in ops]
    refusal = mask_path_refusal(ops, StatsCache(rows=np.array([]), stats=[], hashes={}))
    assert refusal == "op 1 (document_deduplicator) has no cached hash in the stats cache", refusal


def check_parser_actions(ctx: Context) -> None:
    from check_recipe import data_juicer_keys

    keys = data_juicer_keys()
    assert {"process", "np", "custom_operator_paths", "export_path"} <= keys, sorted(keys)[:20]


def check_config_keys(ctx: Context) -> None:
    from data_juicer.config.config import build_base_parser

    from sandbox.recipe import recipe_file
    from sandbox.recipe.dj import dj_args
    from sandbox.recipe.ray_mode import Executor, ray_args

    # the parser's public defaults, not check_recipe's reading of its _actions (the entry above)
    known = set(build_base_parser().get_defaults().keys())
    classified = (set(recipe_file.SET_BY_WORKFLOW) | set(recipe_file.PASSED_TO_DATA_JUICER)
                  | set(recipe_file.REFUSED))
    arguments = dj_args(Path("r.yaml"), Path("d.jsonl"), Path("e.jsonl"), Path("w"), 1)
    arguments += ray_args(Executor("ray"))
    arguments += ["--export_original_dataset", "true", "--open_tracer", "true", "--trace_num", "1"]
    passed = {argument[2:] for argument in arguments if argument.startswith("--")}
    read = {"percentiles", "ray_address", "work_dir"}  # read from the parsed config (ray_mode.py)
    unknown = sorted((classified | passed | read) - known)
    assert not unknown, f"keys Data-Juicer no longer knows: {unknown}"


def check_preflight(ctx: Context) -> None:
    from check_recipe import preflight

    from sandbox.io.jsonl import InputError

    preflight(Path("canary.yaml"), [{"text_length_filter": {"min_len": 10}}])
    error = expect_raises(InputError, lambda: preflight(Path("canary.yaml"),
                                                        [{"text_length_filter": {"min_len": 1.5}}]),
                          "a float min_len for text_length_filter")
    assert "min_len" in str(error), error


def check_analyzer_outputs(ctx: Context) -> None:
    from analyze import per_sample_rows, read_overall_csv

    outcome = ctx.runs.analyzer()
    overall_csv = outcome.analysis_dir / "overall.csv"
    folder = outcome.analysis_dir
    listing = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    assert overall_csv.is_file(), f"no overall.csv in analysis_path {outcome.analysis_dir}: {listing}"
    overall = read_overall_csv(overall_csv)
    assert set(overall) == {"num_words", "text_len"}, overall
    assert math.isclose(overall["num_words"]["mean"], statistics.mean(NUM_WORDS)), overall["num_words"]
    assert overall["text_len"]["max"] == max(TEXT_LEN), overall["text_len"]
    assert any(name.endswith(".png") for name in listing), f"no plots (*.png) in {listing}"
    stats_file = outcome.export.with_name("data_stats.jsonl")
    beside = sorted(path.name for path in outcome.export.parent.iterdir())
    assert stats_file.is_file(), f"no {stats_file.name} beside the export: {beside}"
    rows = per_sample_rows(ctx.runs.docs_path(), stats_file)
    assert [(row["sandbox_row"], row["num_words"], row["text_len"]) for row in rows] == list(
        zip(range(len(DOCS)), NUM_WORDS, TEXT_LEN)), rows
    exported = read_jsonl(outcome.export)
    exported_words = [record.get("__dj__stats__", {}).get("num_words") for record in exported]
    assert exported_words == NUM_WORDS, exported[:2]


def check_stats_field(ctx: Context) -> None:
    import analyze
    import feedback_scores
    from data_juicer.utils.constant import Fields

    from sandbox.recipe import masks, ray_mode

    ours = {"analyze.py": analyze.STATS_FIELD, "feedback_scores.py": feedback_scores.STATS_FIELD,
            "masks.py": masks.STATS_FIELD, "ray_mode.py": ray_mode.STATS_FIELD}
    wrong = {file: value for file, value in ours.items() if value != Fields.stats}
    assert not wrong, f"Fields.stats is {Fields.stats!r}; ours: {wrong}"


def check_analysis_on_columns(ctx: Context) -> None:
    from analyze import read_overall_csv

    from sandbox.recipe.ray_mode import summarise_stats

    records = [{**record, "__dj__stats__": {"num_words": words, "text_len": length}}
               for record, words, length in zip(doc_records(), NUM_WORDS, TEXT_LEN)]
    summary = ctx.tmp_path / "summary"
    summarise_stats(records, summary, [0.25, 0.5, 0.75], 1)
    overall = read_overall_csv(summary / "overall.csv")
    for stat, values in {"num_words": NUM_WORDS, "text_len": TEXT_LEN}.items():
        got = overall.get(stat, {})
        expected = {"count": len(values), "mean": statistics.mean(values), "std": statistics.stdev(values),
                    "min": min(values), "50%": statistics.median(values), "max": max(values)}
        wrong = {key: (got.get(key), value) for key, value in expected.items()
                 if not math.isclose(got.get(key, math.nan), value)}
        assert not wrong, f"{stat}: (got, expected) {wrong}"


def check_filter_decisions(ctx: Context) -> None:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.masks import apply_ops, read_stats_cache, write_stats_cache

    ops = load_ops(PROCESS)
    cache_path = ctx.tmp_path / "stats.parquet"
    write_stats_cache(cache_path, read_jsonl(ctx.runs.analyzer().export), ops, "text")
    cache = read_stats_cache(cache_path)
    result = apply_ops(ops, cache)
    removed = [len(positions) for positions in result.removed_by_op]
    kept = sorted(cache.rows[result.kept].tolist())
    assert (removed, kept) == (REMOVED_PER_OP, KEPT_ROWS), \
        (f"on the Analyzer's stats: removed per op {removed}, kept {kept}; "
         f"the executor: {REMOVED_PER_OP}, {KEPT_ROWS}")


def check_compute_stats(ctx: Context) -> None:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.removals import reject_by_filters

    # an executor's export holds only the kept documents' stats: removed ones get theirs computed
    removed = [record for record in doc_records() if record["sandbox_row"] in REMOVED_BY]
    rejections = reject_by_filters(load_ops(PROCESS), removed, compute=True, counts=None)
    by_filter = {index: sorted(record["sandbox_row"] for record in records)
                 for index, records in rejections.by_filter.items()}
    unexplained = [record["sandbox_row"] for record in rejections.unexplained]
    assert (by_filter, unexplained) == ({0: [1, 3], 1: [5]}, [2]), (by_filter, unexplained)


def check_download_points(ctx: Context) -> None:
    from data_juicer.utils import asset_utils, model_utils

    from sandbox.recipe.resources import DownloadRefused, downloads_refused

    attempts: list[str] = []
    with downloads_refused(attempts):
        expect_raises(DownloadRefused,
                      lambda: asset_utils.load_words_asset(words_dir=str(ctx.tmp_path / "words"),
                                                           words_type="stopwords"),
                      "load_words_asset in an empty folder")
    assert attempts == [asset_utils.ASSET_LINKS["stopwords"]], attempts
    ctx.monkeypatch.setattr(model_utils, "DJMC", str(ctx.tmp_path / "models"))  # not the user's cache
    attempts.clear()
    with downloads_refused(attempts):
        # check_model reports a failed download in its own way; what matters is that it went through wget
        expect_raises(Exception, lambda: model_utils.check_model("sandbox-canary-absent.bin", force=True),
                      "check_model of an absent model")
    assert attempts and attempts[0].endswith("sandbox-canary-absent.bin"), attempts


def check_model_and_word_list_hooks(ctx: Context) -> None:
    from data_juicer.ops import OPERATORS
    from data_juicer.ops.load import load_ops
    from data_juicer.utils.model_utils import MODEL_FUNCTION_MAPPING

    from sandbox.recipe.resources import MODEL_FILES, missing_resources, models_deferred

    module = sys.modules[OPERATORS.modules["perplexity_filter"].__module__]
    requests: list[tuple[str, dict[str, Any]]] = []
    with models_deferred(module, requests):
        load_ops([{"perplexity_filter": {"lang": "en"}}])
    assert [model_type for model_type, _ in requests] == ["sentencepiece", "kenlm"], requests
    # our file names for these model types are Data-Juicer's defaults
    defaults = {"sentencepiece": "name_pattern", "kenlm": "name_pattern", "fasttext": "model_name"}
    for model_type, parameter in defaults.items():
        default = inspect.signature(MODEL_FUNCTION_MAPPING[model_type]).parameters[parameter].default
        assert MODEL_FILES[model_type]({"lang": "en"}) == default.format("en"), (model_type, default)
    words_dir = ctx.tmp_path / "words"
    op = {"stopwords_filter": {"stopwords_dir": str(words_dir), "tokenization": False}}
    missing = missing_resources([op])
    assert [(problem.what, problem.place) for problem in missing] == [
        ("word list 'stopwords' (a JSON file named stopwords.json)", f"place it in {words_dir}")], missing


def check_threshold_arguments(ctx: Context) -> None:
    from data_juicer.ops import OPERATORS

    from sandbox.recipe.op_args import threshold_args_of

    expected = {"words_num_filter": [("min_num", True), ("max_num", True)],
                "text_length_filter": [("min_len", True), ("max_len", True)],
                "alphanumeric_filter": [("min_ratio", False), ("max_ratio", False)]}
    for name, arguments in expected.items():
        found = [(argument.name, argument.is_int) for argument in threshold_args_of(OPERATORS.modules[name])]
        assert found == arguments, f"{name}: (threshold, is int) {found}, expected {arguments}"


@dataclass(frozen=True)
class Internal:
    """One Data-Juicer internal we rely on."""

    id: str
    name: str  # the internal, as Data-Juicer names it
    ours: str  # our file (path from the repository root), then where in it
    breaks: str  # what a workflow run does when it changes
    fix: str
    check: Callable[[Context], None]

    @property
    def our_file(self) -> str:
        return self.ours.split(" ")[0]


INTERNALS = [
    Internal("op-done-log-line",
             'the executor\'s log line "[i/n] OP [name] Done in Xs. Left N samples." (NestedDataset.process, '
             "through loguru)",
             "scripts/sandbox/recipe/dj.py (OP_DONE_LINE, run_executor; read by removals.py "
             "counts_from_executor_log)",
             "every executor run of process.py stops (no per-op counts), or writes wrong counts",
             "update OP_DONE_LINE in scripts/sandbox/recipe/dj.py to the line NestedDataset.process now logs "
             "(data_juicer/core/data/dj_dataset.py), or read the counts from a public per-op report if "
             "this version has one",
             check_op_done_line),
    Internal("tracer-files",
             "the tracer's files: <work_dir>/trace/sample_trace-<op>.jsonl, one removed document per line "
             "with all its fields (Tracer.collect_filter_sample)",
             "scripts/sandbox/recipe/removals.py (removed_by_tracer; dj.py run_executor reads "
             "executor.tracer.work_dir)",
             "process.py --trace (and any recipe whose filters do not come first) stops with 'tracer kept 0 "
             "documents', or labels removals wrongly",
             "read the tracer's new file names/fields in removed_by_tracer "
             "(data_juicer/core/tracer/tracer.py)",
             check_tracer_files),
    Internal("ray-tracer-files",
             "the Ray tracer's files: <cfg.work_dir>/trace/sample_trace-<op>.jsonl (RayTracer)",
             "scripts/sandbox/recipe/ray_mode.py (traced_removals, run_ray_executor)",
             "Ray runs with --trace fail: 'the tracer accounts for 0 removals'",
             "follow data_juicer/core/tracer/ray_tracer.py in traced_removals and run_ray_executor",
             check_ray_tracer_files),
    Internal("load-custom-operators",
             "data_juicer.config.config.load_custom_operators (called by init_configs by its module name; "
             "refuses a module already loaded)",
             "scripts/sandbox/recipe/dj.py (register_custom_operators)",
             "every step of a recipe with custom_operator_paths (model-feedback and classifier variants) "
             "fails in init_configs with \"Module ... already loaded\"",
             "make register_custom_operators wrap whatever init_configs now calls to load "
             "custom_operator_paths (data_juicer/config/config.py), skipping modules already loaded",
             check_load_custom_operators),
    Internal("generate-module-name",
             "data_juicer.config.config._generate_module_name (the sys.modules name of a custom operator "
             "file; a folder is named by its basename)",
             "scripts/sandbox/recipe/dj.py (register_custom_operators.module_name)",
             "register_custom_operators no longer sees a custom operator file as loaded: \"already "
             "loaded\" errors, or an AttributeError in every step with custom operators",
             "name modules in register_custom_operators the way load_custom_operators now does",
             check_generate_module_name),
    Internal("batched-op-flag",
             "Filter._batched_op (a class attribute that makes Data-Juicer call compute_stats_batched and "
             "process_batched)",
             "scripts/sandbox/dj_ops/ngram_filters.py (and dj_ops/quality_classifier.py)",
             "the n-gram and quality-classifier filters fail (no compute_stats_single) or run per document",
             "set the new batched-op switch of data_juicer/ops/base_op.py in our filters under "
             "scripts/sandbox/dj_ops/",
             check_batched_op_flag),
    Internal("lazy-loader-install",
             "LazyLoader._install_package (classmethod(cls, package_spec, pip_args=None), where the lazy "
             "loader and check_packages install a missing package)",
             "scripts/sandbox/recipe/dj.py (forbid_runtime_installs)",
             "runs pip-install missing packages mid-workflow again (unpinned, slow, offline-hostile)",
             "refuse installs in forbid_runtime_installs wherever data_juicer/utils/lazy_loader.py now "
             "installs them",
             check_install_refused),
    Internal("ray-analyzer-compute-overall",
             "RayAnalyzer._compute_overall(self, dataset), called by RayAnalyzer.run",
             "scripts/sandbox/recipe/ray_mode.py (stats_only_analyzer)",
             "the Ray analysis computes every stat twice (our override is silently ignored), or fails",
             "override the method RayAnalyzer.run now aggregates the overall stats with "
             "(data_juicer/core/ray_analyzer.py) in stats_only_analyzer",
             check_compute_overall),
    Internal("supported-exec-modes",
             "an operator class's _supported_exec_modes (the executors it runs in), and the Ray counterparts "
             "we substitute",
             "scripts/sandbox/recipe/ray_mode.py (ray_unsupported_ops, RAY_COUNTERPARTS)",
             "with executor: ray, check_recipe refuses every op (or lets through ops Ray cannot run)",
             "read the op's executor modes the new way in ray_unsupported_ops",
             check_supported_exec_modes),
    Internal("stats-keys-constants-class",
             "StatsKeys._constants_class (the plain class behind StatsKeys' metaclass lookup)",
             "scripts/sandbox/recipe/masks.py (stats_keys_resolved_once)",
             "every mask-path step (process, HPO rounds, datamodels) fails with AttributeError",
             "resolve StatsKeys' values the new way in stats_keys_resolved_once, or drop the speed-up",
             check_stats_keys_constants),
    Internal("op-name",
             "an operator instance's _name (its registry name)",
             "scripts/sandbox/recipe/masks.py (mask_path_refusal)",
             "the mask path's refusal reasons fail with AttributeError instead of naming the op",
             "use the op's new name attribute in mask_path_refusal",
             check_op_name),
    Internal("base-parser-actions",
             "build_base_parser()._actions (argparse's private list of the config parser's settings)",
             "scripts/check_recipe.py (data_juicer_keys)",
             "check_recipe.py fails at the first step of every run, or refuses every global key",
             "list the parser's keys another way in data_juicer_keys (e.g. get_defaults().keys())",
             check_parser_actions),
    Internal("config-keys",
             "the config keys we set, pass, refuse or read (recipe_file.py tables, dj_args, ray_args, "
             "export_original_dataset, open_tracer, trace_num, percentiles, ray_address, work_dir)",
             "scripts/sandbox/recipe/recipe_file.py (SET_BY_WORKFLOW, PASSED_TO_DATA_JUICER, REFUSED; "
             "dj.py dj_args, ray_mode.py)",
             "init_configs rejects our arguments in every Data-Juicer step, or check_recipe misjudges a key",
             "rename or drop each key named above in recipe_file.py / dj.py / ray_mode.py",
             check_config_keys),
    Internal("preflight",
             "data_juicer.core.preflight.pre_instantiation_check and PipelineConfigError",
             "scripts/check_recipe.py (preflight)",
             "check_recipe.py fails with ImportError, or a wrongly typed recipe passes it and fails later",
             "call the new pre-instantiation check of data_juicer/core/preflight.py in preflight",
             check_preflight),
    Internal("analyzer-outputs",
             "the Analyzer's files: <analysis_path>/overall.csv (rows count/mean/std/..., a column per "
             "stat) and plots, data_stats.jsonl beside the export, __dj__stats__ in the export",
             "scripts/analyze.py (read_overall_csv, per_sample_rows; dj.py run_analyzer)",
             "analyze.py fails at the first analysis of every run, or k-sigma reads wrong stats",
             "follow data_juicer/core/analyzer.py and core/exporter.py in analyze.py and run_analyzer",
             check_analyzer_outputs),
    Internal("stats-field-name",
             'the stats column name "__dj__stats__" (Fields.stats), written out as a literal',
             "scripts/sandbox/recipe/masks.py (STATS_FIELD; also analyze.py, ray_mode.py, "
             "feedback_scores.py)",
             "stats are read as missing: empty stats caches, every filter decision wrong",
             "import Fields.stats instead of the literal in each file named",
             check_stats_field),
    Internal("analysis-on-columns",
             "OverallAnalysis / ColumnWiseAnalysis / CorrelationAnalysis given a dict of columns instead "
             "of a dataset",
             "scripts/sandbox/recipe/ray_mode.py (summarise_stats)",
             "the Ray analysis fails, or its overall.json differs from the default Analyzer's",
             "build what the analysis classes now take (data_juicer/analysis/) in summarise_stats",
             check_analysis_on_columns),
    Internal("filter-decisions-from-stats",
             "filters decide from __dj__stats__ alone (process_batched / process_single) and "
             "document_deduplicator keeps the first of each compute_hash",
             "scripts/sandbox/recipe/masks.py (filter_keeps_stats, apply_ops)",
             "threshold-only variants (the mask path) keep other documents than the executor would",
             "make apply_ops replay the op's new decision, or send such ops to the executor (choose_path)",
             check_filter_decisions),
    Internal("compute-stats-fills-stats",
             "Filter.compute_stats fills __dj__stats__ of raw documents (batched and single ops)",
             "scripts/sandbox/recipe/removals.py (with_computed_stats, reject_by_filters)",
             "process.py falls back to the tracer on every run, or attributes removals wrongly",
             "follow data_juicer/ops/base_op.py Filter in with_computed_stats",
             check_compute_stats),
    Internal("download-points",
             "where Data-Juicer downloads: model_utils.wget.download (check_model) and "
             "asset_utils.requests.get (load_words_asset)",
             "scripts/sandbox/recipe/resources.py (downloads_refused)",
             "check_recipe.py lets an op download a model or word list instead of naming what is missing",
             "patch the new download calls of data_juicer/utils/model_utils.py and asset_utils.py in "
             "downloads_refused",
             check_download_points),
    Internal("model-and-word-list-hooks",
             "op modules bind prepare_model / load_words_asset by name; MODEL_FUNCTION_MAPPING's default "
             "model file names",
             "scripts/sandbox/recipe/resources.py (models_deferred, word_lists_recorded, MODEL_FILES)",
             "check_recipe.py loads models it should only list, or names the wrong file to place",
             "follow data_juicer/utils/model_utils.py in resources.py (MODEL_FILES, the patched names)",
             check_model_and_word_list_hooks),
    Internal("threshold-arguments",
             "operator constructors name thresholds min_*/max_* and type int ones int or PositiveInt",
             "scripts/sandbox/recipe/op_args.py (threshold_args_of; used by k-sigma, masks, sweeps)",
             "k-sigma writes floats into int thresholds (strict_preflight then fails in process), or "
             "refines nothing",
             "follow the new signatures in threshold_args_of / is_int_parameter",
             check_threshold_arguments),
]


def failure_message(internal: Internal, error: BaseException) -> str:
    return (f"Data-Juicer internal changed: {internal.name}\n"
            f"  installed: py-data-juicer {DJ_VERSION}\n"
            f"  needed by: {internal.ours}\n"
            f"  what breaks: {internal.breaks}\n"
            f"  what the canary saw: {type(error).__name__}: {error}\n"
            f"Fix: {internal.fix}; then rerun this test.")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    import datasets
    from data_juicer.utils import lazy_loader
    from loguru import logger

    with pytest.MonkeyPatch.context() as patch:
        # the shared runs must never install either (raising=False: the canary entry reports a change)
        patch.setattr(lazy_loader, "subprocess", NO_SUBPROCESS, raising=False)
        # run_executor / run_analyzer point Hugging Face datasets' cache at their scratch folder
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", datasets.config.HF_DATASETS_CACHE)
        patch.setitem(os.environ, "HF_DATASETS_CACHE", os.environ.get("HF_DATASETS_CACHE", ""))
        if not os.environ["HF_DATASETS_CACHE"]:
            del os.environ["HF_DATASETS_CACHE"]  # unset before: unset again afterwards (setitem's undo)
        yield Runs(tmp_path_factory.mktemp("dj-canary"))
    # Data-Juicer's init_configs replaced loguru's handlers with its own (files in this module's temp
    # folder, the captured stderr of one test): back to loguru's default for the tests that follow.
    logger.remove()
    logger.add(sys.stderr)


@pytest.mark.parametrize("internal", INTERNALS, ids=[internal.id for internal in INTERNALS])
def test_data_juicer_internal(internal: Internal, runs: Runs, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        internal.check(Context(runs, tmp_path, monkeypatch))
    except Exception as error:  # pytest.skip is no Exception: a skip passes through
        pytest.fail(failure_message(internal, error), pytrace=False)


def test_every_entry_names_an_existing_file_of_ours() -> None:
    """So that the table follows a file that moves or is renamed."""
    missing = {internal.id: internal.our_file for internal in INTERNALS
               if not (REPO / internal.our_file).is_file()}
    assert not missing, (f"INTERNALS names files that do not exist: {missing}. Fix: name the file of "
                         "ours that now relies on each internal (the first word of `ours`).")
