# The input, params and path functions of rules/data.smk, which includes this file after its constants.


def dataset_input(wildcards) -> str:
    """The pool JSONL: the demo's, or the user's dataset_path."""
    return f"{OUT}/demo/pool.jsonl" if USES_DEMO else config["dataset_path"]


def eval_input(wildcards) -> list[str]:
    """The held-out dataset when there is one (demo, eval_path, the trusted sample's eval half); else
    nothing (held out from the pool)."""
    if EVAL_SOURCE == "demo":
        return [f"{OUT}/demo/eval.jsonl"]
    if EVAL_SOURCE == "trusted":
        return [f"{TRUSTED_SPLIT}/eval.jsonl"]
    return [config["eval_path"]] if config["eval_path"] else []
