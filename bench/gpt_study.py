"""Study the GPT proxy's training settings: held-out bits per byte and its spread over seeds.

Runs named settings x variants x seeds one after the other through `scripts/train.py gpt` (one process
at a time, --threads 1 by default), then prints a markdown table:

    setting | params | s/run | raw bpb mean ± std | recipe | k_sigma | oracle | max seed std

s/run is the mean wall time of a whole `train.py gpt` process (start-up, training, held-out scoring);
std is the sample standard deviation over seeds. Resumable: a run whose train_meta.json exists is
not run again, so the same command picks up where it stopped and only prints the table once every
run is there (or at once with --table-only).

    .venv/bin/python bench/gpt_study.py --data-dir DATA --out-dir OUT \\
        --settings base lr3e-3 --variants raw k_sigma --seeds 0 1 2

DATA holds <variant>.jsonl and eval.jsonl. A setting is a name from SETTINGS below, or
name=ARGS for an ad-hoc one (e.g. "b16=--batch-size 16 --steps 1200", quoted once); its args are
added to BASE_ARGS, so they override the current defaults.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO / "scripts" / "train.py"
VARIANTS = ("raw", "recipe", "k_sigma", "oracle")

# The defaults of config/config.yaml's train: block at the time of the study.
BASE_ARGS = [
    "--steps", "1200", "--batch-size", "8", "--seq-len", "64", "--d-model", "96", "--n-layers", "3",
    "--n-heads", "4", "--lr", "0.005", "--warmup-steps", "120", "--weight-decay", "0.1",
]

SETTINGS: dict[str, str] = {
    "base": "",
    "ema99": "--ema-decay 0.99 --score-final",
    "ema995": "--ema-decay 0.995 --score-final",
    "lr1e-2": "--lr 0.01 --ema-decay 0.99 --score-final",
    "lr3e-3": "--lr 0.003",
    "s2400": "--steps 2400 --warmup-steps 240",
    "s2400-ema": "--steps 2400 --warmup-steps 240 --ema-decay 0.995 --score-final",
    "b16-s1500": "--batch-size 16 --steps 1500 --warmup-steps 150",
    "b16-ema": "--batch-size 16 --ema-decay 0.995 --score-final",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, type=Path, help="holds <variant>.jsonl and eval.jsonl")
    parser.add_argument("--out-dir", required=True, type=Path,
                        help="runs go to OUT/<setting>/<variant>/seed<N>")
    parser.add_argument("--settings", nargs="+", default=["base"], help="names in SETTINGS, or name='args'")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--table-only", action="store_true", help="run nothing; tabulate the runs that exist")
    parser.add_argument("--table-out", type=Path, default=None, help="also write the table to this file")
    return parser.parse_args(argv)


def resolve_setting(spec: str) -> tuple[str, list[str]]:
    """(name, extra `train.py gpt` args) for a SETTINGS name or a name='args' spec."""
    if "=" in spec:
        name, extra = spec.split("=", 1)
        return name, shlex.split(extra)
    if spec not in SETTINGS:
        raise SystemExit(f"unknown setting {spec!r}: use one of {sorted(SETTINGS)} "
                         "or name='--train.py gpt args'")
    return spec, shlex.split(SETTINGS[spec])


def run_one(args: argparse.Namespace, name: str, extra: list[str], variant: str, seed: int) -> Path:
    """Train one (setting, variant, seed) unless its train_meta.json exists; return its directory."""
    out = args.out_dir / name / variant / f"seed{seed}"
    if (out / "train_meta.json").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    command = [
        args.python, str(TRAIN), "gpt", "--train", str(args.data_dir / f"{variant}.jsonl"),
        "--eval", str(args.data_dir / "eval.jsonl"), "--out-dir", str(out), "--seed", str(seed),
        *BASE_ARGS, *extra, "--threads", str(args.threads), "--device", "cpu", "--tracking", "none",
        "--log-every", "50",
    ]
    start = time.perf_counter()
    with open(out / "train.log", "w", encoding="utf-8") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{name}/{variant}/seed{seed} failed (exit {result.returncode}); see "
                         f"{out / 'train.log'}")
    (out / "wall.json").write_text(json.dumps({"wall_s": round(wall, 3), "command": command}) + "\n")
    meta = json.loads((out / "train_meta.json").read_text())
    final = meta.get("heldout_bpb_final")
    extra_note = f" (final weights {final:.4f})" if final is not None and final != meta["heldout_bpb"] else ""
    print(f"{name:>16} {variant:>8} seed{seed}: bpb {meta['heldout_bpb']:.4f}{extra_note} "
          f"train {meta['seconds']:.1f}s wall {wall:.1f}s", flush=True)
    return out


def load_runs(root: Path, seeds: list[int]) -> dict[str, dict]:
    """Per variant: bpb list, final-weights bpb list, wall seconds, train seconds, n_params."""
    out: dict[str, dict] = {}
    for variant_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        cell = {"bpb": [], "final": [], "wall": [], "train_s": [], "n_params": None}
        for seed in seeds:
            run = variant_dir / f"seed{seed}"
            if not (run / "train_meta.json").is_file():
                continue
            meta = json.loads((run / "train_meta.json").read_text())
            cell["bpb"].append(meta["heldout_bpb"])
            if meta.get("heldout_bpb_final") is not None:
                cell["final"].append(meta["heldout_bpb_final"])
            cell["train_s"].append(meta["seconds"])
            cell["n_params"] = meta["n_params"]
            if (run / "wall.json").is_file():
                cell["wall"].append(json.loads((run / "wall.json").read_text())["wall_s"])
        if cell["bpb"]:
            out[variant_dir.name] = cell
    return out


def mean_std(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def fmt(values: list[float]) -> str:
    if not values:
        return "–"
    mean, std = mean_std(values)
    text = f"{mean:.3f} ± {std:.3f}" if std is not None else f"{mean:.3f}"
    return text + ("" if len(values) == 3 else f" (n={len(values)})")


def table(args: argparse.Namespace, names: list[str]) -> str:
    lines = [
        "| setting | params | s/run | raw bpb mean ± std | recipe | k_sigma | oracle | max seed std |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name in names:
        cells = load_runs(args.out_dir / name, args.seeds)
        if not cells:
            continue
        n_params = next(c["n_params"] for c in cells.values())
        walls = [w for c in cells.values() for w in c["wall"]]
        stds = [mean_std(c["bpb"])[1] for c in cells.values() if len(c["bpb"]) > 1]
        row = [
            name, f"{n_params / 1e6:.2f} M", f"{statistics.fmean(walls):.0f}" if walls else "–",
            *(fmt(cells[v]["bpb"]) if v in cells else "–" for v in VARIANTS),
            f"{max(stds):.3f}" if stds else "–",
        ]
        lines.append("| " + " | ".join(row) + " |")
        finals = {v: c["final"] for v, c in cells.items() if c["final"] and c["final"] != c["bpb"]}
        if finals:
            notes.append(f"{name}, last-step weights instead of the average: "
                         + ", ".join(f"{v} {fmt(f)}" for v, f in finals.items()))
    return "\n".join(lines + ([""] + [f"- {note}" for note in notes] if notes else [])) + "\n"


def main() -> None:
    args = parse_args()
    resolved = [resolve_setting(spec) for spec in args.settings]
    if not args.table_only:
        for name, extra in resolved:
            for variant in args.variants:
                for seed in args.seeds:
                    run_one(args, name, extra, variant, seed)
    text = table(args, [name for name, _ in resolved])
    print(text)
    if args.table_out is not None:
        args.table_out.parent.mkdir(parents=True, exist_ok=True)
        args.table_out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
