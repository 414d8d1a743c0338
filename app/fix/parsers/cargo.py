"""``cargo test``: one error per failing test (the panic in its ``---- name stdout ----`` section), compile
errors when the build stopped the run, and the counts of its ``test result:`` lines."""

from __future__ import annotations

import re

from app.fix.parsers.common import ParsedError, ProjectPaths, RunCounts, strip_ansi
from app.fix.parsers.rust_panic import parse_rust_panics
from app.fix.parsers.rustc import looks_like_rustc, parse_rustc

_CARGO_TEST_SECTION = re.compile(r"^---- (?P<name>\S+) stdout ----$")
_CARGO_RESULT = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")


def looks_like_cargo_test(text: str) -> bool:
    return bool(re.search(r"^test result: \w+\.", text, re.M) or _CARGO_TEST_SECTION.search(text) is not None)


def parse_cargo_test(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per failing test: the panic in its ``---- name stdout ----`` section."""
    clean = strip_ansi(text)
    errors: list[ParsedError] = []
    for error in parse_rust_panics(clean, paths, tool="cargo-test"):
        errors.append(error)
    # Compile errors stop a test run before any test: report them as they are.
    if not errors and looks_like_rustc(clean):
        return parse_rustc(clean, paths)
    return errors


def cargo_test_counts(text: str) -> RunCounts | None:
    """The sum of ``test result:`` lines (one per test binary)."""
    results = _CARGO_RESULT.findall(text)
    if not results:
        return None
    counts = RunCounts()
    for passed, failed, ignored in results:
        counts.passed += int(passed)
        counts.failed += int(failed)
        counts.skipped += int(ignored)
    return counts
