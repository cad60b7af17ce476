"""The proxy registry and contract (scripts/sandbox/proxies/): every entry matches its rule and its ladder
twin, bad configurations and bad outputs are named with the fix, and a fifth proxy joins with one trainer
module (its registry entry beside it) and one rule, and runs in the main table, on the ladder and on a
downstream task."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TINY_CONFIG, copy_workflow, planned_jobs, snakemake, write_config
from sandbox.io.jsonl import InputError, write_jsonl
from sandbox.proxies.contract import META_KEYS, check_heldout, score_heldout, train_meta, write_train_meta
from sandbox.proxies.registry import REGISTRY, check_proxies, proxy_pattern
from test_envs import env_of, rule_blocks

OUTPUT = re.compile(r'f"\{OUT\}/models/(\w+)/\{\{variant\}\}/seed\{\{seed\}\}/([\w.]+)"')


def config(**overrides) -> dict:
    """The shipped defaults that check_proxies reads, with overrides."""
    base = {"proxies": ["ngram", "gpt"], "command": {"run": "", "threads": 1}, "ngram": {"budget_bytes": 0},
            "train": {"steps": 8, "batch_size": 4, "seq_len": 64}}
    return {**base, **overrides}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_entry_matches_its_rule_its_trainer_and_its_ladder_twin(name: str) -> None:
    proxy = REGISTRY[name]
    block = rule_blocks()[proxy.rule]
    assert f'f"{{PYTHON_SCRIPTS}}train.py {name} ' in block and (REPO / proxy.module).is_file()
    assert env_of(block) == REPO / "envs" / proxy.env
    outputs = {file for folder, file in OUTPUT.findall(block) if folder == name}
    assert outputs == {"heldout.jsonl", "train_meta.json", *proxy.extra_files}
    assert not proxy.loss_figure or "loss.jsonl" in proxy.extra_files
    assert re.fullmatch(proxy_pattern(), name)
    ladder = (REPO / "rules/ladder.smk").read_text()
    assert f"use rule {proxy.rule} as ladder_{proxy.rule} with:" in ladder


def test_unknown_proxies_and_unusable_settings_are_named_with_the_fix() -> None:
    check_proxies(config())
    known = r"proxies: 'gtp' is not a known proxy \(known: ngram, gpt, hf, command\)"
    with pytest.raises(InputError, match=known):
        check_proxies(config(proxies=["ngram", "gtp"]))
    with pytest.raises(InputError, match="proxies lists command, but command.run is empty"):
        check_proxies(config(proxies=["command"]))
    # each proxy's budget is its own (issue 33): an n-gram budget the GPT does not share is usable
    check_proxies(config(ngram={"budget_bytes": 9}))


def test_the_writer_keeps_the_contract_and_the_checker_names_row_and_fix(tmp_path: Path) -> None:
    eval_path, heldout = tmp_path / "eval.jsonl", tmp_path / "heldout.jsonl"
    write_jsonl(eval_path, [{"text": "abc"}, {"text": "de"}])
    two_bits_a_byte = lambda texts: [(2.0 * len(text), len(text)) for text in texts]  # noqa: E731
    bpb = score_heldout(eval_path, "text", two_bits_a_byte, heldout)
    assert bpb == 2.0 and check_heldout(heldout, eval_path, "the test", "Fix: none.") == 2
    with pytest.raises(ValueError, match="nll_bits must be a finite number >= 0, got nan"):
        score_heldout(eval_path, "text", lambda texts: [(float("nan"), 1) for _ in texts], None)
    write_jsonl(heldout, [{"nll_bits": 1.0, "n_bytes": 3}, {"nll_bits": 1.0, "n_bytes": 5}])
    with pytest.raises(InputError, match=rf"{heldout}:2: n_bytes must be an int in 1..2 .*Fix: none\."):
        check_heldout(heldout, eval_path, "the test", "Fix: none.")
    meta = train_meta("toy", {"tokens_budget": 10, "seconds": 0.1}, argparse.Namespace(out=tmp_path, seed=0))
    assert list(meta) == ["proxy", "tokens_budget", "seconds", "config"]
    assert meta["config"] == {"out": str(tmp_path), "seed": 0}
    with pytest.raises(ValueError, match="lacks " + ", ".join(META_KEYS[1:])):
        write_train_meta(tmp_path / "train_meta.json", {"proxy": "toy"})


# The fifth proxy: a byte-unigram LM, added as a user would add one: a trainer module with its entry...
TOY_TRAINER = '''"""The toy proxy: a byte-unigram LM, add-one counts of the first --budget-bytes bytes."""

import argparse
import json
import math
from pathlib import Path

from sandbox.proxies.entry import Proxy, registered
from sandbox.proxies.trainer import Trainer


@registered(Proxy(name="toy", env="base.yaml", deterministic=True,
                  seed_effect="nothing: it counts the first budget bytes", extra_files=("model.json",),
                  harness_model="model.json"))
class ToyTrainer(Trainer):
    def check_arguments(self, parser, args):
        if args.budget_bytes is None:
            parser.error("--budget-bytes is required")

    def fit(self, args, documents):
        counts = [1] * 256
        for byte in b"".join(documents)[: args.budget_bytes]:
            counts[byte] += 1
        self.bits = [-math.log2(count / sum(counts)) for count in counts]
        return {"distinct_bytes": sum(count > 1 for count in counts)}

    def score_texts(self, texts):
        return [(sum(self.bits[byte] for byte in text.encode("utf-8")), len(text.encode("utf-8")))
                for text in texts]

    def save(self, args):
        (args.out_dir / "model.json").write_text(json.dumps(self.bits))

    def load(self, path, device="auto"):
        self.bits = json.loads(Path(path).read_text())
'''

# ... and one rule
TOY_RULE = '''

rule train_toy:
    input:
        data=training_data,
        eval=f"{OUT}/data/eval.jsonl",
        code=proxy_code("toy"),
    output:
        meta=f"{OUT}/models/toy/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/toy/{{variant}}/seed{{seed}}/heldout.jsonl",
        model=f"{OUT}/models/toy/{{variant}}/seed{{seed}}/model.json",
    log:
        f"{LOGS}/train_toy/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{OUT}/benchmarks/train_toy/{{variant}}_seed{{seed}}.tsv"
    conda:
        "../envs/base.yaml"
    params:
        budget=neural_budget(config, "toy"),
        out_dir=subpath(output.meta, parent=True),
    shell:
        f"{PYTHON_SCRIPTS}train.py toy --train {{input.data}} --eval {{input.eval}}"
        " --out-dir {params.out_dir}"
        " --heldout-out {output.heldout} --seed {wildcards.seed} --budget-bytes {params.budget} > {log} 2>&1"
'''

# (its twin on the scale ladder, in rules/ladder.smk: the same rule with the ladder's outputs and budget)
TOY_LADDER_RULE = '''

use rule train_toy as ladder_train_toy with:
    output:
        meta=ladder_out("toy", "train_meta.json"),
        heldout=ladder_out("toy", "heldout.jsonl"),
        model=ladder_out("toy", "model.json"),
    log:
        ladder_log("toy"),
    benchmark:
        ladder_benchmark("toy")
    params:
        budget=ladder_budget("toy"),
        out_dir=subpath(output.meta, parent=True),
'''


def toy_task(workdir: Path, items: int) -> None:
    """config/tasks/toy_task: the shipped task's first items, under its own name."""
    shipped, folder = REPO / "config/tasks/sotu_hellaswag", workdir / "config/tasks/toy_task"
    folder.mkdir(parents=True)
    rows = (shipped / "sotu_hellaswag.jsonl").read_text().splitlines()[:items]
    (folder / "toy_task.jsonl").write_text("\n".join(rows) + "\n")
    text = (shipped / "sotu_hellaswag.yaml").read_text().replace("task: sotu_hellaswag", "task: toy_task")
    (folder / "toy_task.yaml").write_text(text.replace("config/tasks/sotu_hellaswag/sotu_hellaswag.jsonl",
                                                       "config/tasks/toy_task/toy_task.jsonl"))


def test_a_fifth_proxy_is_one_trainer_module_and_one_rule(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "workflow")
    (workdir / "scripts/sandbox/proxies/train_toy.py").write_text(TOY_TRAINER)
    with (workdir / "rules/proxies.smk").open("a") as rules:
        rules.write(TOY_RULE)
    with (workdir / "rules/ladder.smk").open("a") as rules:
        rules.write(TOY_LADDER_RULE)
    toy_task(workdir, 12)
    ladder = {"proxies": ["toy"], "toy": {"multipliers": [0.5, 1]}}
    overrides = {"variants": ["raw", "oracle"], "proxies": ["ngram", "toy"], "tasks": ["toy_task"],
                 "datamodels": {**TINY_CONFIG["datamodels"], "in_summary": False}}
    configfile = str(write_config(workdir, {**TINY_CONFIG, **overrides}))
    jobs = planned_jobs(workdir, "--configfile", configfile)
    assert jobs["train_toy"] == jobs["train_ngram"] == 4 and jobs["plot_bpb"] == 2, jobs
    assert jobs["downstream"] == 8, jobs  # ngram and toy x 2 variants x 2 seeds

    out = "results/tiny"
    targets = [f"{out}/summary.json", f"{out}/summary.toy.md", f"{out}/report/bpb_toy.png"]
    result = snakemake(workdir, *targets, "--cores", "2", "--configfile", configfile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    results = workdir / out
    for variant in ("raw", "oracle"):
        for seed in (0, 1):
            meta = json.loads((results / f"models/toy/{variant}/seed{seed}/train_meta.json").read_text())
            assert meta["proxy"] == "toy" and 0 < meta["heldout_bpb"] < 8 and meta["distinct_bytes"] > 10
            assert meta["tokens_budget"] == meta["config"]["budget_bytes"] and meta["seconds"] >= 0
        evaluation = json.loads((results / f"eval/toy/{variant}.json").read_text())
        assert evaluation["proxy"] == "toy" and set(evaluation["heldout_bpb_per_seed"]) == {"0", "1"}
    summary = json.loads((results / "summary.json").read_text())
    assert list(summary["proxies"]) == ["ngram", "toy"]
    assert set(summary["proxies"]["toy"]["variants"]) == {"raw", "oracle"}
    assert "## Proxy `toy`" in (results / "summary.md").read_text()
    assert (results / "report/bpb_toy.png").stat().st_size > 0
    provenance = json.loads((results / "provenance.json").read_text())
    # a proxy without a budget of its own trains on the GPT's (sandbox.proxies.budget.neural_budget)
    train = TINY_CONFIG["train"]
    assert provenance["budgets"]["toy"]["budget"] == [train["steps"] * train["batch_size"] * train["seq_len"]]
    # on the downstream task, scored through its trainer's own load and score_texts
    task = summary["downstream"]["toy_task"]
    assert task["n_items"] == 12 and set(task["proxies"]) == {"ngram", "toy"}
    rows = (results / "downstream/toy_task/toy/oracle/seed0/items.jsonl").read_text().splitlines()
    assert len(rows) == 12 and all(json.loads(row)["gold_logprob"] < 0 for row in rows)

    # on the ladder: x0.5 under the ladder's rule, x1 is the main run's model
    shipped = yaml.safe_load((workdir / "config/config.yaml").read_text())["ladder"]
    ladder_file = str(write_config(workdir, {**TINY_CONFIG, **overrides, "ladder": {**shipped, **ladder}},
                                   name="ladder-config.yaml"))
    jobs = planned_jobs(workdir, "ladder", "--configfile", ladder_file)
    assert jobs["ladder_train_toy"] == 4 and "train_toy" not in jobs, jobs
    result = snakemake(workdir, "ladder", "--cores", "2", "--configfile", ladder_file)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    rows = json.loads((results / "ladder/summary.json").read_text())["rows"]
    assert [f"{row['proxy']}@{row['scale']}" for row in rows] == ["toy@x0.5", "toy@x1"]
    half = json.loads((results / "ladder/models/toy/x0.5/raw/seed0/train_meta.json").read_text())
    assert half["tokens_budget"] == round(meta["tokens_budget"] * 0.5)

