"""The GPT proxy: the tiny byte-level GPT (sandbox.proxies.gpt_model) trained from scratch on one data
variant with a fixed token budget, train.steps x batch_size x seq_len; its registry entry and trainer
(rule train_gpt).

Writes model.pt and loss.jsonl besides the contract's files; the training loop, weight averaging and
the data walk are in sandbox/proxies/gpt_training.py (see its docstring).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sandbox.proxies.entry import Proxy, registered
from sandbox.proxies.trainer import Trainer

EVAL_BATCH_SIZE = 64
SHAPE_KEYS = ("d_model", "n_layers", "n_heads")


def gpt_parameters(train: dict[str, Any]) -> int:
    """The byte GPT's parameter count for a shape (sandbox.proxies.gpt_model.ByteGPT: tied head,
    learned positions)."""
    width, layers, vocab = train["d_model"], train["n_layers"], 257
    per_block = 4 * width + (3 * width * width + 3 * width) + (width * width + width) \
        + (4 * width * width + 4 * width) + (4 * width * width + width)
    return vocab * width + train["seq_len"] * width + layers * per_block + 2 * width


@registered(Proxy(
    name="gpt",
    env="torch.yaml",
    config_section="train",
    size_keys=SHAPE_KEYS,
    size_rank=lambda settings: float(gpt_parameters(settings)),
    strength=1,
    seed_effect="the seed sets the initial weights and the batch order",
    extra_files=("model.pt", "loss.jsonl"),
    loss_figure=True,
    # rule infer: the probe documents the GPT finds hardest
    extra_targets=("infer/{variant}/seed{seed}/hardest.jsonl",),
    harness_model="model.pt",
))
class GptTrainer(Trainer):
    """Train the tiny byte-level GPT proxy on one data variant and score the held-out set."""

    description = __doc__

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--steps", type=int, default=800)
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--seq-len", type=int, default=64)
        parser.add_argument("--d-model", type=int, default=96)
        parser.add_argument("--n-layers", type=int, default=3)
        parser.add_argument("--n-heads", type=int, default=4)
        parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate")
        parser.add_argument("--warmup-steps", type=int, default=80,
                            help="~10 %% of --steps; a much shorter warm-up leaves some seeds stuck")
        parser.add_argument("--min-lr-ratio", type=float, default=0.1,
                            help="the cosine decay ends at this fraction of --lr (0 decays to zero)")
        parser.add_argument("--weight-decay", type=float, default=0.1)
        parser.add_argument("--ema-decay", type=float, default=0.0,
                            help="score and save an exponential moving average of the weights with this "
                            "decay per step (e.g. 0.995); 0 = off, the last step's weights")
        parser.add_argument("--average-last", type=int, default=0, metavar="K",
                            help="score and save the mean of the weights at the last K log steps "
                            "(every --log-every steps); 0 = off")
        parser.add_argument("--score-final", action="store_true",
                            help="with --ema-decay or --average-last, also score the last step's weights "
                            "(heldout_bpb_final in train_meta.json)")
        parser.add_argument("--device", default="auto",
                            help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps")
        parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
        parser.add_argument("--log-every", type=int, default=10)
        parser.add_argument("--tracking", choices=["wandb", "none"],
                            default=os.environ.get("SANDBOX_TRACKING", "none"),
                            help="default: $SANDBOX_TRACKING (the workflow sets it from the config), "
                            "else none")
        parser.add_argument("--wandb-dir", type=Path, default=Path("wandb"))
        parser.add_argument("--wandb-project", default=os.environ.get("WANDB_PROJECT", "recipe-sandbox"),
                            help="default: $WANDB_PROJECT (the workflow sets it from the config)")
        parser.add_argument("--wandb-group", default=None)
        parser.add_argument("--run-name", default=None)
        parser.add_argument("--variant", default=None,
                            help="the data variant trained on (wandb: config.variant, its training data "
                            "as an artifact)")

    def check_arguments(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        for name in ("steps", "batch_size", "seq_len", "d_model", "n_layers", "n_heads", "threads",
                     "log_every"):
            if getattr(args, name) < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
        if args.d_model % args.n_heads:
            parser.error(f"--n-heads {args.n_heads} must divide --d-model {args.d_model}")
        if args.warmup_steps < 0:
            parser.error("--warmup-steps must not be negative")
        if not 0.0 <= args.min_lr_ratio <= 1.0:
            parser.error("--min-lr-ratio must be between 0 and 1")
        if not 0.0 <= args.ema_decay < 1.0:
            parser.error("--ema-decay must be in [0, 1): 0 is off")
        if args.average_last < 0:
            parser.error("--average-last must not be negative")
        if args.ema_decay > 0 and args.average_last > 0:
            parser.error("--ema-decay and --average-last are alternatives: pass one of them")

    def budget(self, args: argparse.Namespace) -> int:
        return args.steps * args.batch_size * args.seq_len

    def fit(self, args: argparse.Namespace, documents: list[bytes]) -> dict[str, Any]:
        import torch

        from sandbox.proxies.gpt_model import count_parameters, pick_device
        from sandbox.proxies.gpt_training import Tracker, stream_of, train_averaged

        torch.set_num_threads(args.threads)
        self.device = pick_device(args.device)
        stream = stream_of(documents)
        n_bytes = sum(len(data) for data in documents)
        tokens_budget = self.budget(args)
        print(f"training on {args.train}: {len(documents)} documents, {n_bytes} bytes; budget "
              f"{tokens_budget} tokens ({tokens_budget / (len(stream) - 1):.2f} epochs); device "
              f"{self.device}, {args.threads} threads", flush=True)
        self.tracker = Tracker(args)
        final, averaged, self.seconds, walk = train_averaged(args, stream, self.device, self.tracker)
        self.model = averaged if averaged is not None else final
        self.seq_len = args.seq_len
        self.final = final
        self.weight_averaged = averaged is not None
        return {
            "n_params": count_parameters(self.model),
            "train_docs": len(documents),
            "train_bytes": n_bytes,
            # seen without replacement: epochs > 1 only when the data are smaller than the budget
            **walk.exposure(),
            "device": str(self.device),
            "threads": args.threads,
            # which weights heldout_bpb and model.pt are: "final" (last step), "ema" or "average_last"
            "weights": "ema" if args.ema_decay > 0 else "average_last" if args.average_last > 0 else "final",
            "ema_decay": args.ema_decay,
            "average_last": args.average_last,
        }

    def trained_seconds(self) -> float | None:
        return self.seconds

    def score_texts(self, texts: list[str]) -> list[tuple[float, int]]:
        from sandbox.proxies.gpt_model import score_documents

        return score_documents(self.model, texts, self.seq_len, EVAL_BATCH_SIZE, self.device)

    def save(self, args: argparse.Namespace) -> None:
        from sandbox.proxies.contract import plain_config
        from sandbox.proxies.gpt_model import save_checkpoint

        save_checkpoint(args.out_dir / "model.pt", self.model, plain_config(args))

    def load(self, path: Path, device: str = "auto") -> None:
        from sandbox.proxies.gpt_model import load_checkpoint, pick_device

        self.device = pick_device(device)
        self.model, _ = load_checkpoint(path, self.device)
        self.seq_len = self.model.config.seq_len

    def versions(self) -> dict[str, str]:
        import torch

        return {"torch_version": torch.__version__}

    def scored(self, args: argparse.Namespace, heldout_bpb: float | None) -> dict[str, Any]:
        if not self.weight_averaged:
            return {"heldout_bpb_final": heldout_bpb}
        if not args.score_final:
            return {"heldout_bpb_final": None}
        from sandbox.proxies.contract import score_heldout
        from sandbox.proxies.gpt_model import score_documents

        def final_scores(texts: list[str]) -> list[tuple[float, int]]:
            return score_documents(self.final, texts, args.seq_len, EVAL_BATCH_SIZE, self.device)

        return {"heldout_bpb_final": score_heldout(args.eval, args.eval_text_key or args.text_key,
                                                   final_scores, None)}

    def finish(self, meta: dict[str, Any]) -> None:
        self.tracker.finish({"heldout_bpb": meta["heldout_bpb"], "n_params": meta["n_params"],
                             "train_seconds": meta["seconds"]})
