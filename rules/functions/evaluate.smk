# The input, params and path functions of rules/evaluate.smk, which includes this file after its constants.
from types import SimpleNamespace
from sandbox.workflow.variants import is_trial


def quality_input(wildcards) -> list[str]:
    """A variant's quality scores, where the data evaluator runs (not for HPO trials: their data
    metrics are the search's, and a search does not read them)."""
    if not QUALITY_SCORED or is_trial(wildcards.variant):
        return []
    return [f"{OUT}/quality/{wildcards.variant}.json"]


def provenance_inputs(wildcards) -> list[str]:
    """The data files the experiment's numbers depend on, to be hashed (the eval split's labels too)."""
    if USES_DEMO:
        return [f"{OUT}/demo/pool.jsonl", f"{OUT}/demo/eval.jsonl", EVAL_SPLIT]
    extra = [config["eval_path"]] if config["eval_path"] else []
    return (
        [config["dataset_path"]] + extra + ([TRUSTED] if TRUSTED else []) + [EVAL_SPLIT]
    )


def summary_sources() -> list[str]:
    """The files summary.json describes: the evaluations and everything they were computed from."""
    files = [f"{OUT}/provenance.json"]
    for proxy in PROXIES:
        for variant in VARIANTS:
            heldout = heldout_scores(proxy, variant, seeds_of(proxy, variant))
            files += heldout + [
                path.replace("heldout.jsonl", "train_meta.json") for path in heldout
            ]
            files += [f"{OUT}/eval/{proxy}/{variant}.json"]
    for variant in VARIANTS:
        files += [f"{OUT}/data_metrics/{variant}.json"]
        files += sorted({proxy_training_data_of(variant, proxy) for proxy in PROXIES})
    return files + downstream_results() + downstream_results("items.jsonl")


def ngram_budget_arg(wildcards, input) -> str:
    """Params function: summarize.py's --ngram-budget, where the summary has the n-gram."""
    return f"--ngram-budget {input.ngram_budget}" if input.ngram_budget else ""


def proxy_design_arg(wildcards) -> str:
    """Params function: summarize.py's --design for one proxy's early verdict."""
    return json.dumps({wildcards.proxy: DESIGN_BY_PROXY[wildcards.proxy]})
