"""`make lock`: resolve every package of every environment once, with hashes, and write the locks.

1. envs/locks/venv.txt: the union of all env files' pins (what `make` installs into .venv), compiled
   by uv for linux x86_64 and Python 3.11.7.
2. envs/locks/<env>.txt: each env file's pins compiled with venv.txt as constraints, so every env
   holds the venv's versions.
3. Each env file's generated block: the lock's sha256 and every package it locks (sandbox.workflow.locks),
   so `--use-conda` installs the locked set and rebuilds an env when its lock changes.

`--print-unlocked` names what the venv holds beyond venv.txt (`make` uninstalls it). Run it after
changing a pin in envs/*.yaml; tests/unit/test_locks.py checks that the locks, the env
files and the venv agree. uv reads no pip.conf: the local wheel folder pip is told about
(PIP_FIND_LINKS, e.g. the CPU-only torch wheel) is passed on with --find-links.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError
from sandbox.workflow.locks import (
    LOCKS,
    VENV_LOCK,
    installed_versions,
    lock_path,
    lock_pins,
    named_pins,
    with_locked_block,
)

PYTHON_VERSION = "3.11.7"
PLATFORM = "x86_64-manylinux_2_28"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the repository (default: this script's)")
    parser.add_argument("--print-unlocked", action="store_true",
                        help="only print the installed packages venv.txt does not lock (`make` removes them)")
    return parser.parse_args()


def uv_compile(requirements: list[str], out: Path, constraints: Path | None = None) -> None:
    """uv pip compile of the requirements into out, with hashes, for the locked platform."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"{out.stem}.in"
        source.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        command = [str(Path(sys.executable).parent / "uv"), "pip", "compile", str(source), "--quiet",
                   "--python-version", PYTHON_VERSION, "--python-platform", PLATFORM, "--generate-hashes",
                   "--no-annotate", "--custom-compile-command", "make lock", "-o", str(out)]
        for links in filter(None, os.environ.get("PIP_FIND_LINKS", "").split()):
            command += ["--find-links", links]
        if constraints is not None:
            command += ["--constraints", str(constraints)]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise InputError(f"{out}: uv could not resolve the pins:\n{done.stderr.strip()}\nFix: change the "
                         "conflicting pins in envs/*.yaml (uv names them above) and run `make lock` again.")


def main() -> None:
    args = parse_args()
    root = args.root
    if args.print_unlocked:
        locked = lock_pins(lock_path(root, VENV_LOCK).read_text(encoding="utf-8"))
        print("\n".join(sorted(set(installed_versions()) - set(locked))))
        return
    env_files = sorted((root / "envs").glob("*.yaml"))
    pins = {path.stem: named_pins(path.read_text(encoding="utf-8")) for path in env_files}
    (root / LOCKS).mkdir(exist_ok=True)
    venv_lock = lock_path(root, VENV_LOCK)
    union = sorted({pin for env_pins in pins.values() for pin in env_pins})
    uv_compile(union, venv_lock)
    print(f"{venv_lock.relative_to(root)}: {len(lock_pins(venv_lock.read_text()))} packages "
          f"from {len(union)} pins")
    for path in env_files:
        lock = lock_path(root, path.stem)
        uv_compile(pins[path.stem], lock, constraints=venv_lock)
        lock_text = lock.read_text(encoding="utf-8")
        path.write_text(with_locked_block(path.read_text(encoding="utf-8"), path.stem, lock_text),
                        encoding="utf-8")
        print(f"{lock.relative_to(root)}: {len(lock_pins(lock_text))} packages from "
              f"{len(pins[path.stem])} pins")


if __name__ == "__main__":
    run_main(main)
