"""The `hf` proxy's parts: a causal LM from a local Hugging Face folder (through `transformers` or
ModelScope's wrappers of it), its text codec, training windows and per-document scoring.

Nothing is downloaded: the folder holds a config.json (trained from scratch) and, for
`init: pretrained`, its weights; a tokenizer in the folder is used, else UTF-8 bytes are the tokens.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from sandbox.io.jsonl import InputError

# Set before transformers is imported (lazily, below): a run never reaches a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sandbox.proxies.train_hf import HUBS, INITS  # noqa: F401 (declared with the trainer's options)

BYTE_VOCAB = 256
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "spiece.model")
IGNORE = -100
# what a saved model's folder holds beside weights and tokenizer: its training window and hub
SETTINGS = "recipe_sandbox.json"
TOKENIZER_EXTRAS = ("special_tokens_map.json", "merges.txt", "added_tokens.json")


@dataclass(frozen=True)
class Codec:
    """How documents become token ids: `start_id` begins every document (so its first token is
    predicted too), `encode` maps a document's UTF-8 bytes to ids."""

    name: str
    start_id: int
    encode: Callable[[bytes], list[int]]


def auto_classes(hub: str) -> tuple[Any, Any, Any]:
    """(AutoConfig, AutoModelForCausalLM, AutoTokenizer) of transformers or of ModelScope."""
    if hub not in HUBS:
        raise InputError(f"hf.hub is {hub!r}. Fix: use one of {', '.join(HUBS)}.")
    module = importlib.import_module(hub)
    return module.AutoConfig, module.AutoModelForCausalLM, module.AutoTokenizer


def check_model_dir(model_dir: Path, init: str) -> None:
    """InputError naming the fix unless model_dir holds what `init` needs."""
    if init not in INITS:
        raise InputError(f"hf.init is {init!r}. Fix: use scratch (new weights from config.json) or "
                         "pretrained.")
    if not (model_dir / "config.json").is_file():
        raise InputError(
            f"{model_dir}: no config.json. Fix: set hf.model to a local folder written by save_pretrained "
            "(or holding only a config.json, e.g. config/hf/tiny-llama); nothing is downloaded at run time."
        )
    if init == "pretrained" and not any((model_dir / name).is_file() for name in WEIGHT_FILES):
        raise InputError(
            f"{model_dir}: hf.init is pretrained but the folder has no weights ({', '.join(WEIGHT_FILES)}). "
            "Fix: save the model there with save_pretrained, or set hf.init: scratch."
        )


def load_model(model_dir: Path, init: str, hub: str, seed: int) -> torch.nn.Module:
    """The causal LM: its saved weights, or new weights (seeded) from its config."""
    check_model_dir(model_dir, init)
    auto_config, auto_model, _ = auto_classes(hub)
    if init == "pretrained":
        return auto_model.from_pretrained(str(model_dir))
    torch.manual_seed(seed)
    return auto_model.from_config(auto_config.from_pretrained(str(model_dir)))


def context_length(model: torch.nn.Module) -> int | None:
    """The longest sequence the model's positions allow, when its config says."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(model.config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def vocab_size(model: torch.nn.Module) -> int:
    return int(model.get_input_embeddings().num_embeddings)


def load_codec(model_dir: Path, hub: str, model: torch.nn.Module) -> Codec:
    """The folder's tokenizer when it has one, else bytes (ids 0..255, 256 starts a document)."""
    if any((model_dir / name).is_file() for name in TOKENIZER_FILES):
        _, _, auto_tokenizer = auto_classes(hub)
        tokenizer = auto_tokenizer.from_pretrained(str(model_dir))
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if start is None:
            raise InputError(f"{model_dir}: the tokenizer has neither a BOS nor an EOS token, so a "
                             "document's first token cannot be predicted. Fix: set bos_token in its "
                             "tokenizer_config.json.")

        def encode_text(data: bytes) -> list[int]:
            # a budget's last document may end inside a UTF-8 sequence
            return tokenizer(data.decode("utf-8", "ignore"), add_special_tokens=False)["input_ids"]

        return Codec(type(tokenizer).__name__, int(start), encode_text)
    if vocab_size(model) < BYTE_VOCAB + 1:
        raise InputError(
            f"{model_dir}: no tokenizer files, so bytes are the tokens, but vocab_size is "
            f"{vocab_size(model)}. Fix: set vocab_size to at least {BYTE_VOCAB + 1} in config.json (256 "
            "bytes and a document start), or save a tokenizer in the folder."
        )
    return Codec("bytes", BYTE_VOCAB, list)


def token_stream(documents: Sequence[bytes], codec: Codec) -> list[int]:
    """start doc1 start doc2 ...: the training stream."""
    stream: list[int] = []
    for data in documents:
        stream.append(codec.start_id)
        stream.extend(codec.encode(data))
    return stream


def windows(ids: Sequence[int], seq_len: int) -> list[list[int]]:
    """Windows of up to seq_len + 1 ids, each sharing its first id with the previous one's last, so
    every id after the first is a target exactly once."""
    return [list(ids[start : start + seq_len + 1]) for start in range(0, max(len(ids) - 1, 0), seq_len)]


def batch_tensors(batch: Sequence[Sequence[int]],
                  device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, labels) of right-padded windows; padding is never a target."""
    length = max(len(window) for window in batch)
    input_ids = torch.zeros(len(batch), length, dtype=torch.long)
    attention = torch.zeros(len(batch), length, dtype=torch.long)
    for row, window in enumerate(batch):
        input_ids[row, : len(window)] = torch.tensor(window)
        attention[row, : len(window)] = 1
    labels = input_ids.masked_fill(attention == 0, IGNORE)
    return input_ids.to(device), attention.to(device), labels.to(device)


def window_nats(model: torch.nn.Module, batch: Sequence[Sequence[int]], device: torch.device) -> torch.Tensor:
    """Summed NLL (nats) of each window's targets (all ids but its first)."""
    input_ids, attention, labels = batch_tensors(batch, device)
    logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1].float()
    targets = labels[:, 1:]
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none",
                             ignore_index=IGNORE)
    return losses.view(targets.shape).sum(dim=1)


def score_documents(model: torch.nn.Module, codec: Codec, documents: Sequence[bytes], seq_len: int,
                    batch_size: int, device: torch.device) -> list[tuple[float, int]]:
    """(NLL in bits, bytes scored) per document: every token of it predicted once, the first from
    the document start, so the bits cover all of its bytes."""
    pieces = [(index, window) for index, data in enumerate(documents)
              for window in windows([codec.start_id, *codec.encode(data)], seq_len)]
    pieces.sort(key=lambda piece: len(piece[1]), reverse=True)
    nats = [0.0] * len(documents)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pieces), batch_size):
            batch = pieces[start : start + batch_size]
            for (index, _), value in zip(
                    batch, window_nats(model, [window for _, window in batch], device).tolist()):
                nats[index] += value
    return [(value / math.log(2), len(data)) for value, data in zip(nats, documents)]


def save_trained(model: torch.nn.Module, source: Path, out_dir: Path, seq_len: int, hub: str) -> None:
    """A folder the downstream tasks load (sandbox.downstream.harness, sandbox-hf): the trained weights
    (save_pretrained), the source folder's tokenizer files when it has them, the window and hub."""
    model.save_pretrained(out_dir)
    for name in TOKENIZER_FILES + TOKENIZER_EXTRAS:
        if (source / name).is_file():
            (out_dir / name).write_bytes((source / name).read_bytes())
    (out_dir / SETTINGS).write_text(json.dumps({"seq_len": seq_len, "hub": hub}) + "\n", encoding="utf-8")
