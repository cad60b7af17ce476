"""Reading and writing JSONL datasets with errors that name the file, the line and the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Iterable, Iterator


class InputError(Exception):
    """A user-facing problem with an input file; the message names the file and the fix."""


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line; raise InputError on bad JSON or bytes
    that are not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found. Fix: point the config at an existing JSONL file.")
    try:
        with path.open("r", encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if line.strip():
                    yield line_number, parse_json_line(line, path, line_number)
    except UnicodeDecodeError:
        # text mode does not say where: find the line and the byte in a second, binary pass
        with path.open("rb") as handle:
            for _ in iter_json_byte_lines(handle, path):
                pass
        raise


def iter_json_byte_lines(handle: IO[bytes], path: Path,
                         where: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of JSON lines read as bytes; InputError naming the line and byte offset of the
    first byte that is not UTF-8 (`where` says what the offset counts, e.g. decompressed text)."""
    offset = 0
    for line_number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(
                f"{path}:{line_number}: not UTF-8 (byte 0x{raw[error.start]:02x} at byte offset "
                f"{offset + error.start}{where}). Fix: re-encode the file as UTF-8, e.g. "
                f"`iconv -f latin1 -t utf-8 {path.name} > fixed.jsonl`, or repair that line."
            ) from None
        offset += len(raw)
        if line.strip():
            yield line_number, parse_json_line(line, path, line_number)


def parse_json_line(line: str, path: Path, line_number: int) -> dict[str, Any]:
    """One JSON object; InputError naming the file, line and fix otherwise."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        hint = (" The file looks like one JSON array: convert it to JSON lines, e.g. "
                "`jq -c '.[]' data.json > data.jsonl`." if line_number == 1 and line.lstrip().startswith("[")
                else "")
        raise InputError(
            f"{path}:{line_number}: malformed JSON ({error.msg} at column {error.colno}). "
            f"Fix: every line must be one JSON object; repair or remove that line.{hint}"
        ) from None
    if not isinstance(record, dict):
        hint = (" The file looks like one JSON array: convert it to JSON lines, e.g. "
                "`jq -c '.[]' data.json > data.jsonl`." if line_number == 1 and isinstance(record, list)
                else "")
        raise InputError(
            f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}. "
            "Fix: every line must be one JSON object such as {\"text\": \"...\"}." + hint
        )
    return record


def read_texts(path: str | Path, text_key: str) -> list[str]:
    """Return the text field of every record of a JSONL file; raise InputError if one lacks it."""
    return [text_of(record, text_key, path, line_number) for line_number, record in iter_jsonl(path)]


def text_of(record: dict[str, Any], text_key: str, path: str | Path, line_number: int) -> str:
    """Return record[text_key] as a string, or raise InputError naming the file and line."""
    text = record.get(text_key)
    if not isinstance(text, str):
        found = ", ".join(sorted(record)) or "no keys"
        problem = "is missing" if text is None else f"is a {type(text).__name__}, not a string"
        raise InputError(
            f"{path}:{line_number}: text key '{text_key}' {problem} (keys found: {found}). "
            f"Fix: set `text_key:` in the config to the field that holds the text, or add '{text_key}' to "
            "every line."
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
            # default=str: Parquet and Arrow values such as timestamps have no JSON type
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    os.replace(partial, path)
    return count
