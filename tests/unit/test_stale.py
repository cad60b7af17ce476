"""The stale-summary mark (sandbox/workflow/stale.py) on files in a temp dir; the workflow-level check (a
failed
rerun, then a complete one) is in test_workflow.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.workflow.stale import mark_summary_stale

SUMMARY_MD = "# Verdict\n\nrecipe is better.\n"


@pytest.fixture
def summary(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """summary.json, summary.md and the two source files they describe (both present)."""
    summary_json, summary_md = tmp_path / "summary.json", tmp_path / "summary.md"
    summary_json.write_text(json.dumps({"experiment": "x"}) + "\n")
    summary_md.write_text(SUMMARY_MD)
    sources = [tmp_path / "eval.json", tmp_path / "heldout.jsonl"]
    for source in sources:
        source.write_text("{}\n")
    return summary_json, summary_md, [str(source) for source in sources]


def test_nothing_is_marked_while_every_source_exists(summary: tuple[Path, Path, list[str]]) -> None:
    summary_json, summary_md, sources = summary
    assert mark_summary_stale(summary_json, summary_md, sources) == []
    assert summary_md.read_text() == SUMMARY_MD
    assert "stale" not in json.loads(summary_json.read_text())


def test_nothing_is_written_without_a_summary(tmp_path: Path) -> None:
    summary_json, summary_md = tmp_path / "summary.json", tmp_path / "summary.md"
    assert mark_summary_stale(summary_json, summary_md, [str(tmp_path / "gone.json")]) == []
    assert not summary_json.exists() and not summary_md.exists()


def test_a_missing_source_marks_both_files_once(summary: tuple[Path, Path, list[str]]) -> None:
    summary_json, summary_md, sources = summary
    Path(sources[1]).unlink()
    for _ in range(2):  # a second failed run keeps one banner
        assert mark_summary_stale(summary_json, summary_md, sources) == [sources[1]]
    stale = json.loads(summary_json.read_text())["stale"]
    assert stale["missing"] == [sources[1]] and "failed" in stale["reason"]
    text = summary_md.read_text()
    assert text.startswith("> **Stale**: a later run failed, and 1 files") and text.count("> **Stale**") == 1
    assert f"(first: `{sources[1]}`)" in text and text.endswith(SUMMARY_MD)
