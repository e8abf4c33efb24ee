"""The GitHub edge: pull-request events, the REST client, path policy, identity, fetching
PR files as data, and reporting (sticky comment, status, labels, summary, annotations).

Modules, in the order a run uses them: ``event`` (the trusted event), ``client`` (PyGithub
with retries), ``policy`` (which paths a PR may change, modes at the head SHA), ``identity``
(author vs manifest, by numeric id), ``fetch`` (PR files at the head SHA into a temp tree),
``prepare`` (the plan), ``stages`` (stage/ingest/score/record jobs), ``report`` and
``comment`` (what to say), ``sticky`` and ``publish`` (saying it), ``escape`` (making
participant strings inert).

Everything participant-controlled that leaves this package for GitHub goes through
``runner.github.escape``. Nothing here executes, imports or installs files from a pull
request: they are read through the API at the head SHA and written to a temp dir as data.
"""
