# Downstream tasks (lm-evaluation-harness): every trained model of ngram, gpt and hf scored on each
# task's items, offline (config `tasks:`; sandbox/downstream/tasks.py, sandbox/downstream/harness.py). Each job is one task,
# proxy, variant and seed, so adding a task runs only its own jobs (and the summaries they feed).
from sandbox.downstream.tasks import (
    DEMO_TASK,
    DEMO_TASK_SETTINGS,
    HARNESS_MODELS,
    require_data,
    resolve_tasks,
)

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


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/downstream.smk"


# train_ngram keeps no model: this counts the same documents again and checks that the model
# reproduces the training job's held-out scores before writing it.
rule ngram_model:
    input:
        data=training_data,
        eval=f"{OUT}/data/eval.jsonl",
        heldout=f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/heldout.jsonl",
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/ngram_model.py"),
    output:
        f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/model.npz",
    log:
        f"{LOGS}/ngram_model/{{variant}}_seed{{seed}}.log",
    conda:
        "../envs/ngram.yaml"
    threads: 1
    resources:
        **job_resources("train"),
    params:
        order=config["ngram"]["order"],
    shell:
        f"{PYTHON_SCRIPTS}ngram_model.py --train {{input.data}} --eval {{input.eval}} --heldout {{input.heldout}}"
        " --seed {wildcards.seed} --budget-file {input.budget} --order {params.order}"
        " --out {output} > {log} 2>&1"


rule downstream:
    input:
        model=downstream_model,
        task=task_files,
        code=code("scripts/downstream.py"),
    output:
        item_rows=f"{OUT}/downstream/{{task}}/{{proxy}}/{{variant}}/seed{{seed}}/items.jsonl",
        results=f"{OUT}/downstream/{{task}}/{{proxy}}/{{variant}}/seed{{seed}}/results.json",
    log:
        f"{LOGS}/downstream/{{task}}/{{proxy}}_{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/downstream/{{task}}/{{proxy}}_{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        task=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
        proxy="|".join(HARNESS_MODELS),
    conda:
        "../envs/lm-eval.yaml"
    threads: TRAIN["threads"]
    resources:
        **job_resources("infer", gpu=True),
    params:
        # the config entry (a name or a YAML path), per task: adding a task changes no other job's
        entry=lambda wildcards: TASK_ENTRIES[wildcards.task],
        tasks_path=config["tasks_path"],
        device=TRAIN["device"],
    shell:
        f"{PYTHON_SCRIPTS}downstream.py --task {{params.entry:q}} --tasks-path {{params.tasks_path:q}}"
        " --proxy {wildcards.proxy} --model {input.model} --variant {wildcards.variant}"
        " --seed {wildcards.seed} --items-out {output.item_rows} --results-out {output.results}"
        " --device {params.device} --threads {threads} > {log} 2>&1"
