"""Report figure: the raw pool's distribution of every stat a recipe filter thresholds, with the
recipe's thresholds (old) and the k-sigma ones (new, mean ∓ k·σ), from k_sigma_thresholds.tsv.

Bars are exact counts of pool documents, stacked by origin where documents carry meta.origin
(clean vs noise), so what a threshold cuts is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from sandbox.report.figures import save_figure

plt.switch_backend("Agg")  # files only, no display

BINS = 40


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stats", required=True, type=Path, help="stats.jsonl of the raw analysis")
    parser.add_argument("--thresholds", required=True, type=Path, help="k_sigma_thresholds.tsv")
    parser.add_argument("--k", required=True, type=float)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def read_thresholds(path: Path) -> dict[tuple[int, str, str], dict[str, dict[str, Any]]]:
    """(op_index, op_name, stat) -> {arg: row}; min_* and max_* rows of one op share a panel."""
    panels: dict[tuple[int, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            panels[(int(row["op_index"]), row["op_name"], row["stat"])][row["arg"]] = row
    return dict(sorted(panels.items()))


def read_stats(path: Path, names: set[str]) -> tuple[dict[str, list[float]], list[bool | None]]:
    """Each wanted stat's values per document, and whether each document is noise (None: untagged)."""
    values: dict[str, list[float]] = {name: [] for name in names}
    noise: list[bool | None] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            origin = row.get("origin")
            noise.append(None if origin is None else origin != "clean")
            for name in names:
                value = row.get(name)
                values[name].append(math.nan if value is None else float(value))
    return values, noise


def draw_threshold(axes: plt.Axes, value: float, style: dict[str, Any], low: float, high: float) -> bool:
    """A vertical line where the threshold falls inside the plotted range; False when it lies outside."""
    if not low <= value <= high:
        return False
    axes.axvline(value, **style)
    return True


def format_bound(value: float) -> str:
    return f"{value:.5g}"


def plot_panel(axes: plt.Axes, title: str, values: np.ndarray, noise: list[bool | None],
               rows: dict[str, dict[str, Any]]) -> None:
    finite = np.isfinite(values)
    edges = np.histogram_bin_edges(values[finite], bins=BINS)
    tagged = all(flag is not None for flag in noise)
    if tagged:
        is_noise = np.array(noise, dtype=bool)
        axes.hist([values[finite & ~is_noise], values[finite & is_noise]], bins=edges, stacked=True,
                  color=["tab:green", "tab:red"], label=["clean", "noise"])
    else:
        axes.hist(values[finite], bins=edges, color="tab:gray", label="documents")
    low, high = float(edges[0]), float(edges[-1])
    styles = {"old": dict(color="black", linestyle="--", linewidth=1.5),
              "new": dict(color="tab:blue", linestyle="-", linewidth=1.5)}
    bounds = {}
    for which, style in styles.items():
        shown = [draw_threshold(axes, float(row[which]), style, low, high) for row in rows.values()]
        ordered = sorted(rows.values(), key=lambda row: row["arg"].startswith("max"))
        bounds[which] = "[" + ", ".join(format_bound(float(row[which])) for row in ordered) + "]"
        if not any(shown):
            bounds[which] += " (outside)"
    axes.plot([], [], **styles["old"], label=f"old {bounds['old']}")
    axes.plot([], [], **styles["new"], label=f"new {bounds['new']}")
    axes.set_title(title, fontsize="small")
    axes.set_ylabel("documents")
    axes.legend(fontsize="x-small", loc="upper right")


def main() -> None:
    args = parse_args()
    panels = read_thresholds(args.thresholds)
    values, noise = read_stats(args.stats, {stat for _, _, stat in panels})
    columns = 2
    rows_count = max(1, math.ceil(len(panels) / columns))
    figure, grid = plt.subplots(rows_count, columns, figsize=(12, 3.2 * rows_count), squeeze=False)
    for axes, ((_, op_name, stat), rows) in zip(grid.flat, panels.items()):
        plot_panel(axes, f"{op_name}: {stat}", np.array(values[stat], dtype=float), noise, rows)
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    if not panels:
        figure.text(0.5, 0.5, "The recipe has no filter whose thresholds k-sigma refines.", ha="center")
    figure.suptitle(f"Raw pool stats with the recipe's thresholds (old, dashed) and k-sigma's "
                    f"(new, solid; mean ∓ {args.k:g}·σ)", fontsize="medium")
    save_figure(figure, args.out, dpi=90)


if __name__ == "__main__":
    main()
