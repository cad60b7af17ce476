"""The downstream tasks in the summary: every variant against raw and k_sigma on each task's items,
under each proxy, by the paired comparison of sandbox.stats.bootstrap with items in place of documents
(per-item scores of every seed's model), and whether each task's verdict agrees with the bpb verdict.

Metrics per variant (mean over seeds of each seed's value): acc and acc_norm (lm-eval's), compared
in points with every item weighted alike; gold_bpb, the bits per byte of the gold answers given their
contexts (total bits over total bytes, as held-out bpb), compared in percent; gold_prob_per_byte and
gold_logprob_per_byte, the item means of the gold answer's per-byte probability and log-probability.
The items are not split into validation and test: no choice reads them (the selected variant is
the bpb verdict's, made on validation documents).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.io.jsonl import iter_jsonl
from sandbox.stats.bootstrap import (
    Scores,
    aligned,
    detectable_on_binary,
    no_claim_reason,
    paired_comparison,
    paired_test,
)
from sandbox.stats.paired_t import mean_and_std
from sandbox.workflow.variants import RAW, REFERENCES, comparison_key

ACCURACIES = ("acc", "acc_norm")
GOLD_BPB = "gold_bpb"
# compared by the summary, each a further rung of the agreement
COMPARED = (*ACCURACIES, GOLD_BPB)
MEANS = ("gold_prob_per_byte", "gold_logprob_per_byte")


@dataclass(frozen=True)
class ItemScores:
    """One variant's per-item results under one proxy: values[metric] is (seeds, items)."""

    seeds: tuple[int, ...]
    values: dict[str, np.ndarray]
    gold_bytes: np.ndarray

    def gold_bits(self) -> Scores:
        """The gold answers' bits and bytes, as Scores (items in place of documents)."""
        return Scores(self.seeds, -self.values["gold_logprob"] / math.log(2), self.gold_bytes)

    def accuracy(self, metric: str) -> Scores:
        """An accuracy as Scores with every item one unit: their bpb is the mean accuracy."""
        return Scores(self.seeds, self.values[metric], np.ones_like(self.gold_bytes))


def read_items(paths_by_seed: dict[int, Path]) -> ItemScores:
    """One variant's ItemScores from its per-seed items.jsonl files (all over the same items)."""
    seeds = tuple(sorted(paths_by_seed))
    rows = {seed: [row for _, row in iter_jsonl(paths_by_seed[seed])] for seed in seeds}
    first = rows[seeds[0]]
    keys = [(row["subtask"], row["doc_id"]) for row in first]
    for seed in seeds:
        if [(row["subtask"], row["doc_id"]) for row in rows[seed]] != keys:
            raise ValueError(f"{paths_by_seed[seed]}: other items than {paths_by_seed[seeds[0]]}")
    names = [name for name in (*ACCURACIES, "gold_logprob", *MEANS) if first[0].get(name) is not None]
    values = {name: np.array([[float(row[name]) for row in rows[seed]] for seed in seeds]) for name in names}
    return ItemScores(seeds, values, np.array([float(row["gold_bytes"]) for row in first]))


def variant_metrics(scores: ItemScores) -> dict[str, Any]:
    """A variant's metrics: mean over seeds, seed std and per seed."""
    per_seed: dict[str, list[float]] = {name: list(scores.accuracy(name).per_seed_bpb().values())
                                        for name in ACCURACIES if name in scores.values}
    per_seed[GOLD_BPB] = list(scores.gold_bits().per_seed_bpb().values())
    for name in MEANS:
        if name in scores.values:
            per_seed[name] = scores.values[name].mean(axis=1).tolist()
    metrics: dict[str, Any] = {"seeds": list(scores.seeds)}
    for name, values in per_seed.items():
        mean, std = mean_and_std(values)
        metrics.update({name: mean, f"{name}_std": std,
                        f"{name}_per_seed": {str(seed): value for seed, value in zip(scores.seeds, values)}})
    return metrics


def accuracy_comparison(treated: Scores, baseline: Scores, confidence: float, proxy: str) -> dict[str, Any]:
    """Difference of an accuracy (treated - baseline) in points, with its paired interval over items
    and seeds and the minimum detectable effect (detectable_on_binary: under the variance a true effect
    adds to binary answers, which the null's standard error leaves out); no interval for one seed of a
    seed-dependent proxy."""
    cells = treated.nll_bits - baseline.nll_bits
    n_seeds, n_items = cells.shape
    test = paired_test(cells, baseline.n_bytes, confidence)
    reason = no_claim_reason(proxy, n_seeds)
    result: dict[str, Any] = {"confidence": confidence, "n_seeds": n_seeds, "n_items": n_items,
                              "difference_points": 100 * float(test.estimate), "no_claim": reason,
                              "higher_is_better": True}
    if reason is not None:
        return {**result, "ci_points": None, "mde_points": None, "significant": None}
    return {**result, "ci_points": [100 * float(test.low), 100 * float(test.high)],
            "mde_points": 100 * float(detectable_on_binary(test.se, test.df, n_items, confidence)),
            "significant": bool(test.significant)}


def compare(treated: ItemScores, baseline: ItemScores, confidence: float, proxy: str,
            names: tuple[str, str]) -> dict[str, Any]:
    """Every compared metric of treated against baseline."""
    result: dict[str, Any] = {}
    for metric in ACCURACIES:
        if metric in treated.values and metric in baseline.values:
            pair = aligned({"treated": treated.accuracy(metric), "baseline": baseline.accuracy(metric)})
            result[metric] = accuracy_comparison(pair["treated"], pair["baseline"], confidence, proxy)
    bits = {names[0]: treated.gold_bits(), names[1]: baseline.gold_bits()}
    result[GOLD_BPB] = {**paired_comparison(*names, bits, confidence, proxy), "higher_is_better": False}
    return result


def summarize_task_proxy(scores: dict[str, ItemScores], confidence: float, proxy: str) -> dict[str, Any]:
    """One task under one proxy: every variant's metrics and its comparisons with raw and k_sigma."""
    comparisons = {}
    for reference in REFERENCES:
        if reference not in scores:
            continue
        for name in scores:
            if name not in (RAW, reference):
                comparisons[comparison_key(name, reference)] = compare(scores[name], scores[reference],
                                                                       confidence, proxy, (name, reference))
    return {"variants": {name: variant_metrics(item_scores) for name, item_scores in scores.items()},
            "comparisons": comparisons}


def better(comparison: dict[str, Any]) -> bool:
    """Whether the treated variant did better on the metric (a higher accuracy, a lower bpb)."""
    if comparison.get("higher_is_better"):
        return comparison["difference_points"] > 0
    return comparison["mean_difference"] < 0


def bpb_sign(comparison: dict[str, Any]) -> str:
    """The difference's sign in held-out bpb's sense: '-' when the treated variant did better."""
    return "-" if better(comparison) else "+"


def change_text(metric: str, comparison: dict[str, Any]) -> str:
    """'acc +1.20 points [-0.80, +3.20]', 'gold bpb -1.90 % [-2.40, -1.40] ✓' (✓: excludes 0)."""
    label = metric.replace("_", " ").replace("gold bpb", "gold-answer bpb")
    if metric == GOLD_BPB:
        text, interval = f"{comparison['relative_percent']:+.2f} %", comparison["relative_ci_percent"]
    else:
        text, interval = f"{comparison['difference_points']:+.2f} points", comparison["ci_points"]
    if interval is None:
        return f"{label} {text} (one seed: no interval)"
    mark = " ✓" if comparison["significant"] else ""
    return f"{label} {text} [{interval[0]:+.2f}, {interval[1]:+.2f}]{mark}"


def agreement_with_bpb(bpb: dict[str, Any] | None, task: dict[str, Any]) -> str:
    """agree / disagree when both resolve the comparison, else inconclusive."""
    if bpb is None or not bpb.get("significant") or not task.get("significant"):
        return "inconclusive"
    return "agree" if bpb_sign(bpb) == bpb_sign(task) else "disagree"


def task_verdict(task: str, proxy: str, result: dict[str, Any], proxy_result: dict[str, Any],
                 chance: float | None) -> tuple[str, dict[str, str]]:
    """One sentence: the variant the bpb verdict selected, against raw on this task, and whether the
    task agrees with held-out bpb; and the agreement per metric."""
    selected = proxy_result.get("selected_on_validation")
    key = comparison_key(selected, RAW) if selected else None
    if key is None or key not in result["comparisons"]:
        return f"{task} on `{proxy}`: no comparison (needs `{RAW}` and the selected variant).", {}
    comparison = result["comparisons"][key]
    bpb = proxy_result["comparisons"].get(key)
    statuses = {metric: agreement_with_bpb(bpb, comparison[metric])
                for metric in COMPARED if metric in comparison}
    shown = [change_text(metric, comparison[metric])
             for metric in (ACCURACIES[0], GOLD_BPB) if metric in comparison]
    accuracy = result["variants"][selected].get("acc")
    if accuracy is not None:
        shown.append(f"acc {accuracy:.1%}" + (f" (chance {chance:.1%})" if chance is not None else ""))
    return (f"{task} on `{proxy}`: `{selected}` (the bpb selection) vs {RAW}: {', '.join(shown)}; "
            f"{agreement_answer(statuses)}.", statuses)


def agreement_answer(statuses: dict[str, str]) -> str:
    """Whether a task agrees with held-out bpb: a disagreement first, then the metrics that agree."""
    for status, answer in (("disagree", "DISAGREES with"), ("agree", "agrees with")):
        metrics = [metric for metric, value in statuses.items() if value == status]
        if metrics:
            return f"{answer} the bpb verdict on {', '.join(metrics)}"
    return "no metric where both it and held-out bpb resolve the difference"


def read_downstream(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """task -> {"meta": results.json of its first job, "items": proxy -> variant -> ItemScores} from
    the downstream jobs' results.json files (items.jsonl beside each)."""
    found: dict[str, dict[str, Any]] = {}
    by_variant: dict[tuple[str, str, str], dict[int, Path]] = {}
    for path in paths:
        result = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault(result["task"], {"meta": result, "items": {}})
        key = (result["task"], result["proxy"], result["variant"])
        by_variant.setdefault(key, {})[int(result["seed"])] = path.with_name("items.jsonl")
    for (task, proxy, variant), paths_by_seed in by_variant.items():
        found[task]["items"].setdefault(proxy, {})[variant] = read_items(paths_by_seed)
    return found


def downstream_block(paths: list[Path], proxies: dict[str, dict[str, Any]],
                     confidence: float) -> dict[str, Any]:
    """summary.json's "downstream": per task its items, chance level and lm-eval version, and per proxy
    the variants' metrics, comparisons and the task's verdict."""
    block: dict[str, Any] = {}
    for task, found in read_downstream(paths).items():
        meta = found["meta"]
        entry: dict[str, Any] = {"n_items": meta["n_items"], "chance": meta["chance"],
                                 "task_yaml": meta.get("task_yaml"),
                                 "lm_eval_version": meta.get("lm_eval_version"), "proxies": {}}
        for proxy, scores in found["items"].items():
            result = summarize_task_proxy(scores, confidence, proxy)
            if proxy in proxies:
                result["verdict"], result["agreement_with_bpb"] = task_verdict(
                    task, proxy, result, proxies[proxy], meta["chance"])
            entry["proxies"][proxy] = result
        block[task] = entry
    return block


def downstream_rungs(block: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The downstream metrics as rungs of the agreement: "<proxy>/<task>/<metric>" -> comparison
    name -> that metric's comparison."""
    rungs: dict[str, dict[str, dict[str, Any]]] = {}
    for task, entry in block.items():
        for proxy, result in entry["proxies"].items():
            for name, comparison in result["comparisons"].items():
                for metric, values in comparison.items():
                    rungs.setdefault(f"{proxy}/{task}/{metric}", {})[name] = values
    return rungs
