"""Assemble the datamodels store from its chunks: contiguous .npy arrays plus index.json.

The chunks must cover models 0..M-1 without gaps and agree on the groups; each chunk's file and
SHA-256 are listed in the index, so the store says exactly which training runs it holds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sandbox.datamodels.subsets import assemble_chunks, write_store
from sandbox.io.cli import run_main
from sandbox.proxies.budget import add_budget_arguments, resolve_budget


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", required=True, type=Path, nargs="+")
    parser.add_argument("--group-by", required=True)
    parser.add_argument("--alpha", required=True, type=float)
    parser.add_argument("--seed", required=True, type=int)
    add_budget_arguments(parser, "the n-gram's byte budget")
    parser.add_argument("--order", required=True, type=int)
    parser.add_argument("--recipe", type=Path, default=None,
                        help="the recipe whose ops are groups (group-by ops)")
    parser.add_argument("--out-dir", required=True, type=Path)
    args = parser.parse_args()
    resolve_budget(parser, args, required=True)
    return args


def main() -> None:
    args = parse_args()
    groups, arrays, chunks = assemble_chunks(args.chunks)
    index = {
        "groups": groups,
        "group_by": args.group_by,
        "models": int(len(arrays["bpb"])),
        "eval_docs": int(arrays["margins"].shape[1]),
        "alpha": args.alpha,
        "seed": args.seed,
        "proxy": {"name": "ngram", "order": args.order, "budget_bytes": args.budget_bytes},
        "recipe": str(args.recipe) if args.recipe else None,
        "outputs": {"margins": "held-out bits per byte of each eval document",
                    "bpb": "held-out bits per byte of the whole eval set"},
        "chunks": chunks,
    }
    write_store(args.out_dir, arrays, index)
    print(f"store {args.out_dir}: {index['models']} models x {len(groups)} groups x {index['eval_docs']} "
          "eval documents")


if __name__ == "__main__":
    run_main(main)
