"""Runs a foreign scoring program unmodified inside the sandbox and writes what it scored.

This file is copied beside the program into the read-only ``/input`` of a scoring container
(``runner.program``); it runs under the image's own python (any Python 3), stdlib only.

    INPUT/ref/       the phase's reference data (hidden; never in a participant container)
    INPUT/res        -> /tmp/challenge-runner-res/, a writable copy of INPUT/res-files/: the
                     participant's submission (a .zip already unpacked). Codabench's input
                     is writable and programs write beside the submission (lock files,
                     unpacked archives); the mount stays read-only, /tmp is capped.
    PROGRAM/         the program (codabench), or INPUT/evaluation_script/ (evalai)
    OUTPUT/          written by the program (codabench: scores.json or scores.txt)

INPUT, OUTPUT and PROGRAM come on the command line: Codabench's /app/input, /app/output and
/app/program, where its programs may hard-code them, or /input and /output for EvalAI.
The scoring protocols end by writing ``OUTPUT/predictions.csv`` with the header
``split,key,value``: one row per score, which the runner reads back (``runner.program``).
The ``ingestion`` protocol (code submissions, ``runner.program.ingestion``) runs Codabench's
ingestion program around the participant's code at /app/ingested_program and leaves OUTPUT
as the program wrote it.
"""

import csv
import json
import os
import shlex
import shutil
import subprocess
import sys

INPUT, OUTPUT, PROGRAM = sys.argv[3:6] if len(sys.argv) >= 6 else ("/input", "/output", "")
SCORES = os.path.join(OUTPUT, "predictions.csv")


def fail(message):
    sys.stderr.write("challenge-runner adapter: " + message + "\n")
    sys.exit(2)


def codabench(command):
    """Codabench's scoring step: run the command, read its scores file."""
    program = writable_copy(PROGRAM)
    run(command, program, {"$submission_program": os.path.join(INPUT, "res")}, "scoring")
    return [("", key, value) for key, value in read_codabench_scores()]


def ingestion(command):
    """Codabench's ingestion step (code submissions): run the command around the
    participant's code at /app/ingested_program; what it writes to OUTPUT is the result."""
    program = writable_copy(PROGRAM)
    places = {
        "$ingestion_program": program,
        "$submission_program": "/app/ingested_program",
        "$hidden": "/app/input/ref",  # Codabench's, absent here: never the reference data
    }
    run(command, program, places, "ingestion")


def run(command, program, extra, step):
    """Substitute Codabench's placeholders in ``command`` and run it in ``program``."""
    shared = "/tmp/shared"  # noqa: S108 (inside the container)
    os.makedirs(shared, exist_ok=True)
    places = {"$program": program, "$input": INPUT, "$output": OUTPUT, "$shared": shared}
    places.update(extra)
    argv = []
    for word in shlex.split(command):
        for name in sorted(places, key=len, reverse=True):
            word = word.replace(name, places[name])
        argv.append(word)
    if argv and argv[0] in ("python", "python3") and shutil.which(argv[0]) is None:
        argv[0] = sys.executable  # images with only python3 (Debian) run `python ...` too
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    code = subprocess.call(argv, cwd=program, env=env)
    if code != 0:
        fail(f"the {step} program exited with code {code}")


def read_codabench_scores():
    path = os.path.join(OUTPUT, "scores.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict):
            fail("scores.json is not a JSON object")
        return sorted(data.items())
    path = os.path.join(OUTPUT, "scores.txt")
    if not os.path.isfile(path):
        fail("the scoring program wrote neither scores.json nor scores.txt")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if ":" in line:
                key, _, value = line.partition(":")
                rows.append((key.strip(), value.strip()))
    return rows


def evalai(codename):
    """Call ``evaluate(annotation, submission, codename)`` of the evaluation_script package."""
    package = writable_copy(os.path.join(INPUT, "evaluation_script"))
    sys.path.insert(0, os.path.dirname(package))
    os.chdir(package)
    import evaluation_script  # type: ignore[import-not-found]  # the challenge's own package

    annotations = only_file(os.path.join(INPUT, "ref"), "reference")
    submission = only_file(os.path.join(INPUT, "res"), "submission")
    # EvalAI's worker passes the submission's metadata; scripts read (or print) it.
    metadata = {"status": "running", "challenge_phase": codename, "is_public": False}
    out = evaluation_script.evaluate(
        annotations, submission, codename, submission_metadata=metadata
    )
    rows = []
    for entry in (out or {}).get("result", []):
        for split, scores in entry.items():
            for key, value in scores.items():
                rows.append((split, key, value))
    return rows


def writable_copy(folder):
    """The program's folder copied under /tmp, where it may write as on its own platform
    (caches, outputs beside itself); the read-only original when the copy does not fit."""
    target = os.path.join("/tmp/challenge-runner", os.path.basename(folder))  # noqa: S108
    try:
        shutil.copytree(folder, target)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        return folder
    return target


def only_file(folder, what):
    files = []
    for base, _dirs, names in os.walk(folder):
        files.extend(os.path.join(base, name) for name in names)
    if len(files) != 1:
        fail(f"expected exactly one {what} file, found {len(files)}")
    return files[0]


def writable_submission():
    """Fill the writable folder INPUT/res points to with the submission's files."""
    target = os.readlink(os.path.join(INPUT, "res"))
    try:
        shutil.copytree(os.path.join(INPUT, "res-files"), target)
    except OSError as err:
        fail(f"the submission does not fit in the container's /tmp ({err}): raise tmp_size")


def main():
    protocol, argument = sys.argv[1], sys.argv[2]
    if protocol == "ingestion":
        ingestion(argument)
        return
    writable_submission()
    rows = codabench(argument) if protocol == "codabench" else evalai(argument)
    with open(SCORES, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["split", "key", "value"])
        for split, key, value in rows:
            writer.writerow([split, key, repr(value) if isinstance(value, float) else value])


if __name__ == "__main__":
    main()
