"""``runner.data.archive``: packing a folder, safe and capped unpacking, ``tree_sha256``.

Everything is real: pyrage encryption and tar files made with tarfile.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pyrage
import pytest
from hidden_data import (
    archive_challenge,
    fails_with,
    good_members,
    info,
    make_tree,
    sha256_of,
    tar_bytes,
)
from pyrage import x25519

from runner.data import LAYOUT, keygen, open_hidden, pack, tree_sha256
from runner.errors import DataError

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


def test_gzip_module_is_the_compression(tmp_path, keys):
    # pack's documented format: gzip with mtime 0 and no file name (reproducible).
    out = tmp_path / "h.age"
    pack(make_tree(tmp_path / "plain"), [keys[1]], out)
    plain = pyrage.decrypt(out.read_bytes(), [x25519.Identity.from_str(keys[0])])
    assert plain[4:8] == b"\0\0\0\0" and plain[3] & 0x08 == 0  # MTIME 0, FNAME flag unset
    assert gzip.decompress(plain)[:6] == b"inputs"


# ---------------------------------------------------------------- unpacking


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
def test_malicious_archives_are_refused(tmp_path, keys, data_cache, extra, message):
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert err.value.message.startswith(message)
    assert list(data_cache.iterdir()) == []  # no entry, no partial folder
    assert not (tmp_path / "etc").exists() and not (tmp_path / "escape").exists()


def test_truth_must_be_a_file(tmp_path, keys, data_cache):
    members = [info("inputs", tarfile.DIRTYPE), info("truth.csv", tarfile.DIRTYPE)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(members))
    with fails_with("archive member 'truth.csv' has the wrong type"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})


def test_archive_without_truth_is_refused(tmp_path, keys, data_cache):
    members = [info("inputs", tarfile.DIRTYPE), info("inputs/a.csv", data=b"x")]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(members, compress=True))
    with fails_with("truth.csv (a file) or reference/ (a folder) is missing"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert list(data_cache.iterdir()) == []


def test_too_many_files(tmp_path, keys, data_cache):
    extra = [info(f"inputs/{i}.csv", data=b"x") for i in range(5)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]}, max_files=4)
    assert err.value.message == (
        "archive member 'inputs/2.csv' is past the limit of 4 files; bundle small files "
        "(e.g. into one CSV or Parquet file)"
    )
    assert list(data_cache.iterdir()) == []


def test_too_many_bytes(tmp_path, keys, data_cache):
    extra = [info("inputs/big.bin", data=b"\0" * 5000)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra), compress=True))
    with fails_with("'inputs/big.bin' takes the data past the limit of 4.9 KiB"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]}, max_bytes=5000)


def test_default_size_cap_checks_the_header_before_reading(tmp_path, keys, data_cache):
    # A 9 GiB member whose data is absent: refused from its header alone.
    header = info("inputs/huge.bin", size=9 << 30)[0].tobuf(format=tarfile.PAX_FORMAT)
    plain = tar_bytes([info("inputs", tarfile.DIRTYPE)])[:512] + header
    challenge = archive_challenge(tmp_path, keys, plain)
    with fails_with("'inputs/huge.bin' takes the data past the limit of 8.0 GiB"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})


def test_truncated_tar_inside_valid_encryption(tmp_path, keys, data_cache):
    plain = tar_bytes(good_members([info("inputs/b.bin", data=os.urandom(4000))]), compress=True)
    challenge = archive_challenge(tmp_path, keys, plain[: len(plain) // 2])
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert err.value.message.startswith("the archive is damaged or truncated (")
    assert err.value.message.endswith("); pack it again")
    assert list(data_cache.iterdir()) == []


# ---------------------------------------------------------------- tree_sha256


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
