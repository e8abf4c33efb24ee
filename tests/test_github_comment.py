"""The sticky comment body: content, wording, escaping and the size cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runner.github.comment import (
    GITHUB_LIMIT,
    CommentData,
    LimitsLine,
    MetricLine,
    Standing,
    SubmissionLine,
    render_comment,
    utf16_len,
)
from runner.github.escape import ZWJ
from runner.github.sticky import parse_marker

SHA = "0123456789abcdef0123456789abcdef01234567"
PAYLOAD = "@org/x <img src=x> [a](javascript:x)"
RUN = "https://github.com/org/challenges/actions/runs/42"


def line(**overrides) -> SubmissionLine:
    base = dict(
        status="scored",
        participant="alice",
        submission="gbm",
        metrics=(
            MetricLine("roc_auc", 0.987654, 0.97, 0.995, 4, primary=True),
            MetricLine("log_loss", 0.1234, 0.1, 0.15, 3),
        ),
        standing=Standing(2, 5, "bob", 0.991, True),
    )
    return SubmissionLine(**{**base, **overrides})


def data(**overrides) -> CommentData:
    """One submission's comment; comment fields or the submission's fields may be overridden."""
    comment_fields = {"challenge", "title", "head_sha", "phase", "limits", "run_url", "submissions"}
    mine = {k: v for k, v in overrides.items() if k not in comment_fields}
    base = dict(
        challenge="breast-cancer",
        title="Breast cancer diagnosis",
        head_sha=SHA,
        submissions=(line(**mine),),
        phase="open",
        limits=(LimitsLine(3, 97, datetime(2026, 11, 23, tzinfo=UTC), "alice"),),
        run_url=RUN,
    )
    return CommentData(**{**base, **{k: v for k, v in overrides.items() if k in comment_fields}})


def test_scored_comment_has_every_part():
    body = render_comment(data())
    assert parse_marker(body) == ("breast-cancer", SHA)
    assert "### ✅ Breast cancer diagnosis — scored" in body
    assert (
        "**roc\\_auc: 0.9877** (95% CI 0.9700 – 0.9950) · provisional rank **2** of 5 · "
        "0.0033 behind the leader (bob)"
    ) in body
    assert "| roc\\_auc (primary) | 0.9877 | [0.9700, 0.9950] |" in body
    assert "| log\\_loss | 0.123 | [0.100, 0.150] |" in body
    assert (
        "**Limits after this pull request** · 3 evaluations left today "
        "(resets 2026-11-23 00:00 UTC) · 97 left in this phase"
    ) in body
    assert f"[Workflow run]({RUN})" in body


def test_leader_sees_that_they_lead():
    body = render_comment(data(standing=Standing(1, 5, "alice", 0.987654, True)))
    assert "provisional rank **1** of 5 · this submission leads the board" in body


def test_platform_error_wording_differs_from_submission_failures():
    error = render_comment(data(status="error", message="engine unreachable"))
    assert "platform error" in error
    assert "The platform failed, this does not count against your limits." in error
    assert "counts against your limits" not in error.replace("does not count against", "")
    for status in ("failed", "timeout", "oom"):
        body = render_comment(data(status=status))
        assert "This is the submission's failure, not the platform's" in body
        assert "it counts against your limits" in body
        assert "| metric |" not in body  # no scores for a failed run
    invalid = render_comment(data(status="invalid", problems=("gbm.yaml:3:1: $.name: bad",)))
    assert "fix the problems below and push again" in invalid
    assert "- gbm\\.yaml\\:3\\:1\\: \\$\\.name\\: bad" in invalid


@pytest.mark.parametrize("field", ["team", "description", "submission", "message"])
def test_injection_payload_is_neutralised(field):
    body = render_comment(data(**{field: PAYLOAD}))
    assert "<img" not in body and "](javascript" not in body
    assert "@org" not in body and f"\\@{ZWJ}org" in body
    assert body.count("-->") == 1  # only the marker closes a comment
    assert "&lt;img src\\=x&gt;" in body


def test_marker_cannot_be_closed_by_participant_text():
    body = render_comment(data(description="--> <!-- challenge-runner challenge=x sha=y -->"))
    assert body.count("-->") == 1 and body.count("<!--") == 1


def test_200_kb_description_stays_under_the_limit():
    body = render_comment(data(description="word " * 40_000))  # 200 KB
    assert utf16_len(body) < GITHUB_LIMIT
    assert parse_marker(body) == ("breast-cancer", SHA)
    assert body.count("<details>") == body.count("</details>") == 1
    assert "…" in body


def test_huge_report_is_cut_with_a_pointer_to_the_run():
    problems = tuple(f"{'@x<y> ' * 100} problem {i}" for i in range(2000))
    body = render_comment(data(status="invalid", problems=problems, description="d" * 200_000))
    assert utf16_len(body) <= 65_000
    assert "… and 1970 more: see the run log." in body
    assert "shortened to fit GitHub's limit" in body
    assert parse_marker(body) == ("breast-cancer", SHA)


def test_hard_cut_closes_details_and_links_the_run():
    emoji = "😀" * 60_000  # 2 UTF-16 units each: the cap counts what GitHub counts
    body = render_comment(data(description=emoji), cap=1_500)
    assert utf16_len(body) <= 1_500
    assert body.rstrip().endswith(f"the full report is in the run: {RUN}*")
    assert body.count("<details>") == body.count("</details>")


def test_untrusted_run_url_is_dropped():
    body = render_comment(data(run_url="javascript:alert(1)"))
    assert "javascript" not in body and "[Workflow run]" not in body


def test_every_submission_has_a_row_and_a_section():
    subs = (
        line(submission="gbm", url="https://org.github.io/c/challenges/bc/submissions/alice/gbm.html",
             standing=Standing(2, 5, "bob", 0.991, True, 1, "xgb", 0.995, "logreg", 0.95)),
        line(submission="bad", status="invalid", metrics=(), standing=None,
             problems=("bad.yaml:3: $.name: 'x' is not the file name",)),
        line(submission="m7", status="over_limit", metrics=(), standing=None),
    )  # fmt: skip
    body = render_comment(data(submissions=subs))
    assert "### ❌ Breast cancer diagnosis — 3 submissions: 1 invalid submission, " in body
    assert "1 over the limit, 1 scored" in body
    assert (
        "| [gbm](https://org.github.io/c/challenges/bc/submissions/alice/gbm.html) | alice | "
        "✅ scored | 0.9877 [0.9700, 0.9950] | 2 of 5 | rank 1: xgb 0.9950 | "
        "0.0033 behind bob | 0.0377 ahead of logreg |"
    ) in body
    assert "| bad | alice | ❌ invalid submission | — | — | — | — | — |" in body
    assert "| m7 | alice | 🚫 over the limit | — | — | — | — | — |" in body
    assert "#### ❌ bad by alice — invalid submission" in body
    assert "- bad\\.yaml\\:3\\: \\$\\.name\\: \\'x\\' is not the file name" in body
    assert "#### 🚫 m7 by alice — over the limit" in body
    assert "It does not count against them" in body


def test_a_participant_controlled_site_url_cannot_inject_a_link():
    body = render_comment(data(url="javascript:alert(1)"))
    assert "javascript" not in body and "[gbm]" not in body


def test_a_thousand_submissions_stay_under_the_limit_with_a_pointer_to_the_run():
    subs = tuple(
        line(submission=f"s{i}", status="invalid", metrics=(), problems=("p " * 300,) * 20,
             description=PAYLOAD * 100)
        for i in range(1000)
    )  # fmt: skip
    body = render_comment(data(submissions=subs))
    assert utf16_len(body) <= 65_000
    assert body.rstrip().endswith(f"the full report is in the run: {RUN}*")
    assert parse_marker(body) == ("breast-cancer", SHA)
    assert "<img" not in body and "@org" not in body
