"""A Data-Juicer filter whose stat is a quality classifier's P(trusted): DCLM's and GPT-3's filter as an
ordinary recipe op.

Load with the recipe key `custom_operator_paths: [<workflow>/scripts/sandbox,
<workflow>/scripts/sandbox/dj_ops/quality_classifier.py]` (absolute paths, the package
first: this file's imports of it then resolve);
then `dj-process`, the Analyzer and the workflow run it like any built-in filter, and its stat
(`quality_classifier_score`) sits under `__dj__stats__`. The model is a file written by
scripts/train_classifier.py (an input of the op, never a download; .npz: hashed n-gram logistic
regression, .bin: fastText), or a list of K >= 2 such files: cross-fitted fold models, of which each
document is scored by the one at index sandbox.feedback.crossfit.fold_of(text, K), the model that never
learned it.

- quality_classifier_filter: keep documents whose P(trusted) lies in [min_value, max_value]; the
  workflow's `classifier` feedback method sets min_value to the raw pool's (1 - keep_fraction) quantile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from data_juicer.ops.base_op import OPERATORS, Filter
from data_juicer.utils.constant import Fields

from sandbox.classifier import model as classifier
from sandbox.feedback.crossfit import MIN_FOLDS

SCORE_STAT = "quality_classifier_score"
OP_NAME = "quality_classifier_filter"


def model_paths(value: Any) -> str | tuple[str, ...]:
    """model_path as one path or a tuple of K >= MIN_FOLDS paths, each a classifier file (by its suffix);
    ValueError naming the fix otherwise."""
    if isinstance(value, (str, Path)) and str(value):
        classifier.backend_of(value)
        return str(value)
    paths_given = isinstance(value, (list, tuple)) and value
    if paths_given and all(isinstance(path, (str, Path)) and str(path) for path in value):
        if len(value) < MIN_FOLDS:
            raise ValueError(f"{OP_NAME}: model_path lists {len(value)} fold model(s); cross-fitting needs "
                             f"at least {MIN_FOLDS} (or give one path)")
        for path in value:
            classifier.backend_of(path)
        return tuple(str(path) for path in value)
    raise ValueError(f"{OP_NAME} needs model_path: a classifier written by scripts/train_classifier.py "
                     f"(.npz or .bin), or a list of {MIN_FOLDS} or more cross-fitted fold models")


@OPERATORS.register_module(OP_NAME)
class QualityClassifierFilter(Filter):
    """Keep documents whose quality classifier score, P(trusted), lies in [min_value, max_value]."""

    _batched_op = True
    stat_key = SCORE_STAT

    def __init__(self, model_path: str | list[str] = "", min_value: float = 0.0, max_value: float = 1.0,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_path = model_paths(model_path)
        self.min_value = min_value
        self.max_value = max_value

    def compute_stats_batched(self, samples: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        stats = samples[Fields.stats]
        missing = [index for index, stat in enumerate(stats) if self.stat_key not in stat]
        if missing:
            values = classifier.scores(self.model_path, [samples[self.text_key][index] for index in missing])
            for index, value in zip(missing, np.asarray(values)):
                stats[index][self.stat_key] = float(value)
        return samples

    def process_batched(self, samples: dict[str, Any]) -> Any:
        return map(lambda stat: self.get_keep_boolean(stat[self.stat_key], self.min_value, self.max_value),
                   samples[Fields.stats])
