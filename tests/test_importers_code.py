"""Codabench code-submission bundles: the ingestion program runs the participant's code in
the sandbox, its whole output goes to the scoring program, and the scores equal the
original programs run by themselves the way Codabench's compute worker runs them.

The bundle tests/examples/importers/codabench-code is written for these tests in the layout
of codalab/competition-examples' code-submission bundles (wheat_seeds, mini-automl): fixed
/app paths, two phases with their own input and reference data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from runner.cli import main
from runner.data.crypto import decrypt_file, parse_identities
from runner.errors import ConfigError
from runner.evaluation.local import Options, evaluate
from runner.importers import import_bundle
from runner.loader import load_repo

BUNDLE = Path(__file__).parent / "examples" / "importers" / "codabench-code"
PYTHON_IMAGE = "challenge-runner/python:bookworm"
IN_DEVELOPMENT = datetime(2026, 6, 1, tzinfo=UTC)
IN_FINAL = datetime(2100, 6, 1, tzinfo=UTC)


def import_repo(tmp_path: Path, bundle: Path = BUNDLE) -> tuple[Path, str]:
    """A repository holding the imported challenge; its secret identity."""
    root = tmp_path / "repo"
    (done,) = import_bundle("codabench", bundle, root / "challenges", image=PYTHON_IMAGE)
    path = done.folder / "challenge.yaml"
    path.write_text(path.read_text().replace("TODO-maintainer-login", "octocat"))
    return root, done.identity


def add_submission(root: Path, name: str, code: dict[str, str] | Path, *, as_zip=False) -> Path:
    folder = root / "submissions" / "seeds-mini" / "alice"
    folder.mkdir(parents=True, exist_ok=True)
    files = {p.name: p.read_text() for p in code.iterdir()} if isinstance(code, Path) else code
    if as_zip:
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as bundle:
            for file, text in files.items():
                bundle.writestr(file, text)
        where = f"{name}.zip"
    else:
        (folder / name).mkdir()
        for file, text in files.items():
            (folder / name / file).write_text(text)
        where = name
    manifest = folder / f"{name}.yaml"
    manifest.write_text(f"challenge: seeds-mini\nparticipant: alice\nname: {name}\ncode: {where}\n")
    return manifest


def run(root: Path, manifest: Path, identity: str, now: datetime) -> dict:
    repo = load_repo(root)
    assert not repo.problems, repo.problems
    (submission,) = [s for s in repo.submissions if s.path == manifest]
    challenge = repo.challenges[submission.challenge]
    options = Options(results_dir=root / "results", env={"CHALLENGE_KEY": identity}, now=now)
    return json.loads(evaluate(challenge, submission, options).path.read_text())


def codabench_original(phase: str, code: Path, tmp_path: Path) -> dict:
    """The original ingestion then scoring program, each run by plain `docker run` with the
    mounts of Codabench's compute worker, without the runner."""
    work = tmp_path / f"original-{phase}"
    predictions, scores = work / "res", work / "scores"
    for folder in (predictions, scores):
        folder.mkdir(parents=True)
    user = f"{os.getuid()}:{os.getgid()}"

    def docker_run(mounts: dict[Path, str], command: str) -> None:
        volumes = [f"-v{host}:{inside}" for host, inside in mounts.items()]
        subprocess.run(
            ["docker", "run", "--rm", "--network=none", f"--user={user}", *volumes,
             "-w", "/app/program", PYTHON_IMAGE, *command.split()],
            check=True, capture_output=True,
        )  # fmt: skip

    docker_run(
        {
            BUNDLE / "ingestion_program": "/app/program:ro",
            code: "/app/ingested_program:ro",
            BUNDLE / phase / "input_data": "/app/input_data:ro",
            predictions: "/app/output",
        },
        yaml.safe_load((BUNDLE / "ingestion_program" / "metadata.yaml").read_text())["command"],
    )
    docker_run(
        {
            BUNDLE / "scoring_program": "/app/program:ro",
            BUNDLE / phase / "reference_data": "/app/input/ref:ro",
            predictions: "/app/input/res:ro",
            scores: "/app/output",
        },
        yaml.safe_load((BUNDLE / "scoring_program" / "metadata.yaml").read_text())["command"],
    )
    return json.loads((scores / "scores.json").read_text())


def values(record: dict) -> dict[str, float]:
    return {name: score["value"] for name, score in record["scores"]["public"].items()}


# --- import -------------------------------------------------------------------------------


def test_a_code_bundle_imports_as_a_code_challenge_with_inputs_per_phase(tmp_path):
    root, identity = import_repo(tmp_path)
    folder = root / "challenges" / "seeds-mini"
    data = yaml.safe_load((folder / "challenge.yaml").read_text())
    assert data["submission_kinds"] == ["predictions", "code"]
    assert data["program"]["ingestion"] == {
        "path": "ingestion_program",
        "command": "python3 ingestion.py",
    }
    assert data["container"] == {"timeout_s": 300}  # the longest execution_time_limit
    assert (folder / "ingestion_program" / "ingestion.py").read_bytes() == (
        BUNDLE / "ingestion_program" / "ingestion.py"
    ).read_bytes()  # unmodified
    assert (folder / "public" / "starting_kit" / "model.py").is_file()
    plain = tmp_path / "hidden.tar.gz"
    decrypt_file(folder / "hidden.tar.age", plain, parse_identities(identity, "key"), "key")
    with tarfile.open(plain) as tar:
        members = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert members == [
        f"{part}/{phase}/{name}"
        for part, names in (
            ("inputs", ("testing_data", "training_data", "training_label")),
            ("reference", ("testing_label",)),
        )
        for phase in ("development", "final")
        for name in names
    ]
    assert not load_repo(root).problems


def test_phases_sharing_their_input_data_share_one_inputs_folder(tmp_path):
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    text = (bundle / "competition.yaml").read_text()
    (bundle / "competition.yaml").write_text(
        text.replace("input_data: final_phase/input_data/", "input_data: dev_phase/input_data/")
    )
    root, identity = import_repo(tmp_path, bundle)
    plain = tmp_path / "hidden.tar.gz"
    archive = root / "challenges" / "seeds-mini" / "hidden.tar.age"
    decrypt_file(archive, plain, parse_identities(identity, "key"), "key")
    with tarfile.open(plain) as tar:
        inputs = sorted(m.name for m in tar.getmembers() if m.name.startswith("inputs/"))
    assert inputs == [
        "inputs/testing_data", "inputs/training_data", "inputs/training_label"
    ]  # fmt: skip


def test_ingestion_during_scoring_is_refused_it_would_show_code_the_truth(tmp_path):
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    text = (bundle / "competition.yaml").read_text()
    (bundle / "competition.yaml").write_text(
        text.replace("    ingestion_program: ingestion_program/\n",
                     "    ingestion_program: ingestion_program/\n"
                     "    ingestion_only_during_scoring: True\n", 1)
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"ingestion_only_during_scoring.*reference data"):
        import_bundle("codabench", bundle, tmp_path / "out", image=PYTHON_IMAGE)
    assert not (tmp_path / "out" / "seeds-mini").exists()


# --- manifests and challenges -------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "files", "message"),
    [
        ("code: model.py\n", {"model.py": "x = 1\n"}, "'model.py' must be a folder or a .zip"),
        ("code: nowhere\n", {}, "'nowhere' does not exist"),
        ("code: m\ncommand: [python3, x.py]\n", {"m/model.py": ""}, "command: is for container"),
        ("code: ../m\n", {}, "must not contain '..'"),
        ("code: m\npredictions: p.csv\n", {"m/model.py": "", "p.csv": ""}, "give only one"),
    ],
)
def test_bad_code_manifests_say_what_to_fix(tmp_path, manifest, files, message):
    root, _ = import_repo(tmp_path)
    folder = root / "submissions" / "seeds-mini" / "alice"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "x.yaml").write_text(
        "challenge: seeds-mini\nparticipant: alice\nname: x\n" + manifest
    )
    problems = [str(p) for p in load_repo(root).problems]
    assert any(message in p and "x.yaml" in p for p in problems), problems


def test_a_challenge_must_accept_code_and_have_an_ingestion_program(tmp_path):
    root, _ = import_repo(tmp_path)
    path = root / "challenges" / "seeds-mini" / "challenge.yaml"
    data = yaml.safe_load(path.read_text())
    data["submission_kinds"] = ["predictions"]
    path.write_text(yaml.safe_dump(data))
    add_submission(root, "first", {"model.py": ""})
    problems = [str(p) for p in load_repo(root).problems]
    assert any("does not accept code submissions" in p for p in problems), problems
    data["submission_kinds"] = ["code"]
    del data["program"]["ingestion"]
    path.write_text(yaml.safe_dump(data))
    problems = [str(p) for p in load_repo(root).problems]
    assert any("code submissions need an ingestion program" in p for p in problems), problems


# --- evaluation in the sandbox ------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.parametrize(("phase", "folder", "now"), [
    ("development", "dev_phase", IN_DEVELOPMENT), ("final", "final_phase", IN_FINAL),
])  # fmt: skip
def test_code_scores_equal_the_original_programs_in_each_phase(
    tmp_path, python_image, phase, folder, now
):
    root, identity = import_repo(tmp_path)
    manifest = add_submission(root, "solution", BUNDLE / "solution")
    record = run(root, manifest, identity, now)
    original = codabench_original(folder, BUNDLE / "solution", tmp_path)
    assert (record["status"], record["phase"]) == ("scored", phase)
    assert values(record) == original
    # the phases' own data: 20 and 25 test rows, accuracies 0.9 and 0.72
    assert values(record) == {"development": {"accuracy": 0.9, "rows": 20.0},
                              "final": {"accuracy": 0.72, "rows": 25.0}}[phase]  # fmt: skip
    assert record["provenance"]["image_digest"].startswith("sha256:")


@pytest.mark.docker
def test_a_zipped_starting_kit_scores_like_its_folder_through_the_cli(
    tmp_path, monkeypatch, capsys, python_image
):
    root, identity = import_repo(tmp_path)
    add_submission(root, "folder", BUNDLE / "starting_kit")
    add_submission(root, "zipped", BUNDLE / "starting_kit", as_zip=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CHALLENGE_KEY", identity)
    assert main(["validate"]) == 0
    for name in ("folder", "zipped"):
        assert main(["evaluate", f"submissions/seeds-mini/alice/{name}.yaml"]) == 0
    capsys.readouterr()
    records = {
        json.loads(p.read_text())["submission"]: json.loads(p.read_text())
        for p in (root / "results").rglob("*.json")
    }
    original = codabench_original("dev_phase", BUNDLE / "starting_kit", tmp_path)
    assert values(records["folder"]) == values(records["zipped"]) == original
    assert records["zipped"]["status"] == "scored"


FAILING = {"model.py": "class Model:\n    def fit(self, x, y):\n        raise ValueError('no')\n"}
# Code that looks for the reference data and leaves what it found for the scorer to refuse.
PROBE = {
    "model.py": (
        "import os\n"
        "class Model:\n"
        "    def fit(self, x, y):\n"
        "        places = ('/app/input/ref', '/app/input', '/input')\n"
        "        seen = [p for p in places if os.path.exists(p)]\n"
        "        seen += sorted(os.listdir('/app'))\n"
        "        open('/app/output/seen.txt', 'w').write(repr(seen))\n"
        "    def predict(self, x):\n"
        "        return [1.0] * len(x)\n"
    )
}
LINK = {
    "model.py": (
        "import os\n"
        "class Model:\n"
        "    def fit(self, x, y):\n"
        "        os.symlink('/etc/passwd', '/app/output/leak')\n"
        "    def predict(self, x):\n"
        "        return [1.0] * len(x)\n"
    )
}


@pytest.mark.docker
@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        (FAILING, "failed", "exited with a non-zero code"),
        (LINK, "invalid", "/app/output/leak is a symbolic link; write regular files"),
    ],
)
def test_failing_or_hostile_code_is_counted_and_says_why(
    tmp_path, python_image, code, status, message
):
    root, identity = import_repo(tmp_path)
    manifest = add_submission(root, "bad", code)
    record = run(root, manifest, identity, IN_DEVELOPMENT)
    assert (record["status"], record["message"]) == (status, message)
    assert record["scores"] == {}
    assert "ValueError" not in json.dumps(record)  # the traceback stays in the sealed detail


@pytest.mark.docker
def test_code_sees_the_inputs_but_never_the_reference_data(tmp_path, python_image):
    from runner.loader import load_repo as load
    from runner.program.ingestion import run_code

    root, _ = import_repo(tmp_path)
    add_submission(root, "probe", PROBE)
    repo = load(root)
    (submission,) = repo.submissions
    inputs = tmp_path / "inputs"
    shutil.copytree(BUNDLE / "dev_phase" / "input_data", inputs / "development")
    shutil.copytree(BUNDLE / "final_phase" / "reference_data", inputs / "final")  # not this phase
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o755)
    outcome = run_code(repo.challenges["seeds-mini"], submission, inputs, work, now=IN_DEVELOPMENT)
    assert outcome.status == "ok", outcome.detail
    with zipfile.ZipFile(outcome.predictions) as bundle:
        names = sorted(bundle.namelist())
        seen = bundle.read("seen.txt").decode()
    assert names == ["metadata.json", "prediction", "seen.txt"]
    # only the staged /app: the program, the code, this phase's inputs and the output
    assert seen == repr(["challenge-runner", "ingested_program", "input_data", "output", "program"])


# --- computed columns ---------------------------------------------------------------------


def test_computed_columns_map_and_combine_the_programs_scores(tmp_path):
    from runner.program import computed_scores, read_scores

    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    text = (bundle / "competition.yaml").read_text()
    text = text.replace(
        "      - {title: Accuracy, key: accuracy, index: 0, sorting: desc}\n",
        "      - {title: Mean, key: mean, index: 0, sorting: desc, computation: avg,"
        " computation_indexes: [1, 2]}\n"
        "      - {title: Accuracy, key: accuracy, index: 1, sorting: desc}\n"
        "      - {title: Worst, key: worst, index: 3, sorting: desc, computation: min,"
        " computation_indexes: '1,2'}\n",
    ).replace("key: rows, index: 1", "key: rows, index: 2")
    (bundle / "competition.yaml").write_text(text)
    root, _ = import_repo(tmp_path, bundle)
    data = yaml.safe_load((root / "challenges/seeds-mini/challenge.yaml").read_text())
    assert data["program"]["computed"] == {
        "mean": {"op": "avg", "of": ["accuracy", "rows"]},
        "worst": {"op": "min", "of": ["accuracy", "rows"]},
    }
    challenge = load_repo(root).challenges["seeds-mini"]
    assert [m.name for m in challenge.metrics] == ["mean", "accuracy", "rows", "worst"]
    scores = tmp_path / "scores.csv"
    scores.write_text("split,key,value\n,accuracy,0.5\n,rows,20\n")
    outcome = read_scores(challenge, scores)
    assert outcome.status == "scored"
    assert {k: v for k, v in outcome.scores["public"].items()} == {
        "mean": 10.25, "accuracy": 0.5, "rows": 20.0, "worst": 0.5,
    }  # fmt: skip
    # a column is computed only where every score it combines is there
    assert computed_scores((("m", ("sum", ("a", "b"))),), {("", "a"): 1.0}) == {}


def test_a_computed_column_must_name_a_metric(tmp_path):
    root, _ = import_repo(tmp_path)
    path = root / "challenges" / "seeds-mini" / "challenge.yaml"
    data = yaml.safe_load(path.read_text())
    data["program"]["computed"] = {"nothing": {"op": "avg", "of": ["accuracy"]},
                                   "accuracy": {"op": "max", "of": ["accuracy"]}}  # fmt: skip
    path.write_text(yaml.safe_dump(data))
    problems = [str(p) for p in load_repo(root).problems]
    assert any("no metric has key 'nothing'" in p for p in problems), problems
    assert any("'accuracy' cannot be computed from itself" in p for p in problems), problems


# --- the CI chain -------------------------------------------------------------------------


@pytest.mark.docker
def test_the_ci_jobs_score_a_code_submission_like_a_local_run(tmp_path, monkeypatch, python_image):
    """pr prepare -> stage -> build -> ingest -> score -> record (artifacts encrypted between
    jobs) gives the record `evaluate` gives, but for what identifies the run."""
    from runner.data import keygen
    from runner.github.prepare import read_plan
    from runner.records import load_results, result_to_dict

    root, identity = import_repo(tmp_path)
    manifest = add_submission(root, "solution", BUNDLE / "solution")
    monkeypatch.setenv("CHALLENGE_KEY", identity)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    local = tmp_path / "local"
    assert main(["evaluate", str(manifest), "--root", str(root), "--results", str(local)]) == 0
    work = tmp_path / "ci"
    plan = str(work / "plan")
    assert main(["pr", "prepare", "--root", str(root), "--out", plan, str(manifest)]) == 0
    (item,) = read_plan(Path(plan)).items
    assert (item.status, item.kind) == ("ready", "code")
    common = ["--root", str(root), "--plan", plan, "--item", item.key]
    ingest_identity, ingest_recipient = keygen()
    monkeypatch.setenv("INGEST_RECIPIENT", ingest_recipient)
    assert main(["pr", "stage", *common, "--out", str(work / "staged")]) == 0
    assert main(["pr", "build", *common, "--out", str(work / "built")]) == 0
    monkeypatch.setenv("INGEST_KEY", ingest_identity)
    jobs = ["--staged", str(work / "staged"), "--built", str(work / "built")]
    assert main(["pr", "ingest", *common, *jobs, "--out", str(work / "ingested")]) == 0
    # only ciphertext crosses jobs: the code's output is never in clear in an artifact
    assert not list((work / "ingested").rglob("*.zip"))
    out = ["--out", str(work / "records"), "--ingested", str(work / "ingested")]
    assert main(["pr", "score", *common, *out]) == 0
    results = work / "results"
    record = ["pr", "record", "--root", str(root), "--records", str(work / "records")]
    record += ["--results", str(results)]
    assert main(record) == 0
    (ci,) = load_results(results).results
    (mine,) = load_results(local).results

    def comparable(result):
        data = result_to_dict(result)
        # the sealed detail names the run's containers (and is sealed with fresh randomness)
        for name in ("evaluation_id", "created_at", "timings", "user_id", "private", "detail"):
            data.pop(name)
        for name in ("commit", "pull_request", "run_url"):
            data["provenance"].pop(name)
        return data

    assert mine.status == "scored" and mine.scores["public"]["accuracy"].value == 0.9
    assert comparable(ci) == comparable(mine)


@pytest.mark.docker
def test_the_unsafe_flag_reaches_the_ingestion_and_the_scoring_runs(
    tmp_path, monkeypatch, python_image
):
    import runner.sandbox

    asked = []
    real = runner.sandbox.run_submission

    def spy(*args, **kwargs):
        asked.append((kwargs["layout"].input, kwargs["unsafe"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner.sandbox, "run_submission", spy)
    root, identity = import_repo(tmp_path)
    manifest = add_submission(root, "solution", BUNDLE / "solution")
    repo = load_repo(root)
    (submission,) = [s for s in repo.submissions if s.path == manifest]
    options = Options(
        results_dir=root / "results", env={"CHALLENGE_KEY": identity}, now=IN_DEVELOPMENT,
        unsafe=True,
    )  # fmt: skip
    assert evaluate(repo.challenges["seeds-mini"], submission, options).result.status == "scored"
    assert asked == [("/app/input_data", True), ("/app/input", True)]


# --- several tasks in one phase -----------------------------------------------------------


def tasks_bundle(tmp_path: Path, second: str = "final_phase") -> Path:
    """The bundle with one phase running both tasks (as autowsl does), the second task's
    reference data (``second``'s) given as a zip (as autowsl gives it, with a Mac's
    __MACOSX/ in it)."""
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    with zipfile.ZipFile(bundle / "final_reference.zip", "w") as archive:
        archive.write(BUNDLE / second / "reference_data" / "testing_label", "testing_label")
        archive.writestr("__MACOSX/._testing_label", "resource fork")
    config = yaml.safe_load((bundle / "competition.yaml").read_text())
    config["tasks"][1]["reference_data"] = "final_reference.zip"
    config["phases"] = [{**config["phases"][0], "tasks": [0, 1]}]
    (bundle / "competition.yaml").write_text(yaml.safe_dump(config))
    return bundle


def test_a_phase_with_several_tasks_scores_each_column_per_task(tmp_path):
    root, identity = import_repo(tmp_path, tasks_bundle(tmp_path))
    folder = root / "challenges" / "seeds-mini"
    data = yaml.safe_load((folder / "challenge.yaml").read_text())
    assert data["program"]["tasks"] == ["task1", "task2"]
    assert [(m["name"], m["key"], m["label"]) for m in data["metrics"]] == [
        ("accuracy_task1", "task1/accuracy", "Accuracy (Development task)"),
        ("rows_task1", "task1/rows", "Test rows (Development task)"),
        ("accuracy_task2", "task2/accuracy", "Accuracy (Final task)"),
        ("rows_task2", "task2/rows", "Test rows (Final task)"),
    ]
    plain = tmp_path / "hidden.tar.gz"
    decrypt_file(folder / "hidden.tar.age", plain, parse_identities(identity, "key"), "key")
    with tarfile.open(plain) as tar:
        members = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert members == [
        *(f"inputs/{t}/{n}" for t in ("task1", "task2")
          for n in ("testing_data", "training_data", "training_label")),
        "reference/development/task1/testing_label",
        "reference/development/task2/testing_label",
    ]  # fmt: skip
    assert not load_repo(root).problems


@pytest.mark.docker
def test_code_runs_once_per_task_and_scores_like_the_original_per_task(tmp_path, python_image):
    root, identity = import_repo(tmp_path, tasks_bundle(tmp_path))
    manifest = add_submission(root, "solution", BUNDLE / "solution")
    record = run(root, manifest, identity, IN_DEVELOPMENT)
    assert record["status"] == "scored", record["message"]
    first = codabench_original("dev_phase", BUNDLE / "solution", tmp_path)
    second = codabench_original("final_phase", BUNDLE / "solution", tmp_path)
    assert values(record) == {
        "accuracy_task1": first["accuracy"], "rows_task1": first["rows"],
        "accuracy_task2": second["accuracy"], "rows_task2": second["rows"],
    }  # fmt: skip
    assert (first["accuracy"], second["accuracy"]) == (0.9, 0.72)


@pytest.mark.docker
def test_a_result_file_is_scored_on_every_task(tmp_path, python_image):
    # both tasks hold the first phase's truth: one result file can be right on both
    root, identity = import_repo(tmp_path, tasks_bundle(tmp_path, second="dev_phase"))
    folder = root / "submissions" / "seeds-mini" / "alice"
    folder.mkdir(parents=True)
    labels = (BUNDLE / "dev_phase" / "reference_data" / "testing_label").read_text()
    with zipfile.ZipFile(folder / "result.zip", "w") as bundle:
        bundle.writestr("prediction", labels)
        bundle.writestr("metadata.json", '{"rows": 20}')
    (folder / "result.yaml").write_text(
        "challenge: seeds-mini\nparticipant: alice\nname: result\npredictions: result.zip\n"
    )
    record = run(root, folder / "result.yaml", identity, IN_DEVELOPMENT)
    assert record["status"] == "scored", record["message"]
    assert values(record) == {
        "accuracy_task1": 1.0, "rows_task1": 20.0, "accuracy_task2": 1.0, "rows_task2": 20.0,
    }  # fmt: skip


@pytest.mark.docker
def test_a_task_that_fails_fails_the_evaluation(tmp_path, python_image):
    root, identity = import_repo(tmp_path, tasks_bundle(tmp_path))
    folder = root / "submissions" / "seeds-mini" / "alice"
    folder.mkdir(parents=True)
    labels = (BUNDLE / "dev_phase" / "reference_data" / "testing_label").read_text()
    with zipfile.ZipFile(folder / "result.zip", "w") as bundle:
        bundle.writestr("prediction", labels)  # 20 labels; the second task has 25 test rows
        bundle.writestr("metadata.json", '{"rows": 20}')
    (folder / "result.yaml").write_text(
        "challenge: seeds-mini\nparticipant: alice\nname: result\npredictions: result.zip\n"
    )
    record = run(root, folder / "result.yaml", identity, IN_DEVELOPMENT)
    assert (record["status"], record["scores"]) == ("invalid", {})


def test_the_rules_page_says_how_code_runs(tmp_path):
    root, _ = import_repo(tmp_path)
    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(repo / "site", root / "site")
    out = tmp_path / "site"
    assert main(["site", "build", "--root", str(root), "--output", str(out)]) == 0
    page = (out / "challenges" / "seeds-mini" / "index.html").read_text()
    assert "Kinds: predictions, code." in page
    assert "ingestion program in <code>challenge-runner/python:bookworm</code>" in page
    assert "/app/ingested_program" in page
    assert "Code runs without network, with 2g of memory" in page


# Like autowsl's scorer: a lock file beside the predictions (Codabench's input is writable).
LOCKING = """
import json, os
open("/app/input/res/start.txt.lock", "w").close()
try:
    open("/app/input/ref/mine.txt", "w").close()
    ref_writable = 1.0
except OSError:
    ref_writable = 0.0
prediction = [float(x) for x in open("/app/input/res/prediction").read().split()]
truth = [float(x) for x in open("/app/input/ref/testing_label").read().split()]
accuracy = sum(p == t for p, t in zip(prediction, truth)) / len(truth)
json.dump({"accuracy": accuracy, "rows": ref_writable}, open("/app/output/scores.json", "w"))
"""


@pytest.mark.docker
def test_a_scorer_may_write_beside_the_submission_but_not_in_the_reference(tmp_path, python_image):
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    (bundle / "scoring_program" / "scoring.py").write_text(LOCKING)
    root, identity = import_repo(tmp_path, bundle)
    manifest = add_submission(root, "solution", BUNDLE / "solution")
    record = run(root, manifest, identity, IN_DEVELOPMENT)
    assert record["status"] == "scored", record["message"]
    assert values(record) == {"accuracy": 0.9, "rows": 0.0}  # the reference stayed read-only


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key_env": "KEY_wheat"}, "--key-env 'KEY_wheat': an environment variable name"),
        ({"challenge_id": "Wheat Seeds"}, "--id 'Wheat Seeds': a challenge id is lower-case"),
    ],
)
def test_bad_names_are_refused_before_anything_is_written(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        import_bundle("codabench", BUNDLE, tmp_path / "out", image=PYTHON_IMAGE, **options)
    assert not (tmp_path / "out").exists()


def test_an_import_that_does_not_load_leaves_nothing_behind(tmp_path):
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    config = yaml.safe_load((bundle / "competition.yaml").read_text())
    config["leaderboards"][0]["columns"][0]["precision"] = 99  # clipped, so still loads
    config["leaderboards"][0]["columns"][1]["key"] = "accuracy"  # two metrics, one key
    (bundle / "competition.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError):
        import_bundle("codabench", bundle, tmp_path / "out", image=PYTHON_IMAGE)
    assert list((tmp_path / "out").iterdir()) == []  # no folder holding data under a lost key
    (done,) = import_bundle("codabench", BUNDLE, tmp_path / "out", image=PYTHON_IMAGE)
    assert done.folder.name == "seeds-mini"  # and a corrected import is not blocked


def test_a_task_without_reference_data_is_the_platforms_error(tmp_path):
    from runner.program import run_program

    root, _ = import_repo(tmp_path, tasks_bundle(tmp_path))
    challenge = load_repo(root).challenges["seeds-mini"]
    reference = tmp_path / "reference"
    shutil.copytree(BUNDLE / "dev_phase" / "reference_data", reference / "development" / "task1")
    result = tmp_path / "result.txt"
    result.write_text("1\n")
    work = tmp_path / "work"
    work.mkdir()
    outcome = run_program(challenge, reference, result, "development", work)
    assert (outcome.status, outcome.message) == (
        "error", "the hidden data holds no reference data development/task2/"
    )  # fmt: skip


def test_a_time_limit_past_a_day_is_cut_and_said(tmp_path):
    bundle = shutil.copytree(BUNDLE, tmp_path / "bundle")
    config = yaml.safe_load((bundle / "competition.yaml").read_text())
    config["phases"][1]["execution_time_limit"] = 200_000
    (bundle / "competition.yaml").write_text(yaml.safe_dump(config))
    (done,) = import_bundle("codabench", bundle, tmp_path / "out", image=PYTHON_IMAGE)
    assert yaml.safe_load((done.folder / "challenge.yaml").read_text())["container"] == {
        "timeout_s": 86_400
    }
    assert "phase 'Final': execution_time_limit 200000 s is cut to 86400 s" in done.notes


def test_a_task_without_inputs_is_the_platforms_error(tmp_path):
    from runner.program.ingestion import run_code

    root, _ = import_repo(tmp_path, tasks_bundle(tmp_path))
    add_submission(root, "solution", BUNDLE / "solution")
    repo = load_repo(root)
    (submission,) = repo.submissions
    inputs = tmp_path / "inputs"
    shutil.copytree(BUNDLE / "dev_phase" / "input_data", inputs / "task1")
    work = tmp_path / "work"
    work.mkdir()
    outcome = run_code(repo.challenges["seeds-mini"], submission, inputs, work, now=IN_DEVELOPMENT)
    assert (outcome.status, outcome.message) == (
        "error", "the hidden inputs hold no inputs/task2/"
    )  # fmt: skip
