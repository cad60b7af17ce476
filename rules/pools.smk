# Data pools and the mixture search (sandbox/pools, sandbox/mixture): the base variant split into pools
# (checkpoint pools_split), each pool ranked by the n-gram, a swarm of n-gram models on mixtures, the
# regression that picks the mixture, its Data-Juicer config run by dj-process, and the confirmation of
# mixture against natural, uniform, the best pool and the main variants (`snakemake mixture`).
from sandbox.pools.split import FEEDBACK_PREFIX, POOL_PATTERN, QUALITY, STAT_PREFIX
from sandbox.workflow.variants import (
    BEST_POOL,
    MIXTURE_PATTERN,
    MIXTURE_VARIANTS,
    MIXTURES,
    ranked_pool_variant,
)

POOLS_DIR = f"{OUT}/pools"
POOLS_INDEX = f"{POOLS_DIR}/index.json"
# The proxies that confirm the mixture on test (each trains mixture, natural, uniform and best_pool).
POOL_PROXIES = PROXIES
# Those with a fixed budget of their own: each gets the mixtures at its budget, pools repeated up to
# pools.max_epochs times (training_data_for in common.smk).
REPEATING_POOL_PROXIES = [proxy for proxy in POOL_PROXIES if proxy in REPEATING_PROXIES]
# The proxies that rank the pools; the first one's top pool is best_pool.
RANK_PROXIES = POOLS["proxies"]
if set(RANK_PROXIES) - set(PROXY_REGISTRY):
    raise WorkflowError(
        f"pools.proxies: {sorted(set(RANK_PROXIES) - set(PROXY_REGISTRY))} are not known proxies. "
        f"Fix: name proxies of {sorted(PROXY_REGISTRY)}."
    )
# The cheap proxy whose confirmation the main summary shows (pools/summary.<proxy>.json).
EARLY_POOL_PROXY = "ngram" if "ngram" in POOL_PROXIES else POOL_PROXIES[0]
POOLS_EARLY_SUMMARY = f"{POOLS_DIR}/summary.{EARLY_POOL_PROXY}.json"


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/pools.smk"


POOL_SPLITTERS, POOL_BUCKETS, POOLS_PROBLEM = (
    POOL_PLAN.splitters,
    POOL_PLAN.buckets,
    POOL_PLAN.problem,
)


wildcard_constraints:
    pool=POOL_PATTERN,
    mix=MIXTURE_PATTERN,
    top=r"\d+",
    times=r"\d+",


rule mixture:
    input:
        mixture_target,


checkpoint pools_split:
    input:
        unpack(pools_split_inputs),
        base=training_data_of(POOLS["base"]),
        code=code("scripts/pools_split.py"),
    output:
        index=POOLS_INDEX,
        parts=directory(f"{POOLS_DIR}/parts"),
    log:
        f"{LOGS}/pools/split.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    resources:
        **job_resources("infer"),
    params:
        base=POOLS["base"],
        by=" ".join(POOL_SPLITTERS),
        buckets=POOL_BUCKETS,
        min_docs=POOLS["min_docs"],
        scores=pools_score_args,
    shell:
        f"{PYTHON_SCRIPTS}pools_split.py --base {{input.base}} --base-variant {{params.base}} --by {{params.by}}"
        " --buckets {params.buckets} --min-docs {params.min_docs} {params.scores}"
        " --out-dir {output.parts} --out-index {output.index} > {log} 2>&1"


# Every pool's n-gram models at the smallest pool's size (a params value: a pool added later reruns
# these only when it is the new smallest).
rule pool_rank_train:
    input:
        pool=pool_file,
        eval=f"{OUT}/data/eval.jsonl",
        code=code("scripts/pool_rank_train.py"),
    output:
        f"{POOLS_DIR}/rank/ngram/{{pool}}.npz",
    log:
        f"{LOGS}/pools/rank_{{pool}}.log",
    benchmark:
        f"{OUT}/benchmarks/pools/rank_{{pool}}.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/ngram.yaml"
    resources:
        **job_resources("train"),
    params:
        budget=lambda wildcards: ranking_budget(),
        seeds=" ".join(str(seed) for seed in PROXY_SEEDS["ngram"]),
        order=config["ngram"]["order"],
    shell:
        f"{PYTHON_SCRIPTS}pool_rank_train.py --pool {{input.pool}} --name {{wildcards.pool}} --eval {{input.eval}}"
        " --budget-bytes {params.budget} --seeds {params.seeds} --order {params.order}"
        " --out {output} > {log} 2>&1"


# A neural proxy ranks the pools by its ordinary training jobs on the variants pool-<pool>: each pool
# cut to the smallest pool's bytes (training_data_of in common.smk).
rule pools_cut:
    input:
        pool=pool_file,
        code=code("scripts/pools_manipulate.py"),
    output:
        f"{POOLS_DIR}/rank/data/{{pool}}.jsonl",
    log:
        f"{LOGS}/pools/cut_{{pool}}.log",
    conda:
        "../envs/base.yaml"
    params:
        budget=lambda wildcards: ranking_budget(),
        seed=POOLS["swarm"]["seed"],
    shell:
        f"{PYTHON_SCRIPTS}pools_manipulate.py downsample --pools {{input.pool}} --bytes {{params.budget}}"
        " --seed {params.seed} --out {output} > {log} 2>&1"


# The ranking by the first of pools.proxies, whose top pool becomes best_pool.
rule pools_rank:
    input:
        index=POOLS_INDEX,
        scores=lambda wildcards: rank_scores(RANK_PROXIES[0]),
        eval_split=EVAL_SPLIT,
        code=code("scripts/pools_rank.py"),
    output:
        json=f"{POOLS_DIR}/ranking.json",
        best=training_data_of(BEST_POOL),
    log:
        f"{LOGS}/pools/rank.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/tracking.yaml"
    params:
        proxy=RANK_PROXIES[0],
        confidence=config["compare"]["confidence"],
        best=lambda wildcards, output: (
            f"--out-best {output.best}" if "best" in output.keys() else ""
        ),
    shell:
        f"{PYTHON_SCRIPTS}pools_rank.py --proxy {{params.proxy}} --index {{input.index}} --scores {{input.scores}}"
        " --eval-split {input.eval_split} --confidence {params.confidence}"
        " --out-json {output.json} {params.best} > {log} 2>&1"


# The rankings by the other proxies of pools.proxies, beside it.
use rule pools_rank as pools_rank_by with:
    input:
        index=POOLS_INDEX,
        scores=lambda wildcards: rank_scores(wildcards.proxy),
        eval_split=EVAL_SPLIT,
        code=code("scripts/pools_rank.py"),
    output:
        json=f"{POOLS_DIR}/ranking.{{proxy}}.json",
    log:
        f"{LOGS}/pools/rank_{{proxy}}.log",
    params:
        proxy=lambda wildcards: wildcards.proxy,
        confidence=config["compare"]["confidence"],
        best="",


rule mixture_swarm:
    input:
        index=POOLS_INDEX,
        pools=lambda wildcards: [pool_file_of(pool) for pool in search_pools()],
        eval=f"{OUT}/data/eval.jsonl",
        eval_split=EVAL_SPLIT,
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/mixture_train.py"),
    output:
        f"{POOLS_DIR}/swarm/chunks/{{start}}-{{stop}}.npz",
    log:
        f"{LOGS}/pools/swarm_{{start}}-{{stop}}.log",
    benchmark:
        f"{OUT}/benchmarks/pools/swarm_{{start}}-{{stop}}.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/ngram.yaml"
    resources:
        **job_resources("train"),
    params:
        names=lambda wildcards: " ".join(search_pools()),
        swarm=POOLS["swarm"],
        order=config["ngram"]["order"],
    shell:
        f"{PYTHON_SCRIPTS}mixture_train.py --index {{input.index}} --pools {{params.names}} --eval {{input.eval}}"
        " --eval-split {input.eval_split} --seed {params.swarm[seed]}"
        " --start {wildcards.start} --stop {wildcards.stop}"
        " --concentration {params.swarm[concentration]} --zero-probability {params.swarm[zero_probability]}"
        " --budget-file {input.budget} --order {params.order} --out {output} > {log} 2>&1"


rule mixture_fit:
    input:
        chunks=swarm_chunks,
        index=POOLS_INDEX,
        budget=NGRAM_BUDGET_FILE,
        code=code("scripts/mixture_fit.py"),
    output:
        fit=f"{POOLS_DIR}/fit.json",
        store=expand(
            f"{POOLS_DIR}/swarm/store/{{array}}.npy",
            array=["weights", "margins", "bpb", "train_docs"],
        ),
    log:
        f"{LOGS}/pools/fit.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/datamodels.yaml"
    params:
        store=lambda wildcards, output: str(Path(output.store[0]).parent),
        estimator=POOLS["estimator"],
        holdout_every=POOLS["holdout_every"],
        samples=POOLS["bootstrap_samples"],
        confidence=config["compare"]["confidence"],
        seed=POOLS["swarm"]["seed"],
        order=config["ngram"]["order"],
    shell:
        f"{PYTHON_SCRIPTS}mixture_fit.py --chunks {{input.chunks}} --index {{input.index}}"
        " --estimator {params.estimator} --holdout-every {params.holdout_every}"
        " --bootstrap-samples {params.samples} --confidence {params.confidence} --seed {params.seed}"
        " --budget-file {input.budget} --order {params.order} --store {params.store} --out {output.fit}"
        " > {log} 2>&1 && tail -n 1 {log}"


rule mixture_export:
    input:
        fit=rules.mixture_fit.output.fit,
        index=POOLS_INDEX,
        code=code("scripts/mixture_export.py"),
    output:
        configs=expand(f"{POOLS_DIR}/mixtures/{{mix}}.yaml", mix=MIXTURES),
        claims=expand(f"{POOLS_DIR}/mixtures/{{mix}}.json", mix=MIXTURES),
    log:
        f"{LOGS}/pools/export.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    params:
        out_dir=lambda wildcards, output: str(Path(output.configs[0]).parent),
        export_dir=f"{POOLS_DIR}/variants",
        scale="",
    shell:
        f"{PYTHON_SCRIPTS}mixture_export.py --fit {{input.fit}} --index {{input.index}}"
        " --export-dir {params.export_dir} --out-dir {params.out_dir} {params.scale} > {log} 2>&1"


# The mixtures at a neural proxy's own budget, each pool repeated up to pools.max_epochs times.
use rule mixture_export as mixture_export_repeated with:
    output:
        configs=expand(f"{POOLS_DIR}/mixtures/{{{{proxy}}}}/{{mix}}.yaml", mix=MIXTURES),
        claims=expand(f"{POOLS_DIR}/mixtures/{{{{proxy}}}}/{{mix}}.json", mix=MIXTURES),
    log:
        f"{LOGS}/pools/export_{{proxy}}.log",
    params:
        out_dir=lambda wildcards, output: str(Path(output.configs[0]).parent),
        export_dir=f"{POOLS_DIR}/variants",
        scale=lambda wildcards: (
            f"--proxy {wildcards.proxy} --budget-bytes {neural_budget(config, wildcards.proxy)}"
            f" --max-epochs {POOLS['max_epochs']}"
        ),


# What the user's own pipeline makes from the exported config: dj-process samples the pools.
rule mixture_process:
    input:
        config=f"{POOLS_DIR}/mixtures/{{mix}}.yaml",
        claim=f"{POOLS_DIR}/mixtures/{{mix}}.json",
        pools=lambda wildcards: [pool_file_of(pool) for pool in search_pools()],
        code=code("scripts/mixture_process.py"),
    output:
        data=f"{POOLS_DIR}/variants/{{mix}}/data.jsonl",
        counts=f"{POOLS_DIR}/variants/{{mix}}/counts.json",
    log:
        f"{LOGS}/pools/process_{{mix}}.log",
    benchmark:
        f"{OUT}/benchmarks/pools/process_{{mix}}.tsv"
    priority: DJ_PRIORITY
    conda:
        "../envs/data-juicer.yaml"
    resources:
        **job_resources("data_juicer"),
    shell:
        f"{PYTHON_SCRIPTS}mixture_process.py --config {{input.config}} --claim {{input.claim}}"
        " --out-counts {output.counts} > {log} 2>&1"


use rule mixture_process as mixture_process_repeated with:
    input:
        config=f"{POOLS_DIR}/mixtures/{{proxy}}/{{mix}}.yaml",
        claim=f"{POOLS_DIR}/mixtures/{{proxy}}/{{mix}}.json",
        pools=lambda wildcards: [pool_file_of(pool) for pool in search_pools()],
        code=code("scripts/mixture_process.py"),
    output:
        data=f"{POOLS_DIR}/variants/{{mix}}/{{proxy}}/data.jsonl",
        counts=f"{POOLS_DIR}/variants/{{mix}}/{{proxy}}/counts.json",
    log:
        f"{LOGS}/pools/process_{{mix}}_{{proxy}}.log",
    benchmark:
        f"{OUT}/benchmarks/pools/process_{{mix}}_{{proxy}}.tsv"


rule pools_summary:
    input:
        ranking=lambda wildcards: rankings(),
        index=POOLS_INDEX,
        fit=rules.mixture_fit.output.fit,
        claims=mixture_claims(POOL_PROXIES, "claims"),
        counts=mixture_claims(POOL_PROXIES, "counts"),
        evaluations=expand(
            f"{OUT}/eval/{{proxy}}/{{variant}}.json",
            proxy=POOL_PROXIES,
            variant=VARIANTS + [v for v in MIXTURE_VARIANTS if v not in VARIANTS],
        ),
        eval_set=f"{OUT}/data/eval_set.json",
        code=code("scripts/pools_summarize.py"),
    output:
        json=f"{POOLS_DIR}/summary.json",
        md=f"{POOLS_DIR}/summary.md",
    log:
        f"{LOGS}/pools/summary.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/tracking.yaml"
    params:
        confidence=config["compare"]["confidence"],
    shell:
        f"{PYTHON_SCRIPTS}pools_summarize.py --index {{input.index}} --ranking {{input.ranking}} --fit {{input.fit}}"
        " --claims {input.claims} --counts {input.counts} --evaluations {input.evaluations}"
        " --eval-set {input.eval_set} --confidence {params.confidence}"
        " --out-json {output.json} --out-md {output.md} > {log} 2>&1 && cat {output.md} | head -n 3"


# The confirmation by one cheap proxy alone: the main summary's section (pools.in_summary).
use rule pools_summary as pools_summary_early with:
    input:
        ranking=rules.pools_rank.output.json,
        index=POOLS_INDEX,
        fit=rules.mixture_fit.output.fit,
        claims=mixture_claims([EARLY_POOL_PROXY], "claims"),
        counts=mixture_claims([EARLY_POOL_PROXY], "counts"),
        evaluations=expand(
            f"{OUT}/eval/{EARLY_POOL_PROXY}/{{variant}}.json",
            variant=VARIANTS + [v for v in MIXTURE_VARIANTS if v not in VARIANTS],
        ),
        eval_set=f"{OUT}/data/eval_set.json",
        code=code("scripts/pools_summarize.py"),
    output:
        json=POOLS_EARLY_SUMMARY,
        md=POOLS_EARLY_SUMMARY.replace(".json", ".md"),
    log:
        f"{LOGS}/pools/summary_{EARLY_POOL_PROXY}.log",


# DJ-Sandbox's pool manipulations (target `pools`): the top-N pools combined, a pool duplicated, a pool
# downsampled to the smallest pool's documents, every pool merged.
rule pools:
    input:
        lambda wildcards: rankings(),
        f"{POOLS_DIR}/combined/top2.jsonl",
        f"{POOLS_DIR}/merged.jsonl",
        lambda wildcards: expand(
            f"{POOLS_DIR}/downsampled/{{pool}}.jsonl", pool=search_pools()
        ),


rule pools_combine:
    input:
        ranking=rules.pools_rank.output.json,
        pools=lambda wildcards: [pool_file_of(pool) for pool in search_pools()],
        code=code("scripts/pools_manipulate.py"),
    output:
        f"{POOLS_DIR}/combined/top{{top}}.jsonl",
    log:
        f"{LOGS}/pools/combine_top{{top}}.log",
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}pools_manipulate.py combine --pools {{input.pools}} --ranking {{input.ranking}}"
        " --top {wildcards.top} --out {output} > {log} 2>&1"


rule pools_duplicate:
    input:
        pool=pool_file,
        code=code("scripts/pools_manipulate.py"),
    output:
        f"{POOLS_DIR}/duplicated/{{pool}}.x{{times}}.jsonl",
    log:
        f"{LOGS}/pools/duplicate_{{pool}}.x{{times}}.log",
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}pools_manipulate.py duplicate --pools {{input.pool}} --times {{wildcards.times}}"
        " --out {output} > {log} 2>&1"


rule pools_downsample:
    input:
        pool=pool_file,
        code=code("scripts/pools_manipulate.py"),
    output:
        f"{POOLS_DIR}/downsampled/{{pool}}.jsonl",
    log:
        f"{LOGS}/pools/downsample_{{pool}}.log",
    conda:
        "../envs/base.yaml"
    params:
        docs=lambda wildcards: smallest_pool_docs(),
        seed=POOLS["swarm"]["seed"],
    shell:
        f"{PYTHON_SCRIPTS}pools_manipulate.py downsample --pools {{input.pool}} --docs {{params.docs}}"
        " --seed {params.seed} --out {output} > {log} 2>&1"


rule pools_merge:
    input:
        pools=lambda wildcards: [pool_file_of(pool) for pool in search_pools()],
        code=code("scripts/pools_manipulate.py"),
    output:
        f"{POOLS_DIR}/merged.jsonl",
    log:
        f"{LOGS}/pools/merge.log",
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}pools_manipulate.py merge --pools {{input.pools}} --out {{output}} > {{log}} 2>&1"
