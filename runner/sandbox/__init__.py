"""The sandbox: run participant code in one locked-down Docker container (DESIGN §5).

Public API: :func:`run_submission` -> :class:`RunOutcome`, :func:`check_engine`,
:func:`parse_size`. See ``spec.py`` for the exact controls, ``output.py`` for how the
``/output`` cap holds, ``engine.py`` for the fail-closed checks, ``verify.py`` for the
read-back of every control before a container starts, ``seccomp.py`` for the syscall
profile and ``reap.py`` for the cleanup after a killed runner.
"""

from runner.sandbox.engine import check_engine, describe_engine, get_client
from runner.sandbox.run import RunOutcome, coarse_seconds, run_submission
from runner.sandbox.spec import DEADLINE_LABEL, LABEL, RUN_LABEL, container_kwargs, parse_size

__all__ = [
    "DEADLINE_LABEL",
    "LABEL",
    "RUN_LABEL",
    "RunOutcome",
    "check_engine",
    "coarse_seconds",
    "container_kwargs",
    "describe_engine",
    "get_client",
    "parse_size",
    "run_submission",
]
