"""One entry point for any tool's output: ``parse_errors(text, root)`` picks the parsers that recognise it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.fix.errors import ParsedError, ProjectPaths, dedupe, strip_ansi
from app.fix.parse_python import (
    looks_like_pytest,
    looks_like_unittest,
    parse_pytest,
    parse_tracebacks,
    parse_unittest,
)
from app.fix.parse_tools import (
    looks_like_cargo_test,
    looks_like_go,
    looks_like_jest,
    looks_like_node,
    looks_like_rust_panic,
    looks_like_rustc,
    looks_like_tsc,
    parse_cargo_test,
    parse_generic,
    parse_go,
    parse_jest,
    parse_node,
    parse_rust_panics,
    parse_rustc,
    parse_tsc,
)

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


def _paths(root: Path | ProjectPaths | None) -> ProjectPaths:
    return root if isinstance(root, ProjectPaths) else ProjectPaths(root)


def parse_errors(
    text: str, root: Path | ProjectPaths | None = None, tool: str | None = None
) -> list[ParsedError]:
    """The errors in ``text`` as printed by a test runner, compiler, linter or program. ``tool`` forces one
    parser (one of ``TOOLS``); otherwise the most specific recogniser wins: a test runner's report first (its
    failures carry test ids), then compilers, then stack traces, then generic ``file:line:col: message``."""
    paths = _paths(root)
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


def parse_stack_errors(text: str, root: Path | ProjectPaths | None = None) -> list[ParsedError]:
    """Tracebacks, Rust panics, Go panics and JavaScript stacks found anywhere in ``text``."""
    paths = _paths(root)
    found: list[ParsedError] = []
    found += parse_tracebacks(text, paths)
    if looks_like_rust_panic(text):
        found += parse_rust_panics(text, paths)
    if "panic: " in text and "goroutine " in text:
        found += [e for e in parse_go(text, paths) if e.kind == "panic"]
    if looks_like_node(text):
        found += parse_node(text, paths)
    return dedupe(found)


def _forced(text: str, paths: ProjectPaths, tool: str) -> list[ParsedError]:
    from app.fix.parse_logs import parse_log_text

    parsers = {
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
