"""``FakeEngine``: the ``/info``, ``/version`` (and Podman's ``/libpod/info``) answers of
engines that do not run here (one lacking controls, rootless Docker or Podman), for the
``check_engine`` tests of test_sandbox.py and test_sandbox_verify.py. The real engines are
tested in those files too.
"""

from __future__ import annotations


class _Answer:
    def __init__(self, body: dict):
        self._body = body

    def raise_for_status(self):
        return None

    def json(self):
        return self._body


class _LibpodAPI:
    base_url = "http://stand-in"

    def __init__(self, host: dict):
        self.host = host

    def get(self, url: str) -> _Answer:
        assert url == "http://stand-in/v4.0.0/libpod/info"
        return _Answer({"host": self.host})


class FakeEngine:
    """``/info`` and ``/version`` of an engine that does not run here (and Podman's
    ``/libpod/info``, its ``host`` part being ``libpod_host``)."""

    def __init__(self, name: str = "Engine", libpod_host: dict | None = None, **info):
        self._info = {"MemoryLimit": True, "SwapLimit": True, "PidsLimit": True,
                      "CpuCfsQuota": True, "Runtimes": {"runc": {}}} | info  # fmt: skip
        self._name = name
        self.api = _LibpodAPI(
            libpod_host
            or {
                "security": {"rootless": False},
                "cgroupVersion": "v1",
                "ociRuntime": {"name": "runc", "path": "/usr/bin/runc"},
            }
        )

    def info(self):
        return self._info

    def version(self):
        return {"Components": [{"Name": self._name}]}
