"""Report figure: a proxy's training curves (the GPT's), per variant: train bits per byte against bytes
seen, the mean over seeds with the band from the lowest to the highest seed (from loss.jsonl)."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sandbox.report.figures import save_figure

plt.switch_backend("Agg")  # files only, no display


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loss", required=True, nargs="+", type=Path,
                        help="models/<proxy>/<variant>/seed<N>/loss.jsonl files (tokens_seen, train_bpb)")
    parser.add_argument("--proxy", required=True, help="the proxy named in the title")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def read_curve(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Bytes seen and train bpb at each logged step."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return (np.array([row["tokens_seen"] for row in rows], dtype=float),
            np.array([row["train_bpb"] for row in rows], dtype=float))


def curves_by_variant(paths: list[Path]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """variant -> one curve per seed; the variant is the folder above seed<N>."""
    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for path in paths:
        curves[path.parent.parent.name].append(read_curve(path))
    return dict(curves)


def plot_variant(axes: plt.Axes, name: str, seeds: list[tuple[np.ndarray, np.ndarray]], colour) -> None:
    """Mean over seeds and the min-max band, on the steps every seed logged."""
    length = min(len(values) for _, values in seeds)
    tokens = seeds[0][0][:length]
    stacked = np.stack([values[:length] for _, values in seeds])
    axes.plot(tokens, stacked.mean(axis=0), color=colour, label=f"{name} ({len(seeds)} seeds)")
    axes.fill_between(tokens, stacked.min(axis=0), stacked.max(axis=0), color=colour, alpha=0.2)


def main() -> None:
    args = parse_args()
    curves = curves_by_variant(args.loss)
    figure, (full, tail) = plt.subplots(1, 2, figsize=(12, 4.5))
    palette = plt.get_cmap("tab10")
    for index, (name, seeds) in enumerate(curves.items()):
        for axes in (full, tail):
            plot_variant(axes, name, seeds, palette(index % 10))
    full.set_title("whole run", fontsize="small")
    tail.set_title("second half (zoomed)", fontsize="small")
    last = max(seeds[0][0][-1] for seeds in curves.values())
    tail.set_xlim(last / 2, last)
    tail_values = [values[tokens >= last / 2] for seeds in curves.values() for tokens, values in seeds]
    tail_values = np.concatenate([values for values in tail_values if values.size])
    if tail_values.size:
        margin = 0.05 * (tail_values.max() - tail_values.min() + 1e-9)
        tail.set_ylim(tail_values.min() - margin, tail_values.max() + margin)
    for axes in (full, tail):
        axes.set_xlabel("training bytes seen")
        axes.set_ylabel("train bits per byte")
    full.legend(fontsize="x-small")
    figure.suptitle(f"{args.proxy.upper()} proxy: training loss on each variant's own data "
                    "(mean over seeds, band: min-max)", fontsize="medium")
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
