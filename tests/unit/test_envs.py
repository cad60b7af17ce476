"""The conda env files are right even though --use-conda cannot run here (no conda channels):
every rule names a pinned env, each env provides every module its rule's script imports, and the
locks (envs/locks, `make lock`) agree with the env files and with what the venv holds."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from sandbox.workflow.locks import (
    VENV_LOCK,
    canonical,
    conda_pip_version,
    generated_pins,
    installed_versions,
    lock_path,
    lock_pins,
    marker_sha256,
    named_pins,
    public_version,
    sha256_text,
)

RULE_HEADER = re.compile(r"^(?:rule|checkpoint) (\w+):", re.MULTILINE)
PIP_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")
CONDA_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)=([0-9][A-Za-z0-9_.*]*)$")
SCRIPT_IN_SHELL = re.compile(r"\{PYTHON_SCRIPTS\}(\w+\.py)")
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every rules/*.smk and the Snakefile."""
    blocks: dict[str, str] = {}
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        text = path.read_text()
        starts = [(match.start(), match.group(1)) for match in RULE_HEADER.finditer(text)]
        for (start, name), (end, _) in zip(starts, starts[1:] + [(len(text), "")]):
            blocks[name] = text[start:end]
    return blocks


def env_of(block: str) -> Path | None:
    match = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
    return (REPO / "rules" / match.group(1)).resolve() if match else None


def pip_pins(env_file: Path) -> dict[str, str]:
    """Normalised package name -> pinned version of the pins an env file names (not its locked block)."""
    return {canonical(pin.split("==")[0]): pin.split("==")[1] for pin in named_pins(env_file.read_text())}


def imported_modules(script: Path, seen: set[Path] | None = None) -> set[str]:
    """Top-level modules a script imports, following imports of the shared `sandbox` package."""
    seen = seen if seen is not None else set()
    if script in seen:
        return set()
    seen.add(script)
    modules: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] == "sandbox":
                module_file = REPO / "scripts" / (name.replace(".", "/") + ".py")
                if module_file.exists():
                    modules |= imported_modules(module_file, seen)
            else:
                modules.add(name.split(".")[0])
    return modules


def test_every_rule_that_runs_code_names_an_env() -> None:
    blocks = rule_blocks()
    assert len(blocks) > 10
    for name, block in blocks.items():
        if "shell:" not in block:
            continue  # target rules such as `all` and `hpo` run nothing
        env = env_of(block)
        assert env is not None, f"rule {name} names no conda env"
        assert env.parent == REPO / "envs" and env.exists(), f"rule {name}: {env} is not a file in envs/"


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda path: path.name)
def test_env_file_is_valid_and_pins_everything(env_file: Path) -> None:
    env = yaml.safe_load(env_file.read_text())
    assert set(env) >= {"name", "channels", "dependencies"}
    assert "defaults" not in env["channels"]
    for dependency in env["dependencies"]:
        if isinstance(dependency, dict):
            assert set(dependency) == {"pip"}
            for requirement in dependency["pip"]:
                assert PIP_PIN.match(requirement), f"{env_file.name}: {requirement} is not pinned with =="
        else:
            assert CONDA_PIN.match(dependency), f"{env_file.name}: {dependency} is not pinned"


def test_each_rule_env_provides_what_its_script_imports() -> None:
    distributions = importlib.metadata.packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    checked = 0
    for name, block in rule_blocks().items():
        env = env_of(block)
        scripts = SCRIPT_IN_SHELL.findall(block)
        if env is None or not scripts:
            continue
        provided = set(pip_pins(env))
        for script in scripts:
            for module in sorted(imported_modules(REPO / "scripts" / script) - stdlib - {"__future__"}):
                owners = {canonical(owner) for owner in distributions.get(module, [])}
                assert owners, f"rule {name}: {script} imports {module}, which no installed package provides"
                assert owners & provided, (
                    f"rule {name}: {script} imports {module} (from {sorted(owners)}), "
                    f"but {env.name} pins none of them"
                )
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda path: path.name)
def test_each_env_file_carries_its_lock(env_file: Path) -> None:
    """The lock holds the env file's pins; the file's generated block is the rest of the lock and names
    the lock's sha256 (what makes --use-conda rebuild the env when the lock changes)."""
    text = env_file.read_text()
    lock = lock_path(REPO, env_file.stem)
    assert lock.is_file(), f"{env_file.name}: no {lock.relative_to(REPO)}. Fix: make lock"
    locked = lock_pins(lock.read_text())
    for pin in named_pins(text):
        name, version = pin.split("==")
        assert public_version(locked.get(canonical(name), "")) == version, (
            f"{env_file.name} pins {pin}, {lock.name} holds {locked.get(canonical(name))}. Fix: make lock")
    named = {canonical(pin.split("==")[0]) for pin in named_pins(text)}
    rest = {canonical(pin.split("==")[0]): pin.split("==")[1] for pin in generated_pins(text)}
    assert rest == {name: version for name, version in locked.items() if name not in named}, (
        f"{env_file.name}: its locked block differs from {lock.name}. Fix: make lock")
    assert marker_sha256(text) == sha256_text(lock.read_text()), (
        f"{env_file.name}: stale sha256. Fix: make lock")
    assert conda_pip_version(text) == conda_pip_version((REPO / "envs/workflow.yaml").read_text())


def test_every_env_lock_agrees_with_the_venv_lock() -> None:
    venv = lock_pins(lock_path(REPO, VENV_LOCK).read_text())
    for env_file in ENV_FILES:
        for name, version in lock_pins(lock_path(REPO, env_file.stem).read_text()).items():
            assert venv.get(name) == version, f"{env_file.stem}.txt locks {name}=={version}, venv.txt " \
                f"{venv.get(name)}. Fix: make lock"
    union = {name for env_file in ENV_FILES for name in pip_pins(env_file)}
    assert union <= set(venv), f"pins missing from venv.txt: {sorted(union - set(venv))}. Fix: make lock"


def test_venv_installs_exactly_the_venv_lock() -> None:
    """What `make` installed is the lock, no more and no less (pip itself: the env files' pip pin)."""
    locked = lock_pins(lock_path(REPO, VENV_LOCK).read_text())
    installed = installed_versions()
    assert importlib.metadata.version("pip") == conda_pip_version((REPO / "envs/workflow.yaml").read_text())
    assert installed == locked, (
        f"the venv differs from envs/locks/venv.txt: extra {sorted(set(installed) - set(locked))}, missing "
        f"{sorted(set(locked) - set(installed))}, other versions "
        f"{sorted(name for name in set(installed) & set(locked) if installed[name] != locked[name])}. "
        "Fix: make venv")
