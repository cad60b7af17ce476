"""The `hf` proxy: any causal LM in a local Hugging Face folder (sandbox.proxies.hf), trained on one data
variant; its registry entry and trainer (rule train_hf).

The budget is the one every proxy gets (bytes plus one separator per document): the documents in
the same seeded order as the n-gram proxy's, but when the variant is smaller than the budget further
passes follow (epochs, in fresh seeded orders: a neural model does learn from them), each document
tokenized behind a document-start token, cut into windows of --seq-len tokens and seen once, in
seeded random order. Bytes, distinct bytes, epochs and tokens seen go to train_meta.json. Held-out
scores are bits per document over all its UTF-8 bytes (nll_bits, n_bytes), so they compare with the
other proxies whatever the tokenizer.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from sandbox.proxies.entry import Proxy, registered
from sandbox.proxies.trainer import Trainer

EVAL_BATCH_SIZE = 32
LOG_EVERY = 50
HUBS = ("transformers", "modelscope")  # sandbox.proxies.hf's, without importing torch
INITS = ("scratch", "pretrained")


def train_windows(model: Any, windows: list[list[int]], args: argparse.Namespace, device: Any,
                  loss_log: Path) -> float:
    """One seeded pass over the windows with AdamW and a warm-up + cosine schedule; returns seconds."""
    import torch
    import transformers
    from tqdm import tqdm

    from sandbox.io.jsonl import write_jsonl
    from sandbox.proxies.hf import batch_tensors

    order = torch.randperm(len(windows), generator=torch.Generator().manual_seed(args.seed)).tolist()
    steps = math.ceil(len(order) / args.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = transformers.get_cosine_with_min_lr_schedule_with_warmup(
        optimizer, round(args.warmup_fraction * steps), steps, min_lr_rate=args.min_lr_ratio)
    model.train()
    start, rows, running, tokens_seen = time.perf_counter(), [], [], 0
    for step in tqdm(range(1, steps + 1), desc="train hf", mininterval=10, file=sys.stderr):
        indices = order[(step - 1) * args.batch_size : step * args.batch_size]
        batch = [windows[index] for index in indices]
        input_ids, attention, labels = batch_tensors(batch, device)
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        tokens_seen += int(attention[:, 1:].sum())
        if step % LOG_EVERY == 0 or step == steps:
            mean = sum(running) / len(running)
            rows.append({"step": step, "loss": mean, "train_bits_per_token": mean / math.log(2),
                         "lr": schedule.get_last_lr()[0], "tokens_seen": tokens_seen,
                         "elapsed_s": round(time.perf_counter() - start, 3)})
            running = []
    write_jsonl(loss_log, rows)
    return time.perf_counter() - start


@registered(Proxy(
    name="hf",
    env="hf.yaml",
    config_section="hf",
    size_keys=("model",),
    strength=2,
    seed_effect="the seed sets the initial weights and the batch order",
    # model: the trained weights and tokenizer (save_pretrained), for the downstream tasks
    extra_files=("loss.jsonl", "model"),
    harness_model="model",
))
class HfTrainer(Trainer):
    """Train the `hf` proxy, any causal LM in a local Hugging Face folder, on one data variant."""

    description = __doc__

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", required=True, type=Path,
                            help="local folder with config.json (and weights)")
        parser.add_argument("--init", choices=INITS, default="scratch")
        parser.add_argument("--hub", choices=HUBS, default="transformers", help="whose Auto classes load it")
        parser.add_argument("--save-model", type=Path, default=None,
                            help="also save the trained model there (weights and tokenizer, for the "
                            "downstream tasks)")
        parser.add_argument("--seq-len", type=int, default=64, help="targets per training window")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--lr", type=float, default=1e-3)
        parser.add_argument("--warmup-fraction", type=float, default=0.1)
        parser.add_argument("--min-lr-ratio", type=float, default=0.1)
        parser.add_argument("--weight-decay", type=float, default=0.1)
        parser.add_argument("--device", default="auto")
        parser.add_argument("--threads", type=int, default=1)

    def check_arguments(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.budget_bytes is None:
            parser.error("--budget-bytes is required: bytes plus one separator per document, as for the "
                         "other proxies")
        for name in ("seq_len", "batch_size", "threads"):
            if getattr(args, name) < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 <= args.warmup_fraction < 1:
            parser.error("--warmup-fraction must be in [0, 1)")

    def fit(self, args: argparse.Namespace, documents: list[bytes]) -> dict[str, Any]:
        import torch

        from sandbox.io.jsonl import InputError
        from sandbox.proxies.gpt_model import count_parameters, pick_device
        from sandbox.proxies.hf import context_length, load_codec, load_model, token_stream, windows
        from sandbox.proxies.ngram import budget_documents, exposure

        torch.set_num_threads(args.threads)
        self.device = pick_device(args.device)
        model = load_model(args.model, args.init, args.hub, args.seed).to(self.device)
        limit = context_length(model)
        if limit is not None and args.seq_len + 1 > limit:
            raise InputError(f"{args.model}: the model takes {limit} positions, a window needs seq_len + 1 = "
                             f"{args.seq_len + 1}. Fix: set hf.seq_len to at most {limit - 1}.")
        self.codec = load_codec(args.model, args.hub, model)
        chosen = budget_documents(documents, args.budget_bytes, args.seed, repeat=True)
        cut = windows(token_stream(chosen, self.codec), args.seq_len)
        print(f"{type(model).__name__} ({count_parameters(model)} parameters, tokens: {self.codec.name}) "
              f"from {args.model} ({args.init}, {args.hub}); {len(chosen)} documents, "
              f"{args.budget_bytes} budget bytes, {len(cut)} windows; device {self.device}, "
              f"{args.threads} threads", flush=True)
        self.seconds = train_windows(model, cut, args, self.device, args.out_dir / "loss.jsonl")
        self.model, self.seq_len = model, args.seq_len
        return {
            "model_type": model.config.model_type,
            "n_params": count_parameters(model),
            "tokenizer": self.codec.name,
            "model_tokens_seen": sum(len(window) - 1 for window in cut),
            "train_docs": len(documents),
            "budget_docs": len(chosen),
            **exposure(documents, chosen).as_meta(),
            "device": str(self.device),
            "threads": args.threads,
        }

    def trained_seconds(self) -> float | None:
        return self.seconds

    def score_texts(self, texts: list[str]) -> list[tuple[float, int]]:
        from sandbox.proxies.hf import score_documents

        encoded = [text.encode("utf-8") for text in texts]
        return score_documents(self.model, self.codec, encoded, self.seq_len, EVAL_BATCH_SIZE, self.device)

    def save(self, args: argparse.Namespace) -> None:
        from sandbox.proxies.hf import save_trained

        if args.save_model is not None:
            save_trained(self.model, args.model, args.save_model, args.seq_len, args.hub)

    def versions(self) -> dict[str, str]:
        import torch
        import transformers

        return {"torch_version": torch.__version__, "transformers_version": transformers.__version__}
