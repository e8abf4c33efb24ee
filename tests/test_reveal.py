"""Private scores: sealed in every record until the reveal, then made clear by new records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from records_factory import FINAL, OPEN, challenge, result, scores, utc

from runner.cli import main
from runner.data import keygen
from runner.errors import ConfigError, RecordError
from runner.loader import load_challenge
from runner.models import HiddenDataSpec, Phase
from runner.records import current_results, load_results, result_path, write_result
from runner.reveal import open_private, reveal, reveal_time, seal_private, seal_result

IDENTITY, RECIPIENT = keygen()
OTHER_IDENTITY, _ = keygen()
# Distinctive private values: if any of these digits appear in a file, a score leaked.
SECRET = {"roc_auc": 0.8137294615, "log_loss": 0.4471928366, "accuracy": 0.7719305182}
PUBLIC = {"roc_auc": 0.9012345678, "log_loss": 0.3012345678, "accuracy": 0.8512345678}


def bc(**overrides):
    hidden = HiddenDataSpec(source="hidden/", key_env="BC_KEY", recipient=RECIPIENT)
    return challenge(hidden=hidden, **overrides)


def evaluated(created: str, **overrides):
    """A record as the pipeline builds it: clear private scores, before sealing."""
    return result(
        created_at=utc(created),
        scores={"public": scores(**PUBLIC), "private": scores(**SECRET)},
        **overrides,
    )


def leaked(folder: Path) -> list[str]:
    texts = [p.read_text() for p in folder.rglob("*.json")]
    return [str(v) for v in SECRET.values() if any(str(v)[2:] in t for t in texts)]


def test_seal_and_open_round_trip():
    blob = seal_private(scores(**SECRET), RECIPIENT)
    assert blob.startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    assert "8137294615" not in blob
    assert open_private(blob, IDENTITY) == scores(**SECRET)


def test_open_with_the_wrong_identity_names_the_record():
    blob = seal_private(scores(**SECRET), RECIPIENT)
    with pytest.raises(RecordError) as caught:
        open_private(blob, OTHER_IDENTITY, path="results/bc/alice/gbm/x.json")
    assert caught.value.path == "results/bc/alice/gbm/x.json"
    assert caught.value.message.startswith("cannot decrypt the encrypted text")
    assert caught.value.message.endswith("must match the challenge's data.hidden.recipient")


def test_reveal_time_waits_for_every_private_phase_still_to_come():
    ch = bc()
    # An open-phase record shares the private split with the final phase: sealed until then.
    assert reveal_time(ch, evaluated("2026-12-05T12:00")) == FINAL.end
    assert reveal_time(ch, evaluated("2027-03-02T12:00")) == FINAL.end
    later = replace(FINAL, reveal=utc("2027-03-15T00:00"))
    assert reveal_time(bc(phases=(OPEN, later)), evaluated("2026-12-05T12:00")) == later.reveal
    # Public phases only: each phase reveals at its own end.
    assert reveal_time(bc(phases=(OPEN,)), evaluated("2026-12-05T12:00")) == OPEN.end


def test_reveal_time_when_the_phase_list_changed():
    moved = Phase("round1", utc("2027-01-01T00:00"), utc("2027-02-01T00:00"))
    ch = bc(phases=(moved,))
    # Its phase id is gone and its time is in no window: the challenge's latest reveal.
    orphan = evaluated("2026-12-05T12:00", phase="open")
    assert reveal_time(ch, orphan) == moved.end
    # The window holding created_at decides, whatever phase id the record names.
    renamed = evaluated("2027-01-10T00:00", phase="open")
    assert reveal_time(ch, renamed) == moved.end
    assert reveal_time(bc(phases=()), orphan).year == 9999  # no phases: never


def test_seal_result_seals_before_and_keeps_clear_after_the_reveal():
    ch, record = bc(), evaluated("2026-12-05T12:00")
    sealed = seal_result(ch, record, now=utc("2026-12-05T12:00"))
    assert set(sealed.scores) == {"public"}
    assert sealed.scores["public"] == record.scores["public"]
    assert open_private(sealed.private, IDENTITY) == scores(**SECRET)
    late = evaluated("2027-04-01T00:00", phase=None)
    assert seal_result(ch, late, now=utc("2027-04-01T00:00")) == late
    public_only = result()
    assert seal_result(ch, public_only, now=utc("2026-12-05T12:00")) is public_only


def test_seal_result_without_a_recipient_says_how_to_fix_it():
    ch = challenge(hidden=HiddenDataSpec(source="hidden/"))
    with pytest.raises(ConfigError) as caught:
        seal_result(ch, evaluated("2026-12-05T12:00"), now=utc("2026-12-05T12:00"))
    assert str(caught.value) == (
        "challenge bc has private-split scores to seal but no data.hidden.recipient: add the "
        "age1... public key of the challenge's key (printed by `challenge-runner data keygen`)"
    )


def _write_sealed(ch, folder: Path) -> list[Path]:
    records = [
        evaluated("2026-12-05T12:00", participant="alice"),
        evaluated("2027-01-05T12:00", participant="bob", submission="rf"),
        evaluated("2027-03-02T08:00", participant="alice", phase="final", submission="v2"),
    ]
    return [write_result(folder, seal_result(ch, r, now=r.created_at)) for r in records]


def test_private_scores_never_appear_in_clear_before_the_reveal(tmp_path):
    ch = bc()
    paths = _write_sealed(ch, tmp_path)
    texts = [p.read_text() for p in paths]
    assert all("9012345678" in t for t in texts)  # the public scores are there in clear...
    assert leaked(tmp_path) == []  # ...the private ones are not, anywhere
    with pytest.raises(RecordError) as caught:
        reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-07T23:59"))
    assert str(caught.value) == (
        "the private scores of bc stay sealed until 2027-03-08 00:00 UTC (3 records); "
        "run reveal again after that"
    )
    assert leaked(tmp_path) == []
    assert sorted(tmp_path.rglob("*.json")) == sorted(paths)


def test_reveal_writes_clear_records_that_supersede_the_sealed_ones(tmp_path):
    ch = bc()
    paths = _write_sealed(ch, tmp_path)
    before = {p: p.read_bytes() for p in paths}
    outcome = reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-08T00:00"))
    written = outcome.written
    assert outcome.problems == ()
    assert len(written) == 3 and not set(written) & set(paths)
    assert {p: p.read_bytes() for p in paths} == before  # originals untouched
    assert leaked(tmp_path) == list(map(str, SECRET.values()))
    loaded = load_results(tmp_path, "bc")
    originals = {r.evaluation_id: r for r in loaded.results if r.supersedes is None}
    current = current_results(loaded.results)
    assert len(current) == 3
    for clear in current:
        original = originals[clear.supersedes]
        assert clear.private is None
        assert clear.scores == {"public": scores(**PUBLIC), "private": scores(**SECRET)}
        assert clear.created_at == original.created_at
        assert clear.cache_key == original.cache_key
        assert clear.evaluation_id.startswith("20270308T000000Z-")
    again = reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-09T00:00"))
    assert (again.written, again.problems) == ((), ())  # idempotent


def test_reveal_with_the_wrong_key_writes_nothing_and_reports_every_record(tmp_path):
    ch = bc()
    paths = _write_sealed(ch, tmp_path)
    outcome = reveal(ch, tmp_path, OTHER_IDENTITY, now=utc("2027-03-08T00:00"))
    assert outcome.written == ()
    assert sorted(p.path for p in outcome.problems) == sorted(map(str, paths))
    assert all(p.message.startswith("cannot decrypt") for p in outcome.problems)
    assert sorted(tmp_path.rglob("*.json")) == sorted(paths)


def _reseal_to_another_key(path: Path) -> None:
    """Make a sealed record one the challenge's key cannot open (still a valid record)."""
    data = json.loads(path.read_text())
    data["private"] = seal_private(scores(**SECRET), keygen()[1])
    path.write_text(json.dumps(data, indent=2))


def test_one_undecryptable_record_does_not_keep_the_others_sealed(tmp_path):
    ch = bc()
    paths = _write_sealed(ch, tmp_path)
    _reseal_to_another_key(paths[0])  # the first record reveal meets (alice's, the earliest)
    outcome = reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-08T00:00"))
    (problem,) = outcome.problems
    assert problem.path == str(paths[0])
    assert problem.message.startswith("cannot decrypt the encrypted text")
    assert len(outcome.written) == 2
    current = current_results(load_results(tmp_path, "bc").results)
    still = [r for r in current if r.private is not None]
    assert [str(result_path(tmp_path, r)) for r in still] == [str(paths[0])]
    revealed = sorted((r.participant, r.submission) for r in current if r.private is None)
    assert revealed == [("alice", "v2"), ("bob", "rf")]
    # a second run writes nothing twice and still reports the record it cannot open
    again = reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-09T00:00"))
    assert (again.written, len(again.problems)) == ((), 1)


# ---------------------------------------------------------------- CLI


CHALLENGE_YAML = """\
id: bc
title: Breast cancer
summary: Predict malignancy.
maintainers: [octocat]
data:
  hidden: {{source: hidden/, key_env: BC_KEY, recipient: {recipient}{demo}}}
predictions: {{id_column: id, columns: {{malignant: probability}}}}
metrics:
  - {{name: roc_auc, column: malignant}}
  - {{name: log_loss, column: malignant}}
  - {{name: accuracy, column: malignant}}
phases:
  - {{id: open, start: {year}-12-01T00:00:00Z, end: {next}-03-01T00:00:00Z, leaderboard: public}}
  - {{id: final, start: {next}-03-01T00:00:00Z, end: {next}-03-08T00:00:00Z, leaderboard: private}}
"""


def make_repo(root: Path, year: int, *, demo_key: bool = False) -> Path:
    """A repository whose challenge bc runs from December of ``year`` (the CLI uses the real
    clock: 2020 is long revealed, 2998 far from it)."""
    folder = root / "challenges" / "bc"
    (folder / "hidden" / "inputs").mkdir(parents=True)
    (folder / "hidden" / "truth.csv").write_text("id,malignant,split\n1,1,public\n")
    demo = ", demo_key_file: demo-key.txt" if demo_key else ""
    text = CHALLENGE_YAML.format(recipient=RECIPIENT, year=year, next=year + 1, demo=demo)
    (folder / "challenge.yaml").write_text(text)
    if demo_key:
        (folder / "demo-key.txt").write_text(
            f"# DEMO ONLY\n# public key: {RECIPIENT}\n{IDENTITY}\n"
        )
    return root


def _sealed_in(root: Path, year: int) -> None:
    ch = load_challenge(root / "challenges" / "bc")
    for i, who in enumerate(("alice", "bob")):
        record = evaluated(f"{year}-12-0{i + 2}T10:00", participant=who)
        write_result(root / "results", seal_result(ch, record, now=record.created_at))


def test_cli_reveal_reads_the_key_from_the_challenges_env_var(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path, 2020)
    _sealed_in(root, 2020)
    assert leaked(root / "results") == []
    monkeypatch.setenv("BC_KEY", IDENTITY)
    assert main(["reveal", "bc", "--root", str(root)]) == 0
    out, err = capsys.readouterr()
    assert err == "revealed 2 records\n"
    assert [Path(line).parent.parent.name for line in out.splitlines()] == ["alice", "bob"]
    assert leaked(root / "results") == list(map(str, SECRET.values()))


def test_cli_reveal_refuses_before_the_reveal_time(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path, 2998)
    _sealed_in(root, 2998)
    monkeypatch.setenv("BC_KEY", IDENTITY)
    assert main(["reveal", "bc", "--root", str(root)]) == 1
    assert capsys.readouterr().err == (
        "error: the private scores of bc stay sealed until 2999-03-08 00:00 UTC (2 records); "
        "run reveal again after that\n"
    )
    assert leaked(root / "results") == []


def test_cli_reveal_without_the_key_says_which_variable(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path, 2020)
    monkeypatch.delenv("OTHER_KEY", raising=False)
    assert main(["reveal", "bc", "--root", str(root), "--key-env", "OTHER_KEY"]) == 1
    assert capsys.readouterr().err == (
        "error: environment variable OTHER_KEY is not set: export it with the challenge's age "
        'identity (e.g. export OTHER_KEY="$(cat hidden-key.txt)")\n'
    )


def test_cli_reveal_reports_each_record_it_cannot_open_and_reveals_the_rest(
    tmp_path, capsys, monkeypatch
):
    root = make_repo(tmp_path, 2020)
    _sealed_in(root, 2020)
    alice, bob = sorted((root / "results").rglob("*.json"))
    _reseal_to_another_key(alice)
    monkeypatch.setenv("BC_KEY", IDENTITY)
    assert main(["reveal", "bc", "--root", str(root)]) == 1
    out, err = capsys.readouterr()
    (written,) = out.splitlines()
    assert Path(written).parent.parent.name == "bob"  # bob's record is revealed all the same
    assert err.splitlines() == [
        f"error: {alice}: cannot decrypt the encrypted text: it was encrypted to "
        "other recipients (wrong key); use the key it was packed for; the identity must "
        "match the challenge's data.hidden.recipient",
        "revealed 1 records",
        "1 records could not be revealed and stay sealed: fix the errors above and run "
        "reveal again",
    ]
    assert bob.exists() and len(list((root / "results").rglob("*.json"))) == 3


def test_cli_reveal_falls_back_to_the_demo_key_when_the_variable_is_unset(
    tmp_path, capsys, monkeypatch
):
    root = make_repo(tmp_path, 2020, demo_key=True)
    _sealed_in(root, 2020)
    monkeypatch.delenv("BC_KEY", raising=False)
    assert main(["reveal", "bc", "--root", str(root)]) == 0
    out, err = capsys.readouterr()
    assert err == (
        "using the DEMO key demo-key.txt: it is public, so these private scores are not "
        "secret\nrevealed 2 records\n"
    )
    assert len(out.splitlines()) == 2
    assert leaked(root / "results") == list(map(str, SECRET.values()))
    # a variable named on the command line must be set: no silent fallback for it
    monkeypatch.delenv("OTHER_KEY", raising=False)
    assert main(["reveal", "bc", "--root", str(root), "--key-env", "OTHER_KEY"]) == 1
    assert capsys.readouterr().err.startswith("error: environment variable OTHER_KEY is not set")


def test_cli_reveal_prefers_the_variable_to_the_demo_key(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path, 2020, demo_key=True)
    _sealed_in(root, 2020)
    monkeypatch.setenv("BC_KEY", OTHER_IDENTITY)  # set, but wrong: the demo key is not tried
    assert main(["reveal", "bc", "--root", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "DEMO" not in err
    assert err.count("error: ") == 2
    assert err.endswith(
        "revealed 0 records\n2 records could not be revealed and stay sealed: fix the errors "
        "above and run reveal again\n"
    )


def test_under_the_ladder_exact_public_scores_are_sealed_and_revealed_with_the_private(
    tmp_path,
):
    """A second, not-released submission stores no public score; the reveal restores it."""
    from runner.models import LadderStats, LeaderboardSpec

    ch = bc(leaderboard=LeaderboardSpec(ladder=True))
    first = evaluated("2026-12-05T10:00", submission="a", ladder=LadderStats(0.3, 0.4, 400))
    worse = {**PUBLIC, "roc_auc": 0.9012}  # within the step: not released
    second = evaluated("2026-12-05T11:00", submission="b", ladder=LadderStats(0.31, 0.4, 400))
    second = replace(second, scores={**second.scores, "public": scores(**worse)})
    now = utc("2026-12-05T12:00")
    stored_first = seal_result(ch, first, now)
    stored_second = seal_result(ch, second, now, [stored_first])
    assert list(stored_first.scores["public"]) == ["roc_auc"]
    assert stored_second.scores == {"public": {}} and stored_second.ladder is None
    for record in (stored_first, stored_second):
        write_result(tmp_path, record)
    assert "0.3012345678" not in "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    reveal(ch, tmp_path, IDENTITY, now=utc("2027-03-08T00:00"))
    clear = {r.submission: r for r in current_results(load_results(tmp_path, "bc").results)}
    assert clear["b"].scores == {"public": scores(**worse), "private": scores(**SECRET)}
    assert clear["b"].ladder == LadderStats(0.31, 0.4, 400)
    assert open_private(stored_second.private, IDENTITY) == scores(**SECRET)
