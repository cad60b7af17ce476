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
import matplotlib.pyplot as plt  # noqa: E402

REFERENCES = {"raw": "tab:blue", "k_sigma": "tab:orange"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--confirmed", required=True, type=Path, help="hpo/confirmed.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def plot_proxy(axes: plt.Axes, proxy: str, trials: list[dict[str, Any]]) -> None:
    """One row per confirmed trial: its difference from each reference with the interval."""
    offsets = {"raw": -0.15, "k_sigma": 0.15}
    for reference, colour in REFERENCES.items():
        labelled = False
        for row, trial in enumerate(trials):
            comparison = trial["proxies"].get(proxy, {}).get(f"vs_{reference}")
            if comparison is None:
                continue
            value = comparison["relative_percent"]
            # one seed of a seed-dependent proxy has no interval: a point alone
            low, high = comparison["relative_ci_percent"] or (value, value)
            line = axes.errorbar(value, row + offsets[reference], xerr=[[value - low], [high - value]], fmt="o",
                                 color=colour, capsize=3, label=None if labelled else f"vs {reference}")
            if not comparison["significant"]:
                line[-1][0].set_linestyle("--")
            labelled = True
    labels = [f"trial {trial['trial']}: {trial['proxies'].get(proxy, {}).get('test_bpb', float('nan')):.4f} test bpb"
              for trial in trials]
    axes.set_yticks(range(len(trials)), labels)
    axes.invert_yaxis()
    axes.axvline(0, color="0.3", linewidth=0.8)
    axes.set_title(f"proxy {proxy}", fontsize="small")
    axes.set_xlabel("test bpb vs reference, % (paired CI)")
    axes.legend(fontsize="x-small", loc="best")


def main() -> None:
    args = parse_args()
    confirmed = json.loads(args.confirmed.read_text(encoding="utf-8"))
    trials, proxies = confirmed["trials"], confirmed["proxies"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
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
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    plt.close(figure)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
