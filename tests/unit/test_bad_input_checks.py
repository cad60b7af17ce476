"""Bad input caught in process: the scratch a killed job leaves is removed by its next run, and every
global recipe key is passed to Data-Juicer, set by the workflow or refused. Bad input through the real
workflow is in workflow/test_bad_input.py."""

from __future__ import annotations

from pathlib import Path


def test_scratch_left_by_a_killed_job_is_removed_by_its_next_run(tmp_path: Path) -> None:
    from sandbox.recipe.dj import job_scratch

    # what `kill -9` leaves: Data-Juicer's work files in the job's scratch folder
    stale = tmp_path / ".dj-process-x1y2"
    (stale / "work").mkdir(parents=True)
    (stale / "work" / "cache.arrow").write_bytes(b"\0" * 10)
    other_job = tmp_path / ".dj-analyze-keep"
    other_job.mkdir()
    with job_scratch(tmp_path, ".dj-process-") as scratch:
        assert scratch.is_dir() and not stale.exists()
    assert not scratch.exists() and other_job.exists()


def test_global_recipe_keys_are_honoured_set_or_refused() -> None:
    from sandbox.recipe.recipe_file import (
        PASSED_TO_DATA_JUICER,
        REFUSED,
        SET_BY_WORKFLOW,
        global_key_problems,
    )

    known = set(PASSED_TO_DATA_JUICER) | set(REFUSED) | set(SET_BY_WORKFLOW) | {"turbo"}
    refusals, notes = global_key_problems(
        {"process": [], "project_name": "p", "use_cache": False, "op_fusion": False,
         "executor_type": "default", "export_type": "parquet", "np": 4, "turbo": True}, known)
    assert refusals == ["turbo: a Data-Juicer setting the sandbox does not handle; remove it"]
    assert [note.split(":")[0] for note in notes] == ["export_type", "np"]
    # The tables never overlap, so each key has exactly one fate.
    assert not (set(PASSED_TO_DATA_JUICER) & set(REFUSED)) and not (set(SET_BY_WORKFLOW) & set(REFUSED))
