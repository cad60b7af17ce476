from sandbox.workflow.variants import feedback_method, is_feedback

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


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/datamodels.smk"


rule datamodels:
    input:
        f"{DM_DIR}/summary.json",
        f"{DM_DIR}/summary.md",
        f"{DM_DIR}/effects.tsv",


# The pool analysed under a feedback variant's recipe: the stats cache of datamodels over its ops.
rule analyze_feedback:
    input:
        recipe=f"{OUT}/recipes/feedback_{{method}}.yaml",
        data=f"{OUT}/data/pool.jsonl",
        code=code("scripts/analyze.py"),
    output:
        stats=f"{OUT}/analysis/feedback_{{method}}/stats.jsonl",
        overall=f"{OUT}/analysis/feedback_{{method}}/overall.json",
        plots=directory(f"{OUT}/analysis/feedback_{{method}}/plots"),
        with_stats=f"{OUT}/analysis/feedback_{{method}}/with_stats.jsonl",
        stats_cache=f"{OUT}/analysis/feedback_{{method}}/stats.parquet",
    log:
        f"{LOGS}/analyze/feedback_{{method}}.log",
    benchmark:
        f"{OUT}/benchmarks/analyze/feedback_{{method}}.tsv"
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    threads: DJ_THREADS
    resources:
        **job_resources("data_juicer"),
    shell:
        ANALYZE


rule datamodels_train:
    input:
        unpack(datamodel_group_inputs),
        pool=f"{OUT}/data/pool.jsonl",
        eval=f"{OUT}/data/eval.jsonl",
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/datamodels_train.py"),
    output:
        f"{DM_DIR}/chunks/{{start}}-{{stop}}.npz",
    log:
        f"{LOGS}/datamodels/{DM['group_by']}/train_{{start}}-{{stop}}.log",
    benchmark:
        f"{OUT}/benchmarks/datamodels/{DM['group_by']}/train_{{start}}-{{stop}}.tsv"
    conda:
        "../envs/data-juicer.yaml"
    threads: 1
    resources:
        **job_resources("train"),
    params:
        group_by=DM["group_by"],
        alpha=DM["alpha"],
        seed=DM["seed"],
        order=config["ngram"]["order"],
        group_inputs=lambda wildcards, input: (
            f"--recipe {input.recipe} --stats-cache {input.stats_cache}"
            if DM["group_by"] == "ops"
            else ""
        ),
    shell:
        f"{PYTHON_SCRIPTS}datamodels_train.py --pool {{input.pool}} --eval {{input.eval}} {{params.group_inputs}}"
        " --group-by {params.group_by} --alpha {params.alpha}"
        " --seed {params.seed} --start {wildcards.start} --stop {wildcards.stop}"
        " --budget-file {input.budget} --order {params.order} --out {output} > {log} 2>&1"


rule datamodels_store:
    input:
        unpack(datamodel_group_inputs),
        chunks=datamodel_chunks(),
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/datamodels_store.py"),
    output:
        index=f"{DM_DIR}/store/index.json",
        arrays=expand(
            f"{DM_DIR}/store/{{array}}.npy",
            array=["masks", "margins", "bpb", "train_docs"],
        ),
    log:
        f"{LOGS}/datamodels/{DM['group_by']}/store.log",
    conda:
        "../envs/ngram.yaml"
    params:
        group_by=DM["group_by"],
        alpha=DM["alpha"],
        seed=DM["seed"],
        order=config["ngram"]["order"],
        out_dir=subpath(output.index, parent=True),
        recipe=lambda wildcards, input: (
            f"--recipe {input.recipe}" if DM["group_by"] == "ops" else ""
        ),
    shell:
        f"{PYTHON_SCRIPTS}datamodels_store.py --chunks {{input.chunks}} --group-by {{params.group_by}}"
        " --alpha {params.alpha} --seed {params.seed} --budget-file {input.budget} --order {params.order}"
        " {params.recipe} --out-dir {params.out_dir} > {log} 2>&1"


rule datamodels_fit:
    input:
        index=rules.datamodels_store.output.index,
        arrays=rules.datamodels_store.output.arrays,
        code=code("scripts/datamodels_fit.py"),
    output:
        json=f"{DM_DIR}/summary.json",
        md=f"{DM_DIR}/summary.md",
        effects=f"{DM_DIR}/effects.tsv",
    log:
        f"{LOGS}/datamodels/{DM['group_by']}/fit.log",
    conda:
        "../envs/datamodels.yaml"
    params:
        store=subpath(input.index, parent=True),
        estimator=DM["estimator"],
        holdout_every=DM["holdout_every"],
        samples=DM["bootstrap_samples"],
        confidence=config["compare"]["confidence"],
        seed=DM["seed"],
    shell:
        f"{PYTHON_SCRIPTS}datamodels_fit.py --store {{params.store}} --estimator {{params.estimator}}"
        " --holdout-every {params.holdout_every} --bootstrap-samples {params.samples}"
        " --confidence {params.confidence} --seed {params.seed}"
        " --out-json {output.json} --out-md {output.md} --out-effects {output.effects} > {log} 2>&1"
