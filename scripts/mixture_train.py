"""Train the swarm's n-gram models [start, stop): each on one mixture of the data pools at the
n-gram's budget (weights from sandbox/mixture/swarm.py, drawn from (seed, member) alone, so raising
the member count keeps the first members), scored on the validation part of the eval set only (the
test part is left for the confirmation).

Writes one .npz in the datamodels chunk layout: models, weights (members x pools), margins (bits per
byte of each validation document), bpb (validation), train_docs, and groups (the pools' names).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sandbox.data.eval_set import VALIDATION, read_split_labels
from sandbox.datamodels.subsets import write_chunk
from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.scoring import read_documents
from sandbox.mixture.swarm import draw_weights, mixture_documents, natural_weights, swarm_budget, weight_caps
from sandbox.proxies.budget import add_budget_arguments, resolve_budget
from sandbox.proxies.ngram import heldout_nll_bits


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, type=Path, help="pools/index.json")
    parser.add_argument("--pools", required=True, nargs="+", help="the pools in the search, by name")
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--eval-split", required=True, type=Path)
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--start", required=True, type=int)
    parser.add_argument("--stop", required=True, type=int)
    parser.add_argument("--concentration", required=True, type=float)
    parser.add_argument("--zero-probability", required=True, type=float)
    add_budget_arguments(parser, "the n-gram's byte budget")
    parser.add_argument("--order", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    resolve_budget(parser, args, required=True)
    return args


def main() -> None:
    args = parse_args()
    index = json.loads(args.index.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in index["pools"]}
    pools = [[record["text"].encode("utf-8") for _, record in iter_jsonl(entries[name]["path"])]
             for name in args.pools]
    pool_bytes = [entries[name]["bytes"] for name in args.pools]
    budget = swarm_budget(pool_bytes, args.budget_bytes)
    natural, caps = natural_weights(pool_bytes), weight_caps(pool_bytes, budget)
    labels = np.array(read_split_labels(args.eval_split))
    eval_texts = [record["text"].encode("utf-8") for record in read_documents(args.eval, "text")]
    validation = [text for text, label in zip(eval_texts, labels) if label == VALIDATION]
    eval_bytes = np.array([len(text) for text in validation], dtype=float)
    members = range(args.start, args.stop)
    weights = np.array([draw_weights(args.seed, member, natural, caps, args.concentration,
                                     args.zero_probability) for member in members])
    weights = weights.reshape(len(members), len(args.pools))
    margins = np.full((len(members), len(validation)), np.nan, dtype=np.float32)
    bpb = np.full(len(members), np.nan)
    train_docs = np.zeros(len(members), dtype=np.int64)
    for row, member in enumerate(members):
        started = time.perf_counter()
        documents = mixture_documents(pools, weights[row], budget, args.seed + member)
        train_docs[row] = len(documents)
        bits = heldout_nll_bits(documents, validation, budget, args.seed + member, args.order)
        margins[row] = bits / eval_bytes
        bpb[row] = bits.sum() / eval_bytes.sum()
        shown = " ".join(f"{weight:.2f}" for weight in weights[row])
        print(f"member {member}: weights [{shown}], {len(documents)} documents, "
              f"validation bpb {bpb[row]:.5f} "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
    write_chunk(args.out, models=np.array(list(members)), weights=weights, margins=margins, bpb=bpb,
                train_docs=train_docs, groups=np.array(args.pools, dtype=str))


if __name__ == "__main__":
    run_main(main)
