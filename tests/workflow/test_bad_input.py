"""Bad input fails clearly through the real workflow: the error names the file and the fix, the run
exits non-zero, and the input file is left exactly as it was (the checks in process:
unit/test_bad_input_checks.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import TINY_CONFIG, copy_workflow, planned_jobs, snakemake, write_config

GOOD_LINES = [json.dumps({"text": f"Document number {i} talks about the budget of the nation. " * 3})
              for i in range(30)]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    return copy_workflow(tmp_path / "wf")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_failing(workdir: Path, overrides: dict, target: str) -> str:
    config = write_config(workdir, {**TINY_CONFIG, **overrides})
    result = snakemake(workdir, target, "--cores", "2", "--configfile", str(config))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    return output


def test_malformed_jsonl_line(workdir: Path) -> None:
    data = workdir / "user.jsonl"
    data.write_text("\n".join(GOOD_LINES[:5] + ['{"text": "unterminated'] + GOOD_LINES[5:]) + "\n")
    before = digest(data)
    output = run_failing(workdir, {"dataset_path": str(data)}, "results/tiny/data/pool.jsonl")
    assert f"{data}:6: malformed JSON" in output
    assert "Fix:" in output
    assert digest(data) == before
    assert not (workdir / "results/tiny/data/pool.jsonl").exists()


def test_missing_text_key(workdir: Path) -> None:
    data = workdir / "user.jsonl"
    data.write_text("\n".join(GOOD_LINES) + "\n")
    before = digest(data)
    output = run_failing(workdir, {"dataset_path": str(data), "text_key": "content"},
                         "results/tiny/data/pool.jsonl")
    assert f"{data}:1: text key 'content' is missing (keys found: text)" in output
    assert "set `text_key:`" in output
    assert digest(data) == before


def test_unknown_operator(workdir: Path) -> None:
    recipe = workdir / "bad-recipe.yaml"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 5}\n"
                      "  - text_lenght_filter: {min_len: 5}\n")
    before = digest(recipe)
    output = run_failing(workdir, {"recipe": str(recipe)}, "results/tiny/recipes/recipe.yaml")
    assert f"{recipe}: Data-Juicer rejects this recipe" in output
    assert "Unknown operator 'text_lenght_filter'" in output and "text_length_filter" in output
    assert digest(recipe) == before


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("k_sigma=-1", "k_sigma"),
        ("k_sigma=three", "k_sigma"),
        ("variants=[raw,best]", "variants"),
        ("train={steps: 0}", "steps"),
        ("hpo={batched: maybe}", "batched"),
        ("experiment=..", "experiment"),
        ("experiment=.", "experiment"),
        ("datamodels={group_by: ../x}", "group_by"),
        ("feedback={folds: 1}", "folds"),  # one fold would leave its LM nothing to learn from
    ],
)
def test_invalid_config_value(workdir: Path, override: str, message: str) -> None:
    config = write_config(workdir, TINY_CONFIG)
    result = snakemake(workdir, "-n", "--configfile", str(config), "--config", override)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Invalid configuration" in output and message in output
    assert "config/schemas/config.schema.yaml" in output


def test_an_explicit_ngram_budget_is_the_ngrams_own_beside_the_gpt(workdir: Path) -> None:
    # each proxy has its own budget (issue 33): one the GPT does not train on is no longer refused,
    # and no variant has to be read to size it
    train = TINY_CONFIG["train"]
    gpt_budget = train["steps"] * train["batch_size"] * train["seq_len"]
    explicit = write_config(workdir, {**TINY_CONFIG, "ngram": {"budget_bytes": gpt_budget + 1}})
    target = "results/tiny/models/ngram/budget.json"
    result = snakemake(workdir, "-n", "-p", "--configfile", str(explicit), "--", target)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"--explicit {gpt_budget + 1}" in result.stdout and "--data  --cap" in result.stdout


def test_nested_config_booleans_and_numbers_from_the_command_line(workdir: Path) -> None:
    # Snakemake hands nested --config values over as strings; the schema says what they become.
    config = write_config(workdir, TINY_CONFIG)
    result = snakemake(workdir, "-n", "--configfile", str(config), "--config",
                       "hpo={batched: false, confirm_top: 1}", "train={ema_decay: 0.5}")
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_document_filtered_out(workdir: Path) -> None:
    recipe = workdir / "strict-recipe.yaml"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 100000000, max_len: 200000000}\n")
    output = run_failing(workdir, {"recipe": str(recipe), "variants": ["raw", "recipe"]},
                         "results/tiny/processed/recipe/data.jsonl")
    assert "removed every document" in output and "Fix: loosen the thresholds" in output
    assert not (workdir / "results/tiny/processed/recipe/data.jsonl").exists()


def test_every_refused_global_recipe_key_is_named_in_one_message(workdir: Path) -> None:
    recipe = workdir / "fused-recipe.yaml"
    recipe.write_text("project_name: mine\nop_fusion: true\nexecutor_type: ray\nexport_type: parquet\n"
                      "tokenizer_path: x\nprocess:\n  - text_length_filter: {min_len: 5}\n")
    output = run_failing(workdir, {"recipe": str(recipe)}, "results/tiny/recipes/recipe.yaml")
    assert f"{recipe}: 3 global setting(s) cannot run here" in output
    for key in ("op_fusion: True", "executor_type: 'ray'", "tokenizer_path: not a Data-Juicer setting"):
        assert key in output


def test_a_touched_or_recopied_large_dataset_reruns_nothing(workdir: Path) -> None:
    # Over Snakemake's default 1 MB limit for comparing contents instead of modification times.
    lines = [json.dumps({"text": f"Paragraph {i} of a long report on the budget, the army and the "
                                 "roads. " * 8})
             for i in range(2500)]
    data = workdir / "big.jsonl"
    data.write_text("\n".join(lines) + "\n")
    assert data.stat().st_size > 1_400_000
    # The lines repeat one sentence, so they are near-duplicates of each other and of any eval split:
    # decontamination would empty the pool. This test is about checksums, not leakage.
    config = write_config(workdir, {**TINY_CONFIG, "dataset_path": str(data), "decontamination_words": 0})
    target = "results/tiny/analysis/raw/overall.json"
    result = snakemake(workdir, target, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    data.touch()
    assert planned_jobs(workdir, target, "--configfile", str(config)) == {}
    copy = workdir / "copy.jsonl"
    copy.write_bytes(data.read_bytes())
    copy.replace(data)
    assert planned_jobs(workdir, target, "--configfile", str(config)) == {}
    data.write_text("\n".join(lines[:-1]) + "\n")
    assert planned_jobs(workdir, target, "--configfile", str(config)).get("prepare_input") == 1


MODEL_RECIPE = """process:
  - text_length_filter: {min_len: 10}
  - flagged_words_filter: {lang: en, max_ratio: 0.01}
  - language_id_score_filter: {lang: en, min_score: 0.8}
  - perplexity_filter: {lang: en, max_ppl: 1500}
  - words_num_filter: {lang: en, tokenization: true, min_num: 5}
"""


def test_every_op_missing_a_resource_is_named_before_any_job_runs(workdir: Path, tmp_path: Path) -> None:
    import time

    recipe = workdir / "model-recipe.yaml"
    recipe.write_text(MODEL_RECIPE)
    caches = {"DATA_JUICER_MODELS_CACHE": str(tmp_path / "models"),
              "DATA_JUICER_ASSETS_CACHE": str(tmp_path / "assets")}
    config = write_config(workdir, {**TINY_CONFIG, "recipe": str(recipe)})
    started = time.monotonic()
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config), env=caches)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert elapsed < 60, f"the check took {elapsed:.0f} s"
    assert ("4 operator(s) need resources this machine does not have (flagged_words_filter, "
            "language_id_score_filter, perplexity_filter, words_num_filter)") in output
    assert "word list 'flagged_words' (a JSON file named flagged_words.json)" in output
    assert "model file en.arpa.bin" in output and "model file lid.176.bin" in output
    assert f"place it in {tmp_path / 'models'} (DATA_JUICER_MODELS_CACHE)" in output
    assert "Python package kenlm" in output
    # the check is the first job: nothing touched the data
    assert "rule check_recipe" in output and "rule prepare_demo" not in output
    assert not (workdir / "results/tiny/demo").exists() and not (workdir / "results/tiny/data").exists()


def test_an_op_whose_model_file_is_in_data_juicers_cache_runs(workdir: Path, tmp_path: Path) -> None:
    import sentencepiece

    from sandbox.demo.corpus import build_demo

    models = tmp_path / "models"
    models.mkdir()
    pool, _ = build_demo(1, pool_docs=300, eval_docs=20)
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(record["text"] for record in pool),
                                             model_prefix=str(models / "en.sp"), vocab_size=300)
    recipe = workdir / "tokenized-recipe.yaml"
    recipe.write_text("process:\n  - text_length_filter: {min_len: 10}\n"
                      "  - words_num_filter: {lang: en, tokenization: true, min_num: 30}\n")
    config = write_config(workdir, {**TINY_CONFIG, "recipe": str(recipe)})
    result = snakemake(workdir, "results/tiny/processed/recipe/op_counts.json", "--cores", "2",
                       "--configfile", str(config), env={"DATA_JUICER_MODELS_CACHE": str(models)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = json.loads((workdir / "results/tiny/processed/recipe/op_counts.json").read_text())
    assert [op["op"] for op in counts["ops"]] == ["text_length_filter", "words_num_filter"]
    assert counts["ops"][1]["removed"] > 0
