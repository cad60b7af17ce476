"""The `train.py gpt` / infer.py command lines (CPU, tiny sizes): training, scoring, W&B offline logging,
weight averaging and the refusals; the model and its scoring in process are in unit/test_model.py."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch

from conftest import SCRIPTS
from sandbox.io.jsonl import write_jsonl
from sandbox.proxies.gpt_model import load_checkpoint, score_documents
from test_model import CPU, SENTENCES, TINY_ARGS, corpus_records


def run_script(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPTS / name), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> dict[str, Path]:
    """Train, eval and probe files; the probe has an empty document and one longer than --max-bytes."""
    paths = {name: tmp_path / f"{name}.jsonl" for name in ("train", "eval", "probe")}
    write_jsonl(paths["train"], corpus_records(40))
    write_jsonl(paths["eval"], [{"text": SENTENCES[i % 4] * 3} for i in range(6)])
    probe = corpus_records(8) + [{"text": "", "meta": {"origin": "clean"}},
                                 {"text": "é" * 200, "sandbox_row": 7}]
    write_jsonl(paths["probe"], probe)
    return paths


def train_cli(paths: dict[str, Path], out_dir: Path, *extra: str, env: dict[str, str] | None = None):
    return run_script(
        "train.py", "gpt", "--train", str(paths["train"]), "--eval", str(paths["eval"]), "--out-dir",
        str(out_dir), *TINY_ARGS, "--steps", "12", "--warmup-steps", "2", "--log-every", "4", *extra, env=env,
    )


def test_train_and_infer_cli(tiny_dataset: dict[str, Path], tmp_path: Path) -> None:
    out_dir = tmp_path / "model"
    result = train_cli(tiny_dataset, out_dir, "--tracking", "none")
    assert result.returncode == 0, result.stderr
    assert "held-out bpb" in result.stdout
    rows = [json.loads(line) for line in (out_dir / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [4, 8, 12]
    assert set(rows[0]) == {"step", "loss", "train_bpb", "lr", "tokens_seen", "elapsed_s"}
    meta = json.loads((out_dir / "train_meta.json").read_text())
    assert meta["tokens_budget"] == 12 * 8 * 32 and meta["device"] == "cpu" and 0 < meta["heldout_bpb"] < 9
    # 96 windows of a longer stream: part of one epoch, each window once, so every target is a
    # distinct byte or the BOS of a following document
    targets_per_epoch = meta["train_bytes"] + meta["train_docs"] - 1
    assert targets_per_epoch > 12 * 8 * 32 >= meta["train_symbols"] > 12 * 8 * 32 - 64
    assert meta["epochs"] == pytest.approx(meta["train_symbols"] / targets_per_epoch)
    bos_targets = meta["train_docs"] - 1
    assert meta["train_symbols"] - bos_targets <= meta["distinct_train_bytes"] <= meta["train_symbols"]
    assert meta["n_params"] > 0 and meta["torch_version"] == torch.__version__

    probe_out, hardest_out = tmp_path / "probe_scores.jsonl", tmp_path / "hardest.jsonl"
    result = run_script(
        "infer.py", "--model", str(out_dir / "model.pt"), "--data", str(tiny_dataset["probe"]),
        "--out", str(probe_out), "--hardest-out", str(hardest_out), "--hardest", "3", "--max-bytes", "64",
    )
    assert result.returncode == 0, result.stderr
    scored = [json.loads(line) for line in probe_out.read_text().splitlines()]
    assert [row["index"] for row in scored] == list(range(12))
    empty, long_doc = scored[-2], scored[-1]
    assert empty["n_bytes"] == 0 and empty["bpb"] is None
    assert long_doc["n_bytes"] == 64 and long_doc["total_bytes"] == 400 and long_doc["truncated"]
    assert long_doc["origin"] is None and long_doc["sandbox_row"] == 7 and long_doc["preview"] == "é" * 200
    first = scored[0]
    assert first["origin"] == "clean" and first["bpb"] == pytest.approx(first["nll_bits"] / first["n_bytes"])
    hardest = [json.loads(line) for line in hardest_out.read_text().splitlines()]
    assert len(hardest) == 3 and all(row["bpb"] is not None for row in hardest)
    highest = sorted((row["bpb"] for row in scored if row["bpb"] is not None), reverse=True)[:3]
    assert [row["bpb"] for row in hardest] == highest

    # held-out scoring through infer.py (whole documents) is the number the GPT trainer reports
    heldout_out = tmp_path / "heldout.jsonl"
    result = run_script("infer.py", "--model", str(out_dir / "model.pt"), "--data", str(tiny_dataset["eval"]),
                        "--out", str(heldout_out), "--max-bytes", "0")
    assert result.returncode == 0, result.stderr
    heldout = [json.loads(line) for line in heldout_out.read_text().splitlines()]
    bpb = sum(row["nll_bits"] for row in heldout) / sum(row["n_bytes"] for row in heldout)
    assert bpb == pytest.approx(meta["heldout_bpb"], rel=1e-9)


def test_train_cli_logs_to_wandb_offline(tiny_dataset: dict[str, Path], tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WANDB_")}
    wandb_dir = tmp_path / "wandb_root"
    result = train_cli(
        tiny_dataset, tmp_path / "model", "--tracking", "wandb", "--wandb-dir", str(wandb_dir),
        "--wandb-project", "test", "--wandb-group", "g", "--run-name", "trial3-seed0", "--variant", "trial3",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    runs = list((wandb_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, list(wandb_dir.rglob("*"))
    (log,) = runs[0].glob("run-*.wandb")
    records = list(wandb_records(log))
    (run,) = [record.run for record in records if record.WhichOneof("record_type") == "run"]
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert run.job_type == "train" and run.run_group == "g" and list(run.tags) == ["trial3"]
    assert config["variant"] == "trial3" and config["trial"] == 3 and config["proxy"] == "gpt"
    (artifact,) = [record.artifact for record in records if record.WhichOneof("record_type") == "artifact"]
    assert artifact.name == "g-trial3" and artifact.type == "dataset"
    assert json.loads(artifact.metadata) == {"variant": "trial3", "path": str(tiny_dataset["train"])}


def wandb_records(path: Path) -> Iterator[Any]:
    """The protobuf records of an offline run's .wandb file (a LevelDB-style log of 32 KiB blocks
    after a 7-byte header; each record: CRC32, length, type FULL/FIRST/MIDDLE/LAST)."""
    from wandb.proto import wandb_internal_pb2

    data, block, position, pending = path.read_bytes(), 32768, 7, b""
    while position + 7 <= len(data):
        if block - position % block < 7:
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        payload = data[position + 7:position + 7 + length]
        position += 7 + length
        pending = payload if kind in (1, 2) else pending + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


@pytest.mark.parametrize("records", [[], [{"text": ""}, {"text": ""}]], ids=["no-documents", "no-bytes"])
def test_train_cli_rejects_empty_training_data(tiny_dataset: dict[str, Path], tmp_path: Path,
                                               records) -> None:
    write_jsonl(tiny_dataset["train"], records)
    result = train_cli(tiny_dataset, tmp_path / "model")
    assert result.returncode == 2
    assert str(tiny_dataset["train"]) in result.stderr and "Fix:" in result.stderr
    assert not (tmp_path / "model" / "model.pt").exists()


def test_train_cli_scores_and_saves_the_averaged_weights(tiny_dataset: dict[str, Path],
                                                         tmp_path: Path) -> None:
    out_dir = tmp_path / "ema"
    result = train_cli(tiny_dataset, out_dir, "--tracking", "none", "--ema-decay", "0.8", "--score-final")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out_dir / "train_meta.json").read_text())
    assert meta["proxy"] == "gpt" and meta["weights"] == "ema" and meta["ema_decay"] == 0.8
    assert meta["heldout_bpb_final"] != meta["heldout_bpb"]  # two different sets of weights were scored
    model, _ = load_checkpoint(out_dir / "model.pt", CPU)
    texts = [json.loads(line)["text"] for line in tiny_dataset["eval"].read_text().splitlines()]
    scores = score_documents(model, texts, 32, 8, CPU)
    assert (sum(b for b, _ in scores) / sum(n for _, n in scores)
            == pytest.approx(meta["heldout_bpb"], rel=1e-6))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ema-decay", "1.0"], "--ema-decay"),
        (["--ema-decay", "0.9", "--average-last", "3"], "alternatives"),
        (["--min-lr-ratio", "1.5"], "--min-lr-ratio"),
    ],
)
def test_train_cli_rejects_bad_averaging_options(tiny_dataset, tmp_path: Path, extra, message) -> None:
    result = train_cli(tiny_dataset, tmp_path / "model", *extra)
    assert result.returncode == 2 and message in result.stderr
