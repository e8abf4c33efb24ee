"""The version lives in pyproject.toml only; the package reports the same."""

from __future__ import annotations

import tomllib
from pathlib import Path

from runner import __version__
from runner.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_reports_pyprojects_version(capsys) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert __version__ == declared
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"challenge-runner, version {declared}\n"
