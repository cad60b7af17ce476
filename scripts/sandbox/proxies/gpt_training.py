"""Train the tiny byte-level GPT from scratch on one data variant, with a fixed token budget
(its trainer is sandbox.proxies.train_gpt; the model is sandbox.proxies.gpt_model).

The training documents are concatenated, each preceded by BOS, and cut into consecutive windows
of seq_len targets (at a seeded offset, so the first and last may be shorter). Each step takes the
next batch_size windows of a seeded walk without replacement: every window once per epoch, with
fresh cuts and order each epoch (WindowWalk). So the budget steps * batch_size * seq_len is the
same whatever the data size, a variant smaller than the budget is seen for more than one epoch,
and train_meta.json records the targets seen, the distinct bytes and the epochs. The seed fixes
the initialisation and the order of the windows.

Writes model.pt, loss.jsonl (one row per log step) and train_meta.json (with the final held-out
bits per byte on --eval) to --out-dir. With --ema-decay (or --average-last) the model that is
scored and saved is the exponential moving average of the weights (or the mean of the weights at
the last K log steps) instead of the last step's weights; averaging smooths out the last steps'
noise, which makes seeds agree more closely. With --tracking wandb the run is also logged to Weights &
Biases, offline (under --wandb-dir) unless WANDB_MODE says otherwise.
"""

from __future__ import annotations

import argparse
import collections
import copy
import functools
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from sandbox.io.jsonl import read_texts, write_jsonl
from sandbox.proxies import tracking
from sandbox.proxies.contract import require_training_bytes
from sandbox.proxies.contract import score_heldout as write_heldout
from sandbox.proxies.gpt_model import BOS, ByteGPT, ModelConfig, score_documents

PROXY = "gpt"
EVAL_BATCH_SIZE = 64
# the GPT's run tracker: wandb's config.proxy is gpt
Tracker = functools.partial(tracking.Tracker, proxy=PROXY)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The GPT trainer's options, checked (sandbox.proxies.train_gpt declares them)."""
    from sandbox.proxies.train_gpt import GptTrainer

    return GptTrainer().parse_args(argv)


def token_stream(path: Path, text_key: str) -> tuple[torch.Tensor, int, int]:
    """(BOS doc1 BOS doc2 ... as int16 ids, documents, bytes); InputError if there is nothing to learn."""
    texts = read_texts(path, text_key)
    encoded = [text.encode("utf-8") for text in texts]
    require_training_bytes(path, encoded, text_key)
    return stream_of(encoded), len(encoded), sum(len(data) for data in encoded)


def stream_of(documents: list[bytes]) -> torch.Tensor:
    """BOS doc1 BOS doc2 ... as int16 ids."""
    stream = torch.empty(sum(len(data) for data in documents) + len(documents), dtype=torch.int16)
    position = 0
    for data in documents:
        stream[position] = BOS
        stream[position + 1 : position + 1 + len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        position += 1 + len(data)
    return stream


IGNORE = -100  # cross_entropy's ignore_index: padding past the stream's end is never a target


class WindowWalk:
    """The stream's training windows in a seeded order without replacement, epoch after epoch.

    An epoch cuts the stream at a seeded offset o and every seq_len tokens after it: a window
    predicts the tokens stream[a+1 : b+1] of its cut (a, b] from the tokens before each, so an epoch
    predicts every token but the first exactly once. Its windows come in a seeded permutation; the
    next epoch has a fresh offset and order, so repeated data are seen in new contexts. The order
    does not depend on how many windows are drawn at a time.
    """

    def __init__(self, stream: torch.Tensor, seq_len: int, seed: int) -> None:
        self.stream = stream
        self.seq_len = seq_len
        self.targets_per_epoch = max(len(stream) - 1, 1)
        self.generator = torch.Generator().manual_seed(seed)
        self.pending = torch.empty((0, 2), dtype=torch.long)
        self.first_epoch = torch.empty((0, 2), dtype=torch.long)
        self.epochs_started = 0
        self.drawn_in_first_epoch = 0
        self.targets_seen = 0  # tokens predicted, over all epochs
        # padding past the end makes every window seq_len + 1 long; it is never a target
        self.padded = torch.cat([stream, torch.full((seq_len,), IGNORE, dtype=stream.dtype)])

    def epoch_windows(self, offset: int) -> torch.Tensor:
        """(start, targets) of each window of an epoch cut at offset, in stream order."""
        cuts = torch.arange(offset, self.targets_per_epoch, self.seq_len)
        if offset > 0:
            cuts = torch.cat([torch.zeros(1, dtype=torch.long), cuts])
        ends = torch.cat([cuts[1:], torch.tensor([self.targets_per_epoch])])
        return torch.stack([cuts, ends - cuts], dim=1)

    def next_windows(self, count: int) -> torch.Tensor:
        """(start, targets) of each of the next count windows."""
        pieces = []
        while count > 0:
            if len(self.pending) == 0:
                offset = int(torch.randint(0, self.seq_len, (1,), generator=self.generator))
                windows = self.epoch_windows(offset)
                self.pending = windows[torch.randperm(len(windows), generator=self.generator)]
                if self.epochs_started == 0:
                    self.first_epoch = self.pending
                self.epochs_started += 1
            piece, self.pending = self.pending[:count], self.pending[count:]
            if self.epochs_started == 1:
                self.drawn_in_first_epoch += len(piece)
            pieces.append(piece)
            count -= len(piece)
            self.targets_seen += int(piece[:, 1].sum())
        return torch.cat(pieces)

    def next_batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of the next batch_size windows; targets past a window's cut are IGNORE."""
        windows = self.next_windows(batch_size)
        positions = windows[:, :1] + torch.arange(self.seq_len + 1)
        tokens = self.padded[positions].long()
        inputs, targets = tokens[:, :-1], tokens[:, 1:].clone()
        # a short window's inputs run on past its cut, but causal attention hides them from its targets
        targets[torch.arange(self.seq_len)[None, :] >= windows[:, 1:]] = IGNORE
        return inputs.clamp(min=0), targets

    @property
    def epochs(self) -> float:
        """Targets seen over the targets of one epoch (every token but the first)."""
        return self.targets_seen / self.targets_per_epoch

    def distinct_bytes(self) -> int:
        """Bytes (not BOS) predicted at least once: all of them after a whole epoch."""
        seen = self.first_epoch[: self.drawn_in_first_epoch] if self.epochs_started <= 1 else self.first_epoch
        is_byte = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum((self.stream != BOS).long(), 0)])
        starts, counts = seen[:, 0], seen[:, 1]
        return int((is_byte[starts + counts + 1] - is_byte[starts + 1]).sum())

    def exposure(self) -> dict[str, int | float]:
        """What train_meta.json records of the walk (the n-gram and hf proxies record the same keys)."""
        return {"train_symbols": self.targets_seen, "distinct_train_bytes": self.distinct_bytes(),
                "epochs": self.epochs}


def learning_rate(step: int, peak: float, warmup_steps: int, total_steps: int,
                  min_ratio: float = 0.1) -> float:
    """Linear warm-up to peak, then cosine decay to min_ratio * peak at the last step (steps count from 1)."""
    if step <= warmup_steps:
        return peak * step / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


class WeightAverage:
    """The weights averaged over training: an exponential moving average, or the mean of the last K log steps.

    The EMA starts from zero and is divided by 1 - decay**t at the end (bias correction, as in Adam), so
    it is a weighted mean of the steps' weights only, with no pull towards the initialisation.
    """

    def __init__(self, model: ByteGPT, ema_decay: float = 0.0, average_last: int = 0) -> None:
        # detached views share the parameters' storage, so they follow the optimiser's in-place updates
        self.params = [p.detach() for p in model.parameters()]
        self.ema_decay = ema_decay
        self.average_last = average_last
        self.updates = 0
        self.ema = [torch.zeros_like(p) for p in self.params] if ema_decay > 0 else None
        self.snapshots: collections.deque[list[torch.Tensor]] = collections.deque(maxlen=max(1, average_last))

    @property
    def enabled(self) -> bool:
        return self.ema is not None or self.average_last > 0

    @torch.no_grad()
    def after_step(self) -> None:
        if self.ema is not None:
            torch._foreach_lerp_(self.ema, self.params, 1.0 - self.ema_decay)
            self.updates += 1

    @torch.no_grad()
    def at_log_step(self) -> None:
        if self.average_last > 0:
            self.snapshots.append([p.clone() for p in self.params])

    @torch.no_grad()
    def averaged(self) -> list[torch.Tensor]:
        if self.ema is not None:
            correction = 1.0 - self.ema_decay**self.updates
            return [tensor / correction for tensor in self.ema]
        count = len(self.snapshots)
        return [sum(tensors) / count for tensors in zip(*self.snapshots)]

    @torch.no_grad()
    def load_into(self, model: ByteGPT) -> None:
        """Copy the averaged weights into model (which has the same shape as the trained one)."""
        for parameter, value in zip(model.parameters(), self.averaged()):
            parameter.copy_(value)


def make_optimizer(model: ByteGPT, lr: float, weight_decay: float, device: torch.device) -> torch.optim.AdamW:
    """AdamW with decay on matrices only; biases and LayerNorm gains are not decayed."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # the fused kernel saves ~8 % of a step on CPU for a model this small
    fused = device.type in ("cpu", "cuda")
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), fused=fused)


def train(
    args: argparse.Namespace, stream: torch.Tensor, device: torch.device, tracker: tracking.Tracker
) -> tuple[ByteGPT, float]:
    """Train from scratch; write loss.jsonl; return the model and the training seconds.

    The model returned has the last step's weights; train_averaged also returns the averaged one.
    """
    model, _, seconds, _ = train_averaged(args, stream, device, tracker)
    return model, seconds


def train_averaged(
    args: argparse.Namespace, stream: torch.Tensor, device: torch.device, tracker: tracking.Tracker
) -> tuple[ByteGPT, ByteGPT | None, float, WindowWalk]:
    """Train from scratch; write loss.jsonl; return the last-step model, the weight-averaged model
    (None unless --ema-decay or --average-last), the training seconds and the walk over the data."""
    torch.manual_seed(args.seed)
    walk = WindowWalk(stream, args.seq_len, args.seed)
    config = ModelConfig(seq_len=args.seq_len, d_model=args.d_model, n_layers=args.n_layers,
                         n_heads=args.n_heads)
    model = ByteGPT(config).to(device).train()
    optimizer = make_optimizer(model, args.lr, args.weight_decay, device)
    average = WeightAverage(model, args.ema_decay, args.average_last)
    rows: list[dict[str, Any]] = []
    loss_sum, loss_count = torch.zeros((), device=device), 0
    start = time.perf_counter()
    # progress with rate and ETA in the job's log (stderr); mininterval keeps the log short
    for step in tqdm(range(1, args.steps + 1), desc="train gpt", mininterval=10, file=sys.stderr):
        lr = learning_rate(step, args.lr, args.warmup_steps, args.steps, args.min_lr_ratio)
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = walk.next_batch(args.batch_size)
        inputs, targets = inputs.to(device), targets.to(device)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        average.after_step()
        # summed on the device so that logging, not every step, waits for the GPU
        loss_sum += loss.detach()
        loss_count += 1
        if step % args.log_every == 0 or step == args.steps:
            row = log_row(step, loss_sum.item() / loss_count, lr, walk.targets_seen, start)
            if not math.isfinite(row["loss"]):
                raise RuntimeError(f"training diverged at step {step} (loss {row['loss']}); lower --lr")
            rows.append(row)
            average.at_log_step()
            tracker.log(row)
            print(
                f"step {step}/{args.steps} loss {row['loss']:.4f} train_bpb {row['train_bpb']:.4f} "
                f"lr {lr:.2e} tokens {row['tokens_seen']} {row['elapsed_s']:.1f}s",
                flush=True,
            )
            loss_sum.zero_()
            loss_count = 0
    averaged = None
    if average.enabled:
        averaged = copy.deepcopy(model)
        average.load_into(averaged)
    seconds = time.perf_counter() - start
    write_jsonl(args.out_dir / "loss.jsonl", rows)
    return model, averaged, seconds, walk


def log_row(step: int, loss: float, lr: float, tokens_seen: int, start: float) -> dict[str, Any]:
    """One loss.jsonl row; loss is the mean since the last row, in nats per token."""
    return {
        "step": step,
        "loss": loss,
        # per token, and tokens are bytes apart from the BOS before each document
        "train_bpb": loss / math.log(2),
        "lr": lr,
        "tokens_seen": tokens_seen,
        "elapsed_s": round(time.perf_counter() - start, 3),
    }


def score_heldout(model: ByteGPT, path: Path, text_key: str, seq_len: int, device: torch.device,
                  rows_out: Path | None) -> float | None:
    """Bits per byte on the eval file, every byte predicted once; None when it has no bytes.

    With rows_out, also writes heldout.jsonl (one score row per held-out document).
    """
    def scores(texts: list[str]) -> list[tuple[float, int]]:
        return score_documents(model, texts, seq_len, EVAL_BATCH_SIZE, device)

    return write_heldout(path, text_key, scores, rows_out)
