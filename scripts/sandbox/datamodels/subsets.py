"""Datamodels over groups: which operator or data source earns its place.

Each model m trains the fast proxy on the documents a random subset of groups leaves (a group is an
operator of the recipe, switched on or off, or one value of a metadata field), at the same budget as
every other model. Its outputs are the held-out bits per byte of each eval document (the margins)
and of the whole eval set. Linear datamodels (sandbox/datamodels/linear.py) then map the subset's
0/1 vector to each output; a coefficient is what switching that group on adds to the output with the
others held fixed.

The store is contiguous: masks.npy (M x G bool), margins.npy (M x E float32), bpb.npy and
train_docs.npy (M), memory-mapped when read, plus index.json (groups, shapes, the chunks it was
assembled from). Subset m is drawn from (seed, m) alone, so raising M keeps the first M models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STORE_FORMAT = "recipe-sandbox-datamodels-v1"
ARRAYS = ("masks", "margins", "bpb", "train_docs")


def subset_mask(seed: int, model_index: int, n_groups: int, alpha: float) -> np.ndarray:
    """Which groups model model_index includes: each independently with probability alpha."""
    rng = np.random.default_rng([seed, model_index])
    return rng.random(n_groups) < alpha


def meta_value(record: dict[str, Any], dotted_key: str) -> Any:
    """The value at a dotted path (meta.source) of a record; KeyError naming the missing part (the
    working pool writes a field some documents lack as "" there, so "" is missing too)."""
    value: Any = record
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or value.get(part) in (None, ""):
            raise KeyError(part)
        value = value[part]
    return value


@dataclass
class Store:
    """A datamodels store in memory (arrays memory-mapped when read from disk)."""

    masks: np.ndarray
    margins: np.ndarray
    bpb: np.ndarray
    train_docs: np.ndarray
    index: dict[str, Any]

    @property
    def groups(self) -> list[str]:
        return list(self.index["groups"])


def write_store(folder: Path, arrays: dict[str, np.ndarray], index: dict[str, Any]) -> None:
    """Write each array as .npy and index.json last, so a store with an index is complete (the mixture
    swarm's store holds weights where a datamodels store holds masks)."""
    folder.mkdir(parents=True, exist_ok=True)
    shapes = {}
    for name in arrays:
        target = np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=arrays[name].dtype,
                                           shape=arrays[name].shape)
        target[...] = arrays[name]
        target.flush()
        shapes[name] = {"shape": list(arrays[name].shape), "dtype": str(arrays[name].dtype)}
        del target
    partial = folder / "index.json.partial"
    partial.write_text(json.dumps({"format": STORE_FORMAT, **index, "arrays": shapes}, indent=2) + "\n",
                       encoding="utf-8")
    partial.replace(folder / "index.json")


def write_chunk(path: Path, **arrays: np.ndarray) -> None:
    """Write one job's arrays as an .npz, whole or not at all (through a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def read_arrays(folder: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A store's index and every array it lists, memory-mapped read-only."""
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    if index.get("format") != STORE_FORMAT:
        raise ValueError(f"{folder}: not a datamodels store (format {index.get('format')!r})")
    return index, {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in index["arrays"]}


def read_store(folder: Path) -> Store:
    """The datamodels store in folder, arrays memory-mapped read-only."""
    index, arrays = read_arrays(folder)
    return Store(index=index, **{name: arrays[name] for name in ARRAYS})


def assemble_chunks(paths: list[Path]) -> tuple[list[str], dict[str, np.ndarray], list[dict[str, Any]]]:
    """The chunks' groups, their arrays concatenated in model order (every array but models and groups),
    and each chunk's file, SHA-256 and model range; ValueError on a gap or on chunks whose groups differ."""
    import hashlib

    chunks = sorted(((path, np.load(path)) for path in paths), key=lambda item: int(item[1]["models"][0]))
    groups = chunks[0][1]["groups"].tolist()
    names = [name for name in chunks[0][1].files if name not in ("models", "groups")]
    expected_start = 0
    for path, chunk in chunks:
        if chunk["groups"].tolist() != groups:
            raise ValueError(f"{path}: its groups differ from {chunks[0][0]}'s; rerun the chunks")
        if int(chunk["models"][0]) != expected_start:
            raise ValueError(f"{path}: starts at model {int(chunk['models'][0])}, expected {expected_start}")
        expected_start = int(chunk["models"][-1]) + 1
    arrays = {name: np.concatenate([chunk[name] for _, chunk in chunks]) for name in names}
    entries = [{"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "models": [int(chunk["models"][0]), int(chunk["models"][-1]) + 1]} for path, chunk in chunks]
    return groups, arrays, entries


def holdout_models(n_models: int, every: int) -> np.ndarray:
    """Held-out flags: every `every`-th model (by index), so raising M keeps earlier models' roles."""
    return np.arange(n_models) % every == every - 1


def usable_models(bpb: np.ndarray) -> np.ndarray:
    """Models that trained (a subset with no documents has NaN outputs)."""
    return np.isfinite(bpb)
