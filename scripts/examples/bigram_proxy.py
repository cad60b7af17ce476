"""An example `command` proxy: a byte-bigram LM with add-one smoothing, in plain Python.

It shows the contract a user's own trainer meets (README, "Bring your own trainer"): read the
training JSONL's "text", learn from at most --budget-bytes bytes (documents in a --seed order),
and write <out-dir>/heldout.jsonl, one row per eval document in order, with the document's
nll_bits (negative log2-likelihood of its UTF-8 bytes) and n_bytes, plus <out-dir>/train_meta.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path


def texts(path: Path) -> list[bytes]:
    return [json.loads(line)["text"].encode("utf-8") for line in path.open(encoding="utf-8") if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--train", "--eval", "--out-dir"):
        parser.add_argument(name, required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-bytes", type=int, required=True)
    args = parser.parse_args()

    documents = texts(args.train)
    random.Random(args.seed).shuffle(documents)
    counts = [[1] * 257 for _ in range(257)]  # previous byte (256 = document start) -> next byte
    seen = 0
    for document in documents:
        if seen >= args.budget_bytes:
            break
        previous = 256
        for byte in document[: args.budget_bytes - seen]:
            counts[previous][byte] += 1
            previous = byte
        seen += min(len(document), args.budget_bytes - seen)
    totals = [sum(row[:256]) for row in counts]

    args.out_dir.mkdir(parents=True, exist_ok=True)
    with (args.out_dir / "heldout.jsonl").open("w", encoding="utf-8") as out:
        for document in texts(args.eval):
            previous, bits = 256, 0.0
            for byte in document:
                bits -= math.log2(counts[previous][byte] / totals[previous])
                previous = byte
            out.write(json.dumps({"nll_bits": bits, "n_bytes": len(document)}) + "\n")
    # one pass at most, so every byte seen is distinct; the summary's data table shows both
    total = sum(len(document) for document in documents)
    meta = {"model": "byte bigram, add-one", "bytes_seen": seen, "distinct_train_bytes": seen,
            "epochs": seen / total if total else 0.0}
    (args.out_dir / "train_meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
