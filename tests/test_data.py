"""Hidden data: keys, packing, verified and safe unpacking, the cache, and HTTP sources.

Everything is real: pyrage encryption, tar files made with tarfile, subprocesses that die
mid-unpack, and an http.server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import re
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import ClassVar

import pyrage
import pytest
from pyrage import x25519

from runner.data import (
    LAYOUT,
    decrypt_text,
    encrypt_text,
    keygen,
    open_hidden,
    pack,
    tree_sha256,
)
from runner.errors import DataError
from runner.models import (
    Challenge,
    HiddenDataSpec,
    MetricSpec,
    PredictionColumn,
    PredictionsSpec,
)

TOKEN = "tok-3f9a"


# ---------------------------------------------------------------- helpers


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


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return keygen()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
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


# ---------------------------------------------------------------- keys and text


def test_keygen_makes_a_matching_pair(keys):
    identity, recipient = keys
    assert identity.startswith("AGE-SECRET-KEY-1") and recipient.startswith("age1")
    assert str(x25519.Identity.from_str(identity).to_public()) == recipient
    assert keygen() != keys


def test_text_round_trip_is_armored(keys):
    blob = encrypt_text('{"roc_auc": 0.91}', keys[1])
    assert blob.startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    assert "0.91" not in blob
    assert decrypt_text(blob, keys[0]) == '{"roc_auc": 0.91}'
    key_file = f"# created: now\n# public key: {keys[1]}\n{keys[0]}\n"
    assert decrypt_text(blob, key_file) == '{"roc_auc": 0.91}'


def test_text_wrong_identity_and_bad_keys(keys):
    blob = encrypt_text("secret", keys[1])
    with fails_with("encrypted to other recipients"):
        decrypt_text(blob, keygen()[0])
    with fails_with("'age1nope' is not an age recipient"):
        encrypt_text("x", "age1nope")
    with fails_with("holds no age identity") as err:
        decrypt_text(blob, "not-a-key-7731")
    assert "7731" not in str(err.value)
    with fails_with("damaged, truncated or not age-encrypted"):
        decrypt_text(blob[:60] + blob[-40:], keys[0])


# ---------------------------------------------------------------- pack


def test_pack_writes_a_deterministic_encrypted_tar(tmp_path, keys):
    source = make_tree(tmp_path / "plain")
    first, second = tmp_path / "one.age", tmp_path / "two.age"
    sha = pack(source, [keys[1]], first)
    os.utime(source / "truth.csv", (1, 1))
    pack(source, [keys[1]], second)
    assert sha == sha256_of(first)
    assert first.read_bytes().startswith(b"age-encryption.org/v1")
    identity = x25519.Identity.from_str(keys[0])
    plain_one = pyrage.decrypt(first.read_bytes(), [identity])
    assert plain_one == pyrage.decrypt(second.read_bytes(), [identity])  # age is randomised
    assert plain_one[:2] == b"\x1f\x8b"  # gzip
    with tarfile.open(fileobj=io.BytesIO(plain_one)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "inputs",
        "inputs/images",
        "inputs/images/a.bin",
        "inputs/test.csv",
        "truth.csv",
    ]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert [m.mode for m in members] == [0o755, 0o755, 0o644, 0o644, 0o644]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.age", "plain", "two.age"]


def test_pack_to_several_recipients(tmp_path, keys):
    other = keygen()
    out = tmp_path / "h.age"
    pack(make_tree(tmp_path / "plain"), [keys[1], other[1]], out)
    for identity in (keys[0], other[0]):
        assert pyrage.decrypt(out.read_bytes(), [x25519.Identity.from_str(identity)])


def test_pack_leaves_no_plaintext_behind(tmp_path, keys, monkeypatch):
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(private_tmp))
    lines = []
    pack(make_tree(tmp_path / "plain"), [keys[1]], tmp_path / "h.age", progress=lines.append)
    assert list(private_tmp.iterdir()) == []
    assert lines[0] == f"packing 3 files (1.0 KiB) from {tmp_path / 'plain'}"
    assert lines[-1].startswith(f"wrote {tmp_path / 'h.age'} (")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda d: (d / "truth.csv").unlink(),
            "truth.csv (a file) or reference/ (a folder) is missing",
        ),
        (lambda d: os.rename(d / "inputs", d / "input"), "inputs/ is missing or not a folder"),
        (lambda d: (d / "notes.md").write_text("x"), "notes.md found besides inputs/"),
        (
            lambda d: (d / "inputs" / "link").symlink_to(d / "truth.csv"),
            "link: is a symbolic link; only regular files and folders are allowed here: "
            "replace it with a copy of its target",
        ),
        (
            lambda d: os.mkfifo(d / "inputs" / "pipe"),
            "pipe: is a device, FIFO or socket; only regular files and folders are allowed "
            "here: remove it",
        ),
    ],
)
def test_pack_rejects_a_bad_folder(tmp_path, keys, breakage, message):
    source = make_tree(tmp_path / "plain")
    breakage(source)
    with pytest.raises(DataError) as err:
        pack(source, [keys[1]], tmp_path / "h.age")
    assert message in str(err.value)
    assert not (tmp_path / "h.age").exists()
    if "missing" in message or "besides" in message:
        assert LAYOUT in str(err.value)


def test_pack_rejects_bad_recipients(tmp_path):
    source = make_tree(tmp_path / "plain")
    with fails_with("no recipient given"):
        pack(source, [], tmp_path / "h.age")
    with fails_with("'AGE-SECRET-KEY-1X' is not an age recipient"):
        pack(source, ["AGE-SECRET-KEY-1X"], tmp_path / "h.age")


# ---------------------------------------------------------------- open_hidden: archives


def test_round_trip_keygen_pack_open(packed, keys, cache):
    challenge, sha, source = packed
    lines = []
    data = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]}, progress=lines.append)
    assert data.sha256 == sha
    assert data.inputs == cache / sha / "inputs" and data.truth == cache / sha / "truth.csv"
    assert data.truth.read_text() == (source / "truth.csv").read_text()
    assert listing(data.inputs) == ["images", "images/a.bin", "test.csv"]
    assert tree_sha256(data.inputs) == tree_sha256(source / "inputs")
    assert not data.truth.is_relative_to(data.inputs)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(data.truth.stat().st_mode) == 0o600
    assert stat.S_IMODE((data.inputs / "test.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((data.inputs / "images").stat().st_mode) == 0o755
    assert lines == ["decrypting hidden.tar.age", "unpacking"]
    assert sorted(p.name for p in cache.iterdir()) == [sha]


def test_identity_may_be_a_whole_key_file(packed, keys, cache):
    challenge, sha, _ = packed
    key_file = f"# created: x\n# public key: {keys[1]}\n{keys[0]}\n"
    assert open_hidden(challenge, cache_dir=cache, env={"KEY": key_file}).sha256 == sha


def test_cache_location_comes_from_the_environment(packed, keys, tmp_path):
    challenge, sha, _ = packed
    env = {"KEY": keys[0], "CHALLENGE_RUNNER_CACHE": str(tmp_path / "c2")}
    assert open_hidden(challenge, env=env).inputs == tmp_path / "c2" / sha / "inputs"
    env = {"KEY": keys[0], "HOME": str(tmp_path / "home")}
    expected = tmp_path / "home" / ".cache" / "challenge-runner" / sha / "inputs"
    assert open_hidden(challenge, env=env).inputs == expected


def test_wrong_key(packed, cache):
    challenge, _, _ = packed
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={"KEY": keygen()[0]})
    assert str(err.value) == (
        f"{challenge.root / 'hidden.tar.age'}: cannot decrypt with the identity in environment "
        "variable KEY: it was encrypted to other recipients (wrong key); use the key it was "
        "packed for"
    )
    assert list(cache.iterdir()) == []


def test_missing_key_variable(packed, cache):
    challenge, _, _ = packed
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={})
    assert "the environment variable KEY is not set" in err.value.message
    assert 'export KEY="$(cat KEY_FILE)"' in err.value.message
    assert "--data DIR" in err.value.message


def test_demo_key_file_is_used_when_the_variable_is_unset(packed, keys, cache):
    challenge, sha, _ = packed
    (challenge.root / "demo-key.txt").write_text(f"# DEMO ONLY\n{keys[0]}\n")
    spec = {"source": "hidden.tar.age", "sha256": sha, "key_env": "KEY"}
    demo = make_challenge(challenge.root, **spec, demo_key_file=Path("demo-key.txt"))
    with fails_with("encrypted to other recipients"):  # a set variable wins over the demo key
        open_hidden(demo, cache_dir=cache, env={"KEY": keygen()[0]})
    lines = []
    assert open_hidden(demo, cache_dir=cache, env={}, progress=lines.append).sha256 == sha
    assert lines[0] == "using the DEMO key demo-key.txt: it is public, so this data is not secret"
    absent = make_challenge(challenge.root, **spec, demo_key_file=challenge.root / "gone.txt")
    with fails_with("cannot read the demo key file: [Errno 2] No such file or directory"):
        open_hidden(absent, cache_dir=tmp_cache(cache), env={})


def tmp_cache(cache: Path) -> Path:
    return cache.with_name(cache.name + "-other")


def test_the_committed_example_challenge_opens(tmp_path):
    """The example archives in challenges/ decrypt with their demo keys (as in a fresh clone)."""
    from runner.loader import load_challenge

    root = Path(__file__).resolve().parent.parent / "challenges"
    examples = sorted(root.glob("*/hidden.tar.age"))
    assert len(examples) == 2
    for archive in examples:
        challenge = load_challenge(archive.parent / "challenge.yaml")
        data = open_hidden(challenge, cache_dir=tmp_path / "cache", env={})
        assert data.sha256 == sha256_of(archive) == challenge.hidden.sha256
        assert (data.inputs / "test.csv").is_file() and data.truth.is_file()


def test_key_variable_without_an_identity(packed, cache):
    challenge, _, _ = packed
    with fails_with("environment variable KEY holds no age identity"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": "/home/me/key.txt"})


def test_no_key_env_declared(tmp_path, packed, cache, keys):
    challenge, sha, _ = packed
    bare = make_challenge(challenge.root, source="hidden.tar.age", sha256=sha)
    with fails_with("data.hidden.key_env is not set"):
        open_hidden(bare, cache_dir=cache, env={"KEY": keys[0]})


def test_sha_mismatch_is_caught_before_decrypting(packed, keys, cache):
    challenge, sha, _ = packed
    wrong = "ab" * 32
    stale = make_challenge(challenge.root, source="hidden.tar.age", sha256=wrong, key_env="KEY")
    with pytest.raises(DataError) as err:
        open_hidden(stale, cache_dir=cache, env={})  # no key: proves nothing was decrypted
    assert err.value.message == (
        f"sha256 mismatch: challenge.yaml says {wrong} but the file has {sha}; if the data was "
        "re-packed on purpose, put the new sha256 in data.hidden.sha256, otherwise restore the file"
    )
    assert err.value.path == str(challenge.root / "hidden.tar.age")


def test_missing_sha_tells_the_hash(packed, keys, cache):
    challenge, sha, _ = packed
    unpinned = make_challenge(challenge.root, source="hidden.tar.age", key_env="KEY")
    with fails_with(f"this file's sha256 is {sha}: add it"):
        open_hidden(unpinned, cache_dir=cache, env={"KEY": keys[0]})


def test_unencrypted_file_is_refused(tmp_path, keys, cache):
    root = tmp_path / "c"
    root.mkdir()
    (root / "hidden.tar").write_bytes(tar_bytes(good_members()))
    challenge = make_challenge(
        root, source="hidden.tar", sha256=sha256_of(root / "hidden.tar"), key_env="KEY"
    )
    with fails_with("hidden data in a file must be age-encrypted"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})


def test_missing_source(tmp_path, cache):
    challenge = make_challenge(tmp_path / "c", source="nope.tar.age", sha256="00" * 32)
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={})
    assert err.value.path == str(tmp_path / "c" / "challenge.yaml")
    assert err.value.message.startswith("hidden data 'nope.tar.age' not found (looked at ")


def archive_challenge(tmp_path: Path, keys, plain: bytes) -> Challenge:
    root = tmp_path / "c"
    root.mkdir(exist_ok=True)
    sha = write_age(root / "hidden.tar.age", plain, keys[1])
    return make_challenge(root, source="hidden.tar.age", sha256=sha, key_env="KEY")


MALICIOUS = [
    (
        [info("inputs/link", tarfile.SYMTYPE, linkname="../truth.csv")],
        "archive member 'inputs/link' is a symbolic link; only files and folders are allowed",
    ),
    (
        [info("inputs/hard", tarfile.LNKTYPE, linkname="truth.csv")],
        "archive member 'inputs/hard' is a hard link; only files and folders are allowed",
    ),
    (
        [info("/etc/cron.d/x", data=b"boom")],
        "archive member '/etc/cron.d/x' has an absolute path; paths must be relative",
    ),
    (
        [info("inputs/../../escape", data=b"boom")],
        "archive member 'inputs/../../escape' leaves the archive folder ('..' or '\\')",
    ),
    (
        [info("inputs/null", tarfile.CHRTYPE, devmajor=1, devminor=3)],
        "archive member 'inputs/null' is a device file; only files and folders are allowed",
    ),
    (
        [info("inputs/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)],
        "archive member 'inputs/sda' is a device file; only files and folders are allowed",
    ),
    (
        [info("inputs/pipe", tarfile.FIFOTYPE)],
        "archive member 'inputs/pipe' is a FIFO; only files and folders are allowed",
    ),
    (
        [info("extra.csv", data=b"x")],
        f"unexpected archive member 'extra.csv': {LAYOUT}",
    ),
    (
        [info("inputs/test.csv", data=b"again")],
        "cannot extract archive member 'inputs/test.csv': [Errno 17] File exists",
    ),
]


@pytest.mark.parametrize(("extra", "message"), MALICIOUS, ids=lambda v: str(v)[:30])
def test_malicious_archives_are_refused(tmp_path, keys, cache, extra, message):
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert err.value.message.startswith(message)
    assert list(cache.iterdir()) == []  # no entry, no partial folder
    assert not (tmp_path / "etc").exists() and not (tmp_path / "escape").exists()


def test_truth_must_be_a_file(tmp_path, keys, cache):
    members = [info("inputs", tarfile.DIRTYPE), info("truth.csv", tarfile.DIRTYPE)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(members))
    with fails_with("archive member 'truth.csv' has the wrong type"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})


def test_archive_without_truth_is_refused(tmp_path, keys, cache):
    members = [info("inputs", tarfile.DIRTYPE), info("inputs/a.csv", data=b"x")]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(members, compress=True))
    with fails_with("truth.csv (a file) or reference/ (a folder) is missing"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert list(cache.iterdir()) == []


def test_too_many_files(tmp_path, keys, cache):
    extra = [info(f"inputs/{i}.csv", data=b"x") for i in range(5)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]}, max_files=4)
    assert err.value.message == (
        "archive member 'inputs/2.csv' is past the limit of 4 files; bundle small files "
        "(e.g. into one CSV or Parquet file)"
    )
    assert list(cache.iterdir()) == []


def test_too_many_bytes(tmp_path, keys, cache):
    extra = [info("inputs/big.bin", data=b"\0" * 5000)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra), compress=True))
    with fails_with("'inputs/big.bin' takes the data past the limit of 4.9 KiB"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]}, max_bytes=5000)


def test_default_size_cap_checks_the_header_before_reading(tmp_path, keys, cache):
    # A 9 GiB member whose data is absent: refused from its header alone.
    header = info("inputs/huge.bin", size=9 << 30)[0].tobuf(format=tarfile.PAX_FORMAT)
    plain = tar_bytes([info("inputs", tarfile.DIRTYPE)])[:512] + header
    challenge = archive_challenge(tmp_path, keys, plain)
    with fails_with("'inputs/huge.bin' takes the data past the limit of 8.0 GiB"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})


def test_truncated_encrypted_archive(packed, keys, cache):
    challenge, _, _ = packed
    path = challenge.root / "hidden.tar.age"
    path.write_bytes(path.read_bytes()[:-20])
    cut = make_challenge(
        challenge.root, source="hidden.tar.age", sha256=sha256_of(path), key_env="KEY"
    )
    with pytest.raises(DataError) as err:
        open_hidden(cut, cache_dir=cache, env={"KEY": keys[0]})
    assert err.value.message.startswith("cannot decrypt")
    assert "damaged or truncated" in err.value.message
    assert list(cache.iterdir()) == []


def test_truncated_tar_inside_valid_encryption(tmp_path, keys, cache):
    plain = tar_bytes(good_members([info("inputs/b.bin", data=os.urandom(4000))]), compress=True)
    challenge = archive_challenge(tmp_path, keys, plain[: len(plain) // 2])
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert err.value.message.startswith("the archive is damaged or truncated (")
    assert err.value.message.endswith("); pack it again")
    assert list(cache.iterdir()) == []


# ---------------------------------------------------------------- the cache


def test_cache_is_reused_without_decrypting(packed, keys, cache):
    challenge, _, _ = packed
    first = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    before = first.truth.stat().st_mtime_ns, first.truth.stat().st_ino
    lines = []
    # No key at all: only a cache hit can succeed.
    second = open_hidden(challenge, cache_dir=cache, env={}, progress=lines.append)
    assert second == first
    assert (second.truth.stat().st_mtime_ns, second.truth.stat().st_ino) == before
    assert lines == ["using cached hidden data"]


def test_cache_still_checks_the_archive_hash(packed, keys, cache):
    challenge, _, _ = packed
    open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    (challenge.root / "hidden.tar.age").write_bytes(b"replaced")
    with fails_with("sha256 mismatch"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})


def test_failed_unpack_then_success_leaves_a_clean_cache(tmp_path, keys, cache):
    extra = [info(f"inputs/{i}.csv", data=b"x") for i in range(5)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with fails_with("past the limit of 3 files"):
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]}, max_files=3)
    assert list(cache.iterdir()) == []
    data = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert listing(data.inputs) == ["0.csv", "1.csv", "2.csv", "3.csv", "4.csv", "test.csv"]


CRASH_SCRIPT = """
import os, signal, sys
from pathlib import Path
from runner.data import archive, open_hidden
from runner.models import *
written = []
real = archive._write_member
def dying(tar, member, rel, target):
    real(tar, member, rel, target)
    written.append(rel)
    if len(written) == 3:  # killed mid-unpack, like a crash or an OOM kill
        os.kill(os.getpid(), signal.SIGKILL)
archive._write_member = dying
challenge = Challenge(id="demo", title="t", summary="s", root=Path(sys.argv[1]),
    maintainers=(), predictions=PredictionsSpec("id", ()), metrics=(), phases=(),
    hidden=HiddenDataSpec(source="hidden.tar.age", sha256=sys.argv[2], key_env="KEY"))
open_hidden(challenge, cache_dir=Path(sys.argv[3]))
"""


def test_a_killed_unpack_never_leaves_a_half_entry(packed, keys, cache):
    challenge, sha, source = packed
    env = {**os.environ, "KEY": keys[0]}
    args = [sys.executable, "-c", CRASH_SCRIPT, str(challenge.root), sha, str(cache)]
    crashed = subprocess.run(args, env=env, capture_output=True, timeout=60, check=False)
    assert crashed.returncode == -9, crashed.stderr.decode()
    leftovers = [p.name for p in cache.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".partial-")  # never <sha>/
    assert (cache / leftovers[0] / "tree" / "inputs").is_dir()
    data = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert tree_sha256(data.inputs) == tree_sha256(source / "inputs")
    assert [p.name for p in cache.iterdir()] == [sha]  # the dead process's partial is gone


def test_a_broken_entry_is_rebuilt(packed, keys, cache):
    challenge, sha, source = packed
    (cache / sha / "inputs").mkdir(parents=True)  # e.g. a hand-made or damaged entry
    data = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert data.truth.read_text() == (source / "truth.csv").read_text()


# ---------------------------------------------------------------- directories


def test_directory_sources(tmp_path, cache):
    source = make_tree(tmp_path / "c" / "hidden")
    tree = tree_sha256(source)
    for spec in ("hidden", str(source), f"file://{source}", f"file://localhost{source}"):
        data = open_hidden(make_challenge(tmp_path / "c", source=spec), cache_dir=cache, env={})
        assert data.inputs == source / "inputs" and data.truth == source / "truth.csv"
        assert data.sha256 == tree
    assert not cache.exists()  # directories are used in place
    pinned = make_challenge(tmp_path / "c", source="hidden", sha256=tree.upper())
    assert open_hidden(pinned, env={}).sha256 == tree
    with fails_with("is not a local file URL"):
        open_hidden(make_challenge(tmp_path / "c", source="file://host/x"), env={})


def test_directory_with_wrong_sha(tmp_path):
    source = make_tree(tmp_path / "c" / "hidden")
    challenge = make_challenge(tmp_path / "c", source="hidden", sha256="00" * 32)
    with fails_with(f"says {'00' * 32} but the folder has {tree_sha256(source)}"):
        open_hidden(challenge, env={})


def test_data_dir_override(tmp_path, keys):
    challenge = make_challenge(tmp_path / "c", source="https://example.org/x.age", key_env="K")
    source = make_tree(tmp_path / "mine")
    data = open_hidden(challenge, data_dir=source, env={})
    assert (data.inputs, data.truth) == (source / "inputs", source / "truth.csv")
    (source / "truth.csv").unlink()
    with pytest.raises(DataError) as err:
        open_hidden(challenge, data_dir=source, env={})
    assert err.value.path == str(source)
    assert err.value.message == f"truth.csv (a file) or reference/ (a folder) is missing; {LAYOUT}"


def test_tree_sha256_is_stable_and_sensitive(tmp_path):
    one = make_tree(tmp_path / "one")
    two = make_tree(tmp_path / "two")
    os.utime(two / "truth.csv", (5, 5))
    (two / "inputs" / "test.csv").chmod(0o600)
    assert tree_sha256(one) == tree_sha256(two)
    assert tree_sha256(one) == tree_sha256(one)
    (two / "inputs" / "images" / "a.bin").rename(two / "inputs" / "images" / "b.bin")
    assert tree_sha256(one) != tree_sha256(two)
    three = make_tree(tmp_path / "three")
    (three / "truth.csv").write_text("id,y,split\n1,1,public\n2,1,private\n")
    assert tree_sha256(one) != tree_sha256(three)
    four = make_tree(tmp_path / "four")
    (four / "inputs" / "empty").mkdir()
    assert tree_sha256(one) != tree_sha256(four)
    # A pinned figure: the hash format must not drift between releases.
    (tmp_path / "tiny" / "inputs").mkdir(parents=True)
    (tmp_path / "tiny" / "truth.csv").write_bytes(b"id\n")
    expected = hashlib.sha256(
        b"d\0inputs\0" + b"f\0truth.csv\0" + hashlib.sha256(b"id\n").digest()
    ).hexdigest()
    assert tree_sha256(tmp_path / "tiny") == expected


# ---------------------------------------------------------------- https sources


class Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    log: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self):
        self.log.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/redirect-same"):
            return self.reply(302, b"", {"Location": "/private.age"})
        if self.path.startswith("/redirect-other"):
            port = self.server.server_address[1]
            return self.reply(302, b"", {"Location": f"http://localhost:{port}/private.age"})
        if self.path.startswith("/slow"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the runner gave up, as it should
            return None
        if self.path.startswith("/private") and self.headers.get("Authorization") != (
            f"Bearer {TOKEN}"
        ):
            return self.reply(401, b"no", {})
        name = self.path.split("?")[0].lstrip("/")
        if name not in self.files:
            return self.reply(404, b"missing", {})
        return self.reply(200, self.files[name], {})

    def reply(self, code: int, body: bytes, headers: dict[str, str]):
        self.send_response(code)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, keys):
    Handler.files, Handler.log = {}, []
    plain = tar_bytes(good_members(), compress=True)
    Handler.files["private.age"] = pyrage.encrypt(plain, [x25519.Recipient.from_str(keys[1])])
    Handler.files["public.age"] = Handler.files["private.age"]
    Handler.files["plain.tar.gz"] = plain
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def url_challenge(tmp_path: Path, url: str, name: str = "private.age", **extra) -> Challenge:
    spec = {"sha256": hashlib.sha256(Handler.files.get(name, b"")).hexdigest(), **extra}
    return make_challenge(tmp_path / "c", source=url, key_env="KEY", **spec)


def test_download_with_bearer_token_then_cached(server, tmp_path, keys, cache):
    challenge = url_challenge(tmp_path, f"{server}/private.age", token_env="TOKEN")
    env = {"KEY": keys[0], "TOKEN": TOKEN}
    lines = []
    open_kw = {"cache_dir": cache, "allow_insecure_loopback": True, "progress": lines.append}
    data = open_hidden(challenge, env=env, **open_kw)
    assert data.truth.read_bytes() == b"id,y\n1,0\n"
    assert Handler.log == [("/private.age", f"Bearer {TOKEN}")]
    assert lines == [f"downloading {server}/private.age", "decrypting download", "unpacking"]
    assert open_hidden(challenge, env={}, **open_kw) == data  # neither key nor token
    assert len(Handler.log) == 1  # the second call made no request


def test_http_errors(server, tmp_path, keys, cache):
    kw = {"cache_dir": cache, "allow_insecure_loopback": True}
    anon = url_challenge(tmp_path, f"{server}/private.age?sig=abc")
    with pytest.raises(DataError) as err:
        open_hidden(anon, env={"KEY": keys[0]}, **kw)
    assert err.value.message == (
        f"the server refused access to {server}/private.age (HTTP 401 Unauthorized); no token "
        "was sent: add token_env to data.hidden and set that variable"
    )
    bad = url_challenge(tmp_path, f"{server}/private.age", token_env="TOKEN")
    with fails_with("the token in TOKEN was refused"):
        open_hidden(bad, env={"KEY": keys[0], "TOKEN": "wrong"}, **kw)
    missing = url_challenge(tmp_path, f"{server}/gone.age")
    with pytest.raises(DataError) as err:
        open_hidden(missing, env={"KEY": keys[0]}, **kw)
    assert err.value.message == (
        f"{server}/gone.age was not found (HTTP 404); check data.hidden.source in challenge.yaml"
    )
    with fails_with("the environment variable TOKEN (data.hidden.token_env) is not set"):
        open_hidden(bad, env={"KEY": keys[0]}, **kw)
    assert list(cache.iterdir()) == []


def test_redirects_keep_the_token_on_the_same_origin_only(server, tmp_path, keys, cache):
    kw = {"cache_dir": cache, "allow_insecure_loopback": True}
    env = {"KEY": keys[0], "TOKEN": TOKEN}
    same = url_challenge(tmp_path, f"{server}/redirect-same", token_env="TOKEN")
    same = make_challenge(same.root, **{**vars(same.hidden), "sha256": url_sha("private.age")})
    assert open_hidden(same, env=env, **kw).truth.read_bytes() == b"id,y\n1,0\n"
    assert Handler.log == [
        ("/redirect-same", f"Bearer {TOKEN}"),
        ("/private.age", f"Bearer {TOKEN}"),
    ]
    other = make_challenge(same.root, **{**vars(same.hidden), "source": f"{server}/redirect-other"})
    Handler.log.clear()
    with fails_with("HTTP 401"):
        open_hidden(other, env=env, cache_dir=tmp_path / "cache2", allow_insecure_loopback=True)
    assert Handler.log == [("/redirect-other", f"Bearer {TOKEN}"), ("/private.age", None)]


def url_sha(name: str) -> str:
    return hashlib.sha256(Handler.files[name]).hexdigest()


def test_only_https_in_production(server, tmp_path, keys, cache):
    challenge = url_challenge(tmp_path, f"{server}/public.age")
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    assert err.value.message == (
        f"{server}/public.age: hidden data can only be downloaded over https:// (the data and "
        "the token must not travel in clear); fix data.hidden.source"
    )
    assert Handler.log == []
    loose = {"cache_dir": cache, "env": {"KEY": keys[0]}, "allow_insecure_loopback": True}
    assert open_hidden(challenge, **loose).sha256 == url_sha("private.age")
    remote = url_challenge(tmp_path, "http://example.org/public.age")
    with fails_with("can only be downloaded over https://"):
        open_hidden(remote, **loose)


def test_download_sha_mismatch_size_cap_and_timeout(server, tmp_path, keys, cache):
    kw = {"cache_dir": cache, "allow_insecure_loopback": True}
    env = {"KEY": keys[0]}
    wrong = url_challenge(tmp_path, f"{server}/public.age", sha256="cd" * 32)
    with fails_with(f"says {'cd' * 32} but the file has {url_sha('private.age')}") as err:
        open_hidden(wrong, env=env, **kw)
    assert err.value.path == f"{server}/public.age"
    unpinned = make_challenge(tmp_path / "c", source=f"{server}/public.age", key_env="KEY")
    with fails_with(f"sha256 is {url_sha('private.age')}: add it"):
        open_hidden(unpinned, env=env, **kw)
    size = len(Handler.files["private.age"])
    capped = url_challenge(tmp_path, f"{server}/public.age")
    with fails_with(f"is {size} bytes, over the download limit of 100 bytes"):
        open_hidden(capped, env=env, max_bytes=100, **kw)
    slow = url_challenge(tmp_path, f"{server}/slow")
    started = time.monotonic()
    with pytest.raises(DataError) as err:
        open_hidden(slow, env=env, download_timeout=0.3, **kw)
    assert err.value.message == f"downloading {server}/slow took too long; try again later"
    assert time.monotonic() - started < 1.5
    assert list(cache.iterdir()) == []


def test_plain_tar_over_https_needs_no_key(server, tmp_path, cache):
    challenge = url_challenge(tmp_path, f"{server}/plain.tar.gz", name="plain.tar.gz")
    data = open_hidden(challenge, cache_dir=cache, env={}, allow_insecure_loopback=True)
    assert data.sha256 == url_sha("plain.tar.gz")
    assert listing(data.inputs) == ["test.csv"]


def test_unreachable_server(tmp_path, cache):
    challenge = make_challenge(tmp_path / "c", source="http://127.0.0.1:9/x.age", sha256="0" * 64)
    with pytest.raises(DataError, match=r"cannot download http://127.0.0.1:9/x.age: .*refused"):
        open_hidden(challenge, cache_dir=cache, env={}, allow_insecure_loopback=True)


def test_gzip_module_is_the_compression(tmp_path, keys):
    # pack's documented format: gzip with mtime 0 and no file name (reproducible).
    out = tmp_path / "h.age"
    pack(make_tree(tmp_path / "plain"), [keys[1]], out)
    plain = pyrage.decrypt(out.read_bytes(), [x25519.Identity.from_str(keys[0])])
    assert plain[4:8] == b"\0\0\0\0" and plain[3] & 0x08 == 0  # MTIME 0, FNAME flag unset
    assert gzip.decompress(plain)[:6] == b"inputs"


# ---------------------------------------------------------------- the container's view


@pytest.mark.docker
def test_unprivileged_container_reads_unpacked_inputs(
    packed, keys, cache, docker_client, busybox_image
):
    """The cache root is 0700, yet user 65534 reads /input: the modes set on unpack suffice."""
    challenge, _, _ = packed
    data = open_hidden(challenge, cache_dir=cache, env={"KEY": keys[0]})
    output = docker_client.containers.run(
        busybox_image,
        ["sh", "-c", "cat /input/test.csv; ls /input/images; id -u"],
        user="65534:65534",
        network_mode="none",
        volumes={str(data.inputs): {"bind": "/input", "mode": "ro"}},
        labels={"challenge-runner.test": "test_data"},
        remove=True,
    )
    assert output.decode() == "id,x\n1,0.5\n2,0.7\na.bin\n65534\n"
