"""Make a mixture variant as the user's own pipeline would: run `dj-process --config <name>.yaml` (the
exported Data-Juicer config), then check that the documents it wrote come from each pool in the
counts the export claims (by each document's sandbox_row). Writes the variant's data.jsonl (where
the config exports it) and counts.json (claimed and found per pool).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from sandbox.io.cli import run_main
from sandbox.io.jsonl import iter_jsonl


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the exported <name>.yaml")
    parser.add_argument("--claim", required=True, type=Path, help="the export's <name>.json")
    parser.add_argument("--out-counts", required=True, type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    claim = json.loads(args.claim.read_text(encoding="utf-8"))
    export = Path(config["export_path"])
    dj_process = Path(sys.executable).with_name("dj-process")
    command = [str(dj_process) if dj_process.exists() else "dj-process", "--config", str(args.config)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)
    shutil.rmtree(config["work_dir"], ignore_errors=True)
    pool_of_row = {}
    for source, entry in zip(config["dataset"]["configs"], claim["pools"]):
        for _, record in iter_jsonl(source["path"]):
            pool_of_row[record["sandbox_row"]] = entry["pool"]
    found = Counter(pool_of_row[record["sandbox_row"]] for _, record in iter_jsonl(export))
    rows = [{"pool": entry["pool"], "claimed": entry["docs"], "found": found.get(entry["pool"], 0)}
            for entry in claim["pools"]]
    wrong = [row for row in rows if row["claimed"] != row["found"]]
    if wrong:
        raise RuntimeError(f"{args.config}: dj-process wrote {wrong} documents against the counts "
                           f"{args.claim} claims. Fix: Data-Juicer's sampling rule changed (see "
                           "sandbox/mixture/export.py); update dj_sample_numbers to it.")
    args.out_counts.write_text(json.dumps({"name": claim["name"], "config": str(args.config),
                                           "export": str(export), "pools": rows}, indent=2) + "\n",
                               encoding="utf-8")
    print(f"{claim['name']}: {sum(row['found'] for row in rows)} documents, counts as claimed")


if __name__ == "__main__":
    run_main(main)
