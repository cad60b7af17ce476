"""Summarize the experiment: every variant side by side, and each against raw (paired over seeds).

Writes summary.json ({"variants": {...}, "comparisons": {...}, ...}) and summary.md (the same as
tables), answering: did the recipe make better data for a model?
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.stats import paired_interval  # noqa: E402

BASELINE = "raw"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--evaluations", required=True, nargs="+", type=Path, help="eval/<variant>.json files")
    parser.add_argument("--thresholds", type=Path, default=None, help="k_sigma_thresholds.tsv, if refined")
    parser.add_argument("--k", type=float, default=None)
    parser.add_argument("--near-threshold", nargs="*", type=Path, default=[], help="near_threshold.json files")
    parser.add_argument("--provenance", required=True, type=Path)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    return parser.parse_args()


def sha256_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def per_seed(evaluation: dict[str, Any]) -> dict[int, float]:
    return {int(seed): value for seed, value in evaluation["heldout_bpb_per_seed"].items()}


def compare_to_baseline(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Paired held-out bpb difference of every variant against raw, absolute and relative."""
    if BASELINE not in variants:
        return {}
    baseline = variants[BASELINE]
    comparisons = {}
    for name, evaluation in variants.items():
        if name == BASELINE:
            continue
        interval = paired_interval(per_seed(evaluation), per_seed(baseline))
        scale = 100.0 / baseline["heldout_bpb"]
        interval["metric"] = "heldout_bpb"
        interval["relative_percent"] = interval["mean_difference"] * scale
        interval["relative_ci_percent"] = (
            [interval["ci_low"] * scale, interval["ci_high"] * scale] if interval["ci_low"] is not None else None
        )
        comparisons[f"{name}_vs_{BASELINE}"] = interval
    return comparisons


def add_oracle_gain(variants: dict[str, dict[str, Any]]) -> None:
    """fraction_of_oracle_gain = (raw - variant) / (raw - oracle), only where an oracle was trained."""
    if "oracle" not in variants or BASELINE not in variants:
        return
    raw, oracle = variants[BASELINE]["heldout_bpb"], variants["oracle"]["heldout_bpb"]
    gap = raw - oracle
    for evaluation in variants.values():
        evaluation["fraction_of_oracle_gain"] = (raw - evaluation["heldout_bpb"]) / gap if gap else None


def read_thresholds(path: Path | None) -> list[dict[str, str]]:
    if path is None:
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def verdict(variants: dict[str, dict[str, Any]], comparisons: dict[str, Any]) -> str:
    """One sentence: did the best recipe variant beat raw, and reliably? (The oracle is a reference.)"""
    candidates = [name for name in variants if name not in (BASELINE, "oracle")]
    if not candidates or BASELINE not in variants:
        return "No comparison: the summary needs `raw` and at least one processed variant."
    best = min(candidates, key=lambda name: variants[name]["heldout_bpb"])
    comparison = comparisons[f"{best}_vs_{BASELINE}"]
    change = f"{comparison['relative_percent']:+.1f} % held-out bpb vs raw"
    if comparison["mean_difference"] >= 0:
        answer = f"No: no recipe variant beat the raw data (best: `{best}`, {change})."
    elif comparison["significant"] is None:
        answer = f"Likely yes: `{best}` is best ({change}), but one seed gives no confidence interval."
    elif comparison["significant"]:
        answer = f"Yes: `{best}` is best ({change}; the 95 % CI excludes 0, n={comparison['n']})."
    else:
        answer = f"Not shown: `{best}` is best ({change}), but the 95 % CI includes 0 (n={comparison['n']})."
    oracle = comparisons.get(f"oracle_vs_{BASELINE}")
    if oracle:
        gain = variants[best].get("fraction_of_oracle_gain")
        answer += f" The oracle (clean documents only) reaches {oracle['relative_percent']:+.1f} %"
        answer += f"; `{best}` gets {gain:.0%} of that gain." if gain is not None else "."
    return answer


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def short(cell: str) -> str:
    """A threshold for the table: floats to 4 significant digits, everything else as written."""
    try:
        return cell if float(cell).is_integer() and "." not in cell else f"{float(cell):.4g}"
    except ValueError:
        return cell


def near_threshold_markdown(reports: list[dict[str, Any]]) -> list[str]:
    """Per processed variant and filter: the removed and kept documents nearest the thresholds."""
    lines: list[str] = []
    for report in reports:
        lines += ["", f"## `{report['variant']}`: documents nearest each threshold", ""]
        for entry in report["filters"]:
            low, high = entry["keep_interval"]
            lines += [f"**{entry['op']}** keeps {entry['stat']} in [{fmt(low)}, {fmt(high)}]", "",
                      "| side | value | origin | text |", "|---|---|---|---|"]
            for side in ("removed", "kept"):
                for doc in entry[side]:
                    text = doc["preview"].replace("|", "\\|")
                    lines.append(f"| {side} | {fmt(doc['value'])} | {doc['origin'] or '–'} | {text} |")
            lines.append("")
    return lines


def markdown(summary: dict[str, Any], thresholds: list[dict[str, str]], near: list[dict[str, Any]]) -> str:
    variants, comparisons = summary["variants"], summary["comparisons"]
    lines = [f"# recipe-sandbox summary: {summary['experiment']}", "", f"**{summary['verdict']}**", ""]
    lines += ["| variant | held-out bpb (mean ± std) | seeds | vs raw (paired, 95 % CI) | kept fraction |"
              " noise precision | noise recall | fraction of oracle gain |",
              "|---|---|---|---|---|---|---|---|"]
    for name, evaluation in variants.items():
        comparison = comparisons.get(f"{name}_vs_{BASELINE}")
        versus = "baseline" if name == BASELINE else "–"
        if comparison:
            ci = comparison["relative_ci_percent"]
            bounds = f" [{ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else ""
            versus = f"{comparison['relative_percent']:+.1f} %{bounds} (n={comparison['n']})"
        noise = evaluation.get("noise_removal", {})
        lines.append(
            f"| {name} | {evaluation['heldout_bpb']:.4f} ± {evaluation['heldout_bpb_std']:.4f} "
            f"| {len(evaluation['seeds'])} | {versus} | {evaluation['kept_fraction']:.3f} "
            f"| {fmt(noise.get('precision'), 3)} | {fmt(noise.get('recall'), 3)} "
            f"| {fmt(evaluation.get('fraction_of_oracle_gain'), 2)} |"
        )
    for name, evaluation in variants.items():
        if not evaluation.get("removed_by_op"):
            continue
        lines += ["", f"## `{name}`: documents removed per operator", "",
                  "| operator | removed | precision (noise share) | by origin |", "|---|---|---|---|"]
        for op, entry in evaluation["removed_by_op"].items():
            origins = ", ".join(f"{origin}: {count}" for origin, count in entry.get("by_origin", {}).items())
            lines.append(f"| {op} | {entry['removed']} | {fmt(entry.get('precision'), 3)} | {origins or '–'} |")
        recall_per_kind = evaluation.get("noise_removal", {}).get("recall_per_kind")
        if recall_per_kind:
            kinds = ", ".join(f"{kind}: {share:.2f}" for kind, share in recall_per_kind.items())
            lines += ["", f"Recall per noise kind: {kinds}"]
    if thresholds:
        lines += ["", f"## k-sigma thresholds (k = {summary.get('k')})", "",
                  "| operator | argument | stat | mean | std | old | new |", "|---|---|---|---|---|---|---|"]
        for row in thresholds:
            clamp = " (clamped)" if row["clamped"] == "True" else ""
            lines.append(f"| {row['op_name']} | {row['arg']} | {row['stat']} | {float(row['mean']):.4g} "
                         f"| {float(row['std']):.4g} | {short(row['old'])} | {short(row['new'])}{clamp} |")
    lines += near_threshold_markdown(near)
    provenance = summary["provenance"]
    lines += ["", f"Provenance: `{provenance['path']}` (sha256 {provenance['sha256'][:16]}…): code version, "
              "input hashes, library versions and metric definitions behind these numbers."]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    evaluations = [json.loads(path.read_text(encoding="utf-8")) for path in args.evaluations]
    variants = {evaluation["variant"]: evaluation for evaluation in evaluations}
    add_oracle_gain(variants)
    comparisons = compare_to_baseline(variants)
    summary: dict[str, Any] = {
        "experiment": args.experiment,
        "metric": "heldout_bpb (lower is better)",
        "verdict": verdict(variants, comparisons),
        "variants": variants,
        "comparisons": comparisons,
    }
    if args.k is not None:
        summary["k"] = args.k
    summary["provenance"] = {"path": str(args.provenance), "sha256": sha256_of_file(args.provenance)}
    args.out_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    near = [json.loads(path.read_text(encoding="utf-8")) for path in args.near_threshold]
    args.out_md.write_text(markdown(summary, read_thresholds(args.thresholds), near), encoding="utf-8")
    print(summary["verdict"])


if __name__ == "__main__":
    run_main(main)
