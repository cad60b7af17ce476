"""recipe-sandbox used as a Snakemake module: an outer workflow in a folder of its own imports it with
`module recipe_sandbox: snakefile: ..., config: config` and `use rule * from recipe_sandbox`, and runs
the n-gram's early verdict there. The outer config names only what it changes (the module's
config/config.yaml supplies the rest); results land in the outer folder, none in the module's.

The run is also the workflow-level check of reference decontamination: the user's feedback reference
shares text with the eval set, and the run completes and reports what it left out (issue 36)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, TINY_CONFIG, copy_workflow, snakemake

EXPERIMENT = "as-module"
# Reference documents that quote an eval document whole: each shares a 13-word run with it.
QUOTED_EVAL_DOCS = 3

OUTER_SNAKEFILE = """\
configfile: "outer-config.yaml"


module recipe_sandbox:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from recipe_sandbox
"""


def user_files(folder: Path) -> dict[str, str]:
    """The tiny demo's pool, eval set and reference as a user's files; the reference also quotes
    QUOTED_EVAL_DOCS eval documents."""
    demo = TINY_CONFIG["demo"]
    subprocess.run([sys.executable, str(REPO / "scripts/prepare_demo.py"), "--pool", "pool.jsonl",
                    "--eval", "eval.jsonl", "--reference", "reference.jsonl", "--seed", str(demo["seed"]),
                    "--pool-docs", str(demo["pool_docs"]), "--eval-docs", str(demo["eval_docs"]),
                    "--noise-fraction", str(demo["noise_fraction"]),
                    "--reference-docs", str(demo["reference_docs"])],
                   cwd=folder, check=True, capture_output=True)
    evaluation = [json.loads(line) for line in (folder / "eval.jsonl").read_text().splitlines()]
    with (folder / "reference.jsonl").open("a", encoding="utf-8") as reference:
        for record in evaluation[:QUOTED_EVAL_DOCS]:
            reference.write(json.dumps({"text": "From the release notes: " + record["text"]}) + "\n")
    return {"dataset_path": "pool.jsonl", "eval_path": "eval.jsonl", "reference_path": "reference.jsonl"}


def test_the_early_verdict_runs_through_an_importing_workflow(tmp_path: Path) -> None:
    module = copy_workflow(tmp_path / "recipe-sandbox")
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "Snakefile").write_text(OUTER_SNAKEFILE.format(snakefile=module / "Snakefile"))
    files = user_files(outer)
    overrides = {**TINY_CONFIG, "experiment": EXPERIMENT, "proxies": ["ngram"], "seeds": [0],
                 "dataset_path": files["dataset_path"], "eval_path": files["eval_path"],
                 "trusted_min_docs": 20,
                 "feedback": {"methods": ["reference_ppl"], "reference_path": files["reference_path"]}}
    (outer / "outer-config.yaml").write_text(yaml.safe_dump(overrides, sort_keys=False))
    target = f"results/{EXPERIMENT}/summary.ngram.md"
    result = snakemake(outer, "--cores", "2", target)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]

    out = outer / "results" / EXPERIMENT
    markdown = (out / "summary.ngram.md").read_text()
    assert "`feedback_reference_ppl`" in markdown  # the reference-based variant was judged
    assert not (module / "results").exists(), "the module wrote into its own folder"
    reference = json.loads((out / "data/eval_set.json").read_text())["reference"]
    assert reference["docs"] == TINY_CONFIG["demo"]["reference_docs"] + QUOTED_EVAL_DOCS
    assert reference["near_duplicates_of_eval_dropped"] == QUOTED_EVAL_DOCS
    assert reference["kept_docs"] == TINY_CONFIG["demo"]["reference_docs"]
    assert (f"left out as sharing text with the eval set: 0 exact duplicates and {QUOTED_EVAL_DOCS} "
            "near-duplicates") in markdown
    # the module's own default recipe, found from the outer folder
    check_recipe_log = (out / "logs/check_recipe.log").read_text()
    assert str(module / "config/recipes/demo.yaml") in result.stdout + result.stderr + check_recipe_log
