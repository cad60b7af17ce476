"""Record where the experiment's numbers came from: code version, input hashes, library versions,
the environment locks' sha256 (envs/locks: every package of every env, `make lock`), seeds, and the
definition of every metric.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

from sandbox.io.cli import run_main
from sandbox.proxies.contract import read_train_meta
from sandbox.summary.metrics import METRIC_DEFINITIONS

# what provenance reads of each train_meta.json: whose budget it states, and which
PROVENANCE_KEYS = ("proxy", "tokens_budget")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", required=True, type=Path, help="the workflow's source directory")
    parser.add_argument("--config-json", required=True, help="the effective config, as JSON")
    parser.add_argument("--recipe", required=True, type=Path)
    parser.add_argument("--inputs", required=True, nargs="+", type=Path, help="input data files")
    parser.add_argument("--op-counts", nargs="*", type=Path, default=[])
    parser.add_argument("--train-meta", nargs="+", type=Path, required=True)
    parser.add_argument("--snakemake-version", required=True)
    parser.add_argument("--locks", nargs="*", type=Path, default=[], help="envs/locks/*.txt")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_state(repo: Path) -> dict[str, Any]:
    """Commit and dirty flag of the workflow's checkout (None where it is not a git checkout)."""
    def git(*args: str) -> str | None:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def library_versions(op_counts: list[Path], train_meta: list[Path], snakemake_version: str) -> dict[str, Any]:
    """Versions as the jobs that produced the numbers reported them (each train_meta's *_version keys)."""
    data_juicer = sorted({json.loads(path.read_text())["data_juicer_version"] for path in op_counts})
    versions: dict[str, Any] = {"data_juicer": data_juicer or None}
    for path in train_meta:
        for key, value in read_train_meta(path, required=PROVENANCE_KEYS).items():
            if key.endswith("_version"):
                versions.setdefault(key.removesuffix("_version"), set()).add(value)
    for key, value in versions.items():
        if isinstance(value, set):
            versions[key] = sorted(value)
    versions.update({"snakemake": snakemake_version, "python": platform.python_version()})
    return versions


def proxy_budgets(train_meta: list[Path]) -> dict[str, Any]:
    """Each proxy's training budget as its jobs stated it (the same for every variant and seed)."""
    budgets: dict[str, set[int]] = {}
    # a proxy with its own tokenizer (hf) also states the model tokens those bytes made
    model_tokens: dict[str, set[int]] = {}
    for path in train_meta:
        meta = read_train_meta(path, required=PROVENANCE_KEYS)
        proxy = meta["proxy"]
        budgets.setdefault(proxy, set()).add(meta["tokens_budget"])
        if "model_tokens_seen" in meta:
            model_tokens.setdefault(proxy, set()).add(meta["model_tokens_seen"])
    stated: dict[str, Any] = {}
    for proxy, values in budgets.items():
        # the budget, not the exposure: train_meta.json's train_symbols, distinct_train_bytes and
        # epochs say what each model saw (a variant smaller than the budget is used whole)
        stated[proxy] = {"unit": "training symbols allowed (bytes plus one separator/BOS per document)",
                         "budget": sorted(values)}
        if proxy in model_tokens:
            stated[proxy]["model_tokens_seen"] = [min(model_tokens[proxy]), max(model_tokens[proxy])]
    return stated


def build_provenance(args: argparse.Namespace) -> dict[str, Any]:
    config = json.loads(args.config_json)
    return {
        "git": git_state(args.repo),
        "config_sha256": hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest(),
        "config": config,
        "recipe": {"path": str(args.recipe), "sha256": sha256_of_file(args.recipe)},
        "inputs": {str(path): sha256_of_file(path) for path in args.inputs},
        "versions": library_versions(args.op_counts, args.train_meta, args.snakemake_version),
        "locks": {f"envs/locks/{path.name}": sha256_of_file(path) for path in args.locks},
        "seeds": config["seeds"],
        "proxies": config["proxies"],
        "budgets": proxy_budgets(args.train_meta),
        "metrics": METRIC_DEFINITIONS,
    }


def main() -> None:
    args = parse_args()
    provenance = build_provenance(args)
    args.out.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: provenance[key] for key in ("git", "recipe", "inputs", "versions")}, indent=2))


if __name__ == "__main__":
    run_main(main)
