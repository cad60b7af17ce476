import json
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def validate_config(config: dict) -> None:
    """Validate the config against the schema; fail with the key, the problem and where to fix it."""
    try:
        validate(config, "../config/schemas/config.schema.yaml")
    except WorkflowError as error:
        raise WorkflowError(
            f"Invalid configuration (config/config.yaml merged with --config/--configfile): {error}\n"
            "Fix: correct the key named above; config/schemas/config.schema.yaml documents every key."
        ) from None


validate_config(config)

EXP = config["experiment"]
OUT = f"results/{EXP}"
LOGS = f"{OUT}/logs"
VARIANTS = config["variants"]
SEEDS = config["seeds"]
PROCESSED = [v for v in VARIANTS if v in ("recipe", "k_sigma")]
ANALYZED_STAGES = ["raw"] + PROCESSED
USES_DEMO = config["dataset_path"] == ""
DJ_THREADS = config["data_juicer"]["np"]
TRAIN = config["train"]


wildcard_constraints:
    variant="|".join(["raw", "recipe", "k_sigma", "oracle"]),
    processed="recipe|k_sigma",
    stage="raw|recipe|k_sigma",
    seed=r"\d+",


def dataset_input(wildcards) -> str:
    """The pool JSONL: the demo's, or the user's dataset_path."""
    return f"{OUT}/demo/pool.jsonl" if USES_DEMO else config["dataset_path"]


def eval_input(wildcards) -> list[str]:
    """The held-out JSONL when there is one (demo or eval_path); else nothing (held out from the pool)."""
    if USES_DEMO:
        return [f"{OUT}/demo/eval.jsonl"]
    return [config["eval_path"]] if config["eval_path"] else []


def analyzed_data(wildcards) -> str:
    """What an analysis stage reads: the raw pool, or a variant's processed data."""
    if wildcards.stage == "raw":
        return f"{OUT}/data/pool.jsonl"
    return f"{OUT}/processed/{wildcards.stage}/data.jsonl"


def variant_recipe(wildcards) -> str:
    """The recipe a processed variant runs: the checked copy of the user's, or the k-sigma one."""
    if wildcards.processed == "recipe":
        return f"{OUT}/recipes/recipe.yaml"
    return f"{OUT}/recipes/k_sigma.yaml"


def training_data(wildcards) -> str:
    """A variant's training documents."""
    if wildcards.variant == "raw":
        return f"{OUT}/data/pool.jsonl"
    if wildcards.variant == "oracle":
        return f"{OUT}/data/oracle.jsonl"
    return f"{OUT}/processed/{wildcards.variant}/data.jsonl"


def variant_data_metrics(wildcards) -> str:
    return f"{OUT}/data_metrics/{wildcards.variant}.json"
