"""Create the sandbox container through Podman's own API, for rootless Podman.

Podman's Docker-compatible create drops every ulimit of a rootless container (Podman before
5.5: containers/podman#25881), so a rootless container made that way has no cap on file
sizes, open files or core dumps, and ``verify.py`` refuses to start it. Podman's own create
(``POST /libpod/containers/create``, a SpecGenerator) keeps them. :func:`spec_generator`
translates the arguments of :func:`runner.sandbox.spec.container_kwargs` (the one statement
of the controls) field by field, so the created container is read back by the same
``verify.py`` checks as any other; :func:`create` returns docker-py's ``Container`` for it.
"""

from __future__ import annotations

import logging
from typing import Any

from runner.errors import SandboxError
from runner.sandbox.engine import ENGINE_ERRORS
from runner.sandbox.spec import parse_size

log = logging.getLogger(__name__)

CPU_PERIOD = 100_000  # microseconds, as Docker turns NanoCpus into a CFS quota


def _mounts(kwargs: dict) -> list[dict]:
    mounts = [
        {"destination": path, "type": "tmpfs", "source": "tmpfs", "options": options.split(",")}
        for path, options in kwargs["tmpfs"].items()
    ]
    for source, bind in kwargs["volumes"].items():
        mounts.append({"destination": bind["bind"], "type": "bind", "source": source,
                       "options": ["rbind", bind["mode"]]})  # fmt: skip
    return mounts


def _seccomp_path(kwargs: dict) -> str:
    for option in kwargs["security_opt"]:
        if option.startswith("seccomp="):
            return option.removeprefix("seccomp=")
    raise SandboxError("the sandbox has no seccomp profile to give Podman")  # a runner bug


def spec_generator(kwargs: dict) -> dict:
    """Podman's SpecGenerator for the container ``kwargs`` describes (``container_kwargs``,
    made for engine "podman")."""
    if kwargs.get("device_requests"):
        raise SandboxError("GPUs are not supported on rootless Podman")
    log_config = kwargs["log_config"]
    seccomp = _seccomp_path(kwargs)
    spec = {
        "image": kwargs["image"],
        "labels": kwargs["labels"],
        # Podman's inspect shows a profile in SecurityOpt only by this annotation, which its
        # compatible create sets; the profile itself is seccomp_profile_path (the hostile
        # suite's syscall probe shows it applied).
        "annotations": {"io.podman.annotations.seccomp": seccomp},
        "netns": {"nsmode": kwargs["network_mode"]},
        "read_only_filesystem": kwargs["read_only"],
        "read_write_tmpfs": False,  # the only writable mounts are the ones asked
        "cap_drop": kwargs["cap_drop"],
        "no_new_privileges": "no-new-privileges" in kwargs["security_opt"],
        "seccomp_profile_path": seccomp,
        "user": kwargs["user"],
        "resource_limits": {
            "memory": {"limit": kwargs["mem_limit"], "swap": kwargs["memswap_limit"]},
            "pids": {"limit": kwargs["pids_limit"]},
            "cpu": {"quota": kwargs["nano_cpus"] * CPU_PERIOD // 10**9, "period": CPU_PERIOD},
        },
        "r_limits": [
            {"type": u["Name"], "soft": u["Soft"], "hard": u["Hard"]}  # Podman adds RLIMIT_
            for u in kwargs["ulimits"]
        ],
        "mounts": _mounts(kwargs),
        "shm_size": kwargs["shm_size"],
        "log_configuration": {
            "driver": "k8s-file",  # what Podman makes of Docker's json-file
            "size": parse_size(log_config["Config"]["max-size"]),
        },
        "env": kwargs["environment"],
        "httpproxy": False,  # no proxy variables from the host (containers.conf says yes)
        "init": kwargs["init"],
        "hostname": kwargs["hostname"],
        "privileged": kwargs["privileged"],
    }
    if kwargs["command"]:
        spec["command"] = kwargs["command"]
    if kwargs["runtime"]:
        spec["oci_runtime"] = kwargs["runtime"]
    return spec


def create(client: Any, kwargs: dict) -> Any:
    """Create the container through ``/libpod/containers/create``; docker-py's object for it."""
    url = f"{client.api.base_url}/v4.0.0/libpod/containers/create"
    try:
        answer = client.api.post(url, json=spec_generator(kwargs))
    except ENGINE_ERRORS as err:
        raise SandboxError("the Podman engine did not answer the create", detail=str(err)) from err
    if answer.status_code >= 400:
        raise SandboxError(
            "the container engine refused to run the submission", detail=answer.text[:2000]
        )
    body = answer.json()
    for warning in body.get("Warnings") or []:
        log.warning("podman: %s", warning)
    return client.containers.get(body["Id"])
