"""A sweep file as W&B users write it (nested block, every distribution, metric.target and
early_terminate) runs through the real workflow; its parsing and sampling through Optuna are checked in
process in unit/test_sweep_formats.py."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sandbox.hpo.sweep import load_sweep
from test_hpo import HPO_DIR, read_trials, setup
from test_sweep_formats import EVERY_DISTRIBUTION, INT_ARGUMENTS, in_support, sample


def test_a_wandb_sweep_with_every_distribution_runs_through_the_workflow(tmp_path: Path) -> None:
    """The sweep file as W&B users write it: nested block, every distribution, metric.target (met
    in round 0, so the search stops there) and early_terminate (said in the HPO log)."""
    workdir, config = setup(tmp_path, EVERY_DISTRIBUTION)
    assert load_sweep(workdir / "sweep.yaml").target == ("kept_fraction", ">=", 0.3)
    from conftest import snakemake

    result = snakemake(workdir, "hpo", "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    check_log = (workdir / "results/tiny/logs/hpo/check.log").read_text()
    assert "early_terminate (hyperband) stops no trial here" in check_log
    assert "no intermediate values to prune on" in check_log and "run_cap (6 trials)" in check_log
    rows = read_trials(workdir)
    assert [int(row["trial"]) for row in rows] == [0, 1], "metric.target was met in round 0"
    summary = json.loads((workdir / HPO_DIR / "summary.json").read_text())
    assert summary["stop_reason"].startswith("target met (kept_fraction >= 0.3")
    int_names = set(json.loads((workdir / HPO_DIR / "sweep.json").read_text())["int_parameters"])
    assert int_names == INT_ARGUMENTS, "hpo_check finds the int arguments this test assumes"
    for row in rows:
        params = json.loads((workdir / HPO_DIR / f"trials/{row['trial']}/params.json").read_text())["params"]
        assert set(params) == set(sample(EVERY_DISTRIBUTION, 1)[0])
        for name, value in params.items():
            assert in_support(name, value), (name, value)
        recipe = yaml.safe_load((workdir / HPO_DIR / f"trials/{row['trial']}/recipe.yaml").read_text())
        ops = {op: args for entry in recipe["process"] for op, args in entry.items()}
        assert ops["text_length_filter"] == {"min_len": params["text_length_filter.min_len"],
                                             "max_len": params["text_length_filter.max_len"]}
        assert 0 < float(row["kept_fraction"]) <= 1
