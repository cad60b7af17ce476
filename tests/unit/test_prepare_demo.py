"""Tests of the demo corpus builder: determinism, a leak-free eval split, noise share and kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.demo import corpus as prepare_demo
from sandbox.demo.corpus import ERAS

SMALL = {"pool_docs": 350, "eval_docs": 40, "noise_fraction": 0.35}


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict], list[dict]]:
    return prepare_demo.build_demo(0, **SMALL)


def test_same_seed_same_output(demo: tuple[list[dict], list[dict]]) -> None:
    assert prepare_demo.build_demo(0, **SMALL) == demo


def test_different_seed_different_output(demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set = prepare_demo.build_demo(1, **SMALL)
    assert pool != demo[0]
    assert eval_set != demo[1]


def test_cli_files_are_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        pool, eval_path = tmp_path / f"pool_{run}.jsonl", tmp_path / f"eval_{run}.jsonl"
        args = ["--pool", str(pool), "--eval", str(eval_path), "--seed", "3", "--pool-docs", "120",
                "--eval-docs", "15"]
        assert prepare_demo.main(args) == 0
        outputs.append((pool.read_bytes(), eval_path.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") == 120
    assert outputs[0][1].count(b"\n") == 15


def test_sizes(demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set = demo
    assert len(pool) == SMALL["pool_docs"]
    assert len(eval_set) == SMALL["eval_docs"]


def test_eval_is_held_out_by_speech(demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set = demo
    eval_speeches = {record["meta"]["source"] for record in eval_set}
    pool_speeches = {record["meta"]["source"] for record in pool}
    assert eval_speeches.isdisjoint(pool_speeches)
    # Noise wraps or garbles paragraphs, so check substrings, not only exact matches.
    pool_texts = [record["text"] for record in pool]
    for record in eval_set:
        assert not any(record["text"] in text for text in pool_texts)


def test_eval_is_clean(demo: tuple[list[dict], list[dict]]) -> None:
    assert {record["meta"]["origin"] for record in demo[1]} == {"clean"}


def test_noise_fraction_and_kinds(demo: tuple[list[dict], list[dict]]) -> None:
    pool, _ = demo
    origins = [record["meta"]["origin"] for record in pool]
    noise = [origin for origin in origins if origin != "clean"]
    assert abs(len(noise) / len(pool) - SMALL["noise_fraction"]) < 0.01
    assert set(noise) == {f"noise:{kind}" for kind in prepare_demo.NOISE_KINDS}
    counts = [noise.count(f"noise:{kind}") for kind in prepare_demo.NOISE_KINDS]
    assert max(counts) - min(counts) <= 1


def test_noise_is_not_clustered(demo: tuple[list[dict], list[dict]]) -> None:
    pool, _ = demo
    half = len(pool) // 2
    first = sum(record["meta"]["origin"] != "clean" for record in pool[:half])
    second = sum(record["meta"]["origin"] != "clean" for record in pool[half:])
    assert abs(first - second) < 0.3 * (first + second)


def test_record_shape(demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set = demo
    for record in pool + eval_set:
        assert isinstance(record["text"], str) and record["text"]
        assert isinstance(record["meta"]["origin"], str)
        assert isinstance(record["meta"]["source"], str)
        assert record["meta"]["era"] in {name for _, name in ERAS}
    # the demo's pools split by era, so every era must be there
    assert {record["meta"]["era"] for record in pool} == {name for _, name in ERAS}


def test_clean_paragraphs_are_substantive(demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set = demo
    clean = [record["text"] for record in pool + eval_set if record["meta"]["origin"] == "clean"]
    assert all(200 <= len(text) <= 1500 for text in clean)
    assert len(set(clean)) == len(clean)


def test_bad_noise_fraction_is_refused() -> None:
    with pytest.raises(ValueError):
        prepare_demo.build_demo(0, pool_docs=10, eval_docs=5, noise_fraction=1.5)


def test_reference_sample_comes_from_speeches_in_neither_pool_nor_eval(
        demo: tuple[list[dict], list[dict]]) -> None:
    pool, eval_set, reference = prepare_demo.build_demo_with_reference(0, reference_docs=50, **SMALL)
    assert len(reference) == 50 and len(pool) == SMALL["pool_docs"]
    assert {record["meta"]["origin"] for record in reference} == {"clean"}
    reference_speeches = {record["meta"]["source"] for record in reference}
    assert reference_speeches.isdisjoint(record["meta"]["source"] for record in pool)
    assert reference_speeches.isdisjoint(record["meta"]["source"] for record in eval_set)
    pool_texts = [record["text"] for record in pool]
    for record in reference:
        assert not any(record["text"] in text for text in pool_texts)
    # the eval set does not move when a reference is drawn; without one the demo is unchanged
    assert eval_set == demo[1]
    assert prepare_demo.build_demo_with_reference(0, reference_docs=0, **SMALL)[:2] == demo


def test_cli_writes_the_reference_only_when_asked(tmp_path: Path) -> None:
    base = ["--pool", str(tmp_path / "pool.jsonl"), "--eval", str(tmp_path / "eval.jsonl"),
            "--pool-docs", "100", "--eval-docs", "10"]
    assert prepare_demo.main([*base, "--reference", str(tmp_path / "ref.jsonl"), "--reference-docs",
                              "25"]) == 0
    assert (tmp_path / "ref.jsonl").read_text().count("\n") == 25
    assert prepare_demo.main([*base, "--reference", str(tmp_path / "other.jsonl")]) == 2
    assert not (tmp_path / "other.jsonl").exists()
