"""The quality classifier: saved models score as fitted, training is deterministic, cross-fitting never
scores a document with a model that learned it, the Data-Juicer op runs under plain `dj-process`, and
the workflow's `classifier` feedback variant and data evaluator run (tiny data throughout)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import BIN, REPO
from sandbox.classifier import model as classifier
from sandbox.data.eval_set import normalized
from sandbox.demo.corpus import build_demo_with_reference
from sandbox.feedback.crossfit import fold_of

OPS_FILE = REPO / "scripts/sandbox/dj_ops/quality_classifier.py"
# the package first: the op file imports it (as feedback_recipe.py writes every recipe)
OPS_PATHS = [str(REPO / "scripts/sandbox"), str(OPS_FILE)]
FOLDS = 3


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 240-document demo pool with sandbox_row ids, a 60-document trusted sample (two of them also in
    the pool, as a user's may be), and its cross-fitted hashed_lr classifier from train_classifier.py."""
    folder = tmp_path_factory.mktemp("classifier")
    pool, _, reference = build_demo_with_reference(0, pool_docs=240, eval_docs=20, reference_docs=60)
    pool = [{**record, "sandbox_row": row} for row, record in enumerate(pool)]
    pool += [{"text": record["text"], "meta": {"origin": "clean"}, "sandbox_row": len(pool) + index}
             for index, record in enumerate(reference[:2])]
    pool_path, reference_path = folder / "pool.jsonl", folder / "reference.jsonl"
    pool_path.write_text("".join(json.dumps(record) + "\n" for record in pool))
    reference_path.write_text("".join(json.dumps(record) + "\n" for record in reference))
    models = [folder / f"models/fold{k}.npz" for k in range(FOLDS)]
    run = subprocess.run([sys.executable, str(REPO / "scripts/train_classifier.py"), "--pool", str(pool_path),
                          "--reference", str(reference_path), "--out-models", *map(str, models),
                          "--out-meta", str(folder / "models/train_meta.json")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return {"folder": folder, "pool": pool, "pool_path": pool_path,
            "reference": [record["text"] for record in reference], "models": [str(path) for path in models],
            "meta": json.loads((folder / "models/train_meta.json").read_text())}


def test_a_saved_hashed_model_scores_exactly_as_the_fitted_one(tiny: dict, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    texts = [record["text"] for record in tiny["pool"]]
    rows = [record["sandbox_row"] for record in tiny["pool"]]
    training = classifier.fold_training_set(tiny["reference"], texts, rows, 0, FOLDS, 0, 0.5)
    path = tmp_path / "model.npz"
    classifier.train(classifier.HASHED_LR, training, 0, path)
    vectorizer = classifier.hashed_vectorizer(classifier.HASHED_VECTORIZER)
    fitted = LogisticRegression(C=1.0, solver="liblinear", random_state=0).fit(
        vectorizer.transform(training.positives + training.negatives),
        [1] * len(training.positives) + [0] * len(training.negatives))
    expected = fitted.predict_proba(vectorizer.transform(texts))[:, 1]
    assert np.array_equal(classifier.load_hashed_lr(path).score(texts), expected)
    with np.load(path, allow_pickle=False) as arrays:  # plain arrays: no pickle anywhere
        assert sorted(arrays.files) == ["header", "indices", "intercept", "values"]
    again = tmp_path / "again.npz"
    classifier.train(classifier.HASHED_LR, training, 0, again)
    assert np.array_equal(classifier.load_hashed_lr(again).score(texts), expected), "deterministic"


def test_fasttext_is_deterministic_given_the_seed_and_its_probabilities_are_right(tiny: dict,
                                                                                   tmp_path: Path) -> None:
    texts = [record["text"] for record in tiny["pool"]]
    rows = [record["sandbox_row"] for record in tiny["pool"]]
    training = classifier.fold_training_set(tiny["reference"], texts, rows, 1, FOLDS, 0, 0.5)
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    for path in (first, second):  # each trains in a fresh process; one process drifts between trainings
        classifier.train(classifier.FASTTEXT, training, 0, path)
    model = classifier.load_fasttext(first)
    scores = model.score(texts)
    assert np.array_equal(scores, classifier.load_fasttext(second).score(texts))
    # fasttext-wheel under numpy 2 returns wrong probabilities for lists; this build must agree with
    # one-text predictions and give two labels that sum to 1
    for text, score in zip(texts[:20], scores[:20]):
        labels, probabilities = model.model.predict(classifier.one_line(text), k=2)
        assert dict(zip(labels, probabilities))[classifier.POSITIVE_LABEL] == pytest.approx(score, abs=1e-6)
        assert float(np.sum(probabilities)) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="ends in .npz"):
        classifier.train(classifier.HASHED_LR, training, 0, tmp_path / "wrong.bin")


def test_cross_fitting_never_scores_a_document_with_a_model_that_learned_it(tiny: dict) -> None:
    texts = [record["text"] for record in tiny["pool"]]
    meta = tiny["meta"]
    assert meta["backend"] == "hashed_lr" and meta["folds"] == FOLDS and len(meta["per_fold"]) == FOLDS
    negatives = [set(entry["negative_rows"]) for entry in meta["per_fold"]]
    for record in tiny["pool"]:
        assert record["sandbox_row"] not in negatives[fold_of(record["text"], FOLDS)]
    # every fold learns other folds' documents: the exclusion is not vacuous
    assert all(len(rows) == 30 for rows in negatives)  # half of 60 negatives are shuffled trusted documents
    assert all(entry["shuffled_negatives"] == 30 for entry in meta["per_fold"])
    # the two trusted documents also in the pool are left out of their own fold's positives only
    in_pool = [text for text in tiny["reference"] if normalized(text) in {normalized(t) for t in texts}]
    left_out = [entry["positives_left_out_as_pool_documents_of_this_fold"] for entry in meta["per_fold"]]
    assert sum(left_out) == len(in_pool) == 2
    assert [entry["positives"] for entry in meta["per_fold"]] == [60 - count for count in left_out]

    # the op scores each document with its own fold's model, here and under dj-process
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.dj import register_custom_operators

    register_custom_operators({"custom_operator_paths": OPS_PATHS})
    (op,) = load_ops([{"quality_classifier_filter": {"model_path": tiny["models"]}}])
    samples = {"text": texts, "__dj__stats__": [{} for _ in texts]}
    stats = [stat["quality_classifier_score"] for stat in op.compute_stats_batched(samples)["__dj__stats__"]]
    per_model = np.array([classifier.load_model(path).score(texts) for path in tiny["models"]])
    own_fold = [fold_of(text, FOLDS) for text in texts]
    assert np.array_equal(stats, per_model[own_fold, np.arange(len(texts))])
    with pytest.raises(ValueError, match="at least 2"):
        load_ops([{"quality_classifier_filter": {"model_path": tiny["models"][:1]}}])
    with pytest.raises(ValueError, match="not a quality classifier model"):
        load_ops([{"quality_classifier_filter": {"model_path": "model.pkl"}}])


def test_the_filter_runs_under_dj_process_and_keeps_what_the_classifier_says(tiny: dict) -> None:
    texts = [record["text"] for record in tiny["pool"]]
    values = classifier.scores(tiny["models"], texts)
    bound = float(np.quantile(values, 0.3))
    recipe = tiny["folder"] / "recipe.yaml"
    op = {"quality_classifier_filter": {"model_path": tiny["models"], "min_value": bound}}
    recipe.write_text(yaml.safe_dump({"custom_operator_paths": OPS_PATHS, "text_keys": "text",
                                      "process": [op]}, sort_keys=False))
    export = tiny["folder"] / "dj/data.jsonl"
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path",
                             str(tiny["pool_path"]), "--export_path", str(export), "--np", "2",
                             "--open_monitor", "false"], cwd=tiny["folder"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    kept = [json.loads(line)["text"] for line in export.read_text().splitlines()]
    assert kept == [text for text, value in zip(texts, values) if value >= bound]
    exported = [json.loads(line)["__dj__stats__"]["quality_classifier_score"]
                for line in (tiny["folder"] / "dj/data_stats.jsonl").read_text().splitlines()]
    assert np.allclose(exported, [value for value in values if value >= bound], rtol=1e-12)


def test_classifier_variant_and_quality_scores_in_the_workflow(tiny_run_copy: Path, tmp_path: Path) -> None:
    from conftest import TINY_CONFIG, planned_jobs, snakemake, write_config

    out = tiny_run_copy / "results/tiny"
    # the data evaluator ran with the default target: a quality score for every variant, and on the
    # tagged raw pool the classifier's own precision and recall
    summary = json.loads((out / "summary.json").read_text())
    for name, variant in summary["variants"].items():
        quality = variant["quality"]
        assert quality["ci_low"] < quality["mean"] < quality["ci_high"], name
        assert quality["docs"] == variant["docs"], name
        # every variant is a subset of the pool: its scores are read from the pool's by row id
        assert quality["scores_from_pool_cache"] == quality["docs"], name
    # the same cross-fitted scores as scoring the variant's documents again
    quality = json.loads((out / "quality/k_sigma.json").read_text())
    lines = (out / "processed/k_sigma/data.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    rescored = classifier.scores([str(tiny_run_copy / path) for path in quality["models"]], texts)
    assert quality["mean"] == pytest.approx(float(np.mean(rescored)), rel=1e-12)
    separation = summary["variants"]["raw"]["quality"]["separation"]
    assert 0.5 < separation["auc_clean_vs_noise"] <= 1 and separation["recall"]["ci_low"] is not None
    markdown = (out / "summary.md").read_text()
    assert "| quality score (CI) | quality p5 / p50 / p95 |" in markdown
    assert "The quality classifier alone on the raw pool" in markdown
    assert "quality score (CI)" in (out / "report/verdict.html").read_text()

    feedback = {"methods": ["classifier"], "reference_path": "", "base": "k_sigma", "order": 4, "k": 2.0,
                "keep_fraction": 0.8, "folds": 3}
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "feedback": feedback}, name="classifier-config.yaml")
    target = "results/tiny/processed/feedback_classifier/data.jsonl"
    result = snakemake(tiny_run_copy, target, "results/tiny/data_metrics/feedback_classifier.json", "--cores",
                       "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    recipe_path = out / "recipes/feedback_classifier.yaml"
    recipe = yaml.safe_load(recipe_path.read_text())
    workdir = out.parents[1].resolve()
    assert recipe["custom_operator_paths"] == [str(workdir / "scripts/sandbox"),
                                               str(workdir / "scripts/sandbox/dj_ops/quality_classifier.py")]
    op = recipe["process"][-1]["quality_classifier_filter"]
    assert op["model_path"] == [f"results/tiny/feedback/classifier/fold{k}.npz" for k in range(3)]
    stats = json.loads((out / "recipes/feedback_classifier.json").read_text())
    assert stats["op"] == "quality_classifier_filter" and stats["cost"]["train_seconds"] > 0
    counts = json.loads((out / "processed/feedback_classifier/op_counts.json").read_text())
    assert counts["path"] == "mask", counts  # on the pool's scores, computed once by the op
    metrics = json.loads((out / "data_metrics/feedback_classifier.json").read_text())
    assert "quality" in metrics and metrics["noise_removal"]["recall_per_kind_interval"]

    # dj-process runs the saved recipe unchanged and keeps what the workflow kept
    export = tmp_path / "dj/data.jsonl"
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe_path), "--dataset_path",
                             str(out / "data/pool.jsonl"), "--export_path", str(export), "--np", "2",
                             "--open_monitor", "false"], cwd=tiny_run_copy, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = sorted(json.loads(line)["sandbox_row"] for line in export.read_text().splitlines())
    workflow_rows = [json.loads(line)["sandbox_row"]
                     for line in (tiny_run_copy / target).read_text().splitlines()]
    assert rows == sorted(workflow_rows)

    # an HPO base: the sweep check accepts the classifier filter's threshold as a parameter
    sweep = tiny_run_copy / "classifier-sweep.yaml"
    parameters = {"quality_classifier_filter.min_value": {"min": 0.3, "max": 0.6}}
    sweep.write_text(yaml.safe_dump({"method": "random", "run_cap": 2, "parameters": parameters,
                                     "metric": {"name": "kept_fraction", "goal": "maximize"}}))
    hpo = write_config(tiny_run_copy, {**TINY_CONFIG, "feedback": feedback, "hpo": {
        "sweep": str(sweep), "seeds": [0], "sampler_seed": 0, "confirm_top": 0, "batched": True,
        "base": "feedback_classifier"}}, name="classifier-hpo.yaml")
    result = snakemake(tiny_run_copy, "results/tiny/hpo/sweep.json", "--cores", "1", "--configfile", str(hpo))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    # a datamodels group: operator groups over its recipe read that recipe's own analysis of the pool
    planned = planned_jobs(tiny_run_copy, "datamodels", "--configfile", str(config), "--config",
                           "datamodels={recipe: feedback_classifier}")
    assert planned.get("analyze_feedback") == 1 and planned.get("datamodels_train", 0) >= 1, planned

    # without a trusted sample the classifier is skipped, with the fix
    user_data = tmp_path / "user.jsonl"
    user_data.write_text((out / "demo/pool.jsonl").read_text())
    no_reference = write_config(tiny_run_copy, {**TINY_CONFIG, "dataset_path": str(user_data),
                                           "feedback": feedback}, name="classifier-no-reference.yaml")
    dry = snakemake(tiny_run_copy, "-n", "--configfile", str(no_reference))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "no reference_path, so classifier is skipped" in dry.stdout + dry.stderr
    warnings = dry.stdout + dry.stderr
    assert "classifier: no trusted sample, so the data table's quality scores are skipped" in warnings
    assert "quality_scores" not in dry.stdout and "feedback_classifier" not in dry.stdout
