"""A history of one's own in the terminal, `selected: true`, and the CLI board like the site's.

Uses the site tests' repository (tests/site_repo.py): the same rows the participant pages show.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from site_repo import make_repo

from runner.cli import main
from runner.loader import load_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_submissions_lists_a_participants_evaluations_and_what_counts(repo: Path, capsys) -> None:
    assert main(["submissions", "--root", str(repo), "--participant", "CAROL"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "challenge  participant  submission  created_at        phase  status   score           "
        "counts",
        "cells      carol        xss         2027-03-03 10:07  final  scored   roc_auc 0.9600  "
        "rank 1 of 2 (final, public split)",
        "cells      carol        xss         2027-01-08 10:04  open   invalid  -               no",
        "cells      carol        xss         2027-01-07 10:03  open   scored   roc_auc 0.9500  "
        "rank 1 of 3 (open, public split)",
    ]


def test_submissions_of_a_team_as_json(repo: Path, capsys) -> None:
    assert main(["submissions", "--root", str(repo), "--team", "red-team", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["participant"], r["score"], r["counts"]) for r in rows] == [
        ("alice", 0.93, "rank 2 of 3 (open, public split)"),
        ("alice", 0.9, ""),
    ]


def test_submissions_of_an_unknown_challenge(repo: Path, capsys) -> None:
    assert main(["submissions", "--root", str(repo), "--challenge", "nope"]) == 1
    assert capsys.readouterr().err.startswith("error: no challenge 'nope' under ")


def test_leaderboard_of_a_private_phase_shows_the_provisional_public_ranking(
    repo: Path, capsys
) -> None:
    """Before the reveal the site shows the public split, marked provisional: so does the CLI."""
    assert main(["leaderboard", "cells", "--root", str(repo), "--phase", "final"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[:3] for line in out.splitlines()[1:]] == [
        ["1", "carol", "xss"],
        ["2", "bob", "forest"],
    ]
    assert err.startswith("(provisional: the public split; phase final ranks on the private")
    args = ["leaderboard", "cells", "--root", str(repo), "--phase", "final", "--split", "private"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == []
    assert err == "(private scores are revealed at 2027-03-08 00:00 UTC)\n"


def with_selection(repo: Path, k: int) -> None:
    config = repo / "challenges/cells/challenge.yaml"
    text = config.read_text().replace(
        "limits: {per_day: 2}}", "limits: {per_day: 2}, selection: K}"
    )
    text = text.replace("total: 50}}", "total: 50}, selection: K}")
    config.write_text(text.replace("selection: K", f"selection: {k}"))


def mark(repo: Path, folder: str, name: str) -> None:
    path = repo / "submissions/cells" / folder / f"{name}.yaml"
    path.write_text(path.read_text() + "selected: true\n")


def test_selected_needs_a_selection_phase(repo: Path) -> None:
    mark(repo, "bob", "forest")
    assert [p.message for p in load_repo(repo).problems] == [
        "challenge 'cells' has no phase with `selection:`, so every submission counts; "
        "remove selected"
    ]


def test_more_selected_than_the_phase_counts_is_refused(repo: Path) -> None:
    with_selection(repo, 1)
    for name in ("forest", "second"):
        path = repo / f"submissions/cells/bob/{name}.yaml"
        path.write_text(
            f"challenge: cells\nparticipant: bob\nname: {name}\npredictions: forest.csv\n"
            "selected: true\n"
        )
    problems = [str(p) for p in load_repo(repo).problems]
    assert problems == [
        f"submissions/cells/bob/{n}.yaml: $.selected: bob marks 2 submissions of cells selected "
        "(forest, second), but phase 'open' counts 1 (selection:); remove selected from the "
        "others"
        for n in ("forest", "second")
    ]


def test_a_selected_submission_counts_instead_of_the_latest(tmp_path: Path) -> None:
    from site_repo import Eval, result

    from runner.leaderboard import build_board, marked_selected
    from runner.models import Submission

    records = [
        result(Eval("dan", "early", 3, 0.97, 0.2), 0),  # the best, but not the latest
        result(Eval("dan", "late", 5, 0.80, 0.5), 1),
    ]
    ch = _challenge(tmp_path, selection=1)
    board = build_board(ch, records, ch.phases[0])
    assert [(e.entrant, e.submission) for e in board.entries] == [("dan", "late")]
    manifests = [
        Submission("cells", "dan", "early", tmp_path / "early.yaml", selected=True),
        Submission("cells", "dan", "late", tmp_path / "late.yaml"),
    ]
    selected = marked_selected(manifests, "cells")
    assert selected == {("dan", "early")}
    board = build_board(ch, records, ch.phases[0], selected=selected)
    assert [(e.entrant, e.submission) for e in board.entries] == [("dan", "early")]


def _challenge(tmp_path: Path, selection: int):
    from dataclasses import replace

    from site_repo import CHALLENGE

    from runner.loader import load_challenge

    folder = tmp_path / "cells"
    (folder / "public").mkdir(parents=True)
    (folder / "challenge.yaml").write_text(CHALLENGE)
    ch = load_challenge(folder)
    return replace(ch, phases=tuple(replace(p, selection=selection) for p in ch.phases))
