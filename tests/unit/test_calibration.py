"""The paired comparison's calibration, by simulated experiments (simulate.calibration): equal variants
are called different at the nominal rate, and a true difference of the stated minimum detectable
effect is found 4 times in 5."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox.stats.bootstrap import detectable_in_se, detectable_on_binary, paired_test
from sandbox.stats.power import seeds_to_detect
from simulate.calibration import (
    DEMO_LIKE,
    DETERMINISTIC,
    GPT,
    ITEM_SETTINGS,
    NGRAM,
    NGRAM_LARGE_POOL,
    SETTINGS,
    ItemSetting,
    Rates,
    SelectionRates,
    Setting,
    calibrate,
    calibrate_items,
    document_lengths,
    selection_rates,
    simulate,
)

EXPERIMENTS = 2000
# two Monte-Carlo standard errors of a rate of 0.8 over EXPERIMENTS
POWER_SLACK = 2 * math.sqrt(0.8 * 0.2 / EXPERIMENTS)
# the settings issues 24 and 33 name; 2 seeds is checked too but may be conservative (t on 1 df)
CALIBRATED = {(GPT, 3), (GPT, 5), (NGRAM, 3), (NGRAM, 5), (NGRAM, 10), (NGRAM_LARGE_POOL, 3),
              (NGRAM_LARGE_POOL, 10), (DETERMINISTIC, 1)}


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


# the n-gram's default of 10 seeds (issue 33), on the demo and where the pool is much larger than the
# budget, and the old 3 seeds there: fewer experiments, as 10 seeds of 6 variants cost 3 times as much
NGRAM_DEFAULTS = (Setting(NGRAM, 10), Setting(NGRAM_LARGE_POOL, 3), Setting(NGRAM_LARGE_POOL, 10))
SELECTION_EXPERIMENTS = 1000


@pytest.fixture(scope="module")
def selection() -> dict[str, SelectionRates]:
    return {"deterministic": selection_rates(Setting(DETERMINISTIC, 1), EXPERIMENTS, seed=11),
            "gpt": selection_rates(Setting(GPT, 3), EXPERIMENTS, seed=12),
            **{setting.label: selection_rates(setting, SELECTION_EXPERIMENTS, seed=13 + index)
               for index, setting in enumerate(NGRAM_DEFAULTS)}}


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


@pytest.mark.parametrize("key", ["deterministic", "gpt", *(setting.label for setting in NGRAM_DEFAULTS)])
def test_the_adjusted_claim_on_the_chosen_variant_is_conservative_and_finds_its_stated_effect(
        selection: dict[str, SelectionRates], key: str) -> None:
    # What the verdict claims: the variant chosen on validation beats raw on test, interval adjusted for
    # the choice (one-sided, nominal 2.5 %; conservative), and the minimum detectable effect it states is
    # found (chosen and claimed) about 4 times in 5: 78.6 % and 79.2 % for the 10-seed settings at 6000
    # experiments (Monte-Carlo SE 0.5 points), so 3 Monte-Carlo SEs of slack here
    rates = selection[key]
    false_se = math.sqrt(0.025 * 0.975 / rates.experiments)
    assert rates.adjusted <= 0.025 + 2 * false_se, f"{rates}; Monte-Carlo SE {false_se:.4f}"
    power_se = math.sqrt(0.8 * 0.2 / rates.experiments)
    assert rates.power_at_mde_adjusted >= 0.8 - 3 * power_se, f"{rates}; Monte-Carlo SE {power_se:.4f}"


# Downstream tasks: the same comparison on binary per-item accuracies (sandbox.downstream.summary).
# The interval is never narrower than the t-interval over seeds alone, which binds where the seed-to-seed
# spread is mostly the models' coin flips on items, so it is conservative. The minimum detectable effect
# it states (detectable_on_binary) counts the variance an effect adds to binary answers: where answers
# are nearly fixed per item (the demo), an effect makes new discordant items, and the null's standard
# error alone states an effect that is found only about 72 % of the time.
COIN_FLIPS_3, DEMO_LIKE_3 = (next(setting for setting in ITEM_SETTINGS
                                  if setting.name == name and setting.seeds == 3)
                             for name in ("coin flips", "demo-like"))


@pytest.mark.parametrize("setting", [COIN_FLIPS_3, DEMO_LIKE_3], ids=lambda setting: setting.label)
def test_item_accuracy_comparison_is_valid_and_conservative(setting: ItemSetting) -> None:
    rates = calibrate_items(setting, EXPERIMENTS, seed=21)
    assert 0.01 <= rates.false_positive <= 0.07, rates
    assert rates.power_at_mde >= 0.8 - POWER_SLACK, f"{rates}; Monte-Carlo SE {POWER_SLACK / 2:.4f}"


def test_the_binary_minimum_detectable_effect_holds_where_the_effect_brings_its_variance() -> None:
    # One model per variant (a seed-free proxy: the items' variance sets the interval, the case where
    # detectable_on_binary is tight), answers nearly fixed per item (demo-like), and an effect that turns
    # wrong answers right on a random share of the items: found 4 times in 5 at the stated effect, while
    # the effect stated from the null's standard error alone is found less often.
    rng = np.random.default_rng(31)
    items, (a, b) = 1000, DEMO_LIKE

    def differences(effect: float) -> np.ndarray:
        """Accuracy of (treated - baseline) per experiment and item, (EXPERIMENTS, 1, items); the
        expected difference is `effect` (a wrong answer, 1 - a / (a + b) of them, turns right with
        probability effect / that)."""
        right = rng.beta(a, b, (EXPERIMENTS, 1, items))
        baseline = rng.random(right.shape) < right
        turned = rng.random(right.shape) < effect / (1 - a / (a + b))
        return ((rng.random(right.shape) < right) | turned).astype(np.float64) - baseline

    def found(effect: float) -> float:
        test = paired_test(differences(effect), np.ones(items), 0.95)
        return float((test.significant & (test.estimate > 0)).mean())

    null = paired_test(differences(0.0), np.ones(items), 0.95)
    # nominal 5 %, accepted in [3 %, 7 %] as above (4 Monte-Carlo SEs)
    false_se = math.sqrt(0.05 * 0.95 / EXPERIMENTS)
    assert 0.03 <= null.significant.mean() <= 0.07, \
        f"false-positive rate {null.significant.mean():.4f}, Monte-Carlo SE {false_se:.4f}"
    se, df = float(null.estimate.std()), float(np.median(null.df))
    stated = float(detectable_on_binary(se, df, items, 0.95))
    assert stated > float(detectable_in_se(df, 0.95)) * se
    power_se = POWER_SLACK / 2
    assert found(stated) >= 0.8 - POWER_SLACK, f"stated {stated:.4f}; Monte-Carlo SE {power_se:.4f}"
    assert found(float(detectable_in_se(df, 0.95)) * se) < 0.8 - POWER_SLACK, \
        f"the null's standard error alone should understate it; Monte-Carlo SE {power_se:.4f}"


# What a "Not shown" verdict proposes (sandbox.stats.power.seeds_to_detect): the seed count at which the
# minimum detectable effect reaches the observed effect. Checked with the variance components a 3-seed
# run estimates on average (the mean of its squared standard errors): at the projected count, a true
# effect of that size is found at least 4 times in 5 (measured at commit time: 0.90 for the large pool at
# 95 %, 0.96 for the demo's n-gram, whose document component holds the interaction the projection does
# not shrink, 0.84 for the GPT). One run's own estimate scatters around that: from 3 seeds, the projected
# count for the large pool was 5 / 9 / 17 at the quartiles of 1000 runs (13 with the mean components).
PROJECTIONS = [(NGRAM_LARGE_POOL, 0.012), (NGRAM, 0.004), (GPT, 0.03)]


@pytest.mark.parametrize(("noise", "effect"), PROJECTIONS, ids=lambda value: getattr(value, "name", value))
def test_the_projected_seed_count_finds_the_effect_four_times_in_five(noise, effect: float) -> None:
    rng = np.random.default_rng(41)
    n_bytes = document_lengths(rng, 400)
    pilot = paired_test(simulate(rng, Setting(noise, 3), n_bytes, EXPERIMENTS, effect), n_bytes, 0.95)
    assert pilot.significant.mean() < 0.5, "the pilot should be underpowered for the projection to matter"
    comparison = {"significant": False, "n_seeds": 3, "n_docs": len(n_bytes), "confidence": 0.95,
                  "se_seeds": float(np.sqrt(np.mean(pilot.se_seeds**2))),
                  "se_documents": float(np.sqrt(np.mean(pilot.se_documents**2))),
                  "mean_difference": effect, "relative_percent": effect * 50}
    seeds = seeds_to_detect(comparison)["seeds"]
    assert seeds is not None and seeds > 3
    found = paired_test(simulate(rng, Setting(noise, seeds), n_bytes, EXPERIMENTS, effect), n_bytes, 0.95)
    power = float((found.significant & (found.estimate > 0)).mean())
    assert power >= 0.8 - POWER_SLACK, f"{seeds} seeds: power {power:.3f}"


def test_no_seed_count_is_proposed_where_the_documents_alone_cannot_see_the_effect() -> None:
    rng = np.random.default_rng(43)
    n_bytes = document_lengths(rng, 400)
    pilot = paired_test(simulate(rng, Setting(NGRAM_LARGE_POOL, 3), n_bytes, 500, 0.0), n_bytes, 0.99)
    se_documents = float(np.sqrt(np.mean(pilot.se_documents**2)))
    # an effect below 2 document standard errors: no t-test at 99 % finds it 4 times in 5
    comparison = {"significant": False, "n_seeds": 3, "n_docs": len(n_bytes), "confidence": 0.99,
                  "se_seeds": float(np.sqrt(np.mean(pilot.se_seeds**2))), "se_documents": se_documents,
                  "mean_difference": 2 * se_documents, "relative_percent": 2 * se_documents * 50}
    projection = seeds_to_detect(comparison)
    assert projection["seeds"] is None
    assert projection["documents_floor_percent"] > 2 * se_documents * 50
