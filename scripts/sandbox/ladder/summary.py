"""ladder/summary.json and summary.md: every (proxy, scale)'s decision accuracy against the target with its
cost, the cheapest scale that reaches the configured accuracy, and per variant the power-law fit of test
bpb against the bytes its models saw and the trend of its gain over raw (sandbox.ladder.stats's statistics).

Inputs are the ordinary contract files of every scale's models (heldout.jsonl, train_meta.json), the
eval split's labels (every number here is on the test part), and Snakemake's benchmark file of each
training job (the cost: its cpu_time, and its wall-clock s).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.data.eval_set import TEST, no_clean_eval_message
from sandbox.io.jsonl import InputError
from sandbox.ladder.config import Scale, benchmark_file, scale_dir
from sandbox.ladder.stats import (
    Replicates,
    accuracy_interval,
    decision_accuracy,
    fit_exponents,
    percentile_interval,
    point_bpb,
    replicate_bpb,
    seed_df,
    t_interval,
    trend_slopes,
    trend_word,
    variant_pairs,
)
from sandbox.proxies.contract import read_train_meta
from sandbox.stats.bootstrap import paired_test, read_scores
from sandbox.summary.table import Column, Table, markdown_rows, markdown_table
from sandbox.summary.tables import byte_count
from sandbox.workflow.variants import ORACLE, RAW

# A model that saw less than this share of its budget (the n-gram, each document once) or more than one
# pass over its data (the neural rungs) is data-limited: more budget no longer meant more data.
FULL_BUDGET = 0.99
# what a row of the accuracy table repeats of its scale's spec
ROW_KEYS = ("proxy", "scale", "multiplier", "size", "budget_bytes", "base")


@dataclass(frozen=True)
class ScaleData:
    """One (proxy, scale): its spec, its test scores nll_bits (variants, seeds, docs), what its models saw
    (per variant, the mean over seeds) and what its jobs cost."""

    spec: dict[str, Any]
    nll_bits: np.ndarray
    n_bytes: np.ndarray
    exposure: dict[str, dict[str, Any]]
    cost: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.spec['proxy']}@{self.spec['scale']}"


def benchmark_cost(paths: list[Path]) -> dict[str, Any]:
    """CPU-seconds (cpu_time) and wall-clock seconds (s) summed over Snakemake's benchmark files."""
    cpu = wall = 0.0
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                wall += float(row["s"])
                cpu += float(row.get("cpu_time") or "nan")
    return {"cpu_seconds": cpu, "wall_seconds": wall, "jobs": len(paths)}


def exposure_of(metas: list[dict[str, Any]]) -> dict[str, Any]:
    """What a variant's models saw (mean over seeds) and whether more budget still meant more data."""
    def mean(key: str) -> float | None:
        values = [meta.get(key) for meta in metas]
        return None if any(not isinstance(v, (int, float)) for v in values) else float(np.mean(values))

    symbols, budget, epochs = mean("train_symbols"), mean("tokens_budget"), mean("epochs")
    limited = None
    if symbols is not None and budget and epochs is not None:
        limited = symbols < FULL_BUDGET * budget or epochs > 1.0 + 1e-9
    return {"train_symbols": symbols, "distinct_train_bytes": mean("distinct_train_bytes"), "epochs": epochs,
            "tokens_budget": budget, "n_params": mean("n_params"), "data_limited": limited}


def load_scale(spec: dict[str, Any], out: str, variants: list[str], labels: list[str]) -> ScaleData:
    """A scale's test scores, exposures, budget (its models' tokens_budget) and cost, from its models'
    files."""
    seeds = spec["seeds"]
    folder = scale_dir(out, scale_of(spec))
    bench = benchmark_file(out, scale_of(spec))
    rows, exposure, n_bytes, bench_paths = [], {}, None, []
    test = np.asarray(labels) == TEST
    for variant in variants:
        paths = {seed: Path(folder.format(variant=variant, seed=seed)) / "heldout.jsonl" for seed in seeds}
        scores = read_scores(paths).on_documents(test)
        if n_bytes is not None and not np.array_equal(n_bytes, scores.n_bytes):
            raise InputError(f"{spec['proxy']}@{spec['scale']} {variant}: scored another eval set than the "
                             "other variants. Fix: retrain it.")
        n_bytes = scores.n_bytes
        rows.append(scores.nll_bits)
        exposure[variant] = exposure_of([read_train_meta(path.with_name("train_meta.json"))
                                         for path in paths.values()])
        bench_paths += [Path(bench.format(variant=variant, seed=seed)) for seed in seeds]
    # every model of a scale has the same budget (train_meta.json's tokens_budget)
    budget = max(round(meta["tokens_budget"] or 0) for meta in exposure.values())
    return ScaleData({**spec, "budget_bytes": budget}, np.stack(rows), n_bytes, exposure,
                     benchmark_cost(bench_paths))


def scale_of(spec: dict[str, Any]) -> Scale:
    return Scale(spec["proxy"], spec["multiplier"], spec["size"], spec["overrides"], spec["size_rank"])


def resolved_pairs(target: ScaleData, confidence: float) -> np.ndarray:
    """Which variant pairs the target itself resolves: its paired interval (paired_comparison v2) on
    test excludes 0."""
    pairs = variant_pairs(len(target.nll_bits))
    if not pairs or target.nll_bits.shape[1] < 2:
        return np.zeros(len(pairs), dtype=bool)
    cells = np.stack([target.nll_bits[i] - target.nll_bits[j] for i, j in pairs])
    return paired_test(cells, target.n_bytes, confidence).significant


def accuracy_entry(bpb: float | np.ndarray, replicates: np.ndarray, target_bpb: np.ndarray,
                   target_replicates: np.ndarray, mask: np.ndarray, confidence: float) -> dict[str, Any]:
    """Decision accuracy over the masked pairs: the estimate, the agreeing pairs and the interval."""
    pairs = int(mask.sum())
    if pairs == 0:
        return {"pairs": 0, "agreeing": None, "value": None, "interval": None}
    value = float(decision_accuracy(bpb, target_bpb, mask))
    low, high = accuracy_interval(decision_accuracy(replicates, target_replicates, mask), value, confidence)
    return {"pairs": pairs, "agreeing": value * pairs, "value": value, "interval": [low, high]}


def accuracy_rows(scales: list[ScaleData], target: ScaleData, replicates: Replicates,
                  pair_variants: np.ndarray, confidence: float) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Every (proxy, scale)'s decision accuracy against the target, over all pairs and over the pairs the
    target resolves, with its cost; and the target's resolved-pair mask."""
    target_nll = target.nll_bits[pair_variants]
    target_bpb = point_bpb(target_nll, target.n_bytes)
    target_reps = replicate_bpb(target_nll, target.n_bytes, replicates)
    resolved = resolved_pairs(ScaleData(target.spec, target_nll, target.n_bytes, {}, {}), confidence)
    every = np.ones_like(resolved)
    rows = []
    for scale in scales:
        nll = scale.nll_bits[pair_variants]
        bpb, reps = point_bpb(nll, scale.n_bytes), replicate_bpb(nll, scale.n_bytes, replicates)
        rows.append({
            **{key: scale.spec[key] for key in ROW_KEYS},
            "target": scale is target, "seeds": int(nll.shape[1]),
            "all_pairs": accuracy_entry(bpb, reps, target_bpb, target_reps, every, confidence),
            "resolved_pairs": accuracy_entry(bpb, reps, target_bpb, target_reps, resolved, confidence),
            **scale.cost,
        })
    return rows, resolved


def criterion(row: dict[str, Any]) -> dict[str, Any]:
    """The accuracy the stop-paying rule reads: over the pairs the target resolves, else over all pairs."""
    return row["resolved_pairs"] if row["resolved_pairs"]["pairs"] else row["all_pairs"]


def stop_paying(rows: list[dict[str, Any]], level: float) -> dict[str, Any] | None:
    """The cheapest (proxy, scale) besides the target whose decision accuracy reaches level (by
    CPU-seconds)."""
    reaching = [row for row in rows if not row["target"] and criterion(row)["value"] is not None
                and criterion(row)["value"] >= level]
    if not reaching:
        return None
    # Snakemake samples CPU time, so jobs of a second or two read 0: wall seconds break the tie.
    best = min(reaching, key=lambda row: (row["cpu_seconds"] if math.isfinite(row["cpu_seconds"])
                                          else row["wall_seconds"], row["wall_seconds"]))
    entry = criterion(best)
    return {"proxy": best["proxy"], "scale": best["scale"], "value": entry["value"], "pairs": entry["pairs"],
            "interval": entry["interval"], "lower_bound_reaches": entry["interval"][0] >= level,
            "cpu_seconds": best["cpu_seconds"]}


def size_groups(scales: list[ScaleData]) -> dict[tuple[str, str], list[ScaleData]]:
    """(proxy, size) -> its scales by multiplier: the budget axis of one model."""
    groups: dict[tuple[str, str], list[ScaleData]] = {}
    for scale in scales:
        groups.setdefault((scale.spec["proxy"], scale.spec["size"]), []).append(scale)
    return {key: sorted(group, key=lambda s: s.spec["multiplier"]) for key, group in groups.items()}


def variant_scaling(group: list[ScaleData], index: int, variant: str, reps: list[np.ndarray],
                    confidence: float) -> dict[str, Any]:
    """One variant's points (bytes seen, test bpb) at one model size, and its power-law fit over the points
    that were not data-limited."""
    points = []
    for scale, replicated in zip(group, reps):
        seen = scale.exposure[variant]
        points.append({"scale": scale.spec["scale"], "multiplier": scale.spec["multiplier"],
                       "bytes_seen": seen["train_symbols"], "distinct_bytes": seen["distinct_train_bytes"],
                       "epochs": seen["epochs"], "data_limited": seen["data_limited"],
                       "test_bpb": float(point_bpb(scale.nll_bits[index], scale.n_bytes)),
                       "band": list(percentile_interval(replicated[:, index], confidence))})
    usable = [i for i, point in enumerate(points) if point["data_limited"] is False and point["bytes_seen"]]
    fit = None
    if len({points[i]["bytes_seen"] for i in usable}) >= 2:
        x = np.array([points[i]["bytes_seen"] for i in usable])
        y = np.array([points[i]["test_bpb"] for i in usable])
        exponent, log_coefficient = fit_exponents(x, y)
        replicated = np.stack([reps[i][:, index] for i in usable], axis=-1)
        df = seed_df(len(usable), group[0].nll_bits.shape[1])
        low, high = t_interval(fit_exponents(x, replicated)[0], float(exponent), df, confidence)
        fit = {"exponent": float(exponent), "coefficient": float(np.exp(log_coefficient)),
               "interval": [low, high], "points": len(usable)}
    return {"points": points, "fit": fit}


def gain_trend(group: list[ScaleData], index: int, raw: int, reps: list[np.ndarray],
               confidence: float) -> dict[str, Any] | None:
    """The gain over raw (percent of raw's test bpb) at each multiplier, and its slope per doubling of the
    budget with an interval: grows, holds or shrinks."""
    if len(group) < 2:
        return None
    multipliers = np.log2([scale.spec["multiplier"] for scale in group])
    gains = np.array([100 * (1 - point_bpb(scale.nll_bits[index], scale.n_bytes)
                             / point_bpb(scale.nll_bits[raw], scale.n_bytes)) for scale in group])
    replicated = np.stack([100 * (1 - r[:, index] / r[:, raw]) for r in reps], axis=-1)
    slope = float(trend_slopes(multipliers, gains))
    df = seed_df(len(group), group[0].nll_bits.shape[1])
    low, high = t_interval(trend_slopes(multipliers, replicated), slope, df, confidence)
    return {"gain_percent": gains.tolist(), "slope_per_doubling": slope, "interval": [low, high],
            "trend": trend_word(low, high)}


def scaling(scales: list[ScaleData], variants: list[str], replicates: Replicates,
            confidence: float) -> dict[str, Any]:
    """Per proxy and model size: every variant's points, power-law fit and gain trend."""
    result: dict[str, Any] = {}
    for (proxy, size), group in size_groups(scales).items():
        reps = [replicate_bpb(scale.nll_bits, scale.n_bytes, replicates) for scale in group]
        entry: dict[str, Any] = {"proxy": proxy, "size": size or "own",
                                 "scales": [scale.spec["scale"] for scale in group], "variants": {}}
        for index, variant in enumerate(variants):
            entry["variants"][variant] = variant_scaling(group, index, variant, reps, confidence)
            if variant != RAW and RAW in variants:
                entry["variants"][variant]["gain"] = gain_trend(group, index, variants.index(RAW), reps,
                                                                confidence)
        result[f"{proxy}@{size or 'own'}"] = entry
    return result


def first_limited(fits: dict[str, Any]) -> str | None:
    """The first scale at which a variant's models ran out of fresh data, if any."""
    return next((point["scale"] for point in fits["points"] if point["data_limited"]), None)


def shrinking(scaling_result: dict[str, Any]) -> list[str]:
    """'variant (proxy@size)' for every recipe whose gain over raw shrinks with scale, saying from which
    scale on its data ran out (then more budget meant more raw data only, not more of the recipe's)."""
    flagged = []
    for key, entry in scaling_result.items():
        for variant, fits in entry["variants"].items():
            if not fits.get("gain") or fits["gain"]["trend"] != "shrinks":
                continue
            limited = first_limited(fits)
            flagged.append(f"{variant} ({key}" + (f"; data-limited from {limited})" if limited else ")"))
    return flagged


def build_ladder_summary(experiment: str, scales: list[ScaleData], target_label: str, variants: list[str],
                         oracle_in_pairs: bool, level: float, confidence: float, samples: int,
                         eval_set: dict[str, Any] | None, seed: int = 0) -> dict[str, Any]:
    """ladder/summary.json's object."""
    target = next(scale for scale in scales if scale.label == target_label)
    pair_variants = np.array([i for i, name in enumerate(variants) if oracle_in_pairs or name != ORACLE])
    names = [variants[i] for i in pair_variants]
    replicates = Replicates.draw(len(target.n_bytes), target.nll_bits.shape[1], samples, seed)
    rows, resolved = accuracy_rows(scales, target, replicates, pair_variants, confidence)
    pairs = variant_pairs(len(names))
    judges = eval_set is None or eval_set.get("judges_cleaning", True)
    scaling_result = scaling(scales, variants, replicates, confidence)
    summary = {
        "experiment": experiment, "target": target_label, "accuracy_level": level, "confidence": confidence,
        "bootstrap_samples": samples, "pair_variants": names,
        "pairs": [f"{names[i]}~{names[j]}" for i, j in pairs],
        "resolved_by_target": [f"{names[i]}~{names[j]}" for (i, j), ok in zip(pairs, resolved) if ok],
        "rows": rows, "stop_paying": stop_paying(rows, level), "scaling": scaling_result,
        "shrinking_gains": shrinking(scaling_result), "judges_cleaning": judges,
        "seeds": int(target.nll_bits.shape[1]), "test_docs": int(len(target.n_bytes)),
    }
    summary["line"] = ladder_line(summary)
    return summary


# --- Markdown ---


def scale_cell(row: dict[str, Any]) -> str:
    mark = " (target)" if row["target"] else " (main run)" if row["base"] else ""
    return f"`{row['proxy']}@{row['scale']}`{mark}"


def accuracy_cell(entry: dict[str, Any]) -> str:
    """'0.87 [0.73, 1.00] (13/15)'."""
    if entry["value"] is None:
        return "– (no pair)"
    low, high = entry["interval"]
    return f"{entry['value']:.2f} [{low:.2f}, {high:.2f}] ({entry['agreeing']:g}/{entry['pairs']})"


def cpu_seconds_text(seconds: float) -> str:
    """CPU-seconds as the table shows them: below half a second, sampling saw (almost) nothing."""
    return "< 1" if 0 <= seconds < 0.5 else f"{seconds:.0f}"


ACCURACY_COLUMNS: list[Column[dict[str, Any]]] = [
    Column("proxy@scale", scale_cell),
    Column("budget", lambda row: f"×{row['multiplier']:g} ({byte_count(row['budget_bytes'])})"),
    Column("seeds", lambda row: str(row["seeds"])),
    Column("decision accuracy, all pairs (CI)", lambda row: accuracy_cell(row["all_pairs"])),
    Column("over pairs the target resolves (CI)", lambda row: accuracy_cell(row["resolved_pairs"])),
    Column("CPU-seconds (jobs)", lambda row: f"{cpu_seconds_text(row['cpu_seconds'])} ({row['jobs']})"),
    Column("wall seconds", lambda row: f"{row['wall_seconds']:.0f}"),
]


def fit_cell(fit: dict[str, Any] | None) -> str:
    if fit is None:
        return "– (fewer than 2 points with fresh data)"
    low, high = fit["interval"]
    return f"{fit['exponent']:.3f} [{low:.3f}, {high:.3f}] ({fit['points']} points)"


def gain_cell(gain: dict[str, Any] | None) -> str:
    if gain is None:
        return "–"
    low, high = gain["interval"]
    values = ", ".join(f"{value:+.2f}" for value in gain["gain_percent"])
    slope = f"{gain['slope_per_doubling']:+.2f} [{low:+.2f}, {high:+.2f}]"
    return f"{values} %; {slope} per doubling: {gain['trend']}"


def point_cell(point: dict[str, Any]) -> str:
    mark = "*" if point["data_limited"] else ""
    return f"{point['test_bpb']:.3f}{mark}"


def scaling_markdown(key: str, entry: dict[str, Any]) -> list[str]:
    headers = ["variant", *(f"`{scale}`" for scale in entry["scales"]), "power-law exponent (CI)",
               "gain vs raw by scale; trend (CI)"]
    rows = [[name, *(point_cell(point) for point in fits["points"]), fit_cell(fits["fit"]),
             gain_cell(fits.get("gain"))] for name, fits in entry["variants"].items()]
    return ["", f"### `{key}`: test bpb by scale", "", *markdown_rows(headers, rows)]


def ladder_line(summary: dict[str, Any]) -> str:
    """The main summary's line: how the cheapest scale that reaches the level, or the base scales, order
    the pairs."""
    target = summary["target"]
    chosen = summary["stop_paying"]
    if chosen:
        row = next(row for row in summary["rows"]
                   if (row["proxy"], row["scale"]) == (chosen["proxy"], chosen["scale"]))
        entry = criterion(row)
        which = "pairs the target resolves" if row["resolved_pairs"]["pairs"] else "pairs"
        return (f"Scale ladder: `{chosen['proxy']}@{chosen['scale']}` orders {entry['agreeing']:g}/"
                f"{entry['pairs']} {which} as the target `{target}` does (decision accuracy "
                f"{entry['value']:.2f}, "
                f"{summary['confidence']:.0%} CI [{entry['interval'][0]:.2f}, {entry['interval'][1]:.2f}]), "
                f"the cheapest scale reaching {summary['accuracy_level']:g} "
                f"({cpu_seconds_text(chosen['cpu_seconds'])} CPU-s); "
                "see ladder/summary.md.")
    return (f"Scale ladder: no scale below the target `{target}` reaches decision accuracy "
            f"{summary['accuracy_level']:g}; see ladder/summary.md.")


NOTES = (
    "Decision accuracy: the share of variant pairs a (proxy, scale) orders by test bpb (mean over seeds) as "
    "the target does; a pair tied under exactly one of them counts 1/2. Intervals: bootstrap over test "
    "documents and seeds (the percentile interval joined with its reflection about the estimate); they "
    "cover the true accuracy when neighbouring variants differ by about two standard errors or more, not "
    "when variants are nearly tied (their order is noise at any scale). CPU-seconds: Snakemake's cpu_time "
    "summed over the scale's training jobs (every variant and seed); a job of a second or two is "
    "under-counted, so read the n-gram's as a lower bound."
)
SCALING_NOTES = (
    "Test bpb per scale (mean over seeds); * marks a data-limited point: the n-gram used every document "
    "once and fell short of the budget, or a neural rung saw its data more than once, so the multiplier no "
    "longer meant more data. The power law bpb = a · bytes^(−exponent) is fitted on the other points, "
    "against the bytes each model actually saw (train_symbols). Gain: the variant's test bpb below raw's in "
    "percent at each scale, and its least-squares slope per doubling of the budget: grows (> 0), shrinks "
    "(< 0) or holds (the interval includes 0). Both intervals are the bootstrap's standard error times a "
    "Student t quantile on the seeds' degrees of freedom (scales × (seeds − 1))."
)


def ladder_markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Scale ladder: {summary['experiment']}", ""]
    if not summary["judges_cleaning"]:
        lines += [f"**{no_clean_eval_message()}** The ladder below measures how scales agree on fit to the "
                  "raw pool.", ""]
    lines += [f"**{summary['line']}**", ""]
    if summary["shrinking_gains"]:
        lines += [f"**Flag**: the gain over raw shrinks with scale for "
                  f"{', '.join(summary['shrinking_gains'])}: the small verdict may not hold at scale. Where "
                  "a variant is data-limited, the larger budgets found no more of its data while raw kept "
                  "growing: the recipe's filtered data, not its quality, is what runs out.", ""]
    lines += [f"Target: `{summary['target']}`. Pairs: {len(summary['pairs'])} among "
              f"{', '.join(summary['pair_variants'])}; the target resolves "
              f"{len(summary['resolved_by_target'])} (its {summary['confidence']:.0%} paired interval on "
              f"test excludes 0). {summary['test_docs']} test documents, {summary['seeds']} seeds, "
              f"{summary['bootstrap_samples']} bootstrap samples.", ""]
    lines += ["## Decision accuracy against the target, with cost", "",
              *markdown_table(Table(ACCURACY_COLUMNS, summary["rows"])), "", NOTES]
    chosen = summary["stop_paying"]
    if chosen:
        bound = "its interval's lower bound reaches it too" if chosen["lower_bound_reaches"] else \
            "its interval's lower bound does not: more seeds or test documents would settle it"
        lines += ["", f"Stop paying at `{chosen['proxy']}@{chosen['scale']}`: the cheapest (proxy, scale) "
                  f"whose decision accuracy reaches {summary['accuracy_level']:g} ({bound})."]
    lines += ["", "## Scaling of each variant", "", SCALING_NOTES]
    for key, entry in summary["scaling"].items():
        lines += scaling_markdown(key, entry)
    return "\n".join(lines) + "\n"
