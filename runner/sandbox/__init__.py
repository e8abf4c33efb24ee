"""The sandbox: run participant code in one locked-down Docker container (DESIGN §5).

Public API: :func:`run_submission` -> :class:`RunOutcome`, :func:`check_engine`,
:func:`parse_size`. See ``spec.py`` for the exact controls, ``output.py`` for how the
``/output`` cap holds, ``engine.py`` for the fail-closed checks.
"""

from runner.sandbox.engine import check_engine, get_client
from runner.sandbox.run import RunOutcome, run_submission
from runner.sandbox.spec import LABEL, RUN_LABEL, container_kwargs, parse_size

__all__ = [
    "LABEL",
    "RUN_LABEL",
    "RunOutcome",
    "check_engine",
    "container_kwargs",
    "get_client",
    "parse_size",
    "run_submission",
]
