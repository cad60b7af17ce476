"""A user's own eval data in process (sandbox/data/eval_set.py): the trusted sample's split is stable,
keeps copies together and refuses small samples; pool copies of eval documents are dropped, exact and
near copies alone. The whole workflow on a user's data is in workflow/test_own_data.py."""

from __future__ import annotations

import pytest

from sandbox.data.eval_set import decontaminate, drop_eval_duplicates, no_clean_eval_message, split_trusted
from sandbox.io.jsonl import InputError


def test_trusted_split_is_stable_keeps_copies_together_and_refuses_small_samples() -> None:
    records = [{"body": f"clean document number {index}"} for index in range(200)]
    records.append({"body": "Clean  DOCUMENT number 7"})  # a copy of one text, up to case and spaces
    eval_half, reference_half = split_trusted(records, "body", 0.5, 50, "trusted.jsonl")
    assert len(eval_half) + len(reference_half) == 201 and 70 < len(eval_half) < 130
    assert split_trusted(list(reversed(records)), "body", 0.5, 50, "x")[0] == list(reversed(eval_half))
    side_of_copy = [half for half in (eval_half, reference_half) if records[-1] in half][0]
    assert records[7] in side_of_copy
    with pytest.raises(InputError) as error:
        split_trusted(records[:60], "body", 0.5, 50, "trusted.jsonl")
    message = str(error.value)
    assert message.startswith("trusted.jsonl: the trusted sample has 60 documents")
    assert "trusted_min_docs=50" in message and "Fix:" in message


def test_pool_duplicates_of_eval_documents_are_dropped() -> None:
    pool = [{"text": "Alpha beta."}, {"text": "alpha   BETA."}, {"text": "gamma"}]
    kept, dropped = drop_eval_duplicates(pool, ["ALPHA beta."])
    assert kept == [{"text": "gamma"}] and len(dropped) == 2
    assert no_clean_eval_message().startswith("No verdict on cleaning can be drawn: the eval set is a split")


EVAL_TEXT = ("The Congress has before it a program of thirteen measures for the relief of farmers who lost "
             "their crops in the floods of the spring.")


def test_decontamination_drops_exact_and_near_copies_only() -> None:
    words = EVAL_TEXT.split()
    pool = [{"text": EVAL_TEXT.upper()},                                    # exact after normalisation
            {"text": "Breaking: " + " ".join(words[3:16]) + " -- see more"},  # 13 shared words
            {"text": "Breaking: " + " ".join(words[3:15]) + " -- see more"},  # 12: kept
            {"text": "An unrelated paragraph about the budget of the navy in the coming year and the next."}]
    kept, exact, near = decontaminate(pool, [EVAL_TEXT], 13)
    assert exact == pool[:1] and near == pool[1:2] and kept == pool[2:]
    assert decontaminate(pool, [EVAL_TEXT], 0) == (pool[1:], pool[:1], [])
