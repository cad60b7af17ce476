"""The conda env files are right even though --use-conda cannot run here (no conda channels):
every rule names a pinned env, and each env provides every module its rule's script imports."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

RULE_HEADER = re.compile(r"^(?:rule|checkpoint) (\w+):", re.MULTILINE)
PIP_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")
CONDA_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)=([0-9][A-Za-z0-9_.*]*)$")
SCRIPT_IN_SHELL = re.compile(r"python (scripts/\w+\.py)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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
    """Normalised package name -> pinned version of an env file's pip section."""
    env = yaml.safe_load(env_file.read_text())
    pins: dict[str, str] = {}
    for dependency in env["dependencies"]:
        if isinstance(dependency, dict):
            for requirement in dependency["pip"]:
                name, version = PIP_PIN.match(requirement).groups()
                pins[normalise(name)] = version
    return pins


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
            for module in sorted(imported_modules(REPO / script) - stdlib - {"__future__"}):
                owners = {normalise(owner) for owner in distributions.get(module, [])}
                assert owners, f"rule {name}: {script} imports {module}, which no installed package provides"
                assert owners & provided, (
                    f"rule {name}: {script} imports {module} (from {sorted(owners)}), "
                    f"but {env.name} pins none of them"
                )
            checked += 1
    assert checked >= 10


def test_venv_installs_exactly_the_union_of_env_pins() -> None:
    union: dict[str, str] = {}
    for env_file in sorted((REPO / "envs").glob("*.yaml")):
        for name, version in pip_pins(env_file).items():
            assert union.setdefault(name, version) == version, f"{name} pinned twice with different versions"
    printed = subprocess.run(["make", "-s", "--no-print-directory", "print-pins"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    assert {normalise(line.split("==")[0]): line.split("==")[1] for line in printed} == union
    for name, version in union.items():
        installed = importlib.metadata.version(name)
        assert installed.split("+")[0] == version, f"{name}: venv has {installed}, envs pin {version}"
