"""A container's stdout and stderr are two streams: the engine's log keeps each in order but
may merge them either way. ``interleaves`` accepts exactly the merges that keep each stream's
own order (a sort would also accept lines out of order within a stream, or reordered lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache


def interleaves(lines: Sequence[str], *streams: Sequence[str]) -> bool:
    """True if ``lines`` is the streams merged, every line once, each stream in its order."""
    if len(lines) != sum(len(stream) for stream in streams):
        return False

    @cache
    def rest(at: tuple[int, ...]) -> bool:
        done = sum(at)
        if done == len(lines):
            return True
        return any(
            at[n] < len(stream)
            and stream[at[n]] == lines[done]
            and rest((*at[:n], at[n] + 1, *at[n + 1 :]))
            for n, stream in enumerate(streams)
        )

    return rest((0,) * len(streams))
