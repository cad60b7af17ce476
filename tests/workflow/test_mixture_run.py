"""The mixture search on a user's plain text lines with a trusted sample (quality buckets, no tags): the
whole `mixture` target runs, adding a pool plans only that pool's jobs and the search's, and the
exported Data-Juicer config gives, under plain dj-process, the counts it claims (a pool of weight 0
none). Without a trusted sample the target is refused with the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import (
    BIN,
    REPO,
    TINY_CONFIG,
    copy_workflow,
    planned_jobs,
    rule_priority_declared,
    snakemake,
    write_config,
)
from sandbox.data.eval_set import no_clean_eval_message
from sandbox.mixture.export import dj_config, dj_sample_numbers

# The GPT's steps where it ranks pools and confirms the mixture: a budget (76.8 kB) above the pools' sizes.
GPT_STEPS = 300
# A count vector for which the counts themselves, as weights, make Data-Juicer give other counts.
ROUNDED_UP = [1910, 1533, 809, 923, 122, 225, 49, 525]


def write_lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_exported_config_under_dj_process_gives_the_claimed_counts(tmp_path: Path) -> None:
    # the last pool has 30 documents and is asked for 75: repeated 2.5 times (a neural proxy's mixture)
    counts = [*ROUNDED_UP, 0, 75]
    sizes = [count + 7 for count in counts[:-1]] + [30]
    assert dj_sample_numbers([float(count) for count in counts], sum(counts)) != counts
    paths = [str(write_lines(tmp_path / f"pool{k}.jsonl",
                             [{"text": f"pool {k} document {i}", "meta": {"pool": k}}
                              for i in range(size)]))
             for k, size in enumerate(sizes)]
    config = dj_config("test", paths, counts, str(tmp_path / "out/data.jsonl"), str(tmp_path / "work"))
    config_path = tmp_path / "mixture.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run([str(BIN / "dj-process"), "--config", str(config_path)], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (tmp_path / "out/data.jsonl").read_text(encoding="utf-8").splitlines()
    found = Counter(json.loads(line)["meta"]["pool"] for line in lines)
    assert [found.get(k, 0) for k in range(len(counts))] == counts
    once = [line for line in lines if json.loads(line)["meta"]["pool"] != len(counts) - 1]
    assert len(set(once)) == len(once)  # no document twice where a count is below its pool's size
    repeated = Counter(line for line in lines if json.loads(line)["meta"]["pool"] == len(counts) - 1)
    assert len(repeated) == 30 and sorted(set(repeated.values())) == [2, 3]  # every document 2 or 3 times


@pytest.fixture(scope="module")
def plain_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny demo's pool as plain {"text"} lines, and its eval and reference documents as the trusted
    sample."""
    folder = tmp_path_factory.mktemp("mixture-data")
    demo = TINY_CONFIG["demo"]
    subprocess.run([sys.executable, str(REPO / "scripts/prepare_demo.py"),
                    "--pool", str(folder / "pool.jsonl"),
                    "--eval", str(folder / "eval.jsonl"), "--reference", str(folder / "reference.jsonl"),
                    "--seed", str(demo["seed"]), "--pool-docs", "600", "--eval-docs", str(demo["eval_docs"]),
                    "--noise-fraction", str(demo["noise_fraction"]),
                    "--reference-docs", str(demo["reference_docs"])], check=True, capture_output=True)

    def texts(name: str) -> list[str]:
        return [json.loads(line)["text"] for line in (folder / f"{name}.jsonl").read_text().splitlines()]

    return {"plain": write_lines(folder / "plain.jsonl", [{"text": text} for text in texts("pool")]),
            "trusted": write_lines(folder / "trusted.jsonl",
                                   [{"text": text} for text in texts("eval") + texts("reference")])}


def mixture_config(workdir: Path, data: dict[str, Path], only: list[str], in_summary: bool = False,
                   gpt: bool = False) -> Path:
    """The plain-text run's config; gpt: the GPT (GPT_STEPS) confirms the mixture and ranks the pools."""
    proxies = ["ngram", "gpt"] if gpt else ["ngram"]
    return write_config(workdir, {
        **TINY_CONFIG, "experiment": "plainmix", "dataset_path": str(data["plain"]),
        "trusted_path": str(data["trusted"]), "trusted_min_docs": 20, "proxies": proxies,
        "train": {**TINY_CONFIG["train"], "steps": GPT_STEPS} if gpt else TINY_CONFIG["train"],
        "datamodels": {**TINY_CONFIG["datamodels"], "in_summary": False},
        "pools": {"base": "k_sigma", "by": "auto", "buckets": 0, "min_docs": 20, "only": only,
                  "swarm": {"members": 0, "members_per_job": 32, "concentration": 1.0,
                            "zero_probability": 0.2, "seed": 0},
                  "estimator": "loglinear", "holdout_every": 4, "bootstrap_samples": 200,
                  "proxies": proxies, "max_epochs": 4,
                  "in_summary": in_summary}})


def test_mixture_on_plain_text_runs_and_adding_a_pool_plans_only_its_jobs(
        plain_data: dict[str, Path], tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "run")
    out = workdir / "results/plainmix/pools"
    config = mixture_config(workdir, plain_data, [])
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config), "--",
                       "results/plainmix/pools/index.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    index = json.loads((out / "index.json").read_text())
    pools = {entry["name"]: entry["bytes"] for entry in index["pools"]}
    # untagged text, a trusted sample: auto splits by the quality classifier's score, four buckets
    assert index["by"] == ["quality"] and sorted(pools) == [f"quality_q{k}" for k in range(1, 5)]
    assert all("noise_share" not in entry for entry in index["pools"])
    largest = max(pools, key=pools.get)
    config = mixture_config(workdir, plain_data, sorted(set(pools) - {largest}))
    result = snakemake(workdir, "mixture", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    summary = json.loads((out / "summary.json").read_text())
    markdown = (out / "summary.md").read_text()
    assert markdown.splitlines()[2].startswith("**ngram**: `mixture` ")
    for reference in ("natural", "uniform", "best_pool", "raw", "k_sigma"):
        assert summary["proxies"]["ngram"]["comparisons"][reference]["ci_low"] is not None, reference
    assert [entry["pool"] for entry in summary["fit"]["pools"]] == sorted(set(pools) - {largest})
    assert summary["fit"]["members"]["held_out"] >= 16 and "Spearman" in markdown
    for counts in summary["counts"]:
        assert all(row["claimed"] == row["found"] for row in counts["pools"]), counts
    config_file = Path(workdir / summary["configs"]["mixture"])
    assert "max_sample_num" in yaml.safe_load(config_file.read_text())["dataset"]
    # DJ-Sandbox's manipulations: the top two combined, every pool merged, downsampled, one duplicated
    searched = sorted(set(pools) - {largest})
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config), "--", "pools",
                       f"results/plainmix/pools/duplicated/{searched[0]}.x2.jsonl")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    def lines(path: Path) -> list[str]:
        return path.read_text().splitlines()

    top = [entry["pool"] for entry in summary["ranking"]["ranking"][:2]]
    assert lines(out / "combined/top2.jsonl") == lines(out / f"parts/{top[0]}.jsonl") + lines(
        out / f"parts/{top[1]}.jsonl")
    assert sorted(lines(out / "merged.jsonl")) == sorted(
        line for name in searched for line in lines(out / f"parts/{name}.jsonl"))
    smallest = min(len(lines(out / f"parts/{name}.jsonl")) for name in searched)
    assert {len(lines(out / f"downsampled/{name}.jsonl")) for name in searched} == {smallest}
    assert lines(out / f"duplicated/{searched[0]}.x2.jsonl") == 2 * lines(out / f"parts/{searched[0]}.jsonl")
    # pools.in_summary: `mixture` is a candidate of the main summary, which gains the search's section
    config = mixture_config(workdir, plain_data, searched, in_summary=True)
    early = planned_jobs(workdir, "--forceall", "--configfile", str(config), "--",
                         "results/plainmix/summary.ngram.md")
    assert early.get("pools_split") == 1, early  # the rest of the chain comes after the checkpoint
    after_checkpoint = ["mixture_swarm", "mixture_fit", "mixture_export", "mixture_process"]
    unprioritised = sorted(rule for rule in [*early, *after_checkpoint] if not rule_priority_declared(rule))
    assert unprioritised == [], f"rules the early verdict waits for, with no priority: {unprioritised}"
    result = snakemake(workdir, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    main = json.loads((workdir / "results/plainmix/summary.json").read_text())
    assert "mixture" in main["proxies"]["ngram"]["variants"] and "natural" not in main["variants"]
    assert main["pools"]["fit"]["pools"] == summary["fit"]["pools"]
    markdown = (workdir / "results/plainmix/summary.md").read_text()
    assert "| mixture |" in markdown and "## Mixture of data pools" in markdown
    assert "**ngram**: `mixture` " in markdown
    assert "Mixture of data pools" in (workdir / "results/plainmix/report/verdict.html").read_text()
    assert (workdir / "results/plainmix/report/mixture.png").stat().st_size > 10_000
    # a neural proxy: it ranks the pools too (pools.proxies) on each pool cut to the smallest's bytes, and
    # trains the mixtures exported at its own budget, pools repeated up to max_epochs times
    config = mixture_config(workdir, plain_data, searched, gpt=True)
    result = snakemake(workdir, "mixture", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranking"]["proxy"] == "ngram" and summary["ranking"]["picks_best_pool"]
    by_gpt = summary["rankings"]["gpt"]
    assert sorted(entry["pool"] for entry in by_gpt["ranking"]) == searched and not by_gpt["picks_best_pool"]
    assert all(entry["vs_top"]["ci_low"] is not None for entry in by_gpt["ranking"][1:])
    cut_bytes = [sum(len(json.loads(line)["text"].encode()) + 1
                     for line in lines(out / f"rank/data/{name}.jsonl")) for name in searched]
    assert max(cut_bytes) <= by_gpt["budget_bytes"]
    claims = {claim["name"]: claim for claim in summary["claims_at_proxy_budget"]["gpt"]}
    budget = GPT_STEPS * TINY_CONFIG["train"]["batch_size"] * TINY_CONFIG["train"]["seq_len"]
    assert claims["mixture"]["budget_bytes"] == budget and claims["mixture"]["max_epochs"] == 4
    assert max(pool["epochs"] for pool in claims["mixture"]["pools"]) > 1  # a pool repeated
    assert all(pool["epochs"] <= 4 for claim in claims.values() for pool in claim["pools"])
    gpt_data = lines(out / "variants/mixture/gpt/data.jsonl")
    assert len(gpt_data) == claims["mixture"]["docs"] > len(set(gpt_data))
    meta = json.loads((workdir / "results/plainmix/models/gpt/mixture/seed0/train_meta.json").read_text())
    assert meta["train_docs"] == len(gpt_data) != len(lines(out / "variants/mixture/data.jsonl"))
    assert "`gpt` trained `mixture`, `natural` and `uniform` exported at its own budget" in (
        out / "summary.md").read_text()
    assert summary["proxies"]["gpt"]["epochs"]["mixture"] is not None
    # the largest pool joins: its ranking job, the search and the confirmation rerun, nothing upstream
    config = mixture_config(workdir, plain_data, [])
    planned = planned_jobs(workdir, "mixture", "--configfile", str(config))
    assert planned.get("pool_rank_train") == 1, planned
    assert not {"pools_split", "process", "analyze", "prepare_input", "feedback_classifier"} & set(planned)
    assert planned.get("train_ngram", 0) <= 4 * len(TINY_CONFIG["seeds"]), planned


def test_mixture_without_trusted_sample_on_untagged_data_is_refused(plain_data: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "run")
    config = write_config(workdir, {**TINY_CONFIG, "experiment": "notrust",
                                    "dataset_path": str(plain_data["plain"])})
    result = snakemake(workdir, "mixture", "-n", "--configfile", str(config))
    assert result.returncode != 0
    assert "pools.by: auto splits by the quality classifier's score" in result.stdout + result.stderr
    assert "Fix: set trusted_path" in result.stdout + result.stderr
    # pools by a Data-Juicer stat need no trusted sample: the search runs, and with the eval set split
    # from the pool the summary says that it cannot judge cleaning, as the main summary does
    pools = {**TINY_CONFIG["pools"], "by": ["stat:text_len"], "buckets": 2, "min_docs": 20}
    config = write_config(workdir, {**TINY_CONFIG, "experiment": "notrust",
                                    "dataset_path": str(plain_data["plain"]), "pools": pools})
    result = snakemake(workdir, "mixture", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    summary = json.loads((workdir / "results/notrust/pools/summary.json").read_text())
    assert summary["judges_cleaning"] is False and summary["index"]["by"] == ["stat:text_len"]
    assert no_clean_eval_message() in (workdir / "results/notrust/pools/summary.md").read_text()
    # the main target goes on without `mixture`, and says why
    config = write_config(workdir, {**TINY_CONFIG, "experiment": "notrust",
                                    "dataset_path": str(plain_data["plain"]),
                                    "pools": {**TINY_CONFIG["pools"], "in_summary": True}})
    result = snakemake(workdir, "-n", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pools.in_summary: the mixture search is skipped" in result.stdout + result.stderr
    assert "variant=mixture" not in result.stdout
