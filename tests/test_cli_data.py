"""``challenge-runner data keygen`` and ``data pack`` through the real CLI entry point."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

import pytest
import yaml
from hidden_data import make_challenge

from runner.cli import main
from runner.data import decrypt_text, encrypt_text, open_hidden


def make_tree(root: Path) -> Path:
    (root / "inputs").mkdir(parents=True)
    (root / "inputs" / "test.csv").write_text("id,x\n1,0.5\n")
    (root / "truth.csv").write_text("id,y,split\n1,1,public\n")
    return root


def test_data_is_listed_in_help(capsys):
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^  data +Make keys and encrypted hidden-data archives\.$", listed, re.M)
    assert main(["data", "--help"]) == 0
    out = capsys.readouterr().out
    assert "challenge-runner data keygen -o hidden-key.txt" in out
    assert "keygen  Make an age key pair for a challenge's hidden data." in out
    assert "pack    Encrypt a hidden-data folder into an archive." in out


def test_keygen_to_a_file(tmp_path, capsys):
    key = tmp_path / "key.txt"
    assert main(["data", "keygen", "-o", str(key)]) == 0
    out, err = capsys.readouterr()
    recipient = out.strip()
    assert recipient.startswith("age1") and out.count("\n") == 1
    assert err == f"identity written to {key} (mode 0600): keep it secret\n"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    lines = key.read_text().splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1] == f"# public key: {recipient}"
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    assert decrypt_text(encrypt_text("ok", recipient), key.read_text()) == "ok"


def test_keygen_never_overwrites_a_key(tmp_path, capsys):
    key = tmp_path / "key.txt"
    key.write_text("precious")
    assert main(["data", "keygen", "--output", str(key)]) == 1
    _, err = capsys.readouterr()
    assert err == (
        f"error: {key}: already exists; choose another file name, or delete it if it is not "
        "needed\n"
    )
    assert key.read_text() == "precious"


def test_keygen_to_stdout_warns(capsys):
    assert main(["data", "keygen"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and lines[1].startswith("# public key: age1")
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    assert err.startswith("warning: the AGE-SECRET-KEY line below is secret;")


def test_pack_prints_sha_and_a_snippet_that_works(tmp_path, capsys):
    key = tmp_path / "key.txt"
    main(["data", "keygen", "-o", str(key)])
    recipient = capsys.readouterr().out.strip()
    root = tmp_path / "challenges" / "demo"
    root.mkdir(parents=True)
    out_file = root / "hidden.tar.age"
    source = make_tree(tmp_path / "hidden")
    args = ["data", "pack", str(source), "--recipient", recipient, "-o", str(out_file)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    sha = hashlib.sha256(out_file.read_bytes()).hexdigest()
    assert out.splitlines()[0] == f"sha256: {sha}"
    snippet = yaml.safe_load(out.split("\n\n", 1)[1])["hidden"]
    assert snippet == {
        "source": "hidden.tar.age",
        "sha256": sha,
        "key_env": "CHALLENGE_KEY",
        "recipient": recipient,
    }
    progress = err.splitlines()
    assert len(progress) == 3
    assert progress[0] == f"packing 2 files (33 B) from {source}"
    assert re.fullmatch(r"compressed to \d+ B; encrypting to 1 recipient\(s\)", progress[1])
    assert progress[2] == f"wrote {out_file} ({out_file.stat().st_size} B)"
    challenge = make_challenge(root, **snippet)
    data = open_hidden(
        challenge, cache_dir=tmp_path / "cache", env={"CHALLENGE_KEY": key.read_text()}
    )
    assert data.truth.read_text() == "id,y,split\n1,1,public\n"


def test_pack_with_several_recipients_and_key_env(tmp_path, capsys):
    recipients = []
    for name in ("a", "b"):
        main(["data", "keygen", "-o", str(tmp_path / name)])
        recipients.append(capsys.readouterr().out.strip())
    source = make_tree(tmp_path / "hidden")
    args = ["data", "pack", str(source), "-r", recipients[0], "-r", recipients[1]]
    assert main([*args, "-o", str(tmp_path / "h.age"), "--key-env", "BC_KEY"]) == 0
    out = capsys.readouterr().out
    assert "  key_env: BC_KEY\n" in out
    sha = out.splitlines()[0].removeprefix("sha256: ")
    snippet = {"source": "h.age", "sha256": sha, "key_env": "BC_KEY"}
    challenge = make_challenge(tmp_path, **snippet)
    for name in ("a", "b"):
        env = {"BC_KEY": (tmp_path / name).read_text()}
        assert open_hidden(challenge, cache_dir=tmp_path / f"cache-{name}", env=env).sha256 == sha


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "age1bad"], "error: 'age1bad' is not an age recipient (invalid Bech32 encoding)"),
        ([], "Error: Missing option '-r' / '--recipient'."),
    ],
)
def test_pack_argument_errors(tmp_path, capsys, args, message):
    source = make_tree(tmp_path / "hidden")
    assert main(["data", "pack", str(source), *args, "-o", str(tmp_path / "h.age")]) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith(message)
    assert not (tmp_path / "h.age").exists()


def test_pack_refuses_a_bad_layout(tmp_path, capsys):
    main(["data", "keygen", "-o", str(tmp_path / "k")])
    recipient = capsys.readouterr().out.strip()
    source = make_tree(tmp_path / "hidden")
    (source / "truth.csv").rename(source / "labels.csv")
    args = ["data", "pack", str(source), "-r", recipient, "-o", str(tmp_path / "h.age")]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        f"error: {source}: truth.csv (a file) or reference/ (a folder) is missing; the hidden "
        "data must hold inputs/ (a folder) and truth.csv (a file) or reference/ (a folder, for "
        "a scoring program), and nothing else\n"
    )


def test_pack_into_a_missing_folder(tmp_path, capsys):
    main(["data", "keygen", "-o", str(tmp_path / "k")])
    recipient = capsys.readouterr().out.strip()
    source = make_tree(tmp_path / "hidden")
    target = tmp_path / "nope" / "h.age"
    assert main(["data", "pack", str(source), "-r", recipient, "-o", str(target)]) == 1
    assert capsys.readouterr().err.endswith(
        f"error: {target}: the output's folder does not exist; create it first\n"
    )


def test_pack_never_replaces_an_archive_without_force(tmp_path, capsys):
    main(["data", "keygen", "-o", str(tmp_path / "k")])
    recipient = capsys.readouterr().out.strip()
    source = make_tree(tmp_path / "hidden")
    target = tmp_path / "h.age"
    target.write_bytes(b"the archive challenge.yaml's sha256 names")
    args = ["data", "pack", str(source), "-r", recipient, "-o", str(target)]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        f"error: {target}: already exists; pass --force to replace it (its sha256 in "
        "challenge.yaml must then change too), or choose another file name\n"
    )
    assert target.read_bytes() == b"the archive challenge.yaml's sha256 names"
    assert main([*args, "--force"]) == 0
    assert target.read_bytes().startswith(b"age-encryption.org/v1")


def test_pack_and_open_a_reference_folder_for_a_scoring_program(tmp_path, capsys):
    main(["data", "keygen", "-o", str(tmp_path / "k")])
    recipient = capsys.readouterr().out.strip()
    source = tmp_path / "hidden"
    (source / "inputs").mkdir(parents=True)
    (source / "reference" / "dev").mkdir(parents=True)
    (source / "reference" / "dev" / "truth.json").write_text("{}")
    assert main(["data", "pack", str(source), "-r", recipient, "-o", str(tmp_path / "h.age")]) == 0
    sha = capsys.readouterr().out.splitlines()[0].removeprefix("sha256: ")
    challenge = make_challenge(tmp_path, source="h.age", sha256=sha, key_env="K")
    data = open_hidden(
        challenge, cache_dir=tmp_path / "cache", env={"K": (tmp_path / "k").read_text()}
    )
    reference = data.reference / "dev" / "truth.json"
    assert reference.read_text() == "{}"
    assert reference.stat().st_mode & 0o777 == 0o600  # the scorer's alone, like truth.csv
    assert (data.reference / "dev").stat().st_mode & 0o777 == 0o700
