"""What the ``pr`` commands share: the --plan/--item/--key-env options, the API client and
the environment carrying a challenge's key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from runner.github.client import GitHubClient
    from runner.github.event import PullRequestEvent
    from runner.github.prepare import Item

DIR = click.Path(file_okay=False, path_type=Path)
plan_option = click.option(
    "--plan", "plan_dir", type=DIR, required=True, help="The prepare job's output (plan.json)."
)
item_option = click.option(
    "--item", required=True, help="challenge/participant/name of a ready item of the plan."
)


def client(event: PullRequestEvent) -> GitHubClient:
    from runner.errors import GitHubError
    from runner.github.client import GitHubClient

    token = os.environ.get("GITHUB_TOKEN")
    if not token:
        raise GitHubError("GITHUB_TOKEN is not set: pass it to this step through env:")
    return GitHubClient(event.api_url, token, event.repo)


KEY_ENV = click.option(
    "--key-env",
    default=None,
    metavar="VAR",
    help="Read the challenge's age identity from VAR (e.g. CHALLENGE_KEY, the secret of the "
    "environment challenge-<id>) instead of its data.hidden.key_env.",
)


def with_key(plan_dir: Path, item: Item, root: Path, key_env: str | None) -> Mapping[str, str]:
    """The environment, with ``--key-env``'s value under the challenge's own key_env name."""
    if key_env is None:
        return os.environ
    from runner.errors import DataError
    from runner.github.stages import load_item

    if not os.environ.get(key_env):
        raise DataError(
            f"--key-env {key_env}: that environment variable is not set; give the environment "
            f"challenge-{item.challenge} a secret {key_env} holding the challenge's key"
        )
    challenge, _ = load_item(plan_dir, item, root)
    env = dict(os.environ)
    if challenge.hidden.key_env:
        env[challenge.hidden.key_env] = env[key_env]
    return env
