"""Calibration of the paired comparison by simulated experiments, as a Markdown table.

Per setting (proxy noise, seeds, 400 eval documents): the share of experiments with two equal
variants that the comparison calls different (its false-positive rate, nominal 5 %), the share
that find a true difference of 3 standard errors and of the stated minimum detectable effect,
and the old hierarchical bootstrap's (paired_bootstrap v1) false-positive rate on the same null
experiments. Then the winner's curse: with five candidate variants all equal to raw, how often "the
chosen one beats raw" is claimed when it is chosen and reported on the same documents, chosen on
validation and reported on test, and the same with the interval adjusted for the choice (what the
summary's verdict of a seed-dependent proxy uses), with the power of each at 3 standard errors. Last,
the same comparison on binary per-item accuracies of a downstream task (1000 items; `--items-only`
runs only that table; `--only TEXT...` keeps the settings whose label holds one of the texts). The
simulator is bench/simulate/calibration.py, which tests/unit/test_calibration.py runs too.

Run from the repository root:
`.venv/bin/python bench/calibration.py [--experiments 4000] [--items-only] [--only TEXT ...]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from simulate.calibration import (  # noqa: E402
    ITEM_SETTINGS,
    SETTINGS,
    calibrate,
    calibrate_items,
    items_markdown,
    markdown,
    selection_markdown,
    selection_rates,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=4000, help="simulated experiments per setting")
    parser.add_argument("--old-samples", type=int, default=1000,
                        help="bootstrap replicates of the old method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--items-only", action="store_true", help="only the per-item accuracy table")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="only the settings whose label holds one of these texts (e.g. '10 seeds')")
    args = parser.parse_args()
    started = time.perf_counter()

    def kept(settings: tuple) -> list:
        """(index, setting) of the settings --only keeps; the index (the seed's offset) is the full list's,
        so a setting's figures do not depend on --only."""
        return [(index, setting) for index, setting in enumerate(settings)
                if not args.only or any(text in setting.label for text in args.only)]

    if not args.items_only and kept(SETTINGS):
        rows = [calibrate(setting, args.experiments, seed=args.seed + index, old_samples=args.old_samples)
                for index, setting in kept(SETTINGS)]
        print(markdown(rows))
        chosen = [selection_rates(setting, args.experiments, seed=args.seed + index)
                  for index, setting in kept(SETTINGS)]
        print("\n" + selection_markdown(chosen) + "\n")
    items = [calibrate_items(setting, args.experiments, seed=args.seed + index)
             for index, setting in kept(ITEM_SETTINGS)]
    if items:
        print(items_markdown(items))
    print(f"\n{args.experiments} experiments per setting, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
