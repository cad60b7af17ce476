"""The proxy models: one registry of what the workflow needs to know of each, and their output contract.

A proxy is a rule train_<name> (rules/proxies.smk) running scripts/train_<name>.py once per variant and
seed, which writes in models/<name>/<variant>/seed<N>/ the contract's two files:
  heldout.jsonl    one row per eval document, in order: nll_bits (negative log2-likelihood of the
                   document's UTF-8 bytes, finite, >= 0) and n_bytes (bytes scored, 1..its length;
                   0 for an empty document);
  train_meta.json  a JSON object with at least proxy, tokens_budget (the byte budget it was given)
                   and seconds (training time).
Everything downstream (evaluate, the summaries, HPO confirmation, provenance) reads only these files.
Adding a proxy is that rule, that script (score_heldout and write_train_meta write the files) and one
entry in REGISTRY. Pure Python: Snakemake reads this module at DAG time.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sandbox.io.jsonl import InputError, iter_jsonl, write_jsonl
from sandbox.io.scoring import read_documents, score_rows

HELDOUT = "heldout.jsonl"
TRAIN_META = "train_meta.json"
META_KEYS = ("proxy", "tokens_budget", "seconds")
RETRAIN = "Fix: retrain the model (its trainer writes this file)."
UNKNOWN_SEED_EFFECT = "an unknown proxy, whose seed is assumed to matter"
# (nll_bits, n_bytes) of each text, in order: how a trainer's model scores documents
ScoreTexts = Callable[[list[str]], list[tuple[float, int]]]


@dataclass(frozen=True)
class Proxy:
    """What the workflow needs to know of one proxy besides its rule and trainer script."""

    name: str
    # the conda env file (in envs/) of its rule
    env: str
    # True only when its held-out scores are the same whatever the seed (one seed then gets an interval)
    deterministic: bool = False
    # what its seed changes, the reason a one-seed comparison makes no claim
    seed_effect: str = "the seed is assumed to matter"
    # files its rule writes besides the contract's two (in the same folder)
    extra_files: tuple[str, ...] = ()
    # the report draws its loss.jsonl (rows with tokens_seen and train_bpb) as report/loss_<name>.png
    loss_figure: bool = False
    # files `all` also asks for per variant and seed, under the results folder ({variant}, {seed})
    extra_targets: tuple[str, ...] = ()
    # an HPO round of trials can be scored in one job (hpo_round_eval.py trains it in-process)
    hpo_round_in_one_job: bool = False
    # the configuration's problem for this proxy (a message naming the key and the fix), else None
    config_problem: Callable[[dict[str, Any]], str | None] | None = None
    # its trained model in its output folder, which the downstream tasks load (sandbox.downstream.harness:
    # lm-eval model sandbox-<name>); None: not scored on downstream tasks
    harness_model: str | None = None

    @property
    def rule(self) -> str:
        """Its training rule (rules/proxies.smk)."""
        return f"train_{self.name}"

    @property
    def script(self) -> str:
        """Its trainer, which the rule runs."""
        return f"scripts/train_{self.name}.py"


def gpt_budget(config: dict[str, Any]) -> int:
    """The GPT's training symbols: train.steps x batch_size x seq_len."""
    train = config["train"]
    return train["steps"] * train["batch_size"] * train["seq_len"]


def shared_budget(config: dict[str, Any]) -> int:
    """The one byte budget of every proxy (and of the feedback and datamodel n-grams):
    ngram.budget_bytes when set, else the GPT's (check_proxies refuses another one beside the GPT)."""
    return config["ngram"]["budget_bytes"] or gpt_budget(config)


def gpt_budget_problem(config: dict[str, Any]) -> str | None:
    """With the GPT in the run, a different ngram.budget_bytes would give the proxies different budgets."""
    train, ngram_budget = config["train"], config["ngram"]["budget_bytes"]
    budget = gpt_budget(config)
    if not ngram_budget or ngram_budget == budget:
        return None
    return (
        f"ngram.budget_bytes is {ngram_budget}, but the GPT trains on train.steps × train.batch_size × "
        f"train.seq_len = {train['steps']} × {train['batch_size']} × {train['seq_len']} = {budget} "
        "bytes, so the proxies would not share one budget. Fix: set ngram.budget_bytes: 0 (the GPT's "
        f"budget for every proxy), or {budget}, or change train.steps so that the product is "
        f"{ngram_budget}; or drop gpt from proxies."
    )


def command_problem(config: dict[str, Any]) -> str | None:
    """The command proxy needs its command line."""
    if config["command"]["run"].strip():
        return None
    return (
        "proxies lists command, but command.run is empty. Fix: set command.run to your trainer's "
        "command line (placeholders {train} {eval} {out_dir} {seed} {budget_bytes}), or drop command "
        "from proxies."
    )


REGISTRY: dict[str, Proxy] = {
    proxy.name: proxy
    for proxy in (
        Proxy(
            name="ngram",
            env="ngram.yaml",
            # Kneser-Ney counts do not depend on document order, but the byte budget does. Measured
            # on the demo (400 eval documents, 8 seeds): seed std of a variant difference 0.003 bpb,
            # about 3x its document standard error, so one seed is not enough.
            seed_effect="the seed draws which documents fill the byte budget",
            hpo_round_in_one_job=True,
            # written by rule ngram_model (counted again, checked against heldout.jsonl), not train_ngram
            harness_model="model.npz",
        ),
        Proxy(
            name="gpt",
            env="torch.yaml",
            seed_effect="the seed sets the initial weights and the batch order",
            extra_files=("model.pt", "loss.jsonl"),
            loss_figure=True,
            # rule infer: the probe documents the GPT finds hardest
            extra_targets=("infer/{variant}/seed{seed}/hardest.jsonl",),
            config_problem=gpt_budget_problem,
            harness_model="model.pt",
        ),
        Proxy(
            name="command",
            env="base.yaml",
            seed_effect="an outside trainer, whose seed is assumed to matter",
            config_problem=command_problem,
        ),
        Proxy(
            name="hf",
            env="hf.yaml",
            seed_effect="the seed sets the initial weights and the batch order",
            # model: the trained weights and tokenizer (save_pretrained), for the downstream tasks
            extra_files=("loss.jsonl", "model"),
            harness_model="model",
        ),
    )
}


def proxy_pattern() -> str:
    """The `proxy` wildcard's constraint: any registered name."""
    return "|".join(REGISTRY)


def check_proxies(config: dict[str, Any]) -> None:
    """InputError unless every configured proxy is registered and its settings are usable."""
    names = config["proxies"]
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        verb = "is not a known proxy" if len(unknown) == 1 else "are not known proxies"
        raise InputError(
            f"proxies: {', '.join(map(repr, unknown))} {verb} (known: {', '.join(REGISTRY)}). "
            "Fix: list only known proxies, or register a new one in scripts/sandbox/proxies/registry.py "
            "(REGISTRY) beside its rule train_<name>."
        )
    for name in names:
        check = REGISTRY[name].config_problem
        problem = check(config) if check else None
        if problem:
            raise InputError(problem)


def is_deterministic(proxy: str) -> bool:
    """True only for a registered proxy known to give the same held-out scores whatever its seed."""
    return proxy in REGISTRY and REGISTRY[proxy].deterministic


def seed_effect(proxy: str) -> str:
    """What the proxy's seed changes, for the reason a one-seed comparison makes no claim."""
    return REGISTRY[proxy].seed_effect if proxy in REGISTRY else UNKNOWN_SEED_EFFECT


# --- the contract: what a trainer writes, and the checks of what it wrote ---


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
    lacks a required key (a command's own file needs none: train_command.py adds them)."""
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
