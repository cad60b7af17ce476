"""Export a finished search: trials.tsv, the best recipe, the optimisation history plot, summary.json.

The best recipe is the best confirmed trial (re-run on every seed and proxy and chosen on the
validation part of the eval split, see hpo_confirm.py) when the search trained models; for a
data-only metric, the best searched trial. summary.json reports the winner's validation value (what
chose it, optimistic) beside its test value and test comparisons (what to expect).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path
from typing import Any

from sandbox.hpo.sweep import load_sweep, stop_reason
from sandbox.io.cli import run_main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", required=True, type=Path, help="the sweep YAML (for the stop rule)")
    parser.add_argument("--rounds", required=True, nargs="+", type=Path)
    parser.add_argument("--confirmed", required=True, type=Path, help="confirmed.json of hpo_confirm.py")
    parser.add_argument("--trial-recipes", required=True, nargs="+", type=Path,
                        help="trials/<trial>/recipe.yaml files")
    parser.add_argument("--out-trials", required=True, type=Path)
    parser.add_argument("--out-recipe", required=True, type=Path)
    parser.add_argument("--out-history", required=True, type=Path)
    parser.add_argument("--out-summary", required=True, type=Path)
    return parser.parse_args()


def write_trials(path: Path, trials: list[dict[str, Any]], metric: str) -> None:
    names = sorted({name for trial in trials for name in trial["params"]})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["trial", *names, metric, "status", "duration_s"])
        for trial in trials:
            writer.writerow([trial["trial"], *(trial["params"].get(name) for name in names), trial["value"],
                             trial["status"], trial["duration_s"]])


def plot_history(path: Path, trials: list[dict[str, Any]], metric: str, minimize: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numbers = [trial["trial"] for trial in trials]
    values = [trial["value"] for trial in trials]
    best_so_far = []
    for value in values:
        previous = best_so_far[-1] if best_so_far else value
        best_so_far.append(min(previous, value) if minimize else max(previous, value))
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(numbers, values, "o", label="trial")
    axes.step(numbers, best_so_far, where="post", label="best so far")
    axes.set_xlabel("trial")
    axes.set_ylabel(metric)
    axes.set_title("Optimisation history")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    args = parse_args()
    sweep = load_sweep(args.sweep)
    trials = sorted((trial for path in args.rounds for trial in json.loads(path.read_text())["trials"]),
                    key=lambda trial: trial["trial"])
    minimize = sweep.goal == "minimize"
    best_searched = min(trials, key=lambda trial: trial["value"] if minimize else -trial["value"])
    confirmation = json.loads(args.confirmed.read_text(encoding="utf-8"))
    confirmed = {trial["trial"]: trial for trial in confirmation["trials"]}
    best_number = confirmation["best_trial"] if confirmed else best_searched["trial"]
    (best,) = [trial for trial in trials if trial["trial"] == best_number]
    winner = confirmed[best["trial"]]["proxies"][confirmation["proxy"]] if confirmed else None
    args.out_trials.parent.mkdir(parents=True, exist_ok=True)
    write_trials(args.out_trials, trials, sweep.metric)
    (best_recipe,) = [path for path in args.trial_recipes if path.parent.name == str(best["trial"])]
    shutil.copyfile(best_recipe, args.out_recipe)
    plot_history(args.out_history, trials, sweep.metric, minimize)
    summary = {
        "sweep": sweep.name,
        "method": sweep.method,
        "metric": sweep.metric,
        "goal": sweep.goal,
        "best_trial": best["trial"],
        "best_value": best["value"],
        "best_params": best["params"],
        "best_searched_trial": best_searched["trial"],
        # the value that chose the winner (validation, optimistic) and the one to report (test)
        "confirmed_value": winner["validation_bpb"] if winner else None,
        "test_value": winner["test_bpb"] if winner else None,
        "test_vs_raw": winner.get("vs_raw") if winner else None,
        "confirmed": confirmed.get(best["trial"]),
        "confirmed_trials": sorted(confirmed),
        "trials": len(trials),
        "stop_reason": stop_reason([trial["value"] for trial in trials], sweep) or "no trials left to run",
    }
    args.out_summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    run_main(main)
