"""jest's failures (one per ``● suite (U+203A) test`` section), and the counts of JavaScript test runners:
jest's and vitest's ``Tests:`` line, mocha's passing/failing, node's test runner (TAP) totals."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi
from app.fix.parsers.node import NODE_ERROR, NODE_FRAME

_JEST_FILE = re.compile(r"^\s*FAIL\s+(?P<file>\S+)\s*$")
_JEST_SECTION = re.compile(r"^\s*● (?P<title>.+?)\s*$")
_JEST_END = re.compile(r"^(Test Suites:|Tests:|Snapshots:|Time:|Ran all test suites)")
_JEST_CODE = re.compile(r"^\s*(>\s*)?\d+\s*\|")


def looks_like_jest(text: str) -> bool:
    return bool(re.search(r"^Tests:\s+.*\d+ total", text, re.M)) and "●" in text


def parse_jest(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per ``● suite (U+203A) test`` section: its message (the thrown error or the failed expectation)
    and the in-project frames of its stack; the failing test is named ``file::`` and the section title."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    current_file = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        failing_file = _JEST_FILE.match(line)
        if failing_file:
            current_file = paths.relative(failing_file.group("file")) or failing_file.group("file")
        section = _JEST_SECTION.match(line)
        if not section or section.group("title").startswith("Console"):
            index += 1
            continue
        start, index = index, index + 1
        body: list[str] = []
        while (
            index < len(lines) and not _JEST_SECTION.match(lines[index]) and not _JEST_END.match(lines[index])
        ):
            if _JEST_FILE.match(lines[index]):
                break
            body.append(lines[index])
            index += 1
        errors.append(_jest_error(section.group("title"), current_file, body, paths, lines[start:index]))
    return dedupe(errors)


def _jest_error(title: str, file: str, body: list[str], paths: ProjectPaths, raw: list[str]) -> ParsedError:
    message_lines: list[str] = []
    frames: list[Frame] = []
    column = 0
    for line in body:
        at = NODE_FRAME.match(line)
        if at:
            rel = paths.relative(at.group("file"))
            if rel is not None:
                if not frames:
                    column = int(at.group("col"))
                frames.append(Frame(rel, int(at.group("line")), at.group("func") or ""))
            continue
        if frames or _JEST_CODE.match(line) or line.strip().startswith("|"):
            continue
        if line.strip():
            message_lines.append(line.strip())
    frames.reverse()  # innermost first in the stack
    kind = "AssertionError"
    for candidate in message_lines[:2]:
        thrown = NODE_ERROR.match(candidate)
        if thrown:
            kind = thrown.group("kind")
            break
    where = frames[-1] if frames else None
    return ParsedError(
        file=where.file if where else file,
        line=where.line if where else 0,
        column=column if where else 0,
        message="\n".join(message_lines[:8]),
        kind=kind,
        frames=tuple(frames),
        tool="jest",
        raw="\n".join(raw).strip("\n"),
        test_id=f"{file}::{title}" if file else title,
    )


# -- counts -------------------------------------------------------------------------------------------------------

_JEST = re.compile(r"^Tests:\s+(.*\d+ total)")
_VITEST = re.compile(r"^\s*Tests\s+(.*)\(\d+\)")
_MOCHA_PASSING = re.compile(r"^\s*(\d+) passing")
_MOCHA_FAILING = re.compile(r"^\s*(\d+) failing")
_NODE_TAP = re.compile(r"^# (pass|fail) (\d+)")


def js_test_counts(text: str) -> RunCounts | None:
    """jest's and vitest's ``Tests:`` line, mocha's passing/failing, node's test runner (TAP) totals."""
    counts: RunCounts | None = None
    for line in text.splitlines():
        summary = _JEST.match(line) or _VITEST.match(line)
        passing, failing, tap = _MOCHA_PASSING.match(line), _MOCHA_FAILING.match(line), _NODE_TAP.match(line)
        if not (summary or passing or failing or tap):
            continue
        counts = counts or RunCounts()
        if summary:
            for number, word in re.findall(r"(\d+) (passed|failed|skipped)", summary.group(1)):
                setattr(counts, word, int(number))
        elif passing or failing:
            if passing:
                counts.passed = int(passing.group(1))
            if failing:
                counts.failed = int(failing.group(1))
        elif tap:
            if tap.group(1) == "pass":
                counts.passed = int(tap.group(2))
            else:
                counts.failed = int(tap.group(2))
    return counts
