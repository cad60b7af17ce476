"""Split the user's trusted sample (a small clean sample picked by hand) into the eval half and the
model-feedback reference half, by a stable hash of each text (sandbox/data/eval_set.py).

The records are written as they are (the user's fields and text key), so each half reads like an
eval_path or a feedback.reference_path would. Reference documents that near-duplicate an eval-half
document (a shared run of --decontamination-words words) are left out of the reference, so the two
halves share nothing. The input is only read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.data.eval_set import DECONTAMINATION_WORDS, decontaminate, split_trusted
from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError, text_of, write_jsonl


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trusted", required=True, type=Path, help="the trusted sample (any dataset format)")
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--eval-fraction", type=float, default=0.5)
    parser.add_argument("--min-docs", type=int, default=50, help="fewest documents each half may have")
    parser.add_argument("--decontamination-words", type=int, default=DECONTAMINATION_WORDS)
    parser.add_argument("--out-eval", required=True, type=Path)
    parser.add_argument("--out-reference", required=True, type=Path)
    parser.add_argument("--out-split", required=True, type=Path, help="JSON: the sizes of both halves")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    records = []
    for line, record in iter_dataset(args.trusted):
        text_of(record, args.text_key, args.trusted, line)  # names the line without the text key
        records.append(record)
    if not records:
        raise InputError(f"{args.trusted}: no documents. Fix: point trusted_path at a sample of clean "
                         "documents.")
    eval_half, reference_half = split_trusted(records, args.text_key, args.eval_fraction, args.min_docs,
                                              str(args.trusted))
    eval_texts = [record[args.text_key] for record in eval_half]
    reference_half, _, near = decontaminate(reference_half, eval_texts, args.decontamination_words,
                                            args.text_key)
    write_jsonl(args.out_eval, eval_half)
    write_jsonl(args.out_reference, reference_half)
    split = {"path": str(args.trusted), "docs": len(records), "eval_fraction": args.eval_fraction,
             "eval_docs": len(eval_half), "reference_docs": len(reference_half), "min_docs": args.min_docs,
             "reference_near_duplicates_of_eval_dropped": len(near)}
    args.out_split.write_text(json.dumps(split, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(split, indent=2))


if __name__ == "__main__":
    run_main(main)
