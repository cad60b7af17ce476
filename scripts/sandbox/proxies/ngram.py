"""A byte-level interpolated Kneser-Ney n-gram model: a second, deterministic proxy beside the GPT.

Symbols are the 256 byte values plus SEP (256), which starts every document like the GPT's BOS.
Only bytes are predicted, so P(. | context) is a distribution over the 256 byte values. N-grams
are counted within documents only: SEP may only be an n-gram's first symbol.

Smoothing is Chen & Goodman's interpolated Kneser-Ney with one absolute discount per order:

- adjusted count a(g): the raw count at the highest order N, and for an n-gram starting with SEP
  (nothing can precede it, as KenLM does for <s>); otherwise the continuation count N1+(. g), the
  number of distinct symbols seen before g;
- discount D_n = n1 / (n1 + 2 n2) from order n's counts of adjusted counts 1 and 2, or 0.5 when
  that is undefined or not strictly between 0 and 1 (tiny corpora);
- P_n(w | h) = max(a(hw) - D_n, 0) / T(h) + D_n N1+(h .) / T(h) P_{n-1}(w | h[1:]) with
  T(h) = sum of a(hw') over w', or P_{n-1}(w | h[1:]) when T(h) = 0; P_0 is uniform over bytes.

A byte is predicted from the highest order its document allows (the first byte by P_2(w | SEP)).
N-grams are integer keys in base 257, most significant symbol first (order 7 still fits in
int64): counted with np.unique and looked up with np.searchsorted, every position at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

MODEL_FORMAT = "recipe-sandbox-kneser-ney-v1"
TABLE_ARRAYS = ("keys", "adjusted", "contexts", "totals", "followers")
SEP = 256
BASE = 257
N_BYTES = 256
MAX_ORDER = 7  # 257**7 < 2**63
FALLBACK_DISCOUNT = 0.5


@dataclass(frozen=True)
class Stream:
    """Documents as one symbol array, SEP before each, and where each byte sits in it."""

    symbols: np.ndarray  # int64, SEP doc1 SEP doc2 ...
    positions: np.ndarray  # index in symbols of every byte, in order
    depths: np.ndarray  # symbols before each byte within its document, SEP included (>= 1)
    doc_ids: np.ndarray  # document of each byte

    @classmethod
    def of(cls, documents: Sequence[bytes]) -> Stream:
        lengths = np.array([len(data) for data in documents], dtype=np.int64)
        ends = np.cumsum(lengths + 1)
        seps = ends - lengths - 1
        doc_ids = np.repeat(np.arange(len(documents)), lengths)
        # index of each byte within its document, counted from 1 (its SEP is at 0)
        depths = np.arange(1, int(lengths.sum()) + 1) - (np.cumsum(lengths) - lengths)[doc_ids]
        positions = seps[doc_ids] + depths
        symbols = np.full(int(ends[-1]) if len(documents) else 0, SEP, dtype=np.int64)
        symbols[positions] = np.frombuffer(b"".join(documents), dtype=np.uint8)
        return cls(symbols, positions, depths, doc_ids)


def context_keys(symbols: np.ndarray, positions: np.ndarray, order: int) -> Iterator[np.ndarray]:
    """Keys of the n-1 symbols before each position, for n = 1..order.

    Where a position has fewer than n-1 symbols before it the key is meaningless; callers mask
    those positions by depth.
    """
    keys = np.zeros(len(positions), dtype=np.int64)
    yield keys
    for n in range(2, order + 1):
        # the new, oldest symbol is the most significant digit
        keys = keys + symbols[np.maximum(positions - (n - 1), 0)] * BASE ** (n - 2)
        yield keys


def find(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, found) of each query in sorted_keys; index is valid (0) where not found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(queries), dtype=np.int64), np.zeros(len(queries), dtype=bool)
    index = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    found = sorted_keys[index] == queries
    return np.where(found, index, 0), found


def discount(adjusted: np.ndarray) -> float:
    """n1 / (n1 + 2 n2), or FALLBACK_DISCOUNT when that is undefined or not in (0, 1)."""
    n1 = int(np.count_nonzero(adjusted == 1))
    n2 = int(np.count_nonzero(adjusted == 2))
    if n1 + 2 * n2 == 0:
        return FALLBACK_DISCOUNT
    value = n1 / (n1 + 2 * n2)
    return value if 0.0 < value < 1.0 else FALLBACK_DISCOUNT


@dataclass(frozen=True)
class OrderTable:
    """One order's n-grams (sorted keys, adjusted counts) and its contexts' totals."""

    keys: np.ndarray
    adjusted: np.ndarray
    contexts: np.ndarray  # sorted distinct keys // BASE
    totals: np.ndarray  # T(h)
    followers: np.ndarray  # N1+(h .)
    discount: float

    @classmethod
    def build(cls, keys: np.ndarray, adjusted: np.ndarray) -> OrderTable:
        # keys are sorted, so each context's n-grams are one contiguous run
        contexts, starts, followers = np.unique(keys // BASE, return_index=True, return_counts=True)
        totals = np.add.reduceat(adjusted, starts) if len(keys) else np.zeros(0, dtype=np.int64)
        return cls(keys, adjusted, contexts, totals, followers, discount(adjusted))


def adjusted_counts(keys: np.ndarray, raw: np.ndarray, n: int, higher_keys: np.ndarray) -> np.ndarray:
    """Raw counts for n-grams starting with SEP, continuation counts N1+(. g) for the others."""
    suffixes, continuations = np.unique(higher_keys % BASE**n, return_counts=True)
    index, found = find(suffixes, keys)
    starts_with_sep = keys // BASE ** (n - 1) == SEP
    # every occurrence of g not starting with SEP has a symbol before it in its document
    assert np.all(found | starts_with_sep), "an n-gram without any (n+1)-gram ending in it"
    adjusted = raw.copy()
    adjusted[~starts_with_sep] = continuations[index[~starts_with_sep]]
    return adjusted


class KneserNeyLM:
    """Interpolated Kneser-Ney over bytes; see the module docstring for the definition."""

    def __init__(self, tables: list[OrderTable]) -> None:
        self.tables = tables  # tables[n - 1] is order n

    @property
    def order(self) -> int:
        return len(self.tables)

    @property
    def discounts(self) -> list[float]:
        return [table.discount for table in self.tables]

    @property
    def n_grams(self) -> list[int]:
        return [len(table.keys) for table in self.tables]

    @classmethod
    def train(cls, documents: Sequence[bytes], order: int = 5) -> KneserNeyLM:
        """Count every n-gram of orders 1..order in exactly these documents."""
        if not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be 1..{MAX_ORDER}, got {order}")
        stream = Stream.of(documents)
        targets = stream.symbols[stream.positions]
        raw: list[tuple[np.ndarray, np.ndarray]] = []
        for n, contexts in enumerate(context_keys(stream.symbols, stream.positions, order), start=1):
            usable = stream.depths >= n - 1
            raw.append(np.unique(contexts[usable] * BASE + targets[usable], return_counts=True))
        tables: list[OrderTable] = []
        for n in range(order, 0, -1):
            keys, counts = raw[n - 1]
            adjusted = counts if n == order else adjusted_counts(keys, counts, n, raw[n][0])
            tables.append(OrderTable.build(keys, adjusted))
        return cls(tables[::-1])

    def probabilities(self, symbols: np.ndarray, positions: np.ndarray, depths: np.ndarray,
                      targets: np.ndarray) -> np.ndarray:
        """P(targets[i] | the symbols before positions[i]), using at most depths[i] of them."""
        probs = np.full(len(targets), 1.0 / N_BYTES)
        for n, contexts in enumerate(context_keys(symbols, positions, self.order), start=1):
            table = self.tables[n - 1]
            if len(table.keys) == 0:
                continue  # T(h) = 0 for every context: P_n is P_{n-1}
            context_index, context_found = find(table.contexts, contexts)
            # a context reaching past the document's SEP is not one: use the highest order it allows
            context_found &= depths >= n - 1
            gram_index, gram_found = find(table.keys, contexts * BASE + targets)
            counts = np.where(gram_found, table.adjusted[gram_index], 0)
            totals = np.where(context_found, table.totals[context_index], 1)
            followers = table.followers[context_index]
            interpolated = (np.maximum(counts - table.discount, 0.0)
                            + table.discount * followers * probs) / totals
            probs = np.where(context_found, interpolated, probs)
        return probs

    def save(self, path: Path) -> None:
        """Write every order's table to one .npz (written under a temporary name, then moved)."""
        arrays: dict[str, np.ndarray] = {"format": np.array(MODEL_FORMAT)}
        for n, table in enumerate(self.tables, start=1):
            for name in TABLE_ARRAYS:
                arrays[f"{name}_{n}"] = getattr(table, name)
            arrays[f"discount_{n}"] = np.array(table.discount)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, **arrays)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> KneserNeyLM:
        """A model written by save."""
        with np.load(path) as stored:
            if "format" not in stored or str(stored["format"]) != MODEL_FORMAT:
                raise ValueError(f"{path}: not a recipe-sandbox n-gram model ({MODEL_FORMAT})")
            order = sum(1 for name in stored.files if name.startswith("discount_"))
            tables = [OrderTable(*(stored[f"{name}_{n}"] for name in TABLE_ARRAYS),
                                 discount=float(stored[f"discount_{n}"])) for n in range(1, order + 1)]
        return cls(tables)

    def document_nll_bits(self, documents: Sequence[bytes]) -> np.ndarray:
        """NLL in bits of every byte of each document, each from a fresh [SEP]; 0 for an empty one."""
        stream = Stream.of(documents)
        targets = stream.symbols[stream.positions]
        bits = -np.log2(self.probabilities(stream.symbols, stream.positions, stream.depths, targets))
        return np.bincount(stream.doc_ids, weights=bits, minlength=len(documents))

    def distribution(self, context: bytes, at_document_start: bool = True) -> np.ndarray:
        """The 256 probabilities of the byte after context (preceded by SEP when at_document_start)."""
        prefix = [SEP] if at_document_start else []
        # a placeholder where the predicted byte goes; only the symbols before it are read
        symbols = np.array(prefix + list(context) + [0], dtype=np.int64)
        every_byte = np.arange(N_BYTES)
        positions = np.full(N_BYTES, len(symbols) - 1)
        depths = np.full(N_BYTES, len(symbols) - 1)
        return self.probabilities(symbols, positions, depths, every_byte)


def budget_documents(texts: Sequence[bytes], budget_symbols: int, seed: int,
                     repeat: bool = False) -> list[bytes]:
    """The documents that fill at most budget_symbols stream symbols (bytes plus one SEP each).

    Documents come in seeded random order, the last one truncated to fit. When they run out first,
    a count model stops there: every document is used at most once, since repeating data teaches
    it nothing and only shifts its Kneser-Ney discounts. With repeat (for a neural model, which
    does learn from epochs) another pass follows in a fresh permutation from the same generator.
    """
    if sum(len(data) for data in texts) == 0:
        raise ValueError("no bytes to train on")
    rng = np.random.default_rng(seed)
    chosen: list[bytes] = []
    remaining = budget_symbols
    while remaining > 0:
        for index in rng.permutation(len(texts)):
            data = texts[index]
            if len(data) + 1 >= remaining:
                chosen.append(data[: remaining - 1])
                return chosen
            chosen.append(data)
            remaining -= len(data) + 1
        if not repeat:
            break
    return chosen


@dataclass(frozen=True)
class Exposure:
    """What a model trained on budget_documents' output saw of its data."""

    symbols: int  # stream symbols trained on (bytes plus one SEP per document)
    distinct_bytes: int  # bytes of the data seen at least once
    epochs: float  # symbols over the data's own symbols: 1.0 is one whole pass

    def as_meta(self) -> dict[str, int | float]:
        return {"train_symbols": self.symbols, "distinct_train_bytes": self.distinct_bytes,
                "epochs": self.epochs}


def exposure(texts: Sequence[bytes], documents: Sequence[bytes]) -> Exposure:
    """The exposure of documents taken from texts by budget_documents."""
    symbols = sum(len(data) + 1 for data in documents)
    data_symbols = sum(len(data) + 1 for data in texts)
    # more documents than texts means at least one whole pass, so every byte was seen
    distinct = (sum(len(data) for data in texts) if len(documents) > len(texts)
                else sum(len(data) for data in documents))
    return Exposure(symbols, distinct, symbols / data_symbols)


def heldout_nll_bits(train_texts: Sequence[bytes], eval_texts: Sequence[bytes], budget_symbols: int,
                     seed: int, order: int) -> np.ndarray:
    """Bits of each eval text under a model trained on at most budget_symbols of train_texts (seeded
    order, each document at most once).

    The same training and scoring as the n-gram trainer (sandbox.proxies.train_ngram), for jobs that
    train many models in one process.
    """
    lm = KneserNeyLM.train(budget_documents(train_texts, budget_symbols, seed), order)
    return lm.document_nll_bits(eval_texts)
