# The input, params and path functions of rules/ladder.smk, which includes this file after its constants.
from typing import Any
from sandbox.ladder import config as ladder_config


def ladder_scale(proxy: str, wildcards) -> ladder_config.Scale:
    """The scale a ladder job trains (its {scale} wildcard)."""
    return ladder_config.find_scale(config, proxy, wildcards.scale)


def ladder_setting(proxy: str, key: str) -> Callable[..., Any]:
    """Params function: one of the proxy's settings at the job's scale (a size may override it)."""
    return lambda wildcards: {
        **ladder_config.own_settings(config, proxy),
        **ladder_scale(proxy, wildcards).overrides,
    }[key]


def ladder_budget(proxy: str) -> Callable[..., int]:
    """Params function: hf's or command's own byte budget times the job's multiplier."""
    return lambda wildcards: ladder_config.scaled_budget(
        neural_budget(config, proxy), ladder_scale(proxy, wildcards).multiplier
    )


def ladder_files(pattern_of: Callable[[ladder_config.Scale], str]) -> list[str]:
    """One path per (proxy, scale, variant, seed) of the ladder; x1 at a proxy's own size is the main run's."""
    return [
        pattern_of(scale).format(variant=variant, seed=seed)
        for scale in LADDER_SCALES
        for variant in LADDER_VARIANTS
        for seed in LADDER_SEEDS[scale.proxy]
    ]


def ladder_requested() -> bool:
    """Whether this invocation asked for the ladder (the target rule or one of its files)."""
    settings = getattr(workflow, "dag_settings", None)
    targets = settings.targets if settings is not None else []
    return any(
        target == "ladder" or str(target).startswith(LADDER) for target in targets or []
    )


def ladder_summary_input(wildcards) -> list[str]:
    """The ladder summary the main summary's line reads: when the ladder is asked for or exists."""
    if ladder_requested() or Path(LADDER_SUMMARY).exists():
        return [LADDER_SUMMARY]
    return []


def ladder_out(proxy: str, name: str) -> str:
    """A ladder rule's output file name for a proxy (wildcards scale, variant, seed)."""
    return f"{LADDER}/models/{proxy}/{{scale}}/{{variant}}/seed{{seed}}/{name}"


def ladder_log(proxy: str) -> str:
    return f"{LOGS}/ladder/train_{proxy}/{{scale}}/{{variant}}_seed{{seed}}.log"


def ladder_benchmark(proxy: str) -> str:
    return f"{LADDER}/benchmarks/{proxy}/{{scale}}/{{variant}}_seed{{seed}}.tsv"


def ladder_hf_files(wildcards) -> list[str]:
    """The files of the hf model folder of the job's size (hf.model, or the size's model)."""
    folder = Path(ladder_setting("hf", "model")(wildcards))
    return sorted(str(path) for path in folder.iterdir() if path.is_file())
