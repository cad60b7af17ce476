# The input, params and path functions of rules/hpo.smk, which includes this file after its constants.
import functools
import json
from sandbox.data.eval_set import judges_cleaning, no_clean_eval_message
from sandbox.hpo.sweep import load_sweep, stop_reason, trials_in_round
from sandbox.proxies.registry import REGISTRY as PROXY_REGISTRY
from sandbox.workflow.variants import REFERENCES, trial_variant


@functools.cache
def sweep():
    """The sweep config, read only when an HPO job is asked for; errors name the file and the fix.

    A model metric is refused on an eval set split from the pool: it would tune the recipe towards the
    pool's own noise (data-only metrics still run).
    """
    try:
        loaded = load_sweep(config["hpo"]["sweep"])
    except InputError as error:
        raise WorkflowError(str(error)) from None
    if loaded.needs_training and not judges_cleaning(EVAL_SOURCE):
        raise WorkflowError(
            f"{loaded.path}: metric {loaded.metric} scores models on the eval set. "
            f"{no_clean_eval_message()} A data-only metric (e.g. kept_fraction) runs without one."
        )
    tag_metric = loaded.metric.split("@")[0] in ("noise_precision", "noise_recall")
    if (
        tag_metric
        and not USES_DEMO
        and not first_record_has_origin(config["dataset_path"])
    ):
        raise WorkflowError(
            f"{loaded.path}: metric {loaded.metric} counts removed documents tagged noise, and "
            f"{config['dataset_path']} has no meta.origin tag on its first document. Fix: tag every "
            "document ('clean' or 'noise:<kind>'), or choose kept_fraction, docs or heldout_bpb."
        )
    return loaded


def sweep_proxy() -> str:
    """The proxy a sweep's model metric names (heldout_bpb@ngram), else the first configured one."""
    return sweep().proxy or PROXIES[0]


def trial_metric_file(trial: int) -> str:
    """A trial's evaluation: the full one (trains models of one proxy) or only its data metrics."""
    if sweep().needs_training:
        return f"{OUT}/eval/{sweep_proxy()}/trial{trial}.json"
    return f"{OUT}/data_metrics/trial{trial}.json"


def batched_rounds() -> bool:
    """A round runs as one job when nothing in it needs a GPT: the metric is a data metric or
    names a proxy trained in-process (the n-gram; hpo.batched switches this off)."""
    return config["hpo"]["batched"] and (
        not sweep().needs_training or PROXY_REGISTRY[sweep_proxy()].hpo_round_in_one_job
    )


def round_evaluations(wildcards) -> list[str]:
    """What hpo_tell reads for a round: its batched evaluation, or one file per trial."""
    if batched_rounds():
        return [f"{HPO}/rounds/{wildcards.round}.eval.json"]
    return [trial_metric_file(trial) for trial in round_trials(wildcards)]


def round_trial_files(name: str):
    """Input function: a file of every trial of the round (params.json, recipe.yaml)."""
    return lambda wildcards: [
        f"{HPO}/trials/{trial}/{name}" for trial in round_trials(wildcards)
    ]


def previous_round(wildcards) -> list[str]:
    """Trials of round r are asked only after round r-1 was told (so the sampler learns from it)."""
    round_index = int(wildcards.trial) // sweep().parallel_trials
    return [f"{HPO}/rounds/{round_index - 1}.json"] if round_index > 0 else []


def round_trials(wildcards) -> list[int]:
    return trials_in_round(int(wildcards.round), sweep())


def finished_rounds(wildcards) -> list[str]:
    """Round files until the search stops: cap reached, target met or patience exhausted."""
    rounds, values, round_index = [], [], 0
    while True:
        told = checkpoints.hpo_tell.get(round=round_index).output[0]
        rounds.append(told)
        with open(told) as handle:
            values += [trial["value"] for trial in json.load(handle)["trials"]]
        if stop_reason(values, sweep()) or not trials_in_round(
            round_index + 1, sweep()
        ):
            return rounds
        round_index += 1


def finished_trials(wildcards) -> list[dict]:
    """Every told trial of the finished rounds: {trial, params, value, ...}."""
    trials = []
    for told in finished_rounds(wildcards):
        with open(told) as handle:
            trials += json.load(handle)["trials"]
    return trials


def confirmed_trials(wildcards) -> list[int]:
    """The best hpo.confirm_top trials of the search, which re-run on every seed and proxy."""
    if not sweep().needs_training:
        return []
    trials = finished_trials(wildcards)
    sign = 1 if sweep().goal == "minimize" else -1
    ranked = sorted(trials, key=lambda trial: (sign * trial["value"], trial["trial"]))
    return [trial["trial"] for trial in ranked[: config["hpo"]["confirm_top"]]]


def confirmation_scores(wildcards) -> list[str]:
    """Held-out scores of the confirmed trials and of the references, every proxy and seed."""
    variants = [trial_variant(trial) for trial in confirmed_trials(wildcards)]
    if not variants:
        return []
    variants += [reference for reference in REFERENCES if reference in VARIANTS]
    return [
        path
        for proxy in PROXIES
        for variant in variants
        for path in heldout_scores(proxy, variant, PROXY_SEEDS[proxy])
    ]


def finished_trial_recipes(wildcards) -> list[str]:
    """The recipe of every trial of the finished rounds (the export copies the best one)."""
    recipes = []
    for told in finished_rounds(wildcards):
        with open(told) as handle:
            recipes += [
                f"{HPO}/trials/{trial['trial']}/recipe.yaml"
                for trial in json.load(handle)["trials"]
            ]
    return recipes
