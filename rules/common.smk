import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import snakemake

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger


# The scripts' shared package (scripts/sandbox) is found through PYTHONPATH, set once here for every
# job: local, SLURM (envvars below), --use-conda (activation keeps it) and Ray's workers
# (sandbox/recipe/ray_mode.py passes it on). It is never pip-installed: an installed copy would hide
# edits from the code() inputs. It also serves Snakemake at DAG time: the config check, the scripts'
# code inputs and the sweep files.
SCRIPTS_DIR = str(Path(workflow.basedir).resolve() / "scripts")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [SCRIPTS_DIR, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SCRIPTS_DIR)]
)
sys.path.insert(0, SCRIPTS_DIR)

# Rules call `python`: without --use-conda it must be the interpreter running Snakemake (e.g. .venv's,
# even when the venv is not activated); with --use-conda the activated env's bin comes first anyway.
envvars:
    "PATH",
    "PYTHONPATH",


os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

from sandbox.ladder import config as ladder_config
from sandbox.workflow.code_deps import code_files
from sandbox.workflow.config_check import validate_config
from sandbox.data.eval_set import judges_cleaning, no_clean_eval_message
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError
from sandbox.proxies.registry import REGISTRY as PROXY_REGISTRY
from sandbox.proxies.registry import check_proxies, proxy_pattern, shared_budget
from sandbox.workflow.stale import mark_summary_stale
from sandbox.workflow.variants import (
    K_SIGMA,
    ORACLE,
    PROCESSED_PATTERN,
    RAW,
    REFERENCES,
    STAGE_PATTERN,
    VARIANT_PATTERN,
    feedback_method,
    feedback_variant,
    is_feedback,
    is_oracle,
    is_processed,
    is_raw,
    is_recipe_variant,
    is_trial,
    trial_number,
    trial_variant,
)
from sandbox.hpo.sweep import load_sweep, stop_reason, trials_in_round
from sandbox.downstream.tasks import (
    DEMO_TASK,
    DEMO_TASK_SETTINGS,
    HARNESS_MODELS,
    require_data,
    resolve_tasks,
)

SCHEMA_PATH = Path(workflow.basedir) / "config/schemas/config.schema.yaml"
validate_config(config, SCHEMA_PATH, skip_validation=workflow.modifier.skip_validation)


# Tracking settings reach the jobs through the environment (SANDBOX_TRACKING, and wandb's own
# WANDB_PROJECT), not through params: turning tracking off or renaming the wandb project must not
# retrain every model. envvars also passes them to jobs on other machines.
os.environ.update(
    SANDBOX_TRACKING=config["tracking"], WANDB_PROJECT=config["wandb_project"]
)
# The Data-Juicer executor too: default and ray give the same results, so switching reruns nothing.
os.environ.update(
    SANDBOX_DJ_EXECUTOR=config["data_juicer"]["executor"],
    SANDBOX_RAY_ADDRESS=config["data_juicer"]["ray_address"],
)


envvars:
    "SANDBOX_TRACKING",
    "WANDB_PROJECT",
    "SANDBOX_DJ_EXECUTOR",
    "SANDBOX_RAY_ADDRESS",


EXP = config["experiment"]
OUT = f"results/{EXP}"
LOGS = f"{OUT}/logs"
USES_DEMO = config["dataset_path"] == ""


def code(script: str) -> Callable[..., list[str]]:
    """Input function: the script a rule runs and the workflow modules it imports, transitively
    (sandbox/workflow/code_deps.py), so that editing a shared module reruns the jobs that run it, no others.
    """
    return lambda wildcards: list(code_files(script, Path(workflow.basedir)))


def job_resources(kind: str, gpu: bool = False) -> dict[str, int]:
    """A rule's resources from the config's `resources:` block (kind: data_juicer, train or infer):
    memory and runtime, and with gpu the GPUs its jobs may use."""
    spec = config["resources"][kind]
    resources = {"mem_mb": spec["mem_mb"], "runtime": spec["runtime"]}
    if gpu:
        resources["gpu"] = spec.get("gpu", 0)
    return resources


def first_record_has_origin(path: str) -> bool:
    """Whether the first document of the dataset carries meta.origin (a cheap look, not a check)."""
    try:
        first = next(iter_dataset(path), (0, {}))[1]
    except Exception:
        return True  # let prepare_input report the problem with the file
    meta = first.get("meta")
    return isinstance(meta, dict) and "origin" in meta


def usable_variants(variants: list[str]) -> list[str]:
    """The configured variants, without oracle when the user's data carries no origin tags."""
    if (
        ORACLE not in variants
        or USES_DEMO
        or first_record_has_origin(config["dataset_path"])
    ):
        return variants
    logger.warning(
        f"{config['dataset_path']}: no meta.origin tag on the first document, so the oracle variant "
        "is skipped (it needs a 'clean' or 'noise:<kind>' tag on every document)."
    )
    return [variant for variant in variants if not is_oracle(variant)]


FEEDBACK = config["feedback"]
NEEDS_REFERENCE = ("reference_ppl", "importance", "classifier")
# A trusted sample serves both the eval set and the feedback reference when there is no eval_path.
TRUSTED = config["trusted_path"] or (
    FEEDBACK["reference_path"] if not config["eval_path"] else ""
)
# Where the eval set comes from decides whether a verdict on cleaning can be drawn (sandbox.data.eval_set).
if USES_DEMO:
    EVAL_SOURCE = "demo"
elif config["eval_path"]:
    EVAL_SOURCE = "eval_path"
elif TRUSTED:
    EVAL_SOURCE = "trusted"
else:
    EVAL_SOURCE = "pool_split"
    logger.warning(
        f"{config['dataset_path']}: no eval_path and no trusted_path, so the eval set is "
        f"eval_fraction={config['eval_fraction']} of the pool. It carries the pool's noise: the summary "
        "reports fit to the raw data and draws no verdict on cleaning. Fix: set eval_path to a clean "
        "sample of the text the model should learn (disjoint from the pool), or trusted_path to a few "
        "hundred clean documents picked by hand."
    )
TRUSTED_SPLIT = f"{OUT}/data/trusted"
# The eval set's validation (every selection) and test (every reported number) labels.
EVAL_SPLIT = f"{OUT}/data/eval_split.json"
# The demo ships its own reference sample (clean paragraphs of speeches in neither pool nor eval).
if USES_DEMO:
    FEEDBACK_REFERENCE = FEEDBACK["reference_path"] or f"{OUT}/demo/reference.jsonl"
elif EVAL_SOURCE == "trusted":
    FEEDBACK_REFERENCE = f"{TRUSTED_SPLIT}/reference.jsonl"
else:
    FEEDBACK_REFERENCE = config["trusted_path"] or FEEDBACK["reference_path"]
DEMO_REFERENCE = f"{OUT}/demo/reference.jsonl"
# The pool is normalised to "text"; a user's reference (whole or the trusted half) keeps text_key.
REFERENCE_TEXT_KEY = (
    config["text_key"] if FEEDBACK_REFERENCE != DEMO_REFERENCE else "text"
)
# A reference file the user gave, checked against the eval set by prepare_input (the trusted
# sample's halves are disjoint by construction, the demo's speeches by design).
USER_REFERENCE = (
    [FEEDBACK_REFERENCE]
    if FEEDBACK_REFERENCE
    and EVAL_SOURCE != "trusted"
    and FEEDBACK_REFERENCE != DEMO_REFERENCE
    else []
)


def usable_feedback_methods(methods: list[str]) -> list[str]:
    """The configured feedback methods, without those that need a reference when there is none."""
    skipped = [method for method in methods if method in NEEDS_REFERENCE]
    if FEEDBACK_REFERENCE or not skipped:
        return methods
    names = " and ".join(
        [", ".join(skipped[:-1]), skipped[-1]] if len(skipped) > 1 else skipped
    )
    logger.warning(
        f"feedback: no reference_path, so {names} {'are' if len(skipped) > 1 else 'is'} skipped "
        f"({'they score' if len(skipped) > 1 else 'it scores'} documents against a model of a small "
        "trusted sample). Fix: set trusted_path (or feedback.reference_path) to a dataset of clean "
        "documents."
    )
    return [method for method in methods if method not in NEEDS_REFERENCE]


FEEDBACK_METHODS = usable_feedback_methods(FEEDBACK["methods"])
CLASSIFIER = config["classifier"]
CLASSIFIER_DIR = f"{OUT}/feedback/classifier"
# The classifier's fold models: the suffix names the backend (sandbox/classifier/model.py).
CLASSIFIER_MODELS = [
    f"{CLASSIFIER_DIR}/fold{k}{'.npz' if CLASSIFIER['backend'] == 'hashed_lr' else '.bin'}"
    for k in range(FEEDBACK["folds"])
]
# The data evaluator scores every variant with the classifier, which needs the trusted sample.
QUALITY_SCORED = CLASSIFIER["evaluate"] and bool(FEEDBACK_REFERENCE)
if CLASSIFIER["evaluate"] and not FEEDBACK_REFERENCE:
    logger.warning(
        "classifier: no trusted sample, so the data table's quality scores are skipped (the quality "
        "classifier learns trusted documents against the pool). Fix: set trusted_path (or "
        "feedback.reference_path) to a few hundred clean documents, or classifier.evaluate: false."
    )
VARIANTS = usable_variants(config["variants"]) + [
    feedback_variant(method) for method in FEEDBACK_METHODS
]
SEEDS = config["seeds"]
PROCESSED = [v for v in VARIANTS if is_recipe_variant(v)]
ANALYZED_STAGES = [RAW] + PROCESSED
DJ_THREADS = config["data_juicer"]["np"]
# The Data-Juicer chain gates every processed variant, so it is scheduled before training jobs.
# Snakemake's scheduler maximises the sum of the selected jobs' priorities, so a Data-Juicer job (all
# `np` cores) must outweigh a core-full of priority-1 jobs: 100 holds up to 100 cores.
DJ_PRIORITY = 100
# The fast rung, its evaluation and its early verdict go before the neural rungs' training, so the
# first answer (summary.ngram.md) comes minutes before the GPT's models are done.
FIRST_ANSWER_PRIORITY = 1
TRAIN = config["train"]
PROXIES = config["proxies"]
# Proxy names are checked against the registry (scripts/sandbox/proxies/registry.py), not a schema enum.
try:
    check_proxies(config)
except InputError as error:
    raise WorkflowError(str(error)) from None
HF = config["hf"]


def hf_model_files(wildcards) -> list[str]:
    """The files of the hf proxy's model folder (config, weights, tokenizer): editing one retrains."""
    folder = Path(HF["model"])
    if not (folder / "config.json").is_file():
        raise WorkflowError(
            f"proxies lists hf, but {folder} has no config.json. Fix: set hf.model to a local folder "
            "written by save_pretrained (or holding a config.json, e.g. config/hf/tiny-llama)."
        )
    return sorted(str(path) for path in folder.iterdir() if path.is_file())


# The one byte budget of every proxy, and of the feedback and datamodel n-grams.
NGRAM_BUDGET = shared_budget(config)

# --- downstream tasks (rules/downstream.smk): lm-eval tasks every trained model is scored on ---
# A task whose data file is not on disk stops the run here, naming the task and the file (checked
# before the DAG: a missing input of a finished run's summary would not say why).
try:
    TASK_SPECS = resolve_tasks(config["tasks"], Path(config["tasks_path"]))
    require_data(TASK_SPECS)
except InputError as error:
    raise WorkflowError(str(error)) from None
TASKS = list(TASK_SPECS)
# a config entry (name or YAML path) per task name, as downstream.py takes it
TASK_ENTRIES = dict(zip(TASKS, config["tasks"]))
# the proxies whose trained models lm-eval can load (sandbox.downstream.harness): `command` keeps none it knows
DOWNSTREAM_PROXIES = [proxy for proxy in PROXIES if proxy in HARNESS_MODELS]
if TASKS and len(DOWNSTREAM_PROXIES) < len(PROXIES):
    logger.warning(
        f"tasks: {', '.join(set(PROXIES) - set(DOWNSTREAM_PROXIES))} keeps no model file the downstream "
        f"tasks can load, so only {', '.join(DOWNSTREAM_PROXIES) or 'no proxy'} is scored on them."
    )
if USES_DEMO and DEMO_TASK in TASKS:
    changed = {
        key: config["demo"].get(key)
        for key, value in DEMO_TASK_SETTINGS.items()
        if config["demo"].get(key) != value
    }
    if changed:
        logger.warning(
            f"tasks: {DEMO_TASK} was built from paragraphs of the demo's eval speeches under the default "
            f"demo settings ({DEMO_TASK_SETTINGS}); with {changed} the split of the speeches differs, so "
            "some of its paragraphs may be in this pool. Keep those demo settings to measure it cleanly."
        )


def task_files(wildcards) -> list[str]:
    """A task's YAML and local data files: editing one reruns its jobs."""
    return TASK_SPECS[wildcards.task].files


def downstream_model(wildcards) -> str:
    """The trained model a downstream job loads: model.pt, model.npz or the hf folder."""
    return f"{OUT}/models/{wildcards.proxy}/{wildcards.variant}/seed{wildcards.seed}/{HARNESS_MODELS[wildcards.proxy]}"


def downstream_results(name: str = "results.json") -> list[str]:
    """Every downstream job's results.json (or items.jsonl): task x proxy x variant x seed."""
    return expand(
        f"{OUT}/downstream/{{task}}/{{proxy}}/{{variant}}/seed{{seed}}/{name}",
        task=TASKS,
        proxy=DOWNSTREAM_PROXIES,
        variant=VARIANTS,
        seed=SEEDS,
    )


DM = config["datamodels"]
# One folder per grouping, so switching between ops and a metadata field recomputes neither.
DM_DIR = f"{OUT}/datamodels/{DM['group_by']}"
DM_RECIPE = f"{OUT}/recipes/{DM['recipe']}.yaml"
# A feedback variant's recipe makes its model filter one of the operator groups; the raw analysis has
# no stat for that filter, so the pool is analysed under that recipe (rule analyze_feedback).
DM_ANALYSIS = (
    f"{OUT}/analysis/{DM['recipe']}"
    if is_feedback(DM["recipe"])
    else f"{OUT}/analysis/raw"
)
if (
    DM["group_by"] == "ops"
    and is_feedback(DM["recipe"])
    and feedback_method(DM["recipe"]) not in FEEDBACK_METHODS
):
    raise WorkflowError(
        f"datamodels.recipe: {DM['recipe']} is not a feedback variant of this run (feedback.methods: "
        f"{FEEDBACK_METHODS}; one that needs a trusted sample is skipped without one). Fix: add "
        f"{feedback_method(DM['recipe'])} to feedback.methods, or choose recipe or k_sigma."
    )


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


wildcard_constraints:
    variant=VARIANT_PATTERN,
    processed=PROCESSED_PATTERN,
    method=r"self_loss|reference_ppl|importance|classifier",
    lm=r"pool|reference",
    trial=r"\d+",
    round=r"\d+",
    stage=STAGE_PATTERN,
    seed=r"\d+",
    proxy=proxy_pattern(),
    scale=ladder_config.SCALE_PATTERN,
    start=r"\d+",
    stop=r"\d+",


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


def seeds_of(variant: str) -> list[int]:
    """Training seeds of a variant: HPO trials use hpo.seeds, the rest `seeds`."""
    return config["hpo"]["seeds"] if is_trial(variant) else SEEDS


def training_data(wildcards) -> str:
    """A variant's training documents."""
    if is_raw(wildcards.variant):
        return f"{OUT}/data/pool.jsonl"
    if is_oracle(wildcards.variant):
        return f"{OUT}/data/oracle.jsonl"
    return f"{OUT}/processed/{wildcards.variant}/data.jsonl"


def variant_data_metrics(wildcards) -> str:
    return f"{OUT}/data_metrics/{wildcards.variant}.json"


def quality_input(wildcards) -> list[str]:
    """A variant's quality scores, where the data evaluator runs (not for HPO trials: their data
    metrics are the search's, and a search does not read them)."""
    if not QUALITY_SCORED or is_trial(wildcards.variant):
        return []
    return [f"{OUT}/quality/{wildcards.variant}.json"]


def heldout_scores(proxy: str, variant: str, seeds: list[int]) -> list[str]:
    """The per-document held-out scores of a proxy's models of a variant, one file per seed."""
    return [
        f"{OUT}/models/{proxy}/{variant}/seed{seed}/heldout.jsonl" for seed in seeds
    ]


def provenance_inputs(wildcards) -> list[str]:
    """The data files the experiment's numbers depend on, to be hashed (the eval split's labels too)."""
    if USES_DEMO:
        return [f"{OUT}/demo/pool.jsonl", f"{OUT}/demo/eval.jsonl", EVAL_SPLIT]
    extra = [config["eval_path"]] if config["eval_path"] else []
    return (
        [config["dataset_path"]] + extra + ([TRUSTED] if TRUSTED else []) + [EVAL_SPLIT]
    )


# --- recipe HPO ---
HPO = f"{OUT}/hpo"
STUDY = f"{HPO}/study.journal"
HPO_BASE = config["hpo"]["base"]
HPO_BASE_RECIPE = f"{OUT}/recipes/{HPO_BASE}.yaml"
# The raw analysis has no stats for a feedback filter, so a feedback base is analysed on its own
# for the trials' mask path; recipe and k_sigma share the raw analysis (same ops).
HPO_FEEDBACK_BASE = is_feedback(HPO_BASE)
HPO_ANALYSIS = f"{HPO}/analysis" if HPO_FEEDBACK_BASE else f"{OUT}/analysis/raw"
HPO_ANALYZED_RECIPE = (
    HPO_BASE_RECIPE if HPO_FEEDBACK_BASE else f"{OUT}/recipes/recipe.yaml"
)
if (
    HPO_FEEDBACK_BASE
    and feedback_method(HPO_BASE) in NEEDS_REFERENCE
    and not FEEDBACK_REFERENCE
):
    raise WorkflowError(
        f"hpo.base: {HPO_BASE} scores documents against a model of a reference sample, and "
        "feedback.reference_path is empty. Fix: set feedback.reference_path to a JSONL of clean "
        "documents, or choose hpo.base: feedback_self_loss, recipe or k_sigma."
    )


def process_analysis(wildcards) -> dict[str, str]:
    """The analysis a processed variant's mask path reads: HPO trials of a feedback base read its own."""
    trial = is_trial(wildcards.processed)
    analysis = HPO_ANALYSIS if trial else f"{OUT}/analysis/raw"
    recipe = HPO_ANALYZED_RECIPE if trial else f"{OUT}/recipes/recipe.yaml"
    return {
        "analyzed_recipe": recipe,
        "pool_with_stats": f"{analysis}/with_stats.jsonl",
        "stats_cache": f"{analysis}/stats.parquet",
    }


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
        for path in heldout_scores(proxy, variant, SEEDS)
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


def summary_sources() -> list[str]:
    """The files summary.json describes: the evaluations and everything they were computed from."""
    files = [f"{OUT}/provenance.json"]
    for proxy in PROXIES:
        for variant in VARIANTS:
            heldout = heldout_scores(proxy, variant, seeds_of(variant))
            files += heldout + [
                path.replace("heldout.jsonl", "train_meta.json") for path in heldout
            ]
            files += [f"{OUT}/eval/{proxy}/{variant}.json"]
    for variant in VARIANTS:
        files += [
            f"{OUT}/data_metrics/{variant}.json",
            training_data(SimpleNamespace(variant=variant)),
        ]
    return files + downstream_results() + downstream_results("items.jsonl")


def feedback_fold_files(pattern: str) -> list[str]:
    """One path per fold of the pool's cross-fitted LM, in fold order ({k} in pattern is the fold)."""
    return [f"{OUT}/feedback/{pattern.format(k=k)}" for k in range(FEEDBACK["folds"])]


def feedback_lm_data(wildcards) -> str:
    """What a feedback LM learns from: the pool minus its fold, or the trusted reference sample."""
    if wildcards.lm.startswith("pool/"):
        fold = wildcards.lm.removeprefix("pool/")
        return f"{OUT}/feedback/folds/{fold}_train.jsonl"
    return FEEDBACK_REFERENCE


def feedback_recipe_models(wildcards) -> dict[str, str | list[str]]:
    """The LMs a method's filter reads: model (scored) and, for importance, background_model; the
    pool's LM is its K cross-fitted fold models."""
    pool = feedback_fold_files("models/pool/fold{k}.npz")
    reference = f"{OUT}/feedback/models/reference.npz"
    if wildcards.method == "classifier":
        return {"model": CLASSIFIER_MODELS}
    if wildcards.method == "self_loss":
        return {"model": pool}
    if wildcards.method == "reference_ppl":
        return {"model": reference}
    return {"model": reference, "background_model": pool}


def feedback_model_metas(wildcards) -> list[str]:
    """The train_meta.json of every model a method's filter reads (their seconds: the filter's cost)."""
    if wildcards.method == "classifier":
        return [f"{CLASSIFIER_DIR}/train_meta.json"]
    metas = []
    for paths in feedback_recipe_models(wildcards).values():
        paths = [paths] if isinstance(paths, str) else paths
        metas += [
            os.path.join(path.removesuffix(".npz"), "train_meta.json") for path in paths
        ]
    return metas


def feedback_model_args(wildcards) -> str:
    """feedback_recipe.py's --model/--background-model arguments (several paths: fold models)."""
    args = []
    for name, paths in feedback_recipe_models(wildcards).items():
        paths = [paths] if isinstance(paths, str) else paths
        args.append(f"--{name.replace('_', '-')} {' '.join(paths)}")
    return " ".join(args)


# --- the HTML report (rules/report.smk) ---
REPORT = f"{OUT}/report"


def report_files() -> list[str]:
    """What `all` adds for the report: the verdict page, held-out bpb per proxy, the k-sigma
    thresholds, removals per processed variant and the training curves of proxies that draw them.
    """
    files = [f"{REPORT}/verdict.html"]
    files += [f"{REPORT}/bpb_{proxy}.png" for proxy in PROXIES]
    if K_SIGMA in VARIANTS:
        files.append(f"{REPORT}/thresholds.png")
    files += [f"{REPORT}/removals/{v}.png" for v in VARIANTS if is_processed(v)]
    files += [
        f"{REPORT}/loss_{p}.png" for p in PROXIES if PROXY_REGISTRY[p].loss_figure
    ]
    return files


def proxy_targets() -> list[str]:
    """What `all` adds for the configured proxies per variant and seed (the GPT: its probe scores)."""
    return [
        path
        for proxy in PROXIES
        for target in PROXY_REGISTRY[proxy].extra_targets
        for path in expand(f"{OUT}/{target}", variant=VARIANTS, seed=SEEDS)
    ]


# --- the scale ladder (rules/ladder.smk; sandbox/ladder/config.py) ---
LADDER = f"{OUT}/ladder"
LADDER_CONFIG = config["ladder"]
try:
    ladder_config.check_ladder(config)
except InputError as error:
    raise WorkflowError(str(error)) from None
LADDER_PROXIES = ladder_config.ladder_proxies(config)
LADDER_SCALES = ladder_config.all_scales(config)
LADDER_TARGET = ladder_config.target_scale(config)
LADDER_VARIANTS = [v for v in (LADDER_CONFIG["variants"] or VARIANTS) if v in VARIANTS]
LADDER_SEEDS = LADDER_CONFIG["seeds"] or SEEDS
LADDER_SUMMARY = f"{LADDER}/summary.json"


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
    """Params function: the shared byte budget times the job's multiplier."""
    return lambda wildcards: ladder_config.scaled_budget(
        NGRAM_BUDGET, ladder_scale(proxy, wildcards).multiplier
    )


def ladder_files(pattern_of: Callable[[ladder_config.Scale], str]) -> list[str]:
    """One path per (proxy, scale, variant, seed) of the ladder; x1 at a proxy's own size is the main run's."""
    return [
        pattern_of(scale).format(variant=variant, seed=seed)
        for scale in LADDER_SCALES
        for variant in LADDER_VARIANTS
        for seed in LADDER_SEEDS
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
