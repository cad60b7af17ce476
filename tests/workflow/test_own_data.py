"""A user's own data as it comes: no origin tags (one metadata field, or plain {"text": ...} lines) and
no eval file. The whole default target runs (report figures included) and the report renders; an eval
set split from the pool gives no verdict on cleaning; a trusted sample gives one, split into an eval
half and the feedback reference half without leakage. Each run is made once for the module; the
report's rendering in Chromium is a test of its own, so that a skip there hides no other check. The
eval-set checks in process are in unit/test_own_data_eval_set.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (
    REPO,
    TINY_CONFIG,
    copy_workflow,
    planned_jobs,
    rule_priority_declared,
    snakemake,
    write_config,
)
from report_browser import check_report_renders
from sandbox.data.eval_set import (
    check_split_sizes,
    normalized,
    validation_test_labels,
)
from sandbox.io.jsonl import InputError
from test_own_data_eval_set import EVAL_TEXT

# Five clean documents of the trusted sample are also in the plain pool, as when a user picks them there.
TRUSTED_IN_POOL = 5


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def own_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny demo's documents as a user's files: untagged with meta.page, plain text, a trusted sample."""
    folder = tmp_path_factory.mktemp("own-data")
    demo = TINY_CONFIG["demo"]
    subprocess.run([sys.executable, str(REPO / "scripts/prepare_demo.py"), "--pool",
                    str(folder / "pool.jsonl"),
                    "--eval", str(folder / "eval.jsonl"), "--reference", str(folder / "reference.jsonl"),
                    "--seed", str(demo["seed"]), "--pool-docs", str(demo["pool_docs"]),
                    "--eval-docs", str(demo["eval_docs"]), "--noise-fraction", str(demo["noise_fraction"]),
                    "--reference-docs", str(demo["reference_docs"])], check=True, capture_output=True)
    pool = [record["text"] for record in read_jsonl(folder / "pool.jsonl")]
    trusted = [record["text"] for name in ("eval", "reference")
               for record in read_jsonl(folder / f"{name}.jsonl")]
    return {
        "untagged": write_jsonl(folder / "untagged.jsonl",
                                [{"text": text, "meta": {"page": f"page-{row % 17}"}}
                                 for row, text in enumerate(pool)]),
        "plain": write_jsonl(folder / "plain.jsonl",
                             [{"text": text}
                              for text in pool + trusted[:TRUSTED_IN_POOL] + near_copies(trusted)]),
        "trusted": write_jsonl(folder / "trusted.jsonl", [{"text": text} for text in trusted]),
    }


def near_copy(text: str) -> str | None:
    """A near-duplicate of a text of 20 words or more: its first 20 words inside others, as a scraped copy."""
    words = text.split()
    return f"Share this page. {' '.join(words[:20])} Read more at our site." if len(words) >= 20 else None


def near_copies(texts: list[str]) -> list[str]:
    return [copy for copy in map(near_copy, texts) if copy]


def run_all(workdir: Path, overrides: dict) -> Path:
    """The default target on the user's data, then the report; every output of `all` exists after it."""
    copy_workflow(workdir)
    config = write_config(workdir, {**TINY_CONFIG, **overrides})
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]
    experiment = overrides["experiment"]
    # each proxy's verdict is announced on the console with its file as soon as it is written
    assert f"Verdict (results/{experiment}/summary.ngram.md): " in result.stdout + result.stderr
    assert planned_jobs(workdir, "--configfile", str(config)) == {}, "outputs of `all` missing after the run"
    result = snakemake(workdir, "--report", str(workdir / "report.html"), "--configfile", str(config),
                       timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return workdir / "results" / experiment


@pytest.fixture(scope="module")
def untagged_run(own_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default target and the report on untagged data with no eval set (n-gram rung, one seed); the
    run's folder. Its tests only read it or plan in it."""
    workdir = tmp_path_factory.mktemp("untagged") / "run"
    run_all(workdir, {"experiment": "untagged", "dataset_path": str(own_data["untagged"]),
                      "proxies": ["ngram"], "seeds": [0]})
    return workdir


def test_untagged_data_without_eval_set_runs_and_gives_no_verdict(untagged_run: Path) -> None:
    out = untagged_run / "results/untagged"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"]["status"] == "no_clean_eval"
    assert summary["eval_set"]["source"] == "pool_split" and not summary["eval_set"]["judges_cleaning"]
    markdown = (out / "summary.md").read_text()
    first = markdown.splitlines()[2]
    assert first.startswith("**No verdict on cleaning can be drawn") and "Fix: set eval_path" in first
    assert "fit to the raw pool (eval set split from the pool; not a verdict on cleaning)" in markdown
    assert "Yes:" not in markdown and "No: no recipe" not in markdown
    assert "this pool has none" in markdown  # what is absent, and why
    assert "No quality scores" in markdown and "Fix: set trusted_path" in markdown  # no trusted sample
    assert all(not variant["origin_tags"] for variant in summary["variants"].values())
    assert "datamodels" in summary  # operator groups need no tags
    early = (out / "summary.ngram.md").read_text()
    assert early.splitlines()[2].startswith("> Early verdict of the ngram proxy alone")
    assert "No verdict on cleaning can be drawn" in early
    verdict_page = (out / "report/verdict.html").read_text()
    assert "No verdict on cleaning can be drawn" in verdict_page
    for variant in ("recipe", "k_sigma"):
        assert (out / f"report/removals/{variant}.png").stat().st_size > 5000


def test_untagged_data_report_renders_in_chromium(untagged_run: Path, tmp_path: Path) -> None:
    check_report_renders(untagged_run / "report.html", "untagged",
                         ["1. Verdict", "2. Held-out bpb", "3. Stats and thresholds",
                          "4. Removals per operator"],
                         ["ngram"], "4. Removals per operator", tmp_path)


def test_hpo_on_a_model_metric_is_refused_without_a_clean_eval_set(untagged_run: Path) -> None:
    # HPO on a model metric would tune towards the pool's noise: refused before any job, with the fix
    config = untagged_run / "test-config.yaml"
    refused = snakemake(untagged_run, "hpo", "-n", "--configfile", str(config))
    assert refused.returncode != 0
    assert "No verdict on cleaning can be drawn" in refused.stdout + refused.stderr
    data_only = untagged_run / "data-sweep.yaml"
    data_only.write_text("method: random\nmetric: {name: kept_fraction, goal: maximize}\nrun_cap: 2\n"
                         "parameters:\n  text_length_filter.min_len: {min: 10, max: 60}\n")
    planned = planned_jobs(untagged_run, "hpo", "--configfile", str(config),
                           "--config", f"hpo={{sweep: {data_only}}}")
    assert planned.get("hpo_ask", 0) >= 1, planned


@pytest.fixture(scope="module")
def plain_run(own_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default target and the report on plain text lines with a trusted sample (n-gram rung, a
    reference_ppl feedback variant); the run's folder. Its tests only read it."""
    workdir = tmp_path_factory.mktemp("plain") / "run"
    run_all(workdir, {"experiment": "plain", "dataset_path": str(own_data["plain"]), "proxies": ["ngram"],
                      "trusted_path": str(own_data["trusted"]), "trusted_min_docs": 20,
                      "feedback": {"methods": ["reference_ppl"]},
                      "datamodels": {**TINY_CONFIG["datamodels"], "in_summary": False}})
    return workdir


def test_plain_text_with_trusted_sample_gives_a_verdict(own_data: dict[str, Path], plain_run: Path) -> None:
    out = plain_run / "results/plain"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"]["status"] == "ok"
    eval_set = summary["eval_set"]
    trusted = eval_set["trusted"]
    assert eval_set["source"] == "trusted" and trusted["docs"] == 100
    assert (trusted["eval_docs"] + trusted["reference_docs"] == 100
            and min(trusted["eval_docs"], trusted["reference_docs"]) >= 20)
    # the halves are disjoint, and pool copies of eval documents left the pool
    eval_texts = {record["text"] for record in read_jsonl(out / "data/eval.jsonl")}
    reference_texts = {record["text"] for record in read_jsonl(out / "data/trusted/reference.jsonl")}
    pool_texts = {record["text"] for record in read_jsonl(out / "data/pool.jsonl")}
    assert len(eval_texts) == trusted["eval_docs"] and not eval_texts & reference_texts
    assert not eval_texts & pool_texts
    trusted_texts = [record["text"] for record in read_jsonl(own_data["trusted"])]
    planted = trusted_texts[:TRUSTED_IN_POOL]
    assert eval_set["pool_duplicates_of_eval_dropped"] == len(set(planted) & eval_texts) >= 1
    # every near copy of an eval-half text left the pool (copies of the reference half's texts may stay)
    near_of_eval = {near_copy(text) for text in eval_texts} - {None}
    assert near_of_eval and not near_of_eval & pool_texts
    assert eval_set["pool_near_duplicates_of_eval_dropped"] >= len(near_of_eval)
    # the reference LM learnt from the reference half, and the verdict comes with intervals
    meta = json.loads((out / "feedback/models/reference/train_meta.json").read_text())
    assert meta["config"]["train"] == "results/plain/data/trusted/reference.jsonl"
    assert meta["train_docs"] == trusted["reference_docs"]
    markdown = (out / "summary.md").read_text()
    assert "feedback_reference_ppl" in summary["proxies"]["ngram"]["variants"]
    assert "No verdict on cleaning" not in markdown and "CI [" in markdown.splitlines()[2]
    assert "split by a stable hash into" in markdown
    # the quality classifier learnt the reference half: untagged data get its scores, no separation; the
    # trusted documents also in the pool are left out of their own fold's positives
    quality = summary["variants"]["raw"]["quality"]
    pool_docs = len(read_jsonl(out / "data/pool.jsonl"))
    assert quality["docs"] == pool_docs and quality["ci_low"] < quality["mean"] < quality["ci_high"]
    assert "separation" not in quality and "| quality score (CI) |" in markdown
    classifier_meta = json.loads((out / "feedback/classifier/train_meta.json").read_text())
    pool_normalized = {normalized(text) for text in pool_texts}
    reference = [record["text"] for record in read_jsonl(out / "data/trusted/reference.jsonl")]
    in_pool = sum(normalized(text) in pool_normalized for text in reference)
    assert sum(fold["positives_left_out_as_pool_documents_of_this_fold"]
               for fold in classifier_meta["per_fold"]) == in_pool


def test_plain_text_report_renders_in_chromium(plain_run: Path, tmp_path: Path) -> None:
    check_report_renders(plain_run / "report.html", "plain", ["1. Verdict", "2. Held-out bpb"], ["ngram"],
                         "2. Held-out bpb", tmp_path)


def test_the_validation_test_split_is_stable_and_keeps_near_duplicates_in_one_part(tmp_path: Path) -> None:
    words = EVAL_TEXT.split()
    texts = [f"eval document {index} on the harvest of the year {1900 + index}" for index in range(300)]
    # chains of near-duplicates: each shares 13 words with the next, not with the one after
    chain = [" ".join(words[start:start + 14]) + f" variant {start}" for start in range(0, 6)]
    texts += chain + [EVAL_TEXT.lower()]
    labels = validation_test_labels(texts, 0.5)
    assert labels == validation_test_labels(texts, 0.5, 13)  # the same texts always split the same way
    assert 110 < labels.count("validation") < 200 and set(labels) == {"validation", "test"}
    assert len({labels[texts.index(text)] for text in chain + [EVAL_TEXT.lower()]}) == 1
    evaluation = write_jsonl(tmp_path / "eval.jsonl", [{"text": text} for text in texts])
    out = tmp_path / "split.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts/split_eval.py"), "--eval", str(evaluation),
                           "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["labels"] == labels
    with pytest.raises(InputError) as error:
        check_split_sizes(validation_test_labels(texts[:1], 0.5), 0.5, "eval.jsonl")
    assert (str(error.value).startswith("eval.jsonl: the eval set has 1 documents")
            and "Fix:" in str(error.value))


def test_a_reference_overlapping_the_eval_set_loses_the_overlap(tmp_path: Path) -> None:
    """The reference's documents that share text with the eval set are left out and counted, as the
    pool's are; it is refused only when fewer than --reference-min-docs are left."""
    pool = write_jsonl(tmp_path / "pool.jsonl",
                       [{"body": f"pool document {i} about roads"} for i in range(5)])
    evaluation = write_jsonl(tmp_path / "eval.jsonl", [{"body": EVAL_TEXT}])
    rows = [{"body": "a clean reference text", "id": 1}, {"body": "Quote: " + EVAL_TEXT, "id": 2}]
    reference = write_jsonl(tmp_path / "reference.jsonl", rows)
    before = reference.read_bytes()

    def prepare(min_docs: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "scripts/prepare_input.py"), "--dataset", str(pool), "--eval",
             str(evaluation), "--text-key", "body", "--reference", str(reference), "--reference-text-key",
             "body", "--reference-min-docs", str(min_docs), "--out-reference", str(tmp_path / "r.jsonl"),
             "--out-pool", str(tmp_path / "p.jsonl"), "--out-eval", str(tmp_path / "e.jsonl"),
             "--out-eval-set", str(tmp_path / "eval_set.json")], capture_output=True, text=True)

    done = prepare(min_docs=1)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()] == [
        {"text": "a clean reference text", "id": 1}]
    report = json.loads((tmp_path / "eval_set.json").read_text())["reference"]
    assert report["docs"] == 2 and report["kept_docs"] == 1 and report["duplicates_of_eval_dropped"] == 0
    assert report["near_duplicates_of_eval_dropped"] == 1 and report["examples"][0].startswith("Quote: ")
    assert reference.read_bytes() == before  # the user's file is only read
    refused = prepare(min_docs=2)
    assert refused.returncode != 0
    assert (f"{reference}: 1 of its 2 reference documents duplicate or share 13 consecutive words"
            in refused.stderr)
    assert "leaves 1, fewer than trusted_min_docs=2" in refused.stderr and "Fix:" in refused.stderr


def test_early_proxy_verdict_waits_for_no_other_proxy(tiny_run: Path) -> None:
    """summary.ngram.md needs only the n-gram's models: the GPT's training is not in its plan."""
    target = f"results/{TINY_CONFIG['experiment']}/summary.ngram.md"
    jobs = planned_jobs(tiny_run, target, "--forceall", "--configfile", "test-config.yaml")
    assert jobs.get("train_ngram") and jobs.get("summarize_proxy") == 1
    assert "train_gpt" not in jobs and "provenance" not in jobs and "summarize" not in jobs
    # Snakemake runs a ready job of higher priority first but gives its inputs nothing: a rule of the
    # early verdict's plan without a priority waits behind every GPT training (split_eval once did,
    # and the demo's first verdict came after 12 min instead of 2).
    unprioritised = sorted(rule for rule in jobs if not rule_priority_declared(rule))
    assert unprioritised == [], f"rules the early verdict waits for, with no priority: {unprioritised}"
