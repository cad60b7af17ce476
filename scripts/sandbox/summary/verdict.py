"""The verdict statistics: every variant against raw (and k_sigma) by a paired comparison over
per-document held-out scores and seeds, under each proxy, and how far the proxies agree. The eval set
has two parts (split_eval.py): the best variant is chosen on validation, and every number reported
(bpb, intervals, oracle fraction, agreement) is computed on test.

build_summary assembles summary.json: {"proxies": {proxy: {"variants", "comparisons", "verdict"}},
"variants", "agreement", ...}; sandbox.summary.markdown renders it as summary.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.data.eval_set import (
    NO_CLEAN_EVAL,
    NO_CLEAN_EVAL_FIX,
    NO_CLEAN_EVAL_REASON,
    TEST,
    no_clean_eval_message,
)
from sandbox.downstream.summary import bpb_sign, downstream_block, downstream_rungs
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.origin import is_noise, origin_of
from sandbox.proxies.registry import is_deterministic
from sandbox.stats.bootstrap import Scores, aligned, oracle_fraction, paired_comparison, selection_confidence
from sandbox.stats.power import seeds_config_line, seeds_to_detect
from sandbox.summary.tables import byte_count, fraction_text
from sandbox.workflow.variants import ORACLE, RAW, REFERENCES, comparison_key

# An evaluation's data metrics (sandbox.summary.metrics), the same under every proxy: summary.json keeps
# them once, under "variants", not per proxy.
# An oracle with less than this share of the selected variant's training text is called smaller: within
# 2 % the two budgets are the same for the comparison.
ORACLE_SHORTFALL = 0.98
DATA_KEYS = ("docs", "kept_fraction", "origin_tags", "noise_removal", "removed_by_op", "quality")


def sha256_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scores_of(evaluation: dict[str, Any], part: str = TEST) -> Scores:
    """The per-document scores an eval file carries on one part of the eval split, as comparison input."""
    per_document = evaluation["per_document"]
    seeds = tuple(sorted(int(seed) for seed in per_document["nll_bits"]))
    nll = np.array([per_document["nll_bits"][str(seed)] for seed in seeds], dtype=np.float64)
    n_bytes = np.array(per_document["n_bytes"], dtype=np.float64)
    return Scores(seeds, nll, n_bytes).part(per_document["part"], part)


def candidates_of(variants: dict[str, Any]) -> list[str]:
    """The recipe variants the best is chosen from (raw and the oracle are references, not candidates)."""
    return [name for name in variants if name not in (RAW, ORACLE)]


def selected_variant(variants: dict[str, dict[str, Any]]) -> str | None:
    """The recipe variant with the lowest validation bpb."""
    return min(candidates_of(variants), key=lambda name: variants[name]["validation_bpb"], default=None)


def selection_comparison(proxy: str, evaluations: dict[str, dict[str, Any]], selected: str | None,
                         confidence: float) -> dict[str, Any] | None:
    """The selected variant against raw on test with the interval adjusted for the choice among the
    candidates, for a seed-dependent proxy: validation and test are scored by the same models, so a
    variant chosen for a lucky training run keeps its luck on test (calibration.selection_rates)."""
    candidates = candidates_of(evaluations)
    if selected is None or RAW not in evaluations or is_deterministic(proxy) or len(candidates) < 2:
        return None
    scores = aligned({name: scores_of(evaluations[name]) for name in (selected, RAW)})
    adjusted_confidence = selection_confidence(confidence, len(candidates))
    adjusted = paired_comparison(selected, RAW, scores, adjusted_confidence, proxy)
    return {**adjusted, "adjusted_for_choosing_among": len(candidates)}


def compare_variants(evaluations: dict[str, dict[str, Any]], proxy: str,
                     confidence: float) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Paired comparisons of every variant against raw and k_sigma, and oracle fractions, for one proxy,
    on the test part of the eval set."""
    splits = {json.dumps(evaluation["per_document"]["part"]) for evaluation in evaluations.values()}
    if len(splits) > 1:
        raise ValueError(f"{proxy}: the evaluations were split into validation and test differently; "
                         "rerun them")
    scores = aligned({name: scores_of(evaluation) for name, evaluation in evaluations.items()})
    comparisons: dict[str, Any] = {}
    for reference in REFERENCES:
        if reference not in evaluations:
            continue
        for name in evaluations:
            if name in (RAW, reference):
                continue
            comparison = paired_comparison(name, reference, scores, confidence, proxy)
            comparisons[comparison_key(name, reference)] = comparison
    fractions = {}
    if ORACLE in evaluations and RAW in evaluations:
        for name in evaluations:
            fractions[name] = oracle_fraction(name, RAW, ORACLE, scores, confidence, proxy)
    return comparisons, fractions


def proxy_design(proxy: str, variants: dict[str, dict[str, Any]], entry: dict[str, Any] | None,
                 ngram_budget: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a proxy's power rests on: its budget per model and its seed count, and where each comes from
    (entry: sandbox.proxies.budget.design's; ngram_budget: models/ngram/budget.json)."""
    entry = entry or {}
    budgets = [variant["train_tokens"] for variant in variants.values() if variant.get("train_tokens")]
    why = entry.get("budget_source", "")
    if ngram_budget is not None and proxy == "ngram":
        why = ngram_budget["why"]
    section = entry.get("seeds_section")
    return {"budget_bytes": max(budgets) if budgets else None, "budget_why": why,
            "seeds": max((len(variant["seeds"]) for variant in variants.values()), default=0),
            "seeds_from": f"{section}.seeds" if section else "seeds", "seeds_section": section}


def design_line(proxies: dict[str, dict[str, Any]]) -> str:
    """The verdict header's line on each proxy's budget and seeds, and why."""
    parts = []
    for proxy, result in proxies.items():
        design = result["design"]
        why = f" ({design['budget_why']})" if design["budget_why"] else ""
        parts.append(f"{proxy} {byte_count(design['budget_bytes'])} a model{why}, {design['seeds']} seeds "
                     f"({design['seeds_from']})")
    return "Budgets and seeds: " + "; ".join(parts) + "."


def resolution(comparison: dict[str, Any], design: dict[str, Any] | None) -> str:
    """For a comparison that was not shown: the seed count at which its minimum detectable effect would
    reach the effect observed, and the config line; or why seeds cannot (sandbox.stats.power)."""
    projection = seeds_to_detect(comparison)
    if projection is None:
        return ""
    if projection["seeds"] is None:
        return (" More seeds would not resolve it: the eval documents alone put the minimum detectable "
                f"effect at {projection['documents_floor_percent']:.2f} %; more eval documents would.")
    section = (design or {}).get("seeds_section")
    # projected from this run's own seed spread, an estimate on n_seeds - 1 df: from 3 seeds it scatters
    # about twofold (tests/unit/test_calibration.py), hence "about"
    return (f" With about {projection['seeds']} seeds (projected from the seed spread of this run's "
            f"{comparison['n_seeds']}) the minimum detectable effect would reach the effect observed here: "
            f"`{seeds_config_line(section, projection['seeds'])}`.")


def proxy_verdict(proxy: str, variants: dict[str, dict[str, Any]], comparisons: dict[str, Any],
                  low_power: str | None, judges_cleaning: bool = True,
                  adjusted: dict[str, Any] | None = None, design: dict[str, Any] | None = None) -> str:
    """One sentence per proxy: did the recipe variant validation selected beat raw on test, and could this
    proxy have seen it?

    On an eval set split from the pool the same numbers measure fit to the raw data, and say only that.
    """
    label = f"{proxy}" + (f" (low power: {low_power})" if low_power else "")
    best = selected_variant(variants)
    if best is None or RAW not in variants:
        return f"{label}: no comparison (the summary needs `{RAW}` and at least one processed variant)."
    comparison = adjusted or comparisons[comparison_key(best, RAW)]
    change = f"{comparison['relative_percent']:+.2f} % test bpb vs {RAW}"
    if comparison["significant"] is not None:
        low, high = comparison["relative_ci_percent"]
        change += f", {comparison['confidence']:.0%} CI [{low:+.2f}, {high:+.2f}]"
        if adjusted:
            change += f" (adjusted for choosing 1 of {adjusted['adjusted_for_choosing_among']} variants)"
        change += f", minimum detectable effect (80 % power) {comparison['mde_percent']:.2f} %"
    if not judges_cleaning:
        return (f"{label}: fit to the raw pool, not a verdict on cleaning: the variant closest to the pool's "
                f"own distribution on validation is `{best}` ({change}).")
    chosen = f"`{best}`, selected on validation"
    if comparison["mean_difference"] >= 0:
        answer = (f"{label}: No: the recipe variant selected on validation did not beat the raw data "
                  f"({chosen}: {change}).")
    elif comparison["significant"] is None:
        answer = f"{label}: No claim: {chosen} ({change}), but {comparison['no_claim']}."
    elif comparison["significant"]:
        answer = f"{label}: Yes: {chosen} ({change})."
    else:
        answer = f"{label}: Not shown: {chosen} ({change}), but the interval includes 0."
        answer += resolution(comparison, design)
    oracle = comparisons.get(comparison_key(ORACLE, RAW))
    fraction = variants[best].get("fraction_of_oracle_gain")
    if oracle:
        answer += f" The oracle (clean documents only) reaches {oracle['relative_percent']:+.2f} %"
        answer += f"; `{best}` gets {fraction_text(fraction, '.0%')} of that gain." if fraction else "."
        answer += oracle_shortfall(variants, best)
    return answer


def oracle_shortfall(variants: dict[str, dict[str, Any]], best: str) -> str:
    """Where the oracle's clean text is smaller than what the selected variant trained on, its gain is
    not a ceiling at this budget (a data-sized budget that excludes the oracle makes this common on a
    real pool): say so, with both sizes."""
    oracle_bytes = variants.get(ORACLE, {}).get("train_distinct_bytes")
    best_bytes = variants.get(best, {}).get("train_distinct_bytes")
    if not oracle_bytes or not best_bytes or oracle_bytes >= ORACLE_SHORTFALL * best_bytes:
        return ""
    return (f" The oracle trained on {byte_count(oracle_bytes)}, all the clean text there is, against "
            f"{byte_count(best_bytes)} for `{best}`: with less data its gain is not a ceiling here.")


def low_power_reason(variants: dict[str, dict[str, Any]], max_seed_std: float, proxy: str) -> str | None:
    """Why a proxy cannot be trusted to rank the variants: its seed-to-seed spread, where too wide or
    unknown."""
    if any(len(variant["seeds"]) == 1 for variant in variants.values()) and not is_deterministic(proxy):
        return "one seed, so its seed-to-seed spread is unknown"
    spread = {name: evaluation["test_bpb_std"] for name, evaluation in variants.items()}
    worst = max(spread, key=spread.get)
    if spread[worst] > max_seed_std:
        return f"seed std up to {spread[worst]:.3f} bpb (`{worst}`) > {max_seed_std}"
    return None


def summarize_proxy(proxy: str, evaluations: dict[str, dict[str, Any]], confidence: float,
                    max_seed_std: float, judges_cleaning: bool = True,
                    design_entry: dict[str, Any] | None = None,
                    ngram_budget: dict[str, Any] | None = None) -> dict[str, Any]:
    """One proxy's part of summary.json: its variants' bpb, comparisons, selection and verdict."""
    comparisons, fractions = compare_variants(evaluations, proxy, confidence)
    variants = {}
    for name, evaluation in evaluations.items():
        variants[name] = {key: value for key, value in evaluation.items()
                          if key != "per_document" and key not in DATA_KEYS}
        if name in fractions:
            variants[name]["fraction_of_oracle_gain"] = fractions[name]
    low_power = low_power_reason(variants, max_seed_std, proxy)
    selected = selected_variant(variants)
    adjusted = selection_comparison(proxy, evaluations, selected, confidence)
    design = proxy_design(proxy, variants, design_entry, ngram_budget)
    return {"variants": variants, "comparisons": comparisons, "low_power": low_power,
            "selected_on_validation": selected, "selected_vs_raw_adjusted": adjusted, "design": design,
            "verdict": proxy_verdict(proxy, variants, comparisons, low_power, judges_cleaning, adjusted,
                                     design)}


def kendall_tau(first: dict[str, Any], second: dict[str, Any]) -> float | None:
    """Kendall tau of two proxies' rankings of their common variants by test bpb (None with fewer than 2)."""
    from scipy.stats import kendalltau

    names = sorted(set(first["variants"]) & set(second["variants"]))
    if len(names) < 2:
        return None
    tau = kendalltau([first["variants"][name]["test_bpb"] for name in names],
                     [second["variants"][name]["test_bpb"] for name in names]).statistic
    return None if np.isnan(tau) else float(tau)


def resolved_signs(name: str, rungs: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
    """Each rung that resolves comparison `name` (its interval excludes 0), with the sign of the
    difference in held-out bpb's sense ('-': the variant did better)."""
    return {rung: bpb_sign(comparisons[name]) for rung, comparisons in rungs.items()
            if name in comparisons and comparisons[name]["significant"]}


def agreement(proxies: dict[str, dict[str, Any]],
              downstream: dict[str, dict[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Do the proxies rank the variants alike, and agree in sign where two rungs resolve a difference?
    The rungs are the proxies' held-out bpb and, with downstream tasks, each task metric under each
    proxy ("<proxy>/<task>/<metric>", sandbox.downstream.summary.downstream_rungs)."""
    taus = {f"{first}~{second}": kendall_tau(proxies[first], proxies[second])
            for first, second in itertools.combinations(proxies, 2)}
    rungs = {proxy: result["comparisons"] for proxy, result in proxies.items()} | (downstream or {})
    per_comparison = {}
    names = sorted(set().union(*(result["comparisons"] for result in proxies.values())))
    for name in names:
        signs = resolved_signs(name, rungs)
        per_comparison[name] = {"resolved_by": signs, "status": sign_status(signs)}
    disagreements = [name for name, entry in per_comparison.items() if entry["status"] == "disagree"]
    return {"kendall_tau": taus, "comparisons": per_comparison, "disagree": bool(disagreements),
            "downstream_rungs": sorted(downstream or {}),
            "line": agreement_line(proxies, taus, per_comparison, disagreements, bool(downstream))}


def sign_status(signs: dict[str, str]) -> str:
    """Whether the proxies that resolve a comparison agree on its sign (two are needed to say)."""
    if len(signs) < 2:
        return "inconclusive"
    return "agree" if len(set(signs.values())) == 1 else "disagree"


def agreement_line(proxies: dict[str, Any], taus: dict[str, float | None], per_comparison: dict[str, Any],
                   disagreements: list[str], downstream: bool = False) -> str:
    """The agreement in one sentence: a disagreement in sign first, else the rank correlations."""
    if len(proxies) < 2 and not downstream:
        return f"Agreement: one proxy ({next(iter(proxies))}), nothing to compare it with."
    rank = ", ".join(f"Kendall τ {pair} = {tau:+.2f}" if tau is not None else f"Kendall τ {pair}: undefined"
                     for pair, tau in taus.items()) or f"one proxy ({next(iter(proxies))})"
    agreed = [name for name, entry in per_comparison.items() if entry["status"] == "agree"]
    if disagreements:
        if downstream:
            signs = "; ".join(f"{name}: " + ", ".join(f"{rung} {sign}" for rung, sign in
                                                      per_comparison[name]["resolved_by"].items())
                              for name in disagreements)
            return (f"Rungs DISAGREE in sign on {', '.join(disagreements)} (held-out bpb and downstream "
                    f"metrics whose intervals exclude 0, '-' = better: {signs}); {rank}. Trust no verdict "
                    "on those comparisons until a stronger rung settles it.")
        return (f"Proxies DISAGREE in sign on {', '.join(disagreements)} (both intervals exclude 0); {rank}. "
                "Trust neither verdict until a stronger proxy settles it.")
    rungs = "rungs (held-out bpb and downstream metrics)" if downstream else "proxies"
    return (f"Agreement: {rank}; {len(agreed)} comparison(s) resolved by two or more {rungs}, all with the "
            f"same sign; {len(per_comparison) - len(agreed)} resolved by fewer.")


def verdict_lines(proxies: dict[str, dict[str, Any]], agreement_result: dict[str, Any],
                  downstream: dict[str, Any] | None = None) -> str:
    """The summary's opening: a disagreement first when there is one, then each proxy's verdict and
    each downstream task's under each proxy."""
    lines = [result["verdict"] for result in proxies.values()]
    lines += [design_line(proxies)] if all("design" in result for result in proxies.values()) else []
    lines += [result["verdict"] for entry in (downstream or {}).values()
              for result in entry["proxies"].values() if "verdict" in result]
    if agreement_result["disagree"]:
        return "\n".join([agreement_result["line"], *lines])
    return "\n".join([*lines, agreement_result["line"]])


def verdict_block(proxies: dict[str, dict[str, Any]], agreement_result: dict[str, Any],
                  judges_cleaning: bool, downstream: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json's verdict: its status, and the text that opens summary.md.

    On an eval set split from the pool the text opens with why no verdict can be drawn and the fix.
    """
    text = verdict_lines(proxies, agreement_result, downstream)
    if judges_cleaning:
        return {"status": "ok", "text": text}
    return {"status": NO_CLEAN_EVAL, "reason": NO_CLEAN_EVAL_REASON, "fix": NO_CLEAN_EVAL_FIX,
            "text": no_clean_eval_message() + "\n" + text}


def eval_set_warnings(eval_path: Path | None) -> list[str]:
    """Warnings about the held-out set itself: noise-tagged documents in it turn the verdict around."""
    if eval_path is None:
        return []
    origins = [origin_of(record) for _, record in iter_jsonl(eval_path)]
    noisy = sum(1 for origin in origins if origin is not None and is_noise(origin))
    if not noisy:
        return []
    return [f"{noisy} of {len(origins)} eval documents ({eval_path}) are tagged noise (meta.origin): a model "
            "taught less noise scores that noise worse, so removing noise can look like harm here. This "
            "happens when the eval set is held out from a noisy pool (no eval_path). Fix: set eval_path to a "
            "clean held-out sample of the text the model should be good at."]


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


def datamodels_block(path: Path, group_by: str) -> dict[str, Any]:
    """The datamodels' ranked effects and LDS, as the main summary reports them."""
    fit = json.loads(path.read_text(encoding="utf-8"))
    return {"path": str(path), "sha256": sha256_of_file(path), "group_by": group_by,
            "models": fit["models"], "lds": fit["lds"], "mean_bpb": fit["mean_bpb"],
            "confidence": fit["bootstrap"]["confidence"], "groups": fit["groups"]}


def build_summary(experiment: str, evaluations: dict[str, dict[str, dict[str, Any]]], confidence: float,
                  max_seed_std: float, eval_set: dict[str, Any] | None = None, eval_path: Path | None = None,
                  k: float | None = None, datamodels: tuple[Path, str] | None = None,
                  provenance: Path | None = None, downstream: list[Path] | None = None,
                  feedback: dict[str, dict[str, Any]] | None = None,
                  design: dict[str, dict[str, Any]] | None = None,
                  ngram_budget: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json from the evaluations (read_evaluations); eval_set is data/eval_set.json, eval_path the
    working eval set (its origin tags are checked), datamodels the fit's summary.json and what its groups
    are, downstream the downstream jobs' results.json files, feedback each method's
    recipes/feedback_<method>.json (its filter and cost), design where each proxy's budget and seeds come
    from (sandbox.proxies.budget.design) and ngram_budget models/ngram/budget.json. Without provenance the
    summary is one proxy's early verdict."""
    judges_cleaning = eval_set is None or eval_set["judges_cleaning"]
    proxies = {proxy: summarize_proxy(proxy, by_variant, confidence, max_seed_std, judges_cleaning,
                                      (design or {}).get(proxy), ngram_budget)
               for proxy, by_variant in evaluations.items()}
    first_proxy = next(iter(evaluations.values()))
    tasks = downstream_block(downstream, proxies, confidence) if downstream else None
    agreement_result = agreement(proxies, downstream_rungs(tasks) if tasks else None)
    summary: dict[str, Any] = {
        "experiment": experiment,
        "metric": "test_bpb (heldout_bpb on the test part of the eval set; lower is better), per proxy",
        "eval_split": eval_split_counts(first_proxy),
        "verdict": verdict_block(proxies, agreement_result, judges_cleaning, tasks),
        "proxies": proxies,
        "agreement": agreement_result,
        "warnings": eval_set_warnings(eval_path),
        "eval_set": eval_set,
        "variants": {name: {key: evaluation[key] for key in DATA_KEYS if key in evaluation}
                     for name, evaluation in first_proxy.items()},
    }
    if tasks:
        summary["downstream"] = tasks
    if k is not None:
        summary["k"] = k
    if datamodels is not None:
        summary["datamodels"] = datamodels_block(*datamodels)
    if feedback:
        summary["feedback"] = feedback
    if provenance is None:
        summary["provisional"] = (f"Early verdict of the {', '.join(proxies)} proxy alone, written as soon "
                                  "as its models were scored; summary.md adds the other proxies, their "
                                  "agreement, the datamodels and the provenance.")
    else:
        summary["provenance"] = {"path": str(provenance), "sha256": sha256_of_file(provenance)}
    return summary
