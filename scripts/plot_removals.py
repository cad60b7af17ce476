"""Report figure: documents each operator of a processed variant removed (from the variant's
data_metrics JSON: exact counts, first op to reject a document gets it), stacked by origin where
every pool document carries meta.origin, one grey bar per operator where they do not."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from sandbox.report.figures import save_figure

plt.switch_backend("Agg")  # files only, no display


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", required=True, type=Path, help="data_metrics/<variant>.json")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


UNTAGGED = "untagged"


def counts_by_origin(entry: dict[str, Any]) -> dict[str, int]:
    """One op's removals by origin; without origin tags all of them are `untagged`."""
    return entry.get("by_origin") or {UNTAGGED: entry["removed"]}


def origin_order(removed_by_op: dict[str, Any]) -> list[str]:
    """clean first, then the noise kinds (and untagged) alphabetically, so colours are stable."""
    origins = {origin for entry in removed_by_op.values() for origin in counts_by_origin(entry)}
    return sorted(origins, key=lambda origin: (origin != "clean", origin))


def colour_of(origin: str, noise_kinds: list[str]) -> Any:
    if origin == "clean":
        return "tab:green"
    if origin == UNTAGGED:
        return "tab:gray"
    palette = plt.get_cmap("tab10")
    # tab10's index 2 is green, kept for clean
    indices = [index for index in range(10) if index != 2]
    return palette(indices[noise_kinds.index(origin) % len(indices)])


def main() -> None:
    args = parse_args()
    metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
    removed_by_op: dict[str, Any] = metrics["removed_by_op"]
    ops = list(removed_by_op)
    origins = origin_order(removed_by_op)
    noise_kinds = [origin for origin in origins if origin not in ("clean", UNTAGGED)]
    figure, axes = plt.subplots(figsize=(10, 1.5 + 0.45 * max(1, len(ops))))
    left = [0] * len(ops)
    for origin in origins:
        counts = [counts_by_origin(removed_by_op[op]).get(origin, 0) for op in ops]
        axes.barh(range(len(ops)), counts, left=left, color=colour_of(origin, noise_kinds), label=origin)
        left = [start + count for start, count in zip(left, counts)]
    for row, op in enumerate(ops):
        precision = removed_by_op[op].get("precision")
        note = f"{removed_by_op[op]['removed']}" + ("" if precision is None
                                                    else f" (noise share {precision:.2f})")
        axes.text(left[row], row, " " + note, va="center", fontsize="small")
    axes.set_yticks(range(len(ops)), ops)
    axes.invert_yaxis()
    axes.set_xlim(0, max(left + [1]) * 1.3)
    axes.set_xlabel("documents removed (first operator to reject each)")
    axes.set_title(f"{metrics['variant']}: {metrics['pool_docs'] - metrics['docs']} of "
                   f"{metrics['pool_docs']} pool documents removed, kept fraction "
                   f"{metrics['kept_fraction']:.3f}", fontsize="medium")
    if not ops:
        axes.text(0.5, 0.5, "No operator removed any document.", ha="center", va="center",
                  transform=axes.transAxes)
    elif not metrics.get("origin_tags"):
        axes.text(0.99, 0.02, "No meta.origin tags on the pool: removals are not split into clean and noise.",
                  ha="right", va="bottom", fontsize="small", color="0.3", transform=axes.transAxes)
    else:
        axes.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
