# The input, params and path functions of rules/datamodels.smk, which includes this file after its constants.


def datamodel_chunks() -> list[str]:
    """The chunk files of models 0..models-1, models_per_job each (the last may be shorter)."""
    size, total = DM["models_per_job"], DM["models"]
    return [
        f"{DM_DIR}/chunks/{start}-{min(start + size, total)}.npz"
        for start in range(0, total, size)
    ]


def datamodel_group_inputs(wildcards) -> dict[str, str]:
    """Operator groups read the recipe and the pool's stats cache (the raw analysis, or a feedback
    recipe's own); metadata groups need neither."""
    if DM["group_by"] != "ops":
        return {}
    return {"recipe": DM_RECIPE, "stats_cache": f"{DM_ANALYSIS}/stats.parquet"}
