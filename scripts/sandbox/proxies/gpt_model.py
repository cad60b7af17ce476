"""A tiny byte-level GPT and the helpers shared by training and inference.

Tokens are the 256 byte values plus one BOS token (id 256) that starts every document, in training
and in scoring alike, and nothing else. Scoring (score_documents) is the definition of held-out bits
per byte: every byte of a document's UTF-8 text is predicted exactly once, the first seq_len from
the document's start (BOS included), later ones in sliding windows whose context is the preceding
bytes of the same document (at least seq_len - stride + 1 of them), as training windows that start
mid-document see them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

BOS = 256
VOCAB_SIZE = 257
CHECKPOINT_FORMAT = "recipe-sandbox-bytegpt-v1"


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the model; seq_len is the longest input it has positions for.

    The defaults (~0.37 M parameters) are sized for ~20 s of training on one CPU thread: in that
    budget a 1-3 M model gets too few optimiser steps to get past bigram-level predictions.
    """

    seq_len: int = 64
    d_model: int = 96
    n_layers: int = 3
    n_heads: int = 4
    vocab_size: int = VOCAB_SIZE


class Block(nn.Module):
    """Pre-LN transformer block: causal self-attention then a GELU MLP, each residual."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.ln_attn = nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.attn_out = nn.Linear(config.d_model, config.d_model)
        self.ln_mlp = nn.LayerNorm(config.d_model)
        self.mlp_in = nn.Linear(config.d_model, 4 * config.d_model)
        self.mlp_out = nn.Linear(4 * config.d_model, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).split(width, dim=2)
        # (batch, heads, length, head_dim), the layout scaled_dot_product_attention expects
        q, k, v = (t.view(batch, length, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_out(attended.transpose(1, 2).reshape(batch, length, width))
        return x + self.mlp_out(F.gelu(self.mlp_in(self.ln_mlp(x))))


class ByteGPT(nn.Module):
    """Token and learned position embeddings, pre-LN blocks, final LayerNorm, tied output head."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.d_model % config.n_heads:
            raise ValueError(f"d_model {config.d_model} is not divisible by n_heads {config.n_heads}")
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.position_embedding = nn.Embedding(config.seq_len, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_final = nn.LayerNorm(config.d_model)
        self.apply(self._init_weights)
        # GPT-2 scaling: keeps the residual stream's variance from growing with depth
        for name, parameter in self.named_parameters():
            if name.endswith(("attn_out.weight", "mlp_out.weight")):
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (batch, length, vocab) for token ids (batch, length), length <= seq_len."""
        length = tokens.shape[1]
        if length > self.config.seq_len:
            raise ValueError(f"input length {length} exceeds the model's seq_len {self.config.seq_len}")
        positions = torch.arange(length, device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        for block in self.blocks:
            x = block(x)
        return self.ln_final(x) @ self.token_embedding.weight.T


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def pick_device(name: str) -> torch.device:
    """"auto" is CUDA when available, else CPU; any other name is taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def encode(text: str) -> list[int]:
    """Byte ids of the text's UTF-8 encoding."""
    return list(text.encode("utf-8"))


def default_stride(seq_len: int) -> int:
    """Bytes each sliding window scores after the first: half a window, so every byte has at least
    seq_len // 2 + 1 tokens of context, for about twice the cost of disjoint windows."""
    return max(1, seq_len // 2)


def document_windows(
    ids: Sequence[int], seq_len: int, stride: int | None = None
) -> list[tuple[list[int], list[int], int]]:
    """Sliding (inputs, targets, scored_from) windows over BOS + ids that score every byte once.

    inputs are at most seq_len tokens and targets the token after each; a window scores
    targets[scored_from:]. The first window starts at BOS and scores the first seq_len bytes; each
    later one scores the next stride bytes, with the seq_len tokens before its last target as
    inputs: preceding bytes of the same document, never BOS (which only a document's start gets).
    """
    stride = default_stride(seq_len) if stride is None else stride
    if not 1 <= stride <= seq_len:
        raise ValueError(f"stride must be in 1..seq_len ({seq_len}), got {stride}")
    tokens = [BOS, *ids]
    windows = []
    scored = 0  # tokens[1 : scored + 1] are scored
    while scored < len(ids):
        end = min(len(ids), seq_len if scored == 0 else scored + stride)  # last target: tokens[end]
        start = max(0, end - seq_len)
        windows.append((tokens[start:end], tokens[start + 1 : end + 1], scored - start))
        scored = end
    return windows


def score_documents(
    model: ByteGPT,
    texts: Sequence[str],
    seq_len: int,
    batch_size: int,
    device: torch.device,
    max_bytes: int = 0,
    stride: int | None = None,
) -> list[tuple[float, int]]:
    """(NLL in bits, bytes scored) per text; max_bytes > 0 scores only that many leading bytes.

    stride (default: default_stride) is how many bytes each sliding window scores after the first.
    """
    windows: list[tuple[int, list[int], list[int], int]] = []
    byte_counts = []
    for index, text in enumerate(texts):
        ids = encode(text)
        if max_bytes > 0:
            ids = ids[:max_bytes]
        byte_counts.append(len(ids))
        windows.extend((index, *window) for window in document_windows(ids, seq_len, stride))
    # longest first, so each batch pads little
    windows.sort(key=lambda window: len(window[2]), reverse=True)
    nats = [0.0] * len(texts)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size]
            for (index, *_), value in zip(batch, _window_nats(model, batch, device)):
                nats[index] += value
    model.train(was_training)
    return [(value / math.log(2), count) for value, count in zip(nats, byte_counts)]


def _window_nats(model: ByteGPT, batch: list[tuple[int, list[int], list[int], int]],
                 device: torch.device) -> list[float]:
    """Summed NLL (nats) of each window's scored targets; the context-only targets before
    scored_from and the right padding are masked out (padding, being after every real token, is
    invisible to them under causal attention)."""
    length = max(len(targets) for _, _, targets, _ in batch)
    inputs = torch.zeros(len(batch), length, dtype=torch.long)
    targets = torch.zeros(len(batch), length, dtype=torch.long)
    mask = torch.zeros(len(batch), length, dtype=torch.bool)
    for row, (_, window_inputs, window_targets, scored_from) in enumerate(batch):
        inputs[row, : len(window_inputs)] = torch.tensor(window_inputs)
        targets[row, : len(window_targets)] = torch.tensor(window_targets)
        mask[row, scored_from : len(window_targets)] = True
    inputs, targets, mask = inputs.to(device), targets.to(device), mask.to(device)
    logits = model(inputs).float()
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    return (losses.view(len(batch), length) * mask).sum(dim=1).double().cpu().tolist()


def save_checkpoint(path: str | Path, model: ByteGPT, train_config: dict[str, Any]) -> None:
    """Write the state dict, the model config and the training config (plain values only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "model_config": asdict(model.config),
            "train_config": train_config,
            "state_dict": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        },
        partial,
    )
    partial.replace(path)


def load_checkpoint(path: str | Path, device: torch.device) -> tuple[ByteGPT, dict[str, Any]]:
    """The model (in eval mode, on device) and the whole checkpoint dict."""
    checkpoint = torch.load(Path(path), map_location="cpu", weights_only=True)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a recipe-sandbox checkpoint (format {checkpoint.get('format')!r})")
    model = ByteGPT(ModelConfig(**checkpoint["model_config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), checkpoint
