"""Sweep files as W&B writes them: every parameter form and distribution of W&B's sweep schema,
nested `parameters:` blocks, `metric.target` and `early_terminate`, sampled through Optuna (the run
through the real workflow: workflow/test_sweep_formats_run.py)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import optuna
import pytest

from sandbox.hpo.study import distribution_of, parameter_name, recipe_value
from sandbox.hpo.sweep import DISTRIBUTIONS, parse_sweep, stop_reason
from sandbox.io.jsonl import InputError

# One parameter per W&B distribution over the demo recipe's arguments, two of them in a nested
# block. The ranges keep most documents; the repetition filters' rep_len changes a stat, so those
# trials run Data-Juicer's executor, the rest of the recipe is thresholds (the mask path).
EVERY_DISTRIBUTION: dict[str, Any] = {
    "name": "every-distribution",
    "method": "bayes",
    "metric": {"name": "kept_fraction", "goal": "maximize", "target": 0.3},
    "early_terminate": {"type": "hyperband", "min_iter": 3},
    "parameters": {
        "text_length_filter": {"parameters": {
            "min_len": {"min": 0, "max": 100},  # int_uniform, inferred from int min/max
            "max_len": {"distribution": "log_uniform", "min": 9.2, "max": 10.0},  # exponents: e^9.2..e^10
        }},
        "words_num_filter.min_num": {"distribution": "log_uniform_values", "min": 1, "max": 20},
        "words_num_filter.max_num": {"distribution": "q_log_uniform", "min": 8.5, "max": 9.5, "q": 100},
        "words_num_filter.tokenization": {"distribution": "categorical", "values": [False]},
        "alphanumeric_filter.min_ratio": {"distribution": "beta", "a": 2, "b": 8},
        "alphanumeric_filter.max_ratio": {"values": [0.95, 1.0], "probabilities": [0.25, 0.75]},
        "special_characters_filter.min_ratio": {"distribution": "inv_log_uniform", "min": 6, "max": 9},
        "special_characters_filter.max_ratio": {"distribution": "normal", "mu": 0.4, "sigma": 0.05},
        "character_repetition_filter.rep_len": {"distribution": "q_log_uniform_values", "min": 5, "max": 20,
                                                "q": 5},
        "character_repetition_filter.max_ratio": {"distribution": "q_beta", "a": 10, "b": 10, "q": 0.05},
        "word_repetition_filter.rep_len": {"distribution": "q_uniform", "min": 5, "max": 15, "q": 5},
        "word_repetition_filter.max_ratio": {"distribution": "q_normal", "mu": 0.5, "sigma": 0.05, "q": 0.05},
        "average_line_length_filter.min_len": {"distribution": "inv_log_uniform_values", "min": 1, "max": 10},
        "average_line_length_filter.max_len": {"distribution": "log_normal", "mu": 9.2, "sigma": 0.1},
        "maximum_line_length_filter.min_len": {"distribution": "uniform", "min": 0.0, "max": 10.0},
        "maximum_line_length_filter.max_len": {"distribution": "q_log_normal", "mu": 9.9, "sigma": 0.1,
                                               "q": 100},
        "document_deduplicator.lowercase": {"value": False},
    },
    "run_cap": 6,
    "parallel_trials": 2,
}
# the demo recipe's int-typed arguments among these (hpo_check finds them from Data-Juicer)
INT_ARGUMENTS = {"text_length_filter.min_len", "text_length_filter.max_len", "words_num_filter.min_num",
                 "words_num_filter.max_num", "character_repetition_filter.rep_len",
                 "word_repetition_filter.rep_len",
                 "average_line_length_filter.min_len", "average_line_length_filter.max_len",
                 "maximum_line_length_filter.min_len", "maximum_line_length_filter.max_len"}
QUANTILE_EDGE_Z = 4.8  # |z| of the normal quantiles the search can reach (1e-6 .. 1 - 1e-6)


def sample(sweep_dict: dict[str, Any], trials: int, seed: int = 0) -> list[dict[str, Any]]:
    """Recipe values of `trials` trials, drawn by Optuna's seeded random sampler as the workflow
    draws them (distribution_of, then recipe_value)."""
    sweep = parse_sweep(sweep_dict, "every.yaml")
    parameters = {parameter.name: parameter.__dict__ for parameter in sweep.parameters}
    distributions = {name: distribution for name, parameter in parameters.items()
                     if (distribution := distribution_of(parameter, name in INT_ARGUMENTS)) is not None}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    rows = []
    for _ in range(trials):
        drawn = study.ask(distributions).params
        rows.append({name: recipe_value(parameter, drawn.get(name), name in INT_ARGUMENTS)
                     for name, parameter in parameters.items()})
    return rows


def on_grid(value: float, q: float) -> bool:
    return math.isclose(value / q, round(value / q), abs_tol=1e-9)


def specs() -> dict[str, dict[str, Any]]:
    """EVERY_DISTRIBUTION's parameters by flattened name."""
    parameters = dict(EVERY_DISTRIBUTION["parameters"])
    nested = parameters.pop("text_length_filter")["parameters"]
    return {**parameters, **{f"text_length_filter.{arg}": spec for arg, spec in nested.items()}}


def value_bounds(spec: dict[str, Any]) -> tuple[float, float]:
    """The range a distribution's (unrounded) values lie in; normal-like ones within the
    quantiles the search reaches."""
    kind = spec.get("distribution", "int_uniform" if isinstance(spec.get("min"), int) else "uniform")
    kind = kind.removeprefix("q_")
    if kind in ("normal", "log_normal"):
        low, high = spec["mu"] - QUANTILE_EDGE_Z * spec["sigma"], spec["mu"] + QUANTILE_EDGE_Z * spec["sigma"]
        return (low, high) if kind == "normal" else (math.exp(low), math.exp(high))
    if kind == "beta":
        return 0.0, 1.0
    if kind == "log_uniform":  # min/max are exponents
        return math.exp(spec["min"]), math.exp(spec["max"])
    if kind == "inv_log_uniform":  # log(1/x) ~ U(min, max)
        return math.exp(-spec["max"]), math.exp(-spec["min"])
    return spec["min"], spec["max"]


def in_support(name: str, value: Any) -> bool:
    """Whether a sampled value can come from that parameter's W&B distribution (rounded for q_)."""
    spec = specs()[name]
    if "value" in spec:
        return value == spec["value"]
    if "values" in spec:
        return value in spec["values"]
    low, high = value_bounds(spec)
    if "q" in spec:  # rounding to multiples of q may step just past the bounds, as in W&B
        q = spec["q"]
        return on_grid(value, q) and round(low / q) * q - 1e-9 <= value <= round(high / q) * q + 1e-9
    slack = 0.5 if name in INT_ARGUMENTS else 1e-12 * max(1.0, abs(high))  # ints are rounded
    return low - slack <= value <= high + slack


def test_every_wandb_distribution_is_accepted_and_sampled_in_its_support() -> None:
    sweep = parse_sweep(EVERY_DISTRIBUTION, "every.yaml")
    kinds = {parameter.distribution for parameter in sweep.parameters}
    assert kinds == set(DISTRIBUTIONS), f"missing: {set(DISTRIBUTIONS) - kinds}"
    assert {p.name for p in sweep.parameters} >= {"text_length_filter.min_len",
                                                  "text_length_filter.max_len"}, \
        "the nested block flattens to op.arg names"
    assert sweep.target == ("kept_fraction", ">=", 0.3), "metric.target is the search's stop target"
    assert stop_reason([0.2], sweep) is None and stop_reason([0.2, 0.3], sweep).startswith("target met")
    assert len(sweep.warnings) == 1 and "early_terminate (hyperband) stops no trial here" in sweep.warnings[0]

    rows = sample(EVERY_DISTRIBUTION, 200)
    assert rows[:20] == sample(EVERY_DISTRIBUTION, 20), "seeded sampling is deterministic"
    for row in rows:
        for name, value in row.items():
            assert in_support(name, value), (name, value)
            if name in INT_ARGUMENTS:
                assert type(value) is int, (name, value)  # Data-Juicer's preflight refuses floats there
    # log_uniform's min/max are exponents: values span e^9.2..e^10, not 9.2..10
    max_len = [row["text_length_filter.max_len"] for row in rows]
    assert min(max_len) > 9800 and max(max_len) < 22100
    assert statistics.fmean(math.log(v) for v in max_len) == pytest.approx(9.6, abs=0.05)
    inv = [row["special_characters_filter.min_ratio"] for row in rows]
    assert statistics.fmean(-math.log(v) for v in inv) == pytest.approx(7.5, abs=0.15), "log(1/x) ~ U(6, 9)"
    assert {row["word_repetition_filter.rep_len"] for row in rows} == {5, 10, 15}, "q_uniform: multiples of q"
    assert {row["character_repetition_filter.rep_len"] for row in rows} == {5, 10, 15, 20}
    weighted = [row["alphanumeric_filter.max_ratio"] for row in rows]
    assert weighted.count(1.0) / len(weighted) == pytest.approx(0.75, abs=0.08), "probabilities are honoured"


def test_normal_log_normal_and_beta_samples_have_their_distributions_moments() -> None:
    """Calibration: the quantile mapping reproduces each distribution's mean (and spread)."""
    sweep = {"name": "moments", "method": "random", "metric": {"name": "kept_fraction", "goal": "maximize"},
             "parameters": {"a.normal": {"distribution": "normal", "mu": 3.0, "sigma": 2.0},
                            "a.log_normal": {"distribution": "log_normal", "mu": -1.0, "sigma": 0.5},
                            "a.beta": {"distribution": "beta", "a": 2.0, "b": 5.0},
                            "a.q_beta": {"distribution": "q_beta", "a": 0.5, "b": 0.5, "q": 0.1}},
                            "run_cap": 1}
    rows = sample(sweep, 2000, seed=1)
    normal = [row["a.normal"] for row in rows]
    # tolerances of about 3.5 standard errors (normal 2/sqrt(2000) = 0.045, log of the log-normal
    # 0.011, beta(2, 5) 0.0036): a wrong mu, sigma, a or b fails them
    assert statistics.fmean(normal) == pytest.approx(3.0, abs=0.15)
    assert statistics.stdev(normal) == pytest.approx(2.0, rel=0.08)
    assert statistics.fmean(math.log(row["a.log_normal"]) for row in rows) == pytest.approx(-1.0, abs=0.04)
    assert statistics.fmean(row["a.beta"] for row in rows) == pytest.approx(2 / 7, abs=0.012)
    assert all(0 <= row["a.beta"] <= 1 for row in rows)
    q_beta = [row["a.q_beta"] for row in rows]
    assert statistics.fmean(q_beta) == pytest.approx(0.5, abs=0.03) and all(on_grid(v, 0.1) for v in q_beta)
    # beta(0.5, 0.5) piles up at both ends: the rounded end points carry the most mass
    assert q_beta.count(0.0) + q_beta.count(1.0) > 0.25 * len(q_beta)


def test_nested_blocks_set_op_arguments_and_keys_inside_dict_arguments() -> None:
    from sandbox.recipe.recipe_file import apply_params

    sweep = parse_sweep({"metric": {"name": "docs"}, "parameters": {
        "text_length_filter": {"parameters": {"min_len": {"values": [5]}}},
        "my_op": {"parameters": {"options": {"parameters": {"depth": {"value": 3}}}}}}, "run_cap": 1},
        "nested.yaml")
    names = [parameter_name(parameter.__dict__) for parameter in sweep.parameters]
    assert names == ["text_length_filter.min_len", "my_op.options.depth"]
    recipe = {"process": [{"text_length_filter": {"min_len": 50}}, {"my_op": None}]}
    applied = apply_params(recipe, {"text_length_filter.min_len": 5, "my_op.options.depth": 3})
    assert applied["process"] == [{"text_length_filter": {"min_len": 5}},
                                  {"my_op": {"options": {"depth": 3}}}]


def test_a_nested_key_inside_a_scalar_argument_is_refused() -> None:
    from sandbox.hpo.sweep_check import check_dict_arguments

    sweep = parse_sweep({"metric": {"name": "docs"}, "run_cap": 1, "parameters": {
        "text_length_filter": {"parameters": {"min_len": {"parameters": {"x": {"values": [1, 2]}}}}}}},
        "deep.yaml")
    recipe = {"process": [{"text_length_filter": {"min_len": 50}}]}
    with pytest.raises(InputError, match="deep.yaml: parameter 'text_length_filter.min_len.x' sets key 'x'"):
        check_dict_arguments(sweep, recipe, Path("deep.yaml"))


def test_grid_takes_int_uniform_and_q_uniform_as_wandb_does() -> None:
    sweep = parse_sweep({"method": "grid", "metric": {"name": "docs"}, "parameters": {
        "a.n": {"min": 1, "max": 3}, "a.r": {"distribution": "q_uniform", "min": 0.1, "max": 0.4, "q": 0.1},
        "a.k": {"distribution": "q_uniform", "min": 5, "max": 15, "q": 5}}}, "grid.yaml")
    assert [parameter.values for parameter in sweep.parameters] == [(1, 2, 3), (0.1, 0.2, 0.3), (5, 10)]
    assert type(sweep.parameters[2].values[0]) is int
    assert sweep.run_cap == 18


@pytest.mark.parametrize(
    ("change", "message"),
    [({"target": "kept_fraction >= 0.5"}, "disagree. Fix: keep one of them"),
     ({"metric": {"name": "kept_fraction", "goal": "maximize", "target": "high"}},
      "metric.target must be a number"),
     ({"parameters": {"a.b": {"distribution": "normal", "min": 0, "max": 1}}},
      "keys W&B does not define for it"),
     ({"parameters": {"a.b": {"distribution": "log_uniform_values", "min": 0, "max": 1}}}, "min must be > 0"),
     ({"parameters": {"a.b": {"distribution": "beta", "a": 0}}}, "`a` must be a positive number"),
     ({"parameters": {"a.b": {"values": [1, 2], "probabilities": [0.5]}}}, "one number >= 0 per value"),
     ({"parameters": {"a.b": {"value": 1}, "a": {"parameters": {"b": {"value": 2}}}}}, "given twice"),
     ({"parameters": {"a": {"min": 0, "max": 1}}}, "must name an op and its argument"),
     ({"method": "grid", "parameters": {"a.b": {"distribution": "beta"}}},
      "method 'grid' needs a finite set")],
)
def test_bad_wandb_forms_name_the_file_and_the_fix(change: dict, message: str) -> None:
    sweep = {"method": "random", "metric": {"name": "kept_fraction", "goal": "maximize", "target": 0.9},
             "parameters": {"text_length_filter.min_len": {"min": 0, "max": 100}}, "run_cap": 2, **change}
    with pytest.raises(InputError, match="bad.yaml") as error:
        parse_sweep(sweep, "bad.yaml")
    assert message in str(error.value)
