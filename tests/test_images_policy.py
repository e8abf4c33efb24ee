"""runner.images.dockerfile and .policy: a Dockerfile read as the Docker 20.10 builder reads
it, and every way to make the daemon fetch something refused with the line it is on."""

from __future__ import annotations

import pytest

from runner.images.dockerfile import parse, words
from runner.images.policy import Refused, check, rewrite

HOW = "put the files in the build context and COPY them"
ADD_URL = f"ADD from a URL or git address is not allowed; {HOW}"
COPY_URL = f"COPY from a URL or git address is not allowed; {HOW}"
FLAGS = "RUN flags and heredocs are not supported by the builder"
UNRESOLVED = "FROM uses a variable without an ARG default; name the image directly"
NOT_STAGE = "COPY --from must name an earlier build stage, not an image"
OURS = "labels under org.challenge-runner. are the runner's"
ADD_VAR = f"ADD may not use variables or heredocs; {HOW}"
COPY_VAR = f"COPY may not use variables or heredocs; {HOW}"
ESCAPE = "use at most one escape directive, set to \\ or a backtick"


def _refusal(text: str) -> str:
    with pytest.raises(Refused) as caught:
        check(text)
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("FROM a\nADD http://127.0.0.1:8080/x /x\n", 2, ADD_URL),
        ("FROM a\nadd HTTPS://h/x /x\n", 2, ADD_URL),
        ('FROM a\nADD ["http://h/x", "/x"]\n', 2, ADD_URL),
        ("FROM a\nADD h\\\n  ttp://h/x /x\n", 2, ADD_URL),
        ("FROM a\nADD \"ht\"'tp'://h/x /x\n", 2, ADD_URL),
        ("FROM a\nADD ht\\tp:\\/\\/h/x /x\n", 2, ADD_URL),
        ("# escape=`\nFROM a\nRUN echo `\n  more\nADD ht`tp://h/x /x\n", 5, ADD_URL),
        ("FROM a\nADD git@github.com:o/r.git /r\n", 2, ADD_URL),
        ("FROM a\nADD github.com/o/r /r\n", 2, ADD_URL),
        ("FROM a\nCOPY http://h/x /x\n", 2, COPY_URL),
        ("FROM a\nONBUILD ADD http://h/x /x\n", 2, ADD_URL),
        ("FROM a\nonbuild  add [\"http://h/x\",\"/x\"]\n", 2, ADD_URL),
        ("FROM a\nENV U=http://h/x\nADD $U /x\n", 3, ADD_VAR),
        ("FROM a\nARG U=http://h/x\nCOPY ${U} /x\n", 3, COPY_VAR),
        ("FROM a\nADD x\u00a0$U /x\n", 2, ADD_VAR),
        ("FROM a\nCOPY <<EOF /x\nhello\nEOF\n", 2, COPY_VAR),
        ("FROM a\nRUN <<EOF\nADD http://h/x /x\nEOF\n", 2, FLAGS),
        ("FROM a\nRUN --network=host wget http://h\n", 2, FLAGS),
        ("FROM a\nADD --checksum=x http://h/x /x\n", 2, "ADD --checksum is not supported by the builder"),  # noqa: E501
        ("FROM a\nADD --from=b x /x\n", 2, "ADD --from is not supported by the builder"),
        ("FROM a\nCOPY --link x /x\n", 2, "COPY --link is not supported by the builder"),
        ("FROM a\nCOPY --from=registry.example:5000/x /a /b\n", 2, NOT_STAGE),
        ("FROM a AS b\nCOPY --from=b /a /b\n", 2, NOT_STAGE),
        ("FROM a\nCOPY --from=0 /a /b\n", 2, NOT_STAGE),
        ("FROM $BASE\n", 1, UNRESOLVED),
        ("ARG B\nFROM ${B}\n", 2, UNRESOLVED),
        ("ARG B=x\nFROM ${B:-evil:5000/x}\n", 2, UNRESOLVED),
        ("FROM --platform=linux/arm64 a\n", 1, "use FROM <image> [AS <name>] (no flags)"),
        ("FROM a\nLABEL org.challenge-runner.build-id=x\n", 2, OURS),
        ("FROM a\nLABEL \"org.challenge\\-runner.build-id\"=x\n", 2, OURS),
        ("RUN true\nFROM a\n", 1, "RUN before the first FROM"),
        ("FROM a\nONBUILD FROM b\n", 2, "ONBUILD needs an instruction other than FROM"),
        ("# escape=`\n# escape=\\\nFROM a\n", 1, ESCAPE),
        ("# escape=x\nFROM a\n", 1, ESCAPE),
        ("# just a comment\n", 1, "no FROM instruction; start with FROM <base image>"),
    ],
)  # fmt: skip
def test_refusals_name_the_line(text, line, reason):
    assert _refusal(text) == f"Dockerfile line {line}: {reason}"


def test_a_syntax_line_ends_the_directives_as_in_the_daemon():
    # The daemon reads only leading escape directives: here the escape stays "\", so
    # "h\<newline>ttp://" is one continued word, "http://".
    text = "# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nADD h\\\nttp://h/x /x\n"
    assert parse(text)[0] == "\\"
    assert _refusal(text).startswith("Dockerfile line 4: ADD from a URL")


def test_comments_and_blank_lines_inside_a_continuation_are_dropped():
    # As in the daemon, the ADD line continues the RUN: it is shell text, not an ADD.
    _, instructions = parse("FROM a\n# c\nRUN true \\\n# inside\n\n  ADD http://h/x /x\n")
    assert [(i.line, i.name, i.args) for i in instructions] == [
        (1, "FROM", "a"),
        (3, "RUN", "true   ADD http://h/x /x"),
    ]


def test_lines_end_at_newline_only_as_in_the_daemon():
    # "\u2028" and "\x85" are line breaks to str.splitlines but not to the daemon.
    _, instructions = parse("FROM a\r\nRUN echo a\u2028ADD b\x85c\n")
    assert [(i.line, i.name, i.args) for i in instructions] == [
        (1, "FROM", "a"),
        (2, "RUN", "echo a\u2028ADD b\x85c"),
    ]


def test_allowed_forms_and_their_stages():
    text = (
        "\ufeffARG BASE=challenge-runner/python:bookworm\n"
        "from ${BASE} as Build\n"
        'COPY --chown=1:1 ["a b", "/x/"]\n'
        "run echo \\\n   hi\n"
        "FROM scratch\n"
        "COPY --from=build /x /x\n"
        "COPY --from=0 /x /y\n"
        "FROM build\n"
    )
    escape, instructions, stages = check(text)
    assert [(s.line, s.image, s.name) for s in stages] == [
        (2, "challenge-runner/python:bookworm", "build"),
        (6, None, None),
        (9, None, None),
    ]
    assert rewrite(escape, instructions, {2: "sha256:" + "1" * 64}, "k=v") == (
        "# escape=\\\n"
        "ARG BASE=challenge-runner/python:bookworm\n"
        f"FROM sha256:{'1' * 64} AS Build\nLABEL k=v\n"
        'COPY --chown=1:1 ["a b", "/x/"]\n'
        "run echo    hi\n"
        "FROM scratch\nLABEL k=v\n"
        "COPY --from=build /x /x\n"
        "COPY --from=0 /x /y\n"
        "FROM build\nLABEL k=v\n"
    )


def test_words_follow_the_builders_lexer():
    assert words('a \'b c\' "d\\"e" f\\ g', "\\") == ["a", "b c", 'd"e', "f g"]
    assert words("a`  b", "`") == ["a ", "b"]
