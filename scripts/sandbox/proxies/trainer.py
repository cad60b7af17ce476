"""The trainer contract: the base class owns what every proxy's training job shares, a proxy only its
training and scoring.

The base owns the command line every trainer takes (--train, --eval, --text-key, --eval-text-key,
--out-dir, --heldout-out, --seed, --budget-bytes or --budget-file [--budget-multiplier]), reading the
training documents (any dataset format) and refusing data with no byte to learn, the eval file check,
timing, held-out scoring through the proxy's own score_texts (heldout.jsonl) and train_meta.json
(sandbox/proxies/contract.py). A subclass,
in scripts/sandbox/proxies/train_<name>.py with its registry entry (sandbox/proxies/entry.py), adds its
own options and implements:
  fit(args, documents)   train on the documents (UTF-8 bytes, in file order); return train_meta fields;
  score_texts(texts)     (nll_bits, n_bytes) of each text, every UTF-8 byte predicted once;
and optionally save(args) for the files its rule writes besides the contract's two, load(path) for
the downstream tasks (sandbox.downstream.harness scores through score_texts), budget(args) when its
budget is not --budget-bytes, and trained_seconds() when setup must not count as training.
scripts/train.py <name> runs one. Pure Python: a trainer imports numpy or torch inside its methods.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import text_of
from sandbox.proxies.budget import add_budget_arguments, resolve_budget
from sandbox.proxies.contract import (
    TRAIN_META,
    require_eval_file,
    require_training_bytes,
    score_heldout,
    train_meta,
    write_train_meta,
)
from sandbox.proxies.entry import Proxy


def training_documents(path: Path, text_key: str) -> list[bytes]:
    """The UTF-8 bytes of every document (any dataset format: a feedback reference sample is the
    user's file); InputError if there is nothing to learn."""
    texts = [text_of(record, text_key, path, line) for line, record in iter_dataset(path)]
    encoded = [text.encode("utf-8") for text in texts]
    require_training_bytes(path, encoded, text_key)
    return encoded


class Trainer:
    """One proxy's trainer (see the module docstring for what a subclass implements)."""

    proxy: Proxy  # set by the @registered decorator of the subclass
    description: str = ""

    # --- what a proxy implements ---

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The proxy's own options."""

    def check_arguments(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """parser.error for a bad combination of the proxy's options."""

    def fit(self, args: argparse.Namespace, documents: list[bytes]) -> dict[str, Any]:
        """Train on the documents; the train_meta.json fields this proxy records (before the shared ones)."""
        raise NotImplementedError

    def score_texts(self, texts: list[str]) -> list[tuple[float, int]]:
        """(nll_bits, n_bytes) of each text with the trained model."""
        raise NotImplementedError

    def save(self, args: argparse.Namespace) -> None:
        """Write the files the proxy's rule declares besides heldout.jsonl and train_meta.json."""

    def load(self, path: Path, device: str = "auto") -> None:
        """Load a trained model that save wrote (for the downstream tasks)."""
        raise NotImplementedError(f"the {self.proxy.name} proxy keeps no model to load")

    def budget(self, args: argparse.Namespace) -> int:
        """The budget train_meta.json states (tokens_budget): --budget-bytes unless the proxy has its own."""
        return args.budget_bytes

    def trained_seconds(self) -> float | None:
        """The training time when fit measures it itself (setup excluded), else None: fit's wall time."""
        return None

    def scored(self, args: argparse.Namespace, heldout_bpb: float | None) -> dict[str, Any]:
        """train_meta.json fields that come after the held-out score (e.g. another weights' score)."""
        return {}

    def finish(self, meta: dict[str, Any]) -> None:
        """After train_meta.json is written (e.g. close a tracking run)."""

    # --- what the base owns ---

    def parser(self) -> argparse.ArgumentParser:
        """The shared options and the proxy's own."""
        parser = argparse.ArgumentParser(prog=f"scripts/train.py {self.proxy.name}",
                                         description=self.description or type(self).__doc__,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--train", required=True, type=Path, help="training data (any dataset format)")
        parser.add_argument("--eval", required=True, type=Path, help="held-out JSONL scored at the end")
        parser.add_argument("--text-key", default="text", help="the text field of --train")
        parser.add_argument("--eval-text-key", default=None,
                            help="the text field of --eval (default: --text-key); the working eval set's "
                            "is text")
        parser.add_argument("--out-dir", required=True, type=Path)
        parser.add_argument("--heldout-out", type=Path, default=None,
                            help="also write per-document held-out scores")
        parser.add_argument("--seed", type=int, default=0)
        add_budget_arguments(parser, "most bytes to learn from (plus one separator per document)")
        self.add_arguments(parser)
        return parser

    def parse_args(self, argv: list[str] | None = None) -> argparse.Namespace:
        """The checked options."""
        parser = self.parser()
        args = parser.parse_args(argv)
        resolve_budget(parser, args)
        if args.budget_bytes is not None and args.budget_bytes < 1:
            parser.error("--budget-bytes must be at least 1")
        self.check_arguments(parser, args)
        return args

    def run(self, argv: list[str] | None = None) -> dict[str, Any]:
        """Train, score the held-out set, write heldout.jsonl and train_meta.json; returns the meta."""
        args = self.parse_args(argv)
        documents = training_documents(args.train, args.text_key)
        require_eval_file(args.eval)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        fields = self.fit(args, documents)
        seconds = self.trained_seconds()
        seconds = time.perf_counter() - start if seconds is None else seconds
        eval_start = time.perf_counter()
        eval_key = args.eval_text_key or args.text_key
        bpb = score_heldout(args.eval, eval_key, self.score_texts, args.heldout_out)
        eval_seconds = time.perf_counter() - eval_start
        self.save(args)
        meta = train_meta(self.proxy.name, {
            "tokens_budget": self.budget(args),
            **fields,
            "seconds": round(seconds, 3),
            "eval_seconds": round(eval_seconds, 3),
            "heldout_bpb": bpb,
            **self.scored(args, bpb),
            **self.versions(),
        }, args)
        write_train_meta(args.out_dir / TRAIN_META, meta)
        self.finish(meta)
        print(f"held-out bpb {bpb} on {args.eval}; trained {seconds:.2f}s, scored {eval_seconds:.2f}s",
              flush=True)
        return meta

    def versions(self) -> dict[str, str]:
        """The versions of the packages that trained the model, for train_meta.json."""
        return {}
