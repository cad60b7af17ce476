# The quality classifier: the trusted sample against the raw pool, cross-fitted over feedback.folds
# (sandbox/classifier/model.py). Its fold models are the `classifier` feedback filter's model
# (feedback_recipe) and the data evaluator's (quality_scores: every variant's mean score); both read the
# pool's scores, computed once by the filter's op (rule feedback_scores).
from sandbox.workflow.variants import is_raw

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
        f"{PYTHON_SCRIPTS}train_classifier.py --pool {{input.pool}} --reference {{input.reference}}"
        " --reference-text-key {params.text_key:q} --backend {params.backend}"
        " --shuffled-negatives {params.shuffled} --seed {params.seed}"
        " --out-models {output.models} --out-meta {output.meta} > {log} 2>&1"


rule quality_scores:
    input:
        data=training_data,
        # the pool's scores (rule feedback_scores): a variant's documents are read from them by row id
        pool_scores=f"{OUT}/analysis/raw/feedback_classifier.parquet",
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
        f"{PYTHON_SCRIPTS}quality_scores.py --variant {{wildcards.variant}} --data {{input.data}}"
        " --models {input.models} --pool-scores {input.pool_scores} --meta {input.meta}"
        " {params.separation}"
        " --keep-fraction {params.keep_fraction} --confidence {params.confidence}"
        " --out {output} > {log} 2>&1"
