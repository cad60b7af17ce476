"""A proxy's registry entry, declared next to its trainer (sandbox/proxies/train_<name>.py):

    @registered(Proxy(name="toy", env="base.yaml", ...))
    class ToyTrainer(Trainer): ...

sandbox.proxies.registry collects the entries of every train_<name>.py module of this package.
Pure Python: Snakemake reads the entries at DAG time, so a trainer module imports its heavy packages
(numpy, torch) inside its methods, never at its top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

# name -> (entry, trainer class), filled in as the train_<name> modules are imported
ENTRIES: dict[str, tuple[Proxy, type]] = {}


@dataclass(frozen=True)
class Proxy:
    """What the workflow needs to know of one proxy besides its rule and trainer."""

    name: str
    # the conda env file (in envs/) of its rule
    env: str
    # its settings' section of the config (train, ngram, hf, command), None when it has none
    config_section: str | None = None
    # what a named size of the scale ladder may override (ladder.<name>.sizes): keys of its section
    size_keys: tuple[str, ...] = ()
    # how large a size is, from its settings (the largest scale is the ladder's default target);
    # None: its place in ladder.<name>.sizes
    size_rank: Callable[[dict[str, Any]], float] | None = None
    # how strong a judge it is: the strongest proxy on the ladder is its default target
    strength: int = 0
    # it trains on a fixed budget of its own and sees a variant smaller than that more than once; the
    # mixture search then exports its mixtures at that budget, pools repeated up to pools.max_epochs
    # times (the n-gram: False, it uses each document at most once)
    repeats_data: bool = True
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
    def module(self) -> str:
        """Its trainer module, where this entry is declared."""
        return f"scripts/sandbox/proxies/train_{self.name}.py"


def registered(proxy: Proxy) -> Callable[[type], type]:
    """Class decorator: the trainer class of proxy, entered in the registry under its name."""

    def register(trainer: type) -> type:
        if proxy.name in ENTRIES and ENTRIES[proxy.name][1] is not trainer:
            raise ValueError(f"two trainers register the proxy {proxy.name!r} (a bug in sandbox/proxies/)")
        trainer.proxy = proxy  # type: ignore[attr-defined]
        ENTRIES[proxy.name] = (proxy, trainer)
        return trainer

    return register
