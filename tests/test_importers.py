"""`challenge-runner import`: EvalAI and Codabench bundles become challenges whose original
scoring program scores, unmodified, with the same numbers as the program run by itself.

The bundles under tests/examples/importers/ are written for these tests in the layouts of
EvalAI-Starters and codalab/competition-examples (see their README.md files).
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from runner.cli import main
from runner.data.crypto import decrypt_file, parse_identities
from runner.errors import ConfigError
from runner.importers import import_bundle
from runner.loader import load_challenge

BUNDLES = Path(__file__).parent / "examples" / "importers"
CODABENCH = BUNDLES / "codabench-parity"
EVALAI = BUNDLES / "evalai-vowels"
PYTHON_IMAGE = "challenge-runner/python:bookworm"


def hidden_members(folder: Path, identity: str, tmp_path: Path) -> dict[str, int]:
    plain = tmp_path / "hidden.tar.gz"
    decrypt_file(folder / "hidden.tar.age", plain, parse_identities(identity, "key"), "key")
    with tarfile.open(plain) as tar:
        return {m.name: m.size for m in tar.getmembers() if m.isfile()}


def test_codabench_bundle_maps_phases_metrics_pages_and_data(tmp_path):
    (done,) = import_bundle("codabench", CODABENCH, tmp_path / "challenges", image=PYTHON_IMAGE)
    challenge = load_challenge(done.folder / "challenge.yaml")
    assert challenge.id == "parity-mini"
    assert [
        (m.name, m.key, m.label, m.higher_is_better, m.precision) for m in challenge.metrics
    ] == [
        ("accuracy", "accuracy", "Accuracy", True, 3),
        ("errors", "errors", "Errors", False, 4),  # precision: resolved default
    ]
    dev, final = challenge.phases
    assert (dev.id, dev.limits.per_day, dev.limits.total) == ("development", 5, 100)
    assert (final.id, final.limits.per_day) == ("final", 0)  # closed to new submissions
    assert final.open_ended
    assert challenge.program.protocol == "codabench"
    assert challenge.program.command == "python $program/score.py $input $output"
    assert challenge.predictions.format == "files"
    readme = (done.folder / "README.md").read_text()
    assert "## Overview" in readme and "## Terms" in readme and "Be nice." in readme
    assert (done.folder / "public" / "development" / "sample.txt").is_file()
    assert (done.folder / "scoring_program" / "score.py").read_bytes() == (
        CODABENCH / "scoring_program" / "score.py"
    ).read_bytes()
    members = hidden_members(done.folder, done.identity, tmp_path)
    assert set(members) == {
        "inputs/numbers.txt",
        "reference/development/truth.txt",
        "reference/final/truth.txt",
    }
    # The reference data exists only inside the encrypted archive.
    assert not list(done.folder.rglob("truth.txt"))


def test_evalai_overlapping_phases_become_separate_challenges(tmp_path):
    done = import_bundle("evalai", EVALAI, tmp_path / "challenges", image=PYTHON_IMAGE)
    assert [d.folder.name for d in done] == [
        "vowel-counting-challenge",
        "vowel-counting-challenge-dev",
    ]
    assert done[0].identity == done[1].identity  # one key for one import
    test = load_challenge(done[0].folder / "challenge.yaml")
    dev = load_challenge(done[1].folder / "challenge.yaml")
    assert [p.id for p in test.phases] == ["test"]
    assert [p.id for p in dev.phases] == ["dev", "final-round"]  # Final follows Dev
    assert dev.program.codename("final-round") == "Final_Round"
    assert dict(dev.program.splits) == {"train_split": "public", "test_split": "private"}
    assert [m.name for m in dev.metrics] == ["total", "exact", "error"]  # default_order_by
    assert dev.metrics[0].label == "Total" and dev.metrics[0].precision == 2
    assert (dev.phases[0].limits.per_day, dev.phases[0].limits.total) == (5, 50)
    notes = " | ".join(done[1].notes)
    assert "max_submissions_per_month has no equivalent" in notes
    assert not dev.phases[1].listed  # is_public: False
    assert "runs at the same time as another phase" in notes
    members = hidden_members(done[1].folder, done[1].identity, tmp_path)
    assert set(members) == {"reference/dev/dev.json", "reference/final-round/final.json"}
    assert (done[1].folder / "evaluation_script" / "main.py").is_file()


def test_evalai_evaluation_script_may_be_a_zip(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(EVALAI, bundle)
    with zipfile.ZipFile(bundle / "evaluation_script.zip", "w") as archive:
        for path in sorted((bundle / "evaluation_script").iterdir()):
            archive.write(path, f"evaluation_script/{path.name}")
    shutil.rmtree(bundle / "evaluation_script")
    done = import_bundle("evalai", bundle, tmp_path / "challenges", image=PYTHON_IMAGE)
    assert (done[0].folder / "evaluation_script" / "__init__.py").is_file()


def test_a_zipped_bundle_imports_like_its_folder(tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(CODABENCH.rglob("*")):
            if path.is_file():
                bundle.write(path, f"parity/{path.relative_to(CODABENCH)}")
    (done,) = import_bundle("codabench", archive, tmp_path / "challenges", image=PYTHON_IMAGE)
    assert load_challenge(done.folder / "challenge.yaml").id == "parity-mini"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(version=1), "only Codabench bundles (version: 2) are supported"),
        (lambda c: c.pop("leaderboards"), "the bundle has no leaderboards"),
        (
            lambda c: [t.pop("scoring_program") for t in c["tasks"]],
            "no task names a scoring_program",
        ),
    ],
)
def test_bundles_that_cannot_be_imported_say_why(tmp_path, change, message):
    bundle = tmp_path / "bundle"
    shutil.copytree(CODABENCH, bundle)
    config = yaml.safe_load((bundle / "competition.yaml").read_text())
    change(config)
    (bundle / "competition.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=re.escape(message)):
        import_bundle("codabench", bundle, tmp_path / "challenges")
    assert not (tmp_path / "challenges" / "parity-mini").exists()


def test_import_never_overwrites_and_names_a_wrong_bundle(tmp_path):
    import_bundle("codabench", CODABENCH, tmp_path / "c", image=PYTHON_IMAGE)
    with pytest.raises(ConfigError, match="parity-mini already exists; remove it"):
        import_bundle("codabench", CODABENCH, tmp_path / "c")
    with pytest.raises(ConfigError, match=r"no competition\.yaml found"):
        import_bundle("codabench", EVALAI, tmp_path / "c")


def test_cli_prints_the_secret_once_on_stdout_and_the_report_on_stderr(tmp_path, capsys):
    code = main(["import", "codabench", str(CODABENCH), "--challenges", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.count("AGE-SECRET-KEY-1") == 1 and out.strip().startswith("AGE-SECRET-KEY-1")
    assert "not mapped: maintainers: set your GitHub login(s) in challenge.yaml" in err
    assert "AGE-SECRET-KEY" not in err
    assert "AGE-SECRET-KEY" not in "".join(
        p.read_text(errors="replace") for p in (tmp_path / "c").rglob("*") if p.is_file()
    )


# --- scoring through the runner equals the original program ------------------------------


# The bundles' first phases run from 2019/2026-01-01 into 2099: "now" is in them.
def prepare_repo(tmp_path: Path, kind: str, bundle: Path, files: dict[str, bytes]):
    root = tmp_path / "repo"
    done = import_bundle(kind, bundle, root / "challenges", image=PYTHON_IMAGE)
    for imported in done:
        path = imported.folder / "challenge.yaml"
        path.write_text(path.read_text().replace("TODO-maintainer-login", "octocat"))
    challenge_id = done[-1].folder.name
    folder = root / "submissions" / challenge_id / "alice"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    predictions = next(iter(files))
    manifest = f"challenge: {challenge_id}\nparticipant: alice\nname: first\n"
    (folder / "first.yaml").write_text(manifest + f"predictions: {predictions}\n")
    return root, folder / "first.yaml", done[-1].identity


def evaluate(root: Path, manifest: Path, identity: str, monkeypatch, capsys, code=0) -> dict:
    monkeypatch.chdir(root)
    monkeypatch.setenv("CHALLENGE_KEY", identity)
    assert main(["evaluate", str(manifest.relative_to(root))]) == code
    capsys.readouterr()
    (record,) = (root / "results").rglob("*.json")
    return json.loads(record.read_text())


def codabench_original(bundle: Path, reference: Path, submission: Path, tmp_path: Path) -> dict:
    """The original program run by itself, as Codabench runs it."""
    work = tmp_path / "original"
    shutil.copytree(reference, work / "input" / "ref")
    (work / "input" / "res").mkdir()
    shutil.copy(submission, work / "input" / "res")
    (work / "output").mkdir()
    program = bundle / "scoring_program"
    subprocess.run(
        [sys.executable, str(program / "score.py"), str(work / "input"), str(work / "output")],
        check=True,
        cwd=program,
    )
    return json.loads((work / "output" / "scores.json").read_text())


@pytest.mark.docker
def test_codabench_scores_equal_the_original_program(tmp_path, monkeypatch, capsys, python_image):
    sample = (CODABENCH / "sample_result_submission" / "predictions.txt").read_bytes()
    root, manifest, identity = prepare_repo(
        tmp_path, "codabench", CODABENCH, {"predictions.txt": sample}
    )
    record = evaluate(root, manifest, identity, monkeypatch, capsys)
    original = codabench_original(
        CODABENCH,
        CODABENCH / "reference_data" / "dev",
        CODABENCH / "sample_result_submission" / "predictions.txt",
        tmp_path,
    )
    assert record["status"] == "scored" and record["phase"] == "development"
    scores = {name: s["value"] for name, s in record["scores"]["public"].items()}
    assert scores == {"accuracy": original["accuracy"], "errors": original["errors"]}
    assert scores["accuracy"] == pytest.approx(0.8)


@pytest.mark.docker
def test_a_zipped_result_submission_is_unpacked_for_the_program(
    tmp_path, monkeypatch, capsys, python_image
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(CODABENCH / "sample_result_submission" / "predictions.txt", "predictions.txt")
    root, manifest, identity = prepare_repo(
        tmp_path, "codabench", CODABENCH, {"submission.zip": buffer.getvalue()}
    )
    record = evaluate(root, manifest, identity, monkeypatch, capsys)
    assert record["status"] == "scored"
    assert record["scores"]["public"]["errors"]["value"] == 8


@pytest.mark.docker
@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"predictions.txt": b"0 even\n"}, "submission instructions (failed)"),
        (
            {"evil.zip": "zip-slip"},
            "the submission zip member '../../escape.txt' leaves its folder",
        ),
    ],
)
def test_a_file_the_program_refuses_is_invalid_and_counted(
    tmp_path, monkeypatch, capsys, python_image, files, reason
):
    if files.get("evil.zip") == "zip-slip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("../../escape.txt", "x")
        files = {"evil.zip": buffer.getvalue()}
    root, manifest, identity = prepare_repo(tmp_path, "codabench", CODABENCH, files)
    record = evaluate(root, manifest, identity, monkeypatch, capsys, code=1)
    assert record["status"] == "invalid"  # counts against limits: no free probes
    assert reason in record["message"]
    assert record["scores"] == {}
    assert not (tmp_path / "escape.txt").exists()
    if "predictions.txt" in files:  # the program's own words reach maintainers, sealed
        assert "cover exactly" not in json.dumps(record)
        (path,) = (root / "results").rglob("*.json")
        assert main(["detail", str(path.relative_to(root))]) == 0
        assert "predictions must cover exactly the test ids" in capsys.readouterr().out


def test_detail_refuses_a_file_that_is_not_a_record(tmp_path, capsys):
    (tmp_path / "x.json").write_text("[1, 2]")
    assert main(["detail", str(tmp_path / "x.json")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'x.json'}: not a result record (no challenge field)\n"
    )


@pytest.mark.docker
def test_evalai_scores_equal_the_original_evaluate(tmp_path, monkeypatch, capsys, python_image):
    submission = (EVALAI / "submission.json").read_bytes()
    root, manifest, identity = prepare_repo(
        tmp_path, "evalai", EVALAI, {"submission.json": submission}
    )
    record = evaluate(root, manifest, identity, monkeypatch, capsys)
    copy = shutil.copytree(EVALAI / "evaluation_script", tmp_path / "original")  # it writes
    spec = importlib.util.spec_from_file_location("vowels_original", copy / "main.py")
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)
    expected = original.evaluate(
        str(EVALAI / "annotations" / "dev.json"),
        str(EVALAI / "submission.json"),
        "dev",
        submission_metadata={},
    )["result"][0]["train_split"]
    assert record["status"] == "scored" and record["phase"] == "dev"
    scores = {name: s["value"] for name, s in record["scores"]["public"].items()}
    assert scores == {
        "total": expected["Total"],
        "exact": expected["Exact"],
        "error": expected["Error"],
    }


@pytest.mark.docker
def test_a_program_that_hard_codes_codabench_paths_finds_them(
    tmp_path, monkeypatch, capsys, python_image
):
    bundle = tmp_path / "bundle"
    shutil.copytree(CODABENCH, bundle)
    # Codabench's own examples call their scorer with the worker's fixed paths.
    (bundle / "scoring_program" / "metadata.yaml").write_text(
        "command: python /app/program/score.py /app/input /app/output\n"
    )
    sample = (CODABENCH / "sample_result_submission" / "predictions.txt").read_bytes()
    root, manifest, identity = prepare_repo(
        tmp_path, "codabench", bundle, {"predictions.txt": sample}
    )
    record = evaluate(root, manifest, identity, monkeypatch, capsys)
    assert record["status"] == "scored"
    assert record["scores"]["public"]["accuracy"]["value"] == pytest.approx(0.8)
