"""Report figure: one proxy's held-out bits per byte per variant, each number with its uncertainty.

Left: every seed's held-out bpb (dots) and their mean ± seed std (bar). Right: each variant's
difference from raw and from k_sigma in percent with its paired interval over documents and seeds,
as in summary.json (intervals that exclude 0 are drawn solid).
"""

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
from sandbox.workflow.variants import REFERENCES, comparison_key


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True, type=Path, help="summary.json of the experiment")
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def plot_absolute(axes: plt.Axes, variants: dict[str, Any]) -> None:
    """Per-seed test bpb and mean ± seed std, one row per variant."""
    for row, variant in enumerate(variants.values()):
        per_seed = list(variant["test_bpb_per_seed"].values())
        axes.plot(per_seed, [row] * len(per_seed), "o", color="0.6", markersize=4,
                  label="one seed" if row == 0 else None)
        axes.errorbar(variant["test_bpb"], row, xerr=variant["test_bpb_std"], fmt="D", color="black",
                      capsize=4, label="mean ± seed std" if row == 0 else None)
    axes.set_xlabel("test bits per byte (lower is better)")
    axes.legend(loc="best", fontsize="small")


def plot_relative(axes: plt.Axes, names: list[str], comparisons: dict[str, Any], confidence: float) -> None:
    """Difference from each reference in percent with its paired interval; dashed if it includes 0."""
    plot_versus_references(axes, [{reference: comparisons.get(comparison_key(name, reference))
                                   for reference in REFERENCES} for name in names])
    axes.set_xlabel(f"held-out bpb vs reference, % ({confidence:.0%} paired CI)")
    axes.legend(loc="best", fontsize="small")


def confidence_of(comparisons: dict[str, Any]) -> float:
    return next(iter(comparisons.values()))["confidence"] if comparisons else 0.95


def main() -> None:
    args = parse_args()
    summary = json.loads(Path(args.summary).read_text(encoding="utf-8"))
    proxy = summary["proxies"][args.proxy]
    variants, comparisons = proxy["variants"], proxy["comparisons"]
    names = list(variants)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 1.2 + 0.55 * len(names)), sharey=True)
    plot_absolute(left, variants)
    plot_relative(right, names, comparisons, confidence_of(comparisons))
    left.set_yticks(range(len(names)), names)
    left.invert_yaxis()
    power = f" (low power: {proxy['low_power'].replace('`', '')})" if proxy.get("low_power") else ""
    figure.suptitle(f"{summary['experiment']}: held-out bpb, proxy {args.proxy}{power}", fontsize="medium")
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
