"""The Data-Juicer custom op of each model-feedback method: its name, its model arguments, and the
custom_operator_paths a recipe needs to load it.

Shared by scripts/feedback_scores.py (which runs the op once on the pool), scripts/feedback_recipe.py
(which writes it into the method's recipe) and scripts/quality_scores.py (which reads the classifier op's
cached scores). Plain Python: the data evaluator's env has no Data-Juicer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

# relative to the workflow's folder (also how sandbox/workflow/code_deps.py finds them as the scripts' code)
OPS_FILE = "scripts/sandbox/dj_ops/ngram_filters.py"
CLASSIFIER_OPS_FILE = "scripts/sandbox/dj_ops/quality_classifier.py"
WORKFLOW_DIR = Path(__file__).resolve().parents[3]
METHODS = ["self_loss", "reference_ppl", "importance", "classifier"]
# The op each method adds (its class lives in OPS_FILE or CLASSIFIER_OPS_FILE).
OP_OF_METHOD = {"self_loss": "ngram_loss_filter", "reference_ppl": "ngram_loss_filter",
                "importance": "ngram_importance_filter", "classifier": "quality_classifier_filter"}
CLASSIFIER_OP = OP_OF_METHOD["classifier"]


def model_arg(paths: Sequence[Path | str]) -> str | list[str]:
    """The op's model argument: a path, or the list of K cross-fitted fold models."""
    return str(paths[0]) if len(paths) == 1 else [str(path) for path in paths]


def feedback_op(method: str, model: Sequence[Path | str],
                background_model: Sequence[Path | str] | None) -> tuple[str, dict[str, Any]]:
    """The method's op name and its model arguments, thresholds left open."""
    name = OP_OF_METHOD[method]
    if method != "importance":
        return name, {"model_path": model_arg(model)}
    if not background_model:
        raise SystemExit("--method importance needs --background-model. Fix: give the pool's LM (its K fold "
                         "models) as --background-model.")
    return name, {"model_path": model_arg(model), "background_model_path": model_arg(background_model)}


def model_files(op_args: dict[str, Any]) -> list[str]:
    """Every model file an op's arguments name (model_path, background_model_path), in order."""
    files: list[str] = []
    for key in ("model_path", "background_model_path"):
        value = op_args.get(key)
        files += [value] if isinstance(value, str) else list(value or [])
    return files


def ops_file(method: str) -> str:
    """The custom operator file the method's filter lives in (absolute)."""
    return str(WORKFLOW_DIR / (CLASSIFIER_OPS_FILE if method == "classifier" else OPS_FILE))


def custom_operator_paths(recipe: dict[str, Any], method: str) -> list[str]:
    """The recipe's custom_operator_paths plus, by absolute path, the sandbox package and the method's op
    file: Data-Juicer loads a package folder with its parent on sys.path, after which the op file's
    `from sandbox...` imports resolve, under plain `dj-process` too; its Ray executor ships both to the
    workers (runtime_env py_modules)."""
    paths = list(recipe.get("custom_operator_paths") or [])
    for path in (str(WORKFLOW_DIR / "scripts/sandbox"), ops_file(method)):
        if path not in paths:
            paths.append(path)
    return paths
