"""Per-document loss of a trained model: bits per byte of each document, and the hardest ones.

Each document is scored as in training's held-out metric (BOS only at its start, later bytes in
sliding windows over the bytes before them), on at most --max-bytes leading bytes (0: the whole
document) to bound the cost; rows say whether their document was truncated. Rows keep the
document's index, sandbox_row and meta.origin (when present) so that the losses can be traced back
to the pool.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, write_jsonl
from sandbox.io.scoring import read_documents, score_rows
from sandbox.proxies.gpt_model import load_checkpoint, pick_device, score_documents


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path, help="model.pt written by the GPT trainer")
    parser.add_argument("--data", required=True, type=Path, help="JSONL of documents to score")
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--out", required=True, type=Path, help="per-document rows (JSONL)")
    parser.add_argument("--hardest-out", type=Path, default=None,
                        help="the --hardest highest-bpb rows (JSONL)")
    parser.add_argument("--hardest", type=int, default=20)
    parser.add_argument("--max-bytes", type=int, default=1024,
                        help="score at most this many leading bytes; 0: all")
    parser.add_argument("--batch-size", type=int, default=64, help="scoring windows per forward pass")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    args = parser.parse_args(argv)
    if args.max_bytes < 0 or args.hardest < 0 or args.batch_size < 1 or args.threads < 1:
        parser.error("--max-bytes and --hardest must be >= 0, --batch-size and --threads >= 1")
    return args


def hardest_rows(rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The count rows with the highest bpb, highest first (documents with no bytes left out)."""
    scored = [row for row in rows if row["bpb"] is not None]
    return sorted(scored, key=lambda row: (-row["bpb"], row["index"]))[:count]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if not args.model.is_file():
        raise InputError(f"{args.model}: model checkpoint not found. "
                         "Fix: train it first (python scripts/train.py gpt).")
    device = pick_device(args.device)
    try:
        model, _ = load_checkpoint(args.model, device)
    except Exception as error:  # a truncated or foreign file fails in torch.load with many error types
        raise InputError(f"{args.model}: cannot load the checkpoint ({error}). "
                         "Fix: retrain it (python scripts/train.py gpt).")
    records = read_documents(args.data, args.text_key)
    texts = [record[args.text_key] for record in records]
    start = time.perf_counter()
    scores = score_documents(model, texts, model.config.seq_len, args.batch_size, device,
                             max_bytes=args.max_bytes)
    seconds = time.perf_counter() - start
    rows = score_rows(records, texts, scores)
    write_jsonl(args.out, rows)
    if args.hardest_out is not None:
        write_jsonl(args.hardest_out, hardest_rows(rows, args.hardest))
    total_bits = sum(row["nll_bits"] for row in rows)
    total_bytes = sum(row["n_bytes"] for row in rows)
    overall = f"{total_bits / total_bytes:.4f}" if total_bytes else "n/a (no bytes)"
    truncated = sum(row["truncated"] for row in rows)
    limit = f"{truncated} truncated to {args.max_bytes} bytes" if args.max_bytes else "whole documents"
    print(
        f"scored {len(rows)} documents from {args.data} ({total_bytes} bytes, {limit}) "
        f"in {seconds:.1f}s on {device}: {overall} bits per byte",
        flush=True,
    )


if __name__ == "__main__":
    run_main(main)
