"""The proxy models: one registry of what the workflow needs to know of each.

A proxy is a trainer module, scripts/sandbox/proxies/train_<name>.py, whose Trainer subclass
(sandbox/proxies/trainer.py) implements training and scoring and declares its registry entry
(sandbox/proxies/entry.py) next to itself, and a rule train_<name> (rules/proxies.smk) that runs it
through scripts/train.py once per variant and seed; the ladder's rule is that rule with other
outputs (`use rule train_<name> as ladder_train_<name> with:`). Every train_<name>.py of this package
is registered: adding a proxy is that module and that rule. What every trainer writes is the contract
(sandbox/proxies/contract.py). Pure Python: Snakemake reads this module at DAG time.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from sandbox.io.jsonl import InputError
from sandbox.proxies.entry import ENTRIES, Proxy

UNKNOWN_SEED_EFFECT = "an unknown proxy, whose seed is assumed to matter"
TRAINER_PREFIX = "train_"


def discover() -> dict[str, Proxy]:
    """Every proxy whose trainer module (train_<name>.py) sits in this package, by name, from the cheapest
    judge to the strongest (their entries' strength, then name)."""
    folder = Path(__file__).parent
    for module in sorted(info.name for info in pkgutil.iter_modules([str(folder)])):
        if module.startswith(TRAINER_PREFIX):
            importlib.import_module(f"{__package__}.{module}")
    entries = sorted((entry for entry, _ in ENTRIES.values()), key=lambda entry: (entry.strength, entry.name))
    return {entry.name: entry for entry in entries}


def trainer_class(name: str) -> type:
    """The Trainer subclass of a registered proxy."""
    if name not in REGISTRY:
        raise InputError(f"{name!r} is not a known proxy (known: {', '.join(REGISTRY)}). Fix: name a "
                         f"registered proxy, or add scripts/sandbox/proxies/{TRAINER_PREFIX}{name}.py.")
    return ENTRIES[name][1]


REGISTRY: dict[str, Proxy] = discover()


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
            "Fix: list only known proxies, or add one: a trainer module "
            "scripts/sandbox/proxies/train_<name>.py and its rule train_<name>."
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


