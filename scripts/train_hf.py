"""Train the `hf` proxy, any causal LM in a local Hugging Face folder, on one data variant.

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

from sandbox.proxies.hf import (
    HUBS,
    INITS,
    Codec,
    batch_tensors,
    context_length,
    load_codec,
    load_model,
    save_trained,
    score_documents,
    token_stream,
    windows,
)

# isort: split
# (sandbox.proxies.hf first: it sets the offline variables before transformers is imported)
import torch
import transformers
from tqdm import tqdm

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, write_jsonl
from sandbox.io.scoring import read_documents
from sandbox.proxies.gpt_model import count_parameters, pick_device
from sandbox.proxies.ngram import budget_documents, exposure
from sandbox.proxies.registry import (
    TRAIN_META,
    ScoreTexts,
    require_eval_file,
    require_training_bytes,
    score_heldout,
    train_meta,
    write_train_meta,
)

EVAL_BATCH_SIZE = 32
LOG_EVERY = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path,
                        help="local folder with config.json (and weights)")
    parser.add_argument("--init", choices=INITS, default="scratch")
    parser.add_argument("--hub", choices=HUBS, default="transformers", help="whose Auto classes load it")
    parser.add_argument("--train", required=True, type=Path, help="training JSONL (text under --text-key)")
    parser.add_argument("--eval", required=True, type=Path, help="held-out JSONL scored at the end")
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--heldout-out", type=Path, default=None,
                        help="also write per-document held-out scores")
    parser.add_argument("--save-model", type=Path, default=None,
                        help="also save the trained model there (weights and tokenizer, for the downstream "
                        "tasks)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-bytes", type=int, required=True,
                        help="bytes plus one separator per document, as for the other proxies")
    parser.add_argument("--seq-len", type=int, default=64, help="targets per training window")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup-fraction", type=float, default=0.1)
    parser.add_argument("--min-lr-ratio", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for name in ("budget_bytes", "seq_len", "batch_size", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.warmup_fraction < 1:
        parser.error("--warmup-fraction must be in [0, 1)")
    return args


def training_bytes(path: Path, text_key: str) -> list[bytes]:
    """UTF-8 bytes of every training document; InputError if there is nothing to learn."""
    texts = [record[text_key] for record in read_documents(path, text_key)]
    encoded = [text.encode("utf-8") for text in texts]
    require_training_bytes(path, encoded, text_key)
    return encoded


def train(model: torch.nn.Module, train_windows: list[list[int]], args: argparse.Namespace,
          device: torch.device, loss_log: Path) -> float:
    """One seeded pass over the windows with AdamW and a warm-up + cosine schedule; returns seconds."""
    order = torch.randperm(len(train_windows), generator=torch.Generator().manual_seed(args.seed)).tolist()
    steps = math.ceil(len(order) / args.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = transformers.get_cosine_with_min_lr_schedule_with_warmup(
        optimizer, round(args.warmup_fraction * steps), steps, min_lr_rate=args.min_lr_ratio)
    model.train()
    start, rows, running, tokens_seen = time.perf_counter(), [], [], 0
    for step in tqdm(range(1, steps + 1), desc="train hf", mininterval=10, file=sys.stderr):
        indices = order[(step - 1) * args.batch_size : step * args.batch_size]
        batch = [train_windows[index] for index in indices]
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


def heldout_scorer(model: torch.nn.Module, codec: Codec, seq_len: int, device: torch.device) -> ScoreTexts:
    """(nll_bits, n_bytes) of each text over all its UTF-8 bytes, whatever the tokenizer."""
    def scores(texts: list[str]) -> list[tuple[float, int]]:
        encoded = [text.encode("utf-8") for text in texts]
        return score_documents(model, codec, encoded, seq_len, EVAL_BATCH_SIZE, device)

    return scores


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    texts = training_bytes(args.train, args.text_key)
    require_eval_file(args.eval)
    model = load_model(args.model, args.init, args.hub, args.seed).to(device)
    limit = context_length(model)
    if limit is not None and args.seq_len + 1 > limit:
        raise InputError(f"{args.model}: the model takes {limit} positions, a window needs seq_len + 1 = "
                         f"{args.seq_len + 1}. Fix: set hf.seq_len to at most {limit - 1}.")
    codec = load_codec(args.model, args.hub, model)
    documents = budget_documents(texts, args.budget_bytes, args.seed, repeat=True)
    train_windows = windows(token_stream(documents, codec), args.seq_len)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{type(model).__name__} ({count_parameters(model)} parameters, tokens: {codec.name}) "
          f"from {args.model} ({args.init}, {args.hub}); {len(documents)} documents, "
          f"{args.budget_bytes} budget bytes, {len(train_windows)} windows; device {device}, "
          f"{args.threads} threads", flush=True)
    seconds = train(model, train_windows, args, device, args.out_dir / "loss.jsonl")
    eval_start = time.perf_counter()
    bpb = score_heldout(args.eval, args.text_key, heldout_scorer(model, codec, args.seq_len, device),
                        args.heldout_out)
    eval_seconds = time.perf_counter() - eval_start
    if args.save_model is not None:
        save_trained(model, args.model, args.save_model, args.seq_len, args.hub)
    meta = train_meta("hf", {
        "model_type": model.config.model_type,
        "n_params": count_parameters(model),
        "tokenizer": codec.name,
        # the budget every proxy states: bytes plus one separator per document
        "tokens_budget": args.budget_bytes,
        "model_tokens_seen": sum(len(window) - 1 for window in train_windows),
        "train_docs": len(texts),
        "budget_docs": len(documents),
        **exposure(texts, documents).as_meta(),
        "device": str(device),
        "threads": args.threads,
        "seconds": round(seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "heldout_bpb": bpb,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
    }, args)
    write_train_meta(args.out_dir / TRAIN_META, meta)
    print(f"held-out bpb {bpb} on {args.eval}; trained {seconds:.1f}s, scored {eval_seconds:.1f}s",
          flush=True)


if __name__ == "__main__":
    run_main(main)
