"""The report's verdict page: summary.json as one small self-contained HTML page (the verdict per
proxy, held-out bpb with its paired intervals over documents and seeds, and what each variant kept of the
pool)."""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
.verdict { font-size: 1.05em; }
.stale { background: #fdd; padding: 0.5em; }
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True, type=Path, help="summary.json of the experiment")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def percent_interval(comparison: dict[str, Any] | None) -> str:
    """'-1.24 % [-1.39, -1.09] ✓' (✓: the interval excludes 0), or '–' when there is no comparison."""
    if not comparison:
        return "–"
    if comparison["significant"] is None:
        return f"{comparison['relative_percent']:+.2f} % (one seed: no interval)"
    low, high = comparison["relative_ci_percent"]
    mark = " ✓" if comparison["significant"] else ""
    return f"{comparison['relative_percent']:+.2f} % [{low:+.2f}, {high:+.2f}]{mark}"


def detectable(comparison: dict[str, Any] | None) -> str:
    """The minimum detectable effect at 80 % power, in percent, or '–'."""
    if not comparison or comparison["mde_percent"] is None:
        return "–"
    return f"{comparison['mde_percent']:.2f} %"


def oracle_gain(variant: dict[str, Any]) -> str:
    gain = variant.get("fraction_of_oracle_gain")
    if not gain:
        return "–"
    if gain["ci_low"] is None:
        return f"{gain['value']:.2f}"
    return f"{gain['value']:.2f} [{gain['ci_low']:.2f}, {gain['ci_high']:.2f}]"


def table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def proxy_section(name: str, proxy: dict[str, Any], judges_cleaning: bool = True) -> str:
    """One proxy's verdict line and its table of variants."""
    comparisons = proxy["comparisons"]
    rows = []
    for variant_name, variant in proxy["variants"].items():
        selected = " (selected)" if variant_name == proxy.get("selected_on_validation") else ""
        rows.append([
            variant_name + selected,
            f"{variant['validation_bpb']:.4f}",
            f"{variant['test_bpb']:.4f} ± {variant['test_bpb_std']:.4f}",
            str(len(variant["seeds"])),
            "baseline" if variant_name == "raw" else percent_interval(comparisons.get(f"{variant_name}_vs_raw")),
            detectable(comparisons.get(f"{variant_name}_vs_raw")),
            percent_interval(comparisons.get(f"{variant_name}_vs_k_sigma")),
            oracle_gain(variant),
        ])
    power = f" (low power: {proxy['low_power']})" if proxy.get("low_power") else ""
    if not judges_cleaning:
        power += ": fit to the raw pool, not a verdict on cleaning"
    header = ["variant", "validation bpb", "test bpb (mean ± seed std)", "seeds", "vs raw (CI)",
              "minimum detectable effect (80 % power)", "vs k_sigma (CI)", "fraction of oracle gain"]
    return (f"<h2>Proxy <code>{escape(name)}</code>{escape(power)}</h2>"
            f"<p class='verdict'><b>{escape(proxy['verdict'])}</b></p>{table(header, rows)}")


def data_section(variants: dict[str, Any]) -> str:
    """What each variant kept of the pool and, with origin tags, how well it removed the noise."""
    rows = []
    for name, variant in variants.items():
        noise = variant.get("noise_removal") or {}
        precision, recall = noise.get("precision"), noise.get("recall")
        rows.append([
            name,
            str(variant["docs"]),
            f"{variant['kept_fraction']:.3f}",
            "–" if precision is None else f"{precision:.3f}",
            "–" if recall is None else f"{recall:.3f}",
        ])
    header = ["variant", "documents", "kept fraction", "noise precision", "noise recall"]
    note = ""
    if not any(variant.get("origin_tags") for variant in variants.values()):
        note = ("<p>Noise precision and recall need a <code>meta.origin</code> tag on every pool document; "
                "this pool has none, so they are absent.</p>")
    return f"<h2>Data</h2>{table(header, rows)}{note}"


def no_verdict_banner(verdict: dict[str, Any]) -> str:
    """Why no verdict on cleaning can be drawn, and the fix, before any number."""
    if verdict.get("status") != "no_clean_eval":
        return ""
    return (f"<p class='stale'><b>No verdict on cleaning can be drawn</b>: {escape(verdict['reason'])}. "
            f"Fix: {escape(verdict['fix'])}.</p>")


def render(summary: dict[str, Any]) -> str:
    stale = summary.get("stale")
    banner = f"<p class='stale'>Stale: {escape(stale['reason'])}</p>" if stale else ""
    banner += "".join(f"<p class='stale'>Warning: {escape(warning)}</p>" for warning in summary.get("warnings", []))
    verdict = summary["verdict"]
    banner += no_verdict_banner(verdict)
    judges_cleaning = verdict.get("status") != "no_clean_eval"
    sections = [proxy_section(name, proxy, judges_cleaning) for name, proxy in summary["proxies"].items()]
    agreement = summary.get("agreement") or {}
    agreement_line = f"<p>{escape(agreement['line'])}</p>" if agreement.get("line") else ""
    note = ("<p>Lower bpb is better. Intervals are paired intervals over eval documents and seeds (✓: "
            "excludes 0; one seed of a seed-dependent proxy gets none), from summary.json.</p>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Verdict: "
            f"{escape(summary['experiment'])}</title><style>{STYLE}</style></head><body>{banner}"
            f"<h1>Verdict: {escape(summary['experiment'])}</h1>{agreement_line}{note}"
            f"{''.join(sections)}{data_section(summary['variants'])}</body></html>\n")


def main() -> None:
    args = parse_args()
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(summary), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
