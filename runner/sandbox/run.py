"""Run one submission in one locked-down container and classify what happened.

Before anything runs, orphans of killed runners are reaped (``reap.py``) and the created
container's controls are read back (``verify.py``): a container whose ``HostConfig`` differs
from the request is removed without being started. The runner keeps its own deadline
(``wait(timeout=...)`` only times out an HTTP read), kills on timeout, treats ``OOMKilled``
or exit 137 without a timeout as out-of-memory, copies the predictions out without following
links, and always removes the container and its ``/output``.

What the container chooses never reaches participant-visible fields in clear: its output,
its exact exit code (``exit 206`` can encode a hidden value) and its exact run time go to
``detail`` (maintainers, sealed in CI) only; ``message`` says "exited with a non-zero code"
and ``duration_s`` is coarse (:func:`coarse_seconds`).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import docker.errors
import requests.exceptions

from runner.errors import SandboxError
from runner.models import ContainerSpec
from runner.progress import Progress
from runner.sandbox.engine import (
    ENGINE_ERRORS,
    Engine,
    check_engine,
    describe_engine,
    get_client,
    libpod,
    mount_prefix,
    nproc_ceiling,
    supports_rootless,
)
from runner.sandbox.libpod import create as libpod_create
from runner.sandbox.live import (
    applied_limits,
    gvisor_problems,
    live_mismatches,
    namespace_problems,
)
from runner.sandbox.output import (
    UNSHARE,
    Output,
    capped_output,
    collect_folder,
    collect_predictions,
)
from runner.sandbox.reap import reap_expired
from runner.sandbox.spec import SANDBOX_LAYOUT, Layout, container_kwargs, parse_size
from runner.sandbox.verify import mismatches

log = logging.getLogger(__name__)

LOG_TAIL_BYTES = 64 << 10
LOG_TAIL_LINES = 200  # json-file splits lines at 16 KiB: at most ~3 MiB read back
PROGRESS_EVERY_S = 30.0
KILL_WAIT_S = 30.0
REAP_MARGIN_S = 60.0  # past time limit + kill wait + this, a container is an orphan
NON_ZERO = "exited with a non-zero code"
_COARSE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class RunOutcome:
    """What a sandboxed run produced.

    ``status``: "ok" (exit 0 and a usable predictions file), "failed", "timeout", "oom",
    "invalid" (no or unusable predictions) or "error" (the platform's fault).
    ``message`` is participant-safe and never contains container output nor the exact exit
    code; ``detail`` is for maintainers (exit code, OOM flag, container id, exact duration,
    the last 64 KiB of output). ``duration_s`` is coarse (1, 2, 5, 10, 20, 50 ... s).
    ``predictions`` is a regular-file copy inside ``work_dir`` that the caller owns.
    """

    status: str
    message: str
    detail: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0
    predictions: Path | None = None
    container_id: str | None = None
    image_id: str | None = None  # sha256:<hex> of the image that ran


def exit_message(code: int) -> str:
    """The exact exit code (and signal): only for runs on public or the caller's own inputs."""
    if code > 128:
        with contextlib.suppress(ValueError):
            return f"exited with code {code} (signal {signal.Signals(code - 128).name})"
    return f"exited with code {code}"


def coarse_seconds(seconds: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... s that is at least ``seconds``.

    A container chooses how long it runs: exact times would publish a few bits of whatever
    it read; this scale leaves about three bits per run over a 600 s limit.
    """
    scale = 1.0
    while True:
        for step in _COARSE_STEPS:
            if seconds <= step * scale:
                return float(step * scale)
        scale *= 10


def _wait(container: Any, timeout_s: float, say: Progress) -> bool:
    """Wait for the container to exit; kill it at the deadline. True if it timed out."""
    started = time.monotonic()
    while (remaining := timeout_s - (time.monotonic() - started)) > 0:
        try:
            container.wait(timeout=min(remaining, PROGRESS_EVERY_S))
            return False
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            container.reload()  # raises if the engine itself went away
            if container.status == "exited":
                return False
            if (elapsed := time.monotonic() - started) < timeout_s:
                say(f"still running after {elapsed:.0f} s")
    try:
        container.kill()
    except docker.errors.APIError:  # exited just at the deadline: not a timeout
        container.reload()
        if container.status == "exited":
            return False
        raise
    container.wait(timeout=KILL_WAIT_S)
    return True


OUTPUT_MARK = "\n--- output (last "  # starts the container output section of ``detail``


def output_tail(detail: str) -> str | None:
    """The container's stdout/stderr tail kept in a run's ``detail``, or None. Only for runs
    on public inputs (``pr smoke``, local runs on one's own data): a run that saw hidden
    inputs never shows it (DESIGN §3, invariant 4)."""
    start = detail.find(OUTPUT_MARK)
    if start < 0:
        return None
    return detail[detail.index("---\n", start + len(OUTPUT_MARK)) + 4 :]


def _log_tail(container: Any) -> str:
    try:
        raw = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
    except ENGINE_ERRORS as err:
        return f"(logs unavailable: {err})"
    return raw[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")


def _remove(container: Any) -> None:
    with contextlib.suppress(docker.errors.NotFound):  # already gone is fine
        container.remove(force=True, v=True)


def _check_image(client: Any, image: str) -> tuple[str | None, str]:
    """(A participant-safe reason the image cannot run, or None; its ID). Missing image:
    SandboxError."""
    try:
        attrs = client.images.get(image).attrs
    except docker.errors.ImageNotFound as err:
        raise SandboxError(
            "the submission image is not available on the runner", detail=str(err)
        ) from err
    volumes = sorted((attrs.get("Config") or {}).get("Volumes") or {})
    refused = None
    if volumes:
        refused = f"the image declares VOLUME {', '.join(volumes)}; remove VOLUME instructions"
    return refused, str(attrs.get("Id") or "")


@dataclass(frozen=True)
class _Run:
    """Everything one run needs, so the helpers stay small."""

    image: str
    command: Sequence[str] | None
    input_dir: Path
    submission_dir: Path | None
    work_dir: Path
    limits: ContainerSpec
    mount: list[str] | None
    run_id: str
    engine: Engine
    unsafe: bool
    layout: Layout
    whole_output: bool = False  # hand back all of /output (zipped), not predictions.csv


def _classify(
    run: _Run, state: dict, timed_out: bool, out_dir: Path
) -> tuple[str, str, Path | None]:
    code = state.get("ExitCode")
    if timed_out:
        return "timeout", f"killed after the {run.limits.timeout_s:g} s time limit", None
    if state.get("OOMKilled") or code == 137:
        return "oom", f"exceeded the {run.limits.memory} memory limit", None
    if code != 0:
        return "failed", NON_ZERO, None
    limit = parse_size(run.limits.output_limit)
    if run.whole_output:
        copy, reason = collect_folder(out_dir, run.work_dir, limit, run.layout.output)
    else:
        copy, reason = collect_predictions(out_dir, run.work_dir, limit, run.limits.output_limit)
    return ("ok", "completed", copy) if copy else ("invalid", reason, None)


def _verify(client: Any, run: _Run, container: Any, asked: dict) -> None:
    """Raise ``SandboxError`` unless the created container holds every asked control."""
    inspect: dict | None = None
    if run.engine.kind == "podman":
        inspect = libpod(client, f"containers/{container.id}/json")
    caps = run.engine.capabilities
    problems = mismatches(asked, container.attrs, libpod=inspect, engine_caps=caps)
    _refuse_unless_unsafe(run, container, problems, "nothing was run")


def _verify_live(client: Any, run: _Run, container: Any, asked: dict, output: Output) -> None:
    """Kill the started container unless the kernel applies its limits (where visible) and,
    for rootless Podman, the engine mounted /output in the namespace holding its tmpfs."""
    container.reload()
    pid = int(container.attrs["State"].get("Pid") or 0)
    applied = applied_limits(pid)
    problems = live_mismatches(asked, applied) if applied is not None else []
    problems += gvisor_problems(pid) if pid > 0 else []
    if output.namespace is not None:
        state = libpod(client, f"containers/{container.id}/json").get("State") or {}
        problems += namespace_problems(int(state.get("ConmonPid") or 0), output.namespace)
    if problems:  # the pid may have exited and been reused: trust only a running container
        container.reload()
        problems = problems if container.status == "running" else []
    if problems and not run.unsafe:
        container.kill()
    _refuse_unless_unsafe(run, container, problems, "the run was stopped")


def _refuse_unless_unsafe(run: _Run, container: Any, problems: list[str], done: str) -> None:
    """Raise ``SandboxError`` for controls the engine did not apply (``done`` says what became
    of the run); in unsafe mode, log each one and go on."""
    if problems and not run.unsafe:
        raise SandboxError(
            f"the container engine did not apply every sandbox control; {done}",
            detail=f"{run.engine.kind} container {container.id[:12]}: " + "; ".join(problems),
        )
    for problem in problems:
        log.warning("running WITHOUT a control (unsafe mode): %s", problem)


def _execute(client: Any, run: _Run, say: Progress) -> RunOutcome:
    limit = parse_size(run.limits.output_limit)
    deadline = int(time.time() + run.limits.timeout_s + KILL_WAIT_S + REAP_MARGIN_S)
    with capped_output(run.work_dir, limit, run.mount, deadline) as output:
        kwargs = container_kwargs(
            run.image, run.command, run.limits, input_dir=run.input_dir,
            submission_dir=run.submission_dir, output_dir=output.path, run_id=run.run_id,
            deadline=deadline, engine_kind=run.engine.kind, layout=run.layout,
            nproc_max=nproc_ceiling(run.engine),
        )  # fmt: skip
        container = None
        try:
            if supports_rootless(run.engine):  # its compatible create drops the ulimits
                container = libpod_create(client, kwargs)
            else:
                container = client.containers.create(**kwargs)
            _verify(client, run, container, kwargs)
            say(f"running the submission (time limit {run.limits.timeout_s:g} s)")
            started = time.monotonic()
            container.start()
            _verify_live(client, run, container, kwargs, output)
            timed_out = _wait(container, run.limits.timeout_s, say)
            duration = time.monotonic() - started
            container.reload()
            state = container.attrs["State"]
            status, message, copy = _classify(run, state, timed_out, output.view)
            detail = (
                f"container {container.id[:12]} image {run.image} exit_code={state.get('ExitCode')}"
                f" oom_killed={state.get('OOMKilled')} timed_out={timed_out}"
                f" duration={duration:.2f}s{OUTPUT_MARK}{LOG_TAIL_BYTES} bytes) ---\n"
                + _log_tail(container)
            )
            return RunOutcome(
                status, message, detail, state.get("ExitCode"), duration, copy, container.id
            )
        finally:
            if container is not None:
                _remove(container)


def _prepare(
    client: Any, image: str, limits: ContainerSpec, dirs: list[Path | None], unsafe: bool
) -> tuple[ContainerSpec, list[str] | None, Engine, tuple[str | None, str]]:
    """Reap orphans; check engine, image and directories.

    Returns (limits to use, mount prefix, the engine, (a participant-safe refusal or None,
    the image's ID)).
    """
    engine = describe_engine(client)  # once: each asks the engine (Podman: /libpod/info too)
    prefix = UNSHARE if supports_rootless(engine) else mount_prefix()  # how /output is mounted
    reap_expired(client, prefix)
    missing = check_engine(client, limits, unsafe=unsafe, engine=engine)
    for path in dirs:
        if path is not None and not path.is_dir():
            raise SandboxError("a sandbox directory is missing on the runner", detail=str(path))
    if any(name.startswith("runtime ") for name in missing):
        limits = replace(limits, runtime=None)
    if any(name.startswith("GPUs ") for name in missing):  # told to run anyway: on the CPU
        limits = replace(limits, gpus=0)
    ceiling = nproc_ceiling(engine)
    if ceiling is not None and ceiling < limits.pids:
        log.warning(
            "the engine's user may run at most %d processes (its RLIMIT_NPROC), fewer than "
            "the pids limit %d: runs get at most %d",
            ceiling, limits.pids, ceiling,
        )  # fmt: skip
    no_cap = any(name.startswith("output size cap") for name in missing)
    return limits, None if no_cap else prefix, engine, _check_image(client, image)


def _hint(error: str) -> str:
    """How to mend an engine refusal the runner can explain (appended to the sealed detail)."""
    if "RLIMIT_NPROC" in error:
        return (
            "\n(the engine's user may not raise RLIMIT_NPROC this high: raise that user's hard "
            "limit, e.g. LimitNPROC= in a drop-in for user@.service, see hosting.md)"
        )
    return ""


def run_submission(
    image: str,
    command: Sequence[str] | None,
    *,
    input_dir: Path,
    submission_dir: Path | None,
    work_dir: Path,
    limits: ContainerSpec,
    client: Any = None,
    unsafe: bool = False,
    progress: Progress | None = None,
    layout: Layout = SANDBOX_LAYOUT,
    public_inputs: bool = False,
    whole_output: bool = False,
) -> RunOutcome:
    """Run ``image`` (with ``command``, else its own) once in the sandbox of DESIGN §5.

    Mounts ``input_dir`` at /input (ro), ``submission_dir`` at /submission (ro) and a fresh
    capped directory at /output (rw), or where ``layout`` says (same modes). Never raises for
    the platform's problems: an engine that is down, a missing image or an unenforceable
    control give status "error". ``public_inputs`` (sample inputs, the caller's own data):
    the message names the exact exit code; for hidden inputs it never does.
    ``whole_output``: ``predictions`` is a zip of every file left in /output (code
    submissions), instead of a copy of /output/predictions.csv.
    """
    say = progress or (lambda _message: None)
    started = time.monotonic()
    try:
        client = get_client(client)
        dirs = [Path(input_dir), Path(submission_dir) if submission_dir else None, Path(work_dir)]
        limits, mount, engine, (refused, image_id) = _prepare(client, image, limits, dirs, unsafe)
        if refused:
            return RunOutcome("invalid", refused, duration_s=time.monotonic() - started)
        sub_dir = Path(submission_dir) if submission_dir else None
        run = _Run(
            image, command, Path(input_dir), sub_dir, Path(work_dir), limits, mount,
            uuid.uuid4().hex, engine, unsafe, layout, whole_output,
        )  # fmt: skip
        outcome = replace(_execute(client, run, say), image_id=image_id or None)
    except SandboxError as err:
        outcome = RunOutcome("error", err.message, err.detail or "")
    except docker.errors.APIError as err:
        refused = "the container engine refused to run the submission"
        outcome = RunOutcome("error", refused, str(err) + _hint(str(err)))
    except ENGINE_ERRORS as err:
        outcome = RunOutcome("error", "the container engine failed during the run", str(err))
    exact = outcome.duration_s or time.monotonic() - started
    outcome = replace(outcome, duration_s=coarse_seconds(exact))
    if public_inputs and outcome.status == "failed" and outcome.message == NON_ZERO:
        outcome = replace(outcome, message=exit_message(outcome.exit_code or 0))
    say(f"finished: {outcome.status}")
    return outcome
