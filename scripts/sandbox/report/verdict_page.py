"""The report's verdict page: summary.json as one small self-contained HTML page, with the same tables
as summary.md (sandbox.summary.tables): the verdict per proxy, held-out bpb with its paired intervals
over documents and seeds, and what each variant kept of the pool. Plain Python only (no numpy): the
page is drawn in the base environment.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sandbox.data.eval_set import NO_CLEAN_EVAL
from sandbox.mixture import page as mixture_page
from sandbox.summary.table import html_table, inline_html
from sandbox.summary.tables import (
    DOWNSTREAM_NOTE,
    INTERVALS_NOTE,
    data_notes,
    data_table,
    downstream_table,
    downstream_title,
    low_power_note,
    proxy_title,
    verdict_table,
)
from sandbox.workflow.stale import STALE_KEY

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
.verdict { font-size: 1.05em; }
.stale { background: #fdd; padding: 0.5em; }
"""


def paragraph(text: str) -> str:
    return f"<p>{inline_html(text)}</p>"


def proxy_section(name: str, proxy: dict[str, Any], judges_cleaning: bool = True,
                  downstream: dict[str, Any] | None = None) -> str:
    """One proxy's heading, verdict sentence and table of variants, and its downstream tasks' table."""
    note = low_power_note(proxy)
    table = downstream_table(name, downstream or {}, proxy.get("selected_on_validation"))
    tasks = "" if table is None else f"<h3>{inline_html(downstream_title(name))}</h3>{html_table(table)}"
    return (f"<h2>{inline_html(proxy_title(name, proxy, judges_cleaning))}</h2>"
            f"<p class='verdict'><b>{inline_html(proxy['verdict'])}</b></p>{html_table(verdict_table(proxy))}"
            f"{paragraph(note) if note else ''}{tasks}")


def data_section(variants: dict[str, Any], proxies: dict[str, Any]) -> str:
    """What each variant kept of the pool, how well it removed the noise, and what each proxy trained on."""
    notes = "".join(paragraph(note) for note in data_notes(variants, proxies))
    return f"<h2>Data</h2>{html_table(data_table(variants, proxies))}{notes}"


def no_verdict_banner(verdict: dict[str, Any]) -> str:
    """Why no verdict on cleaning can be drawn, and the fix, before any number."""
    if verdict.get("status") != NO_CLEAN_EVAL:
        return ""
    return (f"<p class='stale'><b>No verdict on cleaning can be drawn</b>: {escape(verdict['reason'])}. "
            f"Fix: {escape(verdict['fix'])}.</p>")


def opening_lines(verdict: dict[str, Any]) -> list[str]:
    """summary.md's opening (one verdict per proxy, then the agreement), without the no-verdict sentence
    that the banner already states."""
    lines = verdict["text"].splitlines()
    if verdict.get("status") == NO_CLEAN_EVAL:
        lines = lines[1:]
    return [line for line in lines if line.strip()]


def render(summary: dict[str, Any]) -> str:
    """The page: a stale summary (the workflow's error handler marks it) and warnings, then the verdicts
    as summary.md opens with them, the tables, and the method notes last."""
    stale = summary.get(STALE_KEY)
    banner = f"<p class='stale'>Stale: {escape(stale['reason'])}</p>" if stale else ""
    banner += "".join(f"<p class='stale'>Warning: {escape(warning)}</p>"
                      for warning in summary.get("warnings", []))
    verdict = summary["verdict"]
    banner += no_verdict_banner(verdict)
    judges_cleaning = verdict.get("status") != NO_CLEAN_EVAL
    downstream = summary.get("downstream")
    verdicts = "".join(f"<p class='verdict'>{inline_html(line)}</p>" for line in opening_lines(verdict))
    sections = [proxy_section(name, proxy, judges_cleaning, downstream)
                for name, proxy in summary["proxies"].items()]
    notes = paragraph(INTERVALS_NOTE) + (paragraph(DOWNSTREAM_NOTE) if downstream else "")
    data = data_section(summary["variants"], summary["proxies"])
    if "pools" in summary:
        data += mixture_page.html(summary["pools"])
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Verdict: "
            f"{escape(summary['experiment'])}</title><style>{STYLE}</style></head><body>{banner}"
            f"<h1>Verdict: {escape(summary['experiment'])}</h1>{verdicts}"
            f"{''.join(sections)}{notes}{data}</body></html>\n")
