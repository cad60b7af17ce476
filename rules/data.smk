# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/data.smk"


rule prepare_demo:
    input:
        # The recipe check (every op's resources included) runs before any job touches data;
        # ancient: a changed recipe does not rebuild the data.
        recipe_checked=ancient(f"{OUT}/recipes/recipe.yaml"),
        code=code("scripts/prepare_demo.py"),
    output:
        pool=f"{OUT}/demo/pool.jsonl",
        eval=f"{OUT}/demo/eval.jsonl",
        reference=f"{OUT}/demo/reference.jsonl",
    log:
        f"{LOGS}/prepare_demo.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/demo.yaml"
    params:
        demo=config["demo"],
    shell:
        f"{PYTHON_SCRIPTS}prepare_demo.py --pool {{output.pool}} --eval {{output.eval}}"
        " --seed {params.demo[seed]} --pool-docs {params.demo[pool_docs]}"
        " --eval-docs {params.demo[eval_docs]} --noise-fraction {params.demo[noise_fraction]}"
        " --reference {output.reference} --reference-docs {params.demo[reference_docs]}"
        " > {log} 2>&1"


rule split_trusted:
    input:
        trusted=TRUSTED or [],
        recipe_checked=ancient(f"{OUT}/recipes/recipe.yaml"),
        code=code("scripts/split_trusted.py"),
    output:
        eval=f"{TRUSTED_SPLIT}/eval.jsonl",
        reference=f"{TRUSTED_SPLIT}/reference.jsonl",
        split=f"{TRUSTED_SPLIT}/split.json",
    log:
        f"{LOGS}/split_trusted.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    params:
        text_key=config["text_key"],
        eval_fraction=config["trusted_eval_fraction"],
        min_docs=config["trusted_min_docs"],
        words=config["decontamination_words"],
    shell:
        f"{PYTHON_SCRIPTS}split_trusted.py --trusted {{input.trusted}} --text-key {{params.text_key:q}}"
        " --eval-fraction {params.eval_fraction} --min-docs {params.min_docs}"
        " --decontamination-words {params.words} --out-eval {output.eval}"
        " --out-reference {output.reference} --out-split {output.split}"
        " > {log} 2>&1"


rule prepare_input:
    input:
        dataset=dataset_input,
        eval=eval_input,
        trusted_split=(
            [f"{TRUSTED_SPLIT}/split.json"] if EVAL_SOURCE == "trusted" else []
        ),
        reference=USER_REFERENCE,
        recipe_checked=ancient(f"{OUT}/recipes/recipe.yaml"),
        code=code("scripts/prepare_input.py"),
    output:
        pool=f"{OUT}/data/pool.jsonl",
        eval=f"{OUT}/data/eval.jsonl",
        eval_set=f"{OUT}/data/eval_set.json",
        reference=[FEEDBACK_REFERENCE] if USER_REFERENCE else [],
    log:
        f"{LOGS}/prepare_input.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    params:
        text_key=config["text_key"] if not USES_DEMO else "text",
        eval_fraction=config["eval_fraction"],
        eval_source=EVAL_SOURCE,
        eval_arg=lambda wildcards, input: f"--eval {input.eval}" if input.eval else "",
        split_arg=lambda wildcards, input: (
            f"--trusted-split {input.trusted_split}" if input.trusted_split else ""
        ),
        reference_arg=lambda wildcards, input, output: (
            f"--reference {input.reference} --reference-text-key {config['text_key']}"
            f" --reference-min-docs {config['trusted_min_docs']}"
            f" --out-reference {output.reference}"
            if input.reference
            else ""
        ),
        words=config["decontamination_words"],
    shell:
        f"{PYTHON_SCRIPTS}prepare_input.py --dataset {{input.dataset}} {{params.eval_arg}}"
        " --eval-source {params.eval_source} {params.split_arg} {params.reference_arg}"
        " --decontamination-words {params.words}"
        " --eval-fraction {params.eval_fraction} --text-key {params.text_key:q}"
        " --out-pool {output.pool} --out-eval {output.eval} --out-eval-set {output.eval_set}"
        " > {log} 2>&1"


rule split_eval:
    input:
        eval=f"{OUT}/data/eval.jsonl",
        code=code("scripts/split_eval.py"),
    output:
        EVAL_SPLIT,
    log:
        f"{LOGS}/split_eval.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    params:
        fraction=config["eval_split"],
        words=config["decontamination_words"],
    shell:
        f"{PYTHON_SCRIPTS}split_eval.py --eval {{input.eval}} --validation-fraction {{params.fraction}}"
        " --decontamination-words {params.words} --out {output} > {log} 2>&1"


rule select_probe:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        code=code("scripts/select_docs.py"),
    output:
        f"{OUT}/data/probe.jsonl",
    log:
        f"{LOGS}/select_probe.log",
    conda:
        "../envs/base.yaml"
    params:
        limit=config["infer"]["probe_docs"],
    shell:
        f"{PYTHON_SCRIPTS}select_docs.py --data {{input.pool}} --out {{output}} --probe {{params.limit}} > {{log}} 2>&1"


rule select_oracle:
    input:
        pool=f"{OUT}/data/pool.jsonl",
        code=code("scripts/select_docs.py"),
    output:
        f"{OUT}/data/oracle.jsonl",
    log:
        f"{LOGS}/select_oracle.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/base.yaml"
    shell:
        f"{PYTHON_SCRIPTS}select_docs.py --data {{input.pool}} --out {{output}} --oracle > {{log}} 2>&1"
