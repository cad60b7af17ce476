"""Train the n-gram on one data pool, once per seed, at the ranking budget (the smallest pool's bytes,
so every pool is judged on as much text as the smallest has), and score every eval document.

Writes one .npz: seeds, nll_bits (seeds x eval documents), n_bytes, and the pool's name; the ranking
(pools_rank.py) compares the pools on it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sandbox.datamodels.subsets import write_chunk
from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.scoring import read_documents
from sandbox.proxies.ngram import heldout_nll_bits


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--budget-bytes", required=True, type=int)
    parser.add_argument("--seeds", required=True, type=int, nargs="+")
    parser.add_argument("--order", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    texts = [record["text"].encode("utf-8") for _, record in iter_jsonl(args.pool)]
    eval_texts = [record["text"].encode("utf-8") for record in read_documents(args.eval, "text")]
    bits = np.array([heldout_nll_bits(texts, eval_texts, args.budget_bytes, seed, args.order)
                     for seed in args.seeds])
    n_bytes = np.array([len(text) for text in eval_texts], dtype=float)
    write_chunk(args.out, seeds=np.array(args.seeds), nll_bits=bits, n_bytes=n_bytes,
                name=np.array(args.name))
    print(f"pool {args.name}: {len(texts)} documents, budget {args.budget_bytes} bytes, held-out bpb "
          f"{bits.sum() / (len(args.seeds) * n_bytes.sum()):.5f} over seeds {args.seeds}")


if __name__ == "__main__":
    run_main(main)
