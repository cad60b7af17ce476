# The scale ladder (`snakemake ladder`): every variant at several scales per proxy, each an ordinary job
# through the proxies' contract (heldout.jsonl, train_meta.json) in ladder/models/<proxy>/<scale>/; x1 at
# a proxy's own size is the main run's models (models/<proxy>/), which these rules never retrain.
import json
from sandbox.ladder import config as ladder_config

LADDER = f"{OUT}/ladder"
LADDER_CONFIG = config["ladder"]
try:
    ladder_config.check_ladder(config)
except InputError as error:
    raise WorkflowError(str(error)) from None
LADDER_PROXIES = ladder_config.ladder_proxies(config)
LADDER_SCALES = ladder_config.all_scales(config)
LADDER_TARGET = ladder_config.target_scale(config)
LADDER_VARIANTS = [v for v in (LADDER_CONFIG["variants"] or VARIANTS) if v in VARIANTS]
# Each ladder proxy's seeds: ladder.seeds, else the proxy's own (ngram.seeds for the n-gram).
LADDER_SEEDS = {
    proxy: LADDER_CONFIG["seeds"] or PROXY_SEEDS[proxy] for proxy in LADDER_PROXIES
}
LADDER_SUMMARY = f"{LADDER}/summary.json"


# This feature's functions, in a file of their own (snakemake --lint keeps functions apart from rules).
include: "functions/ladder.smk"


use rule train_ngram as ladder_train_ngram with:
    output:
        meta=ladder_out("ngram", "train_meta.json"),
        heldout=ladder_out("ngram", "heldout.jsonl"),
    log:
        ladder_log("ngram"),
    benchmark:
        ladder_benchmark("ngram")
    priority: 0
    params:
        order=ladder_setting("ngram", "order"),
        # a multiple of the n-gram's own budget (models/ngram/budget.json)
        multiplier=lambda wildcards: ladder_scale("ngram", wildcards).multiplier,
        out_dir=subpath(output.meta, parent=True),


use rule train_gpt as ladder_train_gpt with:
    output:
        model=ladder_out("gpt", "model.pt"),
        loss=ladder_out("gpt", "loss.jsonl"),
        meta=ladder_out("gpt", "train_meta.json"),
        heldout=ladder_out("gpt", "heldout.jsonl"),
    log:
        ladder_log("gpt"),
    benchmark:
        ladder_benchmark("gpt")
    params:
        # steps and warm-up times the multiplier; a named size's width and depth
        train=lambda wildcards: ladder_config.scaled_train(
            TRAIN, ladder_scale("gpt", wildcards)
        ),
        out_dir=subpath(output.model, parent=True),
        run_suffix=lambda wildcards: f"-{wildcards.scale}",


use rule train_hf as ladder_train_hf with:
    input:
        data=training_data_for("hf"),
        eval=f"{OUT}/data/eval.jsonl",
        model=ladder_hf_files,
        code=proxy_code("hf"),
    output:
        meta=ladder_out("hf", "train_meta.json"),
        heldout=ladder_out("hf", "heldout.jsonl"),
        loss=ladder_out("hf", "loss.jsonl"),
    log:
        ladder_log("hf"),
    benchmark:
        ladder_benchmark("hf")
    params:
        model=ladder_setting("hf", "model"),
        budget=ladder_budget("hf"),
        out_dir=subpath(output.meta, parent=True),
        save_model="",


use rule train_command as ladder_train_command with:
    output:
        meta=ladder_out("command", "train_meta.json"),
        heldout=ladder_out("command", "heldout.jsonl"),
    log:
        ladder_log("command"),
    benchmark:
        ladder_benchmark("command")
    params:
        budget=ladder_budget("command"),
        out_dir=subpath(output.meta, parent=True),


rule ladder_summarize:
    input:
        heldout=ladder_files(
            lambda scale: f"{ladder_config.scale_dir(OUT, scale)}/heldout.jsonl"
        ),
        train_meta=ladder_files(
            lambda scale: f"{ladder_config.scale_dir(OUT, scale)}/train_meta.json"
        ),
        benchmarks=ladder_files(lambda scale: ladder_config.benchmark_file(OUT, scale)),
        eval_split=EVAL_SPLIT,
        eval_set=f"{OUT}/data/eval_set.json",
        code=code("scripts/ladder_summarize.py"),
    output:
        json=LADDER_SUMMARY,
        md=f"{LADDER}/summary.md",
    log:
        f"{LOGS}/ladder/summarize.log",
    conda:
        "../envs/tracking.yaml"
    params:
        experiment=EXP,
        # results/<experiment>, where every scale's models are
        results=lambda wildcards, input: str(Path(input.eval_split).parent.parent),
        scales=json.dumps(
            [
                ladder_config.scale_spec(scale, LADDER_SEEDS[scale.proxy])
                for scale in LADDER_SCALES
            ]
        ),
        target=LADDER_TARGET.label,
        variants=LADDER_VARIANTS,
        ladder=LADDER_CONFIG,
        confidence=config["compare"]["confidence"],
        oracle_arg="--oracle-in-pairs" if LADDER_CONFIG["oracle_in_pairs"] else "",
    shell:
        f"{PYTHON_SCRIPTS}ladder_summarize.py --experiment {{params.experiment}} --results {{params.results}}"
        " --scales {params.scales:q} --target {params.target} --variants {params.variants}"
        " --eval-split {input.eval_split} --eval-set {input.eval_set}"
        " {params.oracle_arg} --accuracy {params.ladder[accuracy]} --confidence {params.confidence}"
        " --bootstrap-samples {params.ladder[bootstrap_samples]}"
        " --out-json {output.json} --out-md {output.md} > {log} 2>&1 && tail -n 1 {log}"


rule plot_ladder:
    input:
        summary=LADDER_SUMMARY,
        code=code("scripts/plot_ladder.py"),
    output:
        report(
            f"{LADDER}/report/ladder_{{proxy}}.png",
            caption="../report/ladder.rst",
            category="7. Scale ladder",
            labels={"proxy": "{proxy}", "figure": "bpb vs training bytes"},
        ),
    log:
        f"{LOGS}/ladder/plot_{{proxy}}.log",
    conda:
        "../envs/report.yaml"
    shell:
        f"{PYTHON_SCRIPTS}plot_ladder.py --summary {{input.summary}} --proxy {{wildcards.proxy}}"
        " --out {output} > {log} 2>&1"
