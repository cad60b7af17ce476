"""Code edits rerun what they change: a rule's `code=` input (sandbox/workflow/code_deps.py) lists its script
and
the workflow modules the script imports, so Snakemake's own plan reruns exactly the jobs that run an
edited module."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, planned_jobs
from sandbox.workflow.code_deps import code_files

CONFIG = "test-config.yaml"
# Every trigger but params: a copy's own folder is a new --repo param of provenance, which would rerun it.
TRIGGERS = ["--rerun-triggers", "mtime", "input", "code", "software-env"]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_imports_are_followed_transitively_and_only_into_the_workflow(tmp_path: Path) -> None:
    write(tmp_path, {
        "scripts/run.py": "import json\nimport helpers\nfrom pkg.a import thing\n",
        "scripts/helpers.py": "",  # another script's helpers
        "scripts/pkg/__init__.py": "",
        "scripts/pkg/a.py": "from . import b\nfrom .c import thing\n",
        "scripts/pkg/b.py": "import numpy\n",
        "scripts/pkg/c.py": "def thing():\n    from pkg.lazy import x\n",  # an import inside a function
        "scripts/pkg/lazy.py": "OPS = 'scripts/pkg/ops/plugin.py'\n",  # a file loaded by path
        "scripts/pkg/ops/plugin.py": "from pkg import broken\n",
        "scripts/pkg/broken.py": "def (:\n",  # still an input; its job reports the error
        "scripts/pkg/unused.py": "",
    })
    assert code_files("scripts/run.py", tmp_path) == tuple(f"scripts/{name}" for name in [
        "helpers.py", "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/broken.py", "pkg/c.py", "pkg/lazy.py",
        "pkg/ops/plugin.py", "run.py"])


def test_a_missing_script_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="scripts/gone.py"):
        code_files("scripts/gone.py", tmp_path)


def test_only_the_refinement_runs_the_k_sigma_module() -> None:
    def runs_k_sigma(script: str) -> bool:
        return "scripts/sandbox/recipe/k_sigma.py" in code_files(f"scripts/{script}", REPO)

    assert runs_k_sigma("refine_k_sigma.py")
    assert not any(map(runs_k_sigma, ["analyze.py", "process.py", "hpo_check.py", "prepare_demo.py"]))
    # the feedback filter reaches Data-Juicer by path, through the recipe the script writes
    assert "scripts/sandbox/dj_ops/ngram_filters.py" in code_files("scripts/feedback_recipe.py", REPO)


def test_an_edited_module_reruns_the_jobs_that_import_it_and_no_others(tiny_run: Path,
                                                                        tmp_path: Path) -> None:
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)  # mtimes kept, like the run left them
    # a checkout that rewrites every file unchanged (newer mtimes): Snakemake compares the checksums
    for path in (workdir / "scripts").rglob("*.py"):
        os.utime(path)
    assert planned_jobs(workdir, "--configfile", CONFIG, *TRIGGERS) == {}
    # a module only Snakemake imports (the onerror handler's)
    stale = workdir / "scripts/sandbox/workflow/stale.py"
    stale.write_text(stale.read_text() + "\n# an edit\n")
    assert planned_jobs(workdir, "--configfile", CONFIG, *TRIGGERS) == {}

    k_sigma = workdir / "scripts/sandbox/recipe/k_sigma.py"
    k_sigma.write_text(k_sigma.read_text() + "\n# a fix\n")
    jobs = planned_jobs(workdir, "--configfile", CONFIG, *TRIGGERS)
    seeds = len(TINY_CONFIG["seeds"])
    assert jobs["refine_k_sigma"] == 1
    # what follows from the k_sigma recipe: its data, analysis, models, scores, summary and report
    assert jobs["process"] == jobs["analyze"] == jobs["data_metrics"] == jobs["plot_removals"] == 1
    assert jobs["train_ngram"] == jobs["train_gpt"] == jobs["infer"] == seeds
    assert {"evaluate", "summarize", "summarize_proxy", "provenance", "datamodels_fit",
            "plot_thresholds"} <= set(jobs)
    # nothing upstream of it or beside it: the raw and recipe variants keep their data and models
    assert not {"check_recipe", "prepare_demo", "prepare_input", "split_eval", "select_probe",
                "select_oracle"} & set(jobs)
