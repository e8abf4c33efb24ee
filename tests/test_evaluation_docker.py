"""Container submissions end to end through `challenge-runner evaluate` on the real engine.

The example's container submission (a Dockerfile FROM the offline python image) is built,
run in the sandbox on the hidden inputs and scored; a crashing one gets a `failed` record
whose maintainer detail (the container's output, which saw hidden inputs) is sealed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runner.cli import main
from runner.data import decrypt_text

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path, python_image: str) -> Path:
    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    return root


def evaluate_json(root: Path, manifest: str, capsys) -> tuple[int, dict]:
    code = main(["evaluate", str(root / manifest), "--root", str(root), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_example_container_submission_is_built_run_and_scored(repo: Path, capsys) -> None:
    code, record = evaluate_json(repo, "submissions/breast-cancer/hubot/small-logreg.yaml", capsys)
    assert code == 0
    assert record["status"] == "scored"
    assert record["provenance"]["image_digest"].startswith("sha256:")
    assert 0.98 < record["scores"]["public"]["roc_auc"]["value"] <= 1.0
    assert record["private"].startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    assert set(record["timings"]) >= {"data", "image", "run", "total"}
    assert record["detail"] is None  # nothing went wrong: nothing for maintainers


def test_crashing_container_is_failed_with_a_sealed_detail(repo: Path, capsys) -> None:
    model = repo / "submissions/breast-cancer/hubot/model/predict.py"
    model.write_text(
        "import sys\nprint(open('/input/test.csv').read()[:200])\n"
        "print('SECRET-MARKER', file=sys.stderr)\nsys.exit(3)\n"
    )
    code, record = evaluate_json(repo, "submissions/breast-cancer/hubot/small-logreg.yaml", capsys)
    assert code == 1
    # The container chose its exit code (it can encode a hidden value): never in clear.
    assert (record["status"], record["message"]) == ("failed", "exited with a non-zero code")
    assert record["scores"] == {}
    assert record["timings"]["run"] in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)  # coarse
    raw = json.dumps(record)
    assert "SECRET-MARKER" not in raw and "mean_radius" not in raw and "code 3" not in raw
    identity = (repo / "challenges/breast-cancer/demo-key.txt").read_text()
    detail = decrypt_text(record["detail"], identity)
    assert "exit_code=3" in detail and "SECRET-MARKER" in detail


def test_invalid_container_output_reason_is_withheld(repo: Path, capsys) -> None:
    """The validator quotes the file; a file written from hidden inputs may quote them."""
    model = repo / "submissions/breast-cancer/hubot/model/predict.py"
    model.write_text(
        "first = open('/input/test.csv').read().splitlines()[1]\n"
        "open('/output/predictions.csv', 'w').write(first + '\\n')\n"
    )
    code, record = evaluate_json(repo, "submissions/breast-cancer/hubot/small-logreg.yaml", capsys)
    assert code == 1
    assert record["status"] == "invalid"
    assert record["message"] == (
        "/output/predictions.csv does not match the challenge's format: a CSV with the header "
        "`id,malignant` and one row per test id. The exact reason is withheld because the file "
        "was written from hidden inputs; run your container on the public sample inputs to see it."
    )
    assert "bc-0" not in json.dumps(record)  # no hidden id, no hidden value in clear
    identity = (repo / "challenges/breast-cancer/demo-key.txt").read_text()
    assert "bc-0" in decrypt_text(record["detail"], identity)  # maintainers see why
