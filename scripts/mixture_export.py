"""Export the chosen mixture and its two baselines as Data-Juicer dataset configs (sandbox/mixture/
export.py): `mixture` (the regression's best weights), `natural` (each pool's share of the base
variant's bytes: proportional sampling) and `uniform` (an equal share per pool, capped), each at the
n-gram's byte budget turned into document counts. Writes <out-dir>/<name>.yaml, the config dj-process
runs, and <out-dir>/<name>.json: the byte weights, the counts the config gives and its path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from sandbox.io.cli import run_main
from sandbox.mixture.export import dj_config, dj_sample_numbers, document_counts
from sandbox.mixture.swarm import cap_weights, natural_weights, weight_caps

MIXTURES = ("mixture", "natural", "uniform")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit", required=True, type=Path, help="mixture/fit.json")
    parser.add_argument("--index", required=True, type=Path, help="pools/index.json")
    parser.add_argument("--export-dir", required=True, type=Path,
                        help="where dj-process writes each mixture (<export-dir>/<name>/data.jsonl)")
    parser.add_argument("--out-dir", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    fit = json.loads(args.fit.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in json.loads(args.index.read_text(encoding="utf-8"))["pools"]}
    names = [pool["pool"] for pool in fit["pools"]]
    docs = [entries[name]["docs"] for name in names]
    sizes = [entries[name]["bytes"] for name in names]
    budget = int(fit["budget_bytes"])
    caps = weight_caps(sizes, budget)
    weights = {
        "mixture": np.array([pool["weight"] for pool in fit["pools"]]),
        "natural": natural_weights(sizes),
        "uniform": cap_weights(np.full(len(names), 1.0 / len(names)), caps),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in MIXTURES:
        counts = document_counts(weights[name], docs, sizes, budget)
        export = (args.export_dir / name / "data.jsonl").resolve()
        config = dj_config(name, [str(Path(entries[pool]["path"]).resolve()) for pool in names], counts,
                           str(export), str((args.export_dir / name / "dj_work").resolve()))
        given = dj_sample_numbers([source["weight"] for source in config["dataset"]["configs"]],
                                  config["dataset"]["max_sample_num"])
        assert given == counts, (given, counts)
        path = args.out_dir / f"{name}.yaml"
        path.write_text(f"# The {name} mixture of the data pools, for dj-process (recipe-sandbox "
                        "mixture_export.py); weights give exactly the counts in the .json beside it.\n"
                        + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        claim = {"name": name, "config": str(path), "budget_bytes": budget,
                 "pools": [{"pool": pool, "weight": float(weight), "docs": count,
                            "dj_weight": source["weight"]}
                           for pool, weight, count, source in
                           zip(names, weights[name], counts, config["dataset"]["configs"])],
                 "docs": int(sum(counts))}
        (args.out_dir / f"{name}.json").write_text(json.dumps(claim, indent=2) + "\n", encoding="utf-8")
        print(f"{name}: {claim['docs']} documents: "
              + ", ".join(f"{pool} {count}" for pool, count in zip(names, counts)))


if __name__ == "__main__":
    run_main(main)
