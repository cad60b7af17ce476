"""Recipe HPO in process: Data-Juicer's own quality-score sweep maps onto a runnable recipe, and a sweep
over another base recipe samples an Optuna study of its own. HPO through the real workflow is in
workflow/test_hpo.py."""

from __future__ import annotations

from pathlib import Path

import optuna
import yaml


def test_data_juicer_quality_score_sweep_maps_onto_a_recipe(tmp_path: Path) -> None:
    """The parameter block of Data-Juicer's own tools/hpo sweep parses and yields runnable recipes."""
    import data_juicer.tools.hpo as dj_hpo
    from data_juicer.core.preflight import pre_instantiation_check

    from sandbox.hpo.study import distribution_of, recipe_value
    from sandbox.hpo.sweep import parse_sweep
    from sandbox.hpo.sweep_check import int_arguments
    from sandbox.recipe.recipe_file import apply_params

    dj_sweep = yaml.safe_load((Path(dj_hpo.__file__).parent / "configs/quality_score_hpo.yaml").read_text())
    dj_sweep["metric"]["name"] = "heldout_bpb"  # quality_score is Data-Juicer's own scorer, not ours
    sweep = parse_sweep(dj_sweep, "quality_score_hpo.yaml")
    assert sweep.run_cap == 1000 and sweep.name == "hpo_for_data-juicer" and sweep.warnings
    assert {p.name: p.distribution for p in sweep.parameters} == {
        "character_repetition_filter.rep_len": "categorical",
        "character_repetition_filter.max_ratio": "categorical",
        "text_length_filter.min_len": "q_log_uniform_values"}
    recipe = {"process": [{"text_length_filter": {"min_len": 10}}, {"character_repetition_filter": {}}]}
    int_names = set(int_arguments(sweep, ["text_length_filter", "character_repetition_filter"],
                                  Path("s.yaml")))
    assert int_names == {"text_length_filter.min_len", "character_repetition_filter.rep_len"}
    for parameter in sweep.parameters:
        distribution = distribution_of(parameter.__dict__, parameter.name in int_names)
        sampled = distribution.choices[-1] if hasattr(distribution, "choices") else distribution.high
        values = {parameter.name: recipe_value(parameter.__dict__, sampled, parameter.name in int_names)}
        recipe = apply_params(recipe, values)
    pre_instantiation_check(recipe["process"])
    assert recipe["process"][0]["text_length_filter"]["min_len"] == 8192


def test_a_sweep_over_another_base_recipe_samples_a_study_of_its_own(tmp_path: Path) -> None:
    """Trials asked while hpo.base was one recipe are never handed out, or told, under another."""
    from sandbox.hpo.study import ask, find_trial, open_study, study_name

    sweep = {"name": "demo", "method": "random", "goal": "minimize"}
    assert study_name("demo", "recipe") == "demo"  # studies made before hpo.base existed resume
    journal = tmp_path / "study.journal"
    distributions = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    over_recipe = ask(open_study(journal, sweep, 0, trial=0), 0, distributions)
    over_k_sigma = open_study(journal, {**sweep, "name": study_name("demo", "k_sigma")}, 0, trial=0)
    assert find_trial(over_k_sigma, 0) is None
    ask(over_k_sigma, 0, distributions)
    # one trial in each study: asking under k_sigma made a new one, the recipe's study is as it was
    assert len(over_k_sigma.get_trials()) == 1 == len(open_study(journal, sweep, 0).get_trials())
    assert ask(open_study(journal, sweep, 0, trial=0), 0, distributions) == over_recipe
