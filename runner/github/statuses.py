"""How each status of a submission reads on the pull request: one table (STYLE 12).

The platform's failure (``error``) reads differently from the submission's own failures: it
never counts against limits; ``over_limit`` was never evaluated and never counted either.
``STATUS_ORDER`` runs from worst to best: the worst status of a comment is its headline,
its commit status and the PR's label.
"""

from __future__ import annotations

STATUS_ORDER = ("error", "invalid", "failed", "timeout", "oom", "over_limit", "pending", "scored")

# status -> (icon, headline, wording). The platform's failure ("error") reads differently
# from the submission's own failures: it never counts against limits.
WORDING: dict[str, tuple[str, str, str]] = {
    "pending": (
        "⏳",
        "evaluating",
        "The submission passed validation and is being evaluated; "
        "this comment is updated with the result.",
    ),
    "scored": ("✅", "scored", "Scores below are provisional until the phase ends."),
    "invalid": (
        "❌",
        "invalid submission",
        "The submission was not evaluated: fix the problems below and push again.",
    ),
    "over_limit": (
        "🚫",
        "over the limit",
        "The submission was not evaluated: it is beyond your evaluation limits (counting "
        "the other submissions of this pull request). It does not count against them; "
        "push it again when the limits allow.",
    ),
    "failed": (
        "❌",
        "submission failed",
        "Your submission ran but did not produce valid "
        "predictions. This is the submission's failure, not the platform's, and it "
        "counts against your limits.",
    ),
    "timeout": (
        "⏱️",
        "submission timed out",
        "Your submission ran past the time limit. This is "
        "the submission's failure, not the platform's, and it counts against your limits.",
    ),
    "oom": (
        "💥",
        "out of memory",
        "Your submission ran out of memory. This is the submission's "
        "failure, not the platform's, and it counts against your limits.",
    ),
    "error": (
        "⚠️",
        "platform error",
        "The platform failed, this does not count against your "
        "limits. Nothing is wrong with your submission as far as we know: a maintainer "
        "can re-run the evaluation, or push again.",
    ),
}
