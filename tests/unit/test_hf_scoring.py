"""The `hf` proxy's scoring in process: windows make every id after the first a target once, and the
scores are the model's own log-likelihood of every byte (a tiny GPT-2 built here). Training through
`train.py hf` and the proxy in the workflow are in workflow/test_hf.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sandbox.proxies.hf import load_codec, load_model, score_documents, windows


def gpt2_folder(folder: Path, vocab_size: int = 257, with_weights: bool = False) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab_size, n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=256, eos_token_id=256)
    if with_weights:
        torch.manual_seed(7)
        GPT2LMHeadModel(config).save_pretrained(folder)
    else:
        config.save_pretrained(folder)
    return folder


def test_windows_make_every_id_after_the_first_a_target_once() -> None:
    ids = list(range(11))
    chunks = windows(ids, 4)
    assert chunks == [[0, 1, 2, 3, 4], [4, 5, 6, 7, 8], [8, 9, 10]]
    assert [target for chunk in chunks for target in chunk[1:]] == ids[1:]
    assert windows([5], 4) == [] and windows([], 4) == []


def test_scores_equal_the_models_own_log_likelihood_of_every_byte(tmp_path: Path) -> None:
    folder = gpt2_folder(tmp_path / "gpt2", with_weights=True)
    model = load_model(folder, "pretrained", "transformers", seed=0)
    codec = load_codec(folder, "transformers", model)
    documents = [b"the cat sat", "caf\u00e9 au lait".encode(), b"x"]
    scores = score_documents(model, codec, documents, seq_len=32, batch_size=2, device=torch.device("cpu"))
    for data, (bits, n_bytes) in zip(documents, scores):
        ids = torch.tensor([[256, *data]])
        with torch.no_grad():
            log_probs = torch.log_softmax(model(input_ids=ids).logits[0, :-1].double(), dim=-1)
        expected = (-log_probs[torch.arange(len(data)), ids[0, 1:]].sum().item()
                    / torch.log(torch.tensor(2.0)).item())
        assert n_bytes == len(data)
        assert bits == pytest.approx(expected, rel=1e-4)
