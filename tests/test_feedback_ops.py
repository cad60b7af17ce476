"""Model-feedback filters as Data-Juicer custom operators, run by `dj-process` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from prepare_demo import build_demo
from sandbox.ngram import KneserNeyLM

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OPS_FILE = REPO / "scripts/sandbox/dj_ops/ngram_filters.py"


def bits_per_byte(lm: KneserNeyLM, texts: list[str]) -> np.ndarray:
    encoded = [text.encode("utf-8") for text in texts]
    return lm.document_nll_bits(encoded) / np.array([len(data) for data in encoded])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("feedback")
    pool, eval_set = build_demo(0, pool_docs=400, eval_docs=60)
    pool_path = folder / "pool.jsonl"
    pool_path.write_text("".join(json.dumps(record) + "\n" for record in pool))
    reference = KneserNeyLM.train([record["text"].encode() for record in eval_set], order=4)
    background = KneserNeyLM.train([record["text"].encode() for record in pool], order=4)
    reference.save(folder / "reference.npz")
    background.save(folder / "background.npz")
    return {"folder": folder, "pool": pool, "pool_path": pool_path, "reference": reference, "background": background}


def dj_process(folder: Path, pool_path: Path, op: dict, name: str) -> list[dict]:
    recipe = folder / f"{name}.yaml"
    recipe.write_text(yaml.safe_dump({"custom_operator_paths": [str(OPS_FILE)], "text_keys": "text",
                                      "process": [op]}, sort_keys=False))
    export = folder / name / "data.jsonl"
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path", str(pool_path),
                             "--export_path", str(export), "--np", "2", "--open_monitor", "false"],
                            cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads(line) for line in export.read_text().splitlines()]


def test_saved_model_scores_exactly_as_trained(demo: dict, tmp_path: Path) -> None:
    texts = [record["text"] for record in demo["pool"][:50]]
    loaded = KneserNeyLM.load(demo["folder"] / "reference.npz")
    assert np.array_equal(bits_per_byte(loaded, texts), bits_per_byte(demo["reference"], texts))
    (tmp_path / "not-a-model.npz").write_bytes(b"PK")
    with pytest.raises(Exception):
        KneserNeyLM.load(tmp_path / "not-a-model.npz")


def test_loss_filter_through_dj_process_keeps_what_the_model_says(demo: dict) -> None:
    losses = bits_per_byte(demo["reference"], [record["text"] for record in demo["pool"]])
    bound = float(np.quantile(losses, 0.7))
    kept = dj_process(demo["folder"], demo["pool_path"],
                      {"ngram_loss_filter": {"model_path": str(demo["folder"] / "reference.npz"),
                                             "max_value": bound}}, "loss")
    expected = [record["text"] for record, loss in zip(demo["pool"], losses) if loss <= bound]
    assert [record["text"] for record in kept] == expected
    # the stat sits under __dj__stats__ as Data-Juicer's own filters' do
    exported = [json.loads(line)["__dj__stats__"]["ngram_loss"]
                for line in (demo["folder"] / "loss/data_stats.jsonl").read_text().splitlines()]
    assert np.allclose(exported, [loss for loss in losses if loss <= bound], rtol=1e-9)
    removed_origins = [record["meta"]["origin"] for record, loss in zip(demo["pool"], losses) if loss > bound]
    # a reference LM of clean speeches puts noise above the bound far more often than clean text
    assert sum(origin != "clean" for origin in removed_origins) / len(removed_origins) > 0.7


def test_importance_filter_through_dj_process_keeps_the_top_fraction(demo: dict) -> None:
    texts = [record["text"] for record in demo["pool"]]
    ratio = bits_per_byte(demo["background"], texts) - bits_per_byte(demo["reference"], texts)
    bound = float(np.quantile(ratio, 0.25))
    kept = dj_process(demo["folder"], demo["pool_path"],
                      {"ngram_importance_filter": {"model_path": str(demo["folder"] / "reference.npz"),
                                                   "background_model_path": str(demo["folder"] / "background.npz"),
                                                   "min_value": bound}}, "importance")
    assert [record["text"] for record in kept] == [text for text, value in zip(texts, ratio) if value >= bound]


def test_a_filter_without_its_model_is_refused(demo: dict) -> None:
    recipe = demo["folder"] / "no-model.yaml"
    recipe.write_text(yaml.safe_dump({"custom_operator_paths": [str(OPS_FILE)], "process": [{"ngram_loss_filter": {}}]}))
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(recipe), "--dataset_path",
                             str(demo["pool_path"]), "--export_path", str(demo["folder"] / "none/data.jsonl")],
                            cwd=demo["folder"], capture_output=True, text=True)
    assert result.returncode != 0 and "needs model_path" in result.stdout + result.stderr
