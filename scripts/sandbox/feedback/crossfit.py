"""Cross-fitting of the pool's feedback LMs: no document is scored by an LM that learned it.

The pool is cut into K folds by a stable hash of each document's normalised text (its own salt,
independent of the eval and trusted splits). Fold k's LM trains on every pool document outside
fold k, and a document is scored by the LM of its own fold. The fold is a function of the text
alone, so a saved recipe finds it again under plain `dj-process`; a document that was not in the
pool is scored by the fold LM its hash picks, which never saw it either, and a copy of a pool
document (after normalisation) lands in the copy's fold, whose LM never saw the copy.
"""

from __future__ import annotations

from typing import Iterable

from sandbox.data.eval_set import hash_fraction, normalized

FOLD_SALT = b"recipe-sandbox feedback fold\0"
# One fold would leave its LM nothing to learn from; K >= 2 keeps every LM's training set non-empty.
MIN_FOLDS = 2


def check_folds(folds: int) -> None:
    if folds < MIN_FOLDS:
        raise ValueError(f"cross-fitting needs at least {MIN_FOLDS} folds, got {folds}")


def fold_of(text: str, folds: int) -> int:
    """The fold, 0..folds-1, of a document: the same text (after normalisation) always lands in the
    same one."""
    check_folds(folds)
    return min(int(hash_fraction(normalized(text), FOLD_SALT) * folds), folds - 1)


def outside_fold(texts: Iterable[str], fold: int, folds: int) -> list[str]:
    """What fold's LM trains on: the texts of every other fold, in their order."""
    return [text for text in texts if fold_of(text, folds) != fold]
