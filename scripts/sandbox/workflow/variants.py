"""The variants every verdict is measured against, by name, and what kind each variant is: the one
place a variant's kind is decided. The rules, the scripts and the Snakefile call these functions
instead of testing names (rules' file patterns such as recipes/feedback_{method}.yaml follow them).

raw is the pool as it came; k_sigma is the sandbox's own suggestion (the recipe with thresholds refined
from the raw stats); oracle is the pool's clean documents only, the best a cleaning could do. raw and
k_sigma are references (each variant is compared with them); oracle is the ceiling of the gain.

Besides the configured variants (raw, recipe, k_sigma, oracle), a run makes feedback_<method> (the
recipe plus a model-feedback filter, rules/feedback.smk) and trial<N> (HPO trial N's recipe,
rules/hpo.smk); the mixture search (rules/pools.smk) makes mixture (the searched mixture of the data
pools, sampled by dj-process), its baselines natural and uniform, best_pool (the top-ranked pool) and
pool-<pool> (a pool cut to the ranking's size, for a neural proxy that ranks the pools).
Imported by Snakemake at DAG time: standard library only.
"""

from __future__ import annotations

RAW = "raw"
RECIPE = "recipe"
K_SIGMA = "k_sigma"
ORACLE = "oracle"
# What every variant is compared with, in the order the tables and figures show them.
REFERENCES = (RAW, K_SIGMA)
# The recipe as given and its k-sigma refinement: the processed variants a config lists, each
# analysed once more after processing (the analysis stages besides raw).
RECIPE_VARIANTS = (RECIPE, K_SIGMA)

# The mixture search's candidate and its references (rules/pools.smk).
MIXTURE = "mixture"
NATURAL = "natural"
UNIFORM = "uniform"
BEST_POOL = "best_pool"
# The variants dj-process samples from the pools by an exported dataset config.
MIXTURES = (MIXTURE, NATURAL, UNIFORM)
MIXTURE_VARIANTS = (*MIXTURES, BEST_POOL)

_FEEDBACK = "feedback_"
_TRIAL = "trial"
# A pool cut to the ranking's size, which a neural proxy trains to rank the pools (pools.proxies).
_RANKED_POOL = "pool-"
# sandbox.pools.split.POOL_PATTERN, repeated: this module imports nothing of the package
_POOL_NAME = r"[a-z0-9_]+(-[a-z0-9_]+)*"

# Wildcard constraints (rules/common.smk): every variant, those Data-Juicer processes, the analysed stages.
VARIANT_PATTERN = (
    rf"{RAW}|{RECIPE}|{K_SIGMA}|{ORACLE}|{_TRIAL}\d+|{_FEEDBACK}[a-z_]+|{MIXTURE}|{NATURAL}|{UNIFORM}|{BEST_POOL}"
    rf"|{_RANKED_POOL}{_POOL_NAME}"
)
MIXTURE_PATTERN = f"{MIXTURE}|{NATURAL}|{UNIFORM}"
PROCESSED_PATTERN = rf"{RECIPE}|{K_SIGMA}|{_TRIAL}\d+|{_FEEDBACK}[a-z_]+"
STAGE_PATTERN = f"{RAW}|{RECIPE}|{K_SIGMA}"


def comparison_key(variant: str, reference: str) -> str:
    """The key of a comparison in summary.json, e.g. 'recipe_vs_raw'."""
    return f"{variant}_vs_{reference}"


def is_raw(variant: str) -> bool:
    """The pool as it came (also the analysis stage of the unprocessed pool)."""
    return variant == RAW


def is_oracle(variant: str) -> bool:
    """The pool's clean-tagged documents only (data/oracle.jsonl), not a recipe's output."""
    return variant == ORACLE


def is_recipe_variant(variant: str) -> bool:
    """The recipe as given or its k-sigma refinement (RECIPE_VARIANTS)."""
    return variant in RECIPE_VARIANTS


def is_feedback(variant: str) -> bool:
    """A model-feedback variant, feedback_<method>: the base recipe plus the method's filter."""
    return variant.startswith(_FEEDBACK)


def _named_part(variant: str, prefix: str, kind: str, part: str) -> str:
    """What follows a prefixed variant's prefix (a feedback method, a trial number, a pool); ValueError
    naming the expected form for any other variant."""
    if not variant.startswith(prefix):
        raise ValueError(f"{variant}: not {kind} ({prefix}{part})")
    return variant.removeprefix(prefix)


def is_mixture_variant(variant: str) -> bool:
    """A variant of the mixture search: mixture, natural, uniform (sampled from the pools by dj-process)
    or best_pool."""
    return variant in MIXTURE_VARIANTS


def is_ranked_pool(variant: str) -> bool:
    """A pool cut to the ranking's size (pool-<pool>): what a neural proxy trains to rank the pools."""
    return variant.startswith(_RANKED_POOL)


def ranked_pool_variant(pool: str) -> str:
    """The ranking variant of a pool, e.g. 'pool-era_1-quality_q1' for era_1-quality_q1."""
    return f"{_RANKED_POOL}{pool}"


def ranked_pool(variant: str) -> str:
    """The pool of a ranking variant, e.g. 'era_1-quality_q1' for pool-era_1-quality_q1."""
    return _named_part(variant, _RANKED_POOL, "a pool's ranking variant", "<pool>")


def sizes_ngram_budget(variant: str) -> bool:
    """Whether the variant is one of the judged variants whose size sets the n-gram's budget (raw, recipe,
    k_sigma, feedback_<method>); not the oracle (a ceiling, not a recipe) or an HPO trial."""
    return is_raw(variant) or is_recipe_variant(variant) or is_feedback(variant)


def feedback_variant(method: str) -> str:
    """The variant of a feedback method, e.g. 'feedback_self_loss' for self_loss."""
    return f"{_FEEDBACK}{method}"


def feedback_method(variant: str) -> str:
    """The feedback method of a feedback variant, e.g. 'self_loss' for feedback_self_loss."""
    return _named_part(variant, _FEEDBACK, "a feedback variant", "<method>")


def is_trial(variant: str) -> bool:
    """An HPO trial's variant, trial<N>: its data and models are the search's (hpo.seeds)."""
    return variant.startswith(_TRIAL)


def trial_variant(number: int) -> str:
    """The variant of HPO trial number, e.g. 'trial3' for 3."""
    return f"{_TRIAL}{number}"


def trial_number(variant: str) -> int:
    """The trial number of an HPO trial's variant, e.g. 3 for trial3."""
    return int(_named_part(variant, _TRIAL, "an HPO trial variant", "<N>"))


def is_processed(variant: str) -> bool:
    """Variants made by Data-Juicer's executor from a recipe (HPO trials and feedback variants
    included): they have processed/<variant>/ and its removed documents; raw and oracle do not."""
    return is_recipe_variant(variant) or is_trial(variant) or is_feedback(variant)
