"""The whole loop on a tiny config with real Snakemake, Data-Juicer and torch, and what reruns when.

Rerun checks read Snakemake's own dry-run plan after the tiny run has finished (on the test's own copy
where they change it). Removal attribution in process is in unit/test_removals.py.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import TINY_CONFIG, planned_jobs, snakemake, workflow_env
from sandbox.summary.table import inline_html

OUT = Path("results") / TINY_CONFIG["experiment"]
CONFIG = "test-config.yaml"
# the tiny run reports its datamodels in the summary (datamodels.in_summary): n-gram models too
DATAMODEL_JOBS = {"datamodels_train", "datamodels_store", "datamodels_fit"}
# the report's figures (rules/report.smk) are redrawn whenever what they show is redone
REPORT_JOBS = {"report_verdict", "plot_bpb", "plot_thresholds", "plot_removals", "plot_loss"}


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_summary_has_finite_metrics_for_every_variant_and_proxy(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    assert set(summary["variants"]) == {"raw", "recipe", "k_sigma", "oracle"}
    for name, variant in summary["variants"].items():
        assert 0 < variant["kept_fraction"] <= 1, name
        assert 0 <= variant["noise_removal"]["recall"] <= 1, name
    assert summary["variants"]["raw"]["kept_fraction"] == 1.0
    oracle_noise = summary["variants"]["oracle"]["noise_removal"]
    assert oracle_noise["precision"] == 1.0 and oracle_noise["recall"] == 1.0
    assert list(summary["proxies"]) == ["ngram", "gpt"]
    for proxy, result in summary["proxies"].items():
        for name, variant in result["variants"].items():
            assert math.isfinite(variant["heldout_bpb"]) and variant["heldout_bpb"] > 0, (proxy, name)
            assert "fraction_of_oracle_gain" in variant, (proxy, name)
        assert set(result["comparisons"]) == {"recipe_vs_raw", "k_sigma_vs_raw", "oracle_vs_raw",
                                              "recipe_vs_k_sigma", "oracle_vs_k_sigma"}
        assert result["verdict"].startswith(proxy) and result["verdict"] in summary["verdict"]["text"]
    assert summary["agreement"]["line"] in summary["verdict"]["text"]
    assert summary["verdict"]["status"] == "ok" and summary["eval_set"]["source"] == "demo"
    assert set(summary["agreement"]["kendall_tau"]) == {"ngram~gpt"}
    markdown = (tiny_run / OUT / "summary.md").read_text()
    assert "| k_sigma |" in markdown and "## Proxy `ngram`" in markdown and "## Proxy `gpt`" in markdown


def test_summary_and_verdict_page_open_with_the_verdicts(tiny_run: Path) -> None:
    """summary.md and the report's verdict page: the first heading's next line is the first proxy's
    verdict, the agreement follows the verdicts, the method notes come after the tables, and code spans
    render as code on the page (no raw backticks)."""
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    opening = summary["verdict"]["text"].splitlines()
    # a disagreement opens the text (sandbox.summary.verdict.verdict_lines); otherwise the first proxy
    first_proxy = next(iter(summary["proxies"].values()))["verdict"]
    disagree = summary["agreement"]["disagree"]
    assert opening[0] == (summary["agreement"]["line"] if disagree else first_proxy)
    assert disagree or opening[-1] == summary["agreement"]["line"]
    markdown = (tiny_run / OUT / "summary.md").read_text().splitlines()
    assert markdown[0].startswith("# ") and markdown[2] == f"**{opening[0]}**"
    assert markdown[3:2 + len(opening)] == opening[1:]
    text = "\n".join(markdown)
    assert text.index("## Proxy `gpt`") < text.index("Intervals are paired intervals")
    page = (tiny_run / OUT / "report/verdict.html").read_text(encoding="utf-8")
    after_heading = page.split("</h1>", 1)[1]
    assert after_heading.startswith("<p class='verdict'>" + inline_html(opening[0]) + "</p>")
    assert page.index("<h2>") < page.index("Intervals are paired intervals")
    body = page.split("<body>", 1)[1]
    assert "`" not in body, "raw backticks on the verdict page"


def test_seeds_are_paired_and_averaged(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    for proxy, result in summary["proxies"].items():
        for name, variant in result["variants"].items():
            per_seed = variant["heldout_bpb_per_seed"]
            assert set(per_seed) == {"0", "1"}, (proxy, name)
            seed0 = tiny_run / OUT / "models" / proxy / name / "seed0/train_meta.json"
            if proxy == "ngram" and json.loads(seed0.read_text())["epochs"] == 1.0:
                # a variant no larger than the n-gram's budget is used whole: every seed the same model
                assert per_seed["0"] == per_seed["1"], f"{proxy} {name}: the whole variant, yet seeds differ"
            else:
                assert per_seed["0"] != per_seed["1"], f"{proxy} {name}: two seeds gave identical models"
            assert math.isclose(variant["heldout_bpb"], (per_seed["0"] + per_seed["1"]) / 2)
            for seed in ("0", "1"):
                meta_path = tiny_run / OUT / "models" / proxy / name / f"seed{seed}" / "train_meta.json"
                meta = json.loads(meta_path.read_text())
                assert math.isclose(meta["heldout_bpb"], per_seed[seed], rel_tol=1e-9), \
                    "train and evaluate disagree"
        comparison = result["comparisons"]["k_sigma_vs_raw"]
        differences = [result["variants"]["k_sigma"]["test_bpb_per_seed"][s]
                       - result["variants"]["raw"]["test_bpb_per_seed"][s] for s in ("0", "1")]
        assert (comparison["n_seeds"] == 2
                and math.isclose(comparison["mean_difference"], sum(differences) / 2))
        assert comparison["ci_low"] <= comparison["mean_difference"] <= comparison["ci_high"]
        assert comparison["n"] == 2 and comparison["df"] >= 1
        assert comparison["mde_percent"] > 0 and comparison["significant"] is not None


def test_the_best_variant_is_chosen_on_validation_and_reported_on_test(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    split = json.loads((tiny_run / OUT / "data/eval_split.json").read_text())
    assert summary["eval_split"] == split["docs"] and min(split["docs"].values()) > 0
    for proxy, result in summary["proxies"].items():
        candidates = {name: variant for name, variant in result["variants"].items()
                      if name not in ("raw", "oracle")}
        selected = min(candidates, key=lambda name: candidates[name]["validation_bpb"])
        assert result["selected_on_validation"] == selected
        assert f"`{selected}`, selected on validation" in result["verdict"]
        assert all(comparison["n_docs"] == split["docs"]["test"]
                   for comparison in result["comparisons"].values())
        for name, variant in result["variants"].items():
            for seed, whole in variant["heldout_bpb_per_seed"].items():
                parts = sorted((variant["validation_bpb_per_seed"][seed], variant["test_bpb_per_seed"][seed]))
                assert parts[0] <= whole <= parts[1], (proxy, name, seed)
        # both proxies depend on the seed: the verdict's interval is adjusted for the choice
        adjusted = result["selected_vs_raw_adjusted"]
        assert adjusted["adjusted_for_choosing_among"] == len(candidates) == 2
        assert adjusted["confidence"] == pytest.approx(1 - 0.05 / 2)
        assert "adjusted for choosing 1 of 2 variants" in result["verdict"]
    assert "| recipe (selected) |" in (tiny_run / OUT / "summary.md").read_text() or \
        "| k_sigma (selected) |" in (tiny_run / OUT / "summary.md").read_text()


def data_size(path: Path) -> int:
    """Stream symbols of a JSONL file, counted here: UTF-8 bytes plus one separator per document."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(len(json.loads(line)["text"].encode("utf-8")) + 1 for line in lines if line.strip())


def test_each_proxy_trains_on_its_own_budget(tiny_run: Path) -> None:
    train = TINY_CONFIG["train"]
    gpt_budget = train["steps"] * train["batch_size"] * train["seq_len"]
    # the n-gram's: the smallest judged variant (raw, recipe, k_sigma; not the oracle), under the cap
    sizes = {"raw": data_size(tiny_run / OUT / "data/pool.jsonl"),
             **{variant: data_size(tiny_run / OUT / f"processed/{variant}/data.jsonl")
                for variant in ("recipe", "k_sigma")}}
    budget_file = json.loads((tiny_run / OUT / "models/ngram/budget.json").read_text())
    smallest = min(sizes, key=sizes.get)
    assert budget_file["sizes"] == sizes and budget_file["smallest"] == smallest
    ngram_budget = budget_file["budget_bytes"]
    assert ngram_budget == sizes[smallest] < 8_000_000 and f"`{smallest}`" in budget_file["why"]
    metas = {proxy: json.loads((tiny_run / OUT / "models" / proxy
                                / "k_sigma/seed0/train_meta.json").read_text())
             for proxy in ("ngram", "gpt")}
    budgets = {"ngram": ngram_budget, "gpt": gpt_budget}
    for proxy, meta in metas.items():
        assert meta["tokens_budget"] == budgets[proxy], proxy
        # what each model actually saw, against its own count of the data
        assert meta["train_symbols"] <= budgets[proxy], proxy
        assert meta["distinct_train_bytes"] <= meta["train_bytes"], proxy
    ngram, gpt = metas["ngram"], metas["gpt"]
    # the n-gram never repeats a document: at most the whole variant, once
    assert ngram["train_symbols"] == min(ngram_budget, sizes["k_sigma"])
    assert ngram["train_symbols"] == ngram["distinct_train_bytes"] + ngram["budget_docs"]
    seen = ngram["train_bytes"] + ngram["train_docs"]
    assert ngram["epochs"] == pytest.approx(ngram["train_symbols"] / seen)
    # the GPT's short first and last windows leave at most two windows' worth unfilled
    assert gpt_budget - 2 * train["seq_len"] < gpt["train_symbols"]
    assert gpt["epochs"] == pytest.approx(gpt["train_symbols"] / (gpt["train_bytes"] + gpt["train_docs"] - 1))
    provenance = json.loads((tiny_run / OUT / "provenance.json").read_text())
    assert provenance["budgets"]["ngram"]["budget"] == [ngram_budget]
    assert provenance["budgets"]["gpt"]["budget"] == [gpt_budget]
    # the summary's data table shows each proxy's distinct bytes and epochs
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    for proxy in ("ngram", "gpt"):
        evaluated = summary["proxies"][proxy]["variants"]["k_sigma"]
        assert evaluated["train_epochs_per_seed"]["0"] == metas[proxy]["epochs"], proxy
    markdown = (tiny_run / OUT / "summary.md").read_text()
    assert "| `ngram`: distinct bytes × epochs | `gpt`: distinct bytes × epochs |" in markdown


def test_adding_a_seed_plans_only_that_seeds_jobs(tiny_run: Path) -> None:
    result = snakemake(tiny_run, "-n", "--configfile", CONFIG, "--config", "seeds=[0,1,2]")
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", "seeds=[0,1,2]")
    assert jobs["train_gpt"] == jobs["train_ngram"] == jobs["infer"] == 4
    assert set(jobs) <= {"train_gpt", "train_ngram", "infer", "evaluate", "provenance", "summarize",
                         "summarize_proxy", "all", *REPORT_JOBS}, jobs
    model_outputs = [line for line in result.stdout.splitlines()
                     if line.strip().startswith("output:") and "/models/" in line]
    assert len(model_outputs) == 8 and all("/seed2/" in line for line in model_outputs)
    # the n-gram's own seeds (ngram.seeds, a count): its third seed plans only n-gram jobs
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", "ngram={seeds: 3}")
    assert jobs["train_ngram"] == 4 and "train_gpt" not in jobs and "infer" not in jobs, jobs


def test_adding_a_proxy_plans_only_that_proxys_jobs(tiny_run_copy: Path, tmp_path: Path) -> None:
    # Without the GPT's outputs the tiny run looks like a run with proxies=[ngram]: nothing to train
    # for that config, and adding gpt plans the GPT's jobs and no n-gram job.
    gpt_outputs = [OUT / "models/gpt", OUT / "eval/gpt", OUT / "infer"]
    for index, path in enumerate(gpt_outputs):
        (tiny_run_copy / path).rename(tmp_path / str(index))
    try:
        only_ngram = planned_jobs(tiny_run_copy, "--configfile", CONFIG, "--config", "proxies=[ngram]")
        assert set(only_ngram) <= {"provenance", "summarize", "all", *REPORT_JOBS}, only_ngram
        jobs = planned_jobs(tiny_run_copy, "--configfile", CONFIG)
        assert jobs.get("train_gpt") == jobs.get("infer") == 8 and jobs.get("evaluate") == 4, jobs
        assert set(jobs) - REPORT_JOBS == {"train_gpt", "infer", "evaluate", "provenance", "summarize",
                                           "summarize_proxy", "all"}, jobs
        assert jobs.get("plot_loss") == 1 and "plot_removals" not in jobs, jobs
    finally:
        for index, path in enumerate(gpt_outputs):
            (tmp_path / str(index)).rename(tiny_run_copy / path)
    assert planned_jobs(tiny_run_copy, "--configfile", CONFIG) == {}


def test_oracle_trains_on_clean_documents_only(tiny_run: Path) -> None:
    oracle = [json.loads(line) for line in (tiny_run / OUT / "data/oracle.jsonl").read_text().splitlines()]
    pool = [json.loads(line) for line in (tiny_run / OUT / "data/pool.jsonl").read_text().splitlines()]
    assert oracle and all(record["meta"]["origin"] == "clean" for record in oracle)
    assert len(oracle) == sum(record["meta"]["origin"] == "clean" for record in pool)


def test_summary_names_its_provenance(tiny_run: Path) -> None:
    import hashlib

    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    provenance_path = tiny_run / summary["provenance"]["path"]
    assert hashlib.sha256(provenance_path.read_bytes()).hexdigest() == summary["provenance"]["sha256"]
    provenance = json.loads(provenance_path.read_text())
    assert provenance["seeds"] == [0, 1]
    assert provenance["versions"]["data_juicer"] == ["1.6.1"]
    assert provenance["versions"]["torch"][0].startswith("2.13.0")
    assert provenance["versions"]["numpy"][0] == "2.4.6", "the n-gram jobs report their numpy"
    locks = {f"envs/locks/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
             for path in (tiny_run / "envs/locks").glob("*.txt")}
    assert len(locks) == len(list((tiny_run / "envs").glob("*.yaml"))) + 1  # one per env, and venv.txt
    assert provenance["locks"] == locks
    assert provenance["metrics"]["heldout_bpb"]["version"] == "v3"
    assert provenance["metrics"]["paired_comparison"]["version"] == "v2"
    # the eval split's labels decide which documents every reported number covers
    assert set(provenance["inputs"]) == {f"{OUT}/demo/pool.jsonl", f"{OUT}/demo/eval.jsonl",
                                         f"{OUT}/data/eval_split.json"}


def test_refined_thresholds_are_mean_plus_minus_k_sigma(tiny_run: Path) -> None:
    k = yaml.safe_load((tiny_run / "config" / "config.yaml").read_text())["k_sigma"]
    overall = json.loads((tiny_run / OUT / "analysis/raw/overall.json").read_text())
    refined = yaml.safe_load((tiny_run / OUT / "recipes/k_sigma.yaml").read_text())["process"]
    with (tiny_run / OUT / "recipes/k_sigma_thresholds.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert rows, "the demo recipe has filters with stats, so some thresholds must change"
    for row in rows:
        stat = overall[row["stat"]]
        bound = (stat["mean"] - k * stat["std"] if row["arg"].startswith("min")
                 else stat["mean"] + k * stat["std"])
        upper = 1.0 if row["stat"].endswith("_ratio") else math.inf
        expected = min(max(bound, 0.0), upper)
        new = refined[int(row["op_index"])][row["op_name"]][row["arg"]]
        if isinstance(new, int):
            expected = math.ceil(expected) if row["arg"].startswith("min") else math.floor(expected)
            assert new == expected, row
        else:
            assert math.isclose(new, expected, rel_tol=1e-9), row


def test_per_op_counts_add_up_to_the_processed_lines(tiny_run: Path) -> None:
    for variant in ("recipe", "k_sigma"):
        folder = tiny_run / OUT / "processed" / variant
        counts = json.loads((folder / "op_counts.json").read_text())
        removed_total = sum(op["removed"] for op in counts["ops"])
        assert counts["input_docs"] - removed_total == lines(folder / "data.jsonl") == counts["output_docs"]
        assert counts["input_docs"] == lines(tiny_run / OUT / "data/pool.jsonl")
        removed_rows = [json.loads(line) for line in (folder / "removed.jsonl").read_text().splitlines()]
        assert len(removed_rows) == removed_total
        for op in counts["ops"]:
            by_this_op = [row for row in removed_rows if row["op_index"] == op["op_index"]]
            assert len(by_this_op) == op["removed"], op


def test_analysis_and_probe_outputs(tiny_run: Path) -> None:
    for stage in ("raw", "recipe", "k_sigma"):
        overall = json.loads((tiny_run / OUT / "analysis" / stage / "overall.json").read_text())
        plots = {path.name for path in (tiny_run / OUT / "analysis" / stage / "plots").iterdir()}
        for stat in overall:
            assert f"{stat}-hist.png" in plots, (stage, stat)
    near = json.loads((tiny_run / OUT / "processed/k_sigma/near_threshold.json").read_text())
    assert near["filters"] and all(entry["removed"] or entry["kept"] for entry in near["filters"])
    hardest = tiny_run / OUT / "infer/raw/seed0/hardest.jsonl"
    assert lines(hardest) == TINY_CONFIG["infer"]["hardest"]
    assert lines(tiny_run / OUT / "infer/raw/seed0/probe.jsonl") == TINY_CONFIG["infer"]["probe_docs"]


def test_no_change_means_nothing_to_do(tiny_run: Path) -> None:
    assert planned_jobs(tiny_run, "--configfile", CONFIG) == {}


@pytest.mark.parametrize("tracking", [["tracking=wandb"], ["wandb_project=another-project"]])
def test_tracking_settings_retrain_nothing(tiny_run: Path, tracking: list[str]) -> None:
    # Only the record of the config in effect (provenance.json), the summary naming it and the
    # report pages drawn from the summary are redone.
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", *tracking)
    assert jobs == {"provenance": 1, "summarize": 1, "report_verdict": 1, "plot_bpb": 2, "all": 1}


def test_changed_train_parameter_reruns_only_model_and_evaluation(tiny_run: Path) -> None:
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", "train={steps: 9}")
    # the n-gram's budget is its own (the data's), so no n-gram model retrains, nor the datamodels'
    assert jobs.get("train_gpt") == 8 and "train_ngram" not in jobs
    assert set(jobs) <= {"train_gpt", "infer", "evaluate", "provenance", "summarize", "summarize_proxy",
                         "all", *REPORT_JOBS}, jobs


def test_changed_ngram_order_reruns_only_ngram_models(tiny_run: Path) -> None:
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", "ngram={order: 3}")
    assert jobs.get("train_ngram") == 8 and "train_gpt" not in jobs and "infer" not in jobs
    assert set(jobs) <= {"train_ngram", "evaluate", "provenance", "summarize", "summarize_proxy", "all",
                         *DATAMODEL_JOBS, *REPORT_JOBS}, jobs


def test_changed_k_reruns_refinement_downstream_but_not_raw_analysis(tiny_run: Path) -> None:
    result = snakemake(tiny_run, "-n", "--configfile", CONFIG, "--config", "k_sigma=2.5")
    jobs = planned_jobs(tiny_run, "--configfile", CONFIG, "--config", "k_sigma=2.5")
    assert jobs.get("refine_k_sigma") == 1 and jobs.get("process") == 1
    assert jobs.get("train_gpt") == 2
    # k_sigma's size is one of those that set the n-gram's budget: it is measured again, and every
    # n-gram model reads it (a model costs about a second)
    assert jobs.get("ngram_budget") == 1 and jobs.get("train_ngram") == 8
    assert jobs.get("analyze") == 1, "only the k_sigma variant's analysis reruns"
    assert "analysis/raw/" not in "".join(line for line in result.stdout.splitlines()
                                          if line.strip().startswith("output:"))
    assert "prepare_input" not in jobs and "check_recipe" not in jobs


def test_edited_recipe_reruns_analysis_and_everything_downstream(tiny_run_copy: Path) -> None:
    recipe = tiny_run_copy / "config/recipes/demo.yaml"
    before = recipe.stat()
    original = recipe.read_text()
    try:
        recipe.write_text(original.replace("max_ratio: 0.4", "max_ratio: 0.35"))
        jobs = planned_jobs(tiny_run_copy, "--configfile", CONFIG)
    finally:
        recipe.write_text(original)
        os.utime(recipe, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert jobs.get("check_recipe") == 1 and jobs.get("analyze") == 3 and jobs.get("refine_k_sigma") == 1
    # Both processed variants retrain; raw's GPT does not depend on the recipe; the n-gram's budget is
    # measured again and so every n-gram model retrains.
    assert jobs.get("process") == 2 and jobs.get("train_gpt") == 4 and jobs.get("train_ngram") == 8
    assert jobs.get("summarize") == 1
    assert "prepare_input" not in jobs and "prepare_demo" not in jobs
    assert planned_jobs(tiny_run_copy, "--configfile", CONFIG) == {}, "restoring the recipe restores the plan"


def run_process(tiny_run: Path, analyzed_recipe: Path, out: Path, *extra: str) -> dict:
    """Run the process script on the tiny run's pool and k_sigma recipe; return its op counts."""
    command = [
        sys.executable, "scripts/process.py", "--variant", "k_sigma",
        "--recipe", str(OUT / "recipes/k_sigma.yaml"), "--analyzed-recipe", str(analyzed_recipe),
        "--pool", str(OUT / "data/pool.jsonl"), "--pool-with-stats",
        str(OUT / "analysis/raw/with_stats.jsonl"),
        "--stats-cache", str(OUT / "analysis/raw/stats.parquet"), "--out-data", str(out / "data.jsonl"),
        "--out-counts", str(out / "op_counts.json"),
        "--out-removed", str(out / "removed.jsonl"), "--np", "1", *extra,
    ]
    result = subprocess.run(command, cwd=tiny_run, env=workflow_env(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "op_counts.json").read_text())


def test_every_path_removes_and_attributes_like_data_juicers_tracer(tiny_run: Path, tmp_path: Path) -> None:
    # The same k_sigma variant three ways: the mask path (cached stats and hashes, no executor); the
    # executor on the plain pool, attributing removals from the stats the filters compute for the
    # removed documents (an analyzed recipe that differs in a non-threshold argument makes the raw
    # stats unusable); and the executor with Data-Juicer's tracer recording every removal.
    recipe = yaml.safe_load((tiny_run / OUT / "recipes/recipe.yaml").read_text())
    for entry in recipe["process"]:
        if "document_deduplicator" in entry:
            entry["document_deduplicator"]["lowercase"] = not entry["document_deduplicator"].get("lowercase",
                                                                                                 False)
    other = tmp_path / "other-analyzed.yaml"
    other.write_text(yaml.safe_dump(recipe, sort_keys=False))

    by_masks = run_process(tiny_run, OUT / "recipes/recipe.yaml", tmp_path / "masks")
    by_computed_stats = run_process(tiny_run, other, tmp_path / "computed")
    by_tracer = run_process(tiny_run, other, tmp_path / "tracer", "--trace")

    assert (by_masks["path"], by_computed_stats["path"], by_tracer["path"]) == ("mask", "executor",
                                                                                "executor")
    assert (by_computed_stats["removals_attributed_by"]
            == "filter decisions on stats computed for removed documents")
    assert by_tracer["removals_attributed_by"] == "tracer"
    assert by_masks["ops"] == by_computed_stats["ops"] == by_tracer["ops"]

    def labels(folder: Path) -> list[tuple[int, str]]:
        rows = [json.loads(line) for line in (folder / "removed.jsonl").read_text().splitlines()]
        return [(row["sandbox_row"], row["removed_by"]) for row in rows]

    def kept(folder: Path) -> list[dict]:
        return [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]

    assert labels(tmp_path / "masks") == labels(tmp_path / "computed") == labels(tmp_path / "tracer")
    assert kept(tmp_path / "masks") == kept(tmp_path / "computed") == kept(tmp_path / "tracer")
    assert len({op
                for _, op in labels(tmp_path
                                    / "masks")}) > 1, "the tiny k_sigma recipe should remove by several ops"


def test_a_failed_rerun_marks_the_summary_stale_until_a_complete_run(tiny_run_copy: Path) -> None:
    workdir = tiny_run_copy
    script = workdir / "scripts/sandbox/proxies/train_ngram.py"
    original = script.read_text()
    # every n-gram model reruns (Snakemake deletes their old outputs first), and fails while training
    # (not on import: Snakemake imports the trainer modules while it builds the DAG)
    fit = "    def fit(self, args: argparse.Namespace, documents: list[bytes]) -> dict[str, Any]:\n"
    assert fit in original
    script.write_text(original.replace(fit, fit + "        raise SystemExit('broken on purpose')\n"))
    result = snakemake(workdir, "--cores", "2", "--configfile", CONFIG, "--forcerun", "train_ngram")
    assert result.returncode != 0
    summary_md = (workdir / OUT / "summary.md").read_text()
    stale = json.loads((workdir / OUT / "summary.json").read_text())["stale"]
    assert summary_md.startswith("> **Stale**")
    assert stale["missing"] and all(not (workdir / path).exists() for path in stale["missing"])
    assert any("models/ngram/" in path for path in stale["missing"])

    script.write_text(original)
    result = snakemake(workdir, "--cores", "2", "--configfile", CONFIG)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (workdir / OUT / "summary.md").read_text().startswith("> **Stale**")
    assert "stale" not in json.loads((workdir / OUT / "summary.json").read_text())
