"""The proxy registry and contract (scripts/sandbox/proxies/registry.py): every entry matches its rule, bad
configurations and bad outputs are named with the fix, and a fifth proxy joins with one rule, one
trainer script and one registry entry."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, copy_workflow, planned_jobs, snakemake, write_config
from sandbox.io.jsonl import InputError, write_jsonl
from sandbox.proxies.registry import (
    META_KEYS,
    REGISTRY,
    check_heldout,
    check_proxies,
    proxy_pattern,
    score_heldout,
    train_meta,
    write_train_meta,
)
from test_envs import env_of, rule_blocks

OUTPUT = re.compile(r'f"\{OUT\}/models/(\w+)/\{\{variant\}\}/seed\{\{seed\}\}/([\w.]+)"')


def config(**overrides) -> dict:
    """The shipped defaults that check_proxies reads, with overrides."""
    base = {"proxies": ["ngram", "gpt"], "command": {"run": "", "threads": 1}, "ngram": {"budget_bytes": 0},
            "train": {"steps": 8, "batch_size": 4, "seq_len": 64}}
    return {**base, **overrides}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_entry_matches_its_rule_and_script(name: str) -> None:
    proxy = REGISTRY[name]
    block = rule_blocks()[proxy.rule]
    assert f"python {proxy.script} " in block and (REPO / proxy.script).is_file()
    assert env_of(block) == REPO / "envs" / proxy.env
    outputs = {file for folder, file in OUTPUT.findall(block) if folder == name}
    assert outputs == {"heldout.jsonl", "train_meta.json", *proxy.extra_files}
    assert not proxy.loss_figure or "loss.jsonl" in proxy.extra_files
    assert re.fullmatch(proxy_pattern(), name)


def test_unknown_proxies_and_unusable_settings_are_named_with_the_fix() -> None:
    check_proxies(config())
    known = r"proxies: 'gtp' is not a known proxy \(known: ngram, gpt, command, hf\)"
    with pytest.raises(InputError, match=known):
        check_proxies(config(proxies=["ngram", "gtp"]))
    with pytest.raises(InputError, match="proxies lists command, but command.run is empty"):
        check_proxies(config(proxies=["command"]))
    with pytest.raises(InputError, match="ngram.budget_bytes is 9, but the GPT trains on"):
        check_proxies(config(ngram={"budget_bytes": 9}))
    check_proxies(config(proxies=["ngram"], ngram={"budget_bytes": 9}))


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


# The fifth proxy: a byte-unigram LM, added as a user would add one.
TOY_TRAINER = '''"""The toy proxy: a byte-unigram LM, add-one counts of the first --budget-bytes bytes."""

import argparse
import math
import sys
import time
from pathlib import Path

from sandbox.io.jsonl import read_texts
from sandbox.proxies.registry import HELDOUT, TRAIN_META, score_heldout, train_meta, write_train_meta

parser = argparse.ArgumentParser()
for name in ("--train", "--eval", "--out-dir"):
    parser.add_argument(name, required=True, type=Path)
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--budget-bytes", type=int, required=True)
args = parser.parse_args()
start = time.perf_counter()
counts = [1] * 256
for byte in "".join(read_texts(args.train, "text")).encode("utf-8")[: args.budget_bytes]:
    counts[byte] += 1
bits = [-math.log2(count / sum(counts)) for count in counts]
args.out_dir.mkdir(parents=True, exist_ok=True)
bpb = score_heldout(args.eval, "text", lambda texts: [
    (sum(bits[byte] for byte in text.encode("utf-8")), len(text.encode("utf-8"))) for text in texts
], args.out_dir / HELDOUT)
seconds = round(time.perf_counter() - start, 3)
meta = {"tokens_budget": args.budget_bytes, "seconds": seconds, "heldout_bpb": bpb}
write_train_meta(args.out_dir / TRAIN_META, train_meta("toy", meta, args))
'''

TOY_RULE = '''

rule train_toy:
    input:
        data=training_data,
        eval=f"{OUT}/data/eval.jsonl",
    output:
        meta=f"{OUT}/models/toy/{{variant}}/seed{{seed}}/train_meta.json",
        heldout=f"{OUT}/models/toy/{{variant}}/seed{{seed}}/heldout.jsonl",
    log:
        f"{LOGS}/train_toy/{{variant}}_seed{{seed}}.log",
    conda:
        "../envs/base.yaml"
    params:
        budget=NGRAM_BUDGET,
        out_dir=subpath(output.meta, parent=True),
    shell:
        "python scripts/train_toy.py --train {input.data} --eval {input.eval} --out-dir {params.out_dir}"
        " --seed {wildcards.seed} --budget-bytes {params.budget} > {log} 2>&1"
'''

TOY_ENTRY = '''
REGISTRY["toy"] = Proxy(name="toy", env="base.yaml", deterministic=True,
                        seed_effect="nothing: it counts the first budget bytes")
'''


def test_a_fifth_proxy_is_one_rule_one_trainer_and_one_registry_entry(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "workflow")
    (workdir / "scripts/train_toy.py").write_text(TOY_TRAINER)
    with (workdir / "rules/proxies.smk").open("a") as rules:
        rules.write(TOY_RULE)
    with (workdir / "scripts/sandbox/proxies/registry.py").open("a") as registry:
        registry.write(TOY_ENTRY)
    overrides = {"variants": ["raw", "oracle"], "proxies": ["ngram", "toy"],
                 "datamodels": {**TINY_CONFIG["datamodels"], "in_summary": False}}
    configfile = str(write_config(workdir, {**TINY_CONFIG, **overrides}))
    jobs = planned_jobs(workdir, "--configfile", configfile)
    assert jobs["train_toy"] == jobs["train_ngram"] == 4 and jobs["plot_bpb"] == 2, jobs

    out = "results/tiny"
    targets = [f"{out}/summary.json", f"{out}/summary.toy.md", f"{out}/report/bpb_toy.png"]
    result = snakemake(workdir, *targets, "--cores", "2", "--configfile", configfile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    results = workdir / out
    for variant in ("raw", "oracle"):
        for seed in (0, 1):
            meta = json.loads((results / f"models/toy/{variant}/seed{seed}/train_meta.json").read_text())
            assert meta["proxy"] == "toy" and 0 < meta["heldout_bpb"] < 8
        evaluation = json.loads((results / f"eval/toy/{variant}.json").read_text())
        assert evaluation["proxy"] == "toy" and set(evaluation["heldout_bpb_per_seed"]) == {"0", "1"}
    summary = json.loads((results / "summary.json").read_text())
    assert list(summary["proxies"]) == ["ngram", "toy"]
    assert set(summary["proxies"]["toy"]["variants"]) == {"raw", "oracle"}
    assert "## Proxy `toy`" in (results / "summary.md").read_text()
    assert (results / "report/bpb_toy.png").stat().st_size > 0
    provenance = json.loads((results / "provenance.json").read_text())
    assert provenance["budgets"]["toy"]["budget"] == provenance["budgets"]["ngram"]["budget"]
