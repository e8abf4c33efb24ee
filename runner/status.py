"""The status vocabulary, defined once.

Every word the runner says about an evaluation's outcome comes from ``TABLE``: the
record's ``status`` (``models.STATUSES``, the result schema's enum), the order reports list
items in (``severity``), the PR comment's icon, headline and wording, the PR label, the
commit status state, and the site's CSS class. ``pending`` (the evaluation jobs are running)
and ``over_limit`` (valid, but beyond the limits: never evaluated, never counted) are said on
the pull request and never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

# The submission's own failures count against limits; the platform's ("error") never does.
_OWN_FAILURE = (
    "This is the submission's failure, not the platform's, and it counts against your limits."
)


@dataclass(frozen=True)
class StatusInfo:
    name: str
    severity: int  # reports list the worst first: lower is worse
    icon: str
    headline: str
    wording: str
    label: str  # the pull-request label a run sets
    commit_state: str  # GitHub commit status: success | failure | error | pending
    recorded: bool = True  # a result record may carry it

    @property
    def css_class(self) -> str:
        """The site's class for this status (styled in site/assets/site.css)."""
        return f"cr-status-{self.name}"


TABLE: tuple[StatusInfo, ...] = (
    StatusInfo(
        "scored", 7, "✅", "scored", "Scores below are provisional until the phase ends.",
        "evaluated", "success",
    ),
    StatusInfo(
        "invalid", 1, "❌", "invalid submission",
        "The submission was not evaluated: fix the problems below and push again.",
        "invalid", "failure",
    ),
    StatusInfo(
        "failed", 2, "❌", "submission failed",
        f"Your submission ran but did not produce valid predictions. {_OWN_FAILURE}",
        "failed", "failure",
    ),
    StatusInfo(
        "timeout", 3, "⏱️", "submission timed out",
        f"Your submission ran past the time limit. {_OWN_FAILURE}",
        "failed", "failure",
    ),
    StatusInfo(
        "oom", 4, "💥", "out of memory",
        f"Your submission ran out of memory. {_OWN_FAILURE}",
        "failed", "failure",
    ),
    StatusInfo(
        "error", 0, "⚠️", "platform error",
        "The platform failed, this does not count against your limits. Nothing is wrong "
        "with your submission as far as we know: a maintainer can re-run the evaluation, "
        "or push again.",
        "error", "error",
    ),
    StatusInfo(
        "over_limit", 5, "🚫", "over the limit",
        "The submission was not evaluated: it is beyond your evaluation limits (counting "
        "the other submissions of this pull request). It does not count against them; "
        "push it again when the limits allow.",
        "over-limit", "failure", recorded=False,
    ),
    StatusInfo(
        "pending", 6, "⏳", "evaluating",
        "The submission passed validation and is being evaluated; this comment is updated "
        "with the result.",
        "evaluating", "pending", recorded=False,
    ),
)  # fmt: skip

BY_NAME: dict[str, StatusInfo] = {s.name: s for s in TABLE}
RECORDED: tuple[str, ...] = tuple(s.name for s in TABLE if s.recorded)
LABELS: tuple[str, ...] = tuple(dict.fromkeys(s.label for s in TABLE))  # every label we own


def info(status: str) -> StatusInfo:
    """The table's row for ``status``; an unknown word is the platform's error."""
    return BY_NAME.get(status, BY_NAME["error"])


def severity(status: str) -> int:
    return info(status).severity
