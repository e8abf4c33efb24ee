"""Security invariants of the GitHub workflows and the composite action (DESIGN §7).

Parses the YAML and asserts the rules of LESSONS.md, then runs zizmor (offline) and
check-jsonschema's vendored GitHub schemas on the files, as CI does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
PRIVILEGED = {"evaluate.yml"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
EXPECTED_PINS = {  # looked up in public workflows that pin them (see the lead's report)
    "actions/checkout": "11bd71901bbe5b1630ceea73d27597364c9af683",  # v4.2.2
    "actions/setup-python": "a26af69be951a213d495a4c3e4e4022e16d87065",  # v5.6.0
    "actions/upload-artifact": "ea165f8d65b6e75b540449e92b4886f43607fa02",  # v4.6.2
    "actions/download-artifact": "d3f86a106a0bac45b974a628896c90dbdf5c8093",  # v4.3.0
    "actions/upload-pages-artifact": "56afc609e74202658d3ffba0e8f6dda462b719fa",  # v3.0.1
    "actions/deploy-pages": "d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e",  # v4.0.5
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(doc: dict) -> dict:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    return doc.get("on", doc.get(True))


def steps(doc: dict):
    for name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def all_steps():
    for path in WORKFLOWS:
        for job, step in steps(load(path)):
            yield path.name, job, step
    for step in load(ACTION)["runs"]["steps"]:
        yield ACTION.name, "composite", step


def test_the_workflows_exist():
    assert [p.name for p in WORKFLOWS] == [
        "challenge.yml",
        "evaluate.yml",
        "publish.yml",
        "validate.yml",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_top_level_permissions_empty_and_granted_per_job(path):
    doc = load(path)
    assert doc["permissions"] == {}
    for name, job in doc["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
        assert "write-all" not in str(job["permissions"]) and "read-all" not in str(
            job["permissions"]
        )


def test_every_action_is_pinned_by_full_sha():
    seen = set()
    for file, job, step in all_steps():
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert SHA_PIN.match(uses), f"{file}:{job}: {uses} is not pinned by a 40-hex SHA"
        action, sha = uses.split("@")
        assert EXPECTED_PINS.get(action) == sha, f"{file}:{job}: unexpected pin {uses}"
        seen.add(action)
    assert seen == set(EXPECTED_PINS)


def test_checkouts_do_not_persist_credentials():
    checkouts = [
        (f, j, s) for f, j, s in all_steps() if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 9
    for file, job, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{file}:{job}"


def test_no_expressions_inside_run_scripts():
    # Event fields (titles, branch names, bodies) are attacker-controlled: they reach
    # scripts only through env:, where the shell sees them as data.
    for file, job, step in all_steps():
        script = step.get("run", "")
        assert "${{" not in script, f"{file}:{job}: an expression inside run: {script[:80]!r}"


def test_no_caches_in_privileged_workflows():
    for path in WORKFLOWS:
        if path.name not in PRIVILEGED:
            continue
        for job, step in steps(load(path)):
            assert "actions/cache" not in step.get("uses", ""), f"{path.name}:{job}"
            assert "cache" not in step.get("with", {}), f"{path.name}:{job}: setup cache"


def test_evaluate_checks_out_only_the_base():
    doc = load(ROOT / ".github/workflows/evaluate.yml")
    assert list(triggers(doc)) == ["pull_request_target"]
    for job, step in steps(doc):
        if step.get("uses", "").startswith("actions/checkout@"):
            ref = step["with"]["ref"]
            assert ref in (
                "${{ github.event.pull_request.base.sha }}",
                "${{ github.event.pull_request.base.ref }}",
            ), f"{job} checks out {ref}"
            assert "repository" not in step["with"]  # never the fork


def test_evaluate_separates_ingest_from_truth_and_tokens():
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    text = yaml.safe_dump(jobs["ingest"])
    assert jobs["ingest"]["permissions"] == {"contents": "read"}
    assert re.findall(r"secrets\.(\w+)", text) == ["INGEST_KEY"]
    assert "github.token" not in text and "GITHUB_TOKEN" not in text
    for name in ("stage", "score"):
        assert jobs[name]["environment"] == "challenge-${{ matrix.challenge }}"
        assert "INGEST_KEY" not in yaml.safe_dump(jobs[name])
        assert "pr ingest" not in yaml.safe_dump(jobs[name])
    assert jobs["ingest"]["environment"] == "ingest"
    # What ingest uploads is encrypted (and a status summary), nothing else.
    upload = next(s for s in jobs["ingest"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].split() == [
        "ingested/ingest.json",
        "ingested/predictions.csv.age",
    ]
    upload = next(s for s in jobs["stage"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "staged/inputs.tar.age"


def test_evaluate_builds_participant_images_where_no_secret_is():
    """A Dockerfile's RUN steps are participant code outside the sandbox's controls."""
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    build = yaml.safe_dump(jobs["build"])
    assert "pr build" in build and "secrets." not in build and "environment" not in jobs["build"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert "GITHUB_TOKEN" not in build and "github.token" not in build
    for name, job in jobs.items():
        if name != "build":
            assert "pr build" not in yaml.safe_dump(job), name
    assert "build" in jobs["ingest"]["needs"]
    assert "--built built" in yaml.safe_dump(jobs["ingest"])


def test_only_record_and_report_hold_write_grants():
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    writers = {
        name for name, job in jobs.items() if any(v == "write" for v in job["permissions"].values())
    }
    assert writers == {"acknowledge", "record", "report", "publish"}
    assert jobs["record"]["permissions"] == {"contents": "write"}


def test_records_are_pushed_by_the_runner_and_never_cancelled():
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    job = jobs["record"]
    assert "concurrency" not in job  # a group cancels pending record jobs: records lost
    script = next(s["run"] for s in job["steps"] if "pr record" in s.get("run", ""))
    assert '--push "$BASE_REF"' in script and "--outcome recorded/outcome.json" in script
    assert "git push" not in script and "sleep" not in script  # the retries live in the runner
    upload = next(s for s in job["steps"] if s.get("with", {}).get("name") == "recorded")
    assert upload["if"] == "${{ always() }}"  # a refusal must reach the report too
    steps = jobs["report"]["steps"]
    assert any(s.get("with", {}).get("name") == "recorded" for s in steps)
    assert "--recorded recorded/outcome.json" in steps[-1]["run"]


def test_unprivileged_workflows_have_no_secrets_or_write_grants():
    for name in ("validate.yml", "challenge.yml"):
        doc = load(ROOT / ".github/workflows" / name)
        assert list(triggers(doc)) == ["pull_request"]
        assert "secrets." not in yaml.safe_dump(doc)
        for job in doc["jobs"].values():
            assert "write" not in job["permissions"].values()


def test_action_is_composite_and_pins_its_steps():
    doc = load(ACTION)
    assert doc["runs"]["using"] == "composite"
    assert set(doc["inputs"]) == {"args", "python-version"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e .[dev]")
    return path


def test_zizmor_reports_nothing_at_medium_or_above():
    out = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--min-severity",
            "medium",
            ".github/workflows",
            "action.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        "No findings to report" in out.stdout + out.stderr
        or "0 medium, 0 high" in out.stdout + out.stderr
    )


def test_at_most_one_documented_zizmor_ignore():
    ignores = []
    for path in [*WORKFLOWS, ACTION]:
        for line in path.read_text().splitlines():
            if "zizmor: ignore" in line:
                ignores.append((path.name, line.strip()))
    assert len(ignores) == 1
    assert ignores[0][0] == "evaluate.yml" and "dangerous-triggers" in ignores[0][1]
    assert "never checks out or runs PR code" in ignores[0][1]


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", p) for p in WORKFLOWS] + [("vendor.github-actions", ACTION)],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_schema(schema, path):
    out = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok -- validation done" in out.stdout


def test_final_report_waits_for_the_pending_comment():
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    assert "acknowledge" in jobs["report"]["needs"]
    assert jobs["report"]["if"] == "${{ always() }}"  # a failed prepare is reported too


def test_each_challenge_key_lives_in_its_own_environment():
    """A new challenge needs an environment challenge-<id> with the secret CHALLENGE_KEY,
    not an edit here; a job sees only the key of the challenge its matrix entry names."""
    jobs = load(ROOT / ".github/workflows/evaluate.yml")["jobs"]
    for name, job in jobs.items():
        found = set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))
        assert found <= {"INGEST_KEY", "CHALLENGE_KEY"}, (name, found)
        if "CHALLENGE_KEY" in found:
            assert job["environment"] == "challenge-${{ matrix.challenge }}", name
            assert any("--key-env CHALLENGE_KEY" in s.get("run", "") for s in job["steps"]), name


def test_every_job_installs_from_the_hash_pinned_lock():
    for file, job, step in all_steps():
        script = step.get("run", "")
        if "pip install" not in script or file == "action.yml":
            continue
        lines = [line.strip() for line in script.splitlines() if "pip install" in line]
        for line in lines:
            assert "--require-hashes -r" in line or "--no-deps" in line, (file, job, line)
        assert any("requirements/runtime.lock" in line for line in lines), (file, job)


def test_uploads_keep_dotfiles_and_can_be_repeated_by_a_rerun():
    uploads = [
        (f, j, s) for f, j, s in all_steps() if s.get("uses", "").startswith("actions/upload-art")
    ]
    assert len(uploads) == 6  # plan, staged, built, ingested, records, recorded
    for file, job, step in uploads:
        assert step["with"].get("overwrite") is True, (file, job)  # "Re-run failed jobs"
    [plan] = [s for f, j, s in uploads if s["with"]["name"] == "plan"]
    assert plan["with"]["include-hidden-files"] is True  # model/.modelrc, .dockerignore
