"""Construct the data pools: split a processed variant's documents by pools.by (sandbox/pools/split.py)
and write each pool's documents, unchanged, to <out-dir>/<pool>.jsonl, and index.json: every pool's
documents, bytes and (with origin tags) noise share, the bucket edges, and the pools left out as
smaller than --min-docs (their documents stay in no pool, and the index says how many).

Scores: `quality` is each document's P(trusted) from the quality classifier's fold model that never
learned it (cross-fitted, as the data evaluator scores); `stat:<name>` is the raw analysis's stat of
the document (its sandbox_row in the stats cache); `feedback:<method>` is the score the method's op gives
the document (the pool analysed under feedback_<method>'s recipe, cross-fitted where the method is).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sandbox.datamodels.subsets import meta_value
from sandbox.io.cli import run_main
from sandbox.io.jsonl import InputError, iter_jsonl, text_of, write_jsonl
from sandbox.io.origin import is_noise, origin_of
from sandbox.pools.split import (
    FEEDBACK_PREFIX,
    QUALITY,
    STAT_PREFIX,
    SplitError,
    parse_splitters,
    pool_names,
    quantile_edges,
)

INDEX_FORMAT = "recipe-sandbox-pools-v1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, type=Path, help="the processed variant's data.jsonl")
    parser.add_argument("--base-variant", required=True, help="its name (k_sigma, raw, ...)")
    parser.add_argument("--by", required=True, nargs="+",
                        help="splitters: meta.<field>, quality, stat:<name>")
    parser.add_argument("--buckets", required=True, type=int, help="buckets per score splitter")
    parser.add_argument("--min-docs", required=True, type=int, help="a smaller pool is left out")
    parser.add_argument("--classifier-models", nargs="*", type=Path, default=[],
                        help="the quality classifier's fold models (by: quality)")
    parser.add_argument("--stats-cache", type=Path, default=None,
                        help="the raw analysis's stats.parquet (by: stat:<name>)")
    parser.add_argument("--feedback-stats", nargs="*", default=[],
                        help="method=stats.parquet: the pool analysed under feedback_<method>'s recipe "
                             "(by: feedback:<method>)")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--out-index", required=True, type=Path)
    return parser.parse_args()


def quality_keys(texts: list[str], models: list[Path]) -> list[float]:
    from sandbox.classifier import model as classifier

    if not models:
        raise InputError("pools.by: quality needs the quality classifier, which needs a trusted sample. "
                         "Fix: set trusted_path (or feedback.reference_path), or split by a meta field.")
    paths = [str(path) for path in models]
    return [float(value) for value in classifier.scores(paths[0] if len(paths) == 1 else paths, texts)]


def stat_keys(records: list[dict[str, Any]], name: str, stats_cache: Path | None) -> list[float]:
    from sandbox.recipe.masks import read_stats_cache

    if stats_cache is None:
        raise InputError(f"pools.by: stat:{name} needs the raw analysis's stats cache. Fix: run the "
                         "workflow's rule (it passes --stats-cache).")
    cache = read_stats_cache(stats_cache)
    by_row = dict(zip(cache.rows.tolist(), cache.stats))
    keys = []
    for record in records:
        stats = by_row.get(record.get("sandbox_row"), {})
        if name not in stats or isinstance(stats[name], (list, dict)):
            known = sorted(key for key, value in next(iter(by_row.values()), {}).items()
                           if not isinstance(value, (list, dict)))
            raise InputError(f"{stats_cache}: document {record.get('sandbox_row')} has no number under stat "
                             f"{name!r}. Fix: pools.by stat:<one of {known}>, the stats of the recipe's "
                             "filters.")
        keys.append(float(stats[name]))
    return keys


def feedback_keys(records: list[dict[str, Any]], method: str, args: argparse.Namespace) -> list[float]:
    """A feedback op's score per document: the one stat the feedback analysis has and the raw one lacks."""
    from sandbox.recipe.masks import read_stats_cache

    caches = dict(entry.split("=", 1) for entry in args.feedback_stats)
    if method not in caches or args.stats_cache is None:
        raise InputError(f"pools.by: feedback:{method} needs the pool analysed under feedback_{method}'s "
                         "recipe and the raw analysis. Fix: run the workflow's rule (it passes both).")
    feedback, raw = read_stats_cache(Path(caches[method])), read_stats_cache(args.stats_cache)
    added = sorted(set(feedback.stats[0]) - set(raw.stats[0])) if feedback.stats and raw.stats else []
    if len(added) != 1:
        raise InputError(f"{caches[method]}: expected one stat the raw analysis lacks (the feedback op's), "
                         f"found {added}. Fix: rerun the feedback analysis (snakemake --forcerun "
                         "analyze_feedback).")
    by_row = dict(zip(feedback.rows.tolist(), feedback.stats))
    return [float(by_row[record["sandbox_row"]][added[0]]) for record in records]


def split_keys(records: list[dict[str, Any]], texts: list[str], args: argparse.Namespace,
               splitter_specs: list[str]) -> dict[str, list[Any]]:
    keys: dict[str, list[Any]] = {}
    for spec in splitter_specs:
        if spec == QUALITY:
            keys[spec] = quality_keys(texts, args.classifier_models)
        elif spec.startswith(FEEDBACK_PREFIX):
            keys[spec] = feedback_keys(records, spec.removeprefix(FEEDBACK_PREFIX), args)
        elif spec.startswith(STAT_PREFIX):
            keys[spec] = stat_keys(records, spec.removeprefix(STAT_PREFIX), args.stats_cache)
        else:
            column = []
            for line, record in enumerate(records, start=1):
                try:
                    column.append(meta_value(record, spec))
                except KeyError as missing:
                    raise InputError(
                        f"{args.base}: document {line} has no '{spec}' ('{missing.args[0]}' is missing), "
                        f"so it belongs to no pool. Fix: give every document a '{spec}', or split by quality "
                        "or stat:<name> (pools.by).") from None
            keys[spec] = column
    return keys


def main() -> None:
    args = parse_args()
    try:
        splitters = parse_splitters(args.by, args.buckets)
    except SplitError as error:
        raise InputError(str(error)) from None
    lines = list(iter_jsonl(args.base))
    records = [record for _, record in lines]
    texts = [text_of(record, "text", args.base, line) for line, record in lines]
    if not records:
        raise InputError(f"{args.base}: no documents to split into pools. "
                         "Fix: a base variant (pools.base) that keeps some.")
    keys = split_keys(records, texts, args, [splitter.spec for splitter in splitters])
    edges = {s.spec: quantile_edges(keys[s.spec], s.buckets) for s in splitters if s.is_score}
    names = pool_names(splitters, keys, edges)
    members: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(names):
        members[name].append(position)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    pools, left_out = [], []
    for name in sorted(members):
        chosen = [records[position] for position in members[name]]
        origins = [origin_of(record) for record in chosen]
        entry: dict[str, Any] = {
            "name": name, "docs": len(chosen),
            "bytes": sum(len(texts[position].encode("utf-8")) + 1 for position in members[name]),
        }
        if all(origin is not None for origin in origins):
            entry["noise_share"] = sum(is_noise(origin) for origin in origins) / len(origins)
            entry["origins"] = dict(sorted(Counter(origins).items()))
        if len(chosen) < args.min_docs:
            left_out.append(entry)
            continue
        write_jsonl(args.out_dir / f"{name}.jsonl", chosen)
        entry["path"] = str(args.out_dir / f"{name}.jsonl")
        pools.append(entry)
    if len(pools) < 2:
        raise InputError(f"{args.base}: pools.by {args.by} gives {len(pools)} pool(s) of at least "
                         f"{args.min_docs} documents; a mixture needs two. Fix: split by another field, "
                         "raise pools.buckets, lower pools.min_docs, or leave the mixture out of the main "
                         "summary (pools.in_summary: false).")
    index = {"format": INDEX_FORMAT, "base": args.base_variant, "base_path": str(args.base),
             "by": args.by, "buckets": args.buckets, "min_docs": args.min_docs,
             "edges": edges, "docs": len(records), "pools": pools, "left_out": left_out}
    args.out_index.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    for entry in pools:
        noise = f", noise {entry['noise_share']:.1%}" if "noise_share" in entry else ""
        print(f"pool {entry['name']}: {entry['docs']} documents, {entry['bytes']} bytes{noise}")
    for entry in left_out:
        print(f"left out {entry['name']}: {entry['docs']} documents < min_docs {args.min_docs}")


if __name__ == "__main__":
    run_main(main)
