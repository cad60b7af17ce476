"""Removal attribution in process (sandbox/recipe/removals.py): filter decisions explain removals only
when the filters come first. Every path's removals against Data-Juicer's tracer, on the tiny run, are
in workflow/test_workflow.py."""

from __future__ import annotations


def test_filter_decisions_explain_removals_only_when_filters_come_first() -> None:
    from data_juicer.ops.load import load_ops

    from sandbox.recipe.removals import filters_come_first

    def ops(*names: str) -> list:
        return load_ops([{name: {}} for name in names])

    assert filters_come_first(ops("text_length_filter", "words_num_filter", "document_deduplicator"))
    assert not filters_come_first(ops("text_length_filter", "document_deduplicator", "words_num_filter"))
    assert not filters_come_first(ops("topk_specified_field_selector", "text_length_filter"))
