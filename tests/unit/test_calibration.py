"""The paired comparison's calibration, by simulated experiments (simulate.calibration): equal variants
are called different at the nominal rate, and a true difference of the stated minimum detectable
effect is found 4 times in 5."""

from __future__ import annotations

import math

import pytest

from simulate.calibration import (
    DETERMINISTIC,
    GPT,
    ITEM_SETTINGS,
    NGRAM,
    SETTINGS,
    ItemSetting,
    Rates,
    SelectionRates,
    Setting,
    calibrate,
    calibrate_items,
    selection_rates,
)

EXPERIMENTS = 2000
# two Monte-Carlo standard errors of a rate of 0.8 over EXPERIMENTS
POWER_SLACK = 2 * math.sqrt(0.8 * 0.2 / EXPERIMENTS)
# the settings issue 24 names; 2 seeds is checked too but may be conservative (t on 1 df)
CALIBRATED = {(GPT, 3), (GPT, 5), (NGRAM, 3), (NGRAM, 5), (DETERMINISTIC, 1)}


@pytest.fixture(scope="module")
def rates() -> dict[Setting, Rates]:
    return {setting: calibrate(setting, EXPERIMENTS, seed=index) for index, setting in enumerate(SETTINGS)}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.label)
def test_false_positive_rate_is_nominal(rates: dict[Setting, Rates], setting: Setting) -> None:
    rate = rates[setting].false_positive
    if (setting.noise, setting.seeds) in CALIBRATED:
        assert 0.03 <= rate <= 0.07, rate
    else:
        assert rate <= 0.07, rate


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.label)
def test_the_minimum_detectable_effect_is_found_four_times_in_five(rates: dict[Setting, Rates],
                                                                    setting: Setting) -> None:
    assert rates[setting].power_at_mde >= 0.8 - POWER_SLACK, rates[setting]


def test_three_standard_errors_are_found_where_the_documents_dominate(rates: dict[Setting, Rates]) -> None:
    # With few seeds a t-test on 2-4 df cannot find 3 SE 80 % of the time; with many df it must.
    deterministic = next(setting for setting in SETTINGS if setting.noise is DETERMINISTIC)
    assert rates[deterministic].power_at_3se >= 0.8
    assert rates[deterministic].mde_in_se == pytest.approx(2.8, abs=0.05)


def test_the_old_hierarchical_bootstrap_fails_calibration() -> None:
    old = calibrate(Setting(GPT, 3), 1000, seed=7, old_samples=500)
    assert old.old_false_positive > 0.15, "paired_bootstrap v1 called equal variants different too often"
    assert 0.03 <= old.false_positive <= 0.07


@pytest.fixture(scope="module")
def selection() -> dict[str, SelectionRates]:
    return {"deterministic": selection_rates(Setting(DETERMINISTIC, 1), EXPERIMENTS, seed=11),
            "gpt": selection_rates(Setting(GPT, 3), EXPERIMENTS, seed=12)}


def test_choosing_on_validation_and_reporting_on_test_removes_the_documents_winners_curse(
        selection: dict[str, SelectionRates]) -> None:
    rates = selection["deterministic"]
    # one-sided claims ("the chosen variant beats raw") at 95 %: nominal 2.5 %
    assert rates.same_documents > 0.05, "choosing and reporting on the same documents should be optimistic"
    assert 0.01 <= rates.validation_test <= 0.04, rates
    assert rates.power >= 0.75, rates


def test_a_seed_dependent_proxy_keeps_its_training_luck_on_test_unless_the_interval_is_adjusted(
        selection: dict[str, SelectionRates]) -> None:
    rates = selection["gpt"]
    assert rates.validation_test > 0.04, \
        "the same models score validation and test: the split alone should not do"
    assert rates.adjusted <= 0.03, rates
    assert rates.power_adjusted > 0.05, rates


# Downstream tasks: the same comparison on binary per-item accuracies (sandbox.downstream.summary).
# The interval is never narrower than the t-interval over seeds alone, which binds where the seed-to-seed
# spread is mostly the models' coin flips on items, so it is conservative. Its minimum detectable effect
# is found 4 times in 5 where items are toss-ups; where answers are nearly fixed per item (the demo), an
# effect makes new discordant items, so the variance grows with the effect and the stated effect is found
# less often.
COIN_FLIPS_3, DEMO_LIKE_3 = (next(setting for setting in ITEM_SETTINGS
                                  if setting.name == name and setting.seeds == 3)
                             for name in ("coin flips", "demo-like"))


@pytest.mark.parametrize("setting", [COIN_FLIPS_3, DEMO_LIKE_3], ids=lambda setting: setting.label)
def test_item_accuracy_comparison_is_valid_and_conservative(setting: ItemSetting) -> None:
    rates = calibrate_items(setting, EXPERIMENTS, seed=21)
    assert 0.01 <= rates.false_positive <= 0.07, rates
    floor = 0.8 - POWER_SLACK if setting is COIN_FLIPS_3 else 0.65
    assert rates.power_at_mde >= floor, rates
