"""The Kneser-Ney n-gram proxy: hand-computed probabilities, a pure-Python reference, the budget (the
`train.py ngram` command line is in workflow/test_ngram_cli.py)."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Sequence

import numpy as np
import pytest

from sandbox.proxies.ngram import SEP, KneserNeyLM, budget_documents, exposure

A, B = ord("a"), ord("b")


def test_hand_computed_order_3() -> None:
    # documents "aab" and "ab": stream SEP a a b SEP a b
    lm = KneserNeyLM.train([b"aab", b"ab"], order=3)
    # order 3 (raw counts): SEPaa 1, aab 1, SEPab 1 -> n1 = 3, n2 = 0, 3/(3+0) = 1 -> fallback 0.5
    # order 2: SEPa starts with SEP, so its raw count 2; aa after {SEP} -> 1; ab after {a, SEP} -> 2
    #   n1 = 1, n2 = 2 -> D2 = 1/(1+4) = 1/5
    # order 1: a after {SEP, a} -> 2; b after {a} -> 1; n1 = 1, n2 = 1 -> D1 = 1/(1+2) = 1/3
    assert lm.discounts == [1 / 3, 1 / 5, 0.5]
    assert lm.n_grams == [2, 3, 3]
    # P1: T = 3, N1+ = 2, so each byte gets (1/3)(2/3)/256 = 1/1152 from the uniform
    p1_other = 1 / 1152
    p1_a = (2 - 1 / 3) / 3 + p1_other  # 5/9 + 1/1152
    p1_b = (1 - 1 / 3) / 3 + p1_other  # 2/9 + 1/1152
    # P2(. | SEP): T = 2 (SEPa 2), N1+ = 1 -> a: 1.8/2 + 0.1 P1(a); others 0.1 P1
    p2_sep_a = 1.8 / 2 + 0.1 * p1_a
    # P2(. | a): T = 3 (aa 1, ab 2), N1+ = 2 -> a: 0.8/3 + (2/15) P1(a); b: 1.8/3 + (2/15) P1(b)
    p2_a_a = 0.8 / 3 + 2 / 15 * p1_a
    p2_a_b = 1.8 / 3 + 2 / 15 * p1_b
    # P3(. | SEP a): T = 2 (SEPaa 1, SEPab 1), N1+ = 2, D3 = 0.5 -> 0.5/2 + 0.5 P2(. | a) for a and b
    p3_sepa_a = 0.25 + 0.5 * p2_a_a
    p3_sepa_b = 0.25 + 0.5 * p2_a_b
    # P3(. | a a): T = 1 (aab 1), N1+ = 1 -> b: 0.5 + 0.5 P2(b | a)
    p3_aa_b = 0.5 + 0.5 * p2_a_b

    first = lm.distribution(b"")
    assert first[A] == pytest.approx(p2_sep_a, abs=1e-12)
    assert first[B] == pytest.approx(0.1 * p1_b, abs=1e-12)
    assert first[ord("z")] == pytest.approx(0.1 * p1_other, abs=1e-12)
    after_a = lm.distribution(b"a")
    assert after_a[A] == pytest.approx(p3_sepa_a, abs=1e-12)
    assert after_a[B] == pytest.approx(p3_sepa_b, abs=1e-12)
    assert after_a[0] == pytest.approx(0.5 * 0.4 / 3 * p1_other, abs=1e-12)
    # away from the document start, the context "a" alone is order 2
    assert lm.distribution(b"a", at_document_start=False)[B] == pytest.approx(p2_a_b, abs=1e-12)
    assert lm.distribution(b"xaa", at_document_start=False)[B] == pytest.approx(p3_aa_b, abs=1e-12)
    # contexts never seen at any order above 1 fall back to P1 (T = 0 for "b" at order 2)
    assert lm.distribution(b"zb", at_document_start=False)[A] == pytest.approx(p1_a, abs=1e-12)
    assert lm.distribution(b"", at_document_start=False)[B] == pytest.approx(p1_b, abs=1e-12)

    nll = lm.document_nll_bits([b"ab", b"", b"aab", b"ba"])
    expected = [
        -math.log2(p2_sep_a) - math.log2(p3_sepa_b),
        0.0,
        -math.log2(p2_sep_a) - math.log2(p3_sepa_a) - math.log2(p3_aa_b),
        # b first: 0.1 P1(b); then a after SEP b (unseen) -> P2(a | b) -> T(b) = 0 -> P1(a)
        -math.log2(0.1 * p1_b) - math.log2(p1_a),
    ]
    assert nll == pytest.approx(expected, abs=1e-12)


def test_hand_computed_order_2() -> None:
    # documents "ab" and "abb": order 2 raw counts SEPa 2, ab 2, bb 1 -> n1 = 1, n2 = 2 -> D2 = 1/5
    # order 1: a after {SEP} -> 1, b after {a, b} -> 2 -> D1 = 1/3; T = 3, N1+ = 2
    lm = KneserNeyLM.train([b"ab", b"abb"], order=2)
    assert lm.discounts == [1 / 3, 1 / 5]
    p1_b = (2 - 1 / 3) / 3 + 1 / 1152
    # P2(. | b): T = 1 (bb 1), N1+ = 1 -> b: 0.8 + 0.2 P1(b); a crossing "b SEP a" is never counted
    after_b = lm.distribution(b"ab")
    assert after_b[B] == pytest.approx(0.8 + 0.2 * p1_b, abs=1e-12)
    assert after_b[A] == pytest.approx(0.2 * ((1 - 1 / 3) / 3 + 1 / 1152), abs=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_distributions_are_normalised_and_positive(order: int) -> None:
    documents = [b"the cat sat on the mat. ", b"the dog ran. " * 3, b"", "naïve café".encode("utf-8"), b"ab"]
    lm = KneserNeyLM.train(documents, order=order)
    contexts = [b"", b"the", b"the cat", b"zzz", b"\x00\xff\x01", b"the dog ran. the d",
                "café".encode("utf-8")]
    for context in contexts:
        for at_document_start in (True, False):
            probs = lm.distribution(context, at_document_start)
            assert probs.shape == (256,)
            assert probs.sum() == pytest.approx(1.0, abs=1e-9), (context, at_document_start)
            assert probs.min() > 0, (context, at_document_start)


class ReferenceKneserNey:
    """The same interpolated Kneser-Ney in plain Python dicts, written from the definition."""

    def __init__(self, documents: Sequence[bytes], order: int) -> None:
        self.order = order
        counts: list[Counter] = [Counter() for _ in range(order + 1)]
        for document in documents:
            symbols = (SEP, *document)
            for t in range(1, len(symbols)):
                for n in range(1, min(order, t + 1) + 1):
                    counts[n][symbols[t - n + 1 : t + 1]] += 1
        self.adjusted: list[dict[tuple[int, ...], int]] = [{}]
        for n in range(1, order + 1):
            if n == order:
                self.adjusted.append(dict(counts[n]))
                continue
            preceding = Counter(gram[1:] for gram in counts[n + 1])
            self.adjusted.append({gram: c if gram[0] == SEP else preceding[gram]
                                  for gram, c in counts[n].items()})
        self.discounts = [0.0]
        self.totals: list[Counter] = [Counter()]
        self.followers: list[Counter] = [Counter()]
        for n in range(1, order + 1):
            values = list(self.adjusted[n].values())
            n1, n2 = values.count(1), values.count(2)
            d = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.5
            self.discounts.append(d if 0 < d < 1 else 0.5)
            totals, followers = Counter(), Counter()
            for gram, value in self.adjusted[n].items():
                totals[gram[:-1]] += value
                followers[gram[:-1]] += 1
            self.totals.append(totals)
            self.followers.append(followers)

    def prob(self, byte: int, history: tuple[int, ...]) -> float:
        """P_n(byte | history) with n = len(history) + 1, recursing to the uniform P_0."""
        n = len(history) + 1
        lower = 1 / 256 if n == 1 else self.prob(byte, history[1:])
        total = self.totals[n][history]
        if total == 0:
            return lower
        d = self.discounts[n]
        count = self.adjusted[n].get((*history, byte), 0)
        return max(count - d, 0) / total + d * self.followers[n][history] / total * lower

    def nll_bits(self, document: bytes) -> float:
        symbols = (SEP, *document)
        return sum(
            -math.log2(self.prob(symbols[t], symbols[max(0, t - self.order + 1) : t]))
            for t in range(1, len(symbols))
        )


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_agrees_with_a_plain_python_reference(order: int) -> None:
    rng = random.Random(order)
    alphabet = b"aabbbc  d\n\xc3\xa9"
    train = [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(30)]
    held_out = [bytes(rng.choice(alphabet + b"xyz\x00") for _ in range(rng.randint(0, 30)))
                for _ in range(15)]
    lm = KneserNeyLM.train(train, order=order)
    reference = ReferenceKneserNey(train, order)
    assert lm.discounts == pytest.approx(reference.discounts[1:], abs=1e-15)
    expected = [reference.nll_bits(document) for document in held_out + train]
    assert lm.document_nll_bits(held_out + train) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    for context in (b"", b"a", b"bba", b"xyz"):
        probs = lm.distribution(context, at_document_start=False)
        history = tuple(context[max(0, len(context) - order + 1) :]) if order > 1 else ()
        assert probs == pytest.approx([reference.prob(byte, history) for byte in range(256)], abs=1e-12)


def test_empty_training_gives_uniform_predictions() -> None:
    lm = KneserNeyLM.train([b"", b""], order=3)
    assert lm.n_grams == [0, 0, 0]
    assert lm.document_nll_bits([b"abc", b""]) == pytest.approx([24.0, 0.0])
    # one-byte documents: order 3 has no n-grams, and order 2 only SEP-started ones
    lm = KneserNeyLM.train([b"a", b"b", b"a"], order=3)
    assert lm.n_grams == [2, 2, 0]
    assert (lm.document_nll_bits([b"ab"])[0]
            == pytest.approx(ReferenceKneserNey([b"a", b"b", b"a"], 3).nll_bits(b"ab")))
    with pytest.raises(ValueError, match="order"):
        KneserNeyLM.train([b"abc"], order=8)


def test_budget_documents_fill_the_budget_exactly() -> None:
    texts = [bytes([65 + i]) * (5 + 3 * i) for i in range(10)]  # 195 symbols
    for budget in (1, 2, 7, 50, 123, 195):
        documents = budget_documents(texts, budget, seed=3)
        assert sum(len(data) + 1 for data in documents) == budget, budget
        # each document is a whole text but the last, which may be truncated
        assert all(data in texts for data in documents[:-1])
        assert any(text.startswith(documents[-1]) for text in texts)
    assert budget_documents(texts, 1, seed=0) == [b""]
    # a budget larger than the data takes all of it, once (not filled by repeating it)
    assert sum(len(data) + 1 for data in budget_documents(texts, 400, seed=3)) == 195


def test_budget_documents_never_repeat_a_document() -> None:
    # 14 symbols of data, a budget of 40: a count model gets every document exactly once
    texts = [b"abc", b"de", b"f", b"ghij"]
    for seed in range(5):
        documents = budget_documents(texts, 40, seed=seed)
        assert sorted(documents) == sorted(texts)
        assert documents == [texts[i] for i in np.random.default_rng(seed).permutation(4)]
        seen = exposure(texts, documents)
        assert seen.symbols == 14 and seen.distinct_bytes == 10 and seen.epochs == 1.0
    # duplicate texts are distinct documents: each is used once, not more
    assert sorted(budget_documents([b"ab", b"ab", b"c"], 100, seed=0)) == [b"ab", b"ab", b"c"]
    # within the budget, the seeded order decides which documents are used, none twice
    part = budget_documents(texts, 9, seed=1)
    assert len(set(part)) == len(part) and sum(len(data) + 1 for data in part) == 9
    assert exposure(texts, part).epochs == pytest.approx(9 / 14)


def test_budget_documents_seeded_and_multi_pass_with_repeat() -> None:
    texts = [b"abc", b"de", b"f", b"ghij"]  # 14 symbols
    first = budget_documents(texts, 40, seed=0, repeat=True)
    assert first == budget_documents(texts, 40, seed=0, repeat=True)
    assert first != budget_documents(texts, 40, seed=1, repeat=True)
    generator = np.random.default_rng(0)
    passes = [[texts[i] for i in generator.permutation(4)] for _ in range(3)]
    # 40 symbols: two whole passes (28), then 12 symbols of the third
    expected = passes[0] + passes[1]
    remaining = 12
    for data in passes[2]:
        if len(data) + 1 >= remaining:
            expected.append(data[: remaining - 1])
            break
        expected.append(data)
        remaining -= len(data) + 1
    assert first == expected
    assert sum(len(data) + 1 for data in first) == 40
    seen = exposure(texts, first)
    assert seen.symbols == 40 and seen.distinct_bytes == 10 and seen.epochs == pytest.approx(40 / 14)
    with pytest.raises(ValueError):
        budget_documents([b"", b""], 10, seed=0)
    with pytest.raises(ValueError):
        budget_documents([], 10, seed=0)
