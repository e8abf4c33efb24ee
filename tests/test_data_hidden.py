"""``runner.data.hidden``: ``open_hidden`` on archives and directories, keys from the
environment or a demo key file, and the cache (reuse, crash safety, rebuilding).

Everything is real: pyrage encryption, subprocesses that die mid-unpack, Docker for the
container's view.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hidden_data import (
    archive_challenge,
    fails_with,
    good_members,
    info,
    listing,
    make_challenge,
    make_tree,
    sha256_of,
    tar_bytes,
)

from runner.data import LAYOUT, keygen, open_hidden, tree_sha256
from runner.errors import DataError

# ---------------------------------------------------------------- archives


def test_round_trip_keygen_pack_open(packed, keys, data_cache):
    challenge, sha, source = packed
    lines = []
    data = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]}, progress=lines.append)
    assert data.sha256 == sha
    entry = data_cache / sha
    assert data.inputs == entry / "inputs" and data.truth == entry / "truth.csv"
    assert data.truth.read_text() == (source / "truth.csv").read_text()
    assert listing(data.inputs) == ["images", "images/a.bin", "test.csv"]
    assert tree_sha256(data.inputs) == tree_sha256(source / "inputs")
    assert not data.truth.is_relative_to(data.inputs)
    assert stat.S_IMODE(data_cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(data.truth.stat().st_mode) == 0o600
    assert stat.S_IMODE((data.inputs / "test.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((data.inputs / "images").stat().st_mode) == 0o755
    assert lines == ["decrypting hidden.tar.age", "unpacking"]
    assert sorted(p.name for p in data_cache.iterdir()) == [sha]


def test_cache_location_comes_from_the_environment(packed, keys, tmp_path):
    challenge, sha, _ = packed
    env = {"KEY": keys[0], "CHALLENGE_RUNNER_CACHE": str(tmp_path / "c2")}
    assert open_hidden(challenge, env=env).inputs == tmp_path / "c2" / sha / "inputs"
    env = {"KEY": keys[0], "HOME": str(tmp_path / "home")}
    expected = tmp_path / "home" / ".cache" / "challenge-runner" / sha / "inputs"
    assert open_hidden(challenge, env=env).inputs == expected


def test_missing_key_variable(packed, data_cache):
    challenge, _, _ = packed
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={})
    assert err.value.message == (
        "the hidden data is encrypted and the environment variable KEY is not set: export "
        'KEY="$(cat KEY_FILE)" with the age identity (in CI, a repository secret of that name)'
    )
    with pytest.raises(DataError) as err:  # a caller with a local-data option names it
        open_hidden(challenge, cache_dir=data_cache, env={}, override="--data DIR")
    assert err.value.message.endswith(
        "(in CI, a repository secret of that name), or pass --data DIR with the decrypted data"
    )


def test_demo_key_file_is_used_when_the_variable_is_unset(packed, keys, data_cache):
    challenge, sha, _ = packed
    (challenge.root / "demo-key.txt").write_text(f"# DEMO ONLY\n{keys[0]}\n")
    spec = {"source": "hidden.tar.age", "sha256": sha, "key_env": "KEY"}
    demo = make_challenge(challenge.root, **spec, demo_key_file=Path("demo-key.txt"))
    with fails_with("encrypted to other recipients"):  # a set variable wins over the demo key
        open_hidden(demo, cache_dir=data_cache, env={"KEY": keygen()[0]})
    lines = []
    assert open_hidden(demo, cache_dir=data_cache, env={}, progress=lines.append).sha256 == sha
    assert lines[0] == "using the DEMO key demo-key.txt: it is public, so this data is not secret"
    absent = make_challenge(challenge.root, **spec, demo_key_file=challenge.root / "gone.txt")
    with fails_with("cannot read the demo key file: [Errno 2] No such file or directory"):
        open_hidden(absent, cache_dir=tmp_cache(data_cache), env={})


def tmp_cache(data_cache: Path) -> Path:
    return data_cache.with_name(data_cache.name + "-other")


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


def test_no_key_env_declared(tmp_path, packed, data_cache, keys):
    challenge, sha, _ = packed
    bare = make_challenge(challenge.root, source="hidden.tar.age", sha256=sha)
    with fails_with("data.hidden.key_env is not set"):
        open_hidden(bare, cache_dir=data_cache, env={"KEY": keys[0]})


def test_sha_mismatch_is_caught_before_decrypting(packed, keys, data_cache):
    challenge, sha, _ = packed
    wrong = "ab" * 32
    stale = make_challenge(challenge.root, source="hidden.tar.age", sha256=wrong, key_env="KEY")
    with pytest.raises(DataError) as err:
        open_hidden(stale, cache_dir=data_cache, env={})  # no key: proves nothing was decrypted
    assert err.value.message == (
        f"sha256 mismatch: challenge.yaml says {wrong} but the file has {sha}; if the data was "
        "re-packed on purpose, put the new sha256 in data.hidden.sha256, otherwise restore the file"
    )
    assert err.value.path == str(challenge.root / "hidden.tar.age")


def test_missing_sha_tells_the_hash(packed, keys, data_cache):
    challenge, sha, _ = packed
    unpinned = make_challenge(challenge.root, source="hidden.tar.age", key_env="KEY")
    with fails_with(f"this file's sha256 is {sha}: add it"):
        open_hidden(unpinned, cache_dir=data_cache, env={"KEY": keys[0]})


def test_unencrypted_file_is_refused(tmp_path, keys, data_cache):
    root = tmp_path / "c"
    root.mkdir()
    (root / "hidden.tar").write_bytes(tar_bytes(good_members()))
    challenge = make_challenge(
        root, source="hidden.tar", sha256=sha256_of(root / "hidden.tar"), key_env="KEY"
    )
    with fails_with("hidden data in a file must be age-encrypted"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})


def test_missing_source(tmp_path, data_cache):
    challenge = make_challenge(tmp_path / "c", source="nope.tar.age", sha256="00" * 32)
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={})
    assert err.value.path == str(tmp_path / "c" / "challenge.yaml")
    assert err.value.message.startswith("hidden data 'nope.tar.age' not found (looked at ")


# ---------------------------------------------------------------- the cache


def test_cache_is_reused_without_decrypting(packed, keys, data_cache):
    challenge, _, _ = packed
    first = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    before = first.truth.stat().st_mtime_ns, first.truth.stat().st_ino
    lines = []
    # No key at all: only a cache hit can succeed.
    second = open_hidden(challenge, cache_dir=data_cache, env={}, progress=lines.append)
    assert second == first
    assert (second.truth.stat().st_mtime_ns, second.truth.stat().st_ino) == before
    assert lines == ["using cached hidden data"]


def test_cache_still_checks_the_archive_hash(packed, keys, data_cache):
    challenge, _, _ = packed
    open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    (challenge.root / "hidden.tar.age").write_bytes(b"replaced")
    with fails_with("sha256 mismatch"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})


def test_failed_unpack_then_success_leaves_a_clean_cache(tmp_path, keys, data_cache):
    extra = [info(f"inputs/{i}.csv", data=b"x") for i in range(5)]
    challenge = archive_challenge(tmp_path, keys, tar_bytes(good_members(extra)))
    with fails_with("past the limit of 3 files"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]}, max_files=3)
    assert list(data_cache.iterdir()) == []
    data = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
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


def test_a_killed_unpack_never_leaves_a_half_entry(packed, keys, data_cache):
    challenge, sha, source = packed
    env = {**os.environ, "KEY": keys[0]}
    args = [sys.executable, "-c", CRASH_SCRIPT, str(challenge.root), sha, str(data_cache)]
    crashed = subprocess.run(args, env=env, capture_output=True, timeout=60, check=False)
    assert crashed.returncode == -9, crashed.stderr.decode()
    leftovers = [p.name for p in data_cache.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".partial-")  # never <sha>/
    assert (data_cache / leftovers[0] / "tree" / "inputs").is_dir()
    data = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert tree_sha256(data.inputs) == tree_sha256(source / "inputs")
    assert [p.name for p in data_cache.iterdir()] == [sha]  # the dead process's partial is gone


def test_a_broken_entry_is_rebuilt(packed, keys, data_cache):
    challenge, sha, source = packed
    (data_cache / sha / "inputs").mkdir(parents=True)  # e.g. a hand-made or damaged entry
    data = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert data.truth.read_text() == (source / "truth.csv").read_text()


# ---------------------------------------------------------------- directories


def test_directory_sources(tmp_path, data_cache):
    source = make_tree(tmp_path / "c" / "hidden")
    tree = tree_sha256(source)
    for spec in ("hidden", str(source), f"file://{source}", f"file://localhost{source}"):
        challenge = make_challenge(tmp_path / "c", source=spec)
        data = open_hidden(challenge, cache_dir=data_cache, env={})
        assert data.inputs == source / "inputs" and data.truth == source / "truth.csv"
        assert data.sha256 == tree
        assert data.prepared == data_cache / "directories" / tree / "prepared"
    assert not list(data_cache.rglob("*.csv"))  # directories are used in place, not copied
    pinned = make_challenge(tmp_path / "c", source="hidden", sha256=tree.upper())
    assert open_hidden(pinned, cache_dir=data_cache, env={}).sha256 == tree
    with fails_with("is not a local file URL"):
        open_hidden(make_challenge(tmp_path / "c", source="file://host/x"), env={})


def test_a_directory_without_a_usable_cache_is_still_used(tmp_path):
    source = make_tree(tmp_path / "c" / "hidden")
    (tmp_path / "file").write_text("not a folder")
    challenge = make_challenge(tmp_path / "c", source="hidden")
    data = open_hidden(challenge, cache_dir=tmp_path / "file" / "cache", env={})
    assert (data.truth, data.sha256, data.prepared) == (
        source / "truth.csv",
        tree_sha256(source),
        None,
    )


def test_directory_with_wrong_sha(tmp_path, data_cache):
    source = make_tree(tmp_path / "c" / "hidden")
    challenge = make_challenge(tmp_path / "c", source="hidden", sha256="00" * 32)
    with fails_with(f"says {'00' * 32} but the folder has {tree_sha256(source)}"):
        open_hidden(challenge, cache_dir=data_cache, env={})


def test_data_dir_override(tmp_path, keys, data_cache):
    challenge = make_challenge(tmp_path / "c", source="https://example.org/x.age", key_env="K")
    source = make_tree(tmp_path / "mine")
    data = open_hidden(challenge, data_dir=source, cache_dir=data_cache, env={})
    assert (data.inputs, data.truth) == (source / "inputs", source / "truth.csv")
    (source / "truth.csv").unlink()
    with pytest.raises(DataError) as err:
        open_hidden(challenge, data_dir=source, cache_dir=data_cache, env={})
    assert err.value.path == str(source)
    assert err.value.message == f"truth.csv (a file) or reference/ (a folder) is missing; {LAYOUT}"


# ---------------------------------------------------------------- the container's view


@pytest.mark.docker
def test_unprivileged_container_reads_unpacked_inputs(
    packed, keys, data_cache, docker_client, busybox_image
):
    """The cache root is 0700, yet user 65534 reads /input: the modes set on unpack suffice."""
    challenge, _, _ = packed
    data = open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    output = docker_client.containers.run(
        busybox_image,
        ["sh", "-c", "cat /input/test.csv; ls /input/images; id -u"],
        user="65534:65534",
        network_mode="none",
        volumes={str(data.inputs): {"bind": "/input", "mode": "ro"}},
        labels={"challenge-runner.test": "test_data_hidden"},
        remove=True,
    )
    assert output.decode() == "id,x\n1,0.5\n2,0.7\na.bin\n65534\n"
