"""The mixture search's page, as Markdown (pools/summary.md, and the section of the main summary.md) and
as HTML (the report's verdict page): the verdict on `mixture` per proxy first, then the pools' ranking,
the swarm's out-of-sample fit with predicted against achieved bpb, the weights and the exported
Data-Juicer config. Plain Python only: the verdict page is drawn in the base environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.data.eval_set import no_clean_eval_message
from sandbox.summary.table import html_table, inline_html, markdown_rows
from sandbox.summary.tables import byte_count, fraction_text, interval_cell

BEST_FEEDBACK = "best feedback"
TITLE = "Mixture of data pools: does the searched mixture make better data?"


@dataclass(frozen=True)
class Block:
    """One piece of the page: a heading (level 1 is the page's own sections), a paragraph or a table."""

    kind: str
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def verdict_line(proxy: str, result: dict[str, Any]) -> str:
    """One proxy's verdict on mixture: which references it beats, ties or loses to, with intervals."""
    parts = []
    for label, comparison in result["comparisons"].items():
        if comparison["significant"] is None:
            word = "no interval against"
        elif comparison["significant"]:
            word = "beats" if comparison["mean_difference"] < 0 else "loses to"
        else:
            word = "cannot be told from"
        name = f"{label} (`{comparison['variant']}`)" if label == BEST_FEEDBACK else f"`{label}`"
        parts.append(f"{word} {name}: {interval_cell(comparison)}")
    fraction = result["fraction_of_oracle_gain"]
    gain = f"; {fraction_text(fraction, '.2f')} of the oracle gain" if fraction else ""
    return f"{proxy}: `mixture` " + "; ".join(parts) + gain + "."


def smaller_budget_note(fit: dict[str, Any], index: dict[str, Any]) -> str:
    """Why the mixtures train on less than the n-gram's budget, and what that leaves comparable."""
    searched = {pool["pool"] for pool in fit["pools"]}
    held = sum(entry["bytes"] for entry in index["pools"] if entry["name"] in searched)
    return (f"The search pools hold {byte_count(held)}: the mixtures use at most "
            f"{byte_count(fit['budget_bytes'])} of it (so that each has a choice to make), less than the "
            f"n-gram's budget of {byte_count(fit['ngram_budget_bytes'])}. `mixture`, `natural` and `uniform` "
            "train on less text than the main variants: only their comparisons with each other are like "
            "for like.")


def mixture_claim(claims: list[dict[str, Any]]) -> dict[str, Any]:
    """The export's claim for `mixture` among one budget's three."""
    return next(claim for claim in claims if claim["name"] == "mixture")


def repeats_note(proxy: str, claims: list[dict[str, Any]], result: dict[str, Any] | None) -> str:
    """How a neural proxy's mixtures were made (its budget, repeats up to max_epochs), where their weights
    go beyond what the swarm tried, and how many epochs its models saw of each variant."""
    mixture = mixture_claim(claims)
    weights = ", ".join(f"{pool['pool']} {pool['weight']:.3f}"
                        for pool in mixture["pools"] if pool["weight"] > 0)
    beyond = [pool["pool"] for pool in mixture["pools"] if pool["beyond_swarm"]]
    text = (f"`{proxy}` trained `mixture`, `natural` and `uniform` exported at its own budget "
            f"({byte_count(mixture['budget_bytes'])}), each pool repeated up to {mixture['max_epochs']} "
            "times "
            f"(pools.max_epochs; Data-Juicer's sampler repeats it): `mixture` = {weights}.")
    if beyond:
        text += (" Beyond the largest weight the swarm tried for " + ", ".join(f"`{name}`" for name in beyond)
                 + ": there the fit extrapolates, and only the test comparison above tells.")
    epochs = (result or {}).get("epochs", {})
    if any(value is not None for value in epochs.values()):
        text += " Epochs its models saw: " + ", ".join(
            f"`{name}` {value:.2f}" for name, value in epochs.items() if value is not None) + "."
    return text


def verdict_blocks(summary: dict[str, Any]) -> list[Block]:
    blocks = [] if summary["judges_cleaning"] else [Block("p", no_clean_eval_message())]
    blocks += [Block("verdict", verdict_line(proxy, result)) for proxy, result in summary["proxies"].items()]
    for proxy, claims in summary.get("claims_at_proxy_budget", {}).items():
        blocks.append(Block("p", repeats_note(proxy, claims, summary["proxies"].get(proxy))))
    fit = summary["fit"]
    if fit["budget_bytes"] < fit["ngram_budget_bytes"]:
        blocks.append(Block("p", smaller_budget_note(fit, summary["index"])))
    confidence = round(100 * summary["confidence"])
    blocks.append(Block("p", f"Test part of the eval set, paired over documents and seeds, {confidence} "
                             "% intervals (✓: the interval excludes 0; negative: mixture has the lower bpb). "
                             "Only `mixture` is a candidate; the rest are references."))
    return blocks


def one_ranking_blocks(ranking: dict[str, Any]) -> list[Block]:
    """One proxy's ranking of the pools, as a heading, a line and a table."""
    rows = []
    for entry in ranking["ranking"]:
        noise = f"{entry['noise_share']:.1%}" if "noise_share" in entry else "–"
        versus = interval_cell(entry["vs_top"]) if "vs_top" in entry else "(top)"
        rows.append((str(entry["rank"]), entry["pool"], str(entry["docs"]), byte_count(entry["bytes"]), noise,
                     f"{entry['test_bpb']:.4f}", versus))
    picks = " Its top pool is `best_pool`." if ranking.get("picks_best_pool", True) else ""
    return [Block("h", f"The pools, ranked by the {ranking.get('proxy', 'ngram')} at "
                       f"{byte_count(ranking['budget_bytes'])} each (the smallest pool's size)"),
            Block("p", f"Ordered on validation; test bpb over seeds {ranking['seeds']}; each against the "
                       f"top pool on test.{picks}"),
            Block("table", rows=tuple(rows),
                  headers=("rank", "pool", "documents", "bytes", "noise", "test bpb", "vs top pool"))]


def ranking_blocks(summary: dict[str, Any]) -> list[Block]:
    rankings = summary.get("rankings") or {summary["ranking"]["proxy"]: summary["ranking"]}
    blocks = [block for ranking in rankings.values() for block in one_ranking_blocks(ranking)]
    left_out = summary["index"]["left_out"]
    if left_out:
        blocks.append(Block("p", "Left out as smaller than min_docs: " + ", ".join(
            f"{entry['name']} ({entry['docs']} documents)" for entry in left_out) + "."))
    return blocks


def fit_blocks(summary: dict[str, Any]) -> list[Block]:
    fit = summary["fit"]
    check = fit["out_of_sample"]
    confidence = round(100 * check["bootstrap"]["confidence"])
    achieved = summary["achieved_validation_bpb"]
    rows = tuple((name, f"{fit['predicted_bpb'][name]:.4f}",
                  f"{achieved[name]:.4f}" if name in achieved else "–")
                 for name in ("mixture", "natural", "uniform"))
    return [Block("h", "The swarm and its fit"),
            Block("p", f"{fit['members']['usable']} n-gram models, one per mixture, each at "
                       f"{byte_count(fit['budget_bytes'])} and scored on validation; the {fit['estimator']} "
                       f"regression fits {fit['members']['training']} of them. Out of sample "
                       f"({check['members']} held-out members): Spearman {check['spearman']:.3f} "
                       f"[{check['interval'][0]:.3f}, {check['interval'][1]:.3f}] ({confidence} % bootstrap "
                       f"over members), mean absolute error {check['mean_absolute_error_bpb']:.4f} bpb."),
            Block("table", rows=rows,
                  headers=("mixture", "predicted validation bpb", "n-gram validation bpb"))]


def repeated_cell(pool: dict[str, Any]) -> str:
    """A pool's weight at a neural proxy's budget and how often its documents repeat there."""
    return f"{pool['weight']:.3f} (×{pool['epochs']:.2f})"


def weight_blocks(summary: dict[str, Any]) -> list[Block]:
    claims = {claim["name"]: {pool["pool"]: pool for pool in claim["pools"]} for claim in summary["claims"]}
    rows = tuple((pool["pool"], f"{claims['natural'][pool['pool']]['weight']:.3f}",
                  f"{claims['uniform'][pool['pool']]['weight']:.3f}", f"{pool['weight']:.3f}",
                  f"{pool['cap']:.3f}", f"{pool['coefficient']:+.4f}",
                  str(claims["mixture"][pool["pool"]]["docs"]))
                 for pool in summary["fit"]["pools"])
    at_budget = {proxy: {pool["pool"]: pool for pool in mixture_claim(proxy_claims)["pools"]}
                 for proxy, proxy_claims in summary.get("claims_at_proxy_budget", {}).items()}
    rows = tuple(row + tuple(repeated_cell(at_budget[proxy][row[0]]) for proxy in at_budget) for row in rows)
    return [Block("h", "The weights (byte shares of the budget) and the documents dj-process took"),
            Block("table", headers=("pool", "natural", "uniform", "mixture", "cap", "coefficient",
                                    "mixture documents")
                  + tuple(f"mixture at `{proxy}`'s budget (repeats)" for proxy in at_budget), rows=rows),
            Block("p", f"The mixture as a Data-Juicer dataset config: `{summary['configs']['mixture']}` "
                       "(`dj-process --config` it; its weights give exactly these counts under Data-Juicer "
                       "1.6.1's sampling, checked on this run's output).")]


def blocks(summary: dict[str, Any]) -> list[Block]:
    """The whole page, verdicts first."""
    return verdict_blocks(summary) + ranking_blocks(summary) + fit_blocks(summary) + weight_blocks(summary)


def markdown_lines(page: list[Block], level: int) -> list[str]:
    """The blocks as Markdown, headings at `level` (## for 2)."""
    lines: list[str] = []
    for block in page:
        if block.kind == "h":
            lines += ["", f"{'#' * level} {block.text}", ""]
        elif block.kind == "table":
            lines += [*markdown_rows(block.headers, block.rows), ""]
        elif block.kind == "verdict":
            proxy, rest = block.text.split(": ", 1)
            lines += [f"**{proxy}**: {rest}"]
        else:
            lines += ["", block.text, ""]
    collapsed: list[str] = []
    for line in lines:
        if not (line == "" and (not collapsed or collapsed[-1] == "")):
            collapsed.append(line)
    return collapsed


def markdown(summary: dict[str, Any]) -> str:
    """pools/summary.md."""
    return "\n".join([f"# {TITLE}", "", *markdown_lines(blocks(summary), 2)]).rstrip() + "\n"


def html(summary: dict[str, Any]) -> str:
    """The verdict page's section."""
    parts = [f"<h2>{inline_html(TITLE)}</h2>"]
    for block in blocks(summary):
        if block.kind == "h":
            parts.append(f"<h3>{inline_html(block.text)}</h3>")
        elif block.kind == "table":
            parts.append(html_rows(block.headers, block.rows))
        elif block.kind == "verdict":
            parts.append(f"<p class='verdict'><b>{inline_html(block.text)}</b></p>")
        else:
            parts.append(f"<p>{inline_html(block.text)}</p>")
    return "".join(parts)


def html_rows(headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    from sandbox.summary.table import Column, Table

    columns = [Column(header, lambda row, position=position: row[position])
               for position, header in enumerate(headers)]
    return html_table(Table(columns, rows))
