"""The truth prepared once per hidden data and challenge, kept beside the unpacked data.

Reading and checking truth.csv (a CSV parse, the duplicate-id check, typing the targets) and
hashing its ids cost more than scoring one submission, and the truth of a cache entry never
changes (the entry is named by the archive's sha256). ``prepared_truth`` therefore does that
work once and keeps the result in ``<entry>/prepared/<key>/``:

* ``truth.arrow`` — the typed table ``read_truth`` builds (Arrow IPC, memory-mapped back);
* ``index-*.npy`` — the ids' hash table (``runner.predictions.IdIndex``), for the hash join;
* ``<split>.npy`` — the boolean row mask of each split.

``key`` hashes everything of the challenge the prepared form depends on (id column, declared
columns, split rule) and ``FORMAT``, so a changed challenge.yaml or runner gets its own
folder. The folder is written under a temporary name and renamed into place: a crash never
leaves half of it, and a folder that cannot be read is prepared again.
bench/bench_evaluate_large.py, 3M rows: read and check 4.2 s; loading this folder 0.02 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from runner.arrow import as_numpy, label_values
from runner.models import Challenge
from runner.predictions import IdIndex
from runner.truth import Truth, read_truth, split_masks

FORMAT = 1
SPLITS = ("public", "private")


def prepared_truth(path: Path, challenge: Challenge, folder: Path | None) -> Truth:
    """The truth of ``path`` for ``challenge``: from ``folder`` when prepared there before,
    else read (``read_truth``, whose ``DataError`` propagates) and, given a folder, kept."""
    if folder is None:
        return _prepare(read_truth(path, challenge), challenge, index=False)
    entry = Path(folder) / _key(challenge)
    if entry.is_dir():
        try:
            return _load(entry, challenge)
        except (OSError, ValueError, pa.ArrowException):
            shutil.rmtree(entry, ignore_errors=True)  # damaged: prepare it again
    truth = _prepare(read_truth(path, challenge), challenge, index=True)
    _save(truth, entry)
    return truth


def _key(challenge: Challenge) -> str:
    spec, split = challenge.predictions, challenge.split
    described = {
        "format": FORMAT,
        "id": spec.id_column,
        "columns": [[c.name, c.kind, list(c.classes)] for c in spec.columns],
        "split": [split.column, split.public_fraction, split.seed],
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def _prepare(truth: Truth, challenge: Challenge, *, index: bool) -> Truth:
    built = IdIndex.build(truth.ids) if index else None
    return Truth(truth.table, truth.ids, truth.targets, split_masks(truth, challenge), built)


def _save(truth: Truth, entry: Path) -> None:
    entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=entry.parent))
    try:
        with pa.OSFile(str(work / "truth.arrow"), "wb") as sink:
            table = truth.table.combine_chunks()
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        for name, values in (truth.index.arrays() if truth.index else {}).items():
            np.save(work / f"index-{name}.npy", values)
        for name, mask in (truth.masks or {}).items():
            np.save(work / f"{name}.npy", mask)
        os.rename(work, entry)
    except OSError:
        pass  # another process won the rename, or the disk is full: prepared next time
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load(entry: Path, challenge: Challenge) -> Truth:
    table = pa.ipc.open_file(pa.memory_map(str(entry / "truth.arrow"))).read_all()
    spec = challenge.predictions
    ids = _one_chunk(table.column(spec.id_column))
    targets = {}
    for column in spec.columns:
        values = _one_chunk(table.column(column.name))
        targets[column.name] = label_values(values) if column.kind == "label" else as_numpy(values)
    masks = {name: _array(path) for name in SPLITS if (path := entry / f"{name}.npy").is_file()}
    arrays = {path.stem.removeprefix("index-"): _array(path) for path in entry.glob("index-*.npy")}
    index = IdIndex.from_arrays(ids, arrays) if arrays else None
    return Truth(table, ids, targets, masks, index)


def _array(path: Path) -> np.ndarray:
    # Memory-mapped, as a plain ndarray: numpy's memmap subclass slows every indexing call.
    return np.load(path, mmap_mode="r").view(np.ndarray)


def _one_chunk(values: pa.ChunkedArray) -> pa.Array:
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
