"""The last lines of a successful run (the Snakefile's onsuccess handler): each proxy's verdict as the
summary states it, where the summary and the figures are, and the command for the HTML report.

Snakemake ends a run with its own "Complete log(s)" and "Elapsed time" lines, far below the verdict it
printed among the job records; these lines repeat what a user came for. Imported while Snakemake runs,
so standard library only (as the rest of sandbox.workflow).
"""

import json
from pathlib import Path

from sandbox.workflow.stale import STALE_KEY


def verdict_lines(out_dir: Path) -> list[str]:
    """The verdict of summary.json, or of each proxy's early summary.<proxy>.json that is newer than it
    (a run that stopped at the early verdict, e.g. the target results/<experiment>/summary.ngram.md,
    leaves an older full summary behind)."""
    full = out_dir / "summary.json"
    early = sorted(out_dir.glob("summary.*.json"))
    full_time = full.stat().st_mtime if full.exists() else None
    newer = [path for path in early if full_time is None or path.stat().st_mtime > full_time]
    if newer:
        sources = [(path.with_suffix(".md"), path) for path in newer]
    else:
        sources = [(out_dir / "summary.md", full)] if full_time is not None else []
    lines = []
    for markdown, source in sources:
        if not markdown.exists():
            continue
        summary = json.loads(source.read_text(encoding="utf-8"))
        text = summary.get("verdict", {}).get("text", "")
        stale = " (marked stale: a later run failed)" if STALE_KEY in summary else ""
        lines.append(f"Verdict ({markdown}){stale}:")
        lines += [f"  {line}" for line in text.splitlines() if line.strip()]
    return lines


def run_end_lines(out_dir: Path) -> list[str]:
    """What a run's last lines say: the verdicts, then where to look; empty where the run wrote no
    summary yet (a target upstream of the verdict)."""
    lines = verdict_lines(out_dir)
    if not lines:
        return []
    lines.append(f"Tables and method: {out_dir}/summary.md (or summary.<proxy>.md); every number in "
                 f"{out_dir}/summary.json")
    figures = out_dir / "report"
    if figures.is_dir():
        lines.append(f"Figures: {figures}/")
    lines.append("HTML report: snakemake --report report.html, with this run's --config/--configfile options")
    return lines
