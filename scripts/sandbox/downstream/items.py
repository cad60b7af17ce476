"""Per-item downstream results: one row per benchmark item from lm-eval's logged samples
(downstream/<task>/<proxy>/<variant>/seed<N>/items.jsonl), the paired comparisons' input.

A row holds acc and acc_norm as lm-eval scored them (multiple choice: the choice of highest
log-likelihood, raw and per character), and the continuous metrics of the gold answer as scored
(its continuation, the target delimiter included): gold_logprob (natural log), gold_bytes (UTF-8),
gold_logprob_per_byte and gold_prob_per_byte (exp of it, the geometric mean probability of a byte).
Plain Python: the summary reads these rows in another environment.
"""

from __future__ import annotations

import math
from typing import Any

MULTIPLE_CHOICE = "multiple_choice"
LOGLIKELIHOOD = "loglikelihood"
ROLLING = "loglikelihood_rolling"
SCORED_TYPES = (MULTIPLE_CHOICE, LOGLIKELIHOOD, ROLLING)


def gold_index(target: Any) -> int:
    """The gold choice of a multiple-choice sample (the first where lm-eval lists several)."""
    return int(target[0] if isinstance(target, list) else target)


def continuous(logprob: float, text: str) -> dict[str, Any]:
    """The gold answer's log-probability, its bytes, and both normalised by them."""
    n_bytes = len(text.encode("utf-8"))
    per_byte = logprob / n_bytes if n_bytes else None
    return {"gold_logprob": logprob, "gold_bytes": n_bytes, "gold_logprob_per_byte": per_byte,
            "gold_prob_per_byte": math.exp(per_byte) if per_byte is not None else None}


def item_row(sample: dict[str, Any], output_type: str, subtask: str) -> dict[str, Any]:
    """One items.jsonl row from one logged lm-eval sample of a task of output_type."""
    row: dict[str, Any] = {"doc_id": sample["doc_id"], "subtask": subtask}
    responses, arguments = sample["filtered_resps"], sample["arguments"]
    if output_type == MULTIPLE_CHOICE:
        gold = gold_index(sample["target"])
        logprobs = [float(response[0]) for response in responses]
        row.update({"gold": gold, "n_choices": len(logprobs), "acc": sample.get("acc"),
                    "acc_norm": sample.get("acc_norm"), "choice_logprobs": logprobs,
                    **continuous(logprobs[gold], arguments[gold][1])})
    elif output_type == LOGLIKELIHOOD:
        logprob, greedy = responses[0]
        row.update({"gold": 0, "n_choices": None, "acc": float(bool(greedy)), "acc_norm": None,
                    **continuous(float(logprob), arguments[0][1])})
    elif output_type == ROLLING:
        row.update({"gold": 0, "n_choices": None, "acc": None, "acc_norm": None,
                    **continuous(float(responses[0]), arguments[0][0])})
    else:
        raise ValueError(f"{subtask}: output_type {output_type} is not scored per item")
    return row


def chance(rows: list[dict[str, Any]]) -> float | None:
    """The accuracy of guessing: the mean over items of 1 / choices (None without choices)."""
    counts = [row["n_choices"] for row in rows if row.get("n_choices")]
    return sum(1 / count for count in counts) / len(counts) if counts else None
