"""One entry point for any tool's output: ``parse_errors(text, root)`` picks the parsers that recognise it;
``parse_test_output(text)`` reads a test run for the test watcher: the runner's counts and its failing tests.
The dispatcher imports the tools' parsers (one module each); none of them imports it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from app.events import TestFailure
from app.fix.parsers.cargo import cargo_test_counts, looks_like_cargo_test, parse_cargo_test
from app.fix.parsers.common import ParsedError, ProjectPaths, RunCounts, project_paths, strip_ansi
from app.fix.parsers.generic import parse_generic, plain_counts
from app.fix.parsers.go import go_test_counts, looks_like_go, parse_go
from app.fix.parsers.jest import js_test_counts, looks_like_jest, parse_jest
from app.fix.parsers.logs import parse_log_text
from app.fix.parsers.node import parse_node
from app.fix.parsers.pytest import looks_like_pytest, parse_pytest, pytest_counts
from app.fix.parsers.python import parse_tracebacks
from app.fix.parsers.rust_panic import parse_rust_panics
from app.fix.parsers.rustc import looks_like_rustc, parse_rustc
from app.fix.parsers.stacks import parse_stack_errors
from app.fix.parsers.tsc import looks_like_tsc, parse_tsc
from app.fix.parsers.unittest import looks_like_unittest, parse_unittest

TOOLS = (
    "pytest",
    "unittest",
    "python",
    "tsc",
    "rustc",
    "rust-panic",
    "cargo-test",
    "go",
    "node",
    "generic",
    "log",
)


Parser = Callable[[str, ProjectPaths], list[ParsedError]]

# Most specific first: test runners (their failures carry test ids), then compilers.
_RECOGNISED: tuple[tuple[Callable[[str], bool], Parser], ...] = (
    (looks_like_pytest, parse_pytest),
    (looks_like_unittest, parse_unittest),
    (looks_like_jest, parse_jest),
    (looks_like_cargo_test, parse_cargo_test),
    (looks_like_go, parse_go),
    (looks_like_tsc, parse_tsc),
    (looks_like_rustc, parse_rustc),
)


def parse_errors(
    text: str, root: Path | ProjectPaths | None = None, tool: str | None = None
) -> list[ParsedError]:
    """The errors in ``text`` as printed by a test runner, compiler, linter or program. ``tool`` forces one
    parser (one of ``TOOLS``); otherwise the most specific recogniser wins: a test runner's report first (its
    failures carry test ids), then compilers, then stack traces, then generic ``file:line:col: message``."""
    paths = project_paths(root)
    clean = strip_ansi(text)
    if tool is not None:
        return _forced(clean, paths, tool)
    for recognises, parser in _RECOGNISED:
        if recognises(clean):
            found = parser(clean, paths)
            if found:
                return found
    found = parse_stack_errors(clean, paths)
    if found:
        return found
    return parse_generic(clean, paths)


def _forced(text: str, paths: ProjectPaths, tool: str) -> list[ParsedError]:
    parsers: dict[str, Parser] = {
        "pytest": parse_pytest,
        "unittest": parse_unittest,
        "python": parse_tracebacks,
        "tsc": parse_tsc,
        "rustc": parse_rustc,
        "rust-panic": parse_rust_panics,
        "cargo-test": parse_cargo_test,
        "go": parse_go,
        "jest": parse_jest,
        "node": parse_node,
        "generic": parse_generic,
        "log": parse_log_text,
    }
    if tool not in parsers:
        raise ValueError(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")
    return parsers[tool](text, paths)


# -- a test run, for the test watcher -----------------------------------------------------------------------------


@dataclass
class TestResults:
    __test__: ClassVar[bool] = False  # not a pytest test class
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[TestFailure] = field(default_factory=list)
    recognised: bool = False  # whether any runner's closing line was found


# The runners whose closing counts are read, in this order (pytest's line is the most specific).
_COUNTS: tuple[Callable[[str], RunCounts | None], ...] = (
    pytest_counts,
    cargo_test_counts,
    go_test_counts,
    js_test_counts,
    plain_counts,
)


def parse_test_output(output: str, root: Path | ProjectPaths | None = None) -> TestResults:
    """The counts and failing tests (id, file, line, message) of a test run, whichever runner printed it.
    Output no runner's closing line is found in gives empty results (``recognised`` False)."""
    text = strip_ansi(output)
    counts = next((found for read in _COUNTS if (found := read(text)) is not None), None)
    if counts is None:
        return TestResults()
    failures = [test_failure(e) for e in parse_errors(text, root) if e.test_id]
    return TestResults(counts.passed, counts.failed, counts.errors, counts.skipped, failures, recognised=True)


def test_failure(error: ParsedError) -> TestFailure:
    """A failing test as the watcher reports it: where it failed in the test's own file when the stack passes
    through it (else the error's place), and the first line of why."""
    test_file = error.test_id.partition("::")[0]
    own = [frame for frame in error.frames if test_file and frame.file == test_file]
    file, line = (own[-1].file, own[-1].line) if own else (error.file, error.line)
    # pytest's first "E" line says it as the user reads it ("AssertionError: assert 1 == 2").
    shown = [
        line[1:].strip() for line in error.raw.splitlines() if error.tool == "pytest" and line[:2] == "E "
    ]
    lines = [part.strip() for part in error.message.splitlines()]
    first = next((line for line in [*shown, *lines] if line), "")
    return TestFailure(error.test_id, file, line, first or "failed")


test_failure.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
