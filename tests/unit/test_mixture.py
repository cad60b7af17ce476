"""The mixture search's parts: swarm weights and their caps, the regression and its optimum, the
out-of-sample interval's calibration, the Data-Juicer export's counts, and the pools' split."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.mixture.export import dj_sample_numbers, document_counts, weights_for_counts
from sandbox.mixture.fit import analyse, best_within_caps, out_of_sample
from sandbox.mixture.swarm import (
    cap_weights,
    draw_weights,
    mixture_documents,
    natural_weights,
    weight_caps,
)
from sandbox.pools.split import SplitError, bucket_of, parse_splitters, pool_names, quantile_edges

POOL_BYTES = [40_000, 25_000, 20_000, 8_000, 4_000, 3_000]
BUDGET = 20_000


def swarm(members: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    natural, caps = natural_weights(POOL_BYTES), weight_caps(POOL_BYTES, BUDGET)
    weights = np.array([draw_weights(seed, member, natural, caps, 1.0, 0.2) for member in range(members)])
    return weights, natural, caps


def test_swarm_weights_sum_to_one_within_caps_and_drop_pools() -> None:
    weights, _, caps = swarm(400)
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert (weights <= caps + 1e-9).all() and (weights >= 0).all()
    # some members switch a pool off (weight 0), none switches off all
    assert (weights == 0).any(axis=1).mean() > 0.3
    assert (weights > 0).any(axis=1).all()
    # member m's draw depends on (seed, m) alone: raising the count keeps the first members
    assert np.array_equal(swarm(10)[0], weights[:10])


def test_cap_weights_moves_the_excess_to_the_other_pools() -> None:
    caps = np.array([0.2, 1.0, 1.0])
    capped = cap_weights(np.array([0.8, 0.1, 0.1]), caps)
    assert capped == pytest.approx([0.2, 0.4, 0.4])
    with pytest.raises(ValueError):
        cap_weights(np.array([1.0, 0.0, 0.0]), caps)


def test_mixture_documents_take_each_pool_share_and_never_repeat_a_document() -> None:
    pools = [[f"a{i} ".encode() * 10 for i in range(50)], [f"b{i} ".encode() * 10 for i in range(5)]]
    documents = mixture_documents(pools, np.array([0.5, 0.5]), 2000, seed=3)
    assert len(documents) == len(set(documents))
    from_b = [document for document in documents if document.startswith(b"b")]
    assert len(from_b) == 5  # pool b holds less than its share: all of it, once
    assert mixture_documents(pools, np.array([1.0, 0.0]), 500, seed=3)[0].startswith(b"a")
    assert not any(d.startswith(b"b") for d in mixture_documents(pools, np.array([1.0, 0.0]), 500, seed=3))


def test_best_within_caps_fills_the_lowest_coefficients_first() -> None:
    weights = best_within_caps(np.array([0.3, -0.2, 0.1, -0.5]), np.array([1.0, 0.5, 1.0, 0.3]))
    assert weights == pytest.approx([0.0, 0.5, 0.2, 0.3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_recovers_a_known_optimum_from_a_noisy_swarm(seed: int) -> None:
    """Known log-linear truth (pools 2 and 4 good, 1 and 6 bad), 0.3 % noise: the fitted optimum is the
    true one and the held-out rank correlation is high."""
    weights, natural, caps = swarm(96, seed)
    truth = np.array([0.08, -0.06, 0.02, -0.10, 0.01, 0.12])
    rng = np.random.default_rng(seed)
    bpb = np.exp(np.log(2.2) + weights @ truth + rng.normal(0, 0.003, len(weights)))
    names = [f"p{k}" for k in range(6)]
    result = analyse(weights, bpb, names, caps, natural, "loglinear", 4, 200, 0.95, seed)
    found = np.array([pool["weight"] for pool in result["pools"]])
    assert found == pytest.approx(best_within_caps(truth, caps), abs=1e-9)
    assert result["out_of_sample"]["spearman"] > 0.9
    assert result["out_of_sample"]["interval"][0] > 0.7
    assert result["predicted_bpb"]["mixture"] < result["predicted_bpb"]["natural"]


def spearman_population(rho: float) -> float:
    """Spearman's correlation of a bivariate normal with Pearson correlation rho."""
    return 6 / np.pi * np.arcsin(rho / 2)


@pytest.mark.parametrize("rho,members", [(0.0, 24), (0.6, 24), (0.9, 40)])
def test_out_of_sample_interval_covers_the_true_rank_correlation(rho: float, members: int) -> None:
    """Simulation: held-out (predicted, measured) pairs from a bivariate normal with a known rank
    correlation; the 95 % percentile bootstrap interval must cover it in about 95 % of swarms (at least
    88 % of 300: a miscalibration to 85 % fails with high probability)."""
    rng = np.random.default_rng(int(rho * 100) + members)
    truth = spearman_population(rho)
    covered = excludes_zero = 0
    runs = 300
    for run in range(runs):
        pairs = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], members)
        check = out_of_sample(pairs[:, 0], pairs[:, 1], 300, 0.95, run)
        low, high = check["interval"]
        covered += low <= truth <= high
        excludes_zero += low > 0 or high < 0
    assert covered / runs >= 0.88
    if rho == 0.0:  # the null: a fit with no skill is rarely called one
        assert excludes_zero / runs <= 0.12
    if rho == 0.6:  # power: 24 held-out members see a fit this good most of the time
        assert excludes_zero / runs >= 0.75


def test_dj_sample_numbers_is_data_juicers_own_rule() -> None:
    from data_juicer.core.data.dataset_builder import get_sample_numbers

    rng = np.random.default_rng(0)
    for _ in range(500):
        weights = rng.dirichlet(np.ones(rng.integers(2, 9))) * rng.uniform(0.1, 10)
        total = int(rng.integers(1, 5000))
        assert dj_sample_numbers(weights, total) == get_sample_numbers(list(weights), total)


def test_exported_weights_give_exactly_the_counts() -> None:
    rng = np.random.default_rng(1)
    for _ in range(2000):
        counts = [int(count) for count in rng.integers(0, 3000, rng.integers(2, 10))]
        if sum(counts) == 0:
            continue
        assert dj_sample_numbers(weights_for_counts(counts), sum(counts)) == counts
    # counts as weights fail where float error rounds a count up (why the nudge exists)
    for counts in ([2805, 832, 2447, 2012, 8, 1182], [1910, 1533, 809, 923, 122, 225, 49, 525]):
        assert dj_sample_numbers([float(count) for count in counts], sum(counts)) != counts
        assert dj_sample_numbers(weights_for_counts(counts), sum(counts)) == counts


def test_document_counts_never_exceed_a_pool_and_weight_zero_takes_none() -> None:
    counts = document_counts([0.5, 0.0, 0.5], [100, 100, 10], [10_000, 10_000, 1_000], 20_000)
    assert counts == [100, 0, 10]
    assert dj_sample_numbers(weights_for_counts(counts), sum(counts))[1] == 0


def test_repeats_widen_the_caps_and_the_counts_up_to_max_epochs() -> None:
    # a neural proxy at confirmation: its own budget, each pool repeated up to max_epochs times
    caps = weight_caps(POOL_BYTES, 60_000, max_epochs=4)
    assert np.allclose(caps, np.minimum(1.0, 4 * np.array(POOL_BYTES) / 60_000))
    assert (caps >= weight_caps(POOL_BYTES, 60_000)).all() and caps[0] == 1.0
    coefficients = np.array([0.3, 0.2, 0.1, -0.2, -0.1, 0.0])
    wide = best_within_caps(coefficients, caps)
    narrow = best_within_caps(coefficients, weight_caps(POOL_BYTES, 60_000))
    assert wide[3] == pytest.approx(4 * 8_000 / 60_000)  # the best pool repeated 4 times
    assert wide[3] > narrow[3]
    assert wide.sum() == pytest.approx(1.0) and (wide <= caps + 1e-12).all()
    docs = [400, 250, 200, 80, 40, 30]
    counts = document_counts(wide, docs, POOL_BYTES, 60_000, max_epochs=4)
    assert counts[3] == 320 and all(count <= 4 * pool for count, pool in zip(counts, docs))
    assert document_counts([1.0], [10], [1_000], 100_000, max_epochs=4) == [40]  # never past max_epochs


def test_ranking_variants_name_their_pool() -> None:
    import re

    from sandbox.workflow.variants import VARIANT_PATTERN, is_ranked_pool, ranked_pool, ranked_pool_variant

    variant = ranked_pool_variant("era_1790_1860-quality_q2")
    assert variant == "pool-era_1790_1860-quality_q2" and is_ranked_pool(variant)
    assert ranked_pool(variant) == "era_1790_1860-quality_q2"
    assert re.fullmatch(VARIANT_PATTERN, variant) and not re.fullmatch(VARIANT_PATTERN, "pool-")
    with pytest.raises(ValueError):
        ranked_pool("k_sigma")


def test_pools_are_the_cells_of_the_splitters_crossed() -> None:
    splitters = parse_splitters(["meta.era", "quality"], 2)
    keys = {"meta.era": ["1790-1860", "1790-1860", "1981-2026", "1981-2026"], "quality": [0.1, 0.9, 0.2, 0.8]}
    edges = {"quality": quantile_edges(keys["quality"], 2)}
    assert pool_names(splitters, keys, edges) == [
        "era_1790_1860-quality_q1", "era_1790_1860-quality_q2", "era_1981_2026-quality_q1",
        "era_1981_2026-quality_q2"]
    quarters = quantile_edges(list(range(100)), 4)
    assert [bucket_of(value, quarters) for value in (0, 24, 25, 99)] == [1, 1, 2, 4]


def test_bad_splitters_and_clashing_values_name_the_fix() -> None:
    with pytest.raises(SplitError, match="Fix"):
        parse_splitters(["source"], 2)
    with pytest.raises(SplitError, match="Fix"):
        pool_names(parse_splitters("meta.source", 2), {"meta.source": ["A b", "a-B"]}, {})


def test_plan_resolves_auto_and_says_when_the_search_cannot_run() -> None:
    from sandbox.pools.plan import plan_pools

    pools = {"by": "auto", "buckets": 0, "base": "k_sigma"}
    assert plan_pools(pools, True, True, []).splitters == ["meta.era", "quality"]
    assert plan_pools(pools, True, True, []).buckets == 2
    own = plan_pools(pools, False, True, [])
    assert (own.splitters, own.buckets, own.problem) == (["quality"], 4, "")
    assert "Fix: set trusted_path" in plan_pools(pools, False, False, []).problem
    by_feedback = {**pools, "by": ["feedback:self_loss"]}
    assert "Fix: add self_loss to feedback.methods" in plan_pools(by_feedback, False, True, []).problem
    assert plan_pools(by_feedback, False, True, ["self_loss"]).problem == ""
    assert parse_splitters(["feedback:self_loss", "meta.source"], 2)[0].label == "self_loss"


def test_pool_manipulations_keep_documents_unchanged() -> None:
    from sandbox.pools import manipulate

    first = [{"text": f"a{i}", "sandbox_row": 2 * i} for i in range(6)]
    second = [{"text": f"b{i}", "sandbox_row": 2 * i + 1} for i in range(3)]
    assert manipulate.combine([second, first])[:3] == second
    assert manipulate.duplicate(second, 2) == second + second
    sample = manipulate.downsample(first, 3, seed=1)
    assert len(sample) == 3 and all(record in first for record in sample)
    assert sample == manipulate.downsample(first, 3, seed=1)  # seeded
    assert manipulate.downsample(second, 10, seed=1) == second  # a smaller pool whole
    merged = manipulate.merge([second, first, second])
    assert [record["sandbox_row"] for record in merged] == [0, 1, 2, 3, 4, 5, 6, 8, 10]
    with pytest.raises(ValueError):
        manipulate.duplicate(first, 0)
    # cut to bytes (a neural proxy's ranking data): what fits, seeded, in the pool's order
    cut = manipulate.downsample_bytes(first, 9, seed=3)
    assert len(cut) == 3 and cut == sorted(cut, key=lambda record: record["sandbox_row"])
    assert cut == manipulate.downsample_bytes(first, 9, seed=3)
    assert cut != manipulate.downsample_bytes(first, 9, seed=4)
    assert len(manipulate.downsample_bytes(first, 1, seed=3)) == 1  # at least one document
