"""Train the byte-level Kneser-Ney n-gram proxy on one data variant, with a fixed symbol budget.

The budget counts stream symbols, bytes plus one SEP per document, as train_gpt.py's token budget
counts bytes plus BOS: the documents are taken in a seeded random order until the budget is
filled (the last one truncated). Each document is counted at most once: a variant smaller than
the budget trains on all its data, once, since a count model learns nothing from repeated data
(its discounts only shift). Training and scoring are deterministic given the seed.

Writes train_meta.json (with the held-out bits per byte on --eval, and the symbols, distinct bytes
and epochs actually trained on) to --out-dir and, with --heldout-out, one score row per held-out
document, as every proxy does (sandbox.proxies.registry).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import text_of
from sandbox.proxies.ngram import MAX_ORDER, KneserNeyLM, budget_documents, exposure
from sandbox.proxies.registry import (
    TRAIN_META,
    require_eval_file,
    require_training_bytes,
    score_heldout,
    train_meta,
    write_train_meta,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True, type=Path, help="training JSONL")
    parser.add_argument("--eval", required=True, type=Path, help="held-out JSONL scored at the end")
    parser.add_argument("--text-key", default="text", help="the text field of --train")
    parser.add_argument("--eval-text-key", default=None,
                        help="the text field of --eval (default: --text-key); the working eval set's is text")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--heldout-out", type=Path, default=None,
                        help="also write per-document held-out scores")
    parser.add_argument("--seed", type=int, default=0, help="order of the training documents")
    parser.add_argument(
        "--budget-bytes", type=int, required=True,
        help="most stream symbols to train on (bytes plus one SEP per document); smaller data are used once"
    )
    parser.add_argument("--order", type=int, default=5, help=f"n-gram order, 1..{MAX_ORDER}")
    parser.add_argument("--save-model", type=Path, default=None,
                        help="also write the model (.npz) for the ngram_loss/ngram_importance filters")
    args = parser.parse_args(argv)
    if not 1 <= args.order <= MAX_ORDER:
        parser.error(f"--order must be between 1 and {MAX_ORDER}, got {args.order}")
    if args.budget_bytes < 1:
        parser.error("--budget-bytes must be at least 1")
    return args


def training_texts(path: Path, text_key: str) -> list[bytes]:
    """The UTF-8 bytes of every document (any dataset format: a feedback reference sample is the
    user's file); InputError if there is nothing to learn."""
    texts = [text_of(record, text_key, path, line) for line, record in iter_dataset(path)]
    encoded = [text.encode("utf-8") for text in texts]
    require_training_bytes(path, encoded, text_key)
    return encoded


def document_scores(lm: KneserNeyLM, texts: list[str]) -> list[tuple[float, int]]:
    """(nll_bits, n_bytes) of each text, every byte predicted from its document's start."""
    encoded = [text.encode("utf-8") for text in texts]
    bits = lm.document_nll_bits(encoded)
    return [(float(value), len(data)) for value, data in zip(bits, encoded)]


def main() -> None:
    args = parse_args()
    texts = training_texts(args.train, args.text_key)
    require_eval_file(args.eval)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    n_bytes = sum(len(data) for data in texts)
    stream_symbols = n_bytes + len(texts)
    start = time.perf_counter()
    documents = budget_documents(texts, args.budget_bytes, args.seed)
    seen = exposure(texts, documents)
    print(
        f"training a {args.order}-gram model on {args.train}: {len(texts)} documents, {n_bytes} bytes; "
        f"budget {args.budget_bytes} symbols, trained on {seen.symbols} ({seen.epochs:.2f} of one pass)",
        flush=True,
    )
    if seen.symbols < args.budget_bytes:
        print(f"the data ({stream_symbols} symbols) are smaller than the budget: each document is used once",
              flush=True)
    lm = KneserNeyLM.train(documents, args.order)
    seconds = time.perf_counter() - start
    if args.save_model is not None:
        lm.save(args.save_model)
    eval_start = time.perf_counter()
    eval_key = args.eval_text_key or args.text_key
    bpb = score_heldout(args.eval, eval_key, lambda texts: document_scores(lm, texts), args.heldout_out)
    eval_seconds = time.perf_counter() - eval_start
    meta = train_meta("ngram", {
        "order": args.order,
        "tokens_budget": args.budget_bytes,
        "train_docs": len(texts),
        "train_bytes": n_bytes,
        "budget_docs": len(documents),
        **seen.as_meta(),
        "discounts": lm.discounts,
        "n_grams": lm.n_grams,
        "seconds": round(seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "heldout_bpb": bpb,
        "numpy_version": np.__version__,
    }, args)
    write_train_meta(args.out_dir / TRAIN_META, meta)
    print(f"held-out bpb {bpb} on {args.eval}; trained {seconds:.2f}s, scored {eval_seconds:.2f}s",
          flush=True)


if __name__ == "__main__":
    run_main(main)
