"""challenge-runner: run a machine-learning challenge from a GitHub repository."""

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    """The version pyproject.toml declares (its one home), as installed; a source tree
    that is not installed reads it from pyproject.toml beside the package."""
    try:
        return version("challenge-runner")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


__version__ = _version()
