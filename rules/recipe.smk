from sandbox.workflow.variants import RAW

# The analyses `all` asks for: the raw pool and each configured recipe variant after processing.
ANALYZED_STAGES = [RAW] + PROCESSED


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/recipe.smk"


rule check_recipe:
    input:
        recipe=config["recipe"],
        code=code("scripts/check_recipe.py"),
    output:
        f"{OUT}/recipes/recipe.yaml",
    log:
        f"{LOGS}/check_recipe.log",
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    shell:
        f"{PYTHON_SCRIPTS}check_recipe.py --recipe {{input.recipe}} --out {{output}} > {{log}} 2>&1"


# What every analysis runs: of the pool, of a processed variant, and of the HPO base recipe (hpo.smk).
ANALYZE = (
    f"{PYTHON_SCRIPTS}analyze.py --recipe {{input.recipe}} --data {{input.data}}"
    " --out-stats {output.stats} --out-overall {output.overall} --out-plots {output.plots}"
    " --out-dataset {output.with_stats} --out-stats-cache {output.stats_cache}"
    " --np {threads} > {log} 2>&1"
)


rule analyze:
    input:
        recipe=f"{OUT}/recipes/recipe.yaml",
        data=analyzed_data,
        code=code("scripts/analyze.py"),
    output:
        stats=f"{OUT}/analysis/{{stage}}/stats.jsonl",
        overall=f"{OUT}/analysis/{{stage}}/overall.json",
        plots=directory(f"{OUT}/analysis/{{stage}}/plots"),
        with_stats=f"{OUT}/analysis/{{stage}}/with_stats.jsonl",
        stats_cache=f"{OUT}/analysis/{{stage}}/stats.parquet",
    log:
        f"{LOGS}/analyze/{{stage}}.log",
    benchmark:
        f"{OUT}/benchmarks/analyze/{{stage}}.tsv"
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    threads: DJ_THREADS
    resources:
        **job_resources("data_juicer"),
    shell:
        ANALYZE


rule refine_k_sigma:
    input:
        recipe=f"{OUT}/recipes/recipe.yaml",
        overall=f"{OUT}/analysis/raw/overall.json",
        code=code("scripts/refine_k_sigma.py"),
    output:
        recipe=f"{OUT}/recipes/k_sigma.yaml",
        table=f"{OUT}/recipes/k_sigma_thresholds.tsv",
    log:
        f"{LOGS}/refine_k_sigma.log",
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    params:
        k=config["k_sigma"],
    shell:
        f"{PYTHON_SCRIPTS}refine_k_sigma.py --recipe {{input.recipe}} --overall {{input.overall}}"
        " --k {params.k} --out-recipe {output.recipe} --out-table {output.table} > {log} 2>&1"


rule process:
    input:
        unpack(process_analysis),
        recipe=variant_recipe,
        pool=f"{OUT}/data/pool.jsonl",
        code=code("scripts/process.py"),
    output:
        data=f"{OUT}/processed/{{processed}}/data.jsonl",
        counts=f"{OUT}/processed/{{processed}}/op_counts.json",
        removed=f"{OUT}/processed/{{processed}}/removed.jsonl",
    log:
        f"{LOGS}/process/{{processed}}.log",
    benchmark:
        f"{OUT}/benchmarks/process/{{processed}}.tsv"
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    threads: DJ_THREADS
    resources:
        **job_resources("data_juicer"),
    shell:
        f"{PYTHON_SCRIPTS}process.py --variant {{wildcards.processed}} --recipe {{input.recipe}}"
        " --analyzed-recipe {input.analyzed_recipe} --pool {input.pool}"
        " --pool-with-stats {input.pool_with_stats} --stats-cache {input.stats_cache}"
        " --model-stats {input.model_stats} --out-data {output.data}"
        " --out-counts {output.counts} --out-removed {output.removed} --np {threads} > {log} 2>&1"
