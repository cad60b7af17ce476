"""Per-document score rows: what infer.py writes for the probe set and every proxy for the held-out set
(sandbox.proxies.registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.io.jsonl import iter_jsonl, text_of
from sandbox.io.origin import origin_of

PREVIEW_CHARS = 200


def read_documents(path: Path, text_key: str) -> list[dict[str, Any]]:
    """Records of the file, each with its text checked to be a string."""
    records = []
    for line_number, record in iter_jsonl(path):
        text_of(record, text_key, path, line_number)
        records.append(record)
    return records


def score_row(index: int, record: dict[str, Any], text: str, nll_bits: float, n_bytes: int) -> dict[str, Any]:
    """One output row; bpb is None for a document with no bytes."""
    total_bytes = len(text.encode("utf-8"))
    row: dict[str, Any] = {"index": index}
    if "sandbox_row" in record:
        row["sandbox_row"] = record["sandbox_row"]
    row.update(
        {
            "n_bytes": n_bytes,
            "total_bytes": total_bytes,
            "truncated": n_bytes < total_bytes,
            "nll_bits": nll_bits,
            "bpb": nll_bits / n_bytes if n_bytes else None,
            "origin": origin_of(record),
            "preview": text[:PREVIEW_CHARS],
        }
    )
    return row


def score_rows(records: list[dict[str, Any]], texts: list[str],
               scores: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """One row per document, from score_documents' (nll_bits, n_bytes) pairs."""
    return [
        score_row(index, record, text, bits, n_bytes)
        for index, (record, text, (bits, n_bytes)) in enumerate(zip(records, texts, scores))
    ]
