# The input, params and path functions of rules/downstream.smk, which includes this file after its constants.
from sandbox.downstream.tasks import HARNESS_MODELS


def task_files(wildcards) -> list[str]:
    """A task's YAML and local data files: editing one reruns its jobs."""
    return TASK_SPECS[wildcards.task].files


def downstream_model(wildcards) -> str:
    """The trained model a downstream job loads: model.pt, model.npz or the hf folder."""
    return f"{OUT}/models/{wildcards.proxy}/{wildcards.variant}/seed{wildcards.seed}/{HARNESS_MODELS[wildcards.proxy]}"


def downstream_results(name: str = "results.json") -> list[str]:
    """Every downstream job's results.json (or items.jsonl): task x proxy x variant x seed."""
    return [
        f"{OUT}/downstream/{task}/{proxy}/{variant}/seed{seed}/{name}"
        for task in TASKS
        for proxy in DOWNSTREAM_PROXIES
        for variant in VARIANTS
        for seed in PROXY_SEEDS[proxy]
    ]
