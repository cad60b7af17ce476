"""Coverage of the scale ladder's intervals on simulated ladders with a known truth
(simulate.ladder): decision accuracy by how far apart neighbouring variants are (in standard
errors of a pair difference), with identical true rankings and with two neighbouring pairs swapped; the
power-law exponent and the gain trend.

Run from the repository root: .venv/bin/python bench/ladder_coverage.py [--experiments 400]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from simulate.ladder import accuracy_coverage, exponent_coverage, trend_coverage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiments", type=int, default=400)
    args = parser.parse_args()
    start = time.perf_counter()
    print("| interval | setting | coverage (nominal 95 %) | mean width |\n|---|---|---|---|")
    for gap in (0.5, 1.0, 2.0, 4.0):
        for swapped in (False, True):
            coverage, width = accuracy_coverage(gap, swapped, args.experiments, seed=int(10 * gap) + swapped)
            ranking = "two pairs swapped" if swapped else "identical rankings"
            setting = f"neighbours {gap:g} SE apart, {ranking}"
            print(f"| decision accuracy | {setting} | {coverage:.1%} | {width:.2f} |")
    coverage, width = exponent_coverage(0.1, args.experiments, seed=1)
    print(f"| power-law exponent | exponent 0.1, 5 multipliers, 3 seeds | {coverage:.1%} | {width:.4f} |")
    coverage, width = trend_coverage(-0.5, args.experiments, seed=2)
    print(f"| gain trend | -0.5 % per doubling, 5 multipliers, 3 seeds | {coverage:.1%} | {width:.2f} |")
    print(f"\n({args.experiments} experiments per row, {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
