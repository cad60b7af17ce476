"""The mixture search's cost and answer on a finished run: the swarm's size, every pools job's wall and
CPU seconds (Snakemake's benchmark files), when its first answer (pools/summary.<proxy>.md) was written
after the run's first output, and the answer itself (the verdict line per proxy, the fit).

Run from the repository root with the venv's Python after `snakemake mixture --cores 2` (or `make demo`,
where pools.in_summary adds the n-gram's answer): `.venv/bin/python bench/mixture.py --experiment demo`.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="demo")
    return parser.parse_args()


def benchmark_rows(folder: Path) -> dict[str, tuple[float, float]]:
    """Job name -> (wall seconds, CPU seconds) from Snakemake's benchmark .tsv files."""
    rows = {}
    for path in sorted(folder.glob("*.tsv")):
        with path.open() as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        rows[path.stem] = (float(row["s"]), float(row["cpu_time"]))
    return rows


def group(rows: dict[str, tuple[float, float]], prefix: str) -> str:
    chosen = [value for name, value in rows.items() if name.startswith(prefix)]
    if not chosen:
        return "–"
    walls = [wall for wall, _ in chosen]
    return (f"{len(chosen)} jobs, {min(walls):.1f}–{max(walls):.1f} s wall each, "
            f"{sum(walls):.0f} s wall and {sum(cpu for _, cpu in chosen):.0f} CPU-s in all")


def main() -> None:
    args = parse_args()
    out = REPO / "results" / args.experiment
    pools = out / "pools"
    rows = benchmark_rows(out / "benchmarks" / "pools")
    fit = json.loads((pools / "fit.json").read_text())
    index = json.loads((pools / "index.json").read_text())
    start = min(path.stat().st_mtime for path in (out / "data").glob("*.jsonl"))
    print("| what | measured |\n|---|---|")
    print(f"| pools | {len(index['pools'])} of {index['docs']} `{index['base']}` documents, by "
          f"{index['by']}, {len(index['left_out'])} left out as smaller than min_docs |")
    print(f"| swarm | {fit['members']['total']} n-gram models at {fit['budget_bytes']} bytes "
          f"({fit['members']['training']} fit, {fit['members']['held_out']} held out): "
          f"{group(rows, 'swarm_')} |")
    print(f"| ranking by the n-gram | {group(rows, 'rank_')} |")
    gpt_rows = benchmark_rows(out / "benchmarks" / "train_gpt")
    if any(name.startswith("pool-") for name in gpt_rows):
        print(f"| ranking by the GPT (pools.proxies) | {group(gpt_rows, 'pool-')} |")
    print(f"| dj-process of the exported configs | {group(rows, 'process_')} |")
    for path in sorted(pools.glob("summary*.md")):
        print(f"| `{path.relative_to(out)}` written | {path.stat().st_mtime - start:.0f} s after the run's "
              "first output |")
    check = fit["out_of_sample"]
    print(f"| out-of-sample Spearman | {check['spearman']:.3f} [{check['interval'][0]:.3f}, "
          f"{check['interval'][1]:.3f}] over {check['members']} held-out members |")
    summary = json.loads((pools / ("summary.json" if (pools / "summary.json").exists()
                                   else "summary.ngram.json")).read_text())
    for proxy, ranking in summary.get("rankings", {}).items():
        order = " > ".join(f"{entry['pool']} ({entry['test_bpb']:.4f})" for entry in ranking["ranking"])
        print(f"| pools ranked by {proxy} (test bpb) | {order} |")
    for proxy, claims in summary.get("claims_at_proxy_budget", {}).items():
        for claim in claims:
            shares = ", ".join(f"{pool['pool']} {pool['weight']:.3f} (×{pool['epochs']:.2f})"
                               for pool in claim["pools"] if pool["weight"] > 0)
            print(f"| {proxy}'s `{claim['name']}` at {claim['budget_bytes']} bytes, repeats up to "
                  f"{claim['max_epochs']} | {shares} |")
    for proxy, result in summary["proxies"].items():
        epochs = ", ".join(f"{name} {value:.2f}" for name, value in result.get("epochs", {}).items()
                           if value is not None)
        if epochs:
            print(f"| {proxy}: epochs its models saw | {epochs} |")
        for label, comparison in result["comparisons"].items():
            low, high = comparison["relative_ci_percent"] or (None, None)
            interval = f"[{low:+.2f}, {high:+.2f}]" if low is not None else "(no interval)"
            print(f"| {proxy}: mixture vs {label} (`{comparison['variant']}`) | "
                  f"{comparison['relative_percent']:+.2f} % {interval} |")
        fraction = result["fraction_of_oracle_gain"]
        if fraction:
            print(f"| {proxy}: fraction of the oracle gain | {fraction['value']:.2f} "
                  f"[{fraction['ci_low']:.2f}, {fraction['ci_high']:.2f}] |")


if __name__ == "__main__":
    main()
