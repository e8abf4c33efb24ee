"""The evaluate workflow's privileged steps, one per job, so truth and participant code never
share a machine (DESIGN §3, invariant 2).

``stage``  (holds the challenge key; runs no participant code): opens the hidden data and
           re-encrypts *only* ``inputs/`` to the ingest key's public half.
``ingest`` (holds only the ingest key; no token, no challenge key): decrypts the inputs,
           runs the submission in the sandbox, and encrypts its predictions (and the
           maintainer detail) to the challenge's recipient.
``score``  (holds the challenge key; runs no participant code): decrypts the predictions,
           scores them against the truth and writes the result record.
``record`` (holds a write token; runs no participant code): validates the records and copies
           them into ``results/``.

These are the CI chain of ``runner.evaluation``'s steps: the same functions as the local
``evaluate``, with step results written as artifacts (``Built`` -> ``build.json``,
``Ingested`` -> ``ingest.json``) instead of kept in memory.

Artifacts of a public repository are public: everything that crosses jobs from a run that
saw hidden inputs is age-encrypted (binary age), never uploaded in clear. A predictions-file
submission needs no ingest: its file is already public in the pull request.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner import evaluation
from runner.data.crypto import decrypt_file, encrypt_stream, parse_identities, parse_recipients
from runner.errors import ConfigError, DataError
from runner.evaluation import Built, Ingested
from runner.github.prepare import Item, Plan
from runner.models import Challenge, Submission
from runner.records import write_result

if TYPE_CHECKING:
    from runner.images import ImageRef

INPUTS_FILE = "inputs.tar.age"
PREDICTIONS_FILE = "predictions.csv.age"
INGEST_FILE = "ingest.json"
BUILD_FILE = "build.json"
IMAGE_FILE = "image.tar.age"


def secret_env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise DataError(
            f"environment variable {name} is not set: the workflow must pass that secret"
        )
    return value


def encrypt_file(plain: Path, target: Path, recipient: str) -> None:
    with plain.open("rb") as reader, target.open("wb") as writer:
        encrypt_stream(reader, writer, parse_recipients([recipient]))


def stage_inputs(inputs: Path, out: Path, recipient: str) -> Path:
    """Tar ``inputs/`` and encrypt it to ``recipient`` as ``out/inputs.tar.age``."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / INPUTS_FILE
    # The clear tar is an anonymous temp file (gone on close), never beside the artifact.
    with tempfile.TemporaryFile() as plain:
        with tarfile.open(fileobj=plain, mode="w:gz") as tar:
            tar.add(inputs, arcname="inputs", recursive=True)
        plain.seek(0)
        with target.open("wb") as writer:
            encrypt_stream(plain, writer, parse_recipients([recipient]))
    return target


def unstage_inputs(archive: Path, work: Path, identity: str) -> Path:
    """Decrypt and safely unpack a staged inputs archive; return the ``inputs`` folder."""
    plain = work / "inputs.tar.gz"
    decrypt_file(archive, plain, parse_identities(identity, "the ingest key"), "the ingest key")
    with tarfile.open(plain, mode="r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()) or not member.name.startswith("inputs"):
                raise DataError(f"staged inputs hold an unexpected member {member.name!r}")
        tar.extractall(work / "staged", filter="data")
    plain.unlink()
    return work / "staged" / "inputs"


def load_item(plan_dir: Path, item: Item, root: Path) -> tuple[Challenge, Submission]:
    """The challenge (from the base checkout) and the submission (from the plan's tree)."""
    from runner.loader import load_repo, load_submission

    repo = load_repo(root)
    if item.challenge not in repo.challenges:
        raise ConfigError(f"challenge {item.challenge!r} is not on the base branch")
    tree = plan_dir / "tree"
    # teams.yaml of the base branch: prepare checked identity against it already.
    submission = load_submission(
        tree / item.manifest, root=tree, challenges=repo.challenges, teams=repo.teams
    )
    return repo.challenges[item.challenge], submission


def challenge_identity(challenge: Challenge, env: Mapping[str, str]) -> str:
    """The challenge's age identity as ``open_hidden`` finds it; '' when there is none."""
    from runner.data import find_identity

    found = find_identity(challenge.hidden, env, challenge.root)
    return found.secret if found else ""


def find_item(plan: Plan, key: str) -> Item:
    for item in plan.ready:
        if item.key == key:
            return item
    raise ConfigError(f"no ready item {key!r} in the plan (ready: {[i.key for i in plan.ready]})")


def stage(
    plan_dir: Path, item: Item, root: Path, out: Path, env: Mapping[str, str], recipient: str
) -> Path:
    from runner.data import open_hidden

    challenge, _ = load_item(plan_dir, item, root)
    hidden = open_hidden(challenge, env=env)
    return stage_inputs(hidden.inputs, out, recipient)


def build(plan_dir: Path, item: Item, root: Path, out: Path, recipient: str) -> Built:
    """The build step (``evaluation.build``), its image saved for the ingest job, encrypted
    to the ingest key (``recipient``): artifacts are public, and an image holds whatever its
    build put in it.

    This job holds no secret: the build runs participant code (RUN steps, as root, with
    the builder's defaults), so it must not share a machine with a key. ``build.json`` says
    whether the build failed (the participant's fault) without running anything else.
    """
    from runner.images import release_image, save_image

    challenge, submission = load_item(plan_dir, item, root)
    out.mkdir(parents=True, exist_ok=True)
    built, image = evaluation.build(challenge, submission)
    if image is not None:
        try:
            with tempfile.TemporaryDirectory(dir=os.environ.get("RUNNER_TEMP")) as tmp:
                save_image(image, Path(tmp) / "image.tar")
                encrypt_file(Path(tmp) / "image.tar", out / IMAGE_FILE, recipient)
        finally:
            release_image(image)
    built.write(out / BUILD_FILE)
    return built


def _built_image(
    built: Path | None, challenge: Challenge, submission: Submission, identity: str
) -> tuple[Built | None, ImageRef | None]:
    """The build job's outcome and image (loaded into this job's engine), if it ran."""
    from runner.images import ImageRejected, load_image

    if built is None or submission.kind != "build":
        return None, None
    summary = Built.read(built / BUILD_FILE)
    if summary.status != "ok":
        return summary, None
    with tempfile.TemporaryDirectory(dir=os.environ.get("RUNNER_TEMP")) as tmp:
        plain = Path(tmp) / "image.tar"
        decrypt_file(built / IMAGE_FILE, plain, parse_identities(identity, "the ingest key"),
                     "the ingest key")  # fmt: skip
        try:
            return summary, load_image(plain, challenge.container)
        except ImageRejected as err:
            return Built("invalid", err.message, err.detail or ""), None


def ingest(
    plan_dir: Path,
    item: Item,
    root: Path,
    staged: Path,
    out: Path,
    identity: str,
    built: Path | None = None,
) -> Ingested:
    """The ingest step on the staged inputs; write encrypted predictions and ``ingest.json``.

    ``built`` is the build job's output for ``build:`` submissions (CI never builds here);
    without it the image is pulled or built in this job (local use).
    """
    challenge, submission = load_item(plan_dir, item, root)
    recipient = challenge.hidden.recipient
    if not recipient:
        raise ConfigError(
            f"challenge {challenge.id} has no data.hidden.recipient: predictions of a container "
            "run cannot be passed to the scoring job encrypted; add the recipient"
        )
    out.mkdir(parents=True, exist_ok=True)
    # Inputs and raw predictions live only in this temp dir, removed on the way out.
    with tempfile.TemporaryDirectory(prefix="cr-ingest-", dir=os.environ.get("RUNNER_TEMP")) as tmp:
        work = Path(tmp)
        inputs = unstage_inputs(staged / INPUTS_FILE, work, identity)
        (work / "run").mkdir()
        summary, image = _built_image(built, challenge, submission, identity)
        got = evaluation.ingest(
            challenge, submission, inputs, work / "run", built=summary, image=image
        )
        if got.status == "ok" and got.predictions is not None:
            encrypt_file(got.predictions, out / PREDICTIONS_FILE, recipient)
    sealed = replace(got, predictions=None, detail=_sealed(got.detail, recipient))
    sealed.write(out / INGEST_FILE)
    return sealed


def _sealed(detail: str, recipient: str) -> str:
    """Maintainer detail may quote the hidden inputs: it crosses jobs encrypted."""
    from runner.data import encrypt_text

    return encrypt_text(detail, recipient) if detail else ""


def score(
    plan: Plan,
    plan_dir: Path,
    item: Item,
    root: Path,
    ingested: Path | None,
    out: Path,
    env: Mapping[str, str],
    now: datetime | None = None,
) -> Path:
    """The score and record steps of one item; its record goes under ``out`` (a results
    folder the record job adds to the store)."""
    from runner.data import open_hidden
    from runner.records import load_results

    now = now or datetime.now(UTC)
    started = time.monotonic()
    challenge, submission = load_item(plan_dir, item, root)
    hidden = open_hidden(challenge, env=env)
    prepared = evaluation.prepare(challenge, submission, hidden.sha256)
    timings: dict[str, float | None] = {"data": time.monotonic() - started}
    # Decrypted predictions of a container run exist only inside this temp dir.
    with tempfile.TemporaryDirectory(prefix="cr-score-", dir=env.get("RUNNER_TEMP")) as tmp:
        got = _ingested(submission, ingested, challenge_identity(challenge, env), Path(tmp))
        timings |= got.timings
        start = time.monotonic()
        context = evaluation.Context.from_event(plan.event)
        result = evaluation.score(
            challenge,
            submission,
            hidden.truth,
            got,
            prepared,
            now=now,
            context=context,
            truth_cache=hidden.prepared,
        )
        timings["score"] = time.monotonic() - start
    existing = load_results(root / "results", challenge.id).results
    finished = evaluation.finish(challenge, result, existing=existing, timings=timings, now=now)
    return write_result(out, finished)


def _ingested(submission: Submission, ingested: Path | None, identity: str, work: Path) -> Ingested:
    """What the ingest job produced, decrypted into ``work``; the committed file for a
    predictions submission (which has no ingest job)."""
    from runner.data import decrypt_text

    if submission.kind == "predictions":
        return Ingested("ok", predictions=submission.predictions)
    if ingested is None or not (ingested / INGEST_FILE).is_file():
        return Ingested("error", "the ingest job produced no output (the platform failed)")
    got = Ingested.read(ingested / INGEST_FILE)
    if got.detail and identity:
        got = replace(got, detail=decrypt_text(got.detail, identity))
    if got.status != "ok":
        return got
    if not identity:
        return Ingested("error", "the scoring job has no challenge key to decrypt the predictions")
    plain = work / "predictions.csv"
    decrypt_file(
        ingested / PREDICTIONS_FILE,
        plain,
        parse_identities(identity, "the challenge key"),
        "the challenge key",
    )
    return replace(got, predictions=plain)
