"""The scale ladder's configuration (`ladder:` in config.yaml): which (proxy, scale) pairs train, what each
scale changes, where its models live, and which one is the target. Pure Python: Snakemake reads it at
DAG time.

A scale is a multiplier of the proxy's own byte budget (sandbox/proxies/budget.py: the n-gram's from
models/ngram/budget.json, at run time) at one model size: `x<m>` at the proxy's own size (the main run's
settings), `<size>-x<m>` at a named size of `ladder.<proxy>.sizes` (a list, so that a config override
replaces it whole: each entry a name and overrides of the proxy's settings, the n-gram's order, the GPT's
width and depth, an hf model folder).
The base scale `x1` is the main run's models (models/<proxy>/<variant>/seed<N>/), never retrained; every
other scale has its own folder, ladder/models/<proxy>/<scale>/<variant>/seed<N>/.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import REGISTRY

BASE = "x1"
SCALE_PATTERN = r"(?:[a-z][a-z0-9_]*-)?x[0-9]+(?:\.[0-9]+)?"
def multiplier_name(multiplier: float) -> str:
    """x0.25, x1, x2: the multiplier as it appears in a scale's name."""
    return f"x{multiplier:g}"


@dataclass(frozen=True)
class Scale:
    """One rung of one proxy: a budget multiplier at a model size (size "" is the proxy's own)."""

    proxy: str
    multiplier: float
    size: str = ""
    overrides: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # how large the size is among the proxy's sizes (the largest scale is the default target)
    size_rank: float = 0.0

    @property
    def name(self) -> str:
        suffix = multiplier_name(self.multiplier)
        return f"{self.size}-{suffix}" if self.size else suffix

    @property
    def label(self) -> str:
        return f"{self.proxy}@{self.name}"

    @property
    def is_base(self) -> bool:
        """The main run's models: the proxy's own size at the shared budget."""
        return not self.size and self.multiplier == 1


def size_rank(proxy: str, settings: dict[str, Any], position: int) -> float:
    """How large a size is: by the proxy's entry (the GPT's parameters, the n-gram's order), else its place
    in the list."""
    rank = REGISTRY[proxy].size_rank
    return rank(settings) if rank else float(position)


def own_settings(config: dict[str, Any], proxy: str) -> dict[str, Any]:
    """The settings a proxy's size overrides start from: the main run's (its config section)."""
    section = REGISTRY[proxy].config_section
    return dict(config.get(section) or {}) if section else {}


def ladder_proxies(config: dict[str, Any]) -> list[str]:
    """The proxies on the ladder: ladder.proxies, or every configured proxy."""
    return list(config["ladder"]["proxies"] or config["proxies"])


def proxy_scales(config: dict[str, Any], proxy: str) -> list[Scale]:
    """A proxy's scales: every multiplier at its own size, and each named size at its multipliers."""
    spec = config["ladder"].get(proxy) or {}
    multipliers = spec.get("multipliers") or [1]
    base = own_settings(config, proxy)
    scales = [Scale(proxy, float(m), size_rank=size_rank(proxy, base, 0)) for m in multipliers]
    for position, entry in enumerate(spec.get("sizes") or [], start=1):
        overrides = dict(entry)
        size = overrides.pop("name")
        size_multipliers = overrides.pop("multipliers", None) or multipliers
        size_keys = REGISTRY[proxy].size_keys
        unknown = sorted(set(overrides) - set(size_keys))
        if unknown:
            raise InputError(
                f"ladder.{proxy}.sizes.{size}: {', '.join(unknown)} cannot be set per size (a {proxy} size "
                f"sets {', '.join(size_keys) or 'nothing: it has only multipliers'}). Fix: remove "
                "them, or set them for the whole run.")
        rank = size_rank(proxy, {**base, **overrides}, position)
        scales += [Scale(proxy, float(m), size, overrides, rank) for m in size_multipliers]
    names = [scale.name for scale in scales]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InputError(f"ladder.{proxy}: the scale(s) {', '.join(duplicated)} are listed twice. "
                         "Fix: list each multiplier once per size.")
    return scales


def all_scales(config: dict[str, Any]) -> list[Scale]:
    """Every (proxy, scale) of the ladder, proxy by proxy, in configured order."""
    return [scale for proxy in ladder_proxies(config) for scale in proxy_scales(config, proxy)]


def largest(scales: list[Scale]) -> Scale:
    """The largest scale: the highest budget multiplier, then the largest size."""
    return max(scales, key=lambda scale: (scale.multiplier, scale.size_rank))


def strongest_proxy(proxies: list[str]) -> str:
    """The strongest proxy on the ladder (the entries' strength; the first listed among equals)."""
    return max(proxies, key=lambda proxy: REGISTRY[proxy].strength if proxy in REGISTRY else -1)


def target_scale(config: dict[str, Any]) -> Scale:
    """ladder.target (`<proxy>` or `<proxy>@<scale>`), else the largest scale of the strongest proxy."""
    scales = all_scales(config)
    named = config["ladder"]["target"]
    proxies = ladder_proxies(config)
    if not named:
        proxy = strongest_proxy(proxies)
        return largest([scale for scale in scales if scale.proxy == proxy])
    proxy, _, name = named.partition("@")
    if proxy not in proxies:
        raise InputError(f"ladder.target: {named!r} names the proxy {proxy!r}, which is not on the ladder "
                         f"({', '.join(proxies)}). Fix: name one of them, or add it to ladder.proxies.")
    own = [scale for scale in scales if scale.proxy == proxy]
    if not name:
        return largest(own)
    for scale in own:
        if scale.name == name:
            return scale
    raise InputError(f"ladder.target: {named!r}: {proxy} has no scale {name!r} (its scales: "
                     f"{', '.join(scale.name for scale in own)}). Fix: name one of them.")


def find_scale(config: dict[str, Any], proxy: str, name: str) -> Scale:
    for scale in proxy_scales(config, proxy):
        if scale.name == name:
            return scale
    raise KeyError(f"{proxy}@{name}")


def scaled_budget(budget: int, multiplier: float) -> int:
    """The byte budget of a multiplier (at least one symbol)."""
    return max(1, round(budget * multiplier))


def scaled_train(train: dict[str, Any], scale: Scale) -> dict[str, Any]:
    """The GPT's `train:` settings at a scale: steps and warm-up times the multiplier, the size's shape."""
    settings = {**train, **scale.overrides}
    settings["steps"] = max(1, round(train["steps"] * scale.multiplier))
    settings["warmup_steps"] = round(train["warmup_steps"] * scale.multiplier)
    return settings


def scale_dir(out: str, scale: Scale) -> str:
    """Where a scale's models live ({variant} and {seed} left as wildcards)."""
    if scale.is_base:
        return f"{out}/models/{scale.proxy}/{{variant}}/seed{{seed}}"
    return f"{out}/ladder/models/{scale.proxy}/{scale.name}/{{variant}}/seed{{seed}}"


def benchmark_file(out: str, scale: Scale) -> str:
    """Snakemake's benchmark file of a scale's job ({variant} and {seed} left as wildcards)."""
    if scale.is_base:
        return f"{out}/benchmarks/train_{scale.proxy}/{{variant}}_seed{{seed}}.tsv"
    return f"{out}/ladder/benchmarks/{scale.proxy}/{scale.name}/{{variant}}_seed{{seed}}.tsv"


def scale_spec(scale: Scale, seeds: list[int]) -> dict[str, Any]:
    """What ladder_summarize is told of a scale: its name, multiplier, size, overrides and seeds (its
    budget comes from its models' train_meta.json: the n-gram's is known only once the data are)."""
    return {"proxy": scale.proxy, "scale": scale.name, "multiplier": scale.multiplier, "size": scale.size,
            "size_rank": scale.size_rank, "overrides": scale.overrides, "seeds": list(seeds),
            "base": scale.is_base}


def write_specs(path: Path, specs: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(specs, indent=2) + "\n", encoding="utf-8")


def check_ladder(config: dict[str, Any]) -> None:
    """InputError unless every ladder proxy is configured and the scales and the target are well formed."""
    missing = [proxy for proxy in ladder_proxies(config) if proxy not in config["proxies"]]
    if missing:
        raise InputError(f"ladder.proxies: {', '.join(missing)} not in proxies "
                         f"({', '.join(config['proxies'])}): "
                         "the ladder's x1 rung is the main run's models. Fix: add them to proxies, or "
                         "leave ladder.proxies empty (every configured proxy).")
    for scale in all_scales(config):
        if not re.fullmatch(SCALE_PATTERN, scale.name):
            raise InputError(f"ladder.{scale.proxy}: the scale name {scale.name!r} is not usable in a "
                             "path. Fix: name sizes with lower-case letters, digits and _ (starting with "
                             "a letter).")
    target_scale(config)
