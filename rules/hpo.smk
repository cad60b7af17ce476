from sandbox.workflow.variants import feedback_method, is_feedback

HPO = f"{OUT}/hpo"
STUDY = f"{HPO}/study.journal"
HPO_BASE = config["hpo"]["base"]
HPO_BASE_RECIPE = f"{OUT}/recipes/{HPO_BASE}.yaml"
# The raw analysis has no stats for a feedback filter, so a feedback base is analysed on its own
# for the trials' mask path; recipe and k_sigma share the raw analysis (same ops).
HPO_FEEDBACK_BASE = is_feedback(HPO_BASE)
HPO_ANALYSIS = f"{HPO}/analysis" if HPO_FEEDBACK_BASE else f"{OUT}/analysis/raw"
HPO_ANALYZED_RECIPE = (
    HPO_BASE_RECIPE if HPO_FEEDBACK_BASE else f"{OUT}/recipes/recipe.yaml"
)
if (
    HPO_FEEDBACK_BASE
    and feedback_method(HPO_BASE) in NEEDS_REFERENCE
    and not FEEDBACK_REFERENCE
):
    raise WorkflowError(
        f"hpo.base: {HPO_BASE} scores documents against a model of a reference sample, and "
        "feedback.reference_path is empty. Fix: set feedback.reference_path to a JSONL of clean "
        "documents, or choose hpo.base: feedback_self_loss, recipe or k_sigma."
    )


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/hpo.smk"


rule hpo:
    input:
        f"{HPO}/summary.json",
        f"{HPO}/confirmed.json",
        f"{HPO}/trials.tsv",
        f"{HPO}/best_recipe.yaml",
        f"{HPO}/history.png",
        # the report's figure of the confirmed trials with their intervals (rules/report.smk)
        f"{HPO}/confirmed.png",


rule hpo_check:
    input:
        sweep=config["hpo"]["sweep"],
        recipe=HPO_BASE_RECIPE,
        code=code("scripts/hpo_check.py"),
    output:
        f"{HPO}/sweep.json",
    log:
        f"{LOGS}/hpo/check.log",
    conda:
        "../envs/data-juicer.yaml"
    params:
        base=config["hpo"]["base"],
    shell:
        f"{PYTHON_SCRIPTS}hpo_check.py --sweep {{input.sweep}} --recipe {{input.recipe}}"
        " --base {params.base} --out {output} > {log} 2>&1"


rule hpo_analyze_base:
    input:
        recipe=HPO_BASE_RECIPE,
        data=f"{OUT}/data/pool.jsonl",
        code=code("scripts/analyze.py"),
    output:
        stats=f"{HPO}/analysis/stats.jsonl",
        overall=f"{HPO}/analysis/overall.json",
        plots=directory(f"{HPO}/analysis/plots"),
        with_stats=f"{HPO}/analysis/with_stats.jsonl",
        stats_cache=f"{HPO}/analysis/stats.parquet",
    log:
        f"{LOGS}/hpo/analyze_base.log",
    benchmark:
        f"{OUT}/benchmarks/hpo_analyze_base.tsv"
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    threads: DJ_THREADS
    resources:
        **job_resources("data_juicer"),
    shell:
        ANALYZE


rule hpo_ask:
    input:
        sweep=f"{HPO}/sweep.json",
        recipe=HPO_BASE_RECIPE,
        previous=previous_round,
        code=code("scripts/hpo_ask.py"),
    output:
        recipe=f"{HPO}/trials/{{trial}}/recipe.yaml",
        params=f"{HPO}/trials/{{trial}}/params.json",
    log:
        f"{LOGS}/hpo/ask_{{trial}}.log",
    conda:
        "../envs/hpo.yaml"
    params:
        study=STUDY,
        sampler_seed=config["hpo"]["sampler_seed"],
    shell:
        f"{PYTHON_SCRIPTS}hpo_ask.py --sweep-json {{input.sweep}} --recipe {{input.recipe}}"
        " --study {params.study} --trial {wildcards.trial} --sampler-seed {params.sampler_seed}"
        " --out-recipe {output.recipe} --out-params {output.params} > {log} 2>&1"


rule hpo_round_eval:
    input:
        params=round_trial_files("params.json"),
        recipes=round_trial_files("recipe.yaml"),
        analyzed_recipe=HPO_ANALYZED_RECIPE,
        pool=f"{OUT}/data/pool.jsonl",
        stats_cache=f"{HPO_ANALYSIS}/stats.parquet",
        eval=f"{OUT}/data/eval.jsonl",
        eval_split=EVAL_SPLIT,
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/hpo_round_eval.py"),
    output:
        f"{HPO}/rounds/{{round}}.eval.json",
    log:
        f"{LOGS}/hpo/round_eval_{{round}}.log",
    benchmark:
        f"{OUT}/benchmarks/hpo_round_eval/{{round}}.tsv"
    conda:
        "../envs/data-juicer.yaml"
    threads: DJ_THREADS
    resources:
        **job_resources("data_juicer"),
    params:
        train=lambda wildcards: "--train" if sweep().needs_training else "",
        seeds=" ".join(str(seed) for seed in config["hpo"]["seeds"]),
        order=config["ngram"]["order"],
    shell:
        f"{PYTHON_SCRIPTS}hpo_round_eval.py --params {{input.params}} --recipes {{input.recipes}}"
        " --analyzed-recipe {input.analyzed_recipe} --pool {input.pool}"
        " --stats-cache {input.stats_cache} --eval {input.eval} --eval-split {input.eval_split}"
        " {params.train}"
        " --seeds {params.seeds} --budget-file {input.budget} --order {params.order}"
        " --np {threads} --out {output} > {log} 2>&1"


checkpoint hpo_tell:
    input:
        sweep=f"{HPO}/sweep.json",
        params=round_trial_files("params.json"),
        evaluations=round_evaluations,
        code=code("scripts/hpo_tell.py"),
    output:
        f"{HPO}/rounds/{{round}}.json",
    log:
        f"{LOGS}/hpo/tell_{{round}}.log",
    conda:
        "../envs/hpo.yaml"
    params:
        study=STUDY,
        sampler_seed=config["hpo"]["sampler_seed"],
        benchmarks=f"{OUT}/benchmarks",
        wandb_dir=f"{OUT}/wandb",
    shell:
        f"{PYTHON_SCRIPTS}hpo_tell.py --sweep-json {{input.sweep}} --study {{params.study}}"
        " --round {wildcards.round} --params {input.params} --evaluations {input.evaluations}"
        " --benchmarks {params.benchmarks} --sampler-seed {params.sampler_seed}"
        " --wandb-dir {params.wandb_dir}"
        " --out {output} > {log} 2>&1"


rule hpo_confirm:
    input:
        sweep=f"{HPO}/sweep.json",
        rounds=finished_rounds,
        scores=confirmation_scores,
        eval_split=EVAL_SPLIT,
        code=code("scripts/hpo_confirm.py"),
    output:
        f"{HPO}/confirmed.json",
    log:
        f"{LOGS}/hpo/confirm.log",
    conda:
        "../envs/tracking.yaml"
    params:
        proxy=lambda wildcards: sweep_proxy(),
        compare=config["compare"],
    shell:
        f"{PYTHON_SCRIPTS}hpo_confirm.py --sweep-json {{input.sweep}} --rounds {{input.rounds}}"
        " --scores {input.scores} --proxy {params.proxy}"
        " --confidence {params.compare[confidence]} --eval-split {input.eval_split}"
        " --out {output} > {log} 2>&1"


rule hpo_export:
    input:
        sweep=config["hpo"]["sweep"],
        rounds=finished_rounds,
        confirmed=f"{HPO}/confirmed.json",
        trial_recipes=finished_trial_recipes,
        code=code("scripts/hpo_export.py"),
    output:
        summary=f"{HPO}/summary.json",
        trials=f"{HPO}/trials.tsv",
        recipe=f"{HPO}/best_recipe.yaml",
        history=report(
            f"{HPO}/history.png",
            caption="../report/hpo_history.rst",
            category="6. HPO",
            labels={"figure": "search history"},
        ),
    log:
        f"{LOGS}/hpo/export.log",
    conda:
        "../envs/hpo.yaml"
    shell:
        f"{PYTHON_SCRIPTS}hpo_export.py --sweep {{input.sweep}} --rounds {{input.rounds}}"
        " --confirmed {input.confirmed} --trial-recipes {input.trial_recipes} --out-trials {output.trials}"
        " --out-recipe {output.recipe} --out-history {output.history}"
        " --out-summary {output.summary} > {log} 2>&1"
