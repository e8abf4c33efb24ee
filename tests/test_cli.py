"""The command line: help, exit codes, the one error handler, schemas."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from runner import cli
from runner.cli import COMMANDS, main
from runner.errors import ConfigError


def test_help_lists_every_command_without_importing_them(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name}" in out
        assert summary in " ".join(out.split())


def test_every_registered_command_imports_and_has_help() -> None:
    group = cli.cli
    for name in COMMANDS:
        command = group.get_command(click.Context(group), name)
        assert isinstance(command, click.Command), name
        assert command.help, f"{name} has no --help text"


def test_help_imports_nothing_heavy() -> None:
    """What keeps start-up fast; the time itself is bench/bench_validate.py's figure (a
    wall-clock bound here would fail on a loaded machine, not on slow code)."""
    code = (
        "import sys, contextlib, io; from runner.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "print([m for m in ('pandas', 'numpy', 'docker', 'github', 'jinja2', 'mkdocs') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "runner", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == "challenge-runner, version 0.1.0"


def test_unknown_command_is_a_user_error(capsys) -> None:
    assert main(["nope"]) == 1
    assert "No such command 'nope'" in capsys.readouterr().err


def test_runner_error_exits_1_with_its_message(monkeypatch, capsys) -> None:
    def boom(*args, **kwargs):
        raise ConfigError("challenge.yaml is broken; fix it", path="challenges/x/challenge.yaml")

    monkeypatch.setattr(cli.cli, "main", boom)
    assert main([]) == 1
    assert capsys.readouterr().err == (
        "error: challenges/x/challenge.yaml: challenge.yaml is broken; fix it\n"
    )


def test_a_bug_exits_3_and_saves_the_traceback(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("CHALLENGE_RUNNER_LOG_DIR", str(tmp_path))

    def boom(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(cli.cli, "main", boom)
    assert main([]) == 3
    err = capsys.readouterr().err
    [log] = tmp_path.glob("challenge-runner-crash-*.log")
    assert err.startswith("internal error: KeyError: 'surprise'\n")
    assert str(log) in err
    assert "Traceback" in log.read_text() and "surprise" in log.read_text()


@pytest.mark.parametrize("name", ["challenge", "submission", "teams", "result"])
def test_schema_command_prints_a_draft7_schema_with_an_id(name, capsys) -> None:
    assert main(["schema", name]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == f"https://challenge-runner.dev/schemas/{name}.schema.json"
    from jsonschema import Draft7Validator

    Draft7Validator.check_schema(schema)


def test_schemas_are_strict_and_documented() -> None:
    """Every object rejects unknown keys and every property has a description."""
    from runner.schemas import load_schema

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
                for key, sub in node["properties"].items():
                    assert "description" in sub or "$ref" in sub, f"{where}.{key}"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")

    for name in ("challenge", "submission", "teams"):
        walk(load_schema(name), name)


def test_metrics_command_lists_the_registry(capsys) -> None:
    assert main(["metrics", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["roc_auc"]["higher_is_better"] is True
    assert rows["rmse"]["kind"] == "number" and rows["rmse"]["higher_is_better"] is False
    assert main(["metrics"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("log_loss "))
    assert "lower is better" in line and "probability" in line


def test_pre_commit_hook_runs_validate_on_the_files_it_matches(capsys) -> None:
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "challenge-runner-validate" and hook["language"] == "python"
    matches = re.compile(hook["files"])
    tracked = [
        "challenges/diabetes/challenge.yaml",
        "submissions/diabetes/octocat/ridge.yaml",
        "teams.yaml",
    ]
    assert all(matches.search(path) for path in tracked)
    assert not matches.search("submissions/diabetes/octocat/ridge.csv")
    assert not matches.search("challenges/diabetes/public/train.csv")
    program, *args = hook["entry"].split()
    assert program == "challenge-runner"
    # pre-commit runs `entry` with the matching staged files appended.
    paths = [str(root / p) for p in tracked]
    assert main([*args, "--root", str(root), *paths]) == 0
    assert capsys.readouterr().out == "3 file(s) checked: all valid\n"
