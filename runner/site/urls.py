"""Where every generated file lives in the built site (``use_directory_urls: false``).

All submission pages sit at the same depth (``challenges/<id>/submissions/<who>/<name>.html``)
so one rendered MkDocs page at that depth can serve as their shell.
"""

from __future__ import annotations

import posixpath

from runner.site.fmt import segment

SHELL_SRC = "challenges/_shell/submissions/_shell/CRSHELLPAGE.md"
SHELL_URL = "challenges/_shell/submissions/_shell/CRSHELLPAGE.html"


def challenge_url(challenge_id: str) -> str:
    return f"challenges/{challenge_id}/index.html"


def submission_url(challenge_id: str, participant: str, name: str) -> str:
    return f"challenges/{challenge_id}/submissions/{segment(participant)}/{segment(name)}.html"


def board_download(challenge_id: str, phase: str, split: str, ext: str) -> str:
    return f"challenges/{challenge_id}/leaderboard/{phase}/{split}/leaderboard.{ext}"


def badge_url(challenge_id: str, entrant: str | None = None) -> str:
    """The leader badge of a challenge, or one entrant's rank badge.

    Entrant badges live in their own folder, so no participant or team name (``leader``,
    or one that hashes like another) can take the leader badge's file or another's.
    """
    if entrant is None:
        return f"challenges/{challenge_id}/badges/leader.json"
    return f"challenges/{challenge_id}/badges/entrants/{segment(entrant)}.json"


def relative(from_page: str, to: str) -> str:
    """The link from one site file to another, relative so the site works from any folder."""
    return posixpath.relpath(to, posixpath.dirname(from_page) or ".")


def people_url(kind: str, name: str) -> str:
    """A participant's or team's page (kind ``participant`` or ``team``), or their index."""
    if kind == "index":
        return "participants.html"
    folder = "participants" if kind == "participant" else "teams"
    return f"{folder}/{segment(name)}.html"
