"""The variants every verdict is measured against, by name: the one place these names are spelled.

raw is the pool as it came; k_sigma is the sandbox's own suggestion (the recipe with thresholds refined
from the raw stats); oracle is the pool's clean documents only, the best a cleaning could do. raw and
k_sigma are references (each variant is compared with them); oracle is the ceiling of the gain.
"""

from __future__ import annotations

RAW = "raw"
K_SIGMA = "k_sigma"
ORACLE = "oracle"
# What every variant is compared with, in the order the tables and figures show them.
REFERENCES = (RAW, K_SIGMA)


def comparison_key(variant: str, reference: str) -> str:
    """The key of a comparison in summary.json, e.g. 'recipe_vs_raw'."""
    return f"{variant}_vs_{reference}"
