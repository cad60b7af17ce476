"""Each proxy's byte budget and seeds. Pure Python: Snakemake reads it at DAG time.

The neural proxies' budget is fixed by their config: the GPT's train.steps x batch_size x seq_len, and
hf's and command's own `budget_bytes` (0: the GPT's). The n-gram's depends on the data: a model costs
about a second, so it learns from as much as every judged variant has, the smallest stream-symbol size
(bytes plus one separator per document) among raw, recipe, k_sigma and the feedback variants, capped by
ngram.max_budget_bytes (rule ngram_budget writes it to models/ngram/budget.json; every n-gram job reads
that file). An explicit ngram.budget_bytes wins. The feedback LMs keep the base budget (base_budget).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Iterable

# What budget.json says when the budget is the config's and not the data's.
EXPLICIT = "ngram.budget_bytes"


def gpt_budget(config: dict[str, Any]) -> int:
    """The GPT's training symbols: train.steps x batch_size x seq_len."""
    train = config["train"]
    return train["steps"] * train["batch_size"] * train["seq_len"]


def base_budget(config: dict[str, Any]) -> int:
    """The feedback LMs' budget (as before issue 33): ngram.budget_bytes when set, else the GPT's."""
    return config["ngram"]["budget_bytes"] or gpt_budget(config)


def neural_budget(config: dict[str, Any], proxy: str) -> int:
    """The fixed budget of hf or command: its section's budget_bytes, 0 meaning the GPT's."""
    return config.get(proxy, {}).get("budget_bytes", 0) or gpt_budget(config)


def proxy_seeds(config: dict[str, Any], section: str) -> list[int]:
    """A proxy's seeds: its config section's `seeds` (a count n means 0..n-1; empty means `seeds`)."""
    own = config.get(section, {}).get("seeds")
    if isinstance(own, int) and not isinstance(own, bool):
        return list(range(own))
    return list(own) if own else list(config["seeds"])


def budget_source(config: dict[str, Any], proxy: str) -> str:
    """Where a proxy's budget comes from, for the verdict's header (the n-gram's why is in budget.json)."""
    if proxy == "ngram":
        return EXPLICIT if config["ngram"]["budget_bytes"] else "the data (models/ngram/budget.json)"
    if proxy == "gpt":
        return "train.steps × batch_size × seq_len"
    if config.get(proxy, {}).get("budget_bytes"):
        return f"{proxy}.budget_bytes"
    return f"the GPT's, train.steps × batch_size × seq_len ({proxy}.budget_bytes: 0)"


def own_seeds_section(config: dict[str, Any], section: str) -> str | None:
    """The config section whose `seeds` a proxy uses (ngram), or None where it uses `seeds`."""
    return section if config.get(section, {}).get("seeds") else None


def design(config: dict[str, Any], sections: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per proxy (name -> its config section): where its budget and its seeds come from."""
    return {proxy: {"budget_source": budget_source(config, proxy),
                    "seeds_section": own_seeds_section(config, section)}
            for proxy, section in sections.items()}


def stream_symbols(texts: Iterable[str]) -> int:
    """The budget's unit for a set of documents: UTF-8 bytes plus one separator per document."""
    return sum(len(text.encode("utf-8")) + 1 for text in texts)


def data_budget(sizes: dict[str, int], cap: int, explicit: int = 0) -> dict[str, Any]:
    """budget.json's content: the budget and why (the explicit one, else the smallest variant's size
    capped by `cap`)."""
    if explicit:
        return {"budget_bytes": explicit, "why": f"set by {EXPLICIT}", "sizes": sizes, "cap": cap}
    if not sizes:
        raise ValueError("no variant to size the n-gram's budget on")
    smallest = min(sizes, key=lambda name: (sizes[name], name))
    if sizes[smallest] > cap:
        why = (f"ngram.max_budget_bytes = {cap}; the smallest judged variant, `{smallest}`, has "
               f"{sizes[smallest]}")
        return {"budget_bytes": cap, "why": why, "smallest": smallest, "sizes": sizes, "cap": cap}
    why = f"the size of the smallest judged variant, `{smallest}`, under ngram.max_budget_bytes = {cap}"
    return {"budget_bytes": sizes[smallest], "why": why, "smallest": smallest, "sizes": sizes, "cap": cap}


def read_budget(path: Path) -> dict[str, Any]:
    """A budget.json file (rule ngram_budget)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a budget file ({error}). Fix: delete it and rerun; rule "
                         "ngram_budget writes it.") from None


def add_budget_arguments(parser: argparse.ArgumentParser, help_text: str) -> None:
    """--budget-bytes N, or --budget-file budget.json (times --budget-multiplier, for the ladder)."""
    parser.add_argument("--budget-bytes", type=int, default=None, help=help_text)
    parser.add_argument("--budget-file", type=Path, default=None,
                        help="read the budget from this budget.json (rule ngram_budget) instead")
    parser.add_argument("--budget-multiplier", type=float, default=1.0,
                        help="with --budget-file: train on this multiple of it (the scale ladder)")


def resolve_budget(parser: argparse.ArgumentParser, args: argparse.Namespace, required: bool = False) -> None:
    """Set args.budget_bytes from --budget-file when given; parser.error on a bad combination, or on
    neither when required."""
    if args.budget_file is None:
        if args.budget_multiplier != 1.0:
            parser.error("--budget-multiplier needs --budget-file")
        if required and args.budget_bytes is None:
            parser.error("give --budget-bytes N or --budget-file budget.json (rule ngram_budget writes it)")
        return
    if args.budget_bytes is not None:
        parser.error("give --budget-bytes or --budget-file, not both")
    if args.budget_multiplier <= 0:
        parser.error("--budget-multiplier must be positive")
    try:
        base = int(read_budget(args.budget_file)["budget_bytes"])
    except (ValueError, KeyError, TypeError) as error:
        parser.error(str(error))
    args.budget_bytes = max(1, round(base * args.budget_multiplier))
