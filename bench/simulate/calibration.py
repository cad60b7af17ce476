"""Simulated experiments that check the paired comparison's false-positive rate and power.

Each experiment is one comparison of two variants on one eval set: per-document bits of the
difference, per seed, built from three variance components of the bpb difference (each model's
own offset, a per-document effect shared by the seeds, a per-seed-and-document interaction) and
the demo eval set's document lengths. All experiments of a setting go through
sandbox.stats.bootstrap.paired_test at once, so thousands take seconds. tests/unit/test_calibration.py and
bench/calibration.py both run these.

The noise sizes come from the project: `ngram` from 3 demo-sized variants x 8 seeds (the demo pool,
it less a random 10 %, its clean documents; 400 eval documents, budget 1.23 MB), `gpt` takes the
per-model offset of issue 24 (0.02 bpb, the GPT rung's seed std) and, as an assumption, per-document
spreads somewhat above the n-gram's.

`ngram, pool >> budget` is the n-gram where each seed trains on its own small sample of a pool several
times its budget, so a model's offset is larger. Its sizes come from bench/power_curve.py's heldout
files on the demo at a budget of 307200 symbols (every variant 3.4-5.7 times that, so each a seeded
subsample; 20 seeds, 400 eval documents; each variant minus raw, per-document bpb d[seed, doc]): the
interaction is the residual of d after its document and seed means (sd 0.069-0.073 bpb over the seven
variants), the document part the spread of d's seed means less the interaction's share (0.012-0.022;
0 for the recipe), the model part half the variance of the per-seed differences less the
interaction's share (sd 0.006-0.008). A real documentation corpus agrees: the seed std of the paired
difference importance-filter minus raw was 0.0123 bpb at a 1.23 MB budget (6 seeds) and 0.0036 at
4.2 MB (4 seeds); with the interaction above, 0.0123 gives a model sd of 0.0082. Taken: model sd 0.008
(the smaller budget's, the harder case), document sd 0.015 (as `ngram`), interaction sd 0.07. With
3 seeds the seeds dominate as the GPT's do; the n-gram's default of 10 seeds is what it is checked at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sandbox.stats.bootstrap import PairedTest, detectable_in_se, detectable_on_binary, paired_test

# The demo eval set's document lengths in bytes: mean 592, sd 313, 201 to 1496.
LENGTH_MEAN, LENGTH_SD, LENGTH_RANGE = 592.0, 313.0, (200.0, 1500.0)


@dataclass(frozen=True)
class Noise:
    """Standard deviations (bpb) of the parts of a per-document difference between two variants."""

    name: str
    model_sd: float  # each variant's model: one offset per seed
    document_sd: float  # per document, the same for every seed
    interaction_sd: float  # per seed and document


NGRAM = Noise("ngram", model_sd=0.0023, document_sd=0.015, interaction_sd=0.03)
# each seed its own sample of a pool several times the budget (the module docstring says how measured)
NGRAM_LARGE_POOL = Noise("ngram, pool >> budget", model_sd=0.008, document_sd=0.015, interaction_sd=0.07)
GPT = Noise("gpt", model_sd=0.02, document_sd=0.02, interaction_sd=0.05)
# a proxy whose seed changes nothing, with the n-gram's per-document spread of one seed
DETERMINISTIC = Noise("deterministic", model_sd=0.0, document_sd=math.hypot(0.015, 0.03), interaction_sd=0.0)


@dataclass(frozen=True)
class Setting:
    noise: Noise
    seeds: int
    docs: int = 400

    @property
    def label(self) -> str:
        return f"{self.noise.name}, {self.seeds} seed{'s' if self.seeds > 1 else ''}, {self.docs} documents"


# ngram.seeds' default is 10; 3 seeds of the large pool shows what the old default cost there
SETTINGS = (Setting(GPT, 3), Setting(GPT, 5), Setting(NGRAM, 2), Setting(NGRAM, 3), Setting(NGRAM, 5),
            Setting(NGRAM, 10), Setting(NGRAM_LARGE_POOL, 3), Setting(NGRAM_LARGE_POOL, 10),
            Setting(DETERMINISTIC, 1))


def document_lengths(rng: np.random.Generator, docs: int) -> np.ndarray:
    """Byte lengths like the demo eval set's: lognormal with its mean and sd, clipped to its range."""
    sigma2 = math.log1p((LENGTH_SD / LENGTH_MEAN) ** 2)
    lengths = rng.lognormal(math.log(LENGTH_MEAN) - sigma2 / 2, math.sqrt(sigma2), docs)
    return np.clip(np.round(lengths), *LENGTH_RANGE)


def simulate(rng: np.random.Generator, setting: Setting, n_bytes: np.ndarray, experiments: int,
             difference: float = 0.0) -> np.ndarray:
    """Bits of (variant A - variant B) per experiment, seed and document: (experiments, seeds, docs)."""
    noise, shape = setting.noise, (experiments, setting.seeds, len(n_bytes))
    # the two variants' models each have an offset, so their difference has sqrt(2) times its sd
    bpb = (difference + math.sqrt(2) * noise.model_sd * rng.standard_normal(shape[:2] + (1,))
           + noise.document_sd * rng.standard_normal((experiments, 1, shape[2]))
           + noise.interaction_sd * rng.standard_normal(shape))
    return bpb * n_bytes


def true_se(setting: Setting, n_bytes: np.ndarray) -> float:
    """The standard error of the mean difference that the simulated components imply."""
    noise, seeds = setting.noise, setting.seeds
    document_share = (n_bytes**2).sum() / n_bytes.sum() ** 2
    return math.sqrt(2 * noise.model_sd**2 / seeds
                     + (noise.document_sd**2 + noise.interaction_sd**2 / seeds) * document_share)


def old_significant(rng: np.random.Generator, cells: np.ndarray, n_bytes: np.ndarray, confidence: float,
                    samples: int) -> np.ndarray:
    """paired_bootstrap v1, for comparison only: a percentile interval over replicates that resample
    documents and, with two or more seeds, seeds (one draw shared by the experiments)."""
    experiments, seeds, docs = cells.shape
    doc_weights = rng.multinomial(docs, np.full(docs, 1.0 / docs), size=samples).astype(np.float64)
    seed_weights = (rng.multinomial(seeds, np.full(seeds, 1.0 / seeds), size=samples).astype(np.float64)
                    if seeds > 1 else np.ones((samples, 1)))
    per_seed = np.tensordot(doc_weights, cells, axes=([1], [2]))  # (samples, experiments, seeds)
    bits = (per_seed * seed_weights[:, None, :]).sum(axis=-1)
    replicates = bits / (seed_weights.sum(axis=1) * (doc_weights @ n_bytes))[:, None]
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    return (low > 0) | (high < 0)


@dataclass(frozen=True)
class Rates:
    setting: Setting
    experiments: int
    false_positive: float
    power_at_3se: float
    power_at_mde: float  # true difference: the minimum detectable effect at the median df of the null runs
    mde_in_se: float  # that MDE in true standard errors
    old_false_positive: float | None


def calibrate(setting: Setting, experiments: int, seed: int = 0, confidence: float = 0.95,
              old_samples: int = 0) -> Rates:
    """False-positive rate and power of paired_test over simulated experiments of one setting."""
    rng = np.random.default_rng(seed)
    n_bytes = document_lengths(rng, setting.docs)
    se = true_se(setting, n_bytes)
    null = simulate(rng, setting, n_bytes, experiments)
    null_test = paired_test(null, n_bytes, confidence)
    # the minimum detectable effect this design states, with the true standard error in it
    mde = float(detectable_in_se(np.median(null_test.df), confidence)) * se

    def power(difference: float) -> float:
        return float(paired_test(simulate(rng, setting, n_bytes, experiments, difference), n_bytes,
                                 confidence).significant.mean())

    old = float(old_significant(rng, null, n_bytes, confidence, old_samples).mean()) if old_samples else None
    return Rates(setting, experiments, float(null_test.significant.mean()), power(3 * se), power(mde),
                 mde / se, old)


def markdown(rows: list[Rates], confidence: float = 0.95) -> str:
    """The calibration table."""
    lines = ["| setting | nominal false-positive rate | false-positive rate | power at 3 SE "
             "| minimum detectable effect (80 % power) | power at that effect | old method's false-positive "
             "rate |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        old = "–" if row.old_false_positive is None else f"{row.old_false_positive:.1%}"
        lines.append(f"| {row.setting.label} | {1 - confidence:.0%} | {row.false_positive:.1%} "
                     f"| {row.power_at_3se:.0%} | {row.mde_in_se:.2f} SE | {row.power_at_mde:.0%} | {old} |")
    return "\n".join(lines)


# Choosing the best of several variants and reporting it: the winner's curse.
CANDIDATES = 5  # the demo's recipe variants (recipe, k_sigma, two threshold variants, feedback)


# simulate_variants draws at most this many cells at once (more experiments go in batches), so that 10
# seeds of 6 variants fit in memory; the tests' 3-seed settings are drawn in one batch, as before
MAX_CELLS = 16_000_000


@dataclass(frozen=True)
class SelectionRates:
    """How often "the selected variant beats raw" is claimed when no variant does (per way of choosing),
    and how often a variant truly better by 3 standard errors (of one comparison on test), and by the
    adjusted comparison's stated minimum detectable effect, is both chosen and claimed."""

    setting: Setting
    experiments: int
    same_documents: float  # chosen and claimed on every eval document
    validation_test: float  # chosen on validation, claimed on test at the nominal confidence
    adjusted: float  # chosen on validation, claimed on test with the interval adjusted for the choice
    power: float  # a candidate better by 3 SE chosen on validation and claimed on test, nominal interval
    power_adjusted: float  # the same with the adjusted interval
    mde_adjusted_in_se: float  # the adjusted comparison's MDE at the null runs' median df, in true SE
    power_at_mde_adjusted: float  # a candidate better by that MDE chosen and claimed, adjusted interval


def simulate_variants(rng: np.random.Generator, setting: Setting, n_bytes: np.ndarray, experiments: int,
                      candidates: int, first_gain: float = 0.0) -> np.ndarray:
    """Bits of (candidate - raw) per experiment, candidate, seed and document; candidate 0 is better by
    first_gain bpb, the others equal to raw. Each variant (raw too) has its own model offset per seed."""
    noise, docs = setting.noise, len(n_bytes)
    shape = (experiments, candidates + 1, setting.seeds)
    bpb = (noise.model_sd * rng.standard_normal(shape + (1,))
           + noise.document_sd / math.sqrt(2) * rng.standard_normal((experiments, candidates + 1, 1, docs))
           + noise.interaction_sd / math.sqrt(2) * rng.standard_normal(shape + (docs,)))
    bpb[:, 1] -= first_gain
    return (bpb[:, 1:] - bpb[:, :1]) * n_bytes


def batches(experiments: int, cells_per_experiment: int) -> list[int]:
    """Experiments per simulate_variants call, each call at most MAX_CELLS cells."""
    size = max(1, MAX_CELLS // cells_per_experiment)
    return [min(size, experiments - start) for start in range(0, experiments, size)]


def claimed_better(cells: np.ndarray, n_bytes: np.ndarray, choose: np.ndarray, report: np.ndarray,
                   confidence: float) -> tuple[np.ndarray, PairedTest]:
    """Per experiment: the candidate with the lowest bpb on the `choose` documents, and its paired test
    on the `report` documents (it is claimed better where the interval lies below 0: test.high < 0)."""
    seeds = cells.shape[2]
    chosen = (cells[..., choose].sum(axis=(-1, -2)) / (seeds * n_bytes[choose].sum())).argmin(axis=1)
    picked = cells[np.arange(len(cells)), chosen][..., report]
    return chosen, paired_test(picked, n_bytes[report], confidence)


def selection_rates(setting: Setting, experiments: int, candidates: int = CANDIDATES, seed: int = 0,
                    confidence: float = 0.95, validation_fraction: float = 0.5) -> SelectionRates:
    """False "better" claims for the chosen variant when none is better, three ways, and the power of the
    choice-adjusted claim (sandbox.stats.bootstrap.selection_confidence) at 3 SE and at the minimum
    detectable effect it states."""
    from sandbox.stats.bootstrap import selection_confidence

    rng = np.random.default_rng(seed)
    n_bytes = document_lengths(rng, setting.docs)
    validation = rng.random(setting.docs) < validation_fraction
    everything = np.ones(setting.docs, dtype=bool)
    adjusted = selection_confidence(confidence, candidates)
    ways = ((everything, everything, confidence), (validation, ~validation, confidence),
            (validation, ~validation, adjusted))
    sizes = batches(experiments, (candidates + 1) * setting.seeds * setting.docs)
    claims: list[list[np.ndarray]] = [[] for _ in ways]
    adjusted_df = []
    for size in sizes:
        null = simulate_variants(rng, setting, n_bytes, size, candidates)
        tests = [claimed_better(null, n_bytes, choose, report, level)[1] for choose, report, level in ways]
        for found, test in zip(claims, tests):
            found.append(test.high < 0)
        adjusted_df.append(tests[-1].df)  # the last way's: validation, test, adjusted
    rates = [float(np.concatenate(found).mean()) for found in claims]
    se = true_se(Setting(setting.noise, setting.seeds, int((~validation).sum())), n_bytes[~validation])
    # the minimum detectable effect the adjusted comparison states, with the true standard error in it
    mde_in_se = float(detectable_in_se(np.median(np.concatenate(adjusted_df)), adjusted))

    def found_by(gain: float, levels: tuple[float, ...]) -> list[float]:
        """Per level: the share of experiments that choose the better candidate and claim it."""
        found: list[list[np.ndarray]] = [[] for _ in levels]
        for size in sizes:
            effect = simulate_variants(rng, setting, n_bytes, size, candidates, gain)
            for hits, level in zip(found, levels):
                chosen, test = claimed_better(effect, n_bytes, validation, ~validation, level)
                hits.append((chosen == 0) & (test.high < 0))
        return [float(np.concatenate(hits).mean()) for hits in found]

    powers = found_by(3 * se, (confidence, adjusted))
    at_mde = found_by(mde_in_se * se, (adjusted,))
    return SelectionRates(setting, experiments, *rates, *powers, mde_in_se, *at_mde)


def selection_markdown(rows: list[SelectionRates], candidates: int = CANDIDATES) -> str:
    """The winner's-curse table."""
    lines = [f"| setting | nominal (one-sided) | chosen and claimed on all documents | chosen on validation, "
             f"claimed on test | same, interval adjusted for the choice of 1 in {candidates} "
             "| power at 3 SE: test | power at 3 SE: adjusted | adjusted minimum detectable effect "
             "| power at it: adjusted |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.setting.label} | 2.5% | {row.same_documents:.1%} | {row.validation_test:.1%} "
                     f"| {row.adjusted:.1%} | {row.power:.0%} | {row.power_adjusted:.0%} "
                     f"| {row.mde_adjusted_in_se:.2f} SE | {row.power_at_mde_adjusted:.0%} |")
    return "\n".join(lines)


# Downstream tasks: the same comparison on per-item accuracies (0 or 1), items in place of documents.


@dataclass(frozen=True)
class ItemSetting:
    """Binary per-item outcomes: each item has a probability of a right answer, Beta(*difficulty) and
    shared by every model, moved per variant by a normal item_sd (what a variant's data teaches about
    that item, the same for all its seeds) and per model (variant and seed) by a normal model_sd; each
    model's answer is one Bernoulli draw."""

    name: str
    difficulty: tuple[float, float]
    model_sd: float
    item_sd: float
    seeds: int
    items: int = 1000

    @property
    def label(self) -> str:
        a, b = self.difficulty
        return (f"{self.name} (Beta({a:g}, {b:g}), model sd {self.model_sd:g}, item sd {self.item_sd:g}), "
                f"{self.seeds} seeds, {self.items} items")


# coin flips: every item a toss-up for every model, so two models' answers differ on 40 % of the items;
# demo-like: answers nearly fixed per item, differing on about 6 % of the items between two models, as
# measured on the demo's sotu_hellaswag (4.5-8 % between seeds or variants; 60-70 % of the items wrong
# and 13-19 % right under all 21 models of a proxy); a seed moves accuracy by a few tenths of a point
COIN_FLIPS, DEMO_LIKE = (2.0, 3.0), (0.05, 0.15)
ITEM_SETTINGS = (ItemSetting("coin flips", COIN_FLIPS, 0.01, 0.0, 3),
                 ItemSetting("coin flips", COIN_FLIPS, 0.01, 0.0, 5),
                 ItemSetting("demo-like", DEMO_LIKE, 0.005, 0.0, 3),
                 ItemSetting("demo-like", DEMO_LIKE, 0.005, 0.05, 3))


def simulate_items(rng: np.random.Generator, setting: ItemSetting, experiments: int,
                   shift: float = 0.0) -> np.ndarray:
    """Accuracy of (variant A - variant B) per experiment, seed and item: (experiments, seeds, items) in
    {-1, 0, 1}; A's probability of a right answer is B's plus `shift` before clipping to [0, 1] (so
    the true difference is smaller where items are near-certain: shift_for finds the shift of a
    difference)."""
    shape = (experiments, setting.seeds, setting.items)
    difficulty = rng.beta(*setting.difficulty, (experiments, 1, setting.items))
    answers = []
    for moved in (shift, 0.0):
        item = setting.item_sd * rng.standard_normal((experiments, 1, setting.items))
        offset = setting.model_sd * rng.standard_normal(shape[:2] + (1,))
        answers.append(rng.random(shape) < np.clip(difficulty + item + offset + moved, 0.0, 1.0))
    return answers[0].astype(np.float64) - answers[1]


def shift_for(setting: ItemSetting, difference: float, draws: int = 400_000, seed: int = 0) -> float:
    """The shift of simulate_items whose true accuracy difference (expected over items and models) is
    `difference`, by bisection on a fixed Monte-Carlo sample of items and model noise."""
    rng = np.random.default_rng(seed)
    base = (rng.beta(*setting.difficulty, draws) + setting.item_sd * rng.standard_normal(draws)
            + setting.model_sd * rng.standard_normal(draws))
    reference = np.clip(base, 0.0, 1.0).mean()
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        if np.clip(base + middle, 0.0, 1.0).mean() - reference < difference:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class ItemRates:
    setting: ItemSetting
    experiments: int
    false_positive: float
    # the stated minimum detectable effect (detectable_on_binary) at the null runs' median df, with the
    # true standard error
    mde: float
    power_at_mde: float


def calibrate_items(setting: ItemSetting, experiments: int, seed: int = 0,
                    confidence: float = 0.95) -> ItemRates:
    """False-positive rate of the item comparison, and its power at the minimum detectable effect it
    states (sandbox.stats.bootstrap.detectable_on_binary, as the downstream summary computes it; as
    calibrate: at the null runs' median df, with the true standard error, here the spread of the null
    estimates) for a true accuracy difference of that size (shift_for)."""
    rng = np.random.default_rng(seed)
    weights = np.ones(setting.items)
    null = paired_test(simulate_items(rng, setting, experiments), weights, confidence)
    mde = float(detectable_on_binary(float(null.estimate.std()), np.median(null.df), setting.items,
                                     confidence))
    effect = paired_test(simulate_items(rng, setting, experiments, shift_for(setting, mde)), weights,
                         confidence)
    return ItemRates(setting, experiments, float(null.significant.mean()), mde,
                     float((effect.significant & (effect.estimate > 0)).mean()))


def items_markdown(rows: list[ItemRates], confidence: float = 0.95) -> str:
    """The item comparison's calibration table."""
    lines = ["| setting | nominal false-positive rate | false-positive rate | minimum detectable effect "
             "(80 % power) | power at that effect |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.setting.label} | {1 - confidence:.0%} | {row.false_positive:.1%} "
                     f"| {100 * row.mde:.2f} points | {row.power_at_mde:.0%} |")
    return "\n".join(lines)
