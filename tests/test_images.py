"""runner.images: digest pins, pulls (none can succeed here: the message is the test),
offline builds of real Dockerfiles with their time, network, VOLUME and size rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner.errors import SandboxError
from runner.images import (
    BUILD_LABEL,
    BuildFailed,
    ImageRef,
    ImageRejected,
    parse_size,
    release_image,
    resolve_image,
)
from runner.models import BuildSpec, ContainerSpec, Submission
from runner.sandbox import LABEL, run_submission

LIMITS = ContainerSpec(timeout_s=20, memory="128m", build_timeout_s=60, image_max_size="64m")
DIGEST = "sha256:" + "ab" * 32


def _image_submission(tmp_path: Path, image: str) -> Submission:
    return Submission("demo", "octocat", "pinned", tmp_path / "pinned.yaml", image=image)


def _build_submission(tmp_path: Path, dockerfile: str) -> Submission:
    """A build submission named after the test (unique: xdist workers build concurrently)."""
    name = tmp_path.name.lower()
    context = tmp_path / name
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile)
    (context / "predict.sh").write_text("printf 'id,y\\n1,0.5\\n' >/output/predictions.csv\n")
    return Submission(
        "demo", "octocat", name, tmp_path / f"{name}.yaml",
        build=BuildSpec(context=context), sha256=name * 4,
    )  # fmt: skip


@pytest.fixture
def built_images(docker_client):
    """The test's builds (ImageRefs), released afterwards as the runner releases them."""
    refs: list[ImageRef] = []
    yield refs
    for ref in refs:
        assert ref.owned
        release_image(ref, client=docker_client)


def test_parse_size_is_shared_with_the_sandbox():
    assert parse_size("4g") == 4 << 30


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/octocat/bc:latest", "ghcr.io/octocat/bc", "bc@sha256:abc", "BC@" + DIGEST,
     "ghcr.io/octocat/bc:v1@" + DIGEST.upper()],
)  # fmt: skip
def test_unpinned_images_are_refused(tmp_path, image):
    with pytest.raises(ImageRejected) as caught:
        resolve_image(_image_submission(tmp_path, image), LIMITS, client=object())
    assert caught.value.message == (
        f"image {image!r} is not pinned by digest; use name@sha256:<64 hex digits> "
        "(tags can change after review)"
    )
    assert caught.value.path == str(tmp_path / "pinned.yaml")


@pytest.mark.docker
def test_a_pin_that_cannot_be_pulled_is_a_clean_error(docker_client, tmp_path):
    image = "registry.invalid/octocat/bc@" + DIGEST
    said: list[str] = []
    with pytest.raises(SandboxError) as caught:
        resolve_image(
            _image_submission(tmp_path, image), LIMITS, client=docker_client, progress=said.append
        )
    assert caught.value.message == (
        f"cannot pull image {image}: the registry is unreachable, or the image does not exist "
        "or is private; check the reference and make the image public"
    )
    assert "registry.invalid" in caught.value.detail
    assert said == [f"pulling {image}"]


@pytest.mark.docker
def test_build_runs_in_the_sandbox(docker_client, busybox_image, tmp_path, built_images):
    submission = _build_submission(
        tmp_path, f"FROM {busybox_image}\nCOPY predict.sh /app/predict.sh\n"
    )
    said: list[str] = []
    ref = resolve_image(submission, LIMITS, client=docker_client, progress=said.append)
    built_images.append(ref)
    image = docker_client.images.get(ref.ref)
    assert isinstance(ref, ImageRef)
    assert (ref.id, ref.digest, ref.size) == (image.id, None, image.attrs["Size"])
    assert ref.ref == image.id  # run by ID; the tag is for people
    assert any(t.startswith("challenge-runner/build:") for t in image.tags)
    assert image.labels[LABEL] == "1"
    assert image.labels[BUILD_LABEL] == f"demo/octocat/{submission.name}"
    assert said == ["building the image (time limit 60 s)"]
    work = tmp_path / "work"
    work.mkdir()
    outcome = run_submission(
        ref.ref, ["sh", "/app/predict.sh"], input_dir=submission.build.context,
        submission_dir=None, work_dir=work, limits=LIMITS, client=docker_client,
    )  # fmt: skip
    assert (outcome.status, outcome.predictions.read_text()) == ("ok", "id,y\n1,0.5\n")


@pytest.mark.docker
def test_failing_dockerfile_is_the_participants_fault(docker_client, busybox_image, tmp_path):
    submission = _build_submission(tmp_path, f"FROM {busybox_image}\nRUN echo broken; exit 3\n")
    with pytest.raises(BuildFailed) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert caught.value.message == (
        "the Dockerfile failed to build (The command '/bin/sh -c echo broken; exit 3' returned "
        "a non-zero code: 3); run `docker build` locally to fix it"
    )
    assert "broken\n" in caught.value.detail  # the log is for maintainers only
    assert "broken\n" not in caught.value.message


@pytest.mark.docker
def test_build_has_no_network(docker_client, busybox_image, tmp_path, built_images):
    # The RUN step fails (code 7) if it sees any network interface but loopback.
    check = 'RUN test "$(ls /sys/class/net)" = lo || exit 7'
    submission = _build_submission(tmp_path, f"FROM {busybox_image}\n{check}\n")
    ref = resolve_image(submission, LIMITS, client=docker_client)
    built_images.append(ref)
    history = docker_client.images.get(ref.ref).history()
    assert any("/sys/class/net" in step["CreatedBy"] for step in history)


@pytest.mark.docker
def test_build_time_limit(docker_client, busybox_image, tmp_path):
    submission = _build_submission(tmp_path, f"FROM {busybox_image}\nRUN sleep 600\n")
    limits = ContainerSpec(build_timeout_s=3)
    started = time.monotonic()
    with pytest.raises(BuildFailed) as caught:
        resolve_image(submission, limits, client=docker_client)
    assert time.monotonic() - started < 60  # the 3 s limit stopped it, not the 600 s sleep
    assert caught.value.message == (
        "the image build took longer than the 3 s build time limit; make it faster "
        "(fewer steps, vendored dependencies)"
    )
    # The runner removed what it saw; the daemon cancels the disconnected build and removes
    # any step it started later (under load that took CI over 10 s).
    for _ in range(240):
        running = docker_client.containers.list(filters={"ancestor": busybox_image})
        if not [c for c in running if "sleep 600" in " ".join(c.attrs["Config"]["Cmd"])]:
            break
        time.sleep(0.25)
    else:
        pytest.fail("the build's RUN container is still running")


@pytest.mark.docker
def test_declared_volumes_are_refused(docker_client, busybox_image, tmp_path, built_images):
    submission = _build_submission(tmp_path, f"FROM {busybox_image}\nVOLUME /data /cache\n")
    with pytest.raises(ImageRejected) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert caught.value.message == (
        "the image declares VOLUME /cache, /data; remove the VOLUME instructions (the sandbox "
        "allows no volumes: write results to /output)"
    )
    label = f"{BUILD_LABEL}=demo/octocat/{submission.name}"
    assert docker_client.images.list(filters={"label": label}) == []


@pytest.mark.docker
def test_images_over_the_size_cap_are_refused(docker_client, busybox_image, tmp_path):
    submission = _build_submission(tmp_path, f"FROM {busybox_image}\nCOPY predict.sh /p.sh\n")
    limits = ContainerSpec(image_max_size="1m")
    with pytest.raises(ImageRejected) as caught:
        resolve_image(submission, limits, client=docker_client)
    # The disk watch or the final check: whichever sees the image over the cap first.
    assert caught.value.message in (
        "the image is 2 MiB, over the 1m image size limit; use a smaller base image or fewer "
        "dependencies",
        "the image build wrote more than the 1m image size limit; use a smaller base image or "
        "fewer dependencies",
    )
    label = f"{BUILD_LABEL}=demo/octocat/{submission.name}"
    assert docker_client.images.list(filters={"label": label}) == []


def test_dockerfile_must_be_inside_the_context(tmp_path):
    submission = _build_submission(tmp_path, "FROM scratch\n")
    (tmp_path / "outside").write_text("FROM scratch\n")
    bad = Submission(
        "demo", "octocat", submission.name, submission.path,
        build=BuildSpec(context=submission.build.context, dockerfile="../outside"),
    )  # fmt: skip
    with pytest.raises(ImageRejected) as caught:
        resolve_image(bad, LIMITS, client=object())
    assert caught.value.message == (
        "build.dockerfile '../outside' is not a regular file inside the context"
    )


def test_missing_context_is_refused(tmp_path):
    bad = Submission(
        "demo", "octocat", "x", tmp_path / "x.yaml", build=BuildSpec(context=tmp_path / "nope")
    )
    with pytest.raises(ImageRejected) as caught:
        resolve_image(bad, LIMITS, client=object())
    assert caught.value.message == "build context nope/ is not a directory"  # no host path


def test_oversized_context_is_refused_before_sending(tmp_path):
    submission = _build_submission(tmp_path, "FROM scratch\n")
    (submission.build.context / "weights.bin").write_bytes(b"\0" * (2 << 20))
    with pytest.raises(ImageRejected) as caught:
        resolve_image(submission, ContainerSpec(image_max_size="1m"), client=object())
    assert caught.value.message.startswith("build context is 2")
    assert caught.value.message.endswith(
        "bytes, over the 1m image size limit; remove large files from it"
    )
