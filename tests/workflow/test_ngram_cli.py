"""The `train.py ngram` command line: held-out rows, the saved model and its record, and the refusals;
the n-gram model itself is checked in process in unit/test_ngram.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SCRIPTS
from sandbox.io.jsonl import write_jsonl
from sandbox.proxies.ngram import KneserNeyLM, budget_documents


def run_train_ngram(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPTS / "train.py"), "ngram", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture
def tiny_files(tmp_path: Path) -> dict[str, Path]:
    """Repetitive training sentences; an eval file with an empty and a non-ASCII document."""
    paths = {name: tmp_path / f"{name}.jsonl" for name in ("train", "eval")}
    sentences = ["The cat sat on the mat. ", "A dog ran in the park. ", "Numbers: 1, 2, 3. "]
    write_jsonl(paths["train"], [{"text": sentences[i % 3] * (1 + i % 4)} for i in range(20)])
    evaluation = [
        {"text": "The dog sat. "},
        {"text": "", "sandbox_row": 3},
        {"text": "café ☕", "meta": {"origin": "clean"}},
    ]
    write_jsonl(paths["eval"], evaluation)
    return paths


def test_train_ngram_cli(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    out_dir, heldout_out = tmp_path / "model", tmp_path / "heldout.jsonl"
    result = run_train_ngram(
        "--train", str(tiny_files["train"]), "--eval", str(tiny_files["eval"]), "--out-dir", str(out_dir),
        "--heldout-out", str(heldout_out), "--seed", "2", "--budget-bytes", "3000", "--order", "4",
        "--save-model", str(tmp_path / "lm.npz"),
    )
    assert result.returncode == 0, result.stderr
    assert "held-out bpb" in result.stdout
    rows = [json.loads(line) for line in heldout_out.read_text().splitlines()]
    assert [row["index"] for row in rows] == [0, 1, 2]
    assert [row["n_bytes"] for row in rows] == [13, 0, len("café ☕".encode("utf-8"))]
    assert rows[1]["nll_bits"] == 0 and rows[1]["bpb"] is None and rows[1]["sandbox_row"] == 3
    assert rows[2]["origin"] == "clean"

    meta = json.loads((out_dir / "train_meta.json").read_text())
    texts = [json.loads(line)["text"].encode("utf-8")
             for line in tiny_files["train"].read_text().splitlines()]
    documents = budget_documents(texts, 3000, seed=2)
    lm = KneserNeyLM.train(documents, order=4)
    assert meta["proxy"] == "ngram" and meta["order"] == 4 and meta["tokens_budget"] == 3000
    assert meta["train_docs"] == 20 and meta["train_bytes"] == sum(len(data) for data in texts)
    # the budget exceeds the 20 small documents: each is counted once, so the model is the one-pass model
    assert meta["budget_docs"] == len(documents) == 20 and sorted(documents) == sorted(texts)
    assert meta["train_symbols"] == meta["train_bytes"] + 20 < 3000
    assert meta["distinct_train_bytes"] == meta["train_bytes"] and meta["epochs"] == 1.0
    once = KneserNeyLM.train(texts, order=4)
    assert once.discounts == lm.discounts and once.n_grams == lm.n_grams
    assert meta["discounts"] == lm.discounts and meta["n_grams"] == lm.n_grams
    assert meta["numpy_version"] == np.__version__ and meta["config"]["seed"] == 2
    assert meta["seconds"] >= 0 and meta["eval_seconds"] >= 0
    bpb = sum(row["nll_bits"] for row in rows) / sum(row["n_bytes"] for row in rows)
    assert bpb == pytest.approx(meta["heldout_bpb"], rel=1e-12)
    evaluated = [b"The dog sat. ", b"", "café ☕".encode("utf-8")]
    assert ([row["nll_bits"] for row in rows]
            == pytest.approx(list(lm.document_nll_bits(evaluated)), rel=1e-12))
    saved = KneserNeyLM.load(tmp_path / "lm.npz")
    assert np.array_equal(saved.document_nll_bits(evaluated), lm.document_nll_bits(evaluated))


@pytest.mark.parametrize("records", [[], [{"text": ""}, {"text": ""}]], ids=["no-documents", "no-bytes"])
def test_train_ngram_cli_rejects_empty_training_data(tiny_files: dict[str, Path], tmp_path: Path,
                                                     records) -> None:
    write_jsonl(tiny_files["train"], records)
    result = run_train_ngram(
        "--train", str(tiny_files["train"]), "--eval", str(tiny_files["eval"]), "--out-dir",
        str(tmp_path / "model"), "--budget-bytes", "100",
    )
    assert result.returncode == 2
    assert str(tiny_files["train"]) in result.stderr and "Fix:" in result.stderr
    assert not (tmp_path / "model" / "train_meta.json").exists()


@pytest.mark.parametrize("bad", [["--order", "0"], ["--order", "8"], ["--budget-bytes", "0"]])
def test_train_ngram_cli_rejects_bad_arguments(tiny_files: dict[str, Path], tmp_path: Path,
                                               bad: list[str]) -> None:
    result = run_train_ngram(
        "--train", str(tiny_files["train"]), "--eval", str(tiny_files["eval"]), "--out-dir",
        str(tmp_path / "model"), "--budget-bytes", "100", *bad,
    )
    assert result.returncode == 2 and bad[0] in result.stderr
