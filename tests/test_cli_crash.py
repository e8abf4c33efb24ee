"""A bug's traceback reaches the maintainer (runner.cli.crash): a log file of its own, and
in GitHub Actions the job log, in clear (commands disabled) or sealed where the command
opens hidden data. Saving it can fail without hiding the bug."""

from __future__ import annotations

import re

import pyrage
import pytest

from runner import cli
from runner.cli import main


@pytest.fixture
def bug(monkeypatch):
    def boom(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(cli.cli, "main", boom)
    for name in ("CHALLENGE_RUNNER_LOG_DIR", "CHALLENGE_RUNNER_SEAL_TO", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)


def test_each_crash_gets_its_own_log_in_the_runner_temp(bug, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    assert main(["pr", "report"]) == 3
    assert main(["pr", "report"]) == 3
    logs = sorted(tmp_path.glob("challenge-runner-crash-*.log"))
    assert len(logs) == 2
    err = capsys.readouterr().err
    assert all(f"the traceback is in {log}." in err for log in logs)
    assert "Traceback" not in err  # outside Actions the file is enough


def test_in_actions_the_traceback_is_in_the_job_log_with_commands_stopped(
    bug, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["pr", "report", "--root", "."]) == 3
    err = capsys.readouterr().err
    stop = re.search(r"^::stop-commands::([0-9a-f]{32})$", err, re.M)
    assert stop, err
    inside = err[stop.end() : err.index(f"::{stop.group(1)}::")]
    assert "Traceback (most recent call last)" in inside and "KeyError: 'surprise'" in inside


def test_a_command_that_opens_hidden_data_seals_its_traceback(bug, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["pr", "score", "--item", "x"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: KeyError: (its message is sealed)\n")
    assert "Traceback" not in err and "surprise" not in err
    assert "its traceback is not shown here; set CHALLENGE_RUNNER_SEAL_TO" in err

    maintainer = pyrage.x25519.Identity.generate()
    monkeypatch.setenv("CHALLENGE_RUNNER_SEAL_TO", str(maintainer.to_public()))
    assert main(["pr", "score", "--item", "x"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "surprise" not in err
    armored = err[err.index("-----BEGIN AGE ENCRYPTED FILE-----") :]
    opened = pyrage.decrypt(armored.encode(), [maintainer]).decode()
    assert "Traceback (most recent call last)" in opened and "surprise" in opened


def test_a_failure_to_save_never_hides_the_bug(bug, monkeypatch, tmp_path, capsys):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    monkeypatch.setenv("CHALLENGE_RUNNER_LOG_DIR", str(blocked))
    assert main(["leaderboard", "x"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: KeyError: 'surprise'\n")
    assert "the traceback could not be saved (FileExistsError:" in err
    assert "KeyError: 'surprise'" in err.split("::stop-commands::")[1]  # printed instead
