"""The status vocabulary is one table: every place that names a status agrees with it."""

from __future__ import annotations

import json
import typing
from pathlib import Path

from runner import models, status
from runner.github.comment import CommentData, SubmissionLine, render_comment

RUNNER = Path(__file__).resolve().parents[1] / "runner"


def test_records_schema_and_type_use_the_tables_recorded_statuses() -> None:
    schema = json.loads((RUNNER / "schemas/result.schema.json").read_text())
    assert tuple(schema["properties"]["status"]["enum"]) == status.RECORDED
    assert typing.get_args(models.Status) == status.RECORDED == models.STATUSES
    assert "pending" not in status.RECORDED  # said while running, never stored
    assert "over_limit" not in status.RECORDED  # never evaluated, so never recorded


def test_the_site_styles_every_recorded_status() -> None:
    css = (RUNNER / "site/assets/site.css").read_text()
    for name in status.RECORDED:
        assert f".{status.info(name).css_class}" in css, name


def test_reports_list_the_platforms_error_first_and_scores_last() -> None:
    order = sorted(status.BY_NAME, key=status.severity)
    assert order == [
        "error", "invalid", "failed", "timeout", "oom", "over_limit", "pending", "scored"
    ]  # fmt: skip
    assert status.info("no-such-status") is status.BY_NAME["error"]


def test_the_comment_says_each_status_in_the_tables_words() -> None:
    for row in status.TABLE:
        line = SubmissionLine("gbm", "alice", row.name, message="why")
        data = CommentData("c", "C", "a" * 40, (line,))
        body = render_comment(data)
        assert row.icon in body and row.headline in body and row.wording in body, row.name


def test_the_pull_request_views_are_the_table() -> None:
    from runner.github.statuses import STATUS_ORDER, WORDING
    from runner.github.sticky import COMMIT_STATE, LABELS

    assert tuple(sorted(status.BY_NAME, key=status.severity)) == STATUS_ORDER
    for row in status.TABLE:
        assert WORDING[row.name] == (row.icon, row.headline, row.wording)
        assert (LABELS[row.name], COMMIT_STATE[row.name]) == (row.label, row.commit_state)
