"""The eval set: where it comes from, how it is split off, whether it can judge a recipe, and its
validation/test split (every selection on validation, every reported number on test).

A verdict on cleaning needs an eval set of clean text of the kind the model should learn, disjoint
from the pool. Four sources, decided once in rules/common.smk (EVAL_SOURCE):

- ``demo``: the demo's held-out speeches (clean, in neither pool nor reference);
- ``eval_path``: the user's held-out dataset;
- ``trusted``: the eval half of a small clean sample the user picked by hand (``trusted_path``),
  whose other half is the model-feedback reference;
- ``pool_split``: ``eval_fraction`` of the user's own pool. It carries the pool's noise, so it
  measures fit to the raw data: a model taught less noise predicts that noise worse, and removing
  noise looks like harm. No verdict on cleaning is drawn from it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from sandbox.io.jsonl import InputError

SOURCES = ("demo", "eval_path", "trusted", "pool_split")
# Sources whose documents are clean text chosen apart from the pool.
CLEAN_SOURCES = ("demo", "eval_path", "trusted")
NO_CLEAN_EVAL = "no_clean_eval"
NO_CLEAN_EVAL_REASON = (
    "the eval set is a split of the pool (no eval_path, no trusted_path), so it carries the pool's noise "
    "and measures fit to the raw data, not to clean text: a model taught less noise scores that noise "
    "worse, and removing noise looks like harm"
)
NO_CLEAN_EVAL_FIX = (
    "set eval_path to a clean sample of the text the model should learn, disjoint from the pool, or "
    "trusted_path to a few hundred clean documents picked by hand (split into an eval half and the "
    "feedback reference half)"
)
# The two splits hash with different salts, so a trusted sample's halves are independent of how the
# pool would be split.
POOL_SPLIT_SALT = b""
TRUSTED_SPLIT_SALT = b"recipe-sandbox trusted split\0"
SPACES = re.compile(r"\s+")


def judges_cleaning(source: str) -> bool:
    """Whether an eval set of this source can say if a recipe made cleaner data."""
    if source not in SOURCES:
        raise ValueError(f"unknown eval source {source!r}; one of {', '.join(SOURCES)}")
    return source in CLEAN_SOURCES


def no_clean_eval_message() -> str:
    """The sentence the summary, the log and the HPO refusal share."""
    return f"No verdict on cleaning can be drawn: {NO_CLEAN_EVAL_REASON}. Fix: {NO_CLEAN_EVAL_FIX}."


def hash_fraction(text: str, salt: bytes = POOL_SPLIT_SALT) -> float:
    """A stable number in [0, 1) from the text's bytes: the same text always lands on the same side."""
    digest = hashlib.sha256(salt + text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(text: str, eval_fraction: float) -> bool:
    """The pool split: a text is held out for evaluation when its hash falls below eval_fraction."""
    return hash_fraction(text) < eval_fraction


def normalized(text: str) -> str:
    """The text as duplicates are compared: Unicode-compatible forms, case and runs of spaces folded."""
    return SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def split_trusted(records: list[dict[str, Any]], text_key: str, eval_fraction: float, min_docs: int,
                  path: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The trusted sample's (eval half, reference half) by a stable hash of each text; InputError naming
    the file, the counts and the fix when a half has fewer than min_docs documents.

    Copies of one text (after normalisation) land in the same half, so the halves never share a text.
    """
    halves: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for record in records:
        held_out = hash_fraction(normalized(record[text_key]), TRUSTED_SPLIT_SALT) < eval_fraction
        halves[0 if held_out else 1].append(record)
    eval_half, reference_half = halves
    if min(len(eval_half), len(reference_half)) < min_docs:
        raise InputError(
            f"{path}: the trusted sample has {len(records)} documents; split at trusted_eval_fraction="
            f"{eval_fraction} its eval half has {len(eval_half)} and its reference half "
            f"{len(reference_half)}, and each needs at least trusted_min_docs={min_docs}. Fix: add clean "
            f"documents to the sample (about {2 * min_docs / min(eval_fraction, 1 - eval_fraction):.0f} or "
            "more), or give eval_path and use this sample as the reference only."
        )
    return eval_half, reference_half


def drop_eval_duplicates(pool: list[dict[str, Any]], eval_texts: list[str],
                         text_key: str = "text") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pool without documents whose normalised text is an eval document's, the dropped documents).

    A pool document equal to an eval document would be scored on what the model learnt by heart.
    """
    eval_keys = {normalized(text) for text in eval_texts}
    kept, dropped = [], []
    for record in pool:
        (dropped if normalized(record[text_key]) in eval_keys else kept).append(record)
    return kept, dropped


# Decontamination as datatrove's n-gram decontamination filter and DCLM do it: a training document
# that shares a run of DECONTAMINATION_WORDS words with an eval document is a near-duplicate of it.
DECONTAMINATION_WORDS = 13
WORD = re.compile(r"\w+")


def word_ngrams(text: str, n: int) -> set[int]:
    """Hashes of the text's runs of n words (normalised; punctuation ignored); a shorter text gives
    its whole word sequence, so a short eval document still matches its copies."""
    words = WORD.findall(normalized(text))
    if not words:
        return set()
    if len(words) < n:
        return {hash(tuple(words))}
    return {hash(tuple(words[start:start + n])) for start in range(len(words) - n + 1)}


def eval_ngram_index(eval_texts: list[str], n: int = DECONTAMINATION_WORDS) -> set[int]:
    """Every n-word run of every eval document (and each short document's whole word sequence)."""
    index: set[int] = set()
    for text in eval_texts:
        index |= word_ngrams(text, n)
    return index


def contaminates(text: str, index: set[int], n: int = DECONTAMINATION_WORDS) -> bool:
    """Whether the text shares an n-word run (or a short eval document's words) with the eval set."""
    words = WORD.findall(normalized(text))
    if len(words) < n:
        # a short training text matches only as a whole short eval text
        return bool(words) and hash(tuple(words)) in index
    return not index.isdisjoint(word_ngrams(text, n))


Records = list[dict[str, Any]]


def decontaminate(pool: Records, eval_texts: list[str], n: int = DECONTAMINATION_WORDS,
                  text_key: str = "text") -> tuple[Records, Records, Records]:
    """(pool kept, exact duplicates of eval documents, near-duplicates) with n words of overlap; n = 0
    drops exact duplicates (after normalisation) only."""
    kept, exact = drop_eval_duplicates(pool, eval_texts, text_key)
    if n <= 0:
        return kept, exact, []
    index = eval_ngram_index(eval_texts, n)
    clean, near = [], []
    for record in kept:
        (near if contaminates(record[text_key], index, n) else clean).append(record)
    return clean, exact, near


# The validation/test split of the eval set: a third salt, so it is independent of the other splits.
VALIDATION_SALT = b"recipe-sandbox validation split\0"
VALIDATION, TEST = "validation", "test"
# Defined, with its version, in sandbox.summary.metrics (eval_split).
SPLIT_METHOD = "eval_split v1"


def validation_test_labels(texts: list[str], validation_fraction: float,
                           n: int = DECONTAMINATION_WORDS) -> list[str]:
    """"validation" or "test" per eval document, by a stable hash of its normalised text; a test
    document that near-duplicates a validation one (a shared run of n words; n = 0: exact copies
    only) joins validation, until none does, so the two parts share no text a model could tell apart.
    """
    labels = [VALIDATION if hash_fraction(normalized(text), VALIDATION_SALT) < validation_fraction else TEST
              for text in texts]
    if n <= 0:
        return labels
    while True:
        index = eval_ngram_index([text for text, label in zip(texts, labels) if label == VALIDATION], n)
        joining = [position for position, (text, label) in enumerate(zip(texts, labels))
                   if label == TEST and contaminates(text, index, n)]
        if not joining:
            return labels
        for position in joining:
            labels[position] = VALIDATION


def check_split_sizes(labels: list[str], validation_fraction: float, path: str) -> None:
    """InputError naming the file, the counts and the fix when the validation or test part is empty."""
    counts = {part: labels.count(part) for part in (VALIDATION, TEST)}
    if min(counts.values()) == 0:
        raise InputError(
            f"{path}: the eval set has {len(labels)} documents; split at eval_split={validation_fraction} "
            f"its validation part has {counts[VALIDATION]} and its test part {counts[TEST]}, and each needs "
            "at least one. Fix: give a larger eval set (a few hundred documents), or set eval_split nearer "
            "0.5."
        )


def read_split_labels(path: Path) -> list[str]:
    """The validation/test label of each eval document, in file order, from data/eval_split.json."""
    split = json.loads(path.read_text(encoding="utf-8"))
    labels = split.get("labels")
    if not isinstance(labels, list) or set(labels) - {VALIDATION, TEST}:
        raise InputError(f"{path}: not an eval split (no validation/test labels). Fix: delete it and rerun.")
    return labels
