"""The proxies' output contract: what every trainer writes and the checks of what it wrote.

A trainer (sandbox/proxies/trainer.py) writes in models/<name>/<variant>/seed<N>/ the contract's two files:
  heldout.jsonl    one row per eval document, in order: nll_bits (negative log2-likelihood of the
                   document's UTF-8 bytes, finite, >= 0) and n_bytes (bytes scored, 1..its length;
                   0 for an empty document);
  train_meta.json  a JSON object with at least proxy, tokens_budget (the byte budget it was given)
                   and seconds (training time).
Everything downstream (evaluate, the summaries, HPO confirmation, provenance) reads only these files.
Pure Python: Snakemake reads this module at DAG time.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, Callable

from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.io.scoring import read_documents, score_rows

HELDOUT = "heldout.jsonl"
TRAIN_META = "train_meta.json"
META_KEYS = ("proxy", "tokens_budget", "seconds")
RETRAIN = "Fix: retrain the model (its trainer writes this file)."
# (nll_bits, n_bytes) of each text, in order: how a trainer's model scores documents
ScoreTexts = Callable[[list[str]], list[tuple[float, int]]]



def require_eval_file(path: Path) -> None:
    """InputError naming the file unless the held-out set exists."""
    if not path.is_file():
        raise InputError(f"{path}: file not found. Fix: pass --eval an existing held-out JSONL file.")


def require_training_bytes(path: Path, encoded: list[bytes], text_key: str) -> None:
    """InputError when the training documents hold no byte to learn from."""
    if sum(len(data) for data in encoded) > 0:
        return
    what = "no documents" if not encoded else f"{len(encoded)} documents but every '{text_key}' is empty"
    raise InputError(
        f"{path}: {what}, so there is nothing to train on. "
        "Fix: check that the recipe did not remove every document (see its removed.jsonl) "
        "and that text_key names the field holding the text."
    )


def row_problem(row: dict[str, Any], length: int) -> str | None:
    """What is wrong with one heldout.jsonl row of a document of length UTF-8 bytes, else None."""
    nll, n_bytes = row.get("nll_bits"), row.get("n_bytes")
    if isinstance(nll, bool) or not isinstance(nll, (int, float)) or not math.isfinite(nll) or nll < 0:
        return f"nll_bits must be a finite number >= 0, got {nll!r}"
    # an empty document has no byte to score: 0 (the shipped trainers), or 1 (what the command's
    # check has always accepted)
    is_count = isinstance(n_bytes, int) and not isinstance(n_bytes, bool)
    if not is_count or not (0 < n_bytes <= length or length == 0 and n_bytes in (0, 1)):
        return f"n_bytes must be an int in 1..{length} (the document's UTF-8 bytes), got {n_bytes!r}"
    return None


def score_heldout(eval_path: Path, text_key: str, score_texts: ScoreTexts,
                  rows_out: Path | None) -> float | None:
    """Score every eval document, write heldout.jsonl to rows_out (when given) and return the bits per
    byte over the whole file, every byte predicted once; None when it has no bytes. A row that breaks
    the contract is a ValueError (the trainer's bug, not the user's)."""
    records = read_documents(eval_path, text_key)
    texts = [record[text_key] for record in records]
    scores = score_texts(texts)
    rows = score_rows(records, texts, scores)
    for line, (row, text) in enumerate(zip(rows, texts), start=1):
        problem = row_problem(row, len(text.encode("utf-8")))
        if problem:
            raise ValueError(f"{rows_out or eval_path}:{line}: {problem} (a bug in the trainer's scoring)")
    if rows_out is not None:
        write_jsonl(rows_out, rows)
    total_bytes = sum(n_bytes for _, n_bytes in scores)
    if total_bytes == 0:
        print(f"WARNING: {eval_path} has no bytes to score; heldout_bpb is null", flush=True)
        return None
    return sum(bits for bits, _ in scores) / total_bytes


def plain_config(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments as JSON-friendly values (for train_meta.json, checkpoints and wandb)."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}


def train_meta(proxy: str, fields: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """train_meta.json's object: the proxy, what the trainer records, and its arguments last."""
    return {"proxy": proxy, **fields, "config": plain_config(args)}


def write_train_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write train_meta.json, checked to state what every proxy's does (META_KEYS)."""
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise ValueError(f"{path}: train_meta lacks {', '.join(missing)} (a bug in the trainer)")
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def check_heldout(path: Path, eval_path: Path, producer: str, fix: str) -> int:
    """InputError (naming the file, the row and fix) unless path scores every eval document of eval_path
    once, in order, with sane numbers; returns the number of rows."""
    lengths = [len(record["text"].encode("utf-8")) for _, record in iter_jsonl(eval_path)]
    if not path.is_file():
        raise InputError(f"{producer} wrote no {path}. {fix}")
    rows = [row for _, row in iter_jsonl(path)]
    if len(rows) != len(lengths):
        raise InputError(f"{path}: {len(rows)} rows for {len(lengths)} eval documents "
                         f"(written by {producer}). {fix}")
    for line, (row, length) in enumerate(zip(rows, lengths), start=1):
        problem = row_problem(row, length)
        if problem:
            raise InputError(f"{path}:{line}: {problem}. {fix}")
    return len(rows)


def read_train_meta(path: Path, fix: str = RETRAIN, required: tuple[str, ...] = META_KEYS) -> dict[str, Any]:
    """train_meta.json's object; InputError naming the file and fix when it is not a JSON object or
    lacks a required key (a command's own file needs none: its trainer adds them)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not readable as JSON ({error}). {fix}") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: not a JSON object. {fix}")
    missing = [key for key in required if key not in meta]
    if missing:
        raise InputError(f"{path}: no {', '.join(missing)}, which every proxy's train_meta.json states. "
                         f"{fix}")
    return meta
