"""Assemble the swarm's store from its chunks and fit the mixture regression (sandbox/mixture/fit.py):
the coefficients, the out-of-sample rank correlation with its interval, and the best mixture within
the caps, with its predicted validation bpb beside natural's and uniform's. Writes the store (the
datamodels layout: weights.npy where datamodels keep masks.npy) and fit.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
from pathlib import Path

import numpy as np

from sandbox.datamodels.subsets import assemble_chunks, write_store
from sandbox.io.cli import run_main
from sandbox.mixture.fit import ESTIMATORS, analyse
from sandbox.mixture.swarm import natural_weights, swarm_budget, weight_caps
from sandbox.proxies.budget import add_budget_arguments, resolve_budget


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", required=True, type=Path, nargs="+")
    parser.add_argument("--index", required=True, type=Path, help="pools/index.json")
    parser.add_argument("--estimator", choices=ESTIMATORS, default="loglinear")
    parser.add_argument("--holdout-every", type=int, default=4)
    parser.add_argument("--bootstrap-samples", type=int, default=1000)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    add_budget_arguments(parser, "the n-gram's byte budget")
    parser.add_argument("--order", required=True, type=int)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    resolve_budget(parser, args, required=True)
    return args


def main() -> None:
    args = parse_args()
    names, arrays, chunks = assemble_chunks(args.chunks)
    entries = {entry["name"]: entry for entry in json.loads(args.index.read_text(encoding="utf-8"))["pools"]}
    pool_bytes = [entries[name]["bytes"] for name in names]
    budget = swarm_budget(pool_bytes, args.budget_bytes)
    write_store(args.store, arrays, {
        "groups": names, "group_by": "pools", "models": int(len(arrays["bpb"])), "seed": args.seed,
        "proxy": {"name": "ngram", "order": args.order, "budget_bytes": budget},
        "outputs": {"margins": "held-out bits per byte of each validation document",
                    "bpb": "held-out bits per byte of the validation part", "weights": "byte shares"},
        "chunks": chunks})
    result = analyse(np.asarray(arrays["weights"]), np.asarray(arrays["bpb"]), names,
                     weight_caps(pool_bytes, budget), natural_weights(pool_bytes), args.estimator,
                     args.holdout_every, args.bootstrap_samples, args.confidence, args.seed)
    result["budget_bytes"] = budget
    result["ngram_budget_bytes"] = args.budget_bytes
    result["store"] = str(args.store)
    result["versions"] = {name: importlib.metadata.version(name)
                          for name in ("scikit-learn", "numpy", "scipy")}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    check = result["out_of_sample"]
    print(f"{result['estimator']} fit on {result['members']['training']} members: out-of-sample Spearman "
          f"{check['spearman']:.3f} [{check['interval'][0]:.3f}, {check['interval'][1]:.3f}] over "
          f"{check['members']} held-out members; best mixture "
          + ", ".join(f"{pool['pool']} {pool['weight']:.2f}"
                      for pool in result["pools"] if pool["weight"] > 0))


if __name__ == "__main__":
    run_main(main)
