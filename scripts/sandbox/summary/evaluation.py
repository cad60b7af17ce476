"""One variant under one proxy, evaluated: held-out bits per byte for each seed (and their mean and
std) beside the variant's data metrics (kept fraction, per-op removals, noise precision/recall), and
the per-document scores that the summary's paired comparison reads (eval/<proxy>/<variant>.json).

heldout_bpb (sandbox.summary.metrics, v3): total negative log-likelihood in bits over total UTF-8 bytes of
the eval set, every byte predicted once. validation_bpb and test_bpb are the same on each part of the
eval split (split_eval.py): selections read validation, reports read test.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from sandbox.data.eval_set import TEST, VALIDATION
from sandbox.stats.bootstrap import Scores
from sandbox.stats.paired_t import mean_and_std

SEED_IN_PATH = re.compile(r"seed(\d+)")


def seed_of(path: Path) -> int:
    """The seed a per-seed file belongs to, from its seed<N> directory."""
    matches = SEED_IN_PATH.findall(str(path))
    if not matches:
        raise ValueError(f"{path}: no seed<N> in the path")
    return int(matches[-1])


def training_exposure(train_meta: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Distinct training bytes and epochs, the mean over seeds and per seed (None where a proxy's
    train_meta.json does not state them, as a command proxy's may not)."""
    exposure: dict[str, Any] = {}
    for key, name in (("distinct_train_bytes", "train_distinct_bytes"), ("epochs", "train_epochs")):
        per_seed = {str(seed): meta.get(key) for seed, meta in sorted(train_meta.items())}
        values = [value for value in per_seed.values() if isinstance(value, (int, float))]
        exposure[name] = sum(values) / len(values) if len(values) == len(per_seed) else None
        exposure[f"{name}_per_seed"] = per_seed
    return exposure


def part_metrics(scores: Scores, labels: list[str]) -> dict[str, Any]:
    """validation_bpb and test_bpb (mean over seeds, std and per seed) on the two parts of the split."""
    metrics: dict[str, Any] = {}
    for name in (VALIDATION, TEST):
        per_seed = scores.part(labels, name).per_seed_bpb()
        mean, std = mean_and_std([per_seed[seed] for seed in sorted(per_seed)])
        metrics.update({f"{name}_bpb": mean, f"{name}_bpb_std": std,
                        f"{name}_bpb_per_seed": {str(seed): per_seed[seed] for seed in sorted(per_seed)}})
    return metrics


def evaluation(variant: str, proxy: str, scores: Scores, train_meta: dict[int, dict[str, Any]],
               data_metrics: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """eval/<proxy>/<variant>.json from the per-seed scores, train_meta.json per seed, the variant's data
    metrics and the eval split's labels; a non-finite seed (training diverged) is an error."""
    per_seed = scores.per_seed_bpb()
    for seed, value in per_seed.items():
        if not math.isfinite(value):
            raise ValueError(f"seed {seed}: held-out bits per byte is {value}; training diverged")
    mean, std = mean_and_std([per_seed[seed] for seed in sorted(per_seed)])
    some_meta = train_meta[min(train_meta)]
    return {
        "variant": variant,
        "proxy": proxy,
        "seeds": sorted(per_seed),
        "heldout_bpb": mean,
        "heldout_bpb_std": std,
        "heldout_bpb_per_seed": {str(seed): per_seed[seed] for seed in sorted(per_seed)},
        **part_metrics(scores, labels),
        "train_tokens": some_meta.get("tokens_budget"),
        "model_params": some_meta.get("n_params"),
        "train_seconds_per_seed": {str(seed): meta.get("seconds")
                                   for seed, meta in sorted(train_meta.items())},
        # what the models saw of the variant: a small one is seen whole (once by the n-gram)
        **training_exposure(train_meta),
        **{key: value for key, value in data_metrics.items() if key != "variant"},
        "per_document": {
            "n_bytes": scores.n_bytes.astype(int).tolist(),
            "nll_bits": {str(seed): row.tolist() for seed, row in zip(scores.seeds, scores.nll_bits)},
            "part": labels,
        },
    }
