"""Shared by the hidden-data tests (test_data_*.py): small challenges, plain trees and
tar archives made with tarfile, and the ``keys``, ``data_cache`` and ``packed``
fixtures (conftest.py imports them so every test file sees them).
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from runner.data import keygen, pack
from runner.errors import DataError
from runner.models import Challenge, HiddenDataSpec, MetricSpec, PredictionColumn, PredictionsSpec


def make_challenge(root: Path, **hidden) -> Challenge:
    root.mkdir(parents=True, exist_ok=True)
    return Challenge(
        id="demo",
        title="Demo",
        summary="A demo.",
        root=root,
        maintainers=("octocat",),
        predictions=PredictionsSpec(id_column="id", columns=(PredictionColumn("y", "label"),)),
        metrics=(MetricSpec("accuracy"),),
        phases=(),
        hidden=HiddenDataSpec(**hidden),
    )


def make_tree(root: Path) -> Path:
    (root / "inputs" / "images").mkdir(parents=True)
    (root / "inputs" / "test.csv").write_text("id,x\n1,0.5\n2,0.7\n")
    (root / "inputs" / "images" / "a.bin").write_bytes(bytes(range(256)) * 4)
    (root / "truth.csv").write_text("id,y,split\n1,0,public\n2,1,private\n")
    return root


def fails_with(text: str):
    """Expect a DataError whose message contains ``text`` literally."""
    return pytest.raises(DataError, match=re.escape(text))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def info(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **fields) -> tuple:
    member = tarfile.TarInfo(name)
    member.type, member.size = kind, len(data) if kind == tarfile.REGTYPE else 0
    for key, value in fields.items():
        setattr(member, key, value)
    return member, data


def tar_bytes(members: list[tuple], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for member, data in members:
            tar.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return buffer.getvalue()


def good_members(extra: list[tuple] = ()) -> list[tuple]:
    return [
        info("inputs", tarfile.DIRTYPE),
        info("inputs/test.csv", data=b"id,x\n1,2\n"),
        *extra,
        info("truth.csv", data=b"id,y\n1,0\n"),
    ]


def write_age(path: Path, plain: bytes, recipient: str) -> str:
    path.write_bytes(pyrage.encrypt(plain, [x25519.Recipient.from_str(recipient)]))
    return sha256_of(path)


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def archive_challenge(tmp_path: Path, keys, plain: bytes) -> Challenge:
    root = tmp_path / "c"
    root.mkdir(exist_ok=True)
    sha = write_age(root / "hidden.tar.age", plain, keys[1])
    return make_challenge(root, source="hidden.tar.age", sha256=sha, key_env="KEY")


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return keygen()


@pytest.fixture
def data_cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def packed(tmp_path: Path, keys) -> tuple[Challenge, str, Path]:
    """A challenge whose source is a freshly packed hidden.tar.age."""
    source = make_tree(tmp_path / "plain")
    root = tmp_path / "challenges" / "demo"
    root.mkdir(parents=True)
    sha = pack(source, [keys[1]], root / "hidden.tar.age")
    challenge = make_challenge(root, source="hidden.tar.age", sha256=sha, key_env="KEY")
    return challenge, sha, source
