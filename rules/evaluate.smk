import json
import snakemake

# mark_summary_stale: the Snakefile's onerror marks a summary whose sources are gone (summary_sources);
# run_end_lines: its onsuccess prints the verdicts and where to look.
from sandbox.proxies.budget import design
from sandbox.workflow.stale import mark_summary_stale
from sandbox.workflow.run_end import run_end_lines
from sandbox.workflow.variants import K_SIGMA, is_processed

# Where each proxy's budget and seeds come from, for the verdict's header (summarize_proxy gets its
# proxy's alone, so adding or dropping another proxy leaves its early verdict as it is).
DESIGN_BY_PROXY = design(
    config, {proxy: PROXY_REGISTRY[proxy].config_section for proxy in PROXIES}
)
DESIGN = json.dumps(DESIGN_BY_PROXY)


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/evaluate.smk"


rule data_metrics:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        data=training_data,
        removed=lambda wildcards: (
            [f"{OUT}/processed/{wildcards.variant}/removed.jsonl"]
            if is_processed(wildcards.variant)
            else []
        ),
        quality=quality_input,
        code=code("scripts/data_metrics.py"),
    output:
        f"{OUT}/data_metrics/{{variant}}.json",
    log:
        f"{LOGS}/data_metrics/{{variant}}.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    params:
        removed_arg=lambda wildcards, input: (
            f"--removed {input.removed}" if input.removed else ""
        ),
        quality_arg=lambda wildcards, input: (
            f"--quality {input.quality}" if input.quality else ""
        ),
    shell:
        f"{PYTHON_SCRIPTS}data_metrics.py --variant {{wildcards.variant}} --pool {{input.pool}}"
        " --data {input.data} {params.removed_arg} {params.quality_arg} --out {output} > {log} 2>&1"


rule evaluate:
    input:
        heldout=lambda wildcards: heldout_scores(
            wildcards.proxy,
            wildcards.variant,
            seeds_of(wildcards.proxy, wildcards.variant),
        ),
        train_meta=lambda wildcards: [
            path.replace("heldout.jsonl", "train_meta.json")
            for path in heldout_scores(
                wildcards.proxy,
                wildcards.variant,
                seeds_of(wildcards.proxy, wildcards.variant),
            )
        ],
        data_metrics=f"{OUT}/data_metrics/{{variant}}.json",
        eval_split=EVAL_SPLIT,
        code=code("scripts/evaluate.py"),
    output:
        f"{OUT}/eval/{{proxy}}/{{variant}}.json",
    log:
        f"{LOGS}/evaluate/{{proxy}}_{{variant}}.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/tracking.yaml"
    shell:
        f"{PYTHON_SCRIPTS}evaluate.py --variant {{wildcards.variant}} --proxy {{wildcards.proxy}}"
        " --heldout {input.heldout} --train-meta {input.train_meta}"
        " --data-metrics {input.data_metrics} --eval-split {input.eval_split}"
        " --out {output} > {log} 2>&1"


# What both summaries run; the last line of the log (the verdict and its file) goes to the console.
SUMMARIZE = (
    f"{PYTHON_SCRIPTS}summarize.py --experiment {{params.experiment}} --evaluations {{input.evaluations}}"
    " --design {params.design:q} {params.ngram_budget_arg}"
    " --confidence {params.compare[confidence]} --max-seed-std {params.compare[max_seed_std]}"
    " --eval {input.eval} --eval-set {input.eval_set} --out-json {output.json} --out-md {output.md}"
)


rule summarize:
    input:
        evaluations=expand(
            f"{OUT}/eval/{{proxy}}/{{variant}}.json", proxy=PROXIES, variant=VARIANTS
        ),
        thresholds=(
            [f"{OUT}/recipes/k_sigma_thresholds.tsv"] if K_SIGMA in VARIANTS else []
        ),
        near_threshold=expand(
            f"{OUT}/processed/{{processed}}/near_threshold.json", processed=PROCESSED
        ),
        provenance=f"{OUT}/provenance.json",
        datamodels=[f"{DM_DIR}/summary.json"] if DM["in_summary"] else [],
        # the mixture search's confirmation by its cheap proxy (pools.in_summary)
        pools=[POOLS_EARLY_SUMMARY] if MIXTURE_IN_SUMMARY else [],
        # the ladder's line, once `snakemake ladder` made one
        ladder=ladder_summary_input,
        # each feedback filter's threshold and cost
        feedback=expand(
            f"{OUT}/recipes/feedback_{{method}}.json", method=FEEDBACK_METHODS
        ),
        eval=f"{OUT}/data/eval.jsonl",
        eval_set=f"{OUT}/data/eval_set.json",
        # the downstream tasks' per-item results (config tasks:), one table per proxy
        downstream=downstream_results(),
        downstream_items=downstream_results("items.jsonl"),
        ngram_budget=[NGRAM_BUDGET_FILE] if "ngram" in PROXIES else [],
        code=code("scripts/summarize.py"),
    output:
        json=f"{OUT}/summary.json",
        md=f"{OUT}/summary.md",
    log:
        f"{LOGS}/summarize.log",
    conda:
        "../envs/tracking.yaml"
    params:
        experiment=EXP,
        compare=config["compare"],
        design=DESIGN,
        ngram_budget_arg=ngram_budget_arg,
        near_arg=lambda wildcards, input: (
            f"--near-threshold {input.near_threshold}" if input.near_threshold else ""
        ),
        feedback_arg=lambda wildcards, input: (
            f"--feedback {input.feedback}" if input.feedback else ""
        ),
        datamodels_args=lambda wildcards, input: (
            f"--datamodels {input.datamodels} --datamodels-group-by {DM['group_by']}"
            if input.datamodels
            else ""
        ),
        ladder_arg=lambda wildcards, input: (
            f"--ladder {input.ladder}" if input.ladder else ""
        ),
        pools_arg=lambda wildcards, input: (
            f"--pools {input.pools}" if input.pools else ""
        ),
        k_args=(
            lambda wildcards, input: (
                f"--thresholds {input.thresholds} --k {config['k_sigma']}"
                if input.thresholds
                else ""
            )
        ),
        downstream_arg=lambda wildcards, input: (
            f"--downstream {input.downstream}" if input.downstream else ""
        ),
    shell:
        f"{SUMMARIZE} {{params.k_args}} {{params.near_arg}} {{params.datamodels_args}}"
        " {params.downstream_arg} {params.feedback_arg} {params.ladder_arg} {params.pools_arg}"
        " --provenance {input.provenance} > {log} 2>&1 && tail -n 1 {log}"


# One proxy's verdict as soon as its own models are scored (the n-gram's minutes before the GPT's):
# no provenance, datamodels or other proxies, which wait for every model.
rule summarize_proxy:
    input:
        evaluations=expand(
            f"{OUT}/eval/{{{{proxy}}}}/{{variant}}.json", variant=VARIANTS
        ),
        eval=f"{OUT}/data/eval.jsonl",
        eval_set=f"{OUT}/data/eval_set.json",
        ngram_budget=lambda wildcards: (
            [NGRAM_BUDGET_FILE] if wildcards.proxy == "ngram" else []
        ),
        code=code("scripts/summarize.py"),
    output:
        json=f"{OUT}/summary.{{proxy}}.json",
        md=f"{OUT}/summary.{{proxy}}.md",
    log:
        f"{LOGS}/summarize_{{proxy}}.log",
    # Before the remaining training jobs, so the first answer is there as soon as it can be.
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/tracking.yaml"
    params:
        experiment=EXP,
        compare=config["compare"],
        design=proxy_design_arg,
        ngram_budget_arg=ngram_budget_arg,
    shell:
        f"{SUMMARIZE} > {{log}} 2>&1 && tail -n 1 {{log}}"


rule inspect_thresholds:
    input:
        counts=f"{OUT}/processed/{{processed}}/op_counts.json",
        removed=f"{OUT}/processed/{{processed}}/removed.jsonl",
        data=f"{OUT}/processed/{{processed}}/data.jsonl",
        pool=f"{OUT}/data/pool.jsonl",
        raw_stats=f"{OUT}/analysis/raw/stats.jsonl",
        code=code("scripts/inspect_thresholds.py"),
    output:
        f"{OUT}/processed/{{processed}}/near_threshold.json",
    log:
        f"{LOGS}/inspect_thresholds/{{processed}}.log",
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}inspect_thresholds.py --counts {{input.counts}} --removed {{input.removed}}"
        " --data {input.data} --pool {input.pool} --raw-stats {input.raw_stats}"
        " --out {output} > {log} 2>&1"


rule provenance:
    input:
        recipe=config["recipe"],
        data=provenance_inputs,
        op_counts=expand(
            f"{OUT}/processed/{{processed}}/op_counts.json", processed=PROCESSED
        ),
        train_meta=[
            f"{OUT}/models/{proxy}/{variant}/seed{seed}/train_meta.json"
            for proxy in PROXIES
            for variant in VARIANTS
            for seed in PROXY_SEEDS[proxy]
        ],
        # the environment locks (`make lock`): a new lock records its sha256
        locks=sorted(
            from_root(f"envs/locks/{path.name}")
            for path in (WORKFLOW_ROOT / "envs/locks").glob("*.txt")
        ),
        code=code("scripts/provenance.py"),
    output:
        f"{OUT}/provenance.json",
    log:
        f"{LOGS}/provenance.log",
    conda:
        "../envs/base.yaml"
    params:
        repo=str(WORKFLOW_ROOT),
        config_json=lambda wildcards: json.dumps(config, sort_keys=True),
        snakemake_version=snakemake.__version__,
        op_counts_arg=lambda wildcards, input: (
            f"--op-counts {input.op_counts}" if input.op_counts else ""
        ),
    shell:
        f"{PYTHON_SCRIPTS}provenance.py --repo {{params.repo}} --config-json {{params.config_json:q}}"
        " --recipe {input.recipe} --inputs {input.data} {params.op_counts_arg}"
        " --train-meta {input.train_meta} --snakemake-version {params.snakemake_version}"
        " --locks {input.locks} --out {output} > {log} 2>&1"
