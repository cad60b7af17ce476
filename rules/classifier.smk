# The quality classifier: the trusted sample against the raw pool, cross-fitted over feedback.folds
# (sandbox/classifier/model.py). Its fold models are the `classifier` feedback filter's model
# (feedback_recipe) and the data evaluator's (quality_scores: every variant's mean score).


rule feedback_classifier:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        reference=FEEDBACK_REFERENCE or [],
        code=code("scripts/train_classifier.py"),
    output:
        models=CLASSIFIER_MODELS,
        meta=f"{CLASSIFIER_DIR}/train_meta.json",
    log:
        f"{LOGS}/feedback/classifier.log",
    benchmark:
        f"{OUT}/benchmarks/feedback/classifier.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/classifier.yaml"
    resources:
        **job_resources("train"),
    params:
        backend=CLASSIFIER["backend"],
        shuffled=CLASSIFIER["shuffled_negatives"],
        seed=CLASSIFIER["seed"],
        text_key=REFERENCE_TEXT_KEY,
    shell:
        "python scripts/train_classifier.py --pool {input.pool} --reference {input.reference}"
        " --reference-text-key {params.text_key:q} --backend {params.backend}"
        " --shuffled-negatives {params.shuffled} --seed {params.seed}"
        " --out-models {output.models} --out-meta {output.meta} > {log} 2>&1"


rule quality_scores:
    input:
        data=training_data,
        models=CLASSIFIER_MODELS,
        meta=f"{CLASSIFIER_DIR}/train_meta.json",
        code=code("scripts/quality_scores.py"),
    output:
        f"{OUT}/quality/{{variant}}.json",
    log:
        f"{LOGS}/quality/{{variant}}.log",
    benchmark:
        f"{OUT}/benchmarks/quality/{{variant}}.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/classifier.yaml"
    resources:
        **job_resources("infer"),
    params:
        # how well the classifier alone separates noise from clean, where the pool carries tags
        separation=lambda wildcards: (
            "--separation" if is_raw(wildcards.variant) else ""
        ),
        keep_fraction=FEEDBACK["keep_fraction"],
        confidence=config["compare"]["confidence"],
    shell:
        "python scripts/quality_scores.py --variant {wildcards.variant} --data {input.data}"
        " --models {input.models} --meta {input.meta} {params.separation}"
        " --keep-fraction {params.keep_fraction} --confidence {params.confidence}"
        " --out {output} > {log} 2>&1"
