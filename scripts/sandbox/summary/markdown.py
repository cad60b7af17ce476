"""summary.md: summary.json (sandbox.summary.verdict) as a Markdown page: the verdicts first (one line per
proxy, then the agreement), then a table per proxy, the method notes and the eval set, the data table, the
k-sigma thresholds, the documents nearest them and the datamodels."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sandbox.data.eval_set import NO_CLEAN_EVAL
from sandbox.mixture import page as mixture_page
from sandbox.summary.table import markdown_rows, markdown_table
from sandbox.summary.tables import (
    DOWNSTREAM_NOTE,
    INTERVALS_NOTE,
    NO_VALUE,
    data_notes,
    data_table,
    downstream_table,
    downstream_title,
    fmt,
    low_power_note,
    proxy_title,
    verdict_table,
)
from sandbox.workflow.variants import feedback_variant

DATAMODEL_ROWS = 10


def read_thresholds(path: Path | None) -> list[dict[str, str]]:
    """The rows of k_sigma_thresholds.tsv (none without the file)."""
    if path is None:
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def short(cell: str) -> str:
    """A threshold for the table: floats to 4 significant digits, everything else as written."""
    try:
        return cell if float(cell).is_integer() and "." not in cell else f"{float(cell):.4g}"
    except ValueError:
        return cell


def thresholds_markdown(thresholds: list[dict[str, str]], k: float | None) -> list[str]:
    """The refined thresholds: each operator argument's raw-stat mean and std, its old and new value."""
    if not thresholds:
        return []
    rows = [[row["op_name"], row["arg"], row["stat"], f"{float(row['mean']):.4g}", f"{float(row['std']):.4g}",
             short(row["old"]), short(row["new"]) + (" (clamped)" if row["clamped"] == "True" else "")]
            for row in thresholds]
    return ["", f"## k-sigma thresholds (k = {k})", "",
            *markdown_rows(["operator", "argument", "stat", "mean", "std", "old", "new"], rows)]


def near_threshold_markdown(reports: list[dict[str, Any]]) -> list[str]:
    """Per processed variant and filter: the removed and kept documents nearest the thresholds."""
    lines: list[str] = []
    for report in reports:
        lines += ["", f"## `{report['variant']}`: documents nearest each threshold", ""]
        for entry in report["filters"]:
            low, high = entry["keep_interval"]
            rows = [[side, fmt(doc["value"]), doc["origin"] or NO_VALUE, doc["preview"]]
                    for side in ("removed", "kept") for doc in entry[side]]
            lines += [f"**{entry['op']}** keeps {entry['stat']} in [{fmt(low)}, {fmt(high)}]", "",
                      *markdown_rows(["side", "value", "origin", "text"], rows), ""]
    return lines


def proxy_markdown(proxy: str, result: dict[str, Any], judges_cleaning: bool = True,
                   downstream: dict[str, Any] | None = None) -> list[str]:
    """One proxy's heading and verdict table, why it has low power where it has, and its downstream
    table when there are downstream tasks."""
    lines = ["", f"## {proxy_title(proxy, result, judges_cleaning)}", "",
             *markdown_table(verdict_table(result))]
    note = low_power_note(result)
    lines += ["", note] if note else []
    table = downstream_table(proxy, downstream or {}, result.get("selected_on_validation"))
    if table is not None:
        lines += ["", f"### {downstream_title(proxy)}", "", *markdown_table(table)]
    return lines


def by_origin(counts: dict[str, int]) -> str:
    """'clean: 3, noise:spam: 12', or '–' when nothing was removed."""
    return ", ".join(f"{origin}: {count}" for origin, count in counts.items()) or NO_VALUE


def removed_by_op_markdown(name: str, variant: dict[str, Any]) -> list[str]:
    """The documents one processed variant removed per operator, by origin, and the recall per noise kind."""
    rows = [[op, entry["removed"], fmt(entry.get("precision"), 3), by_origin(entry.get("by_origin", {}))]
            for op, entry in variant["removed_by_op"].items()]
    lines = ["", f"## `{name}`: documents removed per operator", "",
             *markdown_rows(["operator", "removed", "precision (noise share)", "by origin"], rows)]
    removal = variant.get("noise_removal", {})
    recall_per_kind = removal.get("recall_per_kind")
    if recall_per_kind:
        intervals = removal.get("recall_per_kind_interval", {})
        kinds = ", ".join(f"{kind}: {share:.2f}" + (" [{:.2f}, {:.2f}]".format(*intervals[kind])
                                                     if kind in intervals else "")
                          for kind, share in recall_per_kind.items())
        confidence = removal.get("recall_confidence")
        note = f" ({confidence:.0%} Wilson intervals)" if intervals and confidence else ""
        lines += ["", f"Recall per noise kind{note}: {kinds}"]
    return lines


def seconds(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f} s"


def feedback_markdown(feedback: dict[str, dict[str, Any]]) -> list[str]:
    """Each feedback filter's op, threshold and cost: its models' training time and the time the op
    took to score the raw pool (feedback_recipe.py measures both)."""
    if not feedback:
        return []
    rows = []
    for method, entry in feedback.items():
        cost = entry.get("cost") or {}
        bounds = ", ".join(f"{name} {value:.4g}" for name, value in entry["thresholds"].items())
        kept = entry["kept_fraction_by_this_filter_alone"]
        rows.append([feedback_variant(method), entry["op"], bounds, f"{kept:.3f}", fmt(cost.get("models")),
                     seconds(cost.get("train_seconds")), seconds(cost.get("score_pool_seconds"))])
    pool_docs = next(iter(feedback.values()))["pool_docs"]
    return ["", "## Model feedback: filters and their cost", "",
            *markdown_rows(["variant", "filter", "threshold", "kept by the filter alone", "models",
                            "training (all models)", f"scoring the pool ({pool_docs} documents)"], rows),
            "", "Training: the models' own train_meta.json seconds (the n-gram LMs of the pool's folds count "
            "for each method that reads them); scoring: the op's compute_stats over the raw pool, model "
            "loading included. Snakemake's benchmarks/ hold each job's wall time and memory."]


def data_markdown(variants: dict[str, dict[str, Any]],
                  proxies: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The data table (documents, kept fraction, noise removal, and what each proxy trained on),
    then the documents removed per operator of each processed variant."""
    lines = ["", "## Data", "", *markdown_table(data_table(variants, proxies))]
    for note in data_notes(variants, proxies):
        lines += ["", note]
    for name, variant in variants.items():
        if variant.get("removed_by_op"):
            lines += removed_by_op_markdown(name, variant)
    return lines


def eval_set_markdown(eval_set: dict[str, Any] | None) -> list[str]:
    """Where the eval set came from and what it holds: the verdict stands or falls with it."""
    if not eval_set:
        return []
    described = {"demo": "the demo's held-out speeches (clean, in neither pool nor reference)",
                 "eval_path": f"`{eval_set['path']}` (eval_path)",
                 "trusted": "the eval half of the trusted sample",
                 "pool_split": f"{eval_set.get('eval_fraction')} of the pool, split by a hash of each text"}
    line = f"Eval set: {eval_set['eval_docs']} documents, {described[eval_set['source']]}"
    trusted = eval_set.get("trusted")
    if trusted:
        line += (f": `{trusted['path']}`, {trusted['docs']} documents split by a stable hash into "
                 f"{trusted['eval_docs']} for eval and {trusted['reference_docs']} for the feedback "
                 "reference")
        near_reference = trusted.get("reference_near_duplicates_of_eval_dropped")
        if near_reference:
            line += f" ({near_reference} more left out of the reference as near-duplicates of eval documents)"
    line += f". Pool: {eval_set['pool_docs']} documents."
    exact = eval_set["pool_duplicates_of_eval_dropped"]
    near = eval_set.get("pool_near_duplicates_of_eval_dropped", 0)
    if exact or near:
        first = " ".join(eval_set["duplicate_examples"][0].split())[:100]
        line += (f" Left out of the pool as leakage: {exact} exact duplicates of eval documents (after "
                 f"normalisation) and {near} near-duplicates (a shared run of "
                 f"{eval_set['decontamination_words']} words); first: \"{first}…\"")
    return ["", line + reference_overlap_sentence(eval_set)]


def reference_overlap_sentence(eval_set: dict[str, Any]) -> str:
    """What the feedback reference the user gave lost to the eval set (prepare_input), if anything."""
    reference = eval_set.get("reference")
    if not reference:
        return ""
    exact, near = reference["duplicates_of_eval_dropped"], reference["near_duplicates_of_eval_dropped"]
    sentence = f" Feedback reference: `{reference['path']}`, {reference['kept_docs']} documents used"
    if not exact and not near:
        return sentence + ", none shares text with the eval set."
    first = " ".join(reference["examples"][0].split())[:100]
    return (sentence + f" of {reference['docs']}; left out as sharing text with the eval set: {exact} exact "
            f"duplicates and {near} near-duplicates (a shared run of {eval_set['decontamination_words']} "
            f"words); first: \"{first}…\"")


def eval_split_markdown(split: dict[str, Any] | None) -> list[str]:
    """How the eval set was split, and which part each number comes from."""
    if not split:
        return []
    return ["", f"Validation and test: the eval set is split by a stable hash of each text into "
            f"{split['validation']} validation documents, on which the best variant is selected, and "
            f"{split['test']} test documents, on which every number below is computed (the validation column "
            "excepted), so no reported number was also used to choose."]


def signed_interval(interval: list[float]) -> str:
    low, high = interval
    return f"[{low:+.5f}, {high:+.5f}]"


def datamodels_markdown(block: dict[str, Any]) -> list[str]:
    """'Which operators/sources matter': effects ranked (most helpful first), intervals and LDS."""
    kinds = {"ops": "operators", "document": "documents"}
    kind = kinds.get(block["group_by"], f"values of {block['group_by']}")
    lds = block["lds"]
    groups = block["groups"]
    rows = [[rank, group["group"], f"{group['effect_bpb']:+.5f}", signed_interval(group["interval"]),
             f"{group['effect_percent']:+.2f} %", "yes" if group["resolved"] else "no"]
            for rank, group in enumerate(groups[:DATAMODEL_ROWS], start=1)]
    lines = ["", f"## Which {kind} matter (linear datamodels)", "",
             f"{block['models']['total']} n-gram proxies, each trained on a random subset of the groups. "
             f"Effect: held-out bpb a group adds when included (negative: it makes better data), with "
             f"{block['confidence']:.0%} bootstrap intervals. LDS (how well the linear model predicts "
             f"held-out subsets): per eval document {fmt(lds['documents'], 3)}, whole-eval bpb "
             f"{fmt(lds['mean_bpb'], 3)}.", "",
             *markdown_rows(["rank", "group", "effect (bpb)", "interval", "effect (%)", "resolved"], rows)]
    more = f"{len(groups) - DATAMODEL_ROWS} more groups and the" if len(groups) > DATAMODEL_ROWS else "The"
    lines += ["", f"{more} method: `{Path(block['path']).with_suffix('.md')}`."]
    return lines


def pools_markdown(block: dict[str, Any]) -> list[str]:
    """The mixture search's section: its confirmation by the cheap proxy, ranking, fit and weights."""
    body = mixture_page.markdown_lines(mixture_page.blocks(block), 3)
    return ["", f"## {mixture_page.TITLE}", "", *body,
            "The confirmation by every proxy: `snakemake mixture` "
            f"(`{Path(block['path']).parent}/summary.md`)."]


def markdown(summary: dict[str, Any], thresholds: list[dict[str, str]], near: list[dict[str, Any]]) -> str:
    """summary.md; thresholds are k_sigma_thresholds.tsv's rows, near the near_threshold.json reports."""
    verdict = summary["verdict"]
    judges_cleaning = verdict["status"] != NO_CLEAN_EVAL
    lines = [f"# recipe-sandbox summary: {summary['experiment']}", ""]
    if summary.get("provisional"):
        lines += [f"> {summary['provisional']}", ""]
    first, *rest = verdict["text"].splitlines()
    lines += [f"**{first}**", *rest]
    lines += [f"\n> **Warning**: {warning}" for warning in summary.get("warnings", [])]
    if summary.get("ladder"):
        lines += ["", summary["ladder"]["line"]]
    for proxy, result in summary["proxies"].items():
        lines += proxy_markdown(proxy, result, judges_cleaning, summary.get("downstream"))
    # The method comes after the tables it explains, so the page opens with the verdicts.
    lines += ["", INTERVALS_NOTE]
    if summary.get("downstream"):
        lines += ["", DOWNSTREAM_NOTE]
    lines += eval_set_markdown(summary.get("eval_set"))
    lines += eval_split_markdown(summary.get("eval_split"))
    lines += data_markdown(summary["variants"], summary["proxies"])
    lines += feedback_markdown(summary.get("feedback") or {})
    lines += thresholds_markdown(thresholds, summary.get("k"))
    lines += near_threshold_markdown(near)
    if "datamodels" in summary:
        lines += datamodels_markdown(summary["datamodels"])
    if "pools" in summary:
        lines += pools_markdown(summary["pools"])
    provenance = summary.get("provenance")
    if provenance:
        lines += ["", f"Provenance: `{provenance['path']}` (sha256 {provenance['sha256'][:16]}…): code "
                  "version, input hashes, library versions and metric definitions behind these numbers."]
    return "\n".join(lines) + "\n"
