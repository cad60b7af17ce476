"""Downstream tasks through lm-evaluation-harness: the proxies' lm-eval models score as the proxies' own
held-out scoring does, a task whose data is not on disk fails naming the task and the file, and
adding a task to a finished run runs only its jobs and the summaries they feed, whose tables then show
each variant's accuracy beside the chance level and the continuous metric with intervals."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_model

from conftest import REPO, TINY_CONFIG, planned_jobs, snakemake, write_config
from sandbox.demo.corpus import build_demo, build_demo_with_reference
from sandbox.demo.task import DemoSettings, build_items, card_facts
from sandbox.downstream.harness import load_task  # registers the sandbox-* models too
from sandbox.downstream.tasks import DEMO_TASK_SETTINGS, resolve_task
from sandbox.io.jsonl import InputError, write_jsonl
from sandbox.proxies import hf as hf_proxy
from sandbox.proxies.gpt_model import ByteGPT, ModelConfig, save_checkpoint
from sandbox.proxies.gpt_model import score_documents as gpt_scores
from sandbox.proxies.ngram import KneserNeyLM

LN2 = math.log(2)
# Every trigger but params: a copy's own folder is a new --repo param of provenance.
TRIGGERS = ["--rerun-triggers", "mtime", "input", "code", "software-env"]
LONG = ("The Congress shall have power to lay and collect taxes, duties, imposts and excises, to pay "
        "the debts and provide for the common defence and general welfare of the United States.")
# (context, continuation): short ones fit one GPT window, so scoring the context alone gives its
# bytes the same windows as scoring it with the continuation
SHORT = [("The cat", " sat."), ("", "caf\u00e9"), ("a b", " c"), ("State of", " the Union")]
SHIPPED = REPO / "config/tasks/sotu_hellaswag"


def requests(pairs: list[tuple[str, ...]], kind: str = "loglikelihood") -> list[Instance]:
    return [Instance(kind, {}, pair, index) for index, pair in enumerate(pairs)]


def nats(bits_and_bytes: list[tuple[float, int]]) -> list[float]:
    return [bits * LN2 for bits, _ in bits_and_bytes]


@pytest.fixture(scope="module")
def gpt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = ByteGPT(ModelConfig(seq_len=32, d_model=32, n_layers=1, n_heads=2))
    # peaked predictions, so that a wrong window or position shows in the numbers
    torch.nn.init.normal_(model.token_embedding.weight, std=1.0)
    path = tmp_path_factory.mktemp("gpt") / "model.pt"
    save_checkpoint(path, model, {})
    return path


def test_the_gpt_model_scores_as_the_gpt_proxy(gpt_file: Path) -> None:
    lm = get_model("sandbox-gpt")(model=str(gpt_file), device="cpu", batch_size=3)
    model, seq_len, cpu = lm.model, lm.seq_len, torch.device("cpu")
    own = [nats(gpt_scores(model, [context + continuation, context], seq_len, 8, cpu))
           for context, continuation in SHORT]
    for (logprob, greedy), (whole, head), (context, continuation) in zip(
            lm.loglikelihood(requests(SHORT)), own, SHORT):
        assert logprob == pytest.approx(head - whole, rel=1e-5, abs=1e-6)
        # and from one forward pass: the continuation's bytes after BOS and the context's
        data, start = (context + continuation).encode(), len(context.encode())
        with torch.no_grad():
            log_probs = torch.log_softmax(model(torch.tensor([[256, *data[:-1]]])).double(), dim=-1)[0]
        targets = torch.tensor(list(data))
        direct = log_probs[torch.arange(len(data)), targets][start:].sum().item()
        assert logprob == pytest.approx(direct, rel=1e-5)
        assert greedy == bool((log_probs.argmax(dim=-1) == targets)[start:].all())
    # a document longer than the window: BOS, then sliding windows, as the held-out scores
    (whole,) = nats(gpt_scores(model, [LONG], seq_len, 8, cpu))
    assert lm.loglikelihood(requests([("", LONG)]))[0][0] == pytest.approx(-whole, rel=1e-5)
    rolling = lm.loglikelihood_rolling(requests([(LONG,)], "loglikelihood_rolling"))
    assert rolling == [pytest.approx(-whole, rel=1e-5)]
    with pytest.raises(NotImplementedError, match="does not generate"):
        lm.generate_until(requests([("The cat", {"until": ["."]})], "generate_until"))


def test_the_ngram_model_scores_as_the_ngram_proxy(tmp_path: Path) -> None:
    lm_file = tmp_path / "model.npz"
    documents = [LONG.encode(), b"The cat sat on the mat.", "caf\u00e9 au lait".encode()]
    KneserNeyLM.train(documents, 3).save(lm_file)
    own = KneserNeyLM.load(lm_file)
    lm = get_model("sandbox-ngram")(model=str(lm_file))
    best = chr(int(own.distribution(b"The c").argmax()))
    pairs = [*SHORT, (LONG[:100], LONG[100:]), ("The c", best), ("The c", "x")]
    scores = lm.loglikelihood(requests(pairs))
    for (logprob, _), (context, continuation) in zip(scores, pairs):
        whole, head = own.document_nll_bits([(context + continuation).encode(), context.encode()]) * LN2
        # every byte reads only the bytes before it in its document: exact at any length
        assert logprob == pytest.approx(head - whole, rel=1e-9)
    assert [greedy for _, greedy in scores[-2:]] == [True, best == "x"]
    rolling = lm.loglikelihood_rolling(requests([(LONG,)], "loglikelihood_rolling"))
    assert rolling == [pytest.approx(-own.document_nll_bits([LONG.encode()])[0] * LN2, rel=1e-9)]


def hf_trained(folder: Path, out: Path, vocab_size: int = 257, bos: int = 256) -> Path:
    """A tiny GPT-2 with peaked predictions, saved as train_hf saves one (save_trained)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab_size, n_positions=64, n_embd=32, n_layer=1, n_head=2,
                        bos_token_id=bos, eos_token_id=bos)
    config.save_pretrained(folder)
    torch.manual_seed(1)
    model = GPT2LMHeadModel(config)
    torch.nn.init.normal_(model.transformer.wte.weight, std=1.0)
    hf_proxy.save_trained(model, folder, out, seq_len=16, hub="transformers")
    return out


def bpe_folder(folder: Path) -> int:
    """A byte-level BPE tokenizer in folder; returns its vocabulary size."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train_from_iterator([LONG, "The cat sat on the mat."] * 5,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "<unk>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", unk_token="<unk>")
    tokenizer.save_pretrained(folder)
    return len(tokenizer)


@pytest.mark.parametrize("tokens", ["bytes", "bpe"])
def test_the_hf_model_scores_as_the_hf_proxy(tmp_path: Path, tokens: str) -> None:
    source = tmp_path / "source"
    vocab_size = bpe_folder(source) if tokens == "bpe" else 257
    out = hf_trained(source, tmp_path / "model", vocab_size, bos=0 if tokens == "bpe" else 256)
    lm = get_model("sandbox-hf")(model=str(out), device="cpu", batch_size=4)
    assert (lm.codec.name == "bytes") == (tokens == "bytes")

    def own(texts: list[str]) -> list[float]:
        return nats(hf_proxy.score_documents(lm.model, lm.codec, [text.encode() for text in texts], 16, 4,
                                             torch.device("cpu")))

    # windows of seq_len tokens from the document start: a context scores alike with or without what
    # follows it, at any length (the BPE splits these contexts where the continuation starts)
    pairs = [("The cat", " sat on the mat."), (LONG[:101], LONG[101:]), ("", LONG)]
    for (logprob, _), (context, continuation) in zip(lm.loglikelihood(requests(pairs)), pairs):
        whole, head = own([context + continuation, context])
        assert logprob == pytest.approx(head - whole, rel=1e-5, abs=1e-5)
    assert lm.loglikelihood_rolling(requests([(LONG,)], "loglikelihood_rolling")) == [
        pytest.approx(-own([LONG])[0], rel=1e-5)]
    if tokens == "bpe":
        # lm-eval's convention for tokenizers: a context's trailing space joins the continuation
        moved, plain = lm.loglikelihood(requests([("The cat ", "sat"), ("The cat", " sat")]))
        assert moved[0] == pytest.approx(plain[0], rel=1e-6)


def test_the_shipped_task_rebuilds_byte_for_byte_from_text_the_pool_never_sees(tmp_path: Path) -> None:
    settings = DemoSettings()
    demo_defaults = yaml.safe_load((REPO / "config/config.yaml").read_text())["demo"]
    assert {key: getattr(settings, key) for key in demo_defaults} == demo_defaults
    assert {key: demo_defaults[key] for key in DEMO_TASK_SETTINGS} == DEMO_TASK_SETTINGS
    rows = build_items(1000, 0, settings)
    write_jsonl(tmp_path / "items.jsonl", rows)
    assert (tmp_path / "items.jsonl").read_bytes() == (SHIPPED / "sotu_hellaswag.jsonl").read_bytes()
    assert json.loads((SHIPPED / "build.json").read_text()) == {**card_facts(rows, settings), "seed": 0}
    demo = settings
    pool, eval_set, reference = build_demo_with_reference(demo.seed, demo.pool_docs, demo.eval_docs,
                                                          demo.reference_docs, demo.noise_fraction)
    # no speech of the task feeds the pool (clean paragraphs and noise name their speech)
    assert not {row["source_id"] for row in rows} & {record["meta"]["source"] for record in pool}
    # nor does any of its sentences occur in the pool, the eval set or the reference
    seen = "\n\0".join(record["text"] for record in pool + eval_set + reference)
    sentences = {row["ctx"] for row in rows} | {ending for row in rows for ending in row["endings"]}
    assert len(sentences) == 2000 and not [sentence for sentence in sentences if sentence in seen]
    assert all(len(set(row["endings"])) == 4 for row in rows)


def test_the_folder_train_hf_saves_reproduces_its_held_out_scores(tmp_path: Path) -> None:
    pool, eval_set = build_demo(0, pool_docs=120, eval_docs=12)
    write_jsonl(tmp_path / "train.jsonl", pool)
    write_jsonl(tmp_path / "eval.jsonl", eval_set)
    out = tmp_path / "out"
    llama = REPO / "config/hf/tiny-llama"
    command = [sys.executable, str(REPO / "scripts/train.py"), "hf", "--model", str(llama),
               "--train", str(tmp_path / "train.jsonl"), "--eval", str(tmp_path / "eval.jsonl"),
               "--out-dir", str(out), "--heldout-out", str(out / "heldout.jsonl"), "--save-model",
               str(out / "model"), "--budget-bytes", "20000", "--seq-len", "32", "--batch-size", "8",
               "--device", "cpu"]
    trained = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    lm = get_model("sandbox-hf")(model=str(out / "model"), device="cpu")
    rows = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    scores = lm.document_nats([record["text"] for record in eval_set])
    assert scores == [pytest.approx(row["nll_bits"] * LN2, rel=1e-6) for row in rows]


def run_downstream(task: str, model: Path, out: Path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "scripts/downstream.py"), "--task", task, "--proxy", "gpt",
               "--model", str(model), "--items-out", str(out / "items.jsonl"), "--results-out",
               str(out / "results.json"), "--device", "cpu"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **env},
                          timeout=300)


def mini_task(folder: Path, name: str, items: int, data: str | None = None) -> Path:
    """A task of the shipped one's first items (its YAML, data path relative to the workflow folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = (SHIPPED / "sotu_hellaswag.jsonl").read_text().splitlines()[:items]
    (folder / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    text = (SHIPPED / "sotu_hellaswag.yaml").read_text().replace("task: sotu_hellaswag", f"task: {name}")
    text = text.replace("config/tasks/sotu_hellaswag/sotu_hellaswag.jsonl",
                        data or f"config/tasks/{name}/{name}.jsonl")
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


def test_a_task_whose_data_is_not_on_disk_fails_naming_the_task_and_the_file(gpt_file: Path,
                                                                              tmp_path: Path) -> None:
    lost = tmp_path / "nowhere/lost.jsonl"
    task = mini_task(tmp_path / "tasks", "lost_task", 3, data=str(lost))
    with pytest.raises(InputError, match=f"task lost_task: its data file {lost} is not on disk"):
        load_task(resolve_task(str(task), tmp_path))
    # a task of lm-eval's catalogue reads the hub's dataset from the local cache, here empty
    hub = run_downstream("hellaswag", gpt_file, tmp_path, HF_HOME=str(tmp_path / "hf"),
                         HF_DATASETS_CACHE=str(tmp_path / "hf/datasets"))
    assert hub.returncode == 2, hub.stderr[-2000:]
    assert "task hellaswag: its data is not on disk" in hub.stderr and "Rowan/hellaswag" in hub.stderr
    assert str(tmp_path / "hf/datasets") in hub.stderr


@pytest.fixture(scope="module")
def finished(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the finished tiny run (mtimes and Snakemake's records kept) with two small tasks."""
    copy = tmp_path_factory.mktemp("downstream") / "run"
    shutil.copytree(tiny_run, copy, symlinks=True)
    for name in ("sotu_mini", "sotu_more"):
        mini_task(copy / "config/tasks" / name, name, 40)
    return copy


def test_adding_a_task_runs_only_its_jobs_and_the_summary_shows_it(finished: Path) -> None:
    config = write_config(finished, {**TINY_CONFIG, "tasks": ["sotu_mini"]}, name="task-config.yaml")
    jobs = planned_jobs(finished, "--configfile", str(config), *TRIGGERS)
    # 2 proxies x 4 variants x 2 seeds; the n-gram's models are counted again to be loaded
    assert jobs["downstream"] == 16 and jobs["ngram_model"] == 8 and jobs["summarize"] == 1, jobs
    assert set(jobs) <= {"downstream", "ngram_model", "summarize", "report_verdict", "plot_bpb", "all"}, jobs
    result = snakemake(finished, "--cores", "2", "--configfile", str(config), *TRIGGERS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    items = finished / "results/tiny/downstream/sotu_mini/gpt/k_sigma/seed1/items.jsonl"
    rows = [json.loads(line) for line in items.read_text().splitlines()]
    assert len(rows) == 40 and {row["n_choices"] for row in rows} == {4}
    assert all(row["gold_logprob_per_byte"] == pytest.approx(row["gold_logprob"] / row["gold_bytes"])
               and 0 < row["gold_prob_per_byte"] < 1 and row["acc"] in (0, 1) for row in rows)
    summary = json.loads((finished / "results/tiny/summary.json").read_text())
    task = summary["downstream"]["sotu_mini"]
    assert task["n_items"] == 40 and task["chance"] == 0.25 and set(task["proxies"]) == {"ngram", "gpt"}
    comparison = task["proxies"]["ngram"]["comparisons"]["k_sigma_vs_raw"]
    assert comparison["acc"]["ci_points"] is not None
    assert comparison["gold_bpb"]["relative_ci_percent"] is not None
    assert any(rung.startswith("ngram/sotu_mini/") for rung in summary["agreement"]["downstream_rungs"])
    assert "rungs (held-out bpb and downstream metrics)" in summary["agreement"]["line"] or \
        "Rungs DISAGREE" in summary["agreement"]["line"]
    markdown = (finished / "results/tiny/summary.md").read_text()
    assert "### Downstream tasks on `gpt`" in markdown and "| chance |" in markdown
    assert "sotu_mini on `ngram`: `" in markdown and "25.0 %" in markdown
    page = (finished / "results/tiny/report/verdict.html").read_text()
    assert "Downstream tasks on <code>gpt</code>" in page

    # a second task: its own jobs only, the first task's stay done
    both = write_config(finished, {**TINY_CONFIG, "tasks": ["sotu_mini", "sotu_more"]},
                        name="tasks-config.yaml")
    jobs = planned_jobs(finished, "--configfile", str(both), *TRIGGERS)
    assert jobs["downstream"] == 16 and "ngram_model" not in jobs, jobs
    assert set(jobs) <= {"downstream", "summarize", "report_verdict", "plot_bpb", "all"}, jobs

    lost = write_config(finished, {**TINY_CONFIG, "tasks": ["config/tasks/lost/lost.yaml"]}, name="lost.yaml")
    mini_task(finished / "config/tasks/lost", "lost", 3, data="config/tasks/lost/gone.jsonl")
    dry = snakemake(finished, "-n", "--configfile", str(lost), *TRIGGERS)
    assert dry.returncode != 0, dry.stdout[-3000:]
    assert "task lost: its data file config/tasks/lost/gone.jsonl is not on disk" in dry.stdout + dry.stderr
