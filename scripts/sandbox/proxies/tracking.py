"""Experiment tracking of a training run: a no-op, or one Weights & Biases run (offline unless WANDB_MODE
says otherwise). wandb is imported only when a run starts: the import is slow."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sandbox.proxies.contract import plain_config
from sandbox.workflow.variants import is_trial, trial_number


class Tracker:
    """Logs a run's rows and summary to wandb when args.tracking is wandb, else does nothing.

    args holds the trainer's options: tracking, wandb_dir, wandb_project, wandb_group, run_name,
    variant and train (the training data, logged as an artifact reference).
    """

    def __init__(self, args: argparse.Namespace, proxy: str) -> None:
        self.run = None
        if args.tracking == "wandb":
            self.run = start_wandb(args, proxy)
            print(f"wandb run ({os.environ['WANDB_MODE']}) in {Path(self.run.dir).parent}", flush=True)

    def log(self, row: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.log({key: value for key, value in row.items() if key != "step"}, step=row["step"])

    def finish(self, summary: dict[str, Any]) -> None:
        if self.run is not None:
            final = {key: value for key, value in summary.items() if value is not None}
            self.run.log(final)
            for key, value in final.items():
                self.run.summary[key] = value
            self.run.finish()


def start_wandb(args: argparse.Namespace, proxy: str) -> Any:
    """Start an offline wandb run under args.wandb_dir."""
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ["WANDB_SILENT"] = "true"
    import wandb

    args.wandb_dir.mkdir(parents=True, exist_ok=True)
    config = {**plain_config(args), "proxy": proxy}
    # an HPO trial's models carry its number, linking them to the trial's own run (hpo_tell.py)
    if args.variant and is_trial(args.variant):
        config["trial"] = trial_number(args.variant)
    run = wandb.init(
        dir=str(args.wandb_dir),
        project=args.wandb_project,
        group=args.wandb_group,
        name=args.run_name,
        job_type="train",
        tags=[args.variant] if args.variant else None,
        config=config,
        # system metrics would take CPU from a 1-thread job, and their probes may reach for the network
        settings=wandb.Settings(x_disable_stats=True),
    )
    if args.variant:
        # a reference, not a copy: the artifact records the file's path and checksum
        data = wandb.Artifact(f"{args.wandb_group or 'data'}-{args.variant}", type="dataset",
                              metadata={"variant": args.variant, "path": str(args.train)})
        data.add_reference(args.train.resolve().as_uri(), name=args.train.name)
        # log_artifact, not use_artifact: offline runs can only log (wandb sync uploads it later)
        run.log_artifact(data)
    return run
