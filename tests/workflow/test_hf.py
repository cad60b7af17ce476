"""The `hf` proxy: any causal LM of transformers from a local folder (tiny GPT-2 and LLaMA configs
built here), loaded through transformers or ModelScope, trained by `train.py hf` on the shared byte
budget and scored over every byte of every held-out document, and added to a copy of the tiny run.
Its windows and scores in process are in unit/test_hf_scoring.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO, TINY_CONFIG, planned_jobs, snakemake, write_config
from sandbox.demo.corpus import build_demo
from sandbox.io.jsonl import write_jsonl
from sandbox.proxies.hf import load_codec, load_model, score_documents
from test_hf_scoring import gpt2_folder

TINY_LLAMA = REPO / "config" / "hf" / "tiny-llama"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hf")
    pool, eval_set = build_demo(0, pool_docs=120, eval_docs=12)
    paths = {"train": folder / "train.jsonl", "eval": folder / "eval.jsonl"}
    write_jsonl(paths["train"], pool)
    write_jsonl(paths["eval"], eval_set)
    return paths


def train_hf(data: dict[str, Path], out_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/train.py"), "hf", "--train", str(data["train"]), "--eval",
         str(data["eval"]),
         "--out-dir", str(out_dir), "--heldout-out", str(out_dir / "heldout.jsonl"), "--seed", "1",
         "--budget-bytes", "20000", "--seq-len", "32", "--batch-size", "8", *extra],
        cwd=REPO, capture_output=True, text=True)


def test_the_shipped_llama_trains_on_the_budget_and_scores_every_eval_byte(data: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    first = train_hf(data, tmp_path / "a", "--model", str(TINY_LLAMA), "--lr", "0.005")
    assert first.returncode == 0, first.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "a/heldout.jsonl").read_text().splitlines()]
    texts = [json.loads(line)["text"] for line in data["eval"].read_text().splitlines()]
    assert [row["n_bytes"] for row in rows] == [len(text.encode()) for text in texts]
    meta = json.loads((tmp_path / "a/train_meta.json").read_text())
    assert meta["proxy"] == "hf" and meta["model_type"] == "llama" and meta["tokenizer"] == "bytes"
    # bytes are the tokens: the 20000 budget symbols are 20000 ids, all but the first a target
    assert meta["tokens_budget"] == 20000 and meta["model_tokens_seen"] == 19999
    # the 120 documents hold more than the budget: part of one epoch, every byte distinct
    assert meta["train_symbols"] == 20000 and meta["distinct_train_bytes"] == 20000 - meta["budget_docs"]
    assert 0 < meta["epochs"] < 1
    # uniform over 257 ids is 8.006 bits per byte; some learning must show
    assert 0 < meta["heldout_bpb"] < 7.5
    losses = [json.loads(line)["loss"] for line in (tmp_path / "a/loss.jsonl").read_text().splitlines()]
    assert losses[-1] < losses[0]
    assert "train hf" in first.stderr  # the progress bar, in the job's log

    again = train_hf(data, tmp_path / "b", "--model", str(TINY_LLAMA), "--lr", "0.005")
    assert again.returncode == 0, again.stderr[-3000:]
    assert (tmp_path / "b/heldout.jsonl").read_text() == (tmp_path / "a/heldout.jsonl").read_text()


def test_a_pretrained_folder_with_its_tokenizer_loads_through_modelscope(data: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train([str(data["train"])], trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "<unk>"],
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", unk_token="<unk>")
    folder = tmp_path / "pretrained"
    tokenizer.save_pretrained(folder)
    torch.manual_seed(3)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.bos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)

    # a learning rate too small to move the weights: the scores are the saved model's own
    result = train_hf(data, tmp_path / "out", "--model", str(folder), "--init", "pretrained", "--hub",
                      "modelscope", "--lr", "1e-12")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((tmp_path / "out/train_meta.json").read_text())
    assert meta["tokenizer"] != "bytes" and meta["model_tokens_seen"] < 20000
    model = load_model(folder, "pretrained", "transformers", seed=0)
    texts = [json.loads(line)["text"].encode() for line in data["eval"].read_text().splitlines()]
    expected = score_documents(model, load_codec(folder, "transformers", model), texts, 32, 8,
                               torch.device("cpu"))
    rows = [json.loads(line) for line in (tmp_path / "out/heldout.jsonl").read_text().splitlines()]
    assert [row["nll_bits"] for row in rows] == pytest.approx([bits for bits, _ in expected], rel=1e-5)
    assert [row["n_bytes"] for row in rows] == [len(text) for text in texts]


@pytest.mark.parametrize(("make", "extra", "message"), [
    (lambda folder: folder.mkdir(), [], "no config.json"),
    (lambda folder: gpt2_folder(folder, vocab_size=200), [], "vocab_size is 200"),
    (lambda folder: gpt2_folder(folder), ["--init", "pretrained"], "has no weights"),
    (lambda folder: gpt2_folder(folder), ["--seq-len", "64"], "set hf.seq_len to at most 63"),
])
def test_a_folder_that_cannot_serve_is_named_with_the_fix(data: dict[str, Path], tmp_path: Path, make,
                                                          extra: list[str],
                                                           message: str) -> None:
    make(tmp_path / "model")
    # later arguments win: extra overrides train_hf's defaults
    result = train_hf(data, tmp_path / "out", "--model", str(tmp_path / "model"), *extra)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert "Fix:" in result.stderr and "Traceback" not in result.stderr


def test_adding_the_hf_proxy_runs_only_its_jobs(tiny_run_copy: Path) -> None:
    hf = {"model": "config/hf/tiny-llama", "init": "scratch", "hub": "transformers", "seq_len": 32,
          "batch_size": 4,
          "lr": 0.003, "warmup_fraction": 0.1, "min_lr_ratio": 0.1, "weight_decay": 0.1, "threads": 1}
    config = write_config(tiny_run_copy, {**TINY_CONFIG, "proxies": ["ngram", "gpt", "hf"], "hf": hf},
                          name="hf-config.yaml")
    jobs = planned_jobs(tiny_run_copy, "--configfile", str(config))
    assert jobs["train_hf"] == 8 and jobs["evaluate"] == 4 and jobs["summarize_proxy"] == 1, jobs
    # the report adds the new proxy's bpb figure and redraws the pages drawn from the summary
    assert set(jobs) <= {"train_hf", "evaluate", "provenance", "summarize", "summarize_proxy", "all",
                         "report_verdict", "plot_bpb"}, jobs
    result = snakemake(tiny_run_copy, "results/tiny/eval/hf/k_sigma.json", "results/tiny/eval/hf/raw.json",
                       "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    evaluation = json.loads((tiny_run_copy / "results/tiny/eval/hf/k_sigma.json").read_text())
    assert evaluation["proxy"] == "hf" and set(evaluation["heldout_bpb_per_seed"]) == {"0", "1"}
    # the evaluation is each seed's model's own score of the whole eval set, not a number of its own
    for seed, bpb in evaluation["heldout_bpb_per_seed"].items():
        meta_path = tiny_run_copy / f"results/tiny/models/hf/k_sigma/seed{seed}/train_meta.json"
        meta = json.loads(meta_path.read_text())
        assert bpb == pytest.approx(meta["heldout_bpb"], rel=1e-9)

    # the copy's own model config (the repository's and the tiny run's stay as they are); left as it was
    model_config = tiny_run_copy / "config/hf/tiny-llama/config.json"
    before, original = model_config.stat(), model_config.read_bytes()
    model_config.write_bytes(original.replace(b'"num_hidden_layers": 3', b'"num_hidden_layers": 2'))
    try:
        # an edited model config retrains the hf models only
        rerun = planned_jobs(tiny_run_copy, "--configfile", str(config))
    finally:
        model_config.write_bytes(original)
        os.utime(model_config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert rerun["train_hf"] == 8, rerun
    assert set(rerun) <= {"train_hf", "evaluate", "provenance", "summarize", "summarize_proxy", "all",
                          "report_verdict", "plot_bpb"}, rerun
