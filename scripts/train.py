"""Train one proxy on one data variant and score the held-out set: `python scripts/train.py <proxy> ...`.

<proxy> is a registered proxy (scripts/sandbox/proxies/train_<proxy>.py); its trainer takes the options
every proxy shares (--train, --eval, --out-dir, --heldout-out, --seed, --budget-bytes, ...) and its own
(`python scripts/train.py <proxy> --help`). It writes the contract's heldout.jsonl and train_meta.json
(sandbox/proxies/contract.py), plus what the proxy's rule declares.
"""

from __future__ import annotations

import sys

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import REGISTRY, trainer_class


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise InputError("usage: python scripts/train.py <proxy> [options] (proxies: "
                         f"{', '.join(REGISTRY)}). Fix: name the proxy first.")
    trainer_class(sys.argv[1])().run(sys.argv[2:])


if __name__ == "__main__":
    run_main(main)
