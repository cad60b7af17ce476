"""The environment locks (`make lock`, scripts/lock_envs.py): what each env file pins, what its lock
holds, and the generated block that copies the lock into the env file.

An env file (envs/<name>.yaml) names its packages with `==` pins; its lock (envs/locks/<name>.txt,
uv's compile with hashes) holds every package beneath them, resolved under the venv's lock
(envs/locks/venv.txt, the union of all env files' pins) as constraints, so every env agrees with the
venv. Snakemake hashes only the env file, so the file carries the lock's sha256 and every locked
package below a marker line: `--use-conda` installs the locked set and rebuilds when the lock changes.
Standard library only: the tests and provenance read it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

LOCKS = "envs/locks"
VENV_LOCK = "venv"
MARKER = "# Locked by `make lock`"
# A pip pin in an env file: indented "- name==version" (extras allowed), as the Makefile reads them.
ENV_PIN = re.compile(r"^\s+- ([A-Za-z0-9][A-Za-z0-9_.\[\],-]*)==(\S+)\s*$")
LOCK_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\[\],-]*)==([^\s\\;]+)")
CONDA_PIP = re.compile(r"^\s+- pip=(\S+)\s*$")


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (extras dropped): Typepy, type_py -> typepy."""
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def public_version(version: str) -> str:
    """The version without its local label: the local CPU wheel's 2.13.0+cpu satisfies a 2.13.0 pin."""
    return version.split("+")[0]


def marker_row(lines: list[str]) -> int:
    """The row of the generated block's marker line, or len(lines) where the file has none."""
    return next((row for row, line in enumerate(lines) if line.strip().startswith(MARKER)), len(lines))


def pins_of(lines: list[str]) -> list[str]:
    return [f"{match.group(1)}=={match.group(2)}" for line in lines if (match := ENV_PIN.match(line))]


def named_pins(env_text: str) -> list[str]:
    """The env file's own pins ("name==version"), those above the generated block."""
    lines = env_text.splitlines()
    return pins_of(lines[:marker_row(lines)])


def generated_pins(env_text: str) -> list[str]:
    """The pins of the env file's generated block (below the marker)."""
    lines = env_text.splitlines()
    return pins_of(lines[marker_row(lines) + 1:])


def marker_sha256(env_text: str) -> str | None:
    """The lock sha256 the env file's marker names, or None without a generated block."""
    match = re.search(re.escape(MARKER) + r".*?sha256 ([0-9a-f]{64})", env_text, re.S)
    return match.group(1) if match else None


def conda_pip_version(env_text: str) -> str | None:
    """The env file's `- pip=X` conda pin."""
    return next((match.group(1) for line in env_text.splitlines() if (match := CONDA_PIP.match(line))), None)


def lock_pins(lock_text: str) -> dict[str, str]:
    """canonical name -> version of every package a uv lock file holds."""
    return {canonical(match.group(1)): match.group(2)
            for line in lock_text.splitlines() if (match := LOCK_PIN.match(line))}


def installed_versions() -> dict[str, str]:
    """canonical name -> version of every distribution in this interpreter's site-packages but pip
    (whose version the env files' `- pip=X` pin sets)."""
    import importlib.metadata
    import sys

    folders = [path for path in sys.path if path.startswith(sys.prefix) and path.endswith("site-packages")]
    installed = {canonical(dist.metadata["Name"]): dist.version
                 for dist in importlib.metadata.distributions(path=folders)}
    installed.pop("pip", None)
    return installed


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_path(root: Path, env: str) -> Path:
    return root / LOCKS / f"{env}.txt"


def with_locked_block(env_text: str, env: str, lock_text: str) -> str:
    """The env file with its generated block (re)written from the lock: the marker with the lock's
    sha256, then every locked package the file does not name, at the pip list's indentation."""
    lines = env_text.rstrip("\n").splitlines()
    lines = lines[:marker_row(lines)]
    named = {canonical(pin.split("==")[0]) for pin in named_pins(env_text)}
    indent = next(re.match(r"^(\s+)- ", line).group(1) for line in lines if ENV_PIN.match(line))
    locked = lock_pins(lock_text)
    rest = [f"{indent}- {name}=={version}" for name, version in sorted(locked.items()) if name not in named]
    marker = [f"{indent}{MARKER}: the packages beneath the pins above, as {LOCKS}/{env}.txt locks them",
              f"{indent}# (its sha256 {sha256_text(lock_text)})"]
    return "\n".join([*lines, *marker, *rest]) + "\n"
