"""The oracle comparison in Snakemake's own plan: data without origin tags plan no oracle variant (the
comparisons themselves are checked against hand-computed values in unit/test_comparisons.py)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TINY_CONFIG, copy_workflow, planned_jobs, write_config


def test_untagged_data_plans_no_oracle(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "wf")
    data = workdir / "untagged.jsonl"
    data.write_text("".join(json.dumps({"text": f"plain document {i} " * 20}) + "\n" for i in range(50)))
    config = write_config(workdir, {**TINY_CONFIG, "dataset_path": str(data)})
    jobs = planned_jobs(workdir, "--configfile", str(config))
    assert "select_oracle" not in jobs
    assert jobs["train_gpt"] == jobs["train_ngram"] == 2 * 3  # raw, recipe, k_sigma x 2 seeds
