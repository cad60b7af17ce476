"""The proxies' byte budget: the one every proxy shares (and the feedback and datamodel n-grams). Pure
Python: Snakemake reads it at DAG time."""

from __future__ import annotations

from typing import Any


def gpt_budget(config: dict[str, Any]) -> int:
    """The GPT's training symbols: train.steps x batch_size x seq_len."""
    train = config["train"]
    return train["steps"] * train["batch_size"] * train["seq_len"]


def shared_budget(config: dict[str, Any]) -> int:
    """The one byte budget of every proxy (and of the feedback and datamodel n-grams):
    ngram.budget_bytes when set, else the GPT's (the GPT's entry refuses another one beside it)."""
    return config["ngram"]["budget_bytes"] or gpt_budget(config)
