"""The model-feedback filters' models in process: a saved n-gram model scores as trained, a filter
with one fold model is refused, the folds are stable, balanced and keep copies together, and the pool's
cached stat of a feedback op puts its variant on the mask path and gives a variant's scores by row. The
filters as Data-Juicer custom operators under `dj-process` and in the workflow are in
workflow/test_feedback_ops.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from sandbox.demo.corpus import build_demo
from sandbox.feedback.crossfit import fold_of, outside_fold
from sandbox.proxies.ngram import KneserNeyLM

OPS_FILE = REPO / "scripts/sandbox/dj_ops/ngram_filters.py"
# the package first: the op file imports it (as feedback_recipe.py writes every recipe)
OPS_PATHS = [str(REPO / "scripts/sandbox"), str(OPS_FILE)]
FOLDS = 5


def bits_per_byte(lm: KneserNeyLM, texts: list[str]) -> np.ndarray:
    encoded = [text.encode("utf-8") for text in texts]
    return lm.document_nll_bits(encoded) / np.array([len(data) for data in encoded])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return demo_models(tmp_path_factory.mktemp("feedback"))


def demo_models(folder: Path) -> dict:
    """A 400-document demo pool in folder, a reference LM of its eval set and the pool's cross-fitted LMs."""
    pool, eval_set = build_demo(0, pool_docs=400, eval_docs=60)
    pool_path = folder / "pool.jsonl"
    pool_path.write_text("".join(json.dumps(record) + "\n" for record in pool))
    reference = KneserNeyLM.train([record["text"].encode() for record in eval_set], order=4)
    reference.save(folder / "reference.npz")
    # the pool's LM as the workflow builds it: cross-fitted, fold k's model never saw fold k
    texts = [record["text"] for record in pool]
    background = [KneserNeyLM.train([text.encode() for text in outside_fold(texts, k, FOLDS)], order=4)
                  for k in range(FOLDS)]
    for k, lm in enumerate(background):
        lm.save(folder / f"background/fold{k}.npz")
    return {"folder": folder, "pool": pool, "pool_path": pool_path, "reference": reference,
            "background": background,
            "background_paths": [str(folder / f"background/fold{k}.npz") for k in range(FOLDS)]}


def test_saved_model_scores_exactly_as_trained(demo: dict, tmp_path: Path) -> None:
    texts = [record["text"] for record in demo["pool"][:50]]
    loaded = KneserNeyLM.load(demo["folder"] / "reference.npz")
    assert np.array_equal(bits_per_byte(loaded, texts), bits_per_byte(demo["reference"], texts))
    (tmp_path / "not-a-model.npz").write_bytes(b"PK")
    with pytest.raises(Exception):
        KneserNeyLM.load(tmp_path / "not-a-model.npz")


def load_ops(ops: list[dict]) -> list:
    """The ops built in this process, as feedback_recipe.py builds them."""
    from data_juicer.ops.load import load_ops as dj_load_ops

    from sandbox.recipe.dj import register_custom_operators

    register_custom_operators({"custom_operator_paths": OPS_PATHS})
    return dj_load_ops(ops)


def test_one_fold_model_is_refused(demo: dict) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        load_ops([{"ngram_loss_filter": {"model_path": demo["background_paths"][:1]}}])
    with pytest.raises(ValueError, match="needs model_path"):
        load_ops([{"ngram_importance_filter": {"background_model_path": demo["background_paths"]}}])


def test_fold_of_is_stable_balanced_and_keeps_copies_together() -> None:
    texts = [f"document number {index}, with some words" for index in range(2000)]
    folds = [fold_of(text, FOLDS) for text in texts]
    assert folds == [fold_of(text, FOLDS) for text in texts]
    counts = np.bincount(folds, minlength=FOLDS)
    assert counts.min() > 0.8 * len(texts) / FOLDS and counts.max() < 1.2 * len(texts) / FOLDS
    # a copy differing only in case and spacing lands in the same fold, so its original never trains
    # the model that scores it
    assert all(fold_of(text, FOLDS) == fold_of("  " + text.upper().replace(" ", "\t "), FOLDS)
               for text in texts)
    with pytest.raises(ValueError, match="at least 2"):
        fold_of(texts[0], 1)


def test_a_feedback_variant_takes_the_mask_path_on_the_pools_cached_stat(demo: dict, tmp_path: Path) -> None:
    # The op's stat of the pool, computed once (feedback_scores.py) and added to the analysis, puts the
    # base recipe plus the feedback filter on the mask path (process.py); workflow/test_feedback_ops.py
    # checks the kept documents against dj-process for every method.
    from feedback_scores import pool_stats
    from process import with_model_stats

    from sandbox.io.jsonl import InputError
    from sandbox.recipe.masks import StatsCache, apply_ops, choose_path
    from sandbox.recipe.model_stats import ModelStats, read_model_stats, text_digest, write_model_stats

    texts = [record["text"] for record in demo["pool"]]
    rows = np.arange(len(texts))
    name, args = "ngram_importance_filter", {"model_path": str(demo["folder"] / "reference.npz"),
                                             "background_model_path": demo["background_paths"]}
    load_ops([])  # registers the custom ops
    stat_key, values = pool_stats(name, args, texts)
    path = tmp_path / "feedback_importance.parquet"
    write_model_stats(path, ModelStats(rows, [text_digest(text) for text in texts], {name: args}, stat_key,
                                       values, 1.5))
    cached = read_model_stats(path)
    assert cached.op == {name: args} and cached.stat_key == "ngram_importance" and cached.seconds == 1.5
    assert np.array_equal(cached.values, values) and cached.rows.tolist() == rows.tolist()

    (length,) = load_ops([{"text_length_filter": {"min_len": 50}}])
    samples = {"text": texts, "__dj__stats__": [{} for _ in texts]}
    stats = length.compute_stats_batched(samples)["__dj__stats__"]
    analyzed = {"process": [{"text_length_filter": {"min_len": 50}}]}
    extended, cache = with_model_stats(analyzed, StatsCache(rows=rows, stats=stats, hashes={}), [cached])
    threshold = float(np.quantile(values, 0.3))
    recipe = {"process": [{"text_length_filter": {"min_len": 80}}, {name: {**args, "min_value": threshold}}]}
    choice = choose_path(recipe, extended, cache)
    assert choice.is_mask, choice.executor_reason
    kept = apply_ops(choice.ops, choice.cache).kept
    lengths = np.array([len(text) for text in texts])
    assert kept.tolist() == np.flatnonzero((lengths >= 80) & (values >= threshold)).tolist()
    assert "ngram_importance" not in stats[0], "the analysis's own stats are left as they were"
    # other model arguments than the cached op's: not the stat the cache holds, so no mask path
    other = {"process": [recipe["process"][0], {name: {**args, "model_path": demo["background_paths"]}}]}
    assert not choose_path(other, extended, cache).is_mask

    shifted = StatsCache(rows=rows + 1, stats=stats, hashes={})
    with pytest.raises(InputError, match="Fix:"):
        with_model_stats(analyzed, shifted, [cached])


def test_a_variants_scores_are_read_by_row_only_where_its_text_was_scored() -> None:
    from sandbox.recipe.model_stats import ModelStats, scores_by_row, text_digest

    texts = ["first document", "second document", "third document"]
    stats = ModelStats(np.array([10, 11, 12]), [text_digest(text) for text in texts],
                       {"quality_classifier_filter": {"model_path": "m.npz"}}, "quality_classifier_score",
                       np.array([0.1, 0.2, 0.3]), 0.0)
    # row 12, row 10, a row not in the pool, row 11 with its text changed (a mapper ran), no row at all
    values, found = scores_by_row(stats, [12, 10, 99, 11, None],
                                  [texts[2], texts[0], texts[1], "second document, mapped", texts[1]])
    assert found.tolist() == [True, True, False, False, False]
    assert values[:2].tolist() == [0.3, 0.1] and np.isnan(values[2:]).all()
