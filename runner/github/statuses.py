"""How each status of a submission reads on the pull request: views of ``runner.status``.

The platform's failure (``error``) reads differently from the submission's own failures: it
never counts against limits; ``over_limit`` was never evaluated and never counted either.
``STATUS_ORDER`` runs from worst to best: the worst status of a comment is its headline,
its commit status and the PR's label.
"""

from __future__ import annotations

from runner.status import TABLE

STATUS_ORDER: tuple[str, ...] = tuple(s.name for s in sorted(TABLE, key=lambda s: s.severity))

# status -> (icon, headline, wording)
WORDING: dict[str, tuple[str, str, str]] = {s.name: (s.icon, s.headline, s.wording) for s in TABLE}
