# The input, params and path functions of rules/recipe.smk, which includes this file after its constants.
from sandbox.workflow.variants import is_feedback, is_raw, is_trial, trial_number


def analyzed_data(wildcards) -> str:
    """What an analysis stage reads: the raw pool, or a variant's processed data."""
    if is_raw(wildcards.stage):
        return f"{OUT}/data/pool.jsonl"
    return f"{OUT}/processed/{wildcards.stage}/data.jsonl"


def variant_recipe(wildcards) -> str:
    """The recipe a processed variant runs: the user's (checked), the k-sigma one, a feedback
    variant's (recipes/<variant>.yaml), or an HPO trial's."""
    if is_trial(wildcards.processed):
        return f"{OUT}/hpo/trials/{trial_number(wildcards.processed)}/recipe.yaml"
    return f"{OUT}/recipes/{wildcards.processed}.yaml"


def process_analysis(wildcards) -> dict[str, str | list[str]]:
    """The analysis a processed variant's mask path reads: HPO trials of a feedback base read its own;
    a feedback variant also its filter's cached stat of the pool (rule feedback_scores).
    """
    trial = is_trial(wildcards.processed)
    analysis = HPO_ANALYSIS if trial else f"{OUT}/analysis/raw"
    recipe = HPO_ANALYZED_RECIPE if trial else f"{OUT}/recipes/recipe.yaml"
    return {
        "analyzed_recipe": recipe,
        "pool_with_stats": f"{analysis}/with_stats.jsonl",
        "stats_cache": f"{analysis}/stats.parquet",
        "model_stats": (
            [f"{OUT}/analysis/raw/{wildcards.processed}.parquet"]
            if is_feedback(wildcards.processed)
            else []
        ),
    }
