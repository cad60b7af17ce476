"""Train the tiny byte-level GPT proxy on one data variant and score the held-out set (rule train_gpt).

Writes model.pt, loss.jsonl, train_meta.json and, with --heldout-out, heldout.jsonl to --out-dir; the
training loop, weight averaging and options are in sandbox/proxies/gpt_training.py (see its docstring).
"""

from __future__ import annotations

import time

import torch

from sandbox.io.cli import run_main
from sandbox.proxies.gpt_model import count_parameters, pick_device, save_checkpoint
from sandbox.proxies.gpt_training import (
    PROXY,
    Tracker,
    parse_args,
    score_heldout,
    token_stream,
    train_averaged,
)
from sandbox.proxies.registry import (
    TRAIN_META,
    plain_config,
    require_eval_file,
    train_meta,
    write_train_meta,
)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    stream, n_docs, n_bytes = token_stream(args.train, args.text_key)
    require_eval_file(args.eval)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tokens_budget = args.steps * args.batch_size * args.seq_len
    print(
        f"training on {args.train}: {n_docs} documents, {n_bytes} bytes; budget {tokens_budget} tokens "
        f"({tokens_budget / (len(stream) - 1):.2f} epochs); device {device}, {args.threads} threads",
        flush=True,
    )
    tracker = Tracker(args)
    final, averaged, seconds, walk = train_averaged(args, stream, device, tracker)
    model = averaged if averaged is not None else final
    eval_start = time.perf_counter()
    bpb = score_heldout(model, args.eval, args.text_key, args.seq_len, device, args.heldout_out)
    eval_seconds = time.perf_counter() - eval_start
    bpb_final = None
    if averaged is not None and args.score_final:
        bpb_final = score_heldout(final, args.eval, args.text_key, args.seq_len, device, None)
    save_checkpoint(args.out_dir / "model.pt", model, plain_config(args))
    meta = train_meta(PROXY, {
        "n_params": count_parameters(model),
        "tokens_budget": tokens_budget,
        "train_docs": n_docs,
        "train_bytes": n_bytes,
        # seen without replacement: epochs > 1 only when the data are smaller than the budget
        **walk.exposure(),
        "device": str(device),
        "threads": args.threads,
        "seconds": round(seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "heldout_bpb": bpb,
        # which weights heldout_bpb and model.pt are: "final" (last step), "ema" or "average_last"
        "weights": "ema" if args.ema_decay > 0 else "average_last" if args.average_last > 0 else "final",
        "ema_decay": args.ema_decay,
        "average_last": args.average_last,
        "heldout_bpb_final": bpb if averaged is None else bpb_final,
        "torch_version": torch.__version__,
    }, args)
    write_train_meta(args.out_dir / TRAIN_META, meta)
    tracker.finish({"heldout_bpb": bpb, "n_params": meta["n_params"], "train_seconds": meta["seconds"]})
    print(f"held-out bpb {bpb} on {args.eval}; trained {seconds:.1f}s, scored {eval_seconds:.1f}s",
          flush=True)


if __name__ == "__main__":
    run_main(main)
