"""Report one round of trials to the sweep's study and record the round.

Each trial's metric comes from the sandbox's own evaluation: one file per trial (eval/<trial>.json,
or the data metrics for a data-only metric), or one file for the whole round written by
hpo_round_eval.py ({"trials": {trial: evaluation}}) when the round ran as one batched job. With
tracking on, each trial becomes a wandb run in a group named after the sweep, with the sweep config
attached.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path
from typing import Any

from sandbox.hpo.study import open_study, tell
from sandbox.hpo.sweep import trial_metric
from sandbox.io.cli import run_main
from sandbox.workflow.variants import trial_variant


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep-json", required=True, type=Path)
    parser.add_argument("--study", required=True, type=Path)
    parser.add_argument("--round", required=True, type=int)
    parser.add_argument("--params", required=True, nargs="+", type=Path, help="params.json per trial")
    parser.add_argument("--evaluations", required=True, nargs="+", type=Path,
                        help="metric JSON per trial, or one round evaluation from hpo_round_eval.py")
    parser.add_argument("--benchmarks", required=True, type=Path, help="Snakemake's benchmark directory")
    parser.add_argument("--sampler-seed", type=int, default=0)
    parser.add_argument("--tracking", choices=["wandb", "none"],
                        default=os.environ.get("SANDBOX_TRACKING", "none"),
                        help="default: $SANDBOX_TRACKING (the workflow sets it from the config), else none")
    parser.add_argument("--wandb-dir", type=Path, default=Path("wandb"))
    parser.add_argument("--wandb-project", default=os.environ.get("WANDB_PROJECT", "recipe-sandbox"),
                        help="default: $WANDB_PROJECT (the workflow sets it from the config)")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


def trial_seconds(benchmarks: Path, trial: int) -> float:
    """Wall seconds the trial's jobs took (process, train), from Snakemake's benchmark files."""
    variant = trial_variant(trial)
    files = [benchmarks / "process" / f"{variant}.tsv",
             *sorted(benchmarks.glob(f"train_*/{variant}_seed*.tsv"))]
    seconds = 0.0
    for path in files:
        if path.exists():
            with path.open() as handle:
                seconds += sum(float(row["s"]) for row in csv.DictReader(handle, delimiter="\t"))
    return round(seconds, 2)


def evaluations_by_trial(paths: list[Path], trials: list[int]) -> dict[int, dict[str, Any]]:
    """Each trial's evaluation, from per-trial files (in trial order) or one round evaluation."""
    loaded = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    if len(loaded) == 1 and "trials" in loaded[0]:
        by_trial = {int(trial): evaluation for trial, evaluation in loaded[0]["trials"].items()}
        missing = sorted(set(trials) - set(by_trial))
        if missing:
            raise ValueError(f"{paths[0]}: no evaluation of trial(s) {missing}")
        return by_trial
    if len(loaded) != len(trials):
        raise ValueError(f"{len(loaded)} evaluation files for {len(trials)} trials")
    return dict(zip(trials, loaded))


def log_to_wandb(args: argparse.Namespace, sweep: dict[str, Any], record: dict[str, Any]) -> None:
    import wandb

    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    run = wandb.init(dir=str(args.wandb_dir), project=args.wandb_project, group=f"sweep-{sweep['name']}",
                     name=f"{sweep['name']}-{trial_variant(record['trial'])}", job_type="hpo-trial",
                     config={"params": record["params"], "sweep": sweep, "trial": record["trial"],
                             "variant": trial_variant(record['trial'])},
                     settings=wandb.Settings(x_disable_stats=True))
    run.summary[sweep["metric"]] = record["value"]
    run.finish()


def main() -> None:
    args = parse_args()
    sweep = json.loads(args.sweep_json.read_text(encoding="utf-8"))
    study = open_study(args.study, sweep, args.sampler_seed)
    all_params = [json.loads(path.read_text(encoding="utf-8")) for path in args.params]
    evaluations = evaluations_by_trial(args.evaluations, [params["trial"] for params in all_params])
    trials = []
    for params in all_params:
        evaluation = evaluations[params["trial"]]
        value = trial_metric(evaluation, sweep["metric"])
        tell(study, params["trial"], value)
        seconds = evaluation.get("seconds")
        record = {"trial": params["trial"], "params": params["params"], "value": value, "status": "complete",
                  "duration_s": seconds if seconds is not None
                  else trial_seconds(args.benchmarks, params["trial"])}
        trials.append(record)
        if args.tracking == "wandb":
            args.wandb_dir.mkdir(parents=True, exist_ok=True)
            log_to_wandb(args, sweep, record)
        print(f"trial {record['trial']}: {sweep['metric']} = {value:.6g}  {record['params']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"round": args.round, "trials": trials}, indent=2) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
