# The HTML report: `snakemake --report report.html` after a run. Each rule draws one figure (or the
# verdict page) from files the run already made; report() gives it a caption and a category.
REPORT = f"{OUT}/report"


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/report.smk"


rule report_verdict:
    input:
        summary=f"{OUT}/summary.json",
        code=code("scripts/report_verdict.py"),
    output:
        report(
            f"{REPORT}/verdict.html",
            caption="../report/verdict.rst",
            category="1. Verdict",
            labels={"page": "verdict table"},
        ),
    log:
        f"{LOGS}/report/verdict.log",
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}report_verdict.py --summary {{input.summary}} --out {{output}} > {{log}} 2>&1"


rule plot_bpb:
    input:
        summary=f"{OUT}/summary.json",
        code=code("scripts/plot_bpb.py"),
    output:
        report(
            f"{REPORT}/bpb_{{proxy}}.png",
            caption="../report/bpb.rst",
            category="2. Held-out bpb",
            labels={"proxy": "{proxy}", "figure": "bpb per variant"},
        ),
    log:
        f"{LOGS}/report/bpb_{{proxy}}.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_bpb.py --summary {{input.summary}} --proxy {{wildcards.proxy}}"
        " --out {output} > {log} 2>&1"


rule plot_thresholds:
    input:
        stats=f"{OUT}/analysis/raw/stats.jsonl",
        thresholds=f"{OUT}/recipes/k_sigma_thresholds.tsv",
        code=code("scripts/plot_thresholds.py"),
    output:
        report(
            f"{REPORT}/thresholds.png",
            caption="../report/thresholds.rst",
            category="3. Stats and thresholds",
            labels={"figure": "raw stats, old and new thresholds"},
        ),
    log:
        f"{LOGS}/report/thresholds.log",
    conda:
        "../envs/report.yaml"
    params:
        k=config["k_sigma"],
    shell:
        f"{PYTHON_SCRIPTS}plot_thresholds.py --stats {{input.stats}} --thresholds {{input.thresholds}}"
        " --k {params.k} --out {output} > {log} 2>&1"


rule plot_removals:
    input:
        metrics=f"{OUT}/data_metrics/{{processed}}.json",
        code=code("scripts/plot_removals.py"),
    output:
        report(
            f"{REPORT}/removals/{{processed}}.png",
            caption="../report/removals.rst",
            category="4. Removals per operator",
            labels={"variant": "{processed}"},
        ),
    log:
        f"{LOGS}/report/removals_{{processed}}.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_removals.py --metrics {{input.metrics}} --out {{output}} > {{log}} 2>&1"


rule plot_mixture:
    input:
        summary=POOLS_EARLY_SUMMARY,
        code=code("scripts/plot_mixture.py"),
    output:
        report(
            f"{REPORT}/mixture.png",
            caption="../report/mixture.rst",
            category="8. Mixture of data pools",
            labels={"figure": "weights and the swarm's fit"},
        ),
    log:
        f"{LOGS}/report/mixture.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_mixture.py --summary {{input.summary}} --out {{output}} > {{log}} 2>&1"


rule plot_loss:
    input:
        loss=lambda wildcards: [
            f"{OUT}/models/{wildcards.proxy}/{variant}/seed{seed}/loss.jsonl"
            for variant in VARIANTS
            for seed in PROXY_SEEDS[wildcards.proxy]
        ],
        code=code("scripts/plot_loss.py"),
    output:
        report(
            f"{REPORT}/loss_{{proxy}}.png",
            caption="../report/loss.rst",
            category="5. Training curves",
            labels={"proxy": "{proxy}", "figure": "training loss"},
        ),
    log:
        f"{LOGS}/report/loss_{{proxy}}.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_loss.py --loss {{input.loss}} --proxy {{wildcards.proxy}} --out {{output}}"
        " > {log} 2>&1"


rule plot_hpo_confirmed:
    input:
        confirmed=f"{HPO}/confirmed.json",
        code=code("scripts/plot_hpo_confirmed.py"),
    output:
        report(
            f"{HPO}/confirmed.png",
            caption="../report/hpo_confirmed.rst",
            category="6. HPO",
            labels={"figure": "confirmed trials"},
        ),
    log:
        f"{LOGS}/report/hpo_confirmed.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_hpo_confirmed.py --confirmed {{input.confirmed}} --out {{output}} > {{log}} 2>&1"
