"""The dataset formats users bring: each is read into the same working pool as plain JSONL; bytes that
are not UTF-8, mixed field types and unknown formats are named with the fix; and a field first seen
late in a file no longer breaks Data-Juicer's chunked JSON loader."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from conftest import REPO, TINY_CONFIG, copy_workflow, planned_jobs, snakemake, write_config

RECORDS = [{"content": f"Document {i} on the budget of the nation, paragraph {i}. " * 3,
            "meta": {"origin": "clean" if i % 3 else "noise:spam", "source": f"s{i % 4}"}, "id": i}
           for i in range(40)]


def prepare(dataset: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts/prepare_input.py"), "--dataset", str(dataset),
                           "--text-key", "content", "--eval-fraction", "0.2", "--out-pool",
                           str(out / "pool.jsonl"),
                           "--out-eval", str(out / "eval.jsonl"), *extra], capture_output=True, text=True)


def jsonl_bytes(records: list[dict]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode("utf-8")


def write_every_format(folder: Path, records: list[dict]) -> dict[str, Path]:
    data = jsonl_bytes(records)
    paths = {name: folder / name
             for name in ("data.jsonl", "data.jsonl.gz", "data.jsonl.zst", "data.parquet")}
    paths["data.jsonl"].write_bytes(data)
    paths["data.jsonl.gz"].write_bytes(gzip.compress(data))
    paths["data.jsonl.zst"].write_bytes(zstandard.ZstdCompressor().compress(data))
    pq.write_table(pa.Table.from_pylist(records), paths["data.parquet"])
    datasets.Dataset.from_list(records).save_to_disk(str(folder / "saved"))
    paths["saved"] = folder / "saved"
    return paths


def test_every_format_gives_the_pool_plain_jsonl_gives(tmp_path: Path) -> None:
    paths = write_every_format(tmp_path, RECORDS)
    digests = {}
    for name, path in paths.items():
        before = sorted(p.read_bytes() for p in ([path] if path.is_file() else path.iterdir()))
        result = prepare(path, tmp_path / f"out-{name}")
        assert result.returncode == 0, result.stderr[-2000:]
        digests[name] = [hashlib.sha256((tmp_path / f"out-{name}" / f).read_bytes()).hexdigest()
                         for f in ("pool.jsonl", "eval.jsonl")]
        assert sorted(p.read_bytes() for p in ([path] if path.is_file() else path.iterdir())) == before
    assert len({tuple(value) for value in digests.values()}) == 1, digests
    pool = [json.loads(line) for line in (tmp_path / "out-data.parquet/pool.jsonl").read_text().splitlines()]
    assert pool and pool[0]["text"].startswith("Document") and "content" not in pool[0]


def test_bytes_that_are_not_utf8_are_named_by_line_and_offset(tmp_path: Path) -> None:
    good = jsonl_bytes(RECORDS[:3])
    bad_line = '{"content": "caf'.encode() + b"\xe9" + b'"}\n'
    plain, packed = tmp_path / "latin1.jsonl", tmp_path / "latin1.jsonl.gz"
    plain.write_bytes(good + bad_line)
    packed.write_bytes(gzip.compress(good + bad_line))
    offset = len(good) + len('{"content": "caf')
    result = prepare(plain, tmp_path / "out")
    assert result.returncode != 0
    assert f"{plain}:4: not UTF-8 (byte 0xe9 at byte offset {offset})" in result.stderr
    assert "Fix: re-encode the file as UTF-8" in result.stderr and "Traceback" not in result.stderr
    result = prepare(packed, tmp_path / "out")
    assert (f"{packed}:4: not UTF-8 (byte 0xe9 at byte offset {offset} of the decompressed text)"
            in result.stderr)
    assert not (tmp_path / "out/pool.jsonl").exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("data.csv", b"content\nhello\n", "unsupported format '.csv'. Fix: convert it to one of .jsonl"),
    ("array.json", b'[{"content": "a"}, {"content": "b"}]\n', "convert it to JSON lines"),
    ("broken.jsonl.gz", gzip.compress(b'{"content": "a"}\n' * 50)[:-12], "cannot be read as gz-compressed"),
    ("broken.jsonl.zst", b"not zstd at all", "not a valid zstd stream"),
    ("broken.parquet", b"PAR1 nope", "not a readable Parquet file"),
])
def test_unreadable_formats_are_named_with_the_fix(tmp_path: Path, name: str, content: bytes,
                                                   message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = prepare(path, tmp_path / "out")
    assert result.returncode != 0 and message in result.stderr, result.stderr[-2000:]
    assert str(path) in result.stderr and "Traceback" not in result.stderr


def test_a_dataset_dict_folder_names_its_splits(tmp_path: Path) -> None:
    datasets.DatasetDict({"train": datasets.Dataset.from_list(RECORDS)}).save_to_disk(str(tmp_path / "dd"))
    result = prepare(tmp_path / "dd", tmp_path / "out")
    assert result.returncode != 0
    assert ("a Hugging Face DatasetDict with splits train. Fix: point the config at one split's folder"
            in result.stderr)


def test_one_field_with_two_types_is_named_with_both_places(tmp_path: Path) -> None:
    records = [dict(record) for record in RECORDS]
    records[30]["id"] = "thirty"
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(jsonl_bytes(records))
    result = prepare(path, tmp_path / "out")
    assert result.returncode != 0
    assert f"{path}:31: field 'id' is a string here but a number at {path}:1" in result.stderr


def test_a_field_first_seen_late_loads_in_data_juicers_chunked_loader(tmp_path: Path) -> None:
    records = [dict(record, meta=dict(record["meta"])) for record in RECORDS * 25]
    for record in records[900:]:
        record["url"] = "https://example.org"
        record["meta"]["lang"] = "en"
    raw = tmp_path / "late.jsonl"
    raw.write_bytes(jsonl_bytes(records))
    # Data-Juicer loads JSONL through datasets' json builder, which infers columns chunk by chunk
    # (10 MB by default; small chunks here make the same failure appear on a small file)
    with pytest.raises(datasets.exceptions.DatasetGenerationError) as failure:
        datasets.load_dataset("json", data_files=str(raw), chunksize=4096, cache_dir=str(tmp_path / "c1"))
    assert "column" in str(failure.value.__cause__).lower()
    result = prepare(raw, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    pool = tmp_path / "out/pool.jsonl"
    keys = {tuple(json.loads(line)) for line in pool.read_text().splitlines()}
    assert keys == {("text", "meta", "id", "url", "sandbox_row")}
    rows = [json.loads(line) for line in pool.read_text().splitlines()]
    assert {row["url"] for row in rows} == {"", "https://example.org"}
    assert ({row["meta"]["lang"] for row in rows} == {"", "en"}
            and all(isinstance(row["id"], int) for row in rows))
    assert "some documents lack meta.lang, url; written as text" in result.stdout
    loaded = datasets.load_dataset("json", data_files=str(pool), chunksize=4096,
                                   cache_dir=str(tmp_path / "c2"))
    assert loaded["train"].num_rows == sum(1 for _ in pool.open())
    assert set(loaded["train"].features["meta"]) == {"origin", "source", "lang"}


def test_the_workflow_takes_a_parquet_dataset_and_sees_its_origin_tags(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "wf")
    data = workdir / "user.parquet"
    pq.write_table(pa.Table.from_pylist(RECORDS), data)
    config = write_config(workdir, {**TINY_CONFIG, "dataset_path": str(data), "text_key": "content"})
    plan = planned_jobs(workdir, "--configfile", str(config))
    assert plan["select_oracle"] == 1, "the origin tags of a Parquet file are seen at DAG time"
    result = snakemake(workdir, "results/tiny/data/pool.jsonl", "--cores", "1", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "results/tiny/data/pool.jsonl").read_text().count("\n") + \
        (workdir / "results/tiny/data/eval.jsonl").read_text().count("\n") == len(RECORDS)


def test_a_reference_sample_in_parquet_with_its_own_text_key_trains_the_feedback_lm(tmp_path: Path) -> None:
    reference = tmp_path / "reference.parquet"
    pq.write_table(pa.Table.from_pylist([{"content": record["content"]} for record in RECORDS]), reference)
    eval_path = tmp_path / "eval.jsonl"
    eval_path.write_bytes(jsonl_bytes([{"text": record["content"]} for record in RECORDS[:5]]))
    result = subprocess.run([sys.executable, str(REPO / "scripts/train.py"), "ngram",
                             "--train", str(reference), "--eval", str(eval_path), "--text-key", "content",
                             "--eval-text-key", "text",
                             "--out-dir", str(tmp_path / "lm"), "--budget-bytes", "20000", "--order", "3"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "lm/train_meta.json").read_text())["train_docs"] == len(RECORDS)
