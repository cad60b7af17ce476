"""The `command` proxy: run the user's own trainer on one variant and seed, then check its outputs.

The command (config `command.run`) is a shell command line with placeholders, each filled in
shell-quoted: {train} (training JSONL, text under "text"), {eval} (held-out JSONL), {out_dir},
{seed}, {budget_bytes} (the bytes every proxy may learn from). It must write, in {out_dir}:
  heldout.jsonl    one row per eval document, in order: nll_bits (negative log2-likelihood of the
                   document's UTF-8 bytes, finite, >= 0) and n_bytes (bytes scored, 1..its length);
  train_meta.json  a JSON object (anything the trainer wants to record).
This script adds proxy, tokens_budget, seconds and the command to train_meta.json.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox.cli import run_main  # noqa: E402
from sandbox.jsonl import InputError, iter_jsonl  # noqa: E402

PLACEHOLDERS = ("train", "eval", "out_dir", "seed", "budget_bytes")
CONTRACT = ("Fix: the command must write {out_dir}/heldout.jsonl (one row per eval document, in order, "
            "with nll_bits and n_bytes) and {out_dir}/train_meta.json (a JSON object); see "
            "scripts/examples/bigram_proxy.py.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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


def check_heldout(path: Path, eval_path: Path, command: str) -> int:
    """InputError unless path scores every eval document once, in order, with sane numbers."""
    lengths = [len(record["text"].encode("utf-8")) for _, record in iter_jsonl(eval_path)]
    if not path.is_file():
        raise InputError(f"`{command}` wrote no {path}. {CONTRACT}")
    rows = [row for _, row in iter_jsonl(path)]
    if len(rows) != len(lengths):
        raise InputError(f"{path}: {len(rows)} rows for {len(lengths)} eval documents (written by `{command}`). "
                         f"{CONTRACT}")
    for line, (row, length) in enumerate(zip(rows, lengths), start=1):
        nll, n_bytes = row.get("nll_bits"), row.get("n_bytes")
        if not isinstance(nll, (int, float)) or not math.isfinite(nll) or nll < 0:
            raise InputError(f"{path}:{line}: nll_bits must be a finite number >= 0, got {nll!r}. {CONTRACT}")
        if not isinstance(n_bytes, int) or not 0 < n_bytes <= max(length, 1):
            raise InputError(f"{path}:{line}: n_bytes must be an int in 1..{length} (the document's UTF-8 "
                             f"bytes), got {n_bytes!r}. {CONTRACT}")
    return len(rows)


def main() -> None:
    args = parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("heldout.jsonl", "train_meta.json"):
        (args.out_dir / stale).unlink(missing_ok=True)
    command = command_line(args.command, {"train": args.train, "eval": args.eval, "out_dir": args.out_dir,
                                          "seed": args.seed, "budget_bytes": args.budget_bytes})
    print(f"running: {command}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, shell=True, executable="/bin/bash")
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise InputError(f"`{command}` exited with status {result.returncode} (its output is above in this log). "
                         "Fix: make the command run on its own first.")
    documents = check_heldout(args.out_dir / "heldout.jsonl", args.eval, command)
    meta_path = args.out_dir / "train_meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{meta_path}: not readable as JSON ({error}). {CONTRACT}") from None
    if not isinstance(meta, dict):
        raise InputError(f"{meta_path}: not a JSON object. {CONTRACT}")
    meta.update({"proxy": "command", "tokens_budget": args.budget_bytes, "seconds": round(seconds, 3),
                 "command": command, "command_template": args.command})
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"{documents} eval documents scored in {seconds:.1f}s", flush=True)


if __name__ == "__main__":
    run_main(main)
