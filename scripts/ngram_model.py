"""Write the n-gram proxy's model of one variant and seed (model.npz) for the downstream tasks.

train_ngram keeps no model: counting takes seconds and is deterministic given the data, the seed, the
budget and the order, so this job counts the same documents again (the same seeded budget order as
the n-gram trainer) and then checks that the model reproduces the training job's heldout.jsonl, every
eval document, before writing it. A mismatch (the data or the code changed since) is an error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError, iter_jsonl, text_of
from sandbox.proxies.budget import add_budget_arguments, resolve_budget
from sandbox.proxies.contract import require_training_bytes
from sandbox.proxies.ngram import MAX_ORDER, KneserNeyLM, budget_documents

# float64 sums of the same terms in the same order: equal up to rounding
TOLERANCE = 1e-9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True, type=Path, help="the variant's training data")
    parser.add_argument("--eval", required=True, type=Path, help="the eval set train_ngram scored")
    parser.add_argument("--heldout", required=True, type=Path, help="train_ngram's heldout.jsonl")
    parser.add_argument("--seed", type=int, required=True)
    add_budget_arguments(parser, "the budget its train_ngram job used")
    parser.add_argument("--order", type=int, required=True, choices=range(1, MAX_ORDER + 1))
    parser.add_argument("--out", required=True, type=Path, help="the model (.npz)")
    args = parser.parse_args(argv)
    resolve_budget(parser, args, required=True)
    return args


def texts_of(path: Path) -> list[bytes]:
    return [text_of(record, "text", path, line).encode("utf-8") for line, record in iter_dataset(path)]


def check_reproduces(lm: KneserNeyLM, eval_path: Path, heldout: Path) -> None:
    """InputError unless the model scores every eval document as the training job did."""
    eval_texts = [text_of(record, "text", eval_path, line).encode("utf-8")
                  for line, record in iter_jsonl(eval_path)]
    expected = np.array([row["nll_bits"] for _, row in iter_jsonl(heldout)], dtype=np.float64)
    got = lm.document_nll_bits(eval_texts)
    if len(got) != len(expected) or not np.allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE):
        worst = int(np.argmax(np.abs(got - expected))) if len(got) == len(expected) else None
        raise InputError(f"{heldout}: the n-gram counted again does not reproduce these held-out scores "
                         f"(first differing document: {worst}), so the data or the code changed since it "
                         "was trained. Fix: rerun its train_ngram job (snakemake -R train_ngram).")


def main() -> None:
    args = parse_args()
    texts = texts_of(args.train)
    require_training_bytes(args.train, texts, "text")
    lm = KneserNeyLM.train(budget_documents(texts, args.budget_bytes, args.seed), args.order)
    check_reproduces(lm, args.eval, args.heldout)
    lm.save(args.out)
    print(f"{args.out}: order {args.order}, {sum(lm.n_grams)} n-grams; reproduces {args.heldout}", flush=True)


if __name__ == "__main__":
    run_main(main)
