"""The `command` proxy: run the user's own trainer on one variant and seed, then check its outputs.

The command (config `command.run`) is a shell command line with placeholders, each filled in
shell-quoted: {train} (training JSONL, text under "text"), {eval} (held-out JSONL), {out_dir},
{seed}, {budget_bytes} (the bytes every proxy may learn from). It must write, in {out_dir}, the
contract's heldout.jsonl (sandbox/proxies/registry.py: nll_bits and n_bytes per eval document, in order)
and train_meta.json as any JSON object: this script checks both and adds proxy, tokens_budget,
seconds and the command to train_meta.json.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import time
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import (
    HELDOUT,
    TRAIN_META,
    check_heldout,
    read_train_meta,
    write_train_meta,
)

PLACEHOLDERS = ("train", "eval", "out_dir", "seed", "budget_bytes")
CONTRACT = ("Fix: the command must write {out_dir}/heldout.jsonl (one row per eval document, in order, "
            "with nll_bits and n_bytes) and {out_dir}/train_meta.json (a JSON object); see "
            "scripts/examples/bigram_proxy.py.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--command", required=True, help="the command line, with placeholders")
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--budget-bytes", type=int, required=True)
    return parser.parse_args()


def command_line(template: str, values: dict[str, object]) -> str:
    """The template with every placeholder filled in, shell-quoted; InputError for an unknown one."""
    try:
        return template.format(**{key: shlex.quote(str(value)) for key, value in values.items()})
    except (KeyError, IndexError, ValueError) as error:
        raise InputError(f"command.run: cannot fill in {template!r} ({error!r}). Fix: use only the "
                         f"placeholders {', '.join('{' + name + '}' for name in PLACEHOLDERS)}.") from None


def main() -> None:
    args = parse_args()
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
                         "this log). "
                         "Fix: make the command run on its own first.")
    documents = check_heldout(args.out_dir / HELDOUT, args.eval, f"`{command}`", CONTRACT)
    meta_path = args.out_dir / TRAIN_META
    meta = read_train_meta(meta_path, CONTRACT, required=())
    meta.update({"proxy": "command", "tokens_budget": args.budget_bytes, "seconds": round(seconds, 3),
                 "command": command, "command_template": args.command})
    write_train_meta(meta_path, meta)
    print(f"{documents} eval documents scored in {seconds:.1f}s", flush=True)


if __name__ == "__main__":
    run_main(main)
