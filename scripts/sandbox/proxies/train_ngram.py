"""The n-gram proxy: a byte-level Kneser-Ney LM (sandbox.proxies.ngram) on one data variant, with a fixed
symbol budget; its registry entry and trainer (rule train_ngram).

The budget counts stream symbols, bytes plus one SEP per document, as the GPT's token budget counts
bytes plus BOS: the documents are taken in a seeded random order until the budget is filled (the last
one truncated). Each document is counted at most once: a variant smaller than the budget trains on
all its data, once, since a count model learns nothing from repeated data (its discounts only shift).
Training and scoring are deterministic given the seed. train_meta.json also records the symbols,
distinct bytes and epochs actually trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sandbox.proxies.entry import Proxy, registered
from sandbox.proxies.trainer import Trainer


def document_scores(lm: Any, texts: list[str]) -> list[tuple[float, int]]:
    """(nll_bits, n_bytes) of each text, every byte predicted from its document's start."""
    encoded = [text.encode("utf-8") for text in texts]
    bits = lm.document_nll_bits(encoded)
    return [(float(value), len(data)) for value, data in zip(bits, encoded)]


@registered(Proxy(
    name="ngram",
    env="ngram.yaml",
    config_section="ngram",
    size_keys=("order",),
    size_rank=lambda settings: float(settings["order"]),
    strength=0,  # the cheap rung
    # Kneser-Ney counts do not depend on document order, but the byte budget does. Measured on the
    # demo (400 eval documents, 8 seeds): seed std of a variant difference 0.003 bpb, about 3x its
    # document standard error, so one seed is not enough.
    seed_effect="the seed draws which documents fill the byte budget",
    hpo_round_in_one_job=True,
    repeats_data=False,
    # written by rule ngram_model (counted again, checked against heldout.jsonl), not train_ngram
    harness_model="model.npz",
))
class NgramTrainer(Trainer):
    """Train the byte-level Kneser-Ney n-gram proxy on one data variant, with a fixed symbol budget."""

    description = __doc__

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from sandbox.proxies.ngram import MAX_ORDER

        parser.add_argument("--order", type=int, default=5, help=f"n-gram order, 1..{MAX_ORDER}")
        parser.add_argument("--save-model", type=Path, default=None,
                            help="also write the model (.npz) for the ngram_loss/ngram_importance filters")

    def check_arguments(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.budget_bytes is None:
            parser.error("--budget-bytes is required: the most stream symbols to train on (bytes plus "
                         "one SEP per document); smaller data are used once")
        from sandbox.proxies.ngram import MAX_ORDER

        if not 1 <= args.order <= MAX_ORDER:
            parser.error(f"--order must be between 1 and {MAX_ORDER}, got {args.order}")

    def fit(self, args: argparse.Namespace, documents: list[bytes]) -> dict[str, Any]:
        import numpy as np

        from sandbox.proxies.ngram import KneserNeyLM, budget_documents, exposure

        n_bytes = sum(len(data) for data in documents)
        chosen = budget_documents(documents, args.budget_bytes, args.seed)
        seen = exposure(documents, chosen)
        print(f"training a {args.order}-gram model on {args.train}: {len(documents)} documents, {n_bytes} "
              f"bytes; budget {args.budget_bytes} symbols, trained on {seen.symbols} ({seen.epochs:.2f} of "
              "one pass)", flush=True)
        if seen.symbols < args.budget_bytes:
            print(f"the data ({n_bytes + len(documents)} symbols) are smaller than the budget: each "
                  "document is used once", flush=True)
        self.lm = KneserNeyLM.train(chosen, args.order)
        self.numpy_version = np.__version__
        return {"order": args.order, "train_docs": len(documents), "train_bytes": n_bytes,
                "budget_docs": len(chosen), **seen.as_meta(), "discounts": self.lm.discounts,
                "n_grams": self.lm.n_grams}

    def score_texts(self, texts: list[str]) -> list[tuple[float, int]]:
        return document_scores(self.lm, texts)

    def save(self, args: argparse.Namespace) -> None:
        if args.save_model is not None:
            self.lm.save(args.save_model)

    def load(self, path: Path, device: str = "auto") -> None:
        from sandbox.proxies.ngram import KneserNeyLM

        self.lm = KneserNeyLM.load(path)

    def versions(self) -> dict[str, str]:
        return {"numpy_version": self.numpy_version}
