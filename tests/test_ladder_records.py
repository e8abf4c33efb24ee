"""Under the Ladder, nothing participant-readable holds more than the Ladder releases.

Records are committed in clear and the score job's records are uploaded as public
artifacts, so a record may hold only the released score (issue 9 item 3). A Ladder challenge
is evaluated through the CLI and through the pull-request flow; every committed record and
every artifact file is searched for the exact scores (values and interval bounds, computed
with the Ladder off) and none is there. The challenge's key still opens them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from test_github_pr_flow import bot_comments, push, world  # noqa: F401  (``world`` is a fixture)

from runner.cli import main
from runner.data import find_identity
from runner.leaderboard import build_board
from runner.loader import load_repo
from runner.records import load_results
from runner.reveal import open_sealed

ROOT = Path(__file__).resolve().parents[1]
PREDICTIONS = (ROOT / "submissions/breast-cancer/octocat/logreg.csv").read_text()
# A second submission a little worse than the first: within the noise, so not released.
NUDGED = PREDICTIONS.replace("bc-0038,0.586323", "bc-0038,0.386323")


def files_for(name: str, csv: str) -> dict[str, str]:
    where = "submissions/breast-cancer/alice"
    return {
        f"{where}/{name}.yaml": (
            f"challenge: breast-cancer\nparticipant: alice\nname: {name}\npredictions: {name}.csv\n"
        ),
        f"{where}/{name}.csv": csv,
    }


def set_ladder(root: Path, on: bool) -> None:
    path = root / "challenges/breast-cancer/challenge.yaml"
    text = path.read_text()
    path.write_text(text.replace("ladder: false", f"ladder: {'true' if on else 'false'}"))


def make_repo(path: Path, ladder: bool) -> Path:
    shutil.copytree(ROOT / "challenges/breast-cancer", path / "challenges/breast-cancer",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name, csv in (("first", PREDICTIONS), ("second", NUDGED)):
        for rel, text in files_for(name, csv).items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    set_ladder(path, ladder)
    return path


def evaluate_both(root: Path) -> dict:
    for name in ("first", "second"):
        manifest = root / f"submissions/breast-cancer/alice/{name}.yaml"
        assert main(["evaluate", str(manifest), "--root", str(root)]) == 0
    return {r.submission: r for r in load_results(root / "results").results}


def exact_digits(records: dict) -> set[str]:
    """Every public score and interval bound of the records, as JSON would write it."""
    found = set()
    for record in records.values():
        for score in record.scores["public"].values():
            found |= {repr(v) for v in (score.value, score.ci_low, score.ci_high) if v is not None}
    return {d for d in found if len(d) > 6}  # not 1.0 or 0.5: those say nothing


def leaked(folder: Path, digits: set[str]) -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(folder)), d)
        for path in folder.rglob("*")
        if path.is_file()
        for d in digits
        if d in path.read_text(errors="replace")
    ]


def test_cli_records_of_a_ladder_challenge_hold_only_released_scores(tmp_path):
    exact = evaluate_both(make_repo(tmp_path / "plain", ladder=False))
    digits = exact_digits(exact)
    assert len(digits) > 10
    root = make_repo(tmp_path / "ladder", ladder=True)
    stored = evaluate_both(root)
    assert leaked(root / "results", digits) == []
    first, second = stored["first"], stored["second"]
    assert list(first.scores["public"]) == ["roc_auc"]  # released, rounded to the step
    assert second.scores["public"] == {} and second.status == "scored"  # not released
    # The board, replaying the Ladder over the stored records, agrees with the decisions.
    challenge = load_repo(root).challenges["breast-cancer"]
    board = build_board(challenge, stored.values(), challenge.phase_at(first.created_at))
    [entry] = board.entries
    assert (entry.submission, entry.scores) == ("first", first.scores["public"])
    # The challenge's key opens the exact scores, for the reveal.
    identity = find_identity(challenge.hidden, {}, challenge.root).secret
    splits, _ = open_sealed(second.private, identity)
    assert splits["public"] == exact["second"].scores["public"]


def test_pr_flow_records_and_artifacts_of_a_ladder_challenge_hold_no_exact_score(
    world,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    digits = exact_digits(evaluate_both(make_repo(tmp_path / "plain", ladder=False)))
    set_ladder(world.checkout, True)
    root = str(world.checkout)
    for run_id, (name, csv) in enumerate((("first", PREDICTIONS), ("second", NUDGED)), 901):
        push(world, monkeypatch, files_for(name, csv), run_id=run_id, parent=world.base)
        work = world.tmp / f"run-{run_id}"
        plan, records = str(work / "prepared"), str(work / "records")
        item = f"breast-cancer/alice/{name}"
        assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
        assert main(["pr", "score", "--root", root, "--plan", plan, "--item", item,
                     "--out", records]) == 0  # fmt: skip
        assert main(["pr", "record", "--records", records, "--results", f"{root}/results"]) == 0
        assert main(["pr", "report", "--root", root, "--plan", plan, "--records", records]) == 0
    assert leaked(world.checkout / "results", digits) == []
    for run_id in (901, 902):  # what the jobs upload: the plan and the records artifacts
        assert leaked(world.tmp / f"run-{run_id}", digits) == []
    [comment] = bot_comments(world)
    assert "| second | alice | ✅ scored | not released (Ladder) |" in comment["body"]
    assert not any(d[:6] in comment["body"] for d in digits if len(d) > 6 and d[:6] != "0.9983")


def test_a_ladder_pr_gets_one_submission_per_entrant(world, monkeypatch):  # noqa: F811
    """Its items are scored in parallel, each against the committed records only."""
    set_ladder(world.checkout, True)
    files = {**files_for("first", PREDICTIONS), **files_for("second", NUDGED)}
    push(world, monkeypatch, files, run_id=911, parent=world.base)
    plan = world.tmp / "run-911" / "prepared"
    assert main(["pr", "prepare", "--root", str(world.checkout), "--out", str(plan)]) == 0
    import json

    items = json.loads((plan / "plan.json").read_text())["items"]
    assert [(i["name"], i["status"]) for i in items] == [("first", "ready"),
                                                         ("second", "over_limit")]  # fmt: skip
    assert items[1]["problems"][0]["message"] == (
        "over the limit, not evaluated and not counted: this challenge's public board uses the "
        "Ladder, which takes one submission per entrant and pull request; push this one in a "
        "new pull request after this one"
    )
