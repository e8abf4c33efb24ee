"""The ``prepare`` step: decide what a pull request asks to evaluate, reading it as data.

In GitHub Actions: the event gives the PR, its head SHA and author; the path policy is
enforced on the PR's file list; ``teams.yaml`` is read from the base SHA; the submission
folders are fetched at the head SHA into ``out/tree/``; every manifest is validated with the
loader against the base checkout's challenges, its identity checked, and its limits.
Locally, the manifests given are copied from the working tree instead (no identity check).

The outcome is ``out/plan.json``, which later steps (ingest, score, report) read; it never
holds a secret. Each item is ``ready`` (to evaluate), ``invalid`` with its problems, or
``over_limit``: limits are counted over the plan's own items too (``runner.limits.admit``),
so a PR with 8 manifests for a challenge allowing 5 a day gets 5 ready and 3 over the limit.
Likewise ``selected: true`` is counted over the committed manifests and the plan's items
together (``apply_selection``): the marks beyond a phase's ``selection:`` make their items
invalid, as ``validate`` would refuse the repository after a merge.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import ConfigError
from runner.github.event import PullRequestEvent
from runner.github.identity import Author, identity_problems, teams_from_bytes
from runner.loader.problems import Problem
from runner.serial import JsonData

if TYPE_CHECKING:
    from runner.github.client import GitHubClient
    from runner.loader import Repo

PLAN_VERSION = 2  # 2: problems are Problem objects (path, line, column, json_path, message)
# ready: to evaluate; invalid: not evaluated, its problems say why; over_limit: valid but
# beyond the entrant's quota (counting the plan's own items): not evaluated, not counted.
ITEM_STATUSES = ("ready", "invalid", "over_limit")
POLICY_ID = "pull-request"  # the pseudo-challenge of a comment about the PR's paths


@dataclass(frozen=True)
class Item:
    challenge: str
    manifest: str  # repo-relative, under out/tree/
    status: str  # ready | invalid | over_limit (see ITEM_STATUSES)
    participant: str = ""
    team: str | None = None
    name: str = ""
    kind: str = ""
    description: str = ""
    problems: tuple[Problem, ...] = ()  # paths relative to the repository
    runs_on: tuple[str, ...] = ()  # the challenge's runner labels for its ingest job
    selected: bool = False  # the manifest marks it to count in a phase with selection:

    @property
    def key(self) -> str:
        """challenge/participant/name: how records and matrix entries find the item."""
        return f"{self.challenge}/{self.participant}/{self.name or Path(self.manifest).stem}"

    @property
    def slug(self) -> str:
        """The key as a safe artifact name."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", self.key.replace("/", "--"))


@dataclass(frozen=True)
class Plan(JsonData):
    items: tuple[Item, ...]
    event: PullRequestEvent | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    version: int = PLAN_VERSION

    @property
    def ready(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.status == "ready")


def write_plan(plan: Plan, out: Path) -> Path:
    return plan.write(out / "plan.json")


def read_plan(out: Path) -> Plan:
    path = out / "plan.json"
    if not path.is_file():
        raise ConfigError(
            "cannot read the plan: no such file; run `pr prepare` first", path=str(path)
        )
    plan = Plan.read(path)
    if plan.version != PLAN_VERSION:
        raise ConfigError(
            f"plan version {plan.version!r} is not {PLAN_VERSION}: prepare and the later jobs "
            "must run the same challenge-runner; run `pr prepare` again",
            path=str(path),
        )
    return plan


def _fresh(tree: Path) -> Path:
    """An empty ``tree`` folder: files of an earlier prepare must not linger in it."""
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    return tree


def relative(problem: Problem, root: Path) -> Problem:
    """``problem`` with its path relative to ``root`` (the fetched tree)."""
    where = problem.path
    if where.startswith(str(root)):
        where = where[len(str(root)) :].lstrip("/")
    return replace(problem, path=where)


def file_problem(path: str, message: str) -> Problem:
    """A problem with a whole file (no line): identity, limits, path policy."""
    return Problem(path, None, None, "", message)


def check_manifest(
    manifest: Path,
    tree: Path,
    repo: Repo,
    author: Author | None,
    known_ids: Mapping[str, int],
    teams: Mapping,
    now: datetime,
    base_ref: str = "the base branch",
) -> Item:
    """Validate one fetched manifest: schema, files, identity (limits: ``apply_limits``)."""
    from runner.loader import ValidationFailed, load_submission

    rel = str(manifest.relative_to(tree))
    challenge_id = rel.split("/")[1]
    try:
        sub = load_submission(manifest, root=tree, challenges=repo.challenges, teams=teams)
    except ValidationFailed as err:
        problems = tuple(relative(p, tree) for p in err.problems)
        return Item(challenge_id, rel, "invalid", problems=problems)
    base = Item(
        sub.challenge,
        rel,
        "ready",
        sub.participant,
        sub.team,
        sub.name,
        sub.kind,
        sub.description,
        runs_on=repo.challenges[sub.challenge].runs_on,
        selected=sub.selected,
    )
    wrong: list[str] = []
    if author is not None:
        folder = rel.split("/")[2]
        wrong = identity_problems(
            participant=sub.participant,
            team=sub.team,
            folder=folder,
            author=author,
            teams=teams,
            known_ids=known_ids,
            base_ref=base_ref,
        )
    if wrong:
        found = tuple(file_problem(rel, p) for p in wrong)
        return replace(base, status="invalid", problems=found)
    return base


def apply_selection(
    items: tuple[Item, ...], repo: Repo, removed: frozenset[str] = frozenset()
) -> tuple[Item, ...]:
    """The items with ``selected: true`` beyond their entrant's ``selection:`` made invalid.

    After the merge an entrant's marks are those of the committed manifests (less the ones
    this pull request changes, in ``items``, or deletes, in ``removed``) plus those of the
    items: committed ones come first, then the items in plan order; the excess is refused
    with a problem on ``$.selected`` (so it is neither evaluated nor counted).
    """
    from runner.loader import selection_phase, too_many_selected

    changed = {i.manifest for i in items} | removed
    marks: dict[tuple[str, str], list[str]] = {}
    for sub in repo.submissions:
        rel = sub.path.relative_to(repo.root).as_posix()
        if sub.selected and rel not in changed:
            marks.setdefault((sub.challenge, sub.entrant.casefold()), []).append(sub.name)
    out = []
    for item in items:
        challenge = repo.challenges.get(item.challenge)
        phase = selection_phase(challenge) if challenge is not None else None
        if item.status != "ready" or not item.selected or phase is None or not phase.selection:
            out.append(item)
            continue
        entrant = item.team or item.participant
        mine = marks.setdefault((item.challenge, entrant.casefold()), [])
        if len(mine) < phase.selection:
            mine.append(item.name)
            out.append(item)
            continue
        message = too_many_selected(entrant, item.challenge, [*mine, item.name], phase)
        problem = Problem(item.manifest, None, None, "$.selected", message)
        out.append(replace(item, status="invalid", problems=(problem,)))
    return tuple(out)


def apply_limits(
    items: tuple[Item, ...], repo: Repo, now: datetime, user_id: int | None = None
) -> tuple[Item, ...]:
    """The items with those beyond their entrant's quota marked ``over_limit``.

    The ready items of a challenge are admitted in plan order against the committed records
    *and the plan's earlier items*; the excess is not evaluated and takes no quota. Under the
    Ladder one submission per entrant and pull request is admitted: the items of one plan
    are scored in parallel jobs, each against the committed records only, so a second one
    would be judged without the first and could have a score released that the Ladder
    withholds (``ladder.withhold``).
    """
    from runner.limits import Claim, admit
    from runner.records import load_results

    verdicts: dict[int, str] = {}
    for challenge_id in dict.fromkeys(i.challenge for i in items if i.status == "ready"):
        challenge = repo.challenges[challenge_id]
        mine = [
            n for n, i in enumerate(items) if i.status == "ready" and i.challenge == challenge_id
        ]
        claims = [Claim(items[n].participant, items[n].team, user_id) for n in mine]
        results = load_results(repo.root / "results", challenge_id).results
        for n, status in zip(mine, admit(challenge, results, claims, now), strict=True):
            if not status.allowed:
                verdicts[n] = status.message
        if challenge.leaderboard.ladder:
            verdicts |= _one_per_entrant([n for n in mine if n not in verdicts], items)
    return tuple(
        _over_limit(item, verdicts[n]) if n in verdicts else item for n, item in enumerate(items)
    )


def _one_per_entrant(admitted: list[int], items: tuple[Item, ...]) -> dict[int, str]:
    seen: set[str] = set()
    refused = {}
    for n in admitted:
        who = (items[n].team or items[n].participant).casefold()
        if who in seen:
            refused[n] = (
                "this challenge's public board uses the Ladder, which takes one submission per "
                "entrant and pull request; push this one in a new pull request after this one"
            )
        seen.add(who)
    return refused


def _over_limit(item: Item, why: str) -> Item:
    message = f"over the limit, not evaluated and not counted: {why}"
    found = (file_problem(item.manifest, message),)
    return replace(item, status="over_limit", problems=found)


def known_user_ids(results_dir: Path) -> dict[str, int]:
    """login (as the records spell it) -> the GitHub user id earlier records tie it to."""
    from runner.records import load_results

    ids: dict[str, int] = {}
    for result in load_results(results_dir).results:
        if result.user_id is not None:
            ids.setdefault(result.participant, result.user_id)
    return ids


def prepare_github(
    event: PullRequestEvent, client: GitHubClient, root: Path, out: Path, now: datetime
) -> Plan:
    """Prepare from a pull request through the API (see the module docstring)."""
    from runner.github.fetch import fetch_folders, manifests_to_evaluate, touched_folders
    from runner.github.policy import PolicyViolation, enforce
    from runner.loader import load_repo

    repo = load_repo(root)
    author = Author(event.author_login, event.author_id)
    known = known_user_ids(root / "results")
    try:
        teams = teams_from_bytes(client.file_at("teams.yaml", event.base_sha))
        files, tree = enforce(
            client, event.number, event.head_sha, author, teams, known, repo.challenges
        )
        fetched = _fresh(out / "tree")
        fetch_folders(client, tree, touched_folders(files), fetched)
    except PolicyViolation as err:
        problems = tuple(file_problem(v.path, v.message) for v in err.violations)
        return Plan((Item(POLICY_ID, "", "invalid", problems=problems),), event)
    manifests = manifests_to_evaluate(files, fetched)
    items = tuple(
        check_manifest(m, fetched, repo, author, known, teams, now, event.base_ref)
        for m in manifests
    )
    gone = {f.filename for f in files if f.status == "removed"}
    gone |= {f.previous_filename for f in files if f.status == "renamed" and f.previous_filename}
    items = apply_selection(items, repo, frozenset(gone))
    return Plan(apply_limits(items, repo, now, event.author_id), event)


def platform_error_plan(event: PullRequestEvent) -> Plan:
    """The plan to report when ``prepare`` itself failed: one item with no record, which
    the report shows as the platform's error (it does not count against limits)."""
    return Plan((Item(POLICY_ID, "", "ready"),), event)


def prepare_local(manifests: list[Path], root: Path, out: Path, now: datetime) -> Plan:
    """Prepare from manifests in a working tree (no GitHub, no identity check)."""
    from runner.loader import load_repo

    repo = load_repo(root)
    tree = _fresh(out / "tree")
    items = []
    for manifest in manifests:
        folder = manifest.resolve().parent
        rel_folder = folder.relative_to(root.resolve())
        target = tree / rel_folder
        if not target.exists():
            shutil.copytree(folder, target, symlinks=True)
        copied = target / manifest.name
        items.append(check_manifest(copied, tree, repo, None, {}, repo.teams, now))
    return Plan(apply_limits(apply_selection(tuple(items), repo), repo, now), None)
