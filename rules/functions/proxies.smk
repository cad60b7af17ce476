# The input, params and path functions of rules/proxies.smk, which includes this file after its constants.
from sandbox.proxies.registry import REGISTRY as PROXY_REGISTRY


def hf_model_files(wildcards) -> list[str]:
    """The files of the hf proxy's model folder (config, weights, tokenizer): editing one retrains."""
    folder = Path(HF["model"])
    if not (folder / "config.json").is_file():
        raise WorkflowError(
            f"proxies lists hf, but {folder} has no config.json. Fix: set hf.model to a local folder "
            "written by save_pretrained (or holding a config.json, e.g. config/hf/tiny-llama)."
        )
    return sorted(str(path) for path in folder.iterdir() if path.is_file())


def heldout_scores(proxy: str, variant: str, seeds: list[int]) -> list[str]:
    """The per-document held-out scores of a proxy's models of a variant, one file per seed."""
    return [
        f"{OUT}/models/{proxy}/{variant}/seed{seed}/heldout.jsonl" for seed in seeds
    ]


def proxy_targets() -> list[str]:
    """What `all` adds for the configured proxies per variant and seed (the GPT: its probe scores)."""
    return [
        path
        for proxy in PROXIES
        for target in PROXY_REGISTRY[proxy].extra_targets
        for path in expand(f"{OUT}/{target}", variant=VARIANTS, seed=PROXY_SEEDS[proxy])
    ]
