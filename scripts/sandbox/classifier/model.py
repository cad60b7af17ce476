"""A quality classifier: P(trusted) of a document, learned from the trusted sample (positives) against
a seeded sample of the raw pool (negatives), as GPT-3's and DCLM's quality filters are (curated text vs
crawl), and cross-fitted like the pool's feedback LMs (sandbox/feedback/crossfit.py).

Fold k's model learns the trusted sample against pool documents outside fold k, and scores only
fold k: no document is scored by a model that trained on it (a trusted document that is also in
the pool is left out of its own fold's positives for the same reason). With `shuffled_fraction`,
part of each fold's negatives are word-shuffled copies of trusted documents: the same words in no
order, so the model has to learn word order, not only vocabulary (without them neither backend
catches the demo's word salad, whose generator is much like this shuffle).

Backends, the model file's suffix says which:
- hashed_lr (.npz): scikit-learn's HashingVectorizer (word bigrams, binary, l2-normalised, 2^20
  features) and a liblinear logistic regression, as GPT-3's and Data-Juicer's tools/quality_classifier
  (hashed n-grams, LR); the weights are saved as arrays with a JSON header, never pickled, and a saved
  model scores exactly as the fitted one.
- fasttext (.bin): fastText's supervised classifier (`fasttext-numpy2-wheel`), as DCLM's filter, with
  word bigrams; one thread, so that training is deterministic given the seed.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sandbox.data.eval_set import normalized
from sandbox.feedback.crossfit import check_folds, fold_of
from sandbox.io.jsonl import InputError

HASHED_LR, FASTTEXT = "hashed_lr", "fasttext"
SUFFIX = {HASHED_LR: ".npz", FASTTEXT: ".bin"}
BACKENDS = tuple(SUFFIX)
HASHED_FORMAT = "recipe-sandbox hashed_lr v1"
# Word bigrams only: unigrams and character n-grams let the model rank by vocabulary, which the
# pool's word salad shares with clean text (measured on the demo, bench/README.md).
HASHED_VECTORIZER: dict[str, Any] = {"analyzer": "word", "ngram_range": [2, 2], "n_features": 2**20,
                                     "binary": True, "alternate_sign": False, "norm": "l2"}
# DCLM's bigram classifier with a higher learning rate and more epochs (300 documents, not 400k), small
# vectors and buckets (a 2M x 100 table is 800 MB per model); thread 1 keeps training deterministic.
FASTTEXT_SETTINGS: dict[str, Any] = {"lr": 0.5, "epoch": 25, "wordNgrams": 2, "dim": 16, "bucket": 2**18,
                                     "minCount": 1, "loss": "softmax", "thread": 1}
POSITIVE_LABEL, NEGATIVE_LABEL = "__label__hq", "__label__cc"


def backend_of(path: str | Path) -> str:
    """The backend a model file belongs to, by its suffix; ValueError naming the fix otherwise."""
    for backend, suffix in SUFFIX.items():
        if str(path).endswith(suffix):
            return backend
    raise ValueError(f"{path}: not a quality classifier model (expected {' or '.join(SUFFIX.values())}, "
                     "written by scripts/train_classifier.py)")


def shuffled_words(text: str, rng: random.Random) -> str:
    """The text's words in a random order: the trusted vocabulary without its syntax."""
    words = text.split()
    rng.shuffle(words)
    return " ".join(words)


@dataclass
class FoldTrainingSet:
    """What fold k's model learns: positives (label 1), negatives (label 0) and where they came from."""

    fold: int
    positives: list[str]
    negatives: list[str]
    negative_rows: list[int] = field(default_factory=list)
    shuffled: int = 0
    positives_left_out: int = 0


def fold_training_set(reference: Sequence[str], pool: Sequence[str], rows: Sequence[int], fold: int,
                      folds: int, seed: int, shuffled_fraction: float) -> FoldTrainingSet:
    """Positives: the trusted documents not in fold k of the pool; negatives: as many documents,
    a seeded sample of the pool outside fold k, `shuffled_fraction` of them replaced by word-shuffled
    trusted documents. rows are the pool documents' ids (sandbox_row), recorded for the audit."""
    check_folds(folds)
    if not 0 <= shuffled_fraction < 1:
        raise ValueError(f"shuffled_fraction must be in [0, 1), got {shuffled_fraction}")
    in_pool_fold = {normalized(text) for text in pool if fold_of(text, folds) == fold}
    positives = [text for text in reference if normalized(text) not in in_pool_fold]
    rng = random.Random(seed * 1000 + fold)
    count = len(reference)
    n_shuffled = round(shuffled_fraction * count)
    outside = [index for index, text in enumerate(pool) if fold_of(text, folds) != fold]
    chosen = sorted(rng.sample(outside, min(count - n_shuffled, len(outside))))
    negatives = [pool[index] for index in chosen]
    negatives += [shuffled_words(text, rng) for text in rng.sample(list(reference), n_shuffled)]
    return FoldTrainingSet(fold, positives, negatives, [rows[index] for index in chosen], n_shuffled,
                           len(reference) - len(positives))


def require_both_classes(training: FoldTrainingSet, reference: Path, pool: Path) -> None:
    if not training.positives or not training.negatives:
        raise InputError(f"{reference} / {pool}: fold {training.fold}'s classifier has "
                         f"{len(training.positives)} trusted and {len(training.negatives)} pool documents to "
                         "learn from. Fix: a trusted sample and a pool of a few hundred documents each.")


# --- hashed_lr ---


def hashed_vectorizer(params: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(**{**params, "ngram_range": tuple(params["ngram_range"])})


def train_hashed_lr(training: FoldTrainingSet, seed: int, path: Path) -> None:
    """Fit the logistic regression and save its weights (nonzero coefficients and the intercept)."""
    from sklearn.linear_model import LogisticRegression

    features = hashed_vectorizer(HASHED_VECTORIZER).transform(training.positives + training.negatives)
    labels = [1] * len(training.positives) + [0] * len(training.negatives)
    model = LogisticRegression(C=1.0, solver="liblinear", random_state=seed).fit(features, labels)
    coefficients = model.coef_.ravel()
    indices = np.flatnonzero(coefficients)
    header = {"format": HASHED_FORMAT, "vectorizer": HASHED_VECTORIZER, "seed": seed}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:  # np.savez would append .npz to a str path without one
        np.savez(handle, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                 indices=indices.astype(np.int64), values=coefficients[indices],
                 intercept=model.intercept_.astype(np.float64))


@dataclass(frozen=True)
class HashedModel:
    vectorizer: Any
    coefficients: np.ndarray  # dense, n_features
    intercept: float

    def score(self, texts: list[str]) -> np.ndarray:
        from scipy.special import expit

        # what LogisticRegression.predict_proba computes: expit of X @ coef + intercept
        return expit(self.vectorizer.transform(texts) @ self.coefficients + self.intercept)


def load_hashed_lr(path: Path) -> HashedModel:
    with np.load(path, allow_pickle=False) as arrays:
        try:
            header = json.loads(arrays["header"].tobytes())
            indices, values, intercept = arrays["indices"], arrays["values"], arrays["intercept"]
        except (KeyError, ValueError) as error:
            raise ValueError(f"{path}: not a {HASHED_FORMAT} model ({error}); retrain it with "
                             "scripts/train_classifier.py") from None
    if header.get("format") != HASHED_FORMAT:
        raise ValueError(f"{path}: format {header.get('format')!r}, expected {HASHED_FORMAT!r}; retrain it")
    params = header["vectorizer"]
    coefficients = np.zeros(params["n_features"])
    coefficients[indices] = values
    return HashedModel(hashed_vectorizer(params), coefficients, float(intercept[0]))


# --- fasttext ---


def one_line(text: str) -> str:
    """fastText reads one example per line: whitespace runs become single spaces (as DCLM does)."""
    return " ".join(text.split())


def fit_fasttext(input_path: str, seed: int, settings: dict[str, Any], output: str) -> None:
    """fastText's supervised training from a labelled file; run in a fresh process (train_fasttext)."""
    import fasttext

    # fastText's seeds 0 and 1 give the same model (its generator maps 0 to 1): shift by one
    fasttext.train_supervised(input=input_path, seed=seed + 1, verbose=0, **settings).save_model(output)


def train_fasttext(training: FoldTrainingSet, seed: int, path: Path) -> None:
    """Train on a seeded shuffle of the labelled lines (their order changes the model) and save it.

    Each model trains in a fresh process: the binding keeps state between trainings in one process
    (the same data and seed give another model the second time, and some runs diverge to NaN), so only
    a fresh process makes a model a function of its data and seed.
    """
    rows = [f"{POSITIVE_LABEL} {one_line(text)}" for text in training.positives]
    rows += [f"{NEGATIVE_LABEL} {one_line(text)}" for text in training.negatives]
    random.Random(seed).shuffle(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
        handle.flush()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            try:
                pool.submit(fit_fasttext, handle.name, seed, FASTTEXT_SETTINGS, str(path)).result()
            except RuntimeError as error:
                raise InputError(f"fastText failed to train fold {training.fold}'s classifier ({error}). "
                                 "Fix: classifier.backend: hashed_lr, or more trusted and pool "
                                 "documents.") from None


@dataclass(frozen=True)
class FastTextModel:
    model: Any

    def score(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty(0)
        labels, probabilities = self.model.predict([one_line(text) for text in texts], k=2)
        return np.array([dict(zip(names, values)).get(POSITIVE_LABEL, 0.0)
                         for names, values in zip(labels, probabilities)], dtype=np.float64)


def load_fasttext(path: Path) -> FastTextModel:
    import fasttext

    try:
        return FastTextModel(fasttext.load_model(str(path)))
    except ValueError as error:
        raise ValueError(f"{path}: not a fastText model ({error}); retrain it with "
                         "scripts/train_classifier.py") from None


# --- both ---


def train(backend: str, training: FoldTrainingSet, seed: int, path: Path) -> float:
    """Train one fold's model and write it to path (its suffix must match the backend); seconds taken."""
    if backend_of(path) != backend:
        raise ValueError(f"{path}: a {backend} model's file ends in {SUFFIX[backend]}")
    start = time.perf_counter()
    (train_hashed_lr if backend == HASHED_LR else train_fasttext)(training, seed, path)
    return time.perf_counter() - start


@lru_cache(maxsize=16)  # every batch reads all K fold models
def load_model(path: str) -> HashedModel | FastTextModel:
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such quality classifier model. Fix: train it (the workflow's "
                         "feedback_classifier rule, or scripts/train_classifier.py)")
    return load_hashed_lr(Path(path)) if backend_of(path) == HASHED_LR else load_fasttext(Path(path))


def scores(paths: str | Sequence[str], texts: list[str]) -> np.ndarray:
    """P(trusted) of each text under the model, or under its own fold's model when paths lists K folds."""
    if isinstance(paths, str):
        return load_model(paths).score(texts)
    folds = np.array([fold_of(text, len(paths)) for text in texts], dtype=np.int64)
    values = np.empty(len(texts))
    for fold, path in enumerate(paths):
        chosen = np.flatnonzero(folds == fold)
        if len(chosen):
            values[chosen] = load_model(str(path)).score([texts[index] for index in chosen])
    return values
