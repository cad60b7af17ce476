"""The mixture search's summary (pools/summary.json and .md): the verdict on `mixture` first, against
raw, k_sigma, the best feedback variant, the best single pool, `natural` and `uniform` on test under
each confirming proxy (the calibrated paired comparison, the same as the main summary's), its fraction
of the oracle gain; then the pools' ranking, the regression's out-of-sample fit, predicted against
achieved validation bpb, the weights and the exported Data-Juicer config.

Only `mixture` is a candidate: the pools, natural and uniform are references, so no selection among
them widens its interval. The best feedback variant is chosen on validation, by each proxy.
"""

from __future__ import annotations

from typing import Any

from sandbox.data.eval_set import no_clean_eval_message
from sandbox.stats.bootstrap import aligned, oracle_fraction, paired_comparison
from sandbox.summary.tables import byte_count, fraction_text, interval_cell
from sandbox.summary.verdict import scores_of
from sandbox.workflow.variants import (
    BEST_POOL,
    K_SIGMA,
    MIXTURE,
    NATURAL,
    ORACLE,
    RAW,
    UNIFORM,
    is_feedback,
)

BEST_FEEDBACK = "best feedback"


def best_feedback(evaluations: dict[str, dict[str, Any]]) -> str | None:
    """The feedback variant with the lowest validation bpb (None without one)."""
    names = [name for name in evaluations if is_feedback(name)]
    return min(names, key=lambda name: evaluations[name]["validation_bpb"], default=None)


def references_of(evaluations: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What mixture is compared with: label -> variant, for those this proxy evaluated."""
    references = {name: name for name in (NATURAL, UNIFORM, BEST_POOL, RAW, K_SIGMA) if name in evaluations}
    feedback = best_feedback(evaluations)
    if feedback:
        references[BEST_FEEDBACK] = feedback
    return references


def confirm(proxy: str, evaluations: dict[str, dict[str, Any]], confidence: float) -> dict[str, Any]:
    """mixture against every reference on test, and its fraction of the oracle gain, for one proxy."""
    scores = aligned({name: scores_of(evaluation) for name, evaluation in evaluations.items()})
    comparisons = {label: {"variant": variant,
                           **paired_comparison(MIXTURE, variant, scores, confidence, proxy)}
                   for label, variant in references_of(evaluations).items()}
    fraction = (oracle_fraction(MIXTURE, RAW, ORACLE, scores, confidence, proxy)
                if ORACLE in scores and RAW in scores else None)
    test_bpb = {name: evaluations[name]["test_bpb"]
                for name in (MIXTURE, *references_of(evaluations).values())}
    return {"comparisons": comparisons, "fraction_of_oracle_gain": fraction, "test_bpb": test_bpb,
            "validation_bpb": {name: evaluation["validation_bpb"]
                               for name, evaluation in evaluations.items()}}


def verdict_line(proxy: str, result: dict[str, Any]) -> str:
    """One proxy's verdict on mixture: which references it beats, ties or loses to, with intervals."""
    parts = []
    for label, comparison in result["comparisons"].items():
        if comparison["significant"] is None:
            word = "no interval against"
        elif comparison["significant"]:
            word = "beats" if comparison["mean_difference"] < 0 else "loses to"
        else:
            word = "cannot be told from"
        name = f"{label} (`{comparison['variant']}`)" if label == BEST_FEEDBACK else f"`{label}`"
        parts.append(f"{word} {name}: {interval_cell(comparison)}")
    fraction = result["fraction_of_oracle_gain"]
    gain = f"; {fraction_text(fraction, '.2f')} of the oracle gain" if fraction else ""
    return f"**{proxy}**: `mixture` " + "; ".join(parts) + gain + "."


def smaller_budget_note(fit: dict[str, Any], index: dict[str, Any]) -> str:
    """Why the mixtures train on less than the n-gram's budget, and what that leaves comparable."""
    searched = {pool["pool"] for pool in fit["pools"]}
    held = sum(entry["bytes"] for entry in index["pools"] if entry["name"] in searched)
    return (f"The search pools hold {byte_count(held)}: the mixtures use at most "
            f"{byte_count(fit['budget_bytes'])} of it (so that each has a choice to make), less than the "
            f"n-gram's budget of {byte_count(fit['ngram_budget_bytes'])}. `mixture`, `natural` and `uniform` "
            "train on less text than the main variants: only their comparisons with each other are like "
            "for like.")


def markdown(summary: dict[str, Any]) -> str:
    """pools/summary.md: the verdicts first, then the ranking, the fit, the weights and the config."""
    confidence = round(100 * summary["confidence"])
    lines = ["# Mixture of data pools: does the searched mixture make better data?", ""]
    if not summary["judges_cleaning"]:
        lines += [no_clean_eval_message(), ""]
    lines += [verdict_line(proxy, result) for proxy, result in summary["proxies"].items()]
    fit, index = summary["fit"], summary["index"]
    if fit["budget_bytes"] < fit["ngram_budget_bytes"]:
        lines += ["", smaller_budget_note(fit, index)]
    lines += ["", f"Test part of the eval set, paired over documents and seeds, {confidence} % intervals "
              "(✓: the interval excludes 0; negative: mixture has the lower bpb). Only `mixture` is a "
              "candidate; the rest are references.", ""]
    ranking = summary["ranking"]
    lines += [f"## The pools, ranked by the n-gram at {byte_count(ranking['budget_bytes'])} each "
              "(the smallest pool's size)", "",
              f"Ordered on validation; test bpb over seeds {ranking['seeds']}; each against the top pool "
              "on test.", "", "| rank | pool | documents | bytes | noise | test bpb | vs top pool |",
              "|---|---|---|---|---|---|---|"]
    for entry in ranking["ranking"]:
        noise = f"{entry['noise_share']:.1%}" if "noise_share" in entry else "–"
        versus = interval_cell(entry["vs_top"]) if "vs_top" in entry else "(top)"
        lines.append(f"| {entry['rank']} | {entry['pool']} | {entry['docs']} | {byte_count(entry['bytes'])} "
                     f"| {noise} | {entry['test_bpb']:.4f} | {versus} |")
    if index["left_out"]:
        lines += ["", "Left out as smaller than min_docs: " + ", ".join(
            f"{entry['name']} ({entry['docs']} documents)" for entry in index["left_out"]) + "."]
    check = fit["out_of_sample"]
    lines += ["", "## The swarm and its fit", "",
              f"{fit['members']['usable']} n-gram models, one per mixture, each at "
              f"{byte_count(fit['budget_bytes'])} and scored on validation; the {fit['estimator']} "
              f"regression fits {fit['members']['training']} of them. Out of sample ({check['members']} "
              f"held-out members): Spearman {check['spearman']:.3f} [{check['interval'][0]:.3f}, "
              f"{check['interval'][1]:.3f}] ({confidence} % bootstrap over members), mean absolute error "
              f"{check['mean_absolute_error_bpb']:.4f} bpb.",
              "", "| mixture | predicted validation bpb | n-gram validation bpb |", "|---|---|---|"]
    achieved = summary["achieved_validation_bpb"]
    for name in (MIXTURE, NATURAL, UNIFORM):
        measured = f"{achieved[name]:.4f}" if name in achieved else "–"
        lines.append(f"| {name} | {fit['predicted_bpb'][name]:.4f} | {measured} |")
    lines += ["", "## The weights (byte shares of the budget) and the documents dj-process took", "",
              "| pool | natural | uniform | mixture | cap | coefficient | mixture documents |",
              "|---|---|---|---|---|---|---|"]
    claims = {claim["name"]: {pool["pool"]: pool for pool in claim["pools"]} for claim in summary["claims"]}
    for pool in fit["pools"]:
        name = pool["pool"]
        lines.append(f"| {name} | {claims[NATURAL][name]['weight']:.3f} "
                     f"| {claims[UNIFORM][name]['weight']:.3f} "
                     f"| {pool['weight']:.3f} | {pool['cap']:.3f} | {pool['coefficient']:+.4f} "
                     f"| {claims[MIXTURE][name]['docs']} |")
    lines += ["", f"The mixture as a Data-Juicer dataset config: `{summary['configs'][MIXTURE]}` "
              "(`dj-process --config` it; its weights give exactly these counts under Data-Juicer 1.6.1's "
              "sampling, checked on this run's output)."]
    return "\n".join(lines) + "\n"
