"""Split the working eval set into validation and test (sandbox/data/eval_set.py: validation_test_labels).

Every selection (the HPO objective, the confirmation ranking, best_recipe.yaml, the summary's choice
of best variant) reads validation; every reported number (verdict, intervals, oracle fraction,
agreement) reads test, so no reported number was also used to choose. Writes one label per eval
document, in file order (the order of every heldout.jsonl), with the counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.data.eval_set import (
    DECONTAMINATION_WORDS,
    SPLIT_METHOD,
    TEST,
    VALIDATION,
    check_split_sizes,
    validation_test_labels,
)
from sandbox.io.cli import run_main
from sandbox.io.scoring import read_documents


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", required=True, type=Path, help="the working eval set (data/eval.jsonl)")
    parser.add_argument("--validation-fraction", type=float, default=0.5, help="config eval_split")
    parser.add_argument("--decontamination-words", type=int, default=DECONTAMINATION_WORDS,
                        help="near-duplicates (a shared run of this many words) stay in one part")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    texts = [record["text"] for record in read_documents(args.eval, "text")]
    labels = validation_test_labels(texts, args.validation_fraction, args.decontamination_words)
    check_split_sizes(labels, args.validation_fraction, str(args.eval))
    split = {"method": SPLIT_METHOD, "validation_fraction": args.validation_fraction,
             "decontamination_words": args.decontamination_words,
             "docs": {VALIDATION: labels.count(VALIDATION), TEST: labels.count(TEST)}, "labels": labels}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(split) + "\n", encoding="utf-8")
    print(f"{args.eval}: {split['docs'][VALIDATION]} validation, {split['docs'][TEST]} test documents -> "
          f"{args.out}")


if __name__ == "__main__":
    run_main(main)
