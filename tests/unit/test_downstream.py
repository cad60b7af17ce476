"""Downstream tasks through lm-evaluation-harness, in process: the proxies' lm-eval models score as the
proxies' own held-out scoring does, and the shipped task rebuilds byte for byte from text the pool never
sees. The tasks through the workflow's scripts and Snakemake are in workflow/test_downstream_tasks.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import yaml
from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_model

from conftest import REPO
from sandbox.demo.corpus import build_demo_with_reference
from sandbox.demo.task import DemoSettings, build_items, card_facts
from sandbox.downstream.harness import load_task  # noqa: F401 (registers the sandbox-* models)
from sandbox.downstream.tasks import DEMO_TASK_SETTINGS
from sandbox.io.jsonl import write_jsonl
from sandbox.proxies import hf as hf_proxy
from sandbox.proxies.gpt_model import ByteGPT, ModelConfig, save_checkpoint
from sandbox.proxies.gpt_model import score_documents as gpt_scores
from sandbox.proxies.ngram import KneserNeyLM

LN2 = math.log(2)
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


def peaked_gpt(path: Path) -> Path:
    """A tiny ByteGPT checkpoint at path, with peaked predictions, so that a wrong window or position
    shows in the numbers."""
    torch.manual_seed(0)
    model = ByteGPT(ModelConfig(seq_len=32, d_model=32, n_layers=1, n_heads=2))
    torch.nn.init.normal_(model.token_embedding.weight, std=1.0)
    save_checkpoint(path, model, {})
    return path


@pytest.fixture(scope="module")
def gpt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return peaked_gpt(tmp_path_factory.mktemp("gpt") / "model.pt")


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
