"""Model-feedback filters as Data-Juicer custom operators, run by `dj-process` itself and in the
workflow (their models in process: unit/test_feedback_models.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import BIN, REPO
from sandbox.feedback.crossfit import fold_of
from sandbox.proxies.ngram import KneserNeyLM
from sandbox.recipe.masks import STAT_PREFIX
from test_feedback_models import FOLDS, OPS_PATHS, bits_per_byte, demo_models, load_ops


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return demo_models(tmp_path_factory.mktemp("feedback"))


def workflow_ops_paths(workdir: Path) -> list[str]:
    """The custom_operator_paths a workflow copy in workdir writes into its feedback recipes."""
    scripts = workdir.resolve() / "scripts"
    return [str(scripts / "sandbox"), str(scripts / "sandbox/dj_ops/ngram_filters.py")]


def dj_process(folder: Path, pool_path: Path, op: dict, name: str) -> list[dict]:
    recipe = folder / f"{name}.yaml"
    recipe.write_text(yaml.safe_dump({"custom_operator_paths": OPS_PATHS, "text_keys": "text",
                                      "process": [op]}, sort_keys=False))
    export = folder / name / "data.jsonl"
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path",
                             str(pool_path),
                             "--export_path", str(export), "--np", "2", "--open_monitor", "false"],
                            cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads(line) for line in export.read_text().splitlines()]


def test_loss_filter_through_dj_process_keeps_what_the_model_says(demo: dict) -> None:
    losses = bits_per_byte(demo["reference"], [record["text"] for record in demo["pool"]])
    bound = float(np.quantile(losses, 0.7))
    kept = dj_process(demo["folder"], demo["pool_path"],
                      {"ngram_loss_filter": {"model_path": str(demo["folder"] / "reference.npz"),
                                             "max_value": bound}}, "loss")
    expected = [record["text"] for record, loss in zip(demo["pool"], losses) if loss <= bound]
    assert [record["text"] for record in kept] == expected
    # the stat sits under __dj__stats__ as Data-Juicer's own filters' do
    exported = [json.loads(line)["__dj__stats__"]["ngram_loss"]
                for line in (demo["folder"] / "loss/data_stats.jsonl").read_text().splitlines()]
    assert np.allclose(exported, [loss for loss in losses if loss <= bound], rtol=1e-9)
    removed_origins = [record["meta"]["origin"] for record, loss in zip(demo["pool"], losses) if loss > bound]
    # a reference LM of clean speeches puts noise above the bound far more often than clean text
    assert sum(origin != "clean" for origin in removed_origins) / len(removed_origins) > 0.7


def test_importance_filter_through_dj_process_keeps_the_top_fraction(demo: dict) -> None:
    texts = [record["text"] for record in demo["pool"]]
    # cross-fitted background: each document's pool-LM bits come from the fold model that never saw it
    background = np.array([bits_per_byte(demo["background"][fold_of(text, FOLDS)], [text])[0]
                           for text in texts])
    ratio = background - bits_per_byte(demo["reference"], texts)
    bound = float(np.quantile(ratio, 0.25))
    kept = dj_process(demo["folder"], demo["pool_path"],
                      {"ngram_importance_filter": {"model_path": str(demo["folder"] / "reference.npz"),
                                                   "background_model_path": demo["background_paths"],
                                                   "min_value": bound}}, "importance")
    assert [record["text"] for record in kept] == [text for text, value in zip(texts, ratio)
                                                   if value >= bound]


def test_a_filter_without_its_model_is_refused(demo: dict) -> None:
    recipe = demo["folder"] / "no-model.yaml"
    recipe.write_text(yaml.safe_dump({"custom_operator_paths": OPS_PATHS,
                                      "process": [{"ngram_loss_filter": {}}]}))
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path",
                             str(demo["pool_path"]), "--export_path",
                             str(demo["folder"] / "none/data.jsonl")],
                            cwd=demo["folder"], capture_output=True, text=True)
    assert result.returncode != 0 and "needs model_path" in result.stdout + result.stderr


def test_cross_fitted_ops_never_score_a_document_with_an_lm_that_learned_it(demo: dict,
                                                                            tmp_path: Path) -> None:
    """The fold models come from feedback_folds.py and the n-gram trainer, as the workflow runs them; the
    scoring model of each document must be the one whose training file lacks it."""
    rng = np.random.default_rng(0)
    planted = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz "), size=400))
    records = [dict(record) for record in demo["pool"][:200]]
    records[17]["text"] += " " + planted
    texts = [record["text"] for record in records]
    pool_path = tmp_path / "pool.jsonl"
    pool_path.write_text("".join(json.dumps(record) + "\n" for record in records))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps({"text": text}) + "\n" for text in texts[:5]))
    train_files = [tmp_path / f"fold{k}_train.jsonl" for k in range(FOLDS)]
    run = subprocess.run([sys.executable, str(REPO / "scripts/feedback_folds.py"), "--pool", str(pool_path),
                          "--folds", str(FOLDS), "--out-train", *map(str, train_files),
                          "--out-counts", str(tmp_path / "folds.json")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    models = [tmp_path / f"fold{k}.npz" for k in range(FOLDS)]
    budget = 2 * sum(len(text.encode()) + 1 for text in texts)  # every training document is learned
    for train, model in zip(train_files, models):
        run = subprocess.run([sys.executable, str(REPO / "scripts/train.py"), "ngram", "--train", str(train),
                              "--eval", str(tmp_path / "eval.jsonl"), "--out-dir", str(tmp_path / model.stem),
                              "--budget-bytes", str(budget), "--order", "4", "--save-model", str(model)],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]

    trained_on = [{json.loads(line)["text"] for line in path.read_text().splitlines()}
                  for path in train_files]
    # every document is missing from exactly one fold model's training file: the one allowed to score it
    unseen_by = []
    for text in texts:
        missing = [k for k in range(FOLDS) if text not in trained_on[k]]
        assert len(missing) == 1
        unseen_by.append(missing[0])
    lms = [KneserNeyLM.load(model) for model in models]
    per_model = np.array([bits_per_byte(lm, texts) for lm in lms])  # [model, document]
    reference = bits_per_byte(demo["reference"], texts)
    paths = [str(model) for model in models]
    loss_op, importance_op = load_ops([
        {"ngram_loss_filter": {"model_path": paths}},
        {"ngram_importance_filter": {"model_path": str(demo["folder"] / "reference.npz"),
                                     "background_model_path": paths}}])
    for op, expected in [(loss_op, per_model[unseen_by, range(len(texts))]),
                         (importance_op, per_model[unseen_by, range(len(texts))] - reference)]:
        samples = {"text": texts, "__dj__stats__": [{} for _ in texts]}
        stats = op.compute_stats_batched(samples)["__dj__stats__"]
        assert np.allclose([stat[op.stat_key] for stat in stats], expected, rtol=1e-12, atol=1e-12)

    # the planted string is unseen where it is scored (high loss), learned by every other fold model
    samples = {"text": [texts[17]], "__dj__stats__": [{}]}
    planted_loss = loss_op.compute_stats_batched(samples)["__dj__stats__"][0]["ngram_loss"]
    learned = [per_model[k, 17] for k in range(FOLDS) if k != unseen_by[17]]
    assert planted_loss == per_model[unseen_by[17], 17] and planted_loss > max(learned) + 1.0
    # a document not in the pool is scored by the fold model its hash picks (none trained on it)
    new = "A new document, given to the saved recipe later, that was never in the pool."
    samples = {"text": [new], "__dj__stats__": [{}]}
    new_loss = loss_op.compute_stats_batched(samples)["__dj__stats__"][0]["ngram_loss"]
    assert new_loss == bits_per_byte(lms[fold_of(new, FOLDS)], [new])[0]


def test_feedback_variants_run_in_the_workflow_and_under_dj_process(tiny_run_copy: Path,
                                                                    tmp_path: Path) -> None:
    from conftest import TINY_CONFIG, snakemake, write_config

    # the demo's own reference sample (reference_path left empty)
    methods = ["self_loss", "reference_ppl", "importance"]
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "feedback": {
        "methods": methods, "reference_path": "", "base": "k_sigma", "order": 4, "k": 2.0,
        "keep_fraction": 0.8, "folds": 3}}, name="feedback-config.yaml")
    out = tiny_run_copy / "results/tiny"
    targets = [f"results/tiny/processed/feedback_{method}/op_counts.json" for method in methods]
    targets.append("results/tiny/eval/ngram/feedback_reference_ppl.json")
    result = snakemake(tiny_run_copy, *targets, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    for method, op in zip(methods, ["ngram_loss_filter", "ngram_loss_filter", "ngram_importance_filter"]):
        recipe = yaml.safe_load((out / f"recipes/feedback_{method}.yaml").read_text())
        assert recipe["custom_operator_paths"] == workflow_ops_paths(tiny_run_copy)
        assert next(iter(recipe["process"][-1])) == op
        # the op scored the pool once (feedback_scores): the variant takes the mask path on that stat
        counts = json.loads((out / f"processed/feedback_{method}/op_counts.json").read_text())
        assert counts["path"] == "mask" and counts["ops"][-1]["op"] == op, counts
        assert (out / f"analysis/raw/feedback_{method}.parquet").is_file()
    counts = json.loads((out / "processed/feedback_reference_ppl/op_counts.json").read_text())
    assert counts["ops"][-1]["removed"] > 0
    assert json.loads((out / "eval/ngram/feedback_reference_ppl.json").read_text())["heldout_bpb"] > 0

    # the pool's LM is cross-fitted: feedback.folds fold models, fold k's trained on the pool minus fold k
    fold_models = [f"results/tiny/feedback/models/pool/fold{k}.npz" for k in range(3)]
    ops = {method: next(iter(yaml.safe_load((out / f"recipes/feedback_{method}.yaml").read_text())
                             ["process"][-1].values())) for method in methods}
    assert ops["self_loss"]["model_path"] == fold_models
    assert ops["importance"]["background_model_path"] == fold_models
    reference = "results/tiny/feedback/models/reference.npz"
    assert ops["importance"]["model_path"] == ops["reference_ppl"]["model_path"] == reference
    assert [json.loads((out / f"recipes/feedback_{method}.json").read_text())["pool_lm_folds"]
            for method in methods] == [3, None, 3]
    folds = json.loads((out / "feedback/folds/folds.json").read_text())
    pool_docs = (out / "data/pool.jsonl").read_text().count("\n")
    assert sum(folds["docs_per_fold"]) == pool_docs and min(folds["docs_per_fold"]) > 0
    for k in range(3):
        meta = json.loads((out / f"feedback/models/pool/fold{k}/train_meta.json").read_text())
        assert meta["train_docs"] == pool_docs - folds["docs_per_fold"][k]
        assert not (out / f"feedback/folds/fold{k}_train.jsonl").exists(), "fold training files are temp()"

    # dj-process runs each refined recipe as written (the cross-fitted one finds every document's fold
    # itself, scoring every document again) and keeps exactly what the mask path kept
    for method in methods:
        export = tmp_path / f"dj-{method}/data.jsonl"
        result = subprocess.run([str(BIN / "dj-process"), "--config",
                                 str(out / f"recipes/feedback_{method}.yaml"),
                                 "--dataset_path", str(out / "data/pool.jsonl"), "--export_path", str(export),
                                 "--np", "2", "--open_monitor", "false"], cwd=tiny_run_copy,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
        rows = [json.loads(line)["sandbox_row"] for line in export.read_text().splitlines()]
        workflow_rows = [json.loads(line)["sandbox_row"]
                         for line in
                         (out / f"processed/feedback_{method}/data.jsonl").read_text().splitlines()]
        assert sorted(rows) == sorted(workflow_rows)

    reference_meta = json.loads((out / "feedback/models/reference/train_meta.json").read_text())
    assert "demo/reference.jsonl" in json.dumps(reference_meta) and reference_meta["train_docs"] == 60

    # a user's data without a reference: the methods that need one are skipped with a note
    user_data = tmp_path / "user.jsonl"
    user_data.write_text((out / "demo/pool.jsonl").read_text())
    no_reference = write_config(tiny_run_copy, {**TINY_CONFIG, "dataset_path": str(user_data), "feedback": {
        "methods": methods, "reference_path": "", "base": "k_sigma", "order": 4, "k": 2.0,
        "keep_fraction": 0.8}}, name="feedback-no-reference.yaml")
    dry = snakemake(tiny_run_copy, "-n", "--configfile", str(no_reference))
    assert "no reference_path, so reference_ppl and importance are skipped" in dry.stdout + dry.stderr
    assert "feedback_reference_ppl" not in dry.stdout and "feedback_self_loss" in dry.stdout


def test_hpo_moves_a_feedback_filters_threshold_with_the_recipes_on_the_mask_path(
        tiny_run_copy: Path) -> None:
    from conftest import TINY_CONFIG, planned_jobs, snakemake, write_config

    out = tiny_run_copy / "results/tiny"
    feedback = {"methods": ["reference_ppl"], "reference_path": "", "base": "k_sigma", "order": 4, "k": 2.0,
                "keep_fraction": 0.8}
    sweep = {"name": "tiny-feedback", "method": "random",
             "metric": {"name": "heldout_bpb@ngram", "goal": "minimize"},
             "parameters": {"ngram_loss_filter.max_value": {"min": 0.0, "max": 1.0},  # replaced below
                            "text_length_filter.min_len": {"min": 0, "max": 300}},
             "run_cap": 4, "parallel_trials": 2}
    sweep_path = tiny_run_copy / "feedback-sweep.yaml"
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "seeds": [0], "feedback": feedback, "hpo": {
        "sweep": str(sweep_path), "seeds": [0], "sampler_seed": 0, "confirm_top": 1, "batched": True,
        "base": "feedback_reference_ppl"}}, name="feedback-hpo.yaml")
    sweep_path.write_text(yaml.safe_dump(sweep))
    result = snakemake(tiny_run_copy, "results/tiny/recipes/feedback_reference_ppl.json", "--cores", "2",
                       "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    quantiles = json.loads((out / "recipes/feedback_reference_ppl.json").read_text())["stat"]["quantiles"]
    sweep["parameters"]["ngram_loss_filter.max_value"] = {"min": quantiles["0.25"], "max": quantiles["0.95"]}
    sweep_path.write_text(yaml.safe_dump(sweep))

    first_round = planned_jobs(tiny_run_copy, "hpo", "--configfile", str(config))
    assert first_round["hpo_analyze_base"] == 1 and first_round["hpo_round_eval"] == 1
    result = snakemake(tiny_run_copy, "hpo", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    hpo = out / "hpo"
    assert STAT_PREFIX + "ngram_loss" in pd.read_parquet(hpo / "analysis/stats.parquet").columns
    evaluations = {}
    for path in (hpo / "rounds").glob("*.eval.json"):
        evaluations.update(json.loads(path.read_text())["trials"])
    assert sorted(evaluations) == ["0", "1", "2", "3"]
    assert {evaluation["path"] for evaluation in evaluations.values()} == {"mask"}
    thresholds = set()
    for trial in evaluations:
        recipe = yaml.safe_load((hpo / f"trials/{trial}/recipe.yaml").read_text())
        params = json.loads((hpo / f"trials/{trial}/params.json").read_text())
        ops = {next(iter(op)): next(iter(op.values())) for op in recipe["process"]}
        max_value = params["params"]["ngram_loss_filter.max_value"]
        assert ops["ngram_loss_filter"]["max_value"] == max_value
        thresholds.add(max_value)
    assert len(thresholds) == 4
    # the confirmed trial re-ran as a variant through process's mask path, on the base's analysis
    confirmed = json.loads((hpo / "confirmed.json").read_text())["trials"][0]["trial"]
    counts = json.loads((out / f"processed/trial{confirmed}/op_counts.json").read_text())
    assert counts["path"] == "mask" and counts["output_docs"] == evaluations[str(confirmed)]["docs"]
    best = yaml.safe_load((hpo / "best_recipe.yaml").read_text())
    assert next(iter(best["process"][-1])) == "ngram_loss_filter"
    assert best["custom_operator_paths"] == workflow_ops_paths(tiny_run_copy)
