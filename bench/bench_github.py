"""GitHub edge costs, measured against the loopback API server with real PyGithub.

(a) Finding the sticky comment among N comments (the marker on the last page):
    PyGithub's default page size (30) vs ours (100): requests made and wall time.
(b) Rendering the comment: a typical body vs one with a 200 KB description and 2,000
    problems (truncated under 65,536 characters): time per render and body size.

    python bench/bench_github.py                # 1,000 comments
    python bench/bench_github.py --comments 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from github_server import BOT, GitRepo, Pull, ServerState, client_for, serve

from runner.github import client as client_module
from runner.github.comment import (
    CommentData,
    LimitsLine,
    MetricLine,
    Standing,
    marker,
    render_comment,
    utf16_len,
)
from runner.github.sticky import find_sticky


def scan(server, per_page: int, repeats: int) -> tuple[int, float]:
    client_module.PER_PAGE = per_page
    times, before = [], len(server.state.calls)
    for _ in range(repeats):
        client = client_for(server)
        start = time.perf_counter()
        assert find_sticky(client, 1, "bc", BOT["login"]) is not None
        times.append(time.perf_counter() - start)
    requests = (len(server.state.calls) - before) // repeats
    return requests, statistics.median(times)


def bench_scan(comments: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = GitRepo(Path(tmp) / "repo")
        sha = repo.commit({"a": "x"}, branch="main")
        state = ServerState(repo)
        state.pulls[1] = Pull(1, sha, sha)
        for i in range(comments - 1):
            state.add_comment(1, f"comment {i}", {"login": f"user{i % 7}", "id": i, "type": "User"})
        state.add_comment(1, marker("bc", sha) + "\nbody", BOT)
        with serve(state) as server:
            default_req, default_t = scan(server, 30, repeats)
            ours_req, ours_t = scan(server, 100, repeats)
    print(f"(a) sticky lookup over {comments} comments (marker on the last page)")
    print(f"    per_page=30 : {default_req:4d} requests  {default_t * 1000:8.1f} ms")
    print(f"    per_page=100: {ours_req:4d} requests  {ours_t * 1000:8.1f} ms")
    ratio_req, ratio_t = ours_req / default_req, ours_t / default_t
    print(f"    ratio ours/default: requests {ratio_req:.2f}, time {ratio_t:.2f}")


def bench_render(repeats: int) -> None:
    base = CommentData(
        challenge="bc",
        title="Breast cancer",
        head_sha="a" * 40,
        status="scored",
        participant="alice",
        submission="gbm",
        description="Gradient boosting, 200 trees.",
        metrics=(
            MetricLine("roc_auc", 0.98, 0.97, 0.99, 4, True),
            MetricLine("log_loss", 0.1, 0.08, 0.12, 4),
        ),
        standing=Standing(2, 40, "bob", 0.99),
        limits=LimitsLine(3, 90, None),
        run_url="https://github.com/org/repo/actions/runs/1",
    )
    huge = CommentData(
        **{
            **base.__dict__,
            "status": "invalid",
            "description": "@x <img> [a](b) " * 12_500,
            "problems": tuple(f"file.yaml:{i}: @org/x <b>bad</b> " * 10 for i in range(2000)),
        }
    )
    rows = []
    for label, data in (("typical", base), ("200 KB + 2,000 problems", huge)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            body = render_comment(data)
            times.append(time.perf_counter() - start)
        rows.append((label, statistics.median(times), utf16_len(body)))
    print("(b) comment rendering")
    for label, t, size in rows:
        print(f"    {label:24s}: {t * 1000:8.2f} ms  {size:6d} UTF-16 units")
    print(f"    ratio huge/typical time: {rows[1][1] / rows[0][1]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bench_scan(args.comments, args.repeats)
    bench_render(args.repeats)


if __name__ == "__main__":
    main()
