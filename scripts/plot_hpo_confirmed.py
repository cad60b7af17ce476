"""Report figure: the recipe search's confirmed trials (hpo/confirmed.json). Each of the best
trials re-ran on every seed and proxy; per proxy, its held-out bpb difference from raw and from
k_sigma in percent with the paired interval (dashed when it includes 0)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from sandbox.report.comparison_plot import plot_versus_references
from sandbox.report.figures import save_figure
from sandbox.workflow.variants import REFERENCES


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--confirmed", required=True, type=Path, help="hpo/confirmed.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def plot_proxy(axes: plt.Axes, proxy: str, trials: list[dict[str, Any]]) -> None:
    """One row per confirmed trial: its difference from each reference with the interval."""
    plot_versus_references(axes, [{reference: trial["proxies"].get(proxy, {}).get(f"vs_{reference}")
                                   for reference in REFERENCES} for trial in trials])
    labels = [f"trial {trial['trial']}: {trial['proxies'].get(proxy, {}).get('test_bpb', float('nan')):.4f} "
              "test bpb" for trial in trials]
    axes.set_yticks(range(len(trials)), labels)
    axes.invert_yaxis()
    axes.set_title(f"proxy {proxy}", fontsize="small")
    axes.set_xlabel("test bpb vs reference, % (paired CI)")
    axes.legend(fontsize="x-small", loc="best")


def main() -> None:
    args = parse_args()
    confirmed = json.loads(args.confirmed.read_text(encoding="utf-8"))
    trials, proxies = confirmed["trials"], confirmed["proxies"]
    if not trials:
        figure, axes = plt.subplots(figsize=(8, 2))
        axes.axis("off")
        axes.text(0.5, 0.5, f"No confirmed trials: metric {confirmed['metric']} needs no confirmation "
                  "(or hpo.confirm_top is 0).", ha="center", va="center")
    else:
        figure, grid = plt.subplots(1, len(proxies), figsize=(6 * len(proxies), 1.5 + 0.6 * len(trials)),
                                    squeeze=False)
        for axes, proxy in zip(grid.flat, proxies):
            plot_proxy(axes, proxy, trials)
        figure.suptitle(f"Confirmed trials of the search ({confirmed['metric']}), best: trial "
                        f"{confirmed['best_trial']}", fontsize="medium")
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
