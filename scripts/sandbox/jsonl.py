"""Reading and writing JSONL datasets with errors that name the file, the line and the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator


class InputError(Exception):
    """A user-facing problem with an input file; the message names the file and the fix."""


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line; raise InputError on bad JSON."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found. Fix: point the config at an existing JSONL file.")
    with path.open("r", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(
                    f"{path}:{line_number}: malformed JSON ({error.msg} at column {error.colno}). "
                    "Fix: every line must be one JSON object; repair or remove that line."
                ) from None
            if not isinstance(record, dict):
                raise InputError(
                    f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}. "
                    "Fix: every line must be one JSON object such as {\"text\": \"...\"}."
                )
            yield line_number, record


def read_texts(path: str | Path, text_key: str) -> list[str]:
    """Return the text field of every record; raise InputError if one lacks it."""
    return [text_of(record, text_key, path, line_number) for line_number, record in iter_jsonl(path)]


def text_of(record: dict[str, Any], text_key: str, path: str | Path, line_number: int) -> str:
    """Return record[text_key] as a string, or raise InputError naming the file and line."""
    text = record.get(text_key)
    if not isinstance(text, str):
        found = ", ".join(sorted(record)) or "no keys"
        problem = "is missing" if text is None else f"is a {type(text).__name__}, not a string"
        raise InputError(
            f"{path}:{line_number}: text key '{text_key}' {problem} (keys found: {found}). "
            f"Fix: set `text_key:` in the config to the field that holds the text, or add '{text_key}' to every line."
        )
    return text


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records atomically (via a temporary file) and return how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    os.replace(partial, path)
    return count
