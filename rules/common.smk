# What crosses features: config validation, the paths, code() and job_resources, the PYTHONPATH block,
# the experiment's shape (eval source and feedback reference, variants, proxies and their seeds), the
# wildcard constraints, and the input functions several rules files call. Each feature's constants and
# input functions open its rules/<feature>.smk (the include order puts each before its readers).
import copy
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import update_config

# Where the workflow's own files are (the Snakefile's WORKFLOW_ROOT) and how jobs, which run in the
# run's folder, reach them: by the usual relative paths when the run's folder is the workflow's (so a
# standalone run's commands and params read as always), else by absolute ones (a module's importer).
AT_ROOT = Path.cwd().resolve() == WORKFLOW_ROOT.resolve()


def from_root(path: str) -> str:
    """A path relative to the workflow's folder as jobs and Snakemake see it from the run's folder."""
    return path if AT_ROOT else str(WORKFLOW_ROOT / path)


# The start of every rule's command: `f"{PYTHON_SCRIPTS}prepare_input.py --dataset ..."`.
PYTHON_SCRIPTS = (
    "python scripts/"
    if AT_ROOT
    else f"python {shlex.quote(str(WORKFLOW_ROOT / 'scripts'))}/"
)


def default_config() -> dict:
    """The workflow's own config/config.yaml: the defaults under a caller's `config:`."""
    return yaml.safe_load(
        (WORKFLOW_ROOT / "config/config.yaml").read_text(encoding="utf-8")
    )


def root_default_paths(merged: dict, defaults: dict) -> None:
    """Point the default paths to the workflow's own files (config/recipes/demo.yaml, ...) where the
    caller kept them; a path the caller set stays relative to the caller's folder."""
    for key, default in defaults.items():
        if isinstance(default, dict) and isinstance(merged.get(key), dict):
            root_default_paths(merged[key], default)
        elif (
            isinstance(default, str)
            and default.startswith("config/")
            and merged.get(key) == default
        ):
            merged[key] = from_root(default)


# As a module the caller's `config:` replaces config/config.yaml; laid over it here, keys it leaves out
# keep their defaults. In place: the caller's dict is this workflow's config. A standalone run has read
# the file already, so this changes nothing there.
DEFAULT_CONFIG = default_config()
MERGED_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
update_config(MERGED_CONFIG, config)
if not AT_ROOT:
    root_default_paths(MERGED_CONFIG, DEFAULT_CONFIG)
config.update(MERGED_CONFIG)

# The scripts' shared package (scripts/sandbox) is found through PYTHONPATH, set once here for every
# job: local, SLURM (envvars below), --use-conda (activation keeps it) and Ray's workers
# (sandbox/recipe/ray_mode.py passes it on). It is never pip-installed: an installed copy would hide
# edits from the code() inputs. It also serves Snakemake at DAG time: the config check, the scripts'
# code inputs and the sweep files.
SCRIPTS_DIR = str(WORKFLOW_ROOT.resolve() / "scripts")
OTHER_PYTHONPATH = [
    entry
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if entry and entry != SCRIPTS_DIR
]
os.environ["PYTHONPATH"] = os.pathsep.join([SCRIPTS_DIR, *OTHER_PYTHONPATH])
sys.path.insert(0, SCRIPTS_DIR)


# Rules call `python`: without --use-conda it must be the interpreter running Snakemake (e.g. .venv's,
# even when the venv is not activated); with --use-conda the activated env's bin comes first anyway.
envvars:
    "PATH",
    "PYTHONPATH",


os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
from sandbox.io.formats import iter_dataset
from sandbox.io.jsonl import InputError
from sandbox.ladder.config import SCALE_PATTERN
from sandbox.proxies.budget import proxy_seeds
from sandbox.proxies.registry import REGISTRY as PROXY_REGISTRY
from sandbox.proxies.registry import check_proxies, proxy_pattern
from sandbox.workflow.code_deps import code_files
from sandbox.workflow.config_check import validate_config
from sandbox.pools.plan import plan_pools
from sandbox.workflow.variants import (
    MIXTURE,
    MIXTURES,
    ORACLE,
    PROCESSED_PATTERN,
    STAGE_PATTERN,
    VARIANT_PATTERN,
    feedback_variant,
    is_mixture_variant,
    is_oracle,
    is_ranked_pool,
    is_raw,
    is_recipe_variant,
    is_trial,
    ranked_pool,
)

SCHEMA_PATH = WORKFLOW_ROOT / "config/schemas/config.schema.yaml"
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
    return lambda wildcards: [
        from_root(path) for path in code_files(script, WORKFLOW_ROOT)
    ]


def proxy_code(proxy: str) -> Callable[..., list[str]]:
    """Input function: the code a proxy's training job runs, scripts/train.py and the proxy's trainer
    module (which the registry imports by name, out of sight of the static scan), transitively.
    Used by every rule that trains a proxy (rules/proxies.smk, ladder.smk, feedback.smk).
    """
    entry, trainer = code("scripts/train.py"), code(PROXY_REGISTRY[proxy].module)
    return lambda wildcards: sorted({*entry(wildcards), *trainer(wildcards)})


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
# A reference file the user gave is read by prepare_input alone, which leaves out what overlaps the eval
# set (the trusted sample's halves are disjoint by construction, the demo's speeches by design); every
# later step reads its cleaned copy, whose text is under "text" as the pool's.
USER_REFERENCE = (
    [FEEDBACK_REFERENCE]
    if FEEDBACK_REFERENCE
    and EVAL_SOURCE != "trusted"
    and FEEDBACK_REFERENCE != DEMO_REFERENCE
    else []
)
if USER_REFERENCE:
    FEEDBACK_REFERENCE = f"{OUT}/data/reference.jsonl"
# The trusted sample's reference half keeps text_key.
REFERENCE_TEXT_KEY = config["text_key"] if EVAL_SOURCE == "trusted" else "text"


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
# The mixture search's plan (rules/pools.smk): its splitters, and whether it can run on this data.
POOLS = config["pools"]
POOL_PLAN = plan_pools(POOLS, USES_DEMO, bool(FEEDBACK_REFERENCE), FEEDBACK_METHODS)
# `mixture` joins the main summary as one more candidate where the search can run (pools.in_summary).
MIXTURE_IN_SUMMARY = POOLS["in_summary"] and not POOL_PLAN.problem
if POOLS["in_summary"] and POOL_PLAN.problem:
    logger.warning(
        f"pools.in_summary: the mixture search is skipped. {POOL_PLAN.problem}"
    )
VARIANTS = (
    usable_variants(config["variants"])
    + [feedback_variant(method) for method in FEEDBACK_METHODS]
    + ([MIXTURE] if MIXTURE_IN_SUMMARY else [])
)
PROCESSED = [v for v in VARIANTS if is_recipe_variant(v)]
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
# The proxies with a fixed budget of their own, which see a smaller variant more than once.
REPEATING_PROXIES = [name for name in PROXIES if PROXY_REGISTRY[name].repeats_data]
# Each proxy's seeds: its section's `seeds` (ngram.seeds), else `seeds`.
PROXY_SEEDS = {
    name: proxy_seeds(config, PROXY_REGISTRY[name].config_section)
    for name in PROXY_REGISTRY
}


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
    scale=SCALE_PATTERN,
    start=r"\d+",
    stop=r"\d+",


def seeds_of(proxy: str, variant: str) -> list[int]:
    """A proxy's training seeds of a variant: HPO trials use hpo.seeds, the rest the proxy's own."""
    return config["hpo"]["seeds"] if is_trial(variant) else PROXY_SEEDS[proxy]


def training_data_of(variant: str) -> str:
    """A variant's training documents."""
    if is_raw(variant):
        return f"{OUT}/data/pool.jsonl"
    if is_oracle(variant):
        return f"{OUT}/data/oracle.jsonl"
    if is_mixture_variant(variant):
        return f"{OUT}/pools/variants/{variant}/data.jsonl"
    if is_ranked_pool(variant):
        return f"{OUT}/pools/rank/data/{ranked_pool(variant)}.jsonl"
    return f"{OUT}/processed/{variant}/data.jsonl"


def training_data(wildcards) -> str:
    """Input function: the job's variant's training documents."""
    return training_data_of(wildcards.variant)


def proxy_training_data_of(variant: str, proxy: str) -> str:
    """A proxy's training documents of a variant: a proxy that repeats data gets the mixtures exported
    at its own budget (pools.max_epochs; rules/pools.smk), every other variant is the same for all.
    """
    if proxy in REPEATING_PROXIES and variant in MIXTURES:
        return f"{OUT}/pools/variants/{variant}/{proxy}/data.jsonl"
    return training_data_of(variant)


def training_data_for(proxy: str):
    """Input function of a proxy's training rule: the job's variant's documents for that proxy."""
    return lambda wildcards: proxy_training_data_of(wildcards.variant, proxy)
