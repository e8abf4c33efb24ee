"""Site build time from 1,000 to 100,000 result records (issue 6: 100,000 in under 60 s).

Generates a repository of C challenges, each with P participants and R result records
(2 submissions per participant, records spread over an open public phase and a revealed
private phase), then times a real strict `mkdocs build` through `runner.site.build_site`.
The number of challenges (MkDocs pages) stays 20; participants and records scale.

    python bench/bench_site.py            # 1k, 10k, 100k records
    python bench/bench_site.py --quick    # 1k and 10k only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner.models import Provenance, Result, Score
from runner.records import result_path, result_to_dict
from runner.site import build_site

REPO = Path(__file__).resolve().parents[1]
NOW = "2027-04-01T00:00:00Z"
HEX = "ab" * 32

CHALLENGE = """\
id: {cid}
title: Benchmark challenge {n}
summary: Generated for the site benchmark.
maintainers: [maint]
data:
  hidden:
    source: hidden/
    recipient: age15ylxyqwuda6chhs7dt6x2laazgf25k3yv50llulcql98gfxvkamq6ap36l
predictions: {{id_column: id, columns: {{p: probability}}}}
metrics:
  - {{name: roc_auc, column: p}}
  - {{name: log_loss, column: p}}
  - {{name: brier, column: p}}
phases:
  - {{id: open, start: 2027-01-01T00:00:00Z, end: 2027-03-01T00:00:00Z, leaderboard: public}}
  - {{id: final, start: 2027-03-01T00:00:00Z, end: 2027-03-08T00:00:00Z, leaderboard: private}}
"""


def _score(rng: random.Random, center: float) -> Score:
    value = min(1.0, max(0.0, rng.gauss(center, 0.03)))
    return Score(value, max(0.0, value - 0.02), min(1.0, value + 0.02))


def _result(rng: random.Random, cid: str, who: str, name: str, i: int) -> Result:
    day = rng.uniform(0, 66)
    when = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=day)
    when = when.replace(microsecond=0)
    scores = {
        "public": {
            m: _score(rng, c) for m, c in (("roc_auc", 0.85), ("log_loss", 0.4), ("brier", 0.15))
        }
    }
    if day >= 59:
        scores["private"] = {
            m: _score(rng, c) for m, c in (("roc_auc", 0.84), ("log_loss", 0.41), ("brier", 0.16))
        }
    status = "scored" if rng.random() > 0.05 else "invalid"
    return Result(
        challenge=cid,
        phase="final" if day >= 59 else "open",
        participant=who,
        submission=name,
        evaluation_id=f"{when:%Y%m%dT%H%M%SZ}-{i:08x}",
        created_at=when,
        status=status,  # type: ignore[arg-type]
        message="" if status == "scored" else "column 'p' is missing",
        provenance=Provenance(
            "0.1.0", HEX, HEX, HEX, predictions_sha256=HEX, pull_request=i % 5000 + 1
        ),
        scores=scores if status == "scored" else {},
        cache_key=HEX,
    )


def generate(root: Path, challenges: int, participants: int, records: int) -> None:
    rng = random.Random(7)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site", root / "site")
    for n in range(challenges):
        cid = f"bench-{n:02d}"
        folder = root / "challenges" / cid
        folder.mkdir(parents=True)
        (folder / "challenge.yaml").write_text(CHALLENGE.format(cid=cid, n=n))
        for i in range(records):
            who = f"user-{i % participants:04d}"
            result = _result(rng, cid, who, f"model-{(i // participants) % 2}", i)
            path = result_path(root / "results", result)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result_to_dict(result)))


def run_case(challenges: int, participants: int, records: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        root = Path(tmp)
        generate(root, challenges, participants, records)
        os.environ["CHALLENGE_RUNNER_SITE_NOW"] = NOW
        start = time.perf_counter()
        build_site(root, root / "public")
        elapsed = time.perf_counter() - start
        pages = sum(1 for _ in (root / "public" / "challenges").rglob("*.html"))
        files = sum(1 for _ in (root / "public").rglob("*"))
    total = challenges * records
    print(
        f"{total:>7,} records ({challenges} challenges x {participants:,} participants x "
        f"{records:,} records): {elapsed:6.1f} s  {elapsed / total * 1000:6.3f} ms/record  "
        f"{pages:,} HTML pages, {files:,} files",
        flush=True,
    )
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-record case")
    args = parser.parse_args()
    cases = [(20, 10, 50), (20, 100, 500), (20, 1000, 5000)]
    if args.quick:
        cases = cases[:2]
    times = [run_case(*case) for case in cases]
    base = times[0]
    print(
        "growth vs 1,000 records:",
        "  ".join(f"x{t / base:.1f}" for t in times),
        "(records grow x10 per step)",
    )
    if len(times) == 3:
        verdict = "PASS" if times[2] < 60 else "FAIL"
        print(f"100,000 records: {times[2]:.1f} s ({verdict}: target under 60 s)")
        return 0 if times[2] < 60 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
