"""What a participant's Dockerfile may ask of the Docker daemon, checked before it sees it.

``network_mode=none`` confines RUN steps, not the daemon: ``ADD <url>`` is fetched by the
daemon from the host's network (its loopback included) and ``FROM host:port/x`` makes it
contact a registry the participant chose. So (DESIGN §5): no remote sources at all (``ADD``
or ``COPY`` of a URL or git address, variables in sources, ``COPY --from`` anything but an
earlier stage), no BuildKit-only flags or heredocs (this builder does not parse them as the
participant may think), and ``FROM`` only an earlier stage, ``scratch``, or a base image
resolved here (``runner.images.bases``) and then written into the Dockerfile the daemon gets
as its image ID, so the daemon never resolves a name. ``FROM ${VAR}`` is resolved with the
``ARG`` defaults only (builds get no build args). Every refusal names the Dockerfile line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.images.dockerfile import Instruction, parse, words

__all__ = ["Stage", "check", "rewrite"]

# Docker 20.10's instructions: anything else is refused before the daemon sees it.
KNOWN = frozenset(
    ("FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
     "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL")
)  # fmt: skip
_COPY_FLAGS = {"ADD": ("--chown",), "COPY": ("--chown", "--from")}
_VARIABLE = re.compile(r"^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$")
_REMOTE = re.compile(r"://|^git@|^github\.com/", re.IGNORECASE)
_HOW = "put the files in the build context and COPY them"


class Refused(Exception):
    """A line the policy refuses; ``message`` starts with ``Dockerfile line N:``."""

    def __init__(self, where: str, line: int, reason: str):
        super().__init__(f"{where} line {line}: {reason}")
        self.message = f"{where} line {line}: {reason}"
        self.line = line


@dataclass(frozen=True)
class Stage:
    """A ``FROM``: ``image`` is the reference to resolve, or None for scratch or a stage."""

    line: int
    image: str | None
    name: str | None


def check(text: str, where: str = "Dockerfile") -> tuple[str, list[Instruction], list[Stage]]:
    """Parse ``text`` and refuse what may reach a network; return what ``rewrite`` needs."""
    escape, instructions = parse(text)
    if escape not in ("\\", "`"):
        raise Refused(where, 1, "use at most one escape directive, set to \\ or a backtick")
    args: dict[str, str] = {}  # ARG defaults declared before the first FROM
    stages: list[Stage] = []
    for ins in instructions:
        if ins.name == "ARG" and not stages:
            _global_arg(ins, escape, args)
        elif ins.name == "FROM":
            stages.append(_from(ins, escape, args, stages, where))
        else:
            step(ins, escape, stages, where)
    if not stages:
        raise Refused(where, 1, "no FROM instruction; start with FROM <base image>")
    return escape, instructions, stages


def step(ins: Instruction, escape: str, stages: list[Stage], where: str) -> None:
    """Refuse one non-FROM instruction (also used for ONBUILD triggers of base images)."""
    if ins.name not in KNOWN:
        raise Refused(where, ins.line, f"unknown instruction {ins.name[:40]!r}")
    if not stages and ins.name != "ARG":
        raise Refused(where, ins.line, f"{ins.name} before the first FROM")
    if ins.name == "ONBUILD":
        inner = parse(f"# escape={escape}\n{ins.args}")[1]
        if not inner or inner[0].name in ("FROM", "ONBUILD", "MAINTAINER"):
            raise Refused(where, ins.line, "ONBUILD needs an instruction other than FROM")
        step(Instruction(ins.line, *_fields(inner[0])), escape, stages, where)
    elif ins.name in ("ADD", "COPY"):
        _sources(ins, escape, stages, where)
    elif ins.name == "LABEL" and "org.challenge-runner." in _bare(ins, escape).lower():
        raise Refused(where, ins.line, "labels under org.challenge-runner. are the runner's")
    elif ins.name == "RUN" and (ins.flags or _heredoc(ins.args)):
        raise Refused(where, ins.line, "RUN flags and heredocs are not supported by the builder")


def _fields(ins: Instruction) -> tuple:
    return ins.name, ins.flags, ins.args, ins.json_args, ins.text


def _heredoc(args: str) -> bool:
    return re.search(r"<<-?\s*['\"]?[A-Za-z_]", args) is not None


def _global_arg(ins: Instruction, escape: str, args: dict[str, str]) -> None:
    for word in words(ins.args, escape):
        name, has_default, value = word.partition("=")
        if has_default and "$" not in value:
            args[name] = value


def _from(
    ins: Instruction, escape: str, args: dict[str, str], stages: list[Stage], where: str
) -> Stage:
    parts = words(ins.args, escape)
    if ins.flags or len(parts) not in (1, 3) or (len(parts) == 3 and parts[1].lower() != "as"):
        raise Refused(where, ins.line, "use FROM <image> [AS <name>] (no flags)")
    image = _resolve(parts[0], args, where, ins.line)
    name = parts[2].lower() if len(parts) == 3 else None
    earlier = {s.name for s in stages if s.name}
    if image.lower() == "scratch" or image.lower() in earlier:
        return Stage(ins.line, None, name)
    return Stage(ins.line, image, name)


def _resolve(word: str, args: dict[str, str], where: str, line: int) -> str:
    """``$NAME`` / ``${NAME}`` from an ARG default; anything fancier is refused."""
    if "$" not in word:
        return word
    match = _VARIABLE.match(word)
    name = match and (match.group(1) or match.group(2))
    if not name or name not in args:
        raise Refused(
            where, line, "FROM uses a variable without an ARG default; name the image directly"
        )
    return args[name]


def _sources(ins: Instruction, escape: str, stages: list[Stage], where: str) -> None:
    allowed = _COPY_FLAGS[ins.name]
    for flag in ins.flags:
        key, _, value = flag.partition("=")
        if key not in allowed:
            raise Refused(where, ins.line, f"{ins.name} {key} is not supported by the builder")
        if key == "--from":
            _copy_from(value, stages, where, ins.line)
    listed = ins.json_args if ins.json_args is not None else tuple(words(ins.args, escape))
    sources = listed[:-1]
    if _REMOTE.search(_bare(ins, escape)) or any(_REMOTE.search(s) for s in sources):
        raise Refused(
            where, ins.line, f"{ins.name} from a URL or git address is not allowed; {_HOW}"
        )
    # The daemon substitutes ENV and ARG values into ADD/COPY arguments: refuse any.
    if "$" in ins.args or any(s.startswith("<<") for s in sources):
        raise Refused(where, ins.line, f"{ins.name} may not use variables or heredocs; {_HOW}")


def _bare(ins: Instruction, escape: str) -> str:
    """The arguments without quotes and escape characters: what no lexing trick can hide."""
    return re.sub("[\"'" + re.escape(escape) + "]", "", ins.args)


def _copy_from(value: str, stages: list[Stage], where: str, line: int) -> None:
    names = {s.name for s in stages[:-1] if s.name}
    earlier = value.isdigit() and int(value) < len(stages) - 1
    if not (value.lower() in names or earlier):
        raise Refused(where, line, "COPY --from must name an earlier build stage, not an image")


def rewrite(
    escape: str, instructions: list[Instruction], images: dict[int, str], label: str
) -> str:
    """The Dockerfile the daemon builds: each resolved FROM becomes ``FROM <image id>``, and
    every stage starts with ``LABEL <label>`` (the runner finds its images by it)."""
    out = [f"# escape={escape}"]
    for ins in instructions:
        if ins.name == "FROM" and ins.line in images:
            parts = words(ins.args, escape)
            alias = f" AS {parts[2]}" if len(parts) == 3 else ""
            out.append(f"FROM {images[ins.line]}{alias}")
        else:
            out.append(ins.text)
        if ins.name == "FROM":
            out.append(f"LABEL {label}")
    return "\n".join(out) + "\n"
