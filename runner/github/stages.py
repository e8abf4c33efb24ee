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

Artifacts of a public repository are public: everything that crosses jobs from a run that
saw hidden inputs is age-encrypted (binary age), never uploaded in clear. A predictions-file
submission needs no ingest: its file is already public in the pull request.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from runner.data.crypto import decrypt_file, encrypt_stream, parse_identities, parse_recipients
from runner.errors import ConfigError, DataError, RecordError
from runner.github.prepare import Item, Plan

INPUTS_FILE = "inputs.tar.age"
PREDICTIONS_FILE = "predictions.csv.age"
INGEST_FILE = "ingest.json"
BUILD_FILE = "build.json"
IMAGE_FILE = "image.tar"


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


def load_item(plan_dir: Path, item: Item, root: Path):
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


def challenge_identity(challenge, env: Mapping[str, str]) -> str:
    """The challenge's age identity as ``open_hidden`` finds it: the ``key_env`` variable,
    else the committed demo key file of an example challenge; '' when there is none."""
    spec = challenge.hidden
    if spec.key_env and env.get(spec.key_env):
        return env[spec.key_env]
    if spec.demo_key_file is None:
        return ""
    demo = spec.demo_key_file
    return (demo if demo.is_absolute() else challenge.root / demo).read_text(encoding="utf-8")


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


def build(plan_dir: Path, item: Item, root: Path, out: Path) -> dict:
    """Build a ``build:`` submission's image and save it for the ingest job.

    This job holds no secret: the build runs participant code (RUN steps, as root, with
    the builder's defaults), so it must not share a machine with a key. The summary says
    whether the build failed (the participant's fault) without running anything else.
    """
    from runner.images import BuildFailed, ImageRejected, resolve_image, save_image

    challenge, submission = load_item(plan_dir, item, root)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"status": "ok"}
    if submission.kind != "build":
        summary = {
            "status": "skipped",
            "message": f"a {submission.kind} submission: nothing to build",
        }
    else:
        try:
            image = resolve_image(submission, challenge.container)
            save_image(image, out / IMAGE_FILE)
        except BuildFailed as err:
            summary = {"status": "failed", "message": err.message, "detail": err.detail or ""}
        except ImageRejected as err:
            summary = {"status": "invalid", "message": err.message, "detail": err.detail or ""}
    (out / BUILD_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _built_image(built: Path | None, challenge, submission):
    """(ImageRef or None, Ingested or None): the build job's image, or why there is none."""
    from runner.images import ImageRejected, load_image
    from runner.pipeline import Ingested

    if built is None or submission.kind != "build":
        return None, None
    summary = json.loads((built / BUILD_FILE).read_text(encoding="utf-8"))
    if summary["status"] != "ok":
        return None, Ingested(summary["status"], summary["message"], summary.get("detail", ""))
    try:
        return load_image(built / IMAGE_FILE, challenge.container), None
    except ImageRejected as err:
        return None, Ingested("invalid", err.message, err.detail or "")


def ingest(
    plan_dir: Path,
    item: Item,
    root: Path,
    staged: Path,
    out: Path,
    identity: str,
    built: Path | None = None,
) -> dict:
    """Run the submission on the staged inputs; write encrypted predictions and a summary.

    ``built`` is the build job's output for ``build:`` submissions (CI never builds here);
    without it the image is pulled or built in this job (local use).
    """
    from runner.pipeline import ingest as run_ingest

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
        image, refused = _built_image(built, challenge, submission)
        got = refused or run_ingest(challenge, submission, inputs, work / "run", image=image)
        summary = {
            "status": got.status,
            "message": got.message,
            "image_digest": got.image_digest,
            "timings": got.timings,
        }
        if got.detail:
            from runner.data import encrypt_text

            summary["detail"] = encrypt_text(got.detail, recipient)
        if got.status == "ok" and got.predictions is not None:
            encrypt_file(got.predictions, out / PREDICTIONS_FILE, recipient)
    (out / INGEST_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


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
    """Score one item and write its record under ``out`` (a results folder)."""
    from runner import pipeline
    from runner.data import decrypt_text, open_hidden
    from runner.pipeline import Context, Ingested, Options, artifact_sha256
    from runner.records import write_result

    now = now or datetime.now(UTC)
    challenge, submission = load_item(plan_dir, item, root)
    hidden = open_hidden(challenge, env=env)
    identity = challenge_identity(challenge, env)
    event = plan.event
    context = Context(
        commit=event.head_sha if event else None,
        pull_request=event.number if event else None,
        run_url=event.run_url if event else None,
        user_id=event.author_id if event else None,
    )
    options = Options(results_dir=out, env=env, now=now, context=context)
    # Decrypted predictions of a container run exist only inside this temp dir.
    with tempfile.TemporaryDirectory(prefix="cr-score-", dir=env.get("RUNNER_TEMP")) as tmp:
        if submission.kind == "predictions":
            got = Ingested("ok", predictions=submission.predictions)
        else:
            got = _read_ingested(ingested, identity, Path(tmp))
            if got.detail and identity:
                got = replace(got, detail=decrypt_text(got.detail, identity))
        # The pipeline's own builder and sealing, so a CI record equals a local one.
        artifact = artifact_sha256(submission)
        result = pipeline.build_result(challenge, submission, hidden, got, artifact, now, options)
    return write_result(out, pipeline.seal_for_storage(challenge, result, now))


def _read_ingested(ingested: Path | None, identity: str, work: Path):
    from runner.pipeline import Ingested

    if ingested is None or not (ingested / INGEST_FILE).is_file():
        return Ingested("error", "the ingest job produced no output (the platform failed)")
    summary = json.loads((ingested / INGEST_FILE).read_text(encoding="utf-8"))
    got = Ingested(
        summary["status"],
        summary.get("message", ""),
        summary.get("detail", ""),
        None,
        summary.get("image_digest"),
        summary.get("timings", {}),
    )
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


def record(records: Path, results_dir: Path) -> list[Path]:
    """Validate every record under ``records`` and copy it into ``results_dir`` (never
    overwriting). Returns the written paths."""
    from runner.records import read_result, write_result

    paths = sorted(records.rglob("*.json"))
    if not paths:
        raise RecordError(f"no result records under {records}: the score job wrote none")
    results = [read_result(path) for path in paths]  # RecordError on anything malformed
    return [write_result(results_dir, result) for result in results]
