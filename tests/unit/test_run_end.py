"""The last lines of a successful run (sandbox.workflow.run_end, the Snakefile's onsuccess): the
verdicts of the newest summary and where to look."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sandbox.workflow.run_end import run_end_lines


def write_summary(out: Path, name: str, text: str, mtime: float, **extra: object) -> None:
    json_path = out / f"{name}.json"
    json_path.write_text(json.dumps({"verdict": {"status": "ok", "text": text}, **extra}))
    (out / f"{name}.md").write_text(text)
    for path in (json_path, out / f"{name}.md"):
        os.utime(path, (mtime, mtime))


def test_the_last_lines_give_the_full_verdict_and_where_to_look(tmp_path: Path) -> None:
    assert run_end_lines(tmp_path) == [], "no summary yet: nothing to say"
    write_summary(tmp_path, "summary.ngram", "ngram: Yes: `k_sigma`", 1000)
    full = "ngram: Yes: `k_sigma`\ngpt: Not shown: `recipe`\nAgreement: one proxy"
    write_summary(tmp_path, "summary", full, 2000)
    (tmp_path / "report").mkdir()
    lines = run_end_lines(tmp_path)
    assert lines[:4] == [f"Verdict ({tmp_path}/summary.md):", "  ngram: Yes: `k_sigma`",
                         "  gpt: Not shown: `recipe`", "  Agreement: one proxy"]
    assert f"Figures: {tmp_path}/report/" in lines
    assert lines[-1].startswith("HTML report: snakemake --report report.html")


def test_an_early_verdict_newer_than_the_full_summary_is_the_one_shown(tmp_path: Path) -> None:
    # a later run stopped at results/<experiment>/summary.ngram.md: the full summary is older
    write_summary(tmp_path, "summary", "ngram: No: old", 1000, stale={"missing": []})
    write_summary(tmp_path, "summary.ngram", "ngram: Yes: new", 2000)
    lines = run_end_lines(tmp_path)
    assert lines[:2] == [f"Verdict ({tmp_path}/summary.ngram.md):", "  ngram: Yes: new"]
    assert not any("old" in line for line in lines)
    write_summary(tmp_path, "summary", "ngram: No: old", 3000, stale={"missing": []})
    stale = f"Verdict ({tmp_path}/summary.md) (marked stale: a later run failed):"
    assert run_end_lines(tmp_path)[0] == stale
