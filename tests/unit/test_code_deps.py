"""Code edits rerun what they change: a rule's `code=` input (sandbox/workflow/code_deps.py) lists its script
and the workflow modules the script imports, so Snakemake's own plan reruns exactly the jobs that run an
edited module (that plan, on a copy of the tiny run: workflow/test_code_deps_rerun.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from sandbox.workflow.code_deps import code_files


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
