"""Select documents of the pool: the probe set (evenly spaced) or the oracle set (clean-tagged only)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.io.origin import origin_of


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--probe", type=int, metavar="N", help="N evenly spaced documents (0: all)")
    choice.add_argument("--oracle", action="store_true", help="the documents whose meta.origin is 'clean'")
    return parser.parse_args()


def evenly_spaced(records: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """limit records spread over the whole list (all of them when limit is 0 or too large)."""
    if limit <= 0 or limit >= len(records):
        return records
    return [records[i * len(records) // limit] for i in range(limit)]


def clean_only(records: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """Records tagged clean; every record must carry an origin tag, or the oracle would be a guess."""
    untagged = [record.get("sandbox_row") for record in records if origin_of(record) is None]
    if untagged:
        raise InputError(
            f"{path}: the oracle variant needs `meta.origin` on every document ('clean' or 'noise:<kind>'); "
            f"{len(untagged)} documents have none (first sandbox_row {untagged[0]}). "
            "Fix: tag the documents, or remove `oracle` from `variants:`."
        )
    clean = [record for record in records if origin_of(record) == "clean"]
    if not clean:
        raise InputError(f"{path}: no document has meta.origin 'clean', so the oracle has nothing to train "
                         "on.")
    return clean


def main() -> None:
    args = parse_args()
    records = [record for _, record in iter_jsonl(args.data)]
    selected = clean_only(records, args.data) if args.oracle else evenly_spaced(records, args.probe)
    count = write_jsonl(args.out, selected)
    print(f"selected {count} of {len(records)} documents -> {args.out}")


if __name__ == "__main__":
    run_main(main)
