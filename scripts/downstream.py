"""Score one trained proxy model on one downstream task with lm-evaluation-harness, offline.

The model is the file its training job wrote (model.pt, model.npz or an hf folder), wrapped as an
lm-eval model of sandbox.downstream.harness; the task is a name (a YAML under --tasks-path, or lm-eval's own)
or the path of a task YAML; its data must be on disk (HF_DATASETS_OFFLINE and HF_HUB_OFFLINE are
set). Writes items.jsonl (one row per item: acc, acc_norm, the gold answer's log-probability and
probability per byte; sandbox.downstream.items) and results.json (lm-eval's aggregate results and versions).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sandbox.downstream.items import chance
from sandbox.downstream.tasks import HARNESS_MODELS, offline, resolve_task
from sandbox.io.cli import run_main
from sandbox.io.jsonl import write_jsonl


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, help="a task name or the path of a task YAML")
    parser.add_argument("--tasks-path", type=Path, default=Path("config/tasks"),
                        help="the folder of task YAMLs a name is looked up in first")
    parser.add_argument("--proxy", required=True, choices=sorted(HARNESS_MODELS))
    parser.add_argument("--model", required=True, type=Path, help="the trained model's file or folder")
    parser.add_argument("--variant", default=None, help="recorded in results.json")
    parser.add_argument("--seed", type=int, default=None, help="recorded in results.json")
    parser.add_argument("--items-out", required=True, type=Path)
    parser.add_argument("--results-out", required=True, type=Path)
    parser.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda:N")
    parser.add_argument("--batch-size", type=int, default=64, help="scoring windows per forward pass")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    return parser.parse_args(argv)


def main() -> None:
    # lm-eval, datasets and transformers read the offline switches when imported: set them first
    offline()
    import torch

    from sandbox.downstream.harness import harness_model, run_task

    args = parse_args()
    torch.set_num_threads(args.threads)
    spec = resolve_task(args.task, args.tasks_path)
    start = time.perf_counter()
    rows, results = run_task(spec, lambda greedy: harness_model(args.proxy, args.model, args.device,
                                                                args.batch_size, greedy))
    seconds = time.perf_counter() - start
    write_jsonl(args.items_out, rows)
    summary = {"task": spec.name, "task_yaml": str(spec.yaml_path) if spec.yaml_path else None,
               "proxy": args.proxy, "variant": args.variant, "seed": args.seed, "model": str(args.model),
               "n_items": len(rows), "chance": chance(rows), "seconds": round(seconds, 3),
               "torch_version": torch.__version__, **results}
    args.results_out.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    accuracy = [row["acc"] for row in rows if row["acc"] is not None]
    shown = f"acc {sum(accuracy) / len(accuracy):.4f} (chance {summary['chance']})" if accuracy else ""
    print(f"{spec.name} on {args.proxy} {args.model}: {len(rows)} items {shown} in {seconds:.1f} s",
          flush=True)


if __name__ == "__main__":
    run_main(main)
