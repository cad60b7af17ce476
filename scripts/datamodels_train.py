"""Train the n-gram proxy on random subsets of groups, models [start, stop) of a datamodels run.

Groups are the recipe's operators (--group-by ops: a subset runs only the ops it includes, computed
from the raw analysis's stats cache as the mask path does, no executor) or the values of a metadata
field (--group-by meta.source: a subset keeps the raw documents whose value it includes), or single
documents (--group-by document). Each model
trains on the same byte budget with the same document-order seed, so its outputs depend on the
subset alone. Writes one .npz: model indices, masks, per-eval-document bits per byte (margins),
held-out bpb and training documents per model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sandbox.datamodels.groups import DocumentGroups, MetaGroups, OpGroups
from sandbox.datamodels.subsets import subset_mask, write_chunk
from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl
from sandbox.io.scoring import read_documents
from sandbox.proxies.budget import add_budget_arguments, resolve_budget
from sandbox.proxies.ngram import heldout_nll_bits
from sandbox.recipe.dj import forbid_runtime_installs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", required=True, type=Path)
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--recipe", type=Path, help="the recipe whose ops are groups (group-by ops)")
    parser.add_argument("--stats-cache", type=Path, help="the raw analysis's stats.parquet (group-by ops)")
    parser.add_argument("--group-by", required=True,
                        help="ops, document, or a dotted metadata field such as meta.source")
    parser.add_argument("--alpha", required=True, type=float,
                        help="probability that a subset includes a group")
    parser.add_argument("--seed", required=True, type=int, help="subset draws and training document order")
    parser.add_argument("--start", required=True, type=int)
    parser.add_argument("--stop", required=True, type=int)
    add_budget_arguments(parser, "the n-gram's byte budget")
    parser.add_argument("--order", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    resolve_budget(parser, args, required=True)
    if args.group_by == "ops" and (args.recipe is None or args.stats_cache is None):
        parser.error("--group-by ops needs --recipe and --stats-cache")
    return args


def main() -> None:
    args = parse_args()
    forbid_runtime_installs()
    pool = [record for _, record in iter_jsonl(args.pool)]
    texts = [record["text"].encode("utf-8") for record in pool]
    eval_texts = [record["text"].encode("utf-8") for record in read_documents(args.eval, "text")]
    eval_bytes = np.array([len(text) for text in eval_texts], dtype=float)
    if args.group_by == "ops":
        groups: OpGroups | MetaGroups | DocumentGroups = OpGroups(args.recipe, args.stats_cache,
                                                                  [r["sandbox_row"] for r in pool])
    elif args.group_by == "document":
        groups = DocumentGroups(pool)
    else:
        groups = MetaGroups(pool, args.group_by, args.pool)
    models = range(args.start, args.stop)
    masks = np.array([subset_mask(args.seed, m, len(groups.names), args.alpha) for m in models], dtype=bool)
    masks = masks.reshape(len(models), len(groups.names))
    margins = np.full((len(models), len(eval_texts)), np.nan, dtype=np.float32)
    bpb = np.full(len(models), np.nan)
    train_docs = np.zeros(len(models), dtype=np.int64)
    progress = tqdm(list(enumerate(zip(models, masks))), desc="datamodels", mininterval=10, file=sys.stderr)
    for row, (model, mask) in progress:
        started = time.perf_counter()
        kept = groups.kept_positions(mask)
        train_docs[row] = len(kept)
        train_texts = [texts[position] for position in kept]
        if sum(len(text) for text in train_texts) == 0:
            print(f"model {model}: its subset keeps no bytes; outputs left NaN", flush=True)
            continue
        bits = heldout_nll_bits(train_texts, eval_texts, args.budget_bytes, args.seed, args.order)
        with np.errstate(invalid="ignore", divide="ignore"):
            margins[row] = bits / eval_bytes
        bpb[row] = bits.sum() / eval_bytes.sum()
        print(f"model {model}: {int(mask.sum())}/{len(mask)} groups, {len(kept)} documents, "
              f"held-out bpb {bpb[row]:.5f} ({time.perf_counter() - started:.1f} s)", flush=True)
    write_chunk(args.out, models=np.array(list(models)), masks=masks, margins=margins, bpb=bpb,
                train_docs=train_docs, groups=np.array(groups.names, dtype=str))


if __name__ == "__main__":
    run_main(main)
