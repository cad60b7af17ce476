"""Report figure: one proxy's scale ladder: test bits per byte against the bytes its models saw, per
variant, log-log, one panel per model size; the band is the bootstrap interval (test documents and seeds)
of each point, a hollow marker a data-limited point (the variant ran out before the budget), and the line
the power-law fit over the other points (from ladder/summary.json)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import ScalarFormatter

from sandbox.report.figures import save_figure

plt.switch_backend("Agg")  # files only, no display


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True, type=Path, help="ladder/summary.json")
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def plot_variant(axes: plt.Axes, name: str, fits: dict[str, Any], colour: Any) -> None:
    """A variant's points with their bands, hollow where data-limited, and its fitted power law."""
    points = [point for point in fits["points"] if point["bytes_seen"]]
    x = np.array([point["bytes_seen"] for point in points])
    y = np.array([point["test_bpb"] for point in points])
    low = np.array([point["band"][0] for point in points])
    high = np.array([point["band"][1] for point in points])
    fit = fits["fit"]
    label = name + (f" (exponent {fit['exponent']:.3f})" if fit else "")
    axes.plot(x, y, color=colour, linewidth=0.8, alpha=0.6)
    axes.fill_between(x, low, high, color=colour, alpha=0.15)
    limited = np.array([bool(point["data_limited"]) for point in points], dtype=bool)
    axes.scatter(x[~limited], y[~limited], color=colour, s=18, label=label, zorder=3)
    axes.scatter(x[limited], y[limited], facecolors="none", edgecolors=colour, s=18, zorder=3)
    if fit:
        fresh = x[~limited]
        line = np.geomspace(fresh.min(), fresh.max(), 20)
        fitted = fit["coefficient"] * line ** -fit["exponent"]
        axes.plot(line, fitted, color=colour, linestyle="--", linewidth=1)


def main() -> None:
    args = parse_args()
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    panels = {key: entry for key, entry in summary["scaling"].items() if entry["proxy"] == args.proxy}
    if not panels:
        raise SystemExit(f"{args.summary}: no scales of {args.proxy}")
    width = max(9.0, 6.5 * len(panels))
    figure, axes_list = plt.subplots(1, len(panels), figsize=(width, 5.2), squeeze=False)
    palette = plt.get_cmap("tab10")
    for axes, (key, entry) in zip(axes_list[0], panels.items()):
        axes.set_title(f"{key}: scales {', '.join(entry['scales'])}", fontsize="small")
        if not any(point["bytes_seen"] for fits in entry["variants"].values() for point in fits["points"]):
            # a trainer that does not record train_symbols in train_meta.json: nothing to place on the x axis
            axes.text(0.5, 0.5, f"{args.proxy}'s trainer does not record the bytes it saw\n(train_symbols in "
                      "train_meta.json): see ladder/summary.md for its decision accuracy",
                      ha="center", va="center", fontsize="small", transform=axes.transAxes)
            axes.set_axis_off()
            continue
        for index, (name, fits) in enumerate(entry["variants"].items()):
            plot_variant(axes, name, fits, palette(index % 10))
        axes.set_xscale("log")
        axes.set_yscale("log")
        # bpb spans a few tenths: plain numbers, not powers of ten
        axes.yaxis.set_major_formatter(ScalarFormatter())
        axes.yaxis.set_minor_formatter(ScalarFormatter())
        axes.set_xlabel("training bytes seen (train_symbols, mean over seeds)")
        axes.set_ylabel("test bits per byte")
        axes.legend(fontsize="x-small")
    figure.suptitle(f"{args.proxy} on the scale ladder (target {summary['target']})\nband: bootstrap "
                    f"{summary['confidence']:.0%} interval; hollow: data-limited; dashed: power-law fit",
                    fontsize="medium")
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
