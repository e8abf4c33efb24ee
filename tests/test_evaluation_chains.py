"""The two chains of the evaluation steps make the same record.

Local: ``challenge-runner evaluate MANIFEST`` (step results in memory). CI: a pull request
served by the loopback GitHub API, then ``pr prepare`` -> ``stage`` -> ``build`` ->
``ingest`` -> ``score`` -> ``record`` (step results as encrypted artifacts). For the same
submission the two records must be equal except for what identifies the run: the
evaluation id, the times and the run's provenance (commit, pull request, run URL and the
user id the event gives). Private scores are sealed with fresh randomness each time, so they
are compared after decryption with the challenge's (demo) key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

# The loopback world of the pull-request flow test: a git origin with the breast-cancer
# challenge, its base checkout and a running GitHub API server.
from test_github_pr_flow import push, world  # noqa: F401  (``world`` is a fixture)

from runner.cli import main
from runner.data import decrypt_text, find_identity, keygen
from runner.loader import load_repo
from runner.records import load_results, result_to_dict

ROOT = Path(__file__).resolve().parents[1]
RUN_FIELDS = ("evaluation_id", "created_at", "timings", "user_id", "private")
RUN_PROVENANCE = ("commit", "pull_request", "run_url")


def comparable(result) -> tuple[dict, dict | None]:
    """The record without what identifies the run, and its private scores in clear."""
    data = result_to_dict(result)
    private = data["private"]
    for name in RUN_FIELDS:
        data.pop(name)
    for name in RUN_PROVENANCE:
        data["provenance"].pop(name)
    challenge = load_repo(ROOT).challenges[result.challenge]
    found = find_identity(challenge.hidden, {}, challenge.root)
    assert found is not None, "the example challenge ships a demo key"
    return data, (json.loads(decrypt_text(private, found.secret)) if private else None)


def local_record(tmp_path: Path, manifest: str):
    results = tmp_path / "local-results"
    main(["evaluate", str(ROOT / manifest), "--root", str(ROOT), "--results", str(results)])
    [result] = load_results(results).results
    return result


def pull_request_files(folder: str, login: str) -> dict[str, bytes]:
    """The files of ``folder`` (a submission folder of this repo) as a PR by ``login``."""
    source = ROOT / folder
    return {
        f"submissions/breast-cancer/{login}/{p.relative_to(source)}": p.read_bytes()
        for p in source.rglob("*")
        if p.is_file()
    }


def ci_record(server, monkeypatch, files: dict[str, bytes], login: str, item: str, container: bool):
    push(server, monkeypatch, files, run_id=301, login=login, user_id=4242, parent=server.base)
    root, work = str(server.checkout), server.tmp / "ci"
    plan = str(work / "prepared")
    common = ["--root", root, "--plan", plan, "--item", item]
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    score_args = ["--out", str(work / "records")]
    if container:
        identity, recipient = keygen()
        monkeypatch.setenv("INGEST_RECIPIENT", recipient)
        assert main(["pr", "stage", *common, "--out", str(work / "staged")]) == 0
        assert main(["pr", "build", *common, "--out", str(work / "built")]) == 0
        monkeypatch.setenv("INGEST_KEY", identity)
        jobs = ["--staged", str(work / "staged"), "--built", str(work / "built")]
        assert main(["pr", "ingest", *common, *jobs, "--out", str(work / "ingested")]) == 0
        score_args += ["--ingested", str(work / "ingested")]
    assert main(["pr", "score", *common, *score_args]) == 0
    results = work / "results"
    assert (
        main(["pr", "record", "--records", str(work / "records"), "--results", str(results)]) == 0
    )
    [result] = load_results(results).results
    assert (result.provenance.pull_request, result.user_id) == (7, 4242)
    return result


def test_a_predictions_submission_gets_the_same_record_from_both_chains(
    world,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    local = local_record(tmp_path, "submissions/breast-cancer/octocat/logreg.yaml")
    files = pull_request_files("submissions/breast-cancer/octocat", "octocat")
    ci = ci_record(world, monkeypatch, files, "octocat", "breast-cancer/octocat/logreg", False)
    assert local.status == "scored"
    assert comparable(ci) == comparable(local)
    assert set(ci.timings) == set(local.timings) == {"data", "score", "total"}


@pytest.mark.docker
def test_a_container_submission_gets_the_same_record_from_both_chains(
    world,  # noqa: F811
    monkeypatch,
    tmp_path,
    python_image,
):
    local = local_record(tmp_path, "submissions/breast-cancer/hubot/small-logreg.yaml")
    files = pull_request_files("submissions/breast-cancer/hubot", "hubot")
    ci = ci_record(world, monkeypatch, files, "hubot", "breast-cancer/hubot/small-logreg", True)
    assert local.status == "scored" and local.provenance.image_digest
    # Builds share no cache (runner.images.build): each chain's build is its own image.
    assert ci.provenance.image_digest.startswith("sha256:")
    assert ci.provenance.image_digest != local.provenance.image_digest
    ci = replace(ci, provenance=replace(ci.provenance, image_digest=None))
    local = replace(local, provenance=replace(local.provenance, image_digest=None))
    assert comparable(ci) == comparable(local)
    assert set(ci.timings) == set(local.timings) == {"data", "image", "run", "score", "total"}
