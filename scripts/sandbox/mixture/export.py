"""A mixture as a Data-Juicer dataset config, in the form Data-Juicer 1.6.1 honours.

`dataset: {max_sample_num: N, configs: [{type: local, path, weight}, ...]}` with no dataset_path: the
loader normalises the weights and gives source i ceil(N * w_i) documents, in config order, capped by
what is left of N (data_juicer.core.data.dataset_builder.get_sample_numbers); a source allotted 0 is
skipped; a source's documents are the first of a shuffle with seed 42, the whole source repeated
as often as the count needs and then the first of that shuffle (data_juicer.utils.sample.random_sample):
that is the duplication of a neural proxy's mixture (pools.max_epochs). The
`"0.5 a.jsonl 0.5 b.jsonl"` string form ignores its weights. Byte weights become document counts
(never above a pool's documents), and the config's weights are chosen so that the loader's rule gives
exactly those counts: with the counts themselves as weights, float error can round a count up by one,
and the counts after it down (replicated and checked here; the workflow's test runs dj-process on it).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

# Attempts to nudge a weight whose count float error rounds up.
NUDGES = 64


def dj_sample_numbers(weights: Sequence[float], max_sample_num: int) -> list[int]:
    """Data-Juicer 1.6.1's get_sample_numbers, step for step (normalise, ceil, cap by what is left)."""
    normalised = np.array(weights, dtype=np.float64)
    normalised /= np.sum(normalised)
    wanted = [int(np.ceil(max_sample_num * weight)) for weight in normalised]
    numbers, used = [], 0
    for count in wanted:
        numbers.append(min(count, max_sample_num - used))
        used += numbers[-1]
    return numbers


def document_counts(weights: Sequence[float], pool_docs: Sequence[int], pool_bytes: Sequence[int],
                    budget_bytes: int, max_epochs: int = 1) -> list[int]:
    """Documents per pool for byte shares of a budget: weight * budget over the pool's mean document
    size (separators counted), rounded, at most max_epochs times the pool's documents (Data-Juicer's
    loader repeats a pool beyond its size); a weight above 0 keeps a document."""
    counts = []
    for weight, docs, size in zip(weights, pool_docs, pool_bytes):
        if weight <= 0:
            counts.append(0)
            continue
        counts.append(int(min(max_epochs * docs, max(1, round(weight * budget_bytes / (size / docs))))))
    return counts


def weights_for_counts(counts: Sequence[int]) -> list[float]:
    """Config weights under which Data-Juicer's loader gives exactly `counts` (sum: max_sample_num)."""
    total = int(sum(counts))
    if total <= 0:
        raise ValueError("a mixture needs at least one document")
    weights = [float(count) for count in counts]
    for _ in range(NUDGES):
        got = dj_sample_numbers(weights, total)
        if got == list(counts):
            return weights
        for position, (have, want) in enumerate(zip(got, counts)):
            if have > want:
                weights[position] = float(np.nextafter(weights[position], 0.0))
                break
    raise ValueError(f"no weights give counts {list(counts)} under Data-Juicer's rounding")


def dj_config(name: str, pool_paths: Sequence[str], counts: Sequence[int], export_path: str,
              work_dir: str) -> dict[str, Any]:
    """The dj-process config that samples the mixture: absolute paths, no ops (the pools are processed)."""
    weights = weights_for_counts(counts)
    return {
        "project_name": f"recipe-sandbox-{name}",
        "dataset": {"max_sample_num": int(sum(counts)),
                    "configs": [{"type": "local", "path": path, "weight": weight}
                                for path, weight in zip(pool_paths, weights)]},
        "export_path": export_path,
        "work_dir": work_dir,
        "np": 1,
        "process": [],
    }
