rule data_metrics:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        data=training_data,
        removed=lambda wildcards: (
            [f"{OUT}/processed/{wildcards.variant}/removed.jsonl"]
            if wildcards.variant in PROCESSED
            else []
        ),
    output:
        f"{OUT}/data_metrics/{{variant}}.json",
    log:
        f"{LOGS}/data_metrics/{{variant}}.log",
    conda:
        "../envs/base.yaml"
    params:
        removed_arg=lambda wildcards, input: (
            f"--removed {input.removed}" if input.removed else ""
        ),
    shell:
        "python scripts/data_metrics.py --variant {wildcards.variant} --pool {input.pool}"
        " --data {input.data} {params.removed_arg} --out {output} > {log} 2>&1"


rule evaluate:
    input:
        heldout=expand(
            f"{OUT}/infer/{{{{variant}}}}/seed{{seed}}/heldout.jsonl", seed=SEEDS
        ),
        train_meta=expand(
            f"{OUT}/models/{{{{variant}}}}/seed{{seed}}/train_meta.json", seed=SEEDS
        ),
        data_metrics=f"{OUT}/data_metrics/{{variant}}.json",
    output:
        f"{OUT}/eval/{{variant}}.json",
    log:
        f"{LOGS}/evaluate/{{variant}}.log",
    conda:
        "../envs/tracking.yaml"
    shell:
        "python scripts/evaluate.py --variant {wildcards.variant} --heldout {input.heldout}"
        " --train-meta {input.train_meta} --data-metrics {input.data_metrics}"
        " --out {output} > {log} 2>&1"


rule summarize:
    input:
        evaluations=expand(f"{OUT}/eval/{{variant}}.json", variant=VARIANTS),
        thresholds=(
            [f"{OUT}/recipes/k_sigma_thresholds.tsv"] if "k_sigma" in VARIANTS else []
        ),
    output:
        json=f"{OUT}/summary.json",
        md=f"{OUT}/summary.md",
    log:
        f"{LOGS}/summarize.log",
    conda:
        "../envs/tracking.yaml"
    params:
        experiment=EXP,
        k_args=(
            lambda wildcards, input: (
                f"--thresholds {input.thresholds} --k {config['k_sigma']}"
                if input.thresholds
                else ""
            )
        ),
    shell:
        "python scripts/summarize.py --experiment {params.experiment} --evaluations {input.evaluations}"
        " {params.k_args} --out-json {output.json} --out-md {output.md} > {log} 2>&1"
