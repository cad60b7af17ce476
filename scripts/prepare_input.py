"""Validate the user's dataset (or the demo's) and write the working pool and eval set as JSONL.

Reads JSON lines (plain, .gz, .zst), Parquet and Hugging Face save_to_disk folders
(sandbox/io/formats.py). The input files are only read. Each output line carries the text under
"text", the record's other fields unchanged, and "sandbox_row", the line's index in the pool, so
that every later step (the removed-document files, the probe losses) can point back at the original
document. The whole file's schema is checked here, not discovered block by block inside Data-Juicer's
loader: every line gets the same fields in the same order, and a field some record lacks (or has as
null or []) is written as text in every line, "" where missing (sandbox/io/formats.py says why).

Pool documents that duplicate an eval document (after normalisation) or share a run of
--decontamination-words words with one (as datatrove and DCLM decontaminate) are dropped from the
pool; a feedback reference sample loses its overlapping documents the same way (--out-reference, refused
only when fewer than --reference-min-docs are left). The eval set's source and counts, the reference's
among them, go to --out-eval-set (sandbox/data/eval_set.py: what each source can judge).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sandbox.data.eval_set import DECONTAMINATION_WORDS, SOURCES, decontaminate, is_held_out, judges_cleaning
from sandbox.io.cli import run_main
from sandbox.io.formats import iter_dataset, uniform_records
from sandbox.io.jsonl import InputError, text_of, write_jsonl


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, type=Path,
                        help="the training pool (any supported format)")
    parser.add_argument("--eval", type=Path, default=None, help="held-out dataset; default: hold out a share")
    parser.add_argument("--eval-fraction", type=float, default=0.1)
    parser.add_argument("--text-key", default="text")
    parser.add_argument("--eval-source", choices=SOURCES, default=None,
                        help="where --eval comes from (default: eval_path with --eval, else pool_split)")
    parser.add_argument("--trusted-split", type=Path, default=None, help="split.json of the trusted sample")
    parser.add_argument("--decontamination-words", type=int, default=DECONTAMINATION_WORDS,
                        help="a pool document sharing this many consecutive words with an eval document is "
                             "dropped (0: exact duplicates only)")
    parser.add_argument("--reference", type=Path, default=None,
                        help="the feedback reference sample: what overlaps the eval set is left out")
    parser.add_argument("--reference-text-key", default="text")
    parser.add_argument("--reference-min-docs", type=int, default=1,
                        help="refuse the reference when fewer documents than this are left")
    parser.add_argument("--out-reference", type=Path, default=None,
                        help="the reference without its overlap with the eval set (text under \"text\")")
    parser.add_argument("--out-pool", required=True, type=Path)
    parser.add_argument("--out-eval", required=True, type=Path)
    parser.add_argument("--out-eval-set", type=Path, default=None,
                        help="JSON: the eval set's source and counts")
    args = parser.parse_args()
    if args.eval_source is None:
        args.eval_source = "eval_path" if args.eval is not None else "pool_split"
    if (args.eval_source == "pool_split") != (args.eval is None):
        parser.error("--eval-source pool_split is the one source without --eval")
    if (args.reference is None) != (args.out_reference is None):
        parser.error("--reference and --out-reference go together")
    return args


def working_record(record: dict[str, Any], text_key: str, path: Path, line_number: int) -> dict[str, Any]:
    """The record with its text under "text" and every other field kept."""
    text = text_of(record, text_key, path, line_number)
    rest = {key: value for key, value in record.items() if key != text_key}
    return {"text": text, **rest}


def read_records(path: Path, text_key: str) -> list[dict[str, Any]]:
    """The dataset's records with their text under "text", all with one schema."""
    records = [(line, working_record(record, text_key, path, line)) for line, record in iter_dataset(path)]
    if not records:
        raise InputError(f"{path}: no documents. Fix: point the config at a dataset with one document per "
                         "line or row.")
    uniform, as_text = uniform_records(records, path)
    if as_text:
        print(f"{path}: some documents lack {', '.join(as_text)}; written as text in the working copy, "
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
                f"{'eval set' if not held_out else 'pool'}. Fix: give `eval_path:` or change "
                "`eval_fraction:`."
            )
    eval_texts = [record["text"] for record in held_out]
    reference = None
    if args.reference is not None:
        reference, reference_report = clean_reference(args.reference, args.reference_text_key, eval_texts,
                                                      args.decontamination_words, args.reference_min_docs)
    pool, duplicates, near_duplicates = decontaminate(pool, eval_texts, args.decontamination_words)
    for kind, dropped in (("duplicate", duplicates), ("near-duplicate", near_duplicates)):
        if dropped:
            print(f"{len(dropped)} pool documents {kind} an eval document and are left out of the pool; "
                  f"first: {dropped[0]['text'][:120]!r}")
    if not pool:
        raise InputError(f"{args.dataset}: every pool document duplicates an eval document. Fix: give an "
                         "eval set disjoint from the pool.")
    for row, record in enumerate(pool):
        record["sandbox_row"] = row
    pool_count = write_jsonl(args.out_pool, pool)
    eval_count = write_jsonl(args.out_eval, held_out)
    print(f"pool: {pool_count} documents -> {args.out_pool}")
    print(f"eval: {eval_count} documents ({args.eval_source}) -> {args.out_eval}")
    if reference is not None:
        print(f"reference: {write_jsonl(args.out_reference, reference)} documents -> {args.out_reference}")
    if args.out_eval_set is None:
        return
    eval_set = eval_set_record(args, eval_count, pool_count, duplicates, near_duplicates)
    if reference is not None:
        eval_set["reference"] = reference_report
    args.out_eval_set.write_text(json.dumps(eval_set, indent=2) + "\n", encoding="utf-8")


def clean_reference(path: Path, text_key: str, eval_texts: list[str], words: int,
                    min_docs: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the feedback reference without the documents that duplicate or share a run of `words` words with
    an eval document, what was dropped): a filter tuned to those would select for the eval set itself.
    InputError naming the file and the fix when fewer than min_docs documents are left."""
    records = read_records(path, text_key)
    kept, exact, near = decontaminate(records, eval_texts, words)
    examples = [record["text"][:200] for record in exact + near][:3]
    if exact or near:
        print(f"{path}: {len(exact)} reference documents duplicate an eval document and {len(near)} share "
              f"{words} consecutive words with one; left out of the reference (your file is unchanged); "
              f"first: {examples[0][:120]!r}")
    if len(kept) < min_docs:
        raise InputError(
            f"{path}: {len(exact) + len(near)} of its {len(records)} reference documents duplicate or share "
            f"{words} consecutive words with an eval document, which leaves {len(kept)}, fewer than "
            f"trusted_min_docs={min_docs}. A feedback filter tuned to them would select for the eval set "
            "itself. Fix: add clean documents disjoint from eval_path to the reference sample (or use "
            "trusted_path alone, which splits one sample into disjoint halves)."
        )
    report = {"path": str(path), "docs": len(records), "kept_docs": len(kept),
              "duplicates_of_eval_dropped": len(exact), "near_duplicates_of_eval_dropped": len(near),
              "examples": examples}
    return kept, report


def eval_set_record(args: argparse.Namespace, eval_count: int, pool_count: int,
                    duplicates: list[dict[str, Any]],
                    near_duplicates: list[dict[str, Any]]) -> dict[str, Any]:
    """What the summary says of the eval set: its source, whether it can judge cleaning, the counts."""
    record: dict[str, Any] = {
        "source": args.eval_source,
        "judges_cleaning": judges_cleaning(args.eval_source),
        "path": str(args.eval) if args.eval is not None else None,
        "eval_docs": eval_count,
        "pool_docs": pool_count,
        "decontamination_words": args.decontamination_words,
        "pool_duplicates_of_eval_dropped": len(duplicates),
        "pool_near_duplicates_of_eval_dropped": len(near_duplicates),
        "duplicate_examples": [record["text"][:200] for record in (duplicates + near_duplicates)[:3]],
    }
    if args.eval_source == "pool_split":
        record["eval_fraction"] = args.eval_fraction
    if args.trusted_split is not None:
        record["trusted"] = json.loads(args.trusted_split.read_text(encoding="utf-8"))
    return record


if __name__ == "__main__":
    run_main(main)
