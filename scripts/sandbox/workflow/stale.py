"""The stale-summary mark, written after a failed run (the Snakefile's onerror handler).

Snakemake deletes a job's old outputs before running it, so a run that fails part-way can leave a
summary describing files that no longer exist. The mark says so at the top of summary.md and under
"stale" in summary.json; the next complete run rewrites both.
"""

import json
from pathlib import Path

STALE_BANNER_START = "> **Stale**"
# summary.json's key of the mark (run_end and the report's verdict page read it)
STALE_KEY = "stale"


def mark_summary_stale(summary_json: Path, summary_md: Path, sources: list[str]) -> list[str]:
    """Mark the summary stale if any of sources (the files it describes) is missing.

    Returns the missing files (empty: nothing marked, also when there is no summary yet).
    """
    if not summary_json.exists() or not summary_md.exists():
        return []
    missing = [path for path in sources if not Path(path).exists()]
    if not missing:
        return []
    summary = json.loads(summary_json.read_text(encoding="utf-8"))
    summary[STALE_KEY] = {
        "reason": "a later run failed after Snakemake removed files this summary describes",
        "missing": missing,
    }
    summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    text = summary_md.read_text(encoding="utf-8")
    if not text.startswith(STALE_BANNER_START):
        banner = (
            f"{STALE_BANNER_START}: a later run failed, and {len(missing)} files this summary describes "
            f"no longer exist (first: `{missing[0]}`). "
            "Fix the failure and rerun `snakemake` to refresh it.\n\n"
        )
        summary_md.write_text(banner + text, encoding="utf-8")
    return missing
