"""Summarize the experiment: every variant side by side under every proxy model, each against raw
(and k_sigma) by a paired comparison over per-document held-out scores and seeds, and how far the
proxies agree. The eval set has two parts (split_eval.py): the best variant is chosen on validation,
and every number reported (bpb, intervals, oracle fraction, agreement) is computed on test.

Writes summary.json ({"proxies": {proxy: {"variants", "comparisons", "verdict"}}, "variants",
"agreement", ...}) and summary.md (the same as tables), answering: did the recipe make better data
for a model, and could the instrument have seen it?
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from sandbox.bootstrap import Scores, aligned, oracle_fraction, paired_comparison, selection_confidence  # noqa: E402
from sandbox.cli import run_main  # noqa: E402
from sandbox.eval_set import (  # noqa: E402
    NO_CLEAN_EVAL, NO_CLEAN_EVAL_FIX, NO_CLEAN_EVAL_REASON, TEST, no_clean_eval_message,
)
from sandbox.jsonl import iter_jsonl  # noqa: E402
from sandbox.origin import is_noise, origin_of  # noqa: E402
from sandbox.proxies import is_deterministic  # noqa: E402

BASELINE = "raw"
# Comparisons are also made against the refined recipe, the sandbox's own suggestion.
SECOND_REFERENCE = "k_sigma"
DATA_KEYS = ("docs", "kept_fraction", "origin_tags", "noise_removal", "removed_by_op")
NO_TAGS_NOTE = ("Noise precision and recall need a `meta.origin` tag (`clean` or `noise:<kind>`) on every pool "
                "document; this pool has none, so they are absent, and the removals per operator are counts only.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--evaluations", required=True, nargs="+", type=Path, help="eval/<proxy>/<variant>.json files")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--max-seed-std", type=float, default=0.015, help="above it a proxy is marked low-power")
    parser.add_argument("--thresholds", type=Path, default=None, help="k_sigma_thresholds.tsv, if refined")
    parser.add_argument("--k", type=float, default=None)
    parser.add_argument("--near-threshold", nargs="*", type=Path, default=[], help="near_threshold.json files")
    parser.add_argument("--datamodels", type=Path, default=None,
                        help="datamodels/<group_by>/summary.json: adds which operators/sources matter")
    parser.add_argument("--datamodels-group-by", default="ops", help="what the datamodels' groups are")
    parser.add_argument("--eval", type=Path, default=None, help="the working eval set (its origin tags are checked)")
    parser.add_argument("--eval-set", type=Path, default=None,
                        help="data/eval_set.json: the eval set's source (can it judge cleaning?) and counts")
    parser.add_argument("--provenance", type=Path, default=None,
                        help="provenance.json; without it the summary is one proxy's early verdict")
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    return parser.parse_args()


def sha256_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scores_of(evaluation: dict[str, Any], part: str = TEST) -> Scores:
    """The per-document scores an eval file carries on one part of the eval split, as comparison input."""
    per_document = evaluation["per_document"]
    seeds = tuple(sorted(int(seed) for seed in per_document["nll_bits"]))
    nll = np.array([per_document["nll_bits"][str(seed)] for seed in seeds], dtype=np.float64)
    return Scores(seeds, nll, np.array(per_document["n_bytes"], dtype=np.float64)).part(per_document["part"], part)


def candidates_of(variants: dict[str, Any]) -> list[str]:
    """The recipe variants the best is chosen from (raw and the oracle are references, not candidates)."""
    return [name for name in variants if name not in (BASELINE, "oracle")]


def selected_variant(variants: dict[str, dict[str, Any]]) -> str | None:
    """The recipe variant with the lowest validation bpb."""
    return min(candidates_of(variants), key=lambda name: variants[name]["validation_bpb"], default=None)


def selection_comparison(proxy: str, evaluations: dict[str, dict[str, Any]], selected: str | None,
                         confidence: float) -> dict[str, Any] | None:
    """The selected variant against raw on test with the interval adjusted for the choice among the
    candidates, for a seed-dependent proxy: validation and test are scored by the same models, so a
    variant chosen for a lucky training run keeps its luck on test (calibration.selection_rates)."""
    candidates = candidates_of(evaluations)
    if selected is None or BASELINE not in evaluations or is_deterministic(proxy) or len(candidates) < 2:
        return None
    scores = aligned({name: scores_of(evaluations[name]) for name in (selected, BASELINE)})
    adjusted = paired_comparison(selected, BASELINE, scores, selection_confidence(confidence, len(candidates)), proxy)
    return {**adjusted, "adjusted_for_choosing_among": len(candidates)}


def compare_variants(evaluations: dict[str, dict[str, Any]], proxy: str,
                     confidence: float) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Paired comparisons of every variant against raw and k_sigma, and oracle fractions, for one proxy,
    on the test part of the eval set."""
    splits = {json.dumps(evaluation["per_document"]["part"]) for evaluation in evaluations.values()}
    if len(splits) > 1:
        raise ValueError(f"{proxy}: the evaluations were split into validation and test differently; rerun them")
    scores = aligned({name: scores_of(evaluation) for name, evaluation in evaluations.items()})
    comparisons: dict[str, Any] = {}
    for reference in (BASELINE, SECOND_REFERENCE):
        if reference not in evaluations:
            continue
        for name in evaluations:
            if name in (BASELINE, reference):
                continue
            comparisons[f"{name}_vs_{reference}"] = paired_comparison(name, reference, scores, confidence, proxy)
    fractions = {}
    if "oracle" in evaluations and BASELINE in evaluations:
        for name in evaluations:
            fractions[name] = oracle_fraction(name, BASELINE, "oracle", scores, confidence, proxy)
    return comparisons, fractions


def proxy_verdict(proxy: str, variants: dict[str, dict[str, Any]], comparisons: dict[str, Any],
                  low_power: str | None, judges_cleaning: bool = True,
                  adjusted: dict[str, Any] | None = None) -> str:
    """One sentence per proxy: did the recipe variant validation selected beat raw on test, and could this
    proxy have seen it?

    On an eval set split from the pool the same numbers measure fit to the raw data, and say only that.
    """
    label = f"{proxy}" + (f" (low power: {low_power})" if low_power else "")
    best = selected_variant(variants)
    if best is None or BASELINE not in variants:
        return f"{label}: no comparison (the summary needs `raw` and at least one processed variant)."
    comparison = adjusted or comparisons[f"{best}_vs_{BASELINE}"]
    change = f"{comparison['relative_percent']:+.2f} % test bpb vs raw"
    if comparison["significant"] is not None:
        low, high = comparison["relative_ci_percent"]
        change += f", {comparison['confidence']:.0%} CI [{low:+.2f}, {high:+.2f}]"
        if adjusted:
            change += f" (adjusted for choosing 1 of {adjusted['adjusted_for_choosing_among']} variants)"
        change += f", minimum detectable effect (80 % power) {comparison['mde_percent']:.2f} %"
    if not judges_cleaning:
        return (f"{label}: fit to the raw pool, not a verdict on cleaning: the variant closest to the pool's own "
                f"distribution on validation is `{best}` ({change}).")
    chosen = f"`{best}`, selected on validation"
    if comparison["mean_difference"] >= 0:
        answer = f"{label}: No: the recipe variant selected on validation did not beat the raw data ({chosen}: {change})."
    elif comparison["significant"] is None:
        answer = f"{label}: No claim: {chosen} ({change}), but {comparison['no_claim']}."
    elif comparison["significant"]:
        answer = f"{label}: Yes: {chosen} ({change})."
    else:
        answer = f"{label}: Not shown: {chosen} ({change}), but the interval includes 0."
    oracle = comparisons.get(f"oracle_vs_{BASELINE}")
    fraction = variants[best].get("fraction_of_oracle_gain")
    if oracle:
        answer += f" The oracle (clean documents only) reaches {oracle['relative_percent']:+.2f} %"
        answer += f"; `{best}` gets {fraction_text(fraction, '.0%')} of that gain." if fraction else "."
    return answer


def low_power_reason(variants: dict[str, dict[str, Any]], max_seed_std: float, proxy: str) -> str | None:
    """Why a proxy cannot be trusted to rank the variants: its seed-to-seed spread, where too wide or unknown."""
    if any(len(variant["seeds"]) == 1 for variant in variants.values()) and not is_deterministic(proxy):
        return "one seed, so its seed-to-seed spread is unknown"
    spread = {name: evaluation["test_bpb_std"] for name, evaluation in variants.items()}
    worst = max(spread, key=spread.get)
    if spread[worst] > max_seed_std:
        return f"seed std up to {spread[worst]:.3f} bpb (`{worst}`) > {max_seed_std}"
    return None


def summarize_proxy(proxy: str, evaluations: dict[str, dict[str, Any]], args: argparse.Namespace,
                    judges_cleaning: bool = True) -> dict[str, Any]:
    comparisons, fractions = compare_variants(evaluations, proxy, args.confidence)
    variants = {}
    for name, evaluation in evaluations.items():
        variants[name] = {key: value for key, value in evaluation.items()
                          if key != "per_document" and key not in DATA_KEYS}
        if name in fractions:
            variants[name]["fraction_of_oracle_gain"] = fractions[name]
    low_power = low_power_reason(variants, args.max_seed_std, proxy)
    selected = selected_variant(variants)
    adjusted = selection_comparison(proxy, evaluations, selected, args.confidence)
    return {"variants": variants, "comparisons": comparisons, "low_power": low_power,
            "selected_on_validation": selected, "selected_vs_raw_adjusted": adjusted,
            "verdict": proxy_verdict(proxy, variants, comparisons, low_power, judges_cleaning, adjusted)}


def kendall_tau(first: dict[str, Any], second: dict[str, Any]) -> float | None:
    """Kendall tau of two proxies' rankings of their common variants by test bpb (None with fewer than 2)."""
    from scipy.stats import kendalltau

    names = sorted(set(first["variants"]) & set(second["variants"]))
    if len(names) < 2:
        return None
    tau = kendalltau([first["variants"][name]["test_bpb"] for name in names],
                     [second["variants"][name]["test_bpb"] for name in names]).statistic
    return None if np.isnan(tau) else float(tau)


def agreement(proxies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Do the proxies rank the variants alike, and agree in sign where both resolve a difference?"""
    taus = {f"{first}~{second}": kendall_tau(proxies[first], proxies[second])
            for first, second in itertools.combinations(proxies, 2)}
    per_comparison = {}
    names = sorted(set().union(*(result["comparisons"] for result in proxies.values())))
    for name in names:
        signs = {proxy: ("-" if result["comparisons"][name]["mean_difference"] < 0 else "+")
                 for proxy, result in proxies.items()
                 if name in result["comparisons"] and result["comparisons"][name]["significant"]}
        status = "inconclusive" if len(signs) < 2 else ("agree" if len(set(signs.values())) == 1 else "disagree")
        per_comparison[name] = {"resolved_by": signs, "status": status}
    disagreements = [name for name, entry in per_comparison.items() if entry["status"] == "disagree"]
    return {"kendall_tau": taus, "comparisons": per_comparison, "disagree": bool(disagreements),
            "line": agreement_line(proxies, taus, per_comparison, disagreements)}


def agreement_line(proxies: dict[str, Any], taus: dict[str, float | None], per_comparison: dict[str, Any],
                   disagreements: list[str]) -> str:
    if len(proxies) < 2:
        return f"Agreement: one proxy ({next(iter(proxies))}), nothing to compare it with."
    rank = ", ".join(f"Kendall τ {pair} = {tau:+.2f}" if tau is not None else f"Kendall τ {pair}: undefined"
                     for pair, tau in taus.items())
    agreed = [name for name, entry in per_comparison.items() if entry["status"] == "agree"]
    if disagreements:
        return (f"Proxies DISAGREE in sign on {', '.join(disagreements)} (both intervals exclude 0); {rank}. "
                "Trust neither verdict until a stronger proxy settles it.")
    return (f"Agreement: {rank}; {len(agreed)} comparison(s) resolved by two or more proxies, all with the same "
            f"sign; {len(per_comparison) - len(agreed)} resolved by fewer.")


def read_thresholds(path: Path | None) -> list[dict[str, str]]:
    if path is None:
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


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


def interval_cell(comparison: dict[str, Any] | None) -> str:
    if comparison is None:
        return "–"
    if comparison["significant"] is None:
        return f"{comparison['relative_percent']:+.2f} % (one seed: no interval)"
    low, high = comparison["relative_ci_percent"]
    mark = " ✓" if comparison["significant"] else ""
    return f"{comparison['relative_percent']:+.2f} % [{low:+.2f}, {high:+.2f}]{mark}"


def mde_cell(comparison: dict[str, Any] | None) -> str:
    if comparison is None or comparison["mde_percent"] is None:
        return "–"
    return f"{comparison['mde_percent']:.2f} %"


def fraction_text(fraction: dict[str, Any], spec: str) -> str:
    """'0.52 [0.40, 0.63]', the interval left out where one seed gives none."""
    if fraction["ci_low"] is None:
        return f"{fraction['value']:{spec}}"
    return f"{fraction['value']:{spec}} [{fraction['ci_low']:{spec}}, {fraction['ci_high']:{spec}}]"


def fraction_cell(fraction: dict[str, Any] | None) -> str:
    return fraction_text(fraction, ".2f") if fraction else "–"


def proxy_heading(proxy: str, result: dict[str, Any], judges_cleaning: bool) -> str:
    """The proxy's table heading, saying what its numbers measure."""
    heading = f"## Proxy `{proxy}`" + (" (low power)" if result["low_power"] else "")
    if not judges_cleaning:
        heading += ": fit to the raw pool (eval set split from the pool; not a verdict on cleaning)"
    return heading


def proxy_markdown(proxy: str, result: dict[str, Any], judges_cleaning: bool = True) -> list[str]:
    comparisons = result["comparisons"]
    lines = ["", proxy_heading(proxy, result, judges_cleaning), "",
             "| variant | validation bpb | test bpb (mean ± seed std) | seeds | vs raw (CI) "
             "| minimum detectable effect (80 % power) | vs k_sigma (CI) | fraction of oracle gain |",
             "|---|---|---|---|---|---|---|---|"]
    for name, variant in result["variants"].items():
        versus_raw = comparisons.get(f"{name}_vs_{BASELINE}")
        selected = " (selected)" if name == result.get("selected_on_validation") else ""
        lines.append(
            f"| {name}{selected} | {variant['validation_bpb']:.4f} "
            f"| {variant['test_bpb']:.4f} ± {variant['test_bpb_std']:.4f} | {len(variant['seeds'])} "
            f"| {'baseline' if name == BASELINE else interval_cell(versus_raw)} "
            f"| {mde_cell(versus_raw)} "
            f"| {interval_cell(comparisons.get(f'{name}_vs_{SECOND_REFERENCE}'))} "
            f"| {fraction_cell(variant.get('fraction_of_oracle_gain'))} |"
        )
    if result["low_power"]:
        lines += ["", f"Low power: {result['low_power']}; its verdict can flip with the seed."]
    return lines


def byte_count(value: float | None) -> str:
    """Bytes with three significant digits and a unit (kB, MB, GB: powers of 1000)."""
    if value is None:
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def exposure_cell(evaluation: dict[str, Any] | None) -> str:
    """A proxy's distinct training bytes and epochs on a variant, e.g. "1.04 MB × 1.00"."""
    if evaluation is None or evaluation.get("train_distinct_bytes") is None:
        return "–"
    return f"{byte_count(evaluation['train_distinct_bytes'])} × {fmt(evaluation.get('train_epochs'), 2)}"


def data_markdown(variants: dict[str, dict[str, Any]], proxies: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The data table (documents, kept fraction, noise removal, and what each proxy trained on),
    then the documents removed per operator of each processed variant."""
    proxies = proxies or {}
    header = "| variant | documents | kept fraction | noise precision | noise recall |"
    header += "".join(f" `{proxy}`: distinct bytes × epochs |" for proxy in proxies)
    lines = ["", "## Data", "", header, "|---|---|---|---|---|" + "---|" * len(proxies)]
    for name, variant in variants.items():
        noise = variant.get("noise_removal", {})
        trained = "".join(f" {exposure_cell(result['variants'].get(name))} |" for result in proxies.values())
        lines.append(f"| {name} | {fmt(variant.get('docs'))} | {variant['kept_fraction']:.3f} "
                     f"| {fmt(noise.get('precision'), 3)} | {fmt(noise.get('recall'), 3)} |{trained}")
    if proxies:
        lines += ["", "Distinct bytes × epochs: how much of the variant each proxy's models trained on and how "
                  "often (mean over seeds), on the same budget. A variant smaller than the budget is used "
                  "whole: once by the n-gram, for more than one epoch by the neural rungs; so a variant that "
                  "scores worse with fewer distinct bytes may have less data rather than worse data."]
    if not any(variant.get("origin_tags") for variant in variants.values()):
        lines += ["", NO_TAGS_NOTE]
    for name, variant in variants.items():
        if not variant.get("removed_by_op"):
            continue
        lines += ["", f"## `{name}`: documents removed per operator", "",
                  "| operator | removed | precision (noise share) | by origin |", "|---|---|---|---|"]
        for op, entry in variant["removed_by_op"].items():
            origins = ", ".join(f"{origin}: {count}" for origin, count in entry.get("by_origin", {}).items())
            lines.append(f"| {op} | {entry['removed']} | {fmt(entry.get('precision'), 3)} | {origins or '–'} |")
        recall_per_kind = variant.get("noise_removal", {}).get("recall_per_kind")
        if recall_per_kind:
            kinds = ", ".join(f"{kind}: {share:.2f}" for kind, share in recall_per_kind.items())
            lines += ["", f"Recall per noise kind: {kinds}"]
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
                 f"{trusted['eval_docs']} for eval and {trusted['reference_docs']} for the feedback reference")
        if trusted.get("reference_near_duplicates_of_eval_dropped"):
            line += (f" ({trusted['reference_near_duplicates_of_eval_dropped']} more left out of the reference as "
                     "near-duplicates of eval documents)")
    line += f". Pool: {eval_set['pool_docs']} documents."
    exact = eval_set["pool_duplicates_of_eval_dropped"]
    near = eval_set.get("pool_near_duplicates_of_eval_dropped", 0)
    if exact or near:
        line += (f" Left out of the pool as leakage: {exact} exact duplicates of eval documents (after "
                 f"normalisation) and {near} near-duplicates (a shared run of {eval_set['decontamination_words']} "
                 f"words); first: \"{' '.join(eval_set['duplicate_examples'][0].split())[:100]}…\"")
    return ["", line]


def eval_split_markdown(split: dict[str, Any] | None) -> list[str]:
    """How the eval set was split, and which part each number comes from."""
    if not split:
        return []
    return ["", f"Validation and test: the eval set is split by a stable hash of each text into {split['validation']} "
            f"validation documents, on which the best variant is selected, and {split['test']} test documents, on "
            "which every number below is computed (the validation column excepted), so no reported number was "
            "also used to choose."]


def markdown(summary: dict[str, Any], thresholds: list[dict[str, str]], near: list[dict[str, Any]]) -> str:
    verdict = summary["verdict"]
    judges_cleaning = verdict["status"] != NO_CLEAN_EVAL
    lines = [f"# recipe-sandbox summary: {summary['experiment']}", ""]
    if summary.get("provisional"):
        lines += [f"> {summary['provisional']}", ""]
    lines += [f"**{line}**" if index == 0 else line for index, line in enumerate(verdict["text"].splitlines())]
    lines += [f"\n> **Warning**: {warning}" for warning in summary.get("warnings", [])]
    lines += eval_set_markdown(summary.get("eval_set"))
    lines += eval_split_markdown(summary.get("eval_split"))
    lines += ["", "Intervals are paired intervals over test documents and seeds (Student t, Welch-Satterthwaite "
              "df; ✓: excludes 0); the minimum detectable effect (80 % power) is the true difference they find "
              "4 times in 5. One seed of a seed-dependent proxy gets no interval. Lower bpb is better."]
    for proxy, result in summary["proxies"].items():
        lines += proxy_markdown(proxy, result, judges_cleaning)
    lines += data_markdown(summary["variants"], summary["proxies"])
    if thresholds:
        lines += ["", f"## k-sigma thresholds (k = {summary.get('k')})", "",
                  "| operator | argument | stat | mean | std | old | new |", "|---|---|---|---|---|---|---|"]
        for row in thresholds:
            clamp = " (clamped)" if row["clamped"] == "True" else ""
            lines.append(f"| {row['op_name']} | {row['arg']} | {row['stat']} | {float(row['mean']):.4g} "
                         f"| {float(row['std']):.4g} | {short(row['old'])} | {short(row['new'])}{clamp} |")
    lines += near_threshold_markdown(near)
    if "datamodels" in summary:
        lines += datamodels_markdown(summary["datamodels"])
    provenance = summary.get("provenance")
    if provenance:
        lines += ["", f"Provenance: `{provenance['path']}` (sha256 {provenance['sha256'][:16]}…): code version, "
                  "input hashes, library versions and metric definitions behind these numbers."]
    return "\n".join(lines) + "\n"


DATAMODEL_ROWS = 10


def datamodels_block(path: Path, group_by: str) -> dict[str, Any]:
    """The datamodels' ranked effects and LDS, as the main summary reports them."""
    fit = json.loads(path.read_text(encoding="utf-8"))
    return {"path": str(path), "sha256": sha256_of_file(path), "group_by": group_by,
            "models": fit["models"], "lds": fit["lds"], "mean_bpb": fit["mean_bpb"],
            "confidence": fit["bootstrap"]["confidence"], "groups": fit["groups"]}


def datamodels_markdown(block: dict[str, Any]) -> list[str]:
    """'Which operators/sources matter': effects ranked (most helpful first), intervals and LDS."""
    kind = {"ops": "operators", "document": "documents"}.get(block["group_by"], f"values of {block['group_by']}")
    lds = block["lds"]
    lines = ["", f"## Which {kind} matter (linear datamodels)", "",
             f"{block['models']['total']} n-gram proxies, each trained on a random subset of the groups. "
             f"Effect: held-out bpb a group adds when included (negative: it makes better data), with "
             f"{block['confidence']:.0%} bootstrap intervals. LDS (how well the linear model predicts "
             f"held-out subsets): per eval document {fmt(lds['documents'], 3)}, whole-eval bpb "
             f"{fmt(lds['mean_bpb'], 3)}.", "",
             "| rank | group | effect (bpb) | interval | effect (%) | resolved |", "|---|---|---|---|---|---|"]
    groups = block["groups"]
    for rank, group in enumerate(groups[:DATAMODEL_ROWS], start=1):
        low, high = group["interval"]
        lines.append(f"| {rank} | {group['group']} | {group['effect_bpb']:+.5f} | [{low:+.5f}, {high:+.5f}] "
                     f"| {group['effect_percent']:+.2f} % | {'yes' if group['resolved'] else 'no'} |")
    more = f"{len(groups) - DATAMODEL_ROWS} more groups and the" if len(groups) > DATAMODEL_ROWS else "The"
    lines += ["", f"{more} method: `{Path(block['path']).with_suffix('.md')}`."]
    return lines


def eval_set_warnings(eval_path: Path | None) -> list[str]:
    """Warnings about the held-out set itself: noise-tagged documents in it turn the verdict around."""
    if eval_path is None:
        return []
    origins = [origin_of(record) for _, record in iter_jsonl(eval_path)]
    noisy = sum(1 for origin in origins if origin is not None and is_noise(origin))
    if not noisy:
        return []
    return [f"{noisy} of {len(origins)} eval documents ({eval_path}) are tagged noise (meta.origin): a model "
            "taught less noise scores that noise worse, so removing noise can look like harm here. This happens "
            "when the eval set is held out from a noisy pool (no eval_path). Fix: set eval_path to a clean "
            "held-out sample of the text the model should be good at."]


def verdict_lines(proxies: dict[str, dict[str, Any]], agreement_result: dict[str, Any]) -> str:
    """The summary's opening: a disagreement first when there is one, then each proxy's verdict."""
    lines = [result["verdict"] for result in proxies.values()]
    if agreement_result["disagree"]:
        return "\n".join([agreement_result["line"], *lines])
    return "\n".join([*lines, agreement_result["line"]])


def verdict_block(proxies: dict[str, dict[str, Any]], agreement_result: dict[str, Any],
                  judges_cleaning: bool) -> dict[str, Any]:
    """summary.json's verdict: its status, and the text that opens summary.md.

    On an eval set split from the pool the text opens with why no verdict can be drawn and the fix.
    """
    text = verdict_lines(proxies, agreement_result)
    if judges_cleaning:
        return {"status": "ok", "text": text}
    return {"status": NO_CLEAN_EVAL, "reason": NO_CLEAN_EVAL_REASON, "fix": NO_CLEAN_EVAL_FIX,
            "text": no_clean_eval_message() + "\n" + text}


def eval_split_counts(evaluations: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Documents in each part of the eval split, from one proxy's evaluations."""
    labels = next(iter(evaluations.values()))["per_document"]["part"]
    return {part: labels.count(part) for part in ("validation", TEST)}


def read_evaluations(paths: list[Path]) -> dict[str, dict[str, dict[str, Any]]]:
    """proxy -> variant -> the eval/<proxy>/<variant>.json it came from."""
    evaluations: dict[str, dict[str, dict[str, Any]]] = {}
    for path in paths:
        evaluation = json.loads(path.read_text(encoding="utf-8"))
        evaluations.setdefault(evaluation["proxy"], {})[evaluation["variant"]] = evaluation
    return evaluations


def main() -> None:
    args = parse_args()
    evaluations = read_evaluations(args.evaluations)
    eval_set = json.loads(args.eval_set.read_text(encoding="utf-8")) if args.eval_set else None
    judges_cleaning = eval_set is None or eval_set["judges_cleaning"]
    proxies = {proxy: summarize_proxy(proxy, by_variant, args, judges_cleaning)
               for proxy, by_variant in evaluations.items()}
    first_proxy = next(iter(evaluations.values()))
    agreement_result = agreement(proxies)
    summary: dict[str, Any] = {
        "experiment": args.experiment,
        "metric": "test_bpb (heldout_bpb on the test part of the eval set; lower is better), per proxy",
        "eval_split": eval_split_counts(first_proxy),
        "verdict": verdict_block(proxies, agreement_result, judges_cleaning),
        "proxies": proxies,
        "agreement": agreement_result,
        "warnings": eval_set_warnings(args.eval),
        "eval_set": eval_set,
        "variants": {name: {key: evaluation[key] for key in DATA_KEYS if key in evaluation}
                     for name, evaluation in first_proxy.items()},
    }
    if args.k is not None:
        summary["k"] = args.k
    if args.datamodels is not None:
        summary["datamodels"] = datamodels_block(args.datamodels, args.datamodels_group_by)
    if args.provenance is None:
        summary["provisional"] = (f"Early verdict of the {', '.join(proxies)} proxy alone, written as soon as its "
                                  "models were scored; summary.md adds the other proxies, their agreement, the "
                                  "datamodels and the provenance.")
    else:
        summary["provenance"] = {"path": str(args.provenance), "sha256": sha256_of_file(args.provenance)}
    args.out_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    near = [json.loads(path.read_text(encoding="utf-8")) for path in args.near_threshold]
    args.out_md.write_text(markdown(summary, read_thresholds(args.thresholds), near), encoding="utf-8")
    print(summary["verdict"]["text"])
    # The last line is what the rule shows on the console: the verdict's first line and where it is.
    print(f"Verdict ({args.out_md}): {summary['verdict']['text'].splitlines()[0]}")


if __name__ == "__main__":
    run_main(main)
