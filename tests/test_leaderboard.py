"""Leaderboards: who ranks, in which order, with which scores; exports and the CLI."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from records_factory import FINAL, OPEN, challenge, result, scores, utc
from test_reveal import make_repo

from runner.cli import main
from runner.leaderboard import board_to_csv, board_to_json, board_to_table, build_board
from runner.models import (
    LadderStats,
    LeaderboardSpec,
    MetricSpec,
    Phase,
    PredictionColumn,
    PredictionsSpec,
    Score,
)
from runner.records import write_result

CH = challenge()
T = utc("2026-12-05T12:00")


def rec(who: str, auc: float, loss: float = 0.3, acc: float = 0.8, hour: int = 0, **kw):
    return result(
        participant=who,
        submission=kw.pop("submission", f"s{hour}"),
        created_at=T + timedelta(hours=hour),
        scores=kw.pop("scores", {"public": scores(roc_auc=auc, log_loss=loss, accuracy=acc)}),
        **kw,
    )


def ranking(board) -> list[tuple]:
    return [(e.rank, e.entrant, e.submission) for e in board.entries]


def test_primary_metric_then_next_metrics_then_earlier_submission():
    records = [
        rec("carol", 0.95, loss=0.30, hour=1),
        rec("bob", 0.95, loss=0.20, acc=0.8, hour=3),
        rec("dave", 0.95, loss=0.20, acc=0.8, hour=2),  # same as bob, but earlier
        rec("erin", 0.95, loss=0.20, acc=0.9, hour=4),  # better accuracy breaks the tie
        rec("alice", 0.97, loss=0.90, hour=5),  # best primary wins whatever follows
        rec("frank", 0.60, hour=0),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [
        (1, "alice", "s5"),
        (2, "erin", "s4"),
        (3, "dave", "s2"),
        (4, "bob", "s3"),
        (5, "carol", "s1"),
        (6, "frank", "s0"),
    ]
    assert board.revealed and board.split == "public" and not board.ladder


def test_lower_is_better_primary_metric():
    ch = challenge(
        predictions=PredictionsSpec("id", (PredictionColumn("progression", "number"),)),
        metrics=(MetricSpec("rmse", "progression"), MetricSpec("r2", "progression")),
    )
    records = [
        result(participant=who, created_at=T, scores={"public": scores(rmse=v, r2=0.5)})
        for who, v in (("alice", 55.0), ("bob", 48.5), ("carol", 61.2))
    ]
    assert [e.entrant for e in build_board(ch, records, OPEN).entries] == ["bob", "alice", "carol"]


def test_best_submission_per_participant_and_evaluation_counts():
    records = [
        rec("alice", 0.90, hour=0),
        rec("alice", 0.94, hour=1),
        rec("alice", 0.92, hour=2),
        rec("alice", 0.99, hour=3, status="invalid", scores={}),
        rec("alice", 0.99, hour=4, status="error", scores={}),
        rec("bob", 0.93, hour=5),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [(1, "alice", "s1"), (2, "bob", "s5")]
    assert [e.evaluations for e in board.entries] == [4, 1]  # the error is not counted
    assert board.entries[0].scores == records[1].scores["public"]
    assert board.entries[0].result is records[1]


def test_late_error_and_unscored_results_never_rank():
    records = [
        rec("alice", 0.90),
        result(
            participant="late",
            created_at=OPEN.end,
            phase=None,
            scores={"public": scores(roc_auc=0.99)},
        ),
        result(
            participant="early",
            created_at=OPEN.start - timedelta(seconds=1),
            scores={"public": scores(roc_auc=0.99)},
        ),
        rec("broken", 0.99, status="error"),  # even with scores, an error never ranks
        rec("oom", 0.99, status="oom"),
        rec("other", 0.99, challenge="diabetes"),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [(1, "alice", "s0")]


def test_baselines_show_without_a_rank():
    records = [
        rec("alice", 0.90),
        rec("octocat", 0.95, submission="logreg", baseline=True),
        rec("octocat", 0.50, submission="constant", baseline=True),
        rec("bob", 0.80),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [
        (None, "octocat", "logreg"),
        (1, "alice", "s0"),
        (2, "bob", "s0"),
        (None, "octocat", "constant"),
    ]
    assert [e.baseline for e in board.entries] == [True, False, False, True]


def test_best_of_team_merges_members():
    records = [
        rec("alice", 0.90, team="red", hour=0),
        rec("bob", 0.93, team="red", hour=1),
        rec("bob", 0.91, hour=2),  # bob on his own
        rec("carol", 0.92, hour=3),
    ]
    teams = build_board(challenge(leaderboard=LeaderboardSpec(best_of="team")), records, OPEN)
    assert [(e.rank, e.entrant, e.participant, e.evaluations) for e in teams.entries] == [
        (1, "red", "bob", 2),
        (2, "carol", "carol", 1),
        (3, "bob", "bob", 1),
    ]
    people = build_board(CH, records, OPEN)
    assert [(e.entrant, e.submission) for e in people.entries] == [
        ("bob", "s1"),
        ("carol", "s3"),
        ("alice", "s0"),
    ]


def _private(who: str, public: float, private: float, hour: int):
    return result(
        participant=who,
        submission=f"s{hour}",
        phase="final",
        created_at=FINAL.start + timedelta(hours=hour),
        scores={"public": scores(roc_auc=public), "private": scores(roc_auc=private)},
    )


def test_private_board_is_empty_before_the_reveal_and_ranks_selected_after():
    records = [
        _private("alice", 0.99, 0.96, 0),  # her best, but not among her latest 2
        _private("alice", 0.90, 0.91, 1),
        _private("alice", 0.91, 0.90, 2),
        _private("bob", 0.80, 0.93, 3),
    ]
    before = build_board(CH, records, FINAL, now=FINAL.end - timedelta(seconds=1))
    assert before.entries == () and before.revealed is False and before.split == "private"
    after = build_board(CH, records, FINAL, now=FINAL.end)
    assert after.revealed
    assert [
        (e.rank, e.entrant, e.submission, e.scores["roc_auc"].value) for e in after.entries
    ] == [
        (1, "bob", "s3", 0.93),
        (2, "alice", "s1", 0.91),
    ]
    assert after.entries[1].evaluations == 3
    public = build_board(CH, records, FINAL, split="public")
    # The selection belongs to the phase: the public view of it ranks the same picks.
    assert [e.submission for e in public.entries] == ["s2", "s3"]


def test_private_board_counts_records_still_sealed():
    sealed = replace(_private("carol", 0.9, 0.9, 4), private="-----BEGIN AGE ENCRYPTED FILE-----")
    sealed = replace(sealed, scores={"public": sealed.scores["public"]})
    board = build_board(CH, [_private("bob", 0.8, 0.93, 3), sealed], FINAL, now=FINAL.end)
    assert [e.entrant for e in board.entries] == ["bob"] and board.sealed == 1


def test_records_follow_the_time_windows_when_the_phase_list_changes():
    # The records were written in phase "open"; the maintainers split it into two rounds.
    round1 = Phase("round1", OPEN.start, utc("2027-01-01T00:00"))
    round2 = Phase("round2", utc("2027-01-01T00:00"), OPEN.end)
    ch = challenge(phases=(round1, round2))
    records = [
        rec("alice", 0.90, hour=0),  # 2026-12-05: round1
        result(
            participant="bob",
            created_at=utc("2027-01-02T00:00"),
            scores={"public": scores(roc_auc=0.95)},
        ),
        result(
            participant="zed",
            created_at=utc("2027-04-01T00:00"),
            scores={"public": scores(roc_auc=0.99)},
        ),
    ]
    assert all(r.phase == "open" for r in records)
    assert ranking(build_board(ch, records, round1)) == [(1, "alice", "s0")]
    assert [e.entrant for e in build_board(ch, records, round2).entries] == ["bob"]


def test_a_record_without_the_current_primary_metric_is_not_ranked():
    ch = challenge(metrics=(MetricSpec("average_precision", "malignant"), *CH.metrics))
    records = [
        rec("alice", 0.9),  # scored before average_precision was added
        result(
            participant="bob",
            created_at=T,
            scores={"public": scores(average_precision=0.7, roc_auc=0.8)},
        ),
    ]
    board = build_board(ch, records, OPEN)
    assert [e.entrant for e in board.entries] == ["bob"]
    assert board.entries[0].scores.get("log_loss") is None


def test_ladder_board_shows_released_scores():
    ch = challenge(leaderboard=LeaderboardSpec(ladder=True))

    def lrec(who, loss, hour, sd=0.4):
        return result(
            participant=who,
            submission=f"s{hour}",
            created_at=T + timedelta(hours=hour),
            scores={"public": scores(roc_auc=0.9, log_loss=loss, accuracy=0.8)},
            ladder=LadderStats(loss, sd, 400),
        )

    # log_loss is not primary here: the Ladder works on the primary metric's stats, so use
    # a challenge whose primary metric is log_loss.
    ch = replace(ch, metrics=(CH.metrics[1], CH.metrics[0]))
    records = [lrec("alice", 0.50, 0), lrec("alice", 0.49, 1), lrec("bob", 0.495, 2)]
    board = build_board(ch, records, OPEN)
    assert board.ladder
    assert [(e.entrant, e.submission, e.scores["log_loss"].value) for e in board.entries] == [
        ("bob", "s2", 0.495),
        ("alice", "s0", 0.50),  # her 0.49 is within the noise (0.02) of 0.50: not released
    ]
    plain = build_board(replace(ch, leaderboard=LeaderboardSpec()), records, OPEN)
    assert [(e.entrant, e.submission) for e in plain.entries] == [("alice", "s1"), ("bob", "s2")]


# ---------------------------------------------------------------- exports


def _small_board():
    records = [
        rec("alice", 0.95, loss=0.2, acc=0.9, hour=1),
        rec("octocat", 0.5, submission="constant", baseline=True),
        rec("bob", 0.9, hour=2, team="red"),
    ]
    return build_board(CH, records, OPEN), records


def test_board_to_json():
    board, records = _small_board()
    data = json.loads(board_to_json(board))
    assert data["challenge"] == "bc" and data["phase"] == "open" and data["split"] == "public"
    assert (data["revealed"], data["ladder"], data["sealed"]) == (True, False, 0)
    assert data["metrics"] == [
        {"name": "roc_auc", "column": "malignant", "higher_is_better": True, "precision": 4},
        {"name": "log_loss", "column": "malignant", "higher_is_better": False, "precision": 4},
        {"name": "accuracy", "column": "malignant", "higher_is_better": True, "precision": 4},
    ]
    first = data["entries"][0]
    assert first == {
        "rank": 1,
        "entrant": "alice",
        "participant": "alice",
        "team": None,
        "submission": "s1",
        "evaluation_id": records[0].evaluation_id,
        "created_at": "2026-12-05T13:00:00Z",
        "evaluations": 1,
        "baseline": False,
        "scores": {
            "roc_auc": {"value": 0.95, "ci_low": 0.95 - 0.02, "ci_high": 0.95 + 0.02},
            "log_loss": {"value": 0.2, "ci_low": 0.2 - 0.02, "ci_high": 0.2 + 0.02},
            "accuracy": {"value": 0.9, "ci_low": 0.9 - 0.02, "ci_high": 0.9 + 0.02},
        },
    }
    assert [(e["rank"], e["entrant"], e["team"]) for e in data["entries"]] == [
        (1, "alice", None),
        (2, "bob", "red"),
        (None, "octocat", None),
    ]


def test_board_to_csv():
    board, _ = _small_board()
    rows = list(csv.DictReader(io.StringIO(board_to_csv(board))))
    assert list(rows[0])[:10] == [
        "rank", "entrant", "participant", "team", "submission", "evaluation_id",
        "created_at", "evaluations", "baseline", "roc_auc",
    ]  # fmt: skip
    assert [(r["rank"], r["entrant"], r["team"], r["baseline"]) for r in rows] == [
        ("1", "alice", "", "False"),
        ("2", "bob", "red", "False"),
        ("", "octocat", "", "True"),
    ]
    assert (rows[0]["roc_auc"], rows[0]["log_loss_ci_high"]) == ("0.95", str(0.2 + 0.02))


def test_csv_neutralises_formulas():
    board, _ = _small_board()
    evil = replace(board.entries[0], entrant='=HYPERLINK("http://x")', team="+cmd")
    text = board_to_csv(replace(board, entries=(evil,)))
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["entrant"] == '\'=HYPERLINK("http://x")' and row["team"] == "'+cmd"


def test_board_to_table():
    board, _ = _small_board()
    lines = board_to_table(board).splitlines()
    assert lines[0].split() == [
        "rank", "entrant", "submission", "roc_auc", "log_loss", "accuracy", "evals", "created_at"
    ]  # fmt: skip
    assert lines[1].startswith("1     alice    s1          0.9500 [0.9300, 0.9700]")
    assert lines[3].startswith("base  octocat  constant    0.5000 [0.4800, 0.5200]")


# ---------------------------------------------------------------- CLI


def _repo_with_results(tmp_path: Path) -> Path:
    root = make_repo(tmp_path, 2020)
    for who, auc in (("alice", 0.91), ("bob", 0.95)):
        write_result(
            root / "results",
            result(participant=who, created_at=utc("2020-12-05T10:00"),
                   scores={"public": scores(roc_auc=auc, log_loss=0.3, accuracy=0.8)}),
        )  # fmt: skip
    return root


def test_cli_leaderboard_formats_and_skips_bad_files(tmp_path, capsys):
    root = _repo_with_results(tmp_path)
    broken = root / "results" / "bc" / "carol" / "x" / "20201205T100000Z-00000000.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"schema_version": 1, "challenge": "bc"')
    assert (
        main(["leaderboard", "bc", "--root", str(root), "--phase", "open", "--format", "json"]) == 0
    )
    out, err = capsys.readouterr()
    assert [e["entrant"] for e in json.loads(out)["entries"]] == ["bob", "alice"]
    assert err.startswith(f"warning: skipped {broken}: not valid JSON (")
    assert (
        main(["leaderboard", "bc", "--root", str(root), "--phase", "open", "--format", "csv"]) == 0
    )
    assert capsys.readouterr().out.splitlines()[1].startswith("1,bob,bob,,")
    # Without --phase: the real clock is long past 2020, so the latest phase (final) shows,
    # a private board whose records have no clear private scores.
    assert main(["leaderboard", "bc", "--root", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "rank  entrant  submission  roc_auc  log_loss  accuracy  evals  created_at"
    ]
    assert err.endswith("(no scored submissions in this phase yet)\n")


def test_cli_leaderboard_unknown_phase(tmp_path, capsys):
    root = _repo_with_results(tmp_path)
    assert main(["leaderboard", "bc", "--root", str(root), "--phase", "nope"]) == 1
    assert capsys.readouterr().err == (
        "error: challenge bc has no phase 'nope'; its phases: open, final\n"
    )


def test_scores_of_a_board_entry_are_scores():
    board, _ = _small_board()
    assert all(isinstance(s, Score) for e in board.entries for s in e.scores.values())


def test_fixed_step_ladder_board_drops_the_interval_of_a_rounded_score():
    """The record's interval is centred on the exact score the Ladder withholds."""
    ch = challenge(leaderboard=LeaderboardSpec(ladder=True))  # roc_auc: no per-row loss
    start = utc("2026-12-05T12:00")
    records = [
        result(submission=f"s{i}", created_at=start + timedelta(hours=i),
               scores={"public": scores(roc_auc=v, log_loss=0.3, accuracy=0.8)})
        for i, v in enumerate([0.80, 0.815])
    ]  # fmt: skip
    (entry,) = build_board(ch, records, OPEN).entries
    shown = entry.scores["roc_auc"]
    assert shown.value != 0.815 and abs(shown.value - 0.815) < 0.006  # rounded to the step
    assert (shown.ci_low, shown.ci_high) == (None, None)
    exported = json.loads(board_to_json(build_board(ch, records, OPEN)))
    assert "0.815" not in json.dumps(exported) and "0.835" not in json.dumps(exported)


def test_case_variants_and_a_renamed_login_rank_as_one_entrant():
    """alice/ALICE, and alice renamed to alice2 (same user id), are one row, not three."""
    records = [
        rec("alice", 0.90, hour=1, user_id=1001),
        rec("ALICE", 0.95, hour=2),  # no id (a local record): the login ties it to 1001
        rec("alice2", 0.93, hour=3, user_id=1001),
        rec("bob", 0.91, hour=4, user_id=2002),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [(1, "ALICE", "s2"), (2, "bob", "s4")]
    assert board.entries[0].evaluations == 3


def test_selection_counts_a_case_variant_as_the_same_entrant():
    phase = replace(OPEN, selection=1)
    records = [rec("alice", 0.99, hour=1), rec("Alice", 0.80, hour=2)]
    assert ranking(build_board(CH, records, phase)) == [(1, "Alice", "s2")]


def test_a_submission_marked_baseline_later_is_listed_once_as_a_baseline():
    records = [
        rec("octocat", 0.96, hour=1, submission="logreg"),  # before `baseline: true`
        rec("octocat", 0.96, hour=2, submission="logreg", baseline=True),
        rec("bob", 0.90, hour=3),
    ]
    board = build_board(CH, records, OPEN)
    assert ranking(board) == [(None, "octocat", "logreg"), (1, "bob", "s3")]
    assert [e.baseline for e in board.entries] == [True, False]
