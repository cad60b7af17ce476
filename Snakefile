# recipe-sandbox: did the data recipe make better data for a model?
# analyze -> refine_k_sigma -> process -> train -> infer -> evaluate, on the demo or your JSONL.
from pathlib import Path
from snakemake.utils import min_version

min_version("9.0")

# This workflow's own folder, captured while its Snakefile is parsed: every path to its scripts, package
# and default config files is built from it (rules/common.smk), so it also runs as a module imported by
# another workflow, where workflow.basedir is the importer's folder and jobs run in the importer's.
WORKFLOW_ROOT = Path(str(workflow.current_basedir))


# Imported as a module with `config:`, this file is not read; rules/common.smk lays the caller's config
# over it instead.
configfile: "config/config.yaml"


# `snakemake --report report.html`: this page opens the report; figures are marked in rules/report.smk.
report: "report/workflow.rst"


# Each rules file opens with its feature's constants, then includes its functions (rules/functions/);
# a name a rule reads when it is parsed must come from common.smk or a file included above it
# (evaluate.smk's summary reads the datamodels', the ladder's and the downstream tasks' names,
# report.smk reads HPO's, ladder.smk reads proxies.smk's). A function called only while the DAG is
# built (inside an input function) may be defined later.
include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/recipe.smk"
include: "rules/proxies.smk"
include: "rules/classifier.smk"
include: "rules/feedback.smk"
include: "rules/datamodels.smk"
include: "rules/pools.smk"
include: "rules/ladder.smk"
include: "rules/downstream.smk"
include: "rules/evaluate.smk"
include: "rules/hpo.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        f"{OUT}/summary.json",
        f"{OUT}/summary.md",
        # each proxy's verdict alone, as soon as its models are scored
        expand(f"{OUT}/summary.{{proxy}}.md", proxy=PROXIES),
        expand(f"{OUT}/analysis/{{stage}}/overall.json", stage=ANALYZED_STAGES),
        # what the proxies add per variant and seed (the GPT: its probe scores)
        proxy_targets(),
        # the report's verdict page and figures
        report_files(),


# The scale ladder: every variant at several scales per proxy, decision accuracy against the target
# (ladder/summary.md), one figure per proxy, and the main summary with its ladder line.
rule ladder:
    input:
        LADDER_SUMMARY,
        f"{LADDER}/summary.md",
        expand(f"{LADDER}/report/ladder_{{proxy}}.png", proxy=LADDER_PROXIES),
        f"{OUT}/summary.md",


# The run's last lines: the verdicts and where to look (sandbox/workflow/run_end.py).
onsuccess:
    for line in run_end_lines(Path(OUT)):
        logger.info(line)


# After a failed run, a summary that describes files Snakemake has since removed says so (sandbox/workflow/stale.py).
onerror:
    missing = mark_summary_stale(
        Path(f"{OUT}/summary.json"), Path(f"{OUT}/summary.md"), summary_sources()
    )
    if missing:
        logger.warning(
            f"{OUT}/summary.md: marked stale ({len(missing)} files it describes are missing)"
        )
