# Downstream tasks (lm-evaluation-harness): every trained model of ngram, gpt and hf scored on each
# task's items, offline (config `tasks:`; sandbox/downstream/tasks.py, sandbox/downstream/harness.py). Each job is one task,
# proxy, variant and seed, so adding a task runs only its own jobs (and the summaries they feed).


# train_ngram keeps no model: this counts the same documents again and checks that the model
# reproduces the training job's held-out scores before writing it.
rule ngram_model:
    input:
        data=training_data,
        eval=f"{OUT}/data/eval.jsonl",
        heldout=f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/heldout.jsonl",
        code=code("scripts/ngram_model.py"),
    output:
        f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/model.npz",
    log:
        f"{LOGS}/ngram_model/{{variant}}_seed{{seed}}.log",
    conda:
        "../envs/ngram.yaml"
    threads: 1
    resources:
        **job_resources("train"),
    params:
        order=config["ngram"]["order"],
        budget=NGRAM_BUDGET,
    shell:
        "python scripts/ngram_model.py --train {input.data} --eval {input.eval} --heldout {input.heldout}"
        " --seed {wildcards.seed} --budget-bytes {params.budget} --order {params.order}"
        " --out {output} > {log} 2>&1"


rule downstream:
    input:
        model=downstream_model,
        task=task_files,
        code=code("scripts/downstream.py"),
    output:
        item_rows=f"{OUT}/downstream/{{task}}/{{proxy}}/{{variant}}/seed{{seed}}/items.jsonl",
        results=f"{OUT}/downstream/{{task}}/{{proxy}}/{{variant}}/seed{{seed}}/results.json",
    log:
        f"{LOGS}/downstream/{{task}}/{{proxy}}_{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/downstream/{{task}}/{{proxy}}_{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        task=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
        proxy="|".join(HARNESS_MODELS),
    conda:
        "../envs/lm-eval.yaml"
    threads: TRAIN["threads"]
    resources:
        **job_resources("infer", gpu=True),
    params:
        # the config entry (a name or a YAML path), per task: adding a task changes no other job's
        entry=lambda wildcards: TASK_ENTRIES[wildcards.task],
        tasks_path=config["tasks_path"],
        device=TRAIN["device"],
    shell:
        "python scripts/downstream.py --task {params.entry:q} --tasks-path {params.tasks_path:q}"
        " --proxy {wildcards.proxy} --model {input.model} --variant {wildcards.variant}"
        " --seed {wildcards.seed} --items-out {output.item_rows} --results-out {output.results}"
        " --device {params.device} --threads {threads} > {log} 2>&1"
