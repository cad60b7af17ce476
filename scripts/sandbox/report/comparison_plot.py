"""A figure's panel of paired comparisons: each row's difference from raw and from k_sigma in percent
with its interval, drawn solid where the interval excludes 0 and dashed where it includes it. The bpb
figure (a row per variant) and the confirmed-trials figure (a row per trial) draw it alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.workflow.variants import K_SIGMA, RAW

if TYPE_CHECKING:
    from matplotlib.axes import Axes

REFERENCE_COLOURS = {RAW: "tab:blue", K_SIGMA: "tab:orange"}
# Each reference's marks sit a little above or below the row, so that both stay visible.
ROW_OFFSETS = {RAW: -0.15, K_SIGMA: 0.15}


def plot_versus_references(axes: Axes, rows: list[dict[str, dict[str, Any] | None]]) -> None:
    """rows[i][reference]: row i's comparison with that reference (bootstrap.paired_comparison's
    fields), or None where it has none; a line at 0 marks no difference."""
    for reference, colour in REFERENCE_COLOURS.items():
        labelled = False
        for row, comparisons in enumerate(rows):
            comparison = comparisons.get(reference)
            if comparison is None:
                continue
            value = comparison["relative_percent"]
            # one seed of a seed-dependent proxy has no interval: a point alone
            low, high = comparison["relative_ci_percent"] or (value, value)
            label = None if labelled else f"vs {reference}"
            line = axes.errorbar(value, row + ROW_OFFSETS[reference], xerr=[[value - low], [high - value]],
                                 fmt="o", color=colour, capsize=3, label=label)
            if not comparison["significant"]:
                line[-1][0].set_linestyle("--")
            labelled = True
    axes.axvline(0, color="0.3", linewidth=0.8)
