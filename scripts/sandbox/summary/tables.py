"""The summary's tables, defined once for summary.md and the report's verdict page: the per-proxy
verdict table (each variant's bpb and its comparisons with the references) and the data table (what
each variant kept, and what each proxy trained on), with the cell formatters and the notes beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.summary.table import Column, Table
from sandbox.workflow.variants import K_SIGMA, RAW, comparison_key

NO_VALUE = "–"
# The variant that filters on the quality score the data table reports.
CLASSIFIER_VARIANT = "feedback_classifier"
INTERVALS_NOTE = (
    "Intervals are paired intervals over test documents and seeds (Student t, Welch-Satterthwaite "
    "df; ✓: excludes 0); the minimum detectable effect (80 % power) is the true difference they find "
    "4 times in 5. One seed of a seed-dependent proxy gets no interval. Lower bpb is better.")
EXPOSURE_NOTE = (
    "Distinct bytes × epochs: how much of the variant each proxy's models trained on and how "
    "often (mean over seeds), on the same budget. A variant smaller than the budget is used "
    "whole: once by the n-gram, for more than one epoch by the neural rungs; so a variant that "
    "scores worse with fewer distinct bytes may have less data rather than worse data.")
QUALITY_NOTE = (
    "Quality score: P(trusted) under the quality classifier ({backend}) that learned the trusted sample "
    "({reference_docs} documents) against the raw pool, each document scored by the cross-fitted fold "
    "model that never learned it; the mean over the variant's documents with its {confidence:.0%} "
    "t-interval over documents, and the 5th / 50th / 95th percentiles. Higher: more like the trusted text.")
NO_QUALITY_NOTE = (
    "No quality scores: the quality classifier learns a trusted sample against the pool, and this run "
    "has none (or classifier.evaluate is false). Fix: set trusted_path (or feedback.reference_path) to a "
    "few hundred clean documents.")
NO_TAGS_NOTE = (
    "Noise precision and recall need a `meta.origin` tag (`clean` or `noise:<kind>`) on every pool "
    "document; this pool has none, so they are absent, and the removals per operator are counts only.")


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a cell: floats to `digits` decimals, None as '–'."""
    if value is None:
        return NO_VALUE
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def difference_cell(comparison: dict[str, Any] | None, value_key: str, interval_key: str, unit: str) -> str:
    """A paired difference in `unit` with its interval, '✓' where the interval excludes 0; '–' without a
    comparison, and no interval from one seed."""
    if comparison is None:
        return NO_VALUE
    if comparison["significant"] is None:
        return f"{comparison[value_key]:+.2f} {unit} (one seed: no interval)"
    low, high = comparison[interval_key]
    mark = " ✓" if comparison["significant"] else ""
    return f"{comparison[value_key]:+.2f} {unit} [{low:+.2f}, {high:+.2f}]{mark}"


def interval_cell(comparison: dict[str, Any] | None) -> str:
    """'-1.24 % [-1.39, -1.09] ✓' (✓: the interval excludes 0), or '–' when there is no comparison."""
    return difference_cell(comparison, "relative_percent", "relative_ci_percent", "%")


def mde_cell(comparison: dict[str, Any] | None) -> str:
    """The minimum detectable effect at 80 % power, in percent, or '–'."""
    if comparison is None or comparison["mde_percent"] is None:
        return NO_VALUE
    return f"{comparison['mde_percent']:.2f} %"


def fraction_text(fraction: dict[str, Any], spec: str) -> str:
    """'0.52 [0.40, 0.63]', the interval left out where one seed gives none."""
    if fraction["ci_low"] is None:
        return f"{fraction['value']:{spec}}"
    return f"{fraction['value']:{spec}} [{fraction['ci_low']:{spec}}, {fraction['ci_high']:{spec}}]"


def fraction_cell(fraction: dict[str, Any] | None) -> str:
    return fraction_text(fraction, ".2f") if fraction else NO_VALUE


def byte_count(value: float | None) -> str:
    """Bytes with three significant digits and a unit (kB, MB, GB: powers of 1000)."""
    if value is None:
        return NO_VALUE
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def quality_cell(quality: dict[str, Any] | None) -> str:
    """'0.512 [0.506, 0.518]': a variant's mean quality score and its interval, or '–'."""
    if not quality:
        return NO_VALUE
    if quality.get("ci_low") is None:
        return f"{quality['mean']:.3f}"
    return f"{quality['mean']:.3f} [{quality['ci_low']:.3f}, {quality['ci_high']:.3f}]"


def quality_spread_cell(quality: dict[str, Any] | None) -> str:
    """The 5th / 50th / 95th percentiles of a variant's quality scores, or '–'."""
    if not quality:
        return NO_VALUE
    quantiles = quality["quantiles"]
    return " / ".join(f"{quantiles[q]:.2f}" for q in ("0.05", "0.5", "0.95"))


def exposure_cell(evaluation: dict[str, Any] | None) -> str:
    """A proxy's distinct training bytes and epochs on a variant, e.g. "1.04 MB × 1.00"."""
    if evaluation is None or evaluation.get("train_distinct_bytes") is None:
        return NO_VALUE
    return f"{byte_count(evaluation['train_distinct_bytes'])} × {fmt(evaluation.get('train_epochs'), 2)}"


@dataclass(frozen=True)
class VerdictRow:
    """One variant under one proxy, with that proxy's comparisons."""

    name: str
    variant: dict[str, Any]
    comparisons: dict[str, Any]
    selected: bool

    def versus(self, reference: str) -> dict[str, Any] | None:
        return self.comparisons.get(comparison_key(self.name, reference))


VERDICT_COLUMNS: list[Column[VerdictRow]] = [
    Column("variant", lambda row: row.name + (" (selected)" if row.selected else "")),
    Column("validation bpb", lambda row: f"{row.variant['validation_bpb']:.4f}"),
    Column("test bpb (mean ± seed std)",
           lambda row: f"{row.variant['test_bpb']:.4f} ± {row.variant['test_bpb_std']:.4f}"),
    Column("seeds", lambda row: str(len(row.variant["seeds"]))),
    Column(f"vs {RAW} (CI)", lambda row: "baseline" if row.name == RAW else interval_cell(row.versus(RAW))),
    Column("minimum detectable effect (80 % power)", lambda row: mde_cell(row.versus(RAW))),
    Column(f"vs {K_SIGMA} (CI)", lambda row: interval_cell(row.versus(K_SIGMA))),
    Column("fraction of oracle gain", lambda row: fraction_cell(row.variant.get("fraction_of_oracle_gain"))),
]


def verdict_table(result: dict[str, Any]) -> Table[VerdictRow]:
    """One proxy's table: a row per variant (summary.json's proxies.<proxy>)."""
    selected = result.get("selected_on_validation")
    rows = [VerdictRow(name, variant, result["comparisons"], name == selected)
            for name, variant in result["variants"].items()]
    return Table(VERDICT_COLUMNS, rows)


def proxy_title(proxy: str, result: dict[str, Any], judges_cleaning: bool) -> str:
    """The proxy's table heading, saying what its numbers measure."""
    title = f"Proxy `{proxy}`" + (" (low power)" if result["low_power"] else "")
    if not judges_cleaning:
        title += ": fit to the raw pool (eval set split from the pool; not a verdict on cleaning)"
    return title


def low_power_note(result: dict[str, Any]) -> str | None:
    """Why the proxy's verdict can flip with the seed, where it can."""
    if not result["low_power"]:
        return None
    return f"Low power: {result['low_power']}; its verdict can flip with the seed."


@dataclass(frozen=True)
class DataRow:
    """One variant's data metrics, and what each proxy trained on of it."""

    name: str
    variant: dict[str, Any]
    trained: dict[str, dict[str, Any] | None]

    def noise(self, key: str) -> str:
        return fmt((self.variant.get("noise_removal") or {}).get(key), 3)


DATA_COLUMNS: list[Column[DataRow]] = [
    Column("variant", lambda row: row.name),
    Column("documents", lambda row: fmt(row.variant.get("docs"))),
    Column("kept fraction", lambda row: f"{row.variant['kept_fraction']:.3f}"),
    Column("noise precision", lambda row: row.noise("precision")),
    Column("noise recall", lambda row: row.noise("recall")),
]
QUALITY_COLUMNS: list[Column[DataRow]] = [
    Column("quality score (CI)", lambda row: quality_cell(row.variant.get("quality"))),
    Column("quality p5 / p50 / p95", lambda row: quality_spread_cell(row.variant.get("quality"))),
]


def has_quality(variants: dict[str, dict[str, Any]]) -> bool:
    return any(variant.get("quality") for variant in variants.values())


def exposure_column(proxy: str) -> Column[DataRow]:
    return Column(f"`{proxy}`: distinct bytes × epochs", lambda row: exposure_cell(row.trained[proxy]))


def data_table(variants: dict[str, dict[str, Any]],
               proxies: dict[str, dict[str, Any]] | None = None) -> Table[DataRow]:
    """summary.json's variants, with a column per proxy for the bytes and epochs its models trained on."""
    proxies = proxies or {}
    rows = [DataRow(name, variant, {proxy: result["variants"].get(name) for proxy, result in proxies.items()})
            for name, variant in variants.items()]
    quality = QUALITY_COLUMNS if has_quality(variants) else []
    return Table([*DATA_COLUMNS, *quality, *(exposure_column(proxy) for proxy in proxies)], rows)


def data_notes(variants: dict[str, dict[str, Any]], proxies: dict[str, dict[str, Any]] | None) -> list[str]:
    """The paragraphs under the data table: what the exposure columns mean, and why the noise metrics
    are absent where they are."""
    notes = [EXPOSURE_NOTE] if proxies else []
    notes.append(quality_note(variants))
    separation = separation_note(variants)
    if separation:
        notes.append(separation)
    if not any(variant.get("origin_tags") for variant in variants.values()):
        notes.append(NO_TAGS_NOTE)
    return notes


def quality_note(variants: dict[str, dict[str, Any]]) -> str:
    """What the quality columns mean, or why they are absent and the fix."""
    scored = [variant["quality"] for variant in variants.values() if variant.get("quality")]
    if not scored:
        return NO_QUALITY_NOTE
    trained = scored[0].get("classifier") or {}
    note = QUALITY_NOTE.format(backend=scored[0]["backend"], confidence=scored[0]["confidence"],
                               reference_docs=trained.get("reference_docs", "?"))
    if CLASSIFIER_VARIANT in variants:
        note += f" `{CLASSIFIER_VARIANT}` keeps by this very score, so its row is high by construction."
    return note


def share_text(share: dict[str, Any]) -> str:
    """'0.84 [0.77, 0.89]' from a share with its interval."""
    if share.get("value") is None:
        return NO_VALUE
    return f"{share['value']:.2f} [{share['ci_low']:.2f}, {share['ci_high']:.2f}]"


def separation_note(variants: dict[str, dict[str, Any]]) -> str | None:
    """How the classifier alone sorts the raw pool (origin tags needed), in one paragraph."""
    separation = ((variants.get(RAW) or {}).get("quality") or {}).get("separation")
    if not separation:
        return None
    kinds = ", ".join(f"{kind.removeprefix('noise:')} {share_text(share)}"
                      for kind, share in separation["recall_per_kind"].items())
    return (f"The quality classifier alone on the raw pool (cross-fitted; tags only check it): AUC clean vs "
            f"noise {fmt(separation['auc_clean_vs_noise'], 3)}; removing the lowest-scored "
            f"{1 - separation['keep_fraction']:.0%} would have noise precision "
            f"{share_text(separation['precision'])} and recall {share_text(separation['recall'])} "
            f"(Wilson intervals); recall per kind: {kinds}.")


# --- downstream tasks (summary.json's "downstream"; sandbox.downstream.summary) ---

DOWNSTREAM_NOTE = (
    "Downstream tasks: each variant's models (every seed) scored on every item of each task with "
    "lm-evaluation-harness, offline. acc: the choice of highest log-likelihood is the gold one "
    "(acc_norm: per character, lm-eval's), beside the chance level (1 / choices); gold bpb: bits per "
    "byte of the gold answers given their contexts, the continuous metric (lower is better), which at "
    "a small model's size moves first. Intervals: the same paired intervals, over items and seeds "
    "(accuracy differences in points). The items are not split: no choice reads them; the selected "
    "variant is the bpb verdict's.")


def points_cell(comparison: dict[str, Any] | None) -> str:
    """'+1.20 pts [-0.80, +3.20] ✓' (✓: the interval excludes 0), or '–'."""
    return difference_cell(comparison, "difference_points", "ci_points", "pts")


def percent_cell(value: float | None, std: float | None) -> str:
    """An accuracy as '31.2 % ± 0.8', or '–'."""
    if value is None:
        return NO_VALUE
    return f"{100 * value:.1f} %" + (f" ± {100 * std:.1f}" if std is not None else "")


@dataclass(frozen=True)
class DownstreamRow:
    """One variant on one task under one proxy, with that proxy's comparisons on the task."""

    task: str
    chance: float | None
    name: str
    variant: dict[str, Any]
    comparisons: dict[str, Any]
    selected: bool

    def versus(self, reference: str, metric: str) -> dict[str, Any] | None:
        return (self.comparisons.get(comparison_key(self.name, reference)) or {}).get(metric)

    def versus_raw(self, metric: str) -> str:
        if self.name == RAW:
            return "baseline"
        comparison = self.versus(RAW, metric)
        return interval_cell(comparison) if metric == "gold_bpb" else points_cell(comparison)


DOWNSTREAM_COLUMNS: list[Column[DownstreamRow]] = [
    Column("task", lambda row: f"`{row.task}`"),
    Column("variant", lambda row: row.name + (" (selected)" if row.selected else "")),
    Column("chance", lambda row: percent_cell(row.chance, None)),
    Column("acc (mean ± seed std)",
           lambda row: percent_cell(row.variant.get("acc"), row.variant.get("acc_std"))),
    Column(f"acc vs {RAW} (CI)", lambda row: row.versus_raw("acc")),
    Column("acc_norm",
           lambda row: percent_cell(row.variant.get("acc_norm"), row.variant.get("acc_norm_std"))),
    Column(f"acc_norm vs {RAW} (CI)", lambda row: row.versus_raw("acc_norm")),
    Column("gold bpb (mean ± seed std)",
           lambda row: f"{row.variant['gold_bpb']:.4f} ± {row.variant['gold_bpb_std']:.4f}"),
    Column(f"gold bpb vs {RAW} (CI)", lambda row: row.versus_raw("gold_bpb")),
    Column(f"gold bpb vs {K_SIGMA} (CI)", lambda row: interval_cell(row.versus(K_SIGMA, "gold_bpb"))),
]


def downstream_table(proxy: str, downstream: dict[str, Any],
                     selected: str | None) -> Table[DownstreamRow] | None:
    """One proxy's downstream table: a row per task and variant (None without downstream tasks)."""
    rows = [DownstreamRow(task, entry["chance"], name, variant, entry["proxies"][proxy]["comparisons"],
                          name == selected)
            for task, entry in downstream.items() if proxy in entry["proxies"]
            for name, variant in entry["proxies"][proxy]["variants"].items()]
    return Table(DOWNSTREAM_COLUMNS, rows) if rows else None


def downstream_title(proxy: str) -> str:
    return f"Downstream tasks on `{proxy}`"
