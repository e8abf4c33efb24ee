"""Land new records on the results branch: append-only commits, a compare-and-swap push,
retried with jittered exponential backoff.

One attempt: fetch the branch; read the store as it is there; decide with ``record.admit``
which records to add (already there: fine; a different file at the same path: error; over
the limit: left out); commit the added files on top of the fetched commit through a private
index (the working tree is never touched); push. git refuses a push that is not a
fast-forward, so the push only lands if the branch still is the commit the limits were checked
against: two racing recorders cannot both pass, the loser fetches and checks again.

Under contention a job also publishes its records on a pending ref of its own, and every
landing folds in all pending records (``runner.github.pending``): a burst lands in a few
commits instead of one per job.

Failures fall in two kinds. The branch moved (a non-fast-forward rejection, or a ref lock held
by a concurrent push) or the network failed: wait and retry until the deadline. The remote
refused (a pre-receive hook: branch protection or a ruleset), authentication failed, or the
remote or branch does not exist: retrying cannot help, so stop at once and say how to fix it.

Why full jitter: the loop this replaces slept ``attempt × 5`` s, so recorders that collided
once slept alike and collided again; 10 concurrent recorders lost 5 records and 30 lost 16
(issue 15; 5 of 10 and 23 of 30 on this project's loaded 2-core machine). This one lost none
of 10, 30 or 50, about 3.6 attempts per job (``bench/bench_record_load.py --old``).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.errors import RecordError
from runner.github import git, pending
from runner.github.git import AUTH, MISSING, REFUSED, RETRY, UNKNOWN
from runner.github.record import Admission, Candidate, Outcome, admit, limits_left, outcome_of
from runner.models import Challenge, Result

UNKNOWN_RETRIES = 3  # an error we cannot classify: a few tries, then stop (never minutes)


@dataclass(frozen=True)
class Backoff:
    """Full jitter: wait uniform(0, min(cap, base·2^k)) s before retry k+1, until timeout.

    Defaults suit GitHub, where a push takes seconds; the load benchmark scales base and
    cap to a local bare repository's push time.
    """

    base: float = 1.0
    cap: float = 32.0
    timeout: float = 600.0

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**retry))


@dataclass(frozen=True)
class Target:
    repo: Path  # a git repository (the record job's checkout)
    prefix: str  # the results folder inside it, e.g. "results"
    remote: str  # a remote name or URL
    branch: str


def target_for(root: Path, results: Path, remote: str, branch: str) -> Target:
    """The repository holding ``root`` and where ``results`` lies in it."""
    repo = Path(git.out(root, "rev-parse", "--show-toplevel").strip()).resolve()
    try:
        prefix = results.resolve().relative_to(repo).as_posix()
    except ValueError:
        raise RecordError(
            f"the results store {results} is not inside the repository {repo}: pass "
            "--results as a folder of the checkout (usually `results`)"
        ) from None
    return Target(repo, prefix, remote, branch)


class PushFailed(RecordError):
    """The records could not land; ``outcome`` says what did (to report before exiting)."""

    def __init__(self, message: str, outcome: Outcome):
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class _Failure:
    kind: str  # RETRY | REFUSED | AUTH | MISSING | UNKNOWN
    output: str


def _fetch(target: Target) -> tuple[str, dict[str, str]] | _Failure:
    """The branch's commit and the pending refs (``runner.github.pending``)."""
    specs = pending.refspecs(target.branch)
    done = git.run(target.repo, "fetch", "--quiet", "--no-tags", "--prune", target.remote, *specs)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        return _Failure(git.classify(output, pushed=False), output)
    return pending.local_refs(target.repo)


def _message(added: Sequence[Candidate]) -> str:
    prs = sorted({n for c in added if (n := c.result.provenance.pull_request) is not None})
    which = f" of pull request #{prs[0]}" if len(prs) == 1 else ""
    plural = "" if len(added) == 1 else "s"
    lines = "\n".join(f"- {c.path}" for c in added)
    return f"Record {len(added)} evaluation{plural}{which}\n\n{lines}\n"


def _commit(target: Target, head: str, added: Sequence[Candidate], who: Mapping[str, str]) -> str:
    with tempfile.TemporaryDirectory(prefix="cr-index-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.out(target.repo, "read-tree", head, env=index)
        entries = "".join(f"100644 {c.blob}\t{c.path}\0" for c in added)
        git.out(target.repo, "update-index", "-z", "--index-info", stdin=entries, env=index)
        tree = git.out(target.repo, "write-tree", env=index).strip()
    args = ("commit-tree", tree, "-p", head, "-m", _message(added))
    return git.out(target.repo, *args, env=who).strip()


def _push(target: Target, commit: str) -> _Failure | None:
    ref = f"{commit}:refs/heads/{target.branch}"
    done = git.run(target.repo, "push", "--porcelain", "--quiet", target.remote, ref)
    if done.returncode == 0:
        return None
    output = done.stdout + done.stderr
    return _Failure(git.classify(output, pushed=True), output)


@dataclass(frozen=True)
class _Try:
    admission: Admission | None
    commit: str | None  # the branch's commit holding the records, once they landed
    failure: _Failure | None
    store: Sequence[Result] = ()  # the records at ``commit`` (of our challenges at least)


@dataclass
class _Job:
    target: Target
    own: Sequence[Candidate]
    lookup: Callable[[str], Challenge | None]  # challenges by id (None: cannot load)
    who: Mapping[str, str]  # the committer's identity (environment)
    reader: pending.Reader
    files: pending.Files
    own_ref: str | None = None  # our pending ref, once published

    def store(
        self, head: str, challenges: Iterable[str], read: bool = True
    ) -> tuple[dict[str, str], list[Result]]:
        """(path -> blob of the store's files, its records if ``read``) for ``challenges``
        at ``head``."""
        folders = [f"{self.target.prefix}/{cid}/" for cid in sorted(challenges)]
        listing = git.out(self.target.repo, "ls-tree", "-r", "-z", head, "--", *folders)
        blobs = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            blobs[path] = meta.split()[2]
        return blobs, list(self.reader.results(blobs).values()) if read else []

    def foreign(self, refs: Mapping[str, str]) -> dict[str, list[Candidate]]:
        """Other jobs' pending records (ours left out), by their ref."""
        mine = {c.path for c in self.own}
        files = self.files.of(refs.values())
        every = {p: b for commit in refs.values() for p, b in files[commit].items()}
        results = self.reader.results(every)  # one read for all of them
        found = {}
        for ref, commit in refs.items():
            found[ref] = [
                Candidate(results[p], p, b, None)
                for p, b in files[commit].items()
                if p in results and p not in mine and every[p] == b
                and self.lookup(results[p].challenge) is not None
            ]  # fmt: skip
        return found


def _attempt(job: _Job) -> tuple[_Try, list[str]]:
    """One fetch–admit–commit–push; also the pending refs whose records it decided."""
    fetched = _fetch(job.target)
    if isinstance(fetched, _Failure):
        return _Try(None, None, fetched), []
    head, refs = fetched
    ours = {c.result.challenge for c in job.own}
    blobs, _ = job.store(head, ours, read=False)
    if all(blobs.get(c.path) == c.blob for c in job.own):  # ours landed (maybe by another)
        _, store = job.store(head, ours)
        return _Try(Admission((), tuple(job.own), ()), head, None, store), []
    foreign = job.foreign(refs)
    everyone = [*job.own, *_unique(c for cands in foreign.values() for c in cands)]
    found = {c.result.challenge: job.lookup(c.result.challenge) for c in everyone}
    # foreign() keeps only records whose challenge loads; ours were loaded by the caller.
    challenges = {cid: ch for cid, ch in found.items() if ch is not None}
    blobs, store = job.store(head, challenges)
    mine = {c.path for c in job.own}  # others' records that clash with the store: theirs
    everyone = [c for c in everyone if c.path in mine or blobs.get(c.path, c.blob) == c.blob]
    on_store = {c.path: blobs[c.path] for c in everyone if c.path in blobs}
    admission = admit(everyone, on_store, store, challenges)
    decided = [ref for ref, cands in foreign.items() if _all_in(cands, admission)]
    if not admission.add:
        return _Try(admission, head, None, store), []
    commit = _commit(job.target, head, admission.add, job.who)
    failure = _push(job.target, commit)
    if failure:
        return _Try(admission, None, failure), []
    return _Try(admission, commit, None, [*store, *(c.result for c in admission.add)]), decided


def _unique(candidates: Iterable[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in candidates:
        seen.setdefault(c.path, c)
    return list(seen.values())


def _all_in(candidates: Sequence[Candidate], admission: Admission) -> bool:
    done = {c.path for c in (*admission.add, *admission.present)}
    done |= {c.path for c, _ in admission.over_limit}
    return bool(candidates) and all(c.path in done for c in candidates)


def _publish(job: _Job, log: Callable[[str], None]) -> None:
    """Put our records on our pending ref, for whichever job lands next. Without it (a rule
    forbids the ref), we still land our own records."""
    commit = pending.build_commit(job.target.repo, job.own, job.who)
    ref = pending.pending_ref(job.target.branch, job.own)
    done = git.run(
        job.target.repo, "push", "--porcelain", "--quiet", job.target.remote, f"+{commit}:{ref}"
    )
    if done.returncode == 0:
        job.own_ref = ref
    else:
        log(f"could not publish the pending records ({_last_line(done.stdout + done.stderr)})")


def push_records(
    target: Target,
    candidates: Sequence[Candidate],
    challenges: Mapping[str, Challenge],
    backoff: Backoff = Backoff(),
    *,
    lookup: Callable[[str], Challenge | None] | None = None,
    rng: random.Random | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> Outcome:
    """Land ``candidates`` (and other jobs' pending records) on ``target.branch``; return
    what became of ours, or raise PushFailed (carrying it) when the remote refuses or the
    deadline passes. ``lookup`` finds the challenge of another job's record."""
    git.out(target.repo, "hash-object", "-w", "--stdin-paths", stdin=_paths(candidates))
    job = _Job(
        target,
        candidates,
        lookup or challenges.get,
        git.identity(target.repo),
        pending.Reader(target.repo, target.prefix),
        pending.Files(target.repo, target.prefix),
    )
    try:
        return _land(job, backoff, rng or random.Random(), log)
    finally:
        if job.own_ref is not None:
            pending.delete(target.repo, target.remote, [job.own_ref])


def _land(job: _Job, backoff: Backoff, rng: random.Random, log: Callable[[str], None]) -> Outcome:
    deadline = time.monotonic() + backoff.timeout
    attempt = unknown = 0
    while True:
        attempt += 1
        tried, decided = _attempt(job)
        if tried.failure is None:
            pending.delete(job.target.repo, job.target.remote, set(decided) - {job.own_ref})
            limits = limits_left(_own_challenges(job), tried.store, job.own)
            return outcome_of(
                tried.admission, job.own, commit=tried.commit, attempts=attempt, limits=limits
            )
        if attempt == 1 and tried.failure.kind == RETRY:
            _publish(job, log)  # contention: let whoever lands next take ours too
        unknown += tried.failure.kind == UNKNOWN
        stop = tried.failure.kind not in (RETRY, UNKNOWN) or unknown >= UNKNOWN_RETRIES
        left = deadline - time.monotonic()
        if stop or left <= 0:
            raise _failed(job.target, tried, job.own, attempt, backoff, gave_up=not stop)
        wait = min(backoff.delay(attempt - 1, rng), left)
        log(f"push of the records not accepted ({_last_line(tried.failure.output)}); "
            f"attempt {attempt + 1} in {wait:.1f} s")  # fmt: skip
        time.sleep(wait)


def _own_challenges(job: _Job) -> dict[str, Challenge]:
    found = {cid: job.lookup(cid) for cid in {c.result.challenge for c in job.own}}
    return {cid: challenge for cid, challenge in found.items() if challenge is not None}


def _paths(candidates: Sequence[Candidate]) -> str:
    sources = [c.source for c in candidates]
    assert None not in sources  # our own records: files `pr score` wrote
    return "".join(f"{s.resolve()}\n" for s in sources if s is not None)


def _last_line(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip() and ln.strip() != "Done"]
    return git.redact(lines[-1].strip()) if lines else "no output"


REASONS = {  # participant-safe: why the records are not on the results store
    REFUSED: "the results store refused the records",
    AUTH: "the record job could not sign in to the results store",
    MISSING: "the results store was not found",
    UNKNOWN: "the results store could not be updated",
    RETRY: "the results store stayed busy until the deadline",
}


def _failed(
    target: Target,
    tried: _Try,
    candidates: Sequence[Candidate],
    attempts: int,
    backoff: Backoff,
    *,
    gave_up: bool,
) -> PushFailed:
    assert tried.failure is not None  # called for a push that failed
    kind = RETRY if gave_up else tried.failure.kind
    outcome = outcome_of(tried.admission, candidates, error=REASONS[kind], attempts=attempts)
    detail = git.redact(tried.failure.output.strip())
    where = f"branch {target.branch} of {git.redact(target.remote)}"
    fixes = {
        REFUSED: f"the remote refused the push to {where}: a protected branch or a push rule "
        "keeps the workflow out. Let the record job's token push to the branch (see "
        "hosting-github.md, Branch protection) and re-run the record job",
        AUTH: f"authentication to {where} failed: give the record job `contents: write` and "
        "pass a remote URL that carries its token, then re-run the record job",
        MISSING: f"{where} does not exist: check --remote and --push",
        UNKNOWN: f"git failed {attempts} times pushing to {where}; read git's output below",
        RETRY: f"{where} kept moving or failing: {attempts} attempts in {backoff.timeout:.0f} s "
        "did not land the records; re-run the record job",
    }
    message = f"{fixes[kind]}. The new records were not recorded.\ngit said:\n{detail}"
    return PushFailed(message, outcome)
