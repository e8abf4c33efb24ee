"""Deliver reports: to GitHub (sticky comment, commit status, label, step summary) or, run
locally, as printed text."""

from __future__ import annotations

import os
from pathlib import Path

from runner.github.client import GitHubClient
from runner.github.prepare import Plan
from runner.github.record import read_outcome
from runner.github.report import Report, build_reports
from runner.github.statuses import STATUS_ORDER
from runner.github.sticky import (
    DEFAULT_BOT_LOGIN,
    post_sticky,
    set_commit_status,
    set_status_label,
    write_step_summary,
)


def load_new_results(records: Path | None) -> dict:
    """Records written by ``pr score``, keyed like plan items (challenge/participant/name)."""
    from runner.records import load_results

    if records is None or not records.is_dir():
        return {}
    return {
        f"{r.challenge}/{r.participant}/{r.submission}": r for r in load_results(records).results
    }


def site_url(root: Path) -> str | None:
    """``site_url`` of the base checkout's ``mkdocs.yml`` (where submission pages live), read
    as one line: the file may hold MkDocs' Python tags, which a safe YAML loader refuses."""
    import re

    path = root / "mkdocs.yml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    found = re.search(r"^site_url:\s*[\"']?(https?://[^\s\"']+)", text, re.MULTILINE)
    return found.group(1) if found else None


def publish_reports(
    plan: Plan,
    root: Path,
    records: Path | None,
    *,
    pending: bool = False,
    client: GitHubClient | None = None,
    bot_login: str | None = None,
    recorded: Path | None = None,
) -> list[str]:
    """Report every challenge of the plan; return lines for the log (or the bodies, locally).

    ``recorded``: the outcome file ``pr record`` wrote; given, only records that landed are
    reported as results (a missing file: none landed)."""
    from runner.loader import load_repo
    from runner.records import load_results

    repo = load_repo(root)
    reports = build_reports(
        plan,
        repo.challenges,
        load_new_results(records),
        load_results(root / "results").results,
        pending=pending,
        site_url=site_url(root),
        outcome=read_outcome(recorded) if recorded is not None else None,
    )
    if client is None:
        return [line for r in reports for line in (f"--- {r.challenge}: {r.status}", r.body)]
    lines = [_post(client, plan, r, bot_login or DEFAULT_BOT_LOGIN) for r in reports]
    if reports:  # one label for the PR: the worst status among its challenges
        worst = min(
            reports, key=lambda r: STATUS_ORDER.index(r.status) if r.status in STATUS_ORDER else 0
        )
        assert plan.event is not None  # see _post
        set_status_label(client, plan.event.number, worst.status)
    return lines


def _post(client: GitHubClient, plan: Plan, report: Report, bot_login: str) -> str:
    event = plan.event
    assert event is not None  # posting happens only for a plan made from a pull request
    outcome = post_sticky(
        client, event.number, report.challenge, event.head_sha, report.body, bot_login
    )
    if outcome.action != "skipped-stale":
        set_commit_status(
            client,
            event.head_sha,
            report.status,
            report.description,
            report.challenge,
            event.run_url,
        )
        set_status_label(client, event.number, report.status)
    write_step_summary(report.body, os.environ)
    return f"{report.challenge}: {report.status}; comment {outcome.action} ({outcome.comment_id})"
