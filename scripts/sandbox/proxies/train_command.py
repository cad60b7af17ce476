"""The `command` proxy: the user's own trainer (config `command.run`) on one variant and seed, its outputs
checked; its registry entry and trainer (rule train_command).

The command is a shell command line with placeholders, each filled in shell-quoted: {train} (training
JSONL, text under "text"), {eval} (held-out JSONL), {out_dir}, {seed}, {budget_bytes} (the bytes every
proxy may learn from). It must write, in {out_dir}, the contract's heldout.jsonl (sandbox/proxies/
contract.py: nll_bits and n_bytes per eval document, in order) and train_meta.json as any JSON object:
this trainer checks both and adds proxy, tokens_budget, seconds and the command to train_meta.json.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import time
from typing import Any

from sandbox.io.jsonl import InputError
from sandbox.proxies.contract import HELDOUT, TRAIN_META, check_heldout, read_train_meta, write_train_meta
from sandbox.proxies.entry import Proxy, registered
from sandbox.proxies.trainer import Trainer

PLACEHOLDERS = ("train", "eval", "out_dir", "seed", "budget_bytes")
CONTRACT = ("Fix: the command must write {out_dir}/heldout.jsonl (one row per eval document, in order, "
            "with nll_bits and n_bytes) and {out_dir}/train_meta.json (a JSON object); see "
            "scripts/examples/bigram_proxy.py.")


def command_problem(config: dict[str, Any]) -> str | None:
    """The command proxy needs its command line."""
    if config["command"]["run"].strip():
        return None
    return (
        "proxies lists command, but command.run is empty. Fix: set command.run to your trainer's "
        "command line (placeholders {train} {eval} {out_dir} {seed} {budget_bytes}), or drop command "
        "from proxies."
    )


def command_line(template: str, values: dict[str, object]) -> str:
    """The template with every placeholder filled in, shell-quoted; InputError for an unknown one."""
    try:
        return template.format(**{key: shlex.quote(str(value)) for key, value in values.items()})
    except (KeyError, IndexError, ValueError) as error:
        raise InputError(f"command.run: cannot fill in {template!r} ({error!r}). Fix: use only the "
                         f"placeholders {', '.join('{' + name + '}' for name in PLACEHOLDERS)}.") from None


@registered(Proxy(
    name="command",
    env="base.yaml",
    config_section="command",
    strength=3,  # your own trainer is the strongest judge on the ladder
    seed_effect="an outside trainer, whose seed is assumed to matter",
    config_problem=command_problem,
))
class CommandTrainer(Trainer):
    """Run the user's own trainer on one variant and seed, then check its outputs. Its command trains
    and scores, so this trainer replaces the base's run (it neither reads the data nor scores)."""

    description = __doc__

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--command", required=True, help="the command line, with placeholders")

    def check_arguments(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.budget_bytes is None:
            parser.error("--budget-bytes is required: the bytes every proxy may learn from")

    def run(self, argv: list[str] | None = None) -> dict[str, Any]:
        args = self.parse_args(argv)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for stale in (HELDOUT, TRAIN_META):
            (args.out_dir / stale).unlink(missing_ok=True)
        command = command_line(args.command, {"train": args.train, "eval": args.eval, "out_dir": args.out_dir,
                                              "seed": args.seed, "budget_bytes": args.budget_bytes})
        print(f"running: {command}", flush=True)
        start = time.perf_counter()
        result = subprocess.run(command, shell=True, executable="/bin/bash")
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise InputError(f"`{command}` exited with status {result.returncode} (its output is above in "
                             "this log). Fix: make the command run on its own first.")
        documents = check_heldout(args.out_dir / HELDOUT, args.eval, f"`{command}`", CONTRACT)
        meta_path = args.out_dir / TRAIN_META
        meta = read_train_meta(meta_path, CONTRACT, required=())
        meta.update({"proxy": "command", "tokens_budget": args.budget_bytes, "seconds": round(seconds, 3),
                     "command": command, "command_template": args.command})
        write_train_meta(meta_path, meta)
        print(f"{documents} eval documents scored in {seconds:.1f}s", flush=True)
        return meta
