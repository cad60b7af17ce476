"""Fit linear datamodels on the store and report which groups (operators or sources) matter.

Two fits from each model's 0/1 group vector, on the models not held out: to the whole eval set's
held-out bpb (a coefficient is the bpb a group adds when switched on, others fixed; an interval from
refitting on models resampled with replacement), and to each eval document's bits per byte. The
linear datamodeling score (LDS) is the Spearman correlation, over the held-out models, between
predicted and actual output, averaged over eval documents. Writes summary.json, summary.md and
effects.tsv.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
from pathlib import Path

from sandbox.datamodels.linear import analyse, markdown
from sandbox.datamodels.subsets import read_store
from sandbox.io.cli import run_main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True, type=Path, help="the store's folder")
    parser.add_argument("--estimator", choices=["ridge", "lasso"], default="ridge")
    parser.add_argument("--holdout-every", type=int, default=4,
                        help="every n-th model is held out for the LDS")
    parser.add_argument("--bootstrap-samples", type=int, default=500)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-json", required=True, type=Path)
    parser.add_argument("--out-md", required=True, type=Path)
    parser.add_argument("--out-effects", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    store = read_store(args.store)
    result = analyse(store, args.estimator, args.holdout_every, args.bootstrap_samples, args.confidence,
                     args.seed)
    result["store"] = {"path": str(args.store), "index": store.index}
    result["versions"] = {name: importlib.metadata.version(name)
                          for name in ("scikit-learn", "numpy", "scipy")}
    args.out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    args.out_md.write_text(markdown(result, store.index), encoding="utf-8")
    with args.out_effects.open("w", encoding="utf-8") as handle:
        handle.write("group\teffect_bpb\tlow\thigh\teffect_percent\tresolved\n")
        for group in result["groups"]:
            handle.write(f"{group['group']}\t{group['effect_bpb']:.6g}\t{group['interval'][0]:.6g}\t"
                         f"{group['interval'][1]:.6g}\t{group['effect_percent']:.4g}\t{group['resolved']}\n")
    print(args.out_md.read_text(encoding="utf-8"))


if __name__ == "__main__":
    run_main(main)
