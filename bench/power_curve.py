"""The n-gram verdict's power by budget and seed count, on a finished run's data.

Trains the n-gram proxy (sandbox.proxies.train_ngram.NgramTrainer, the trainer rule train_ngram runs)
on raw (data/pool.jsonl), the oracle (data/oracle.jsonl, if present) and every candidate variant
(processed/<variant>/data.jsonl: the recipe, k_sigma and the feedback variants; HPO trials are left
out) at each budget of --budgets and seeds 0..max(--seeds)-1, then, for each (budget, seeds) point,
computes what the summary would (sandbox.summary.verdict): the variant selected on validation, its
comparison with raw on test at the confidence adjusted for choosing 1 of the candidates
(selection_comparison), that comparison's minimum detectable effect, interval and the seed and document
parts of its standard error, the seed std of raw's test bpb, and the oracle's gap to raw on test.

A budget is stream symbols (bytes plus one separator per document); `auto` is the smallest variant's
size among raw and the candidates (the n-gram's own budget, before any ngram.max_budget_bytes cap), so
that every variant but the smallest is subsampled, each seed differently. The cost of a point is the
training and scoring seconds of the models it uses (train_meta.json's seconds + eval_seconds) and
their wall seconds in this process (reading the data included), each model trained one after another.

Trained models' heldout.jsonl and train_meta.json are cached under --cache (<budget>/<variant>/seed<N>),
so adding a budget or seeds trains only what is new. Where a budget and seed count equal the run's own
n-gram models, the point is checked against the run's summary.ngram.json (or summary.json).

Run from the repository root:
  .venv/bin/python bench/power_curve.py --run results/demo --budgets auto 1228800 --seeds 3 5 10 20 \\
      --out bench/results/power_demo.md
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from sandbox.data.eval_set import read_split_labels  # noqa: E402
from sandbox.proxies.train_ngram import NgramTrainer  # noqa: E402
from sandbox.proxies.trainer import training_documents  # noqa: E402
from sandbox.stats.bootstrap import aligned, paired_comparison, read_scores  # noqa: E402
from sandbox.summary.evaluation import evaluation  # noqa: E402
from sandbox.summary.verdict import candidates_of, scores_of, selected_variant, selection_comparison  # noqa: E402
from sandbox.workflow.variants import ORACLE, RAW, is_feedback, is_recipe_variant  # noqa: E402

PROXY = "ngram"
AUTO = "auto"


@dataclass(frozen=True)
class Model:
    """One trained n-gram: where its files are and what it cost."""

    heldout: Path
    meta: dict[str, Any]
    wall_seconds: float

    @property
    def seconds(self) -> float:
        """Training plus scoring seconds, as train_meta.json states them."""
        return float(self.meta["seconds"]) + float(self.meta["eval_seconds"])


def training_files(run: Path) -> dict[str, Path]:
    """Each variant's training data in a finished run: raw, the oracle if present, every candidate."""
    files = {RAW: run / "data" / "pool.jsonl"}
    if (run / "data" / "oracle.jsonl").exists():
        files[ORACLE] = run / "data" / "oracle.jsonl"
    processed = run / "processed"
    for folder in sorted(processed.iterdir()) if processed.is_dir() else []:
        if (is_recipe_variant(folder.name) or is_feedback(folder.name)) and (folder / "data.jsonl").exists():
            files[folder.name] = folder / "data.jsonl"
    missing = [path for path in (files[RAW], run / "data" / "eval.jsonl", run / "data" / "eval_split.json")
               if not path.exists()]
    if missing:
        raise SystemExit(f"{run}: no {', '.join(map(str, missing))}. Fix: pass --run a finished run's folder "
                         "(results/<experiment>)")
    if len(files) - (ORACLE in files) < 3:
        raise SystemExit(f"{run}: fewer than two processed variants; a selection needs two candidates. Fix: "
                         "pass a run that processed its recipe variants")
    return files


def stream_symbols(path: Path) -> int:
    """The n-gram's size of a variant: UTF-8 bytes plus one separator per document."""
    documents = training_documents(path, "text")
    return sum(len(data) for data in documents) + len(documents)


def resolve_budgets(names: list[str], sizes: dict[str, int]) -> dict[str, int]:
    """Each --budgets entry as symbols; `auto` is the smallest size among raw and the candidates."""
    auto = min(size for name, size in sizes.items() if name != ORACLE)
    budgets = {}
    for name in names:
        if name == AUTO:
            budgets[AUTO] = auto
        elif name.isdigit() and int(name) > 0:
            budgets[name] = int(name)
        else:
            raise SystemExit(f"--budgets {name}: not a positive number of bytes. Fix: give bytes or `auto`")
    return budgets


def train(path: Path, eval_path: Path, folder: Path, seed: int, budget: int, order: int) -> Model:
    """One n-gram model, trained by the workflow's trainer unless the cache already holds it."""
    heldout, meta_path, cost_path = folder / "heldout.jsonl", folder / "train_meta.json", folder / "cost.json"
    source = {"train": str(path), "train_size": path.stat().st_size, "eval": str(eval_path),
              "eval_size": eval_path.stat().st_size, "order": order}
    if heldout.exists() and meta_path.exists() and cost_path.exists():
        cost = json.loads(cost_path.read_text(encoding="utf-8"))
        # a cache entry of other data (another run, or a rerun that changed it) is trained again
        if cost.get("source") == source:
            return Model(heldout, json.loads(meta_path.read_text(encoding="utf-8")), cost["wall_seconds"])
    folder.mkdir(parents=True, exist_ok=True)
    argv = ["--train", str(path), "--eval", str(eval_path), "--out-dir", str(folder), "--heldout-out",
            str(heldout), "--seed", str(seed), "--budget-bytes", str(budget), "--order", str(order)]
    start = time.perf_counter()
    with open(folder / "train.log", "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        meta = NgramTrainer().run(argv)
    wall = time.perf_counter() - start
    cost_path.write_text(json.dumps({"wall_seconds": wall, "source": source}) + "\n", encoding="utf-8")
    return Model(heldout, meta, wall)


def evaluations_at(models: dict[str, list[Model]], seeds: int,
                   labels: list[str]) -> dict[str, dict[str, Any]]:
    """eval/ngram/<variant>.json as evaluate.py would write it from the first `seeds` models (no data
    metrics: the verdict's statistics do not read them)."""
    result = {}
    for variant, per_seed in models.items():
        used = per_seed[:seeds]
        scores = read_scores({seed: model.heldout for seed, model in enumerate(used)})
        metas = {seed: model.meta for seed, model in enumerate(used)}
        result[variant] = evaluation(variant, PROXY, scores, metas, {}, labels)
    return result


def percent_or_none(comparison: dict[str, Any] | None, key: str) -> Any:
    """A comparison's field, None without the comparison."""
    return None if comparison is None else comparison.get(key)


def point(models: dict[str, list[Model]], budget_name: str, budget: int, seeds: int, labels: list[str],
          confidence: float) -> dict[str, Any]:
    """The summary's statistics for one (budget, seeds) point, and its cost."""
    evaluations = evaluations_at(models, seeds, labels)
    selected = selected_variant(evaluations)
    adjusted = selection_comparison(PROXY, evaluations, selected, confidence)
    oracle = None
    if ORACLE in evaluations:
        scores = aligned({name: scores_of(evaluations[name]) for name in (ORACLE, RAW)})
        oracle = paired_comparison(ORACLE, RAW, scores, confidence, PROXY)
    used = [model for per_seed in models.values() for model in per_seed[:seeds]]
    return {
        "budget": budget_name, "budget_symbols": budget, "seeds": seeds,
        "candidates": len(candidates_of(evaluations)), "selected": selected,
        "selected_vs_raw_adjusted": adjusted, "raw_test_bpb": evaluations[RAW]["test_bpb"],
        "raw_test_bpb_seed_std": evaluations[RAW]["test_bpb_std"],
        "oracle_vs_raw_percent": percent_or_none(oracle, "relative_percent"),
        "oracle_vs_raw_ci_percent": percent_or_none(oracle, "relative_ci_percent"),
        "models": len(used), "model_seconds": sum(model.seconds for model in used),
        "wall_seconds": sum(model.wall_seconds for model in used),
    }


def run_summary(run: Path) -> dict[str, Any] | None:
    """The n-gram's part of the run's own summary, if it has one."""
    for name in ("summary.ngram.json", "summary.json"):
        path = run / name
        if path.exists():
            proxies = json.loads(path.read_text(encoding="utf-8")).get("proxies", {})
            if PROXY in proxies:
                return proxies[PROXY]
    return None


def check_against_run(run: Path, points: list[dict[str, Any]]) -> str | None:
    """Whether the point at the run's own budget and seeds reproduces its summary's selection and
    adjusted interval (it must: same trainer, same data, same statistics)."""
    summary, raw_eval = run_summary(run), run / "eval" / PROXY / f"{RAW}.json"
    if summary is None or not raw_eval.exists():
        return None
    raw = json.loads(raw_eval.read_text(encoding="utf-8"))
    same = [row for row in points if row["budget_symbols"] == raw["train_tokens"]
            and row["seeds"] == len(raw["seeds"]) and raw["seeds"] == list(range(len(raw["seeds"])))]
    if not same:
        return None
    row, theirs = same[0], summary.get("selected_vs_raw_adjusted")
    ours = row["selected_vs_raw_adjusted"]
    agree = (row["selected"] == summary.get("selected_on_validation") and theirs is not None
             and ours is not None and all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
                     for a, b in zip(ours["relative_ci_percent"], theirs["relative_ci_percent"])))
    where = f"budget {row['budget_symbols']}, {row['seeds']} seeds"
    if agree:
        return (f"The point at the run's own budget and seeds ({where}) reproduces its summary's selection "
                "and interval.")
    return (f"WARNING: the point at the run's own budget and seeds ({where}) differs from its summary "
            f"(selected {row['selected']} vs {summary.get('selected_on_validation')}): the run's data or "
            "code changed since it ran. Fix: rerun the run, or read this table as the current code's")


def interval_text(comparison: dict[str, Any] | None) -> str:
    """"-2.34 % [-3.11, -1.56] ✓" (✓ where the interval excludes 0)."""
    if comparison is None or comparison.get("relative_ci_percent") is None:
        return "–"
    low, high = comparison["relative_ci_percent"]
    mark = " ✓" if comparison["significant"] else ""
    return f"{comparison['relative_percent']:+.2f} % [{low:+.2f}, {high:+.2f}]{mark}"


def budget_text(row: dict[str, Any]) -> str:
    """The budget as given, with its symbols where it was `auto`."""
    return f"{AUTO} ({row['budget_symbols']})" if row["budget"] == AUTO else row["budget"]


def number(value: Any, spec: str) -> str:
    """A number in the table, "–" where absent."""
    return "–" if value is None else format(value, spec)


def markdown(points: list[dict[str, Any]], sizes: dict[str, int], budgets: dict[str, int]) -> str:
    """The power curve as a Markdown table, with the variants' sizes and who is subsampled at each budget."""
    lines = ["| budget (symbols) | seeds | selected on validation | vs raw on test, interval adjusted for "
             "the choice (✓: resolved) | MDE (80 % power) | seed std of raw's test bpb | SE: seeds | "
             "SE: documents | oracle vs raw | model-s | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in points:
        adjusted = row["selected_vs_raw_adjusted"] or {}
        oracle = "–" if row["oracle_vs_raw_percent"] is None else f"{row['oracle_vs_raw_percent']:+.2f} %"
        mde = adjusted.get("mde_percent")
        lines.append(
            f"| {budget_text(row)} | {row['seeds']} | {row['selected']} "
            f"| {interval_text(row['selected_vs_raw_adjusted'])} | {number(mde, '.2f')} % "
            f"| {row['raw_test_bpb_seed_std']:.4f} | {number(adjusted.get('se_seeds'), '.4f')} "
            f"| {number(adjusted.get('se_documents'), '.4f')} | {oracle} | {row['model_seconds']:.0f} "
            f"| {row['wall_seconds']:.0f} |")
    lines.append("")
    lines.append("Variants' sizes (symbols): " + ", ".join(f"{name} {size}" for name, size in sizes.items())
                 + ".")
    for name, budget in budgets.items():
        whole = [variant for variant, size in sizes.items() if size <= budget]
        lines.append(f"At {name} ({budget}): used whole, the same for every seed: "
                     f"{', '.join(whole) if whole else 'none'}; every other variant is a seeded subsample.")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, type=Path,
                        help="a finished run's folder (results/<experiment>)")
    parser.add_argument("--budgets", nargs="+", default=[AUTO],
                        help="n-gram budgets in stream symbols (bytes plus one per document), or `auto`")
    parser.add_argument("--seeds", nargs="+", type=int, default=[3, 5, 10],
                        help="seed counts to evaluate; seeds 0..max-1 are trained")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--cache", type=Path, default=None,
                        help="trained models (default results/bench/power_curve/<run folder's name>)")
    parser.add_argument("--out", type=Path, default=None, help="the Markdown table; the JSON goes beside it")
    args = parser.parse_args()
    if min(args.seeds) < 2:
        parser.error("--seeds: a seed-dependent proxy needs two or more seeds for an interval")
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    run = args.run.resolve()
    files = training_files(run)
    cache = args.cache or REPO / "results" / "bench" / "power_curve" / run.name
    eval_path = run / "data" / "eval.jsonl"
    labels = read_split_labels(run / "data" / "eval_split.json")
    sizes = {name: stream_symbols(path) for name, path in files.items()}
    budgets = resolve_budgets(args.budgets, sizes)
    points = []
    for name, budget in budgets.items():
        models = {variant: [train(path, eval_path, cache / str(budget) / variant / f"seed{seed}", seed,
                                  budget, args.order) for seed in range(max(args.seeds))]
                  for variant, path in files.items()}
        points += [point(models, name, budget, seeds, labels, args.confidence)
                   for seeds in sorted(args.seeds)]
    table = markdown(points, sizes, budgets)
    check = check_against_run(run, points)
    elapsed = time.perf_counter() - started
    check_line = check or "No point at the run's own budget and seeds to check against its summary."
    text = f"{table}\n\n{check_line}\n(run {run}; cache {cache}; this invocation {elapsed:.0f} s)\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        report = {"run": str(run), "order": args.order, "confidence": args.confidence, "sizes": sizes,
                  "budgets": budgets, "points": points, "check": check, "seconds": elapsed}
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
