"""A small repository for the site tests: two challenges, a team, manifests and records.

Written from scratch in a temporary folder (challenge.yaml, manifests, teams.yaml, and
result records through ``runner.records.write_result``), with the project's mkdocs.yml and
hand-written pages copied in and the hook named by its absolute path.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner.models import Provenance, Result, Score
from runner.records import write_result

REPO = Path(__file__).resolve().parents[1]
NOW = "2027-03-10T12:00:00Z"  # after the final phase's reveal
XSS_TEXT = '<script>alert(1)</script> "><img src=x onerror=alert(1)> [a](javascript:alert(1))'
HEX = "ab" * 32

CHALLENGE = """\
id: cells
title: Cell classification
summary: Tell malignant cells from benign ones.
maintainers: [maint]
data:
  public: public/
  hidden:
    source: hidden/
    recipient: age15ylxyqwuda6chhs7dt6x2laazgf25k3yv50llulcql98gfxvkamq6ap36l
predictions: {id_column: id, columns: {malignant: probability}}
metrics:
  - {name: roc_auc, column: malignant}
  - {name: log_loss, column: malignant, precision: 3}
phases:
  - {id: open, start: 2027-01-01T00:00:00Z, end: 2027-03-01T00:00:00Z,
     leaderboard: public, limits: {per_day: 5, total: 50}}
  - {id: final, start: 2027-03-01T00:00:00Z, end: 2027-03-08T00:00:00Z,
     leaderboard: private, limits: {per_day: 2}}
submission_kinds: [predictions]
leaderboard: {ci: 0.9}
"""

LATER = """\
id: later
title: Later challenge
summary: Opens next year.
maintainers: [maint]
data: {hidden: {source: hidden/}}
predictions: {id_column: id, columns: {y: number}}
metrics: [{name: rmse}]
phases:
  - {id: main, start: 2028-01-01T00:00:00Z, end: 2028-02-01T00:00:00Z}
"""

README = """\
# Cell classification

Predict the probability that a cell is **malignant**. Download [the training set](public/train.csv).

## Data

Thirty features per cell.
"""


@dataclass(frozen=True)
class Eval:
    participant: str
    name: str
    day: int  # days after 2027-01-01 (final phase from day 59)
    auc: float
    loss: float
    status: str = "scored"
    team: str | None = None
    private_auc: float | None = None
    message: str = ""
    baseline: bool = False


# open phase: carol best (0.95), then the team (alice, 0.93), bob 0.90; the baseline 0.91
# is shown without a rank. Final phase (private, revealed): bob wins on the private split.
EVALS = (
    Eval("alice", "gbm", 3, 0.90, 0.31, team="red-team"),
    Eval("alice", "gbm", 5, 0.93, 0.28, team="red-team"),
    Eval("bob", "forest", 4, 0.90, 0.35),
    Eval("carol", "xss", 6, 0.95, 0.20, message=XSS_TEXT),
    Eval("carol", "xss", 7, 0.0, 0.0, status="invalid", message="column 'malignant' is missing"),
    Eval("maint", "baseline", 1, 0.91, 0.30, baseline=True),
    Eval("bob", "forest", 60, 0.88, 0.36, private_auc=0.97),
    Eval("carol", "xss", 61, 0.96, 0.19, private_auc=0.85),
)


def manifest(e: Eval, description: str) -> str:
    lines = [
        "challenge: cells",
        f"participant: {e.participant}",
        f"name: {e.name}",
        f"predictions: {e.name}.csv",
        f"description: {description!r}",
        "links: {code: 'https://example.org/code', paper: 'https://example.org/paper'}",
    ]
    if e.team:
        lines.append(f"team: {e.team}")
    if e.baseline:
        lines.append("baseline: true")
    return "\n".join(lines) + "\n"


def result(e: Eval, i: int) -> Result:
    when = datetime(2027, 1, 1, 10, tzinfo=UTC) + timedelta(days=e.day, minutes=i)
    scores = {}
    if e.status == "scored":
        scores["public"] = {
            "roc_auc": Score(e.auc, e.auc - 0.02, min(1.0, e.auc + 0.02)),
            "log_loss": Score(e.loss, e.loss - 0.01, e.loss + 0.01),
        }
        if e.private_auc is not None:
            scores["private"] = {
                "roc_auc": Score(
                    e.private_auc, e.private_auc - 0.03, min(1.0, e.private_auc + 0.02)
                ),
                "log_loss": Score(e.loss, None, None),
            }
    return Result(
        challenge="cells",
        phase="final" if e.day >= 59 else "open",
        participant=e.participant,
        submission=e.name,
        evaluation_id=f"{when:%Y%m%dT%H%M%SZ}-{i:08x}",
        created_at=when,
        status=e.status,  # type: ignore[arg-type]
        message=e.message,
        provenance=Provenance(
            runner_version="0.1.0",
            challenge_sha256=HEX,
            data_sha256="cd" * 32,
            manifest_sha256=HEX,
            predictions_sha256="ef" * 32,
            commit="1234567890abcdef1234567890abcdef12345678",
            pull_request=40 + i,
        ),
        scores=scores,
        team=e.team,
        baseline=e.baseline,
        cache_key=HEX,
    )


def write_mkdocs(root: Path) -> None:
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site", root / "site")


def make_repo(root: Path, *, description: str = XSS_TEXT) -> Path:
    """Write the fixture repository into ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    write_mkdocs(root)
    cells = root / "challenges" / "cells"
    (cells / "public").mkdir(parents=True)
    (cells / "challenge.yaml").write_text(CHALLENGE, encoding="utf-8")
    (cells / "README.md").write_text(README, encoding="utf-8")
    (cells / "public" / "train.csv").write_text("id,x,malignant\n1,0.5,1\n", encoding="utf-8")
    (root / "challenges" / "later").mkdir()
    (root / "challenges" / "later" / "challenge.yaml").write_text(LATER, encoding="utf-8")
    (root / "teams.yaml").write_text(
        "teams:\n  red-team:\n    members: [{login: alice}, {login: dave}]\n", encoding="utf-8"
    )
    for e in {(e.participant, e.name): e for e in EVALS}.values():
        folder = root / "submissions" / "cells" / (e.team or e.participant)
        folder.mkdir(parents=True, exist_ok=True)
        text = description if e.participant == "carol" else f"Submission {e.name}."
        (folder / f"{e.name}.yaml").write_text(manifest(e, text), encoding="utf-8")
        (folder / f"{e.name}.csv").write_text("id,malignant\n1,0.5\n", encoding="utf-8")
    for i, e in enumerate(EVALS):
        write_result(root / "results", result(e, i))
    return root
