"""Data-Juicer filters whose stat comes from a proxy model: model feedback as ordinary recipe ops.

Load with the recipe key `custom_operator_paths: [<workflow>/scripts/sandbox,
<workflow>/scripts/sandbox/dj_ops/ngram_filters.py]` (absolute paths, the package first: this file's
imports of it then resolve); then `dj-process`, the Analyzer and the workflow run them like any built-in
filter, and their stats sit under `__dj__stats__`. A model is a file written by KneserNeyLM.save (an
input of the op, never a download), or a list of K >= 2 such files: cross-fitted fold models, of which
each document is scored by the one at index sandbox.feedback.crossfit.fold_of(text, K), the LM that
never trained on it (the workflow trains the pool's LMs so, see scripts/feedback_folds.py).

- ngram_loss_filter: bits per byte of the document under `model_path` (CCNet-style perplexity
  band: under a reference LM, keep documents below a loss bound; under the raw pool's own LM, a
  k-sigma band catches documents far from the pool's typical loss on either side).
- ngram_importance_filter: bits per byte under `background_model_path` minus under `model_path`
  (DSIR-like log-likelihood ratio per byte: high means the document looks more like the model's
  data, e.g. a clean reference, than like the background pool).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from data_juicer.ops.base_op import OPERATORS, Filter
from data_juicer.utils.constant import Fields

from sandbox.feedback.crossfit import MIN_FOLDS, fold_of
from sandbox.proxies.ngram import KneserNeyLM

LOSS_STAT = "ngram_loss"
IMPORTANCE_STAT = "ngram_importance"
# An empty document predicts nothing; give it the loss of a uniform byte, the worst a model can do.
EMPTY_DOCUMENT_BITS_PER_BYTE = 8.0
# A model argument: one file, or the K fold models of a cross-fitted LM in fold order.
ModelPaths = str | Sequence[str]


@lru_cache(maxsize=16)  # every batch reads all K fold models (and a reference)
def load_model(path: str) -> KneserNeyLM:
    return KneserNeyLM.load(Path(path))


def model_paths(value: Any, op: str, name: str) -> ModelPaths:
    """The argument as one path or a tuple of K >= MIN_FOLDS paths; ValueError naming the fix otherwise."""
    if isinstance(value, (str, Path)):
        if str(value):
            return str(value)
    elif isinstance(value, Iterable) and all(isinstance(path, (str, Path)) and str(path) for path in value):
        paths = tuple(str(path) for path in value)
        if len(paths) >= MIN_FOLDS:
            return paths
        raise ValueError(f"{op}: {name} lists {len(paths)} fold model(s); cross-fitting needs at least "
                         f"{MIN_FOLDS} (or give one path)")
    raise ValueError(f"{op} needs {name}: an n-gram model written by KneserNeyLM.save, or a list of "
                     f"{MIN_FOLDS} or more cross-fitted fold models")


def one_model_bits_per_byte(path: str, texts: list[str]) -> np.ndarray:
    """Each text's bits per byte under one model (EMPTY_DOCUMENT_BITS_PER_BYTE for an empty one)."""
    encoded = [text.encode("utf-8") for text in texts]
    lengths = np.array([len(data) for data in encoded], dtype=float)
    bits = load_model(path).document_nll_bits(encoded)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, bits / np.maximum(lengths, 1), EMPTY_DOCUMENT_BITS_PER_BYTE)


def bits_per_byte(paths: ModelPaths, texts: list[str]) -> np.ndarray:
    """Each text's bits per byte under the model, or under its own fold's model when paths lists folds."""
    if isinstance(paths, str):
        return one_model_bits_per_byte(paths, texts)
    folds = np.array([fold_of(text, len(paths)) for text in texts], dtype=np.int64)
    values = np.empty(len(texts))
    for fold, path in enumerate(paths):
        chosen = np.flatnonzero(folds == fold)
        if len(chosen):
            values[chosen] = one_model_bits_per_byte(path, [texts[index] for index in chosen])
    return values


class _ModelStatFilter(Filter):
    """A batched filter keeping documents whose stat lies in [min_value, max_value]."""

    _batched_op = True
    stat_key = ""

    def compute_values(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def compute_stats_batched(self, samples: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        stats = samples[Fields.stats]
        missing = [index for index, stat in enumerate(stats) if self.stat_key not in stat]
        if missing:
            values = self.compute_values([samples[self.text_key][index] for index in missing])
            for index, value in zip(missing, values):
                stats[index][self.stat_key] = float(value)
        return samples

    def process_batched(self, samples: dict[str, Any]) -> Any:
        return map(lambda stat: self.get_keep_boolean(stat[self.stat_key], self.min_value, self.max_value),
                   samples[Fields.stats])


@OPERATORS.register_module("ngram_loss_filter")
class NgramLossFilter(_ModelStatFilter):
    """Keep documents whose bits per byte under an n-gram model lie in [min_value, max_value]."""

    stat_key = LOSS_STAT

    def __init__(self, model_path: ModelPaths = "", min_value: float = 0.0, max_value: float = 8.0,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_path = model_paths(model_path, "ngram_loss_filter", "model_path")
        self.min_value = min_value
        self.max_value = max_value

    def compute_values(self, texts: list[str]) -> np.ndarray:
        return bits_per_byte(self.model_path, texts)


@OPERATORS.register_module("ngram_importance_filter")
class NgramImportanceFilter(_ModelStatFilter):
    """Keep documents whose per-byte log-likelihood ratio, bits under background_model_path minus
    bits under model_path, lies in [min_value, max_value]."""

    stat_key = IMPORTANCE_STAT

    def __init__(self, model_path: ModelPaths = "", background_model_path: ModelPaths = "",
                 min_value: float = -8.0, max_value: float = 8.0, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_path = model_paths(model_path, "ngram_importance_filter", "model_path")
        self.background_model_path = model_paths(background_model_path, "ngram_importance_filter",
                                                 "background_model_path")
        self.min_value = min_value
        self.max_value = max_value

    def compute_values(self, texts: list[str]) -> np.ndarray:
        return bits_per_byte(self.background_model_path, texts) - bits_per_byte(self.model_path, texts)
