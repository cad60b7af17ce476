"""Reading a user's dataset in the formats Data-Juicer reads, and giving every record one schema.

Formats, by name: JSON lines (`.jsonl`, `.json`, optionally `.gz` or `.zst` compressed), Parquet
(`.parquet`), and a Hugging Face `datasets` folder written by `save_to_disk` (a directory with
`state.json` and Arrow files). Each reader yields (location, record), the location being the
1-based line (JSON lines) or row (Parquet, Arrow), so errors name the file and the place.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import IO, Any, Iterator

from sandbox.io.jsonl import InputError, iter_json_byte_lines, iter_jsonl

SUPPORTED = (".jsonl, .json, .jsonl.gz, .json.gz, .jsonl.zst, .json.zst, .parquet, or a folder written "
             "by Hugging Face datasets' save_to_disk")
JSON_LINES = (".jsonl", ".json")
COMPRESSIONS = ("", ".gz", ".zst")
ARROW_BATCH_ROWS = 10_000


def dataset_format(path: Path) -> str:
    """jsonl, jsonl.gz, jsonl.zst, parquet or hf_disk; InputError naming the format and the fix."""
    if path.is_dir():
        if (path / "dataset_dict.json").is_file():
            splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
            raise InputError(f"{path}: a Hugging Face DatasetDict with splits {', '.join(splits)}. "
                             "Fix: point the config at one split's folder, e.g. "
                             f"{path / (splits or ['train'])[0]}.")
        if (path / "state.json").is_file():
            return "hf_disk"
        raise InputError(f"{path}: a folder without state.json, so not a dataset saved by Hugging Face "
                         f"datasets' save_to_disk. Fix: give one file or such a folder ({SUPPORTED}).")
    if not path.is_file():
        raise InputError(f"{path}: file not found. Fix: point the config at an existing dataset "
                         f"({SUPPORTED}).")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    for suffix in JSON_LINES:
        for compression in COMPRESSIONS:
            if name.endswith(suffix + compression):
                return "jsonl" + compression
    raise InputError(f"{path}: unsupported format '{''.join(path.suffixes) or path.name}'. "
                     f"Fix: convert it to one of {SUPPORTED}.")


def open_binary(path: Path, compression: str) -> IO[bytes]:
    """The file's bytes, decompressed."""
    if compression == ".gz":
        return gzip.open(path, "rb")
    if compression == ".zst":
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True))
    return path.open("rb")


def iter_json_lines(path: Path, compression: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of a JSON-lines file, plain or compressed."""
    if not compression:
        yield from iter_jsonl(path)
        return
    try:
        with open_binary(path, compression) as handle:
            yield from iter_json_byte_lines(handle, path, " of the decompressed text")
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: cannot be read as {compression.lstrip('.')}-compressed JSON lines "
                         f"({error}). Fix: check the file is complete and its name matches its "
                         "compression.") from None
    except Exception as error:
        if type(error).__name__ != "ZstdError":  # zstandard's error is not an OSError
            raise
        raise InputError(f"{path}: not a valid zstd stream ({error}). Fix: check the file is complete "
                         "and its name matches its compression.") from None


def iter_arrow_batches(batches: Iterator[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, record) over Arrow record batches."""
    row = 0
    for batch in batches:
        for record in batch.to_pylist():
            row += 1
            yield row, record


def parquet_batches(path: Path) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowInvalid as error:
        raise InputError(f"{path}: not a readable Parquet file ({error}). Fix: check the file is "
                         "complete, or name it after its real format.") from None
    yield from parquet.iter_batches(batch_size=ARROW_BATCH_ROWS)


def hf_disk_batches(path: Path) -> Iterator[Any]:
    """Record batches of the Arrow files save_to_disk wrote, in the order state.json lists them."""
    import pyarrow as pa

    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    for data_file in state.get("_data_files", []):
        with pa.memory_map(str(path / data_file["filename"])) as source:
            yield from pa.ipc.open_stream(source)


def iter_dataset(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row, record) of a dataset in any supported format."""
    path = Path(path)
    kind = dataset_format(path)
    if kind.startswith("jsonl"):
        yield from iter_json_lines(path, kind.removeprefix("jsonl"))
    elif kind == "parquet":
        yield from iter_arrow_batches(parquet_batches(path))
    else:
        yield from iter_arrow_batches(hf_disk_batches(path))


# --- one schema for every record ------------------------------------------------------------------
# Data-Juicer loads JSONL through datasets' json builder, which fixes each column's type from the
# first block it reads (10 MB): a field missing there fails later ("column names don't match"),
# and one that is null or an empty list there gets type null and fails on its first value. So the
# working pool gives every record every field, and a field some record lacks is written as text.


def json_kind(value: Any) -> str:
    """The JSON type of a value, numbers as one kind."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "other"


def is_empty(value: Any) -> bool:
    return value is None or value == []


class Schema:
    """The union of the records' fields (nested objects too), in first-seen order: each field's
    JSON kind, where it was first seen, and in how many records it has a value."""

    def __init__(self) -> None:
        self.kinds: dict[str, tuple[str, int]] = {}
        self.present: dict[str, int] = {}
        self.children: dict[str, Schema] = {}

    def add(self, record: dict[str, Any], location: int, path: Path, prefix: str = "") -> None:
        for key, value in record.items():
            self.kinds.setdefault(key, ("null", location))
            self.present.setdefault(key, 0)
            if is_empty(value):
                continue
            self.present[key] += 1
            kind, first_seen = self.kinds[key]
            new_kind = json_kind(value)
            if kind == "null":
                self.kinds[key] = (new_kind, location)
            elif kind != new_kind:
                raise InputError(
                    f"{path}:{location}: field '{prefix}{key}' is a {new_kind} here but a {kind} at "
                    f"{path}:{first_seen}. Fix: give '{prefix}{key}' one type in every record (Data-Juicer's "
                    "loader needs one column type)."
                )
            if new_kind == "object":
                self.children.setdefault(key, Schema()).add(value, location, path, f"{prefix}{key}.")

    def conform(self, record: dict[str, Any], records: int) -> dict[str, Any]:
        """The record with every field of the union, in the union's order: objects conformed in
        turn (an empty one where missing); a field some of the `records` lack, as text ("" there)."""
        conformed: dict[str, Any] = {}
        for key, (kind, _) in self.kinds.items():
            value = record.get(key)
            if kind == "object":
                conformed[key] = self.children[key].conform(value or {}, records)
            elif self.present[key] == records:
                conformed[key] = value
            elif is_empty(value):
                conformed[key] = ""
            else:
                conformed[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return conformed

    def sparse_fields(self, records: int, prefix: str = "") -> list[str]:
        """Fields (dotted) that some record lacks and that are not objects: those written as text."""
        names = []
        for key, (kind, _) in self.kinds.items():
            if kind == "object":
                names += self.children[key].sparse_fields(records, f"{prefix}{key}.")
            elif self.present[key] < records:
                names.append(f"{prefix}{key}")
        return names


def uniform_records(records: list[tuple[int, dict[str, Any]]],
                    path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every record with the same fields in the same order and no empty column; InputError when a
    field holds different JSON types. Also returns the fields written as text (some record lacks them)."""
    schema = Schema()
    for location, record in records:
        schema.add(record, location, path)
    return [schema.conform(record, len(records)) for _, record in records], schema.sparse_fields(len(records))
