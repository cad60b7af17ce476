"""Export the chosen mixture and its two baselines as Data-Juicer dataset configs (sandbox/mixture/
export.py): `mixture` (the regression's best weights within the caps), `natural` (each pool's share of
the base variant's bytes: proportional sampling) and `uniform` (an equal share per pool, capped), each
at a byte budget turned into document counts. For the n-gram (the default): its budget, each document
at most once, the weights the fit chose. With --proxy (a proxy with a fixed budget of its own, at
confirmation): that budget, each pool repeated up to --max-epochs times, and the best weights within
those wider caps (beyond the weights the swarm tried, the fit extrapolates; the claim says where).
Writes <out-dir>/<name>.yaml, the config dj-process runs, and <out-dir>/<name>.json: the byte weights,
the counts the config gives and its path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from sandbox.io.cli import run_main
from sandbox.mixture.export import dj_config, dj_sample_numbers, document_counts
from sandbox.mixture.fit import best_within_caps
from sandbox.mixture.swarm import cap_weights, natural_weights, swarm_budget, weight_caps

MIXTURES = ("mixture", "natural", "uniform")
NGRAM = "ngram"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit", required=True, type=Path, help="mixture/fit.json")
    parser.add_argument("--index", required=True, type=Path, help="pools/index.json")
    parser.add_argument("--export-dir", required=True, type=Path,
                        help="dj-process writes <export-dir>/<name>[/<proxy>]/data.jsonl")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--proxy", default=NGRAM, help="whose budget: ngram (the fit's) or a proxy's own")
    parser.add_argument("--budget-bytes", type=int, default=0, help="the proxy's budget (0: the fit's)")
    parser.add_argument("--max-epochs", type=int, default=1,
                        help="times a pool may repeat (pools.max_epochs)")
    return parser.parse_args()


def scale_weights(fit: dict, sizes: list[int], budget: int, max_epochs: int,
                  own_budget: bool) -> dict[str, np.ndarray]:
    """The three mixtures' byte weights at a budget and repeat cap."""
    caps = weight_caps(sizes, budget, max_epochs)
    chosen = (best_within_caps(np.array([pool["coefficient"] for pool in fit["pools"]]), caps) if own_budget
              else np.array([pool["weight"] for pool in fit["pools"]]))
    return {"mixture": chosen, "natural": natural_weights(sizes),
            "uniform": cap_weights(np.full(len(sizes), 1.0 / len(sizes)), caps)}


def main() -> None:
    args = parse_args()
    if args.max_epochs < 1:
        raise ValueError(f"--max-epochs {args.max_epochs}: a pool is used at least once. "
                         "Fix: set pools.max_epochs to 1 or more")
    fit = json.loads(args.fit.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in json.loads(args.index.read_text(encoding="utf-8"))["pools"]}
    names = [pool["pool"] for pool in fit["pools"]]
    docs = [entries[name]["docs"] for name in names]
    sizes = [entries[name]["bytes"] for name in names]
    own_budget = args.proxy != NGRAM
    # a proxy's own budget, unless the pools repeated max_epochs times hold less than 1/MAX_POOL_SHARE of it
    budget = (swarm_budget([args.max_epochs * size for size in sizes], args.budget_bytes) if own_budget
              else int(fit["budget_bytes"]))
    weights = scale_weights(fit, sizes, budget, args.max_epochs, own_budget)
    subdir = args.proxy if own_budget else ""
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in MIXTURES:
        counts = document_counts(weights[name], docs, sizes, budget, args.max_epochs)
        variant_dir = args.export_dir / name / subdir
        paths = [str(Path(entries[pool]["path"]).resolve()) for pool in names]
        config = dj_config(name, paths, counts, str((variant_dir / "data.jsonl").resolve()),
                           str((variant_dir / "dj_work").resolve()))
        given = dj_sample_numbers([source["weight"] for source in config["dataset"]["configs"]],
                                  config["dataset"]["max_sample_num"])
        assert given == counts, (given, counts)
        path = args.out_dir / f"{name}.yaml"
        path.write_text(f"# The {name} mixture of the data pools at the {args.proxy}'s budget, for "
                        "dj-process (recipe-sandbox mixture_export.py); weights give exactly the counts in "
                        "the .json beside it.\n" + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        claim = {"name": name, "proxy": args.proxy, "config": str(path), "budget_bytes": budget,
                 "max_epochs": args.max_epochs,
                 "pools": [{"pool": pool, "weight": float(weight), "docs": count,
                            "epochs": count / pool_docs, "dj_weight": source["weight"],
                            "beyond_swarm": bool(weight > fitted["swarm_max"] + 1e-9)}
                           for pool, weight, count, pool_docs, source, fitted in
                           zip(names, weights[name], counts, docs, config["dataset"]["configs"],
                               fit["pools"])],
                 "docs": int(sum(counts))}
        (args.out_dir / f"{name}.json").write_text(json.dumps(claim, indent=2) + "\n", encoding="utf-8")
        print(f"{args.proxy} {name}: {claim['docs']} documents: "
              + ", ".join(f"{pool} {count}" for pool, count in zip(names, counts)))


if __name__ == "__main__":
    run_main(main)
