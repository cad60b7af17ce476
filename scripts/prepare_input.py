"""Validate the user's dataset (or the demo's) and write the working pool and eval set as JSONL.

Reads JSON lines (plain, .gz, .zst), Parquet and Hugging Face save_to_disk folders
(sandbox/formats.py). The input files are only read. Each output line carries the text under
"text", the record's other fields unchanged, and "sandbox_row", the line's index in the pool, so
that every later step (the removed-document files, the probe losses) can point back at the original
document. The whole file's schema is checked here, not discovered block by block inside Data-Juicer's
loader: every line gets the same fields in the same order, and a field some record lacks (or has as
null or []) is written as text in every line, "" where missing (sandbox/formats.py says why).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.formats import iter_dataset, uniform_records  # noqa: E402
from sandbox.jsonl import InputError, text_of, write_jsonl  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, type=Path, help="the training pool (any supported format)")
    parser.add_argument("--eval", type=Path, default=None, help="held-out dataset; default: hold out a share")
    parser.add_argument("--eval-fraction", type=float, default=0.1)
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--out-pool", required=True, type=Path)
    parser.add_argument("--out-eval", required=True, type=Path)
    return parser.parse_args()


def working_record(record: dict[str, Any], text_key: str, path: Path, line_number: int) -> dict[str, Any]:
    """The record with its text under "text" and every other field kept."""
    text = text_of(record, text_key, path, line_number)
    rest = {key: value for key, value in record.items() if key != text_key}
    return {"text": text, **rest}


def is_held_out(text: str, eval_fraction: float) -> bool:
    """A stable split by content hash: the same text always lands on the same side."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < eval_fraction


def read_records(path: Path, text_key: str) -> list[dict[str, Any]]:
    """The dataset's records with their text under "text", all with one schema."""
    records = [(line, working_record(record, text_key, path, line)) for line, record in iter_dataset(path)]
    if not records:
        raise InputError(f"{path}: no documents. Fix: point the config at a dataset with one document per line or row.")
    uniform, as_text = uniform_records(records, path)
    if as_text:
        print(f"{path}: some documents lack {', '.join(as_text)}; written as text in the working pool, "
              "\"\" where missing (your file is unchanged)")
    return uniform


def main() -> None:
    args = parse_args()
    pool = read_records(args.dataset, args.text_key)
    if args.eval is not None:
        held_out = read_records(args.eval, args.text_key)
    else:
        held_out = [record for record in pool if is_held_out(record["text"], args.eval_fraction)]
        pool = [record for record in pool if not is_held_out(record["text"], args.eval_fraction)]
        if not held_out or not pool:
            raise InputError(
                f"{args.dataset}: holding out eval_fraction={args.eval_fraction} left an empty "
                f"{'eval set' if not held_out else 'pool'}. Fix: give `eval_path:` or change `eval_fraction:`."
            )
    for row, record in enumerate(pool):
        record["sandbox_row"] = row
    pool_count = write_jsonl(args.out_pool, pool)
    eval_count = write_jsonl(args.out_eval, held_out)
    print(f"pool: {pool_count} documents -> {args.out_pool}")
    print(f"eval: {eval_count} documents -> {args.out_eval}")


if __name__ == "__main__":
    run_main(main)
