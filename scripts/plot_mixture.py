"""Report figure of the mixture search (from pools/summary.<proxy>.json): left, each pool's byte share in
natural, uniform and the searched mixture, with its cap; right, the regression's out-of-sample check,
predicted against measured validation bpb of the held-out swarm members (the diagonal is a perfect
fit), with the three exported mixtures' predicted against achieved bpb."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sandbox.report.figures import save_figure

plt.switch_backend("Agg")  # files only, no display


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True, type=Path, help="pools/summary.<proxy>.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    fit = summary["fit"]
    pools = [pool["pool"] for pool in fit["pools"]]
    claims = {claim["name"]: {pool["pool"]: pool["weight"] for pool in claim["pools"]}
              for claim in summary["claims"]}
    figure, (weights_axis, fit_axis) = plt.subplots(1, 2, figsize=(13, 0.45 * len(pools) + 3))
    positions = np.arange(len(pools))
    for offset, (name, colour) in zip((-0.27, 0.0, 0.27), (("natural", "tab:grey"), ("uniform", "tab:blue"),
                                                            ("mixture", "tab:green"))):
        weights_axis.barh(positions + offset, [claims[name][pool] for pool in pools], height=0.26,
                          color=colour, label=name)
    weights_axis.scatter([pool["cap"] for pool in fit["pools"]], positions, marker="|", s=200, color="black",
                         label="cap (the pool's bytes / budget)", zorder=3)
    weights_axis.set_yticks(positions, pools, fontsize=8)
    weights_axis.invert_yaxis()
    weights_axis.set_xlabel("share of the training budget (bytes)")
    weights_axis.legend(fontsize=8, loc="lower right")
    weights_axis.set_title("Weights per pool")
    check = fit["out_of_sample"]
    predicted, measured = np.array(check["points"]["predicted"]), np.array(check["points"]["measured"])
    fit_axis.scatter(predicted, measured, s=18, color="tab:grey",
                     label=f"held-out swarm members ({len(measured)})")
    achieved = summary["achieved_validation_bpb"]
    for name, colour in (("natural", "tab:grey"), ("uniform", "tab:blue"), ("mixture", "tab:green")):
        if name in achieved:
            fit_axis.scatter([fit["predicted_bpb"][name]], [achieved[name]], s=80, marker="D", color=colour,
                             edgecolor="black", label=f"{name} (exported, dj-process)", zorder=3)
    values = np.concatenate([predicted, measured, list(fit["predicted_bpb"].values())])
    low, high = values.min(), values.max()
    fit_axis.plot([low, high], [low, high], color="black", linewidth=0.8)
    fit_axis.set_xlabel("predicted validation bpb")
    fit_axis.set_ylabel("measured validation bpb (n-gram)")
    fit_axis.set_title(f"Out of sample: Spearman {check['spearman']:.3f} "
                       f"[{check['interval'][0]:.3f}, {check['interval'][1]:.3f}]")
    fit_axis.legend(fontsize=8)
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
