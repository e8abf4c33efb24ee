"""Benchmark: leaderboards over 100,000 result record files on disk (target: under 10 s).

Writes realistic records (three metrics with intervals, sealed private scores, provenance,
timings, Ladder stats; a mix of statuses) for 20 challenges into a temporary folder, then
times one leaderboard run per challenge -- ``load_results`` + ``build_board`` +
``board_to_json``, what ``challenge-runner leaderboard CHALLENGE --format json`` does -- and
prints the total and per-record figures, at 1,000, 10,000 and 100,000 records side by side.

    python bench/bench_leaderboard.py            # 1k, 10k, 100k
    python bench/bench_leaderboard.py 100000     # one size

The files are freshly written, so they are in the page cache (as on a CI runner right after
checkout); a cold cache adds the disk's read time.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import runner.scoring  # noqa: F401  (metric_display's imports: once per process, not timed)
from runner.data import encrypt_text, keygen
from runner.leaderboard import board_to_json, build_board
from runner.models import (
    Challenge,
    HiddenDataSpec,
    LadderStats,
    Limits,
    MetricSpec,
    Phase,
    PredictionColumn,
    PredictionsSpec,
    Provenance,
    Result,
    Score,
)
from runner.records import load_results, read_result, result_to_dict

CHALLENGES = 20
PARTICIPANTS = 250  # per challenge
START = datetime(2026, 12, 1, tzinfo=UTC)
PHASE = Phase("open", START, START + timedelta(days=90), limits=Limits(per_day=5, total=100))
STATUSES = ["scored"] * 85 + ["invalid"] * 5 + ["failed"] * 5 + ["timeout"] * 3 + ["error"] * 2


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_challenge(i: int) -> Challenge:
    return Challenge(
        id=f"challenge-{i:02d}",
        title=f"Challenge {i}",
        summary="Benchmark challenge.",
        root=Path("/nonexistent"),
        maintainers=("octocat",),
        predictions=PredictionsSpec("id", (PredictionColumn("malignant", "probability"),)),
        metrics=(
            MetricSpec("roc_auc", "malignant"),
            MetricSpec("log_loss", "malignant"),
            MetricSpec("accuracy", "malignant"),
        ),
        phases=(PHASE,),
        hidden=HiddenDataSpec(source="hidden.tar.age"),
        sha256=sha(f"challenge{i}"),
    )


def make_record(rng: random.Random, challenge: str, n: int, blobs: list[str]) -> Result:
    created = START + timedelta(seconds=rng.randrange(90 * 86400))
    status = rng.choice(STATUSES)
    auc, loss = rng.uniform(0.6, 0.99), rng.uniform(0.1, 0.7)
    acc = rng.uniform(0.6, 0.97)
    scored = status == "scored"
    score = {
        m: Score(v, v - rng.uniform(0.005, 0.03), v + rng.uniform(0.005, 0.03))
        for m, v in (("roc_auc", auc), ("log_loss", loss), ("accuracy", acc))
    }
    return Result(
        challenge=challenge,
        phase="open",
        participant=f"user-{rng.randrange(PARTICIPANTS):04d}",
        submission=f"model-{rng.randrange(8)}",
        evaluation_id=f"{created:%Y%m%dT%H%M%SZ}-{n:08x}",
        created_at=created,
        status=status,
        message="scored" if scored else f"{status}: see the run log",
        provenance=Provenance(
            runner_version="0.1.0",
            challenge_sha256=sha(challenge),
            data_sha256=sha("data"),
            manifest_sha256=sha(f"manifest{n}"),
            predictions_sha256=sha(f"predictions{n}"),
            commit=sha(f"commit{n}")[:40],
            pull_request=1 + n % 5000,
            run_url=f"https://github.com/org/repo/actions/runs/{1000000 + n}",
        ),
        scores={"public": score} if scored else {},
        private=rng.choice(blobs) if scored else None,
        timings={"prepare": 0.2, "ingest": rng.uniform(1, 60), "score": rng.uniform(0.1, 2)},
        ladder=LadderStats(loss, 0.4, 285) if scored else None,
        cache_key=sha(f"key{n}"),
    )


def generate(root: Path, total: int) -> float:
    """Write ``total`` records spread over the challenges; returns the seconds it took."""
    began = time.perf_counter()
    rng = random.Random(total)
    _, recipient = keygen()
    blobs = [encrypt_text(json.dumps({"roc_auc": {"value": i}}), recipient) for i in range(20)]
    for n in range(total):
        record = make_record(rng, f"challenge-{n % CHALLENGES:02d}", n, blobs)
        folder = root / record.challenge / record.participant / record.submission
        folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps(result_to_dict(record), indent=2) + "\n"
        (folder / f"{record.evaluation_id}.json").write_text(body)
    read_result(next(root.rglob("*.json")))  # the generated files pass the full schema
    return time.perf_counter() - began


def leaderboards(root: Path) -> tuple[float, float, int, int]:
    """One leaderboard run per challenge; returns (wall s, CPU s, records, board entries).

    CPU time is printed beside wall time because this machine may be shared: the gap
    between them is time spent waiting for a core (or the disk)."""
    began, cpu, records, entries = time.perf_counter(), time.process_time(), 0, 0
    for i in range(CHALLENGES):
        challenge = make_challenge(i)
        loaded = load_results(root, challenge.id)
        assert not loaded.problems, loaded.problems[:3]
        board = build_board(challenge, loaded.results, PHASE, now=PHASE.end)
        board_to_json(board)
        records += len(loaded.results)
        entries += len(board.entries)
    return time.perf_counter() - began, time.process_time() - cpu, records, entries


def main(sizes: list[int]) -> None:
    head = ("records", "generate s", "wall s", "CPU s", "us/record")
    print("  ".join(f"{h:>{w}}" for h, w in zip(head, (8, 10, 7, 6, 9), strict=True)), " entries")
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
            gen = generate(Path(tmp), size)
            wall, cpu, records, entries = leaderboards(Path(tmp))
        assert records == size
        rows.append((size, wall))
        per = wall / size * 1e6
        print(f"{size:>8}  {gen:>10.2f}  {wall:>7.2f}  {cpu:>6.2f}  {per:>9.1f}  {entries}")
    if len(rows) > 1:
        (n0, s0), (n1, s1) = rows[0], rows[-1]
        print(f"scaling {n0} -> {n1} records: time x{s1 / s0:.1f} for records x{n1 / n0:.0f}")
    largest, wall = rows[-1]
    verdict = "OK" if wall < 10 else "OVER TARGET"
    print(f"{largest} records: {wall:.2f} s for all {CHALLENGES} leaderboards "
          f"(target < 10 s): {verdict}")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
