from sandbox.proxies.budget import base_budget

# The feedback LMs' byte budget: ngram.budget_bytes, else the GPT's (not the n-gram proxy's, which is
# known only once the feedback variants exist).
FEEDBACK_BUDGET = base_budget(config)


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/feedback.smk"


# Cross-fitting: fold k's pool LM learns the pool minus fold k and scores only fold k (sandbox/feedback/crossfit.py).
rule feedback_folds:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        code=code("scripts/feedback_folds.py"),
    output:
        # K copies of most of the pool: removed once every fold LM has learned its own
        train=temp(feedback_fold_files("folds/fold{k}_train.jsonl")),
        counts=f"{OUT}/feedback/folds/folds.json",
    log:
        f"{LOGS}/feedback/folds.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    params:
        folds=FEEDBACK["folds"],
    shell:
        f"{PYTHON_SCRIPTS}feedback_folds.py --pool {{input.pool}} --folds {{params.folds}}"
        " --out-train {output.train} --out-counts {output.counts} > {log} 2>&1"


rule feedback_lm:
    input:
        data=feedback_lm_data,
        eval=f"{OUT}/data/eval.jsonl",
        code=proxy_code("ngram"),
    output:
        model=f"{OUT}/feedback/models/{{lm}}.npz",
        meta=f"{OUT}/feedback/models/{{lm}}/train_meta.json",
    log:
        f"{LOGS}/feedback/lm_{{lm}}.log",
    wildcard_constraints:
        lm=r"reference|pool/fold\d+",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/ngram.yaml"
    params:
        order=FEEDBACK["order"],
        budget=FEEDBACK_BUDGET,
        text_key=lambda wildcards: (
            REFERENCE_TEXT_KEY if wildcards.lm == "reference" else "text"
        ),
        out_dir=subpath(output.meta, parent=True),
    shell:
        f"{PYTHON_SCRIPTS}train.py ngram --train {{input.data}} --eval {{input.eval}}"
        " --text-key {params.text_key:q} --eval-text-key text --out-dir {params.out_dir}"
        " --budget-bytes {params.budget}"
        " --order {params.order} --save-model {output.model} > {log} 2>&1"


# Each feedback op's stat of every pool document, computed once by the op itself and cached beside the
# Analyzer's stats: the recipe's thresholds, the variant's mask path and the quality scores all read it.
rule feedback_scores:
    input:
        unpack(feedback_recipe_models),
        pool=f"{OUT}/data/pool.jsonl",
        code=code("scripts/feedback_scores.py"),
    output:
        f"{OUT}/analysis/raw/feedback_{{method}}.parquet",
    log:
        f"{LOGS}/feedback/scores_{{method}}.log",
    benchmark:
        f"{OUT}/benchmarks/feedback/scores_{{method}}.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    params:
        models=feedback_model_args,
    shell:
        f"{PYTHON_SCRIPTS}feedback_scores.py --method {{wildcards.method}} --pool {{input.pool}}"
        " {params.models} --out {output} > {log} 2>&1"


rule feedback_recipe:
    input:
        scores=f"{OUT}/analysis/raw/feedback_{{method}}.parquet",
        # the models' train_meta.json: their training time is the filter's cost
        meta=feedback_model_metas,
        base=f"{OUT}/recipes/{FEEDBACK['base']}.yaml",
        code=code("scripts/feedback_recipe.py"),
    output:
        recipe=f"{OUT}/recipes/feedback_{{method}}.yaml",
        stats=f"{OUT}/recipes/feedback_{{method}}.json",
    log:
        f"{LOGS}/feedback/recipe_{{method}}.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    params:
        k=FEEDBACK["k"],
        keep_fraction=FEEDBACK["keep_fraction"],
    shell:
        f"{PYTHON_SCRIPTS}feedback_recipe.py --method {{wildcards.method}} --base {{input.base}}"
        " --scores {input.scores} --model-meta {input.meta}"
        " --k {params.k} --keep-fraction {params.keep_fraction}"
        " --out-recipe {output.recipe} --out-stats {output.stats} > {log} 2>&1"
