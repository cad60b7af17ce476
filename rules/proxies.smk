# The proxies (sandbox/proxies/): each rule train_<proxy> runs the proxy's trainer through
# scripts/train.py once per variant and seed; the scale ladder builds its rules from these
# (rules/ladder.smk: `use rule train_<proxy> as ladder_train_<proxy> with:`), so a proxy's options
# are spelled once, here.


from sandbox.proxies.budget import neural_budget
from sandbox.workflow.variants import sizes_ngram_budget

HF = config["hf"]
NGRAM = config["ngram"]
# The n-gram's byte budget, from the judged variants' sizes (sandbox/proxies/budget.py): every n-gram
# job of the run (main, ladder, HPO rounds, datamodels, downstream models) reads this file.
NGRAM_BUDGET_FILE = f"{OUT}/models/ngram/budget.json"
# The variants whose sizes set it; none with an explicit ngram.budget_bytes.
NGRAM_BUDGET_VARIANTS = (
    [] if NGRAM["budget_bytes"] else [v for v in VARIANTS if sizes_ngram_budget(v)]
)


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/proxies.smk"


rule train_gpt:
    input:
        data=training_data_for("gpt"),
        eval=f"{OUT}/data/eval.jsonl",
        code=proxy_code("gpt"),
    output:
        model=f"{OUT}/models/gpt/{{variant}}/seed{{seed}}/model.pt",
        loss=f"{OUT}/models/gpt/{{variant}}/seed{{seed}}/loss.jsonl",
        meta=f"{OUT}/models/gpt/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/gpt/{{variant}}/seed{{seed}}/heldout.jsonl",
    log:
        f"{LOGS}/train_gpt/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/train_gpt/{{variant}}_seed{{seed}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TRAIN["threads"]
    resources:
        **job_resources("train", gpu=True),
    params:
        train=TRAIN,
        out_dir=subpath(output.model, parent=True),
        wandb_dir=f"{OUT}/wandb",
        group=EXP,
        # the wandb run's name after variant-seed (the ladder's: its scale)
        run_suffix="",
    shell:
        f"{PYTHON_SCRIPTS}train.py gpt --train {{input.data}} --eval {{input.eval}} --out-dir {{params.out_dir}}"
        " --heldout-out {output.heldout}"
        " --seed {wildcards.seed} --steps {params.train[steps]} --batch-size {params.train[batch_size]}"
        " --seq-len {params.train[seq_len]} --d-model {params.train[d_model]}"
        " --n-layers {params.train[n_layers]} --n-heads {params.train[n_heads]} --lr {params.train[lr]}"
        " --warmup-steps {params.train[warmup_steps]} --min-lr-ratio {params.train[min_lr_ratio]}"
        " --weight-decay {params.train[weight_decay]} --ema-decay {params.train[ema_decay]}"
        " --device {params.train[device]} --threads {threads}"
        " --wandb-dir {params.wandb_dir} --wandb-group {params.group}"
        " --run-name {wildcards.variant}-seed{wildcards.seed}{params.run_suffix} --variant {wildcards.variant}"
        " > {log} 2>&1"


rule ngram_budget:
    input:
        data=[training_data_of(variant) for variant in NGRAM_BUDGET_VARIANTS],
        code=code("scripts/ngram_budget.py"),
    output:
        NGRAM_BUDGET_FILE,
    log:
        f"{LOGS}/ngram_budget.log",
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/ngram.yaml"
    params:
        data=" ".join(
            f"{variant}={training_data_of(variant)}"
            for variant in NGRAM_BUDGET_VARIANTS
        ),
        cap=NGRAM["max_budget_bytes"],
        explicit=NGRAM["budget_bytes"],
    shell:
        f"{PYTHON_SCRIPTS}ngram_budget.py --data {{params.data}} --cap {{params.cap}}"
        " --explicit {params.explicit} --out {output} > {log} 2>&1 && tail -n 1 {log}"


rule train_ngram:
    input:
        data=training_data,
        eval=f"{OUT}/data/eval.jsonl",
        budget=NGRAM_BUDGET_FILE,
        code=proxy_code("ngram"),
    output:
        meta=f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/ngram/{{variant}}/seed{{seed}}/heldout.jsonl",
    log:
        f"{LOGS}/train_ngram/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/train_ngram/{{variant}}_seed{{seed}}.tsv"
    priority: FIRST_ANSWER_PRIORITY
    conda:
        "../envs/ngram.yaml"
    threads: 1
    resources:
        **job_resources("train"),
    params:
        order=NGRAM["order"],
        # the scale ladder's multiple of the budget
        multiplier=1,
        out_dir=subpath(output.meta, parent=True),
    shell:
        f"{PYTHON_SCRIPTS}train.py ngram --train {{input.data}} --eval {{input.eval}} --out-dir {{params.out_dir}}"
        " --heldout-out {output.heldout} --seed {wildcards.seed} --budget-file {input.budget}"
        " --budget-multiplier {params.multiplier} --order {params.order} > {log} 2>&1"


rule train_command:
    input:
        data=training_data_for("command"),
        eval=f"{OUT}/data/eval.jsonl",
        code=proxy_code("command"),
    output:
        meta=f"{OUT}/models/command/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/command/{{variant}}/seed{{seed}}/heldout.jsonl",
    log:
        f"{LOGS}/train_command/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/train_command/{{variant}}_seed{{seed}}.tsv"
    conda:
        "../envs/base.yaml"
    threads: config["command"]["threads"]
    resources:
        **job_resources("train"),
    params:
        # a function: the line's {placeholders} are not wildcards
        run=lambda wildcards: config["command"]["run"],
        budget=neural_budget(config, "command"),
        out_dir=subpath(output.meta, parent=True),
    shell:
        f"{PYTHON_SCRIPTS}train.py command --command {{params.run:q}} --train {{input.data}} --eval {{input.eval}}"
        " --out-dir {params.out_dir} --seed {wildcards.seed} --budget-bytes {params.budget} > {log} 2>&1"


rule train_hf:
    input:
        data=training_data_for("hf"),
        eval=f"{OUT}/data/eval.jsonl",
        model=hf_model_files,
        code=proxy_code("hf"),
    output:
        meta=f"{OUT}/models/hf/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/hf/{{variant}}/seed{{seed}}/heldout.jsonl",
        loss=f"{OUT}/models/hf/{{variant}}/seed{{seed}}/loss.jsonl",
        # the trained weights and tokenizer, which the downstream tasks load
        model=directory(f"{OUT}/models/hf/{{variant}}/seed{{seed}}/model"),
    log:
        f"{LOGS}/train_hf/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/train_hf/{{variant}}_seed{{seed}}.tsv"
    conda:
        "../envs/hf.yaml"
    threads: HF["threads"]
    resources:
        **job_resources("train", gpu=True),
    params:
        hf=HF,
        model=HF["model"],
        budget=neural_budget(config, "hf"),
        device=TRAIN["device"],
        out_dir=subpath(output.meta, parent=True),
        # the trained weights, for the downstream tasks (the ladder keeps none)
        save_model=lambda wildcards, output: f" --save-model {output.model}",
    shell:
        f"{PYTHON_SCRIPTS}train.py hf --model {{params.model}} --init {{params.hf[init]}} --hub {{params.hf[hub]}}"
        " --train {input.data} --eval {input.eval} --out-dir {params.out_dir} --heldout-out {output.heldout}"
        "{params.save_model}"
        " --seed {wildcards.seed} --budget-bytes {params.budget} --seq-len {params.hf[seq_len]}"
        " --batch-size {params.hf[batch_size]} --lr {params.hf[lr]} --warmup-fraction {params.hf[warmup_fraction]}"
        " --min-lr-ratio {params.hf[min_lr_ratio]} --weight-decay {params.hf[weight_decay]}"
        " --device {params.device} --threads {threads} > {log} 2>&1"


rule infer:
    input:
        model=f"{OUT}/models/gpt/{{variant}}/seed{{seed}}/model.pt",
        probe=f"{OUT}/data/probe.jsonl",
        code=code("scripts/infer.py"),
    output:
        per_sample=f"{OUT}/infer/{{variant}}/seed{{seed}}/probe.jsonl",
        hardest=f"{OUT}/infer/{{variant}}/seed{{seed}}/hardest.jsonl",
    log:
        f"{LOGS}/infer/{{variant}}_seed{{seed}}.log",
    conda:
        "../envs/torch.yaml"
    threads: TRAIN["threads"]
    resources:
        **job_resources("infer", gpu=True),
    params:
        infer=config["infer"],
        device=TRAIN["device"],
    shell:
        f"{PYTHON_SCRIPTS}infer.py --model {{input.model}} --data {{input.probe}} --out {{output.per_sample}}"
        " --hardest-out {output.hardest} --hardest {params.infer[hardest]}"
        " --max-bytes {params.infer[max_bytes]} --device {params.device} --threads {threads}"
        " > {log} 2>&1"
