"""k-sigma refinement on real Data-Juicer operator classes: typing, rounding, clamping, untouched args
(refine_k_sigma.py itself: workflow/test_k_sigma_cli.py)."""

from __future__ import annotations

import math

from sandbox.recipe.k_sigma import refine_process, stat_keys_of, threshold_args_of


def op_setup(process: list[dict]) -> tuple[dict[str, type], dict[int, list[str]]]:
    from data_juicer.ops import OPERATORS, Filter
    from data_juicer.ops.load import load_ops

    classes = {name: OPERATORS.modules[name] for entry in process for name in entry}
    stats = {}
    for index, entry in enumerate(process):
        (name,) = entry
        if issubclass(classes[name], Filter):
            stats[index] = stat_keys_of(load_ops([entry])[0])
    return classes, stats


def refine(process: list[dict], overall: dict, k: float):
    classes, stats = op_setup(process)
    return refine_process(process, overall, k, classes, stats)


def test_thresholds_are_mean_minus_and_plus_k_sigma() -> None:
    process = [{"special_characters_filter": {"min_ratio": 0.0, "max_ratio": 0.25}}]
    overall = {"special_char_ratio": {"mean": 0.2, "std": 0.02}}
    refined, changes = refine(process, overall, k=2.0)
    args = refined[0]["special_characters_filter"]
    assert math.isclose(args["min_ratio"], 0.2 - 2 * 0.02)
    assert math.isclose(args["max_ratio"], 0.2 + 2 * 0.02)
    assert {change.arg for change in changes} == {"min_ratio", "max_ratio"}
    assert process[0]["special_characters_filter"]["max_ratio"] == 0.25, \
        "the input recipe must not be modified"


def test_int_arguments_get_ints_rounded_inward() -> None:
    process = [{"text_length_filter": {"min_len": 10, "max_len": 10000}}]
    overall = {"text_len": {"mean": 300.5, "std": 40.3}}
    refined, _ = refine(process, overall, k=3.0)
    args = refined[0]["text_length_filter"]
    assert args["min_len"] == math.ceil(300.5 - 3 * 40.3) and isinstance(args["min_len"], int)
    assert args["max_len"] == math.floor(300.5 + 3 * 40.3) and isinstance(args["max_len"], int)


def test_ratios_clamp_to_unit_interval_and_counts_to_nonnegative() -> None:
    process = [
        {"word_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
        {"words_num_filter": {"min_num": 10, "max_num": 1000}},
    ]
    overall = {"word_rep_ratio": {"mean": 0.1, "std": 0.4}, "num_words": {"mean": 20.0, "std": 30.0}}
    refined, changes = refine(process, overall, k=3.0)
    assert refined[0]["word_repetition_filter"]["min_ratio"] == 0.0
    assert refined[0]["word_repetition_filter"]["max_ratio"] == 1.0
    assert refined[0]["word_repetition_filter"]["rep_len"] == 10, "non-threshold args stay"
    assert refined[1]["words_num_filter"]["min_num"] == 0
    assert refined[1]["words_num_filter"]["max_num"] == 110
    clamped = {(change.op_name, change.arg) for change in changes if change.clamped}
    assert clamped == {("word_repetition_filter", "min_ratio"), ("word_repetition_filter", "max_ratio"),
                       ("words_num_filter", "min_num")}


def test_boolean_min_max_arguments_are_never_thresholds() -> None:
    """Data-Juicer's bundled tool rewrote min_closed_interval=True into a number; we must not."""
    from data_juicer.ops import OPERATORS

    cls = OPERATORS.modules["text_length_filter"]
    names = {arg.name for arg in threshold_args_of(cls)}
    assert names == {"min_len", "max_len"}
    for name in OPERATORS.modules:
        for arg in threshold_args_of(OPERATORS.modules[name]):
            assert "closed" not in arg.name, f"{name}.{arg.name} is not a threshold"


def test_ops_without_stats_are_left_alone() -> None:
    process = [
        {"whitespace_normalization_mapper": {}},
        {"text_length_filter": {"min_len": 5, "max_len": 500}},
        {"document_deduplicator": {"lowercase": False}},
        {"alphanumeric_filter": {"min_ratio": 0.3, "max_ratio": 1.0}},
    ]
    overall = {"text_len": {"mean": 100.0, "std": 10.0}}  # no alnum_ratio in the analysis
    refined, changes = refine(process, overall, k=1.0)
    assert refined[0] == process[0] and refined[2] == process[2] and refined[3] == process[3]
    assert refined[1]["text_length_filter"] == {"min_len": 90, "max_len": 110}
    assert {change.op_name for change in changes} == {"text_length_filter"}
