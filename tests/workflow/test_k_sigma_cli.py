"""refine_k_sigma.py writes a recipe Data-Juicer's own preflight accepts; the refinement itself is
checked in process in unit/test_k_sigma.py."""

from __future__ import annotations

import subprocess
import sys

import yaml

from conftest import REPO, SCRIPTS


def test_refined_recipe_passes_data_juicer_preflight(tmp_path) -> None:
    """The refined YAML is a recipe dj-process accepts: Data-Juicer's own type check passes."""
    overall = tmp_path / "overall.json"
    overall.write_text('{"text_len": {"mean": 300.7, "std": 50.2}, "alnum_ratio": {"mean": 0.8, "std": 0.1},'
                       ' "num_words": {"mean": 50.5, "std": 30.1}}')
    out_recipe, table = tmp_path / "k.yaml", tmp_path / "k.tsv"
    command = [sys.executable, str(SCRIPTS / "refine_k_sigma.py"),
               "--recipe", str(REPO / "config/recipes/demo.yaml"), "--overall", str(overall), "--k", "3",
               "--out-recipe", str(out_recipe), "--out-table", str(table)]
    subprocess.run(command, check=True, capture_output=True)
    from data_juicer.core.preflight import pre_instantiation_check

    recipe = yaml.safe_load(out_recipe.read_text())
    pre_instantiation_check(recipe["process"])
    # ceil(150.1), floor(451.3)
    assert recipe["process"][0]["text_length_filter"] == {"min_len": 151, "max_len": 451}
    assert len(table.read_text().splitlines()) == 1 + 6  # header + min/max of three ops with stats
