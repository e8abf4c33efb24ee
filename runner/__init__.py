"""challenge-runner: run a machine-learning challenge from a GitHub repository."""

__version__ = "0.1.0"
