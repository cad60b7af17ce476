"""An edited workflow module reruns, in Snakemake's own plan on a copy of the tiny run, exactly the jobs
whose scripts import it (the `code=` inputs of sandbox/workflow/code_deps.py, checked in process in
unit/test_code_deps.py)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import TINY_CONFIG, planned_jobs

CONFIG = "test-config.yaml"


def test_an_edited_module_reruns_the_jobs_that_import_it_and_no_others(tiny_run_copy: Path) -> None:
    workdir = tiny_run_copy  # mtimes kept, like the run left them
    # a checkout that rewrites every file unchanged (newer mtimes): Snakemake compares the checksums
    for path in (workdir / "scripts").rglob("*.py"):
        os.utime(path)
    assert planned_jobs(workdir, "--configfile", CONFIG) == {}
    # a module only Snakemake imports (the onsuccess handler's; the onerror handler's stale.py also
    # gives the verdict page its key)
    run_end = workdir / "scripts/sandbox/workflow/run_end.py"
    run_end.write_text(run_end.read_text() + "\n# an edit\n")
    assert planned_jobs(workdir, "--configfile", CONFIG) == {}

    k_sigma = workdir / "scripts/sandbox/recipe/k_sigma.py"
    k_sigma.write_text(k_sigma.read_text() + "\n# a fix\n")
    jobs = planned_jobs(workdir, "--configfile", CONFIG)
    seeds = len(TINY_CONFIG["seeds"])
    assert jobs["refine_k_sigma"] == 1
    # what follows from the k_sigma recipe: its data, analysis, models, scores, summary and report
    assert jobs["process"] == jobs["analyze"] == jobs["data_metrics"] == jobs["plot_removals"] == 1
    assert jobs["train_gpt"] == jobs["infer"] == seeds
    # k_sigma's size is one that sets the n-gram's budget: it is measured again and every n-gram model
    # (4 variants here) reads it
    assert jobs["ngram_budget"] == 1 and jobs["train_ngram"] == 4 * seeds
    assert {"evaluate", "summarize", "summarize_proxy", "provenance", "datamodels_fit",
            "plot_thresholds"} <= set(jobs)
    # nothing upstream of it or beside it: the raw and recipe variants keep their data and models
    assert not {"check_recipe", "prepare_demo", "prepare_input", "split_eval", "select_probe",
                "select_oracle"} & set(jobs)
