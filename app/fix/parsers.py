"""Parsers of test-runner output: counts and failing tests (id, file, line, message).

pytest is read in full (failure sections, short summary, closing counts); cargo test, go test, jest, vitest,
mocha and node's test runner at least for their counts and, where they print it, the failing tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from app.background.bus import TestFailure

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class TestResults:
    __test__: ClassVar[bool] = False  # not a pytest test class
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[TestFailure] = field(default_factory=list)
    recognised: bool = False  # whether any runner's closing line was found


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def parse_test_output(output: str, command: str = "") -> TestResults:
    """The results in ``output``, whichever runner wrote it (pytest first, then the others)."""
    text = strip_ansi(output)
    for parser in (parse_pytest, parse_cargo, parse_go, parse_js, parse_plain):
        results = parser(text)
        if results.recognised:
            return results
    return TestResults()


# -- pytest ---------------------------------------------------------------------------------------------------

_PYTEST_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
_PYTEST_CLOSING = re.compile(r"^=*\s*(?:\d+ \w+.*|no tests ran.*) in [\d.]+s.*?=*\s*$")
_PYTEST_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_PYTEST_LOCATION = re.compile(r"^([^\s:][^:]*\.py):(\d+): (?:in \S+|(\w[\w.]*))")
_PYTEST_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+?)(?: - (.*))?$")


def parse_pytest(text: str) -> TestResults:
    results = TestResults()
    lines = text.splitlines()
    for line in reversed(lines):
        if _PYTEST_CLOSING.match(line.strip()):
            results.recognised = True
            for number, word in _PYTEST_COUNTS.findall(line):
                count = int(number)
                if word == "passed":
                    results.passed = count
                elif word == "failed":
                    results.failed = count
                elif word.startswith("error"):
                    results.errors = count
                elif word == "skipped":
                    results.skipped = count
            break
    if not results.recognised:
        return results

    sections = _pytest_sections(lines)
    seen: set[str] = set()
    for line in lines:
        match = _PYTEST_SUMMARY.match(line.strip())
        if not match:
            continue
        _outcome, test_id, summary_message = match.groups()
        if test_id in seen:
            continue
        seen.add(test_id)
        section = _find_section(sections, test_id)
        file, line_no, message = _section_failure(section, test_id)
        results.failures.append(
            TestFailure(test_id, file, line_no, message or (summary_message or "").strip() or "failed")
        )
    if not results.failures:
        # No short summary (``-rN``): fall back on the section headers themselves.
        for title, body in sections.items():
            file, line_no, message = _section_failure(body, "")
            results.failures.append(TestFailure(title, file, line_no, message or "failed"))
    return results


def _pytest_sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        header = _PYTEST_SECTION.match(line)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        if line.startswith("=") and line.rstrip().endswith("="):
            current = None
            continue
        if current is not None:
            current.append(line)
    return sections


def _find_section(sections: dict[str, list[str]], test_id: str) -> list[str]:
    path, _, name = test_id.partition("::")
    dotted = name.replace("::", ".")
    for title in (dotted, name, f"ERROR collecting {path}", test_id):
        if title in sections:
            return sections[title]
    tail = dotted.rsplit(".", 1)[-1]
    return sections.get(tail, [])


def _section_failure(body: list[str], test_id: str) -> tuple[str, int, str]:
    """The location (preferring the test's own file) and the first ``E`` line of a failure section."""
    test_file = test_id.partition("::")[0]
    locations: list[tuple[str, int]] = []
    message = ""
    for line in body:
        location = _PYTEST_LOCATION.match(line)
        if location:
            locations.append((location.group(1), int(location.group(2))))
        elif not message and line.startswith("E ") and line[1:].strip():
            message = line[1:].strip()
    own = [loc for loc in locations if test_file and loc[0] == test_file]
    file, line_no = (own or locations or [(test_file, 0)])[-1]
    return file, line_no, message


# -- other runners --------------------------------------------------------------------------------------------

_CARGO_RESULT = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
_CARGO_PANIC = re.compile(r"thread '([^']+)' panicked at ([^:\s]+):(\d+)(?::\d+)?:?\s*(.*)")


def parse_cargo(text: str) -> TestResults:
    results = TestResults()
    for passed, failed, ignored in _CARGO_RESULT.findall(text):
        results.recognised = True
        results.passed += int(passed)
        results.failed += int(failed)
        results.skipped += int(ignored)
    lines = text.splitlines()
    for index, line in enumerate(lines):
        panic = _CARGO_PANIC.search(line)
        if panic:
            name, file, line_no, message = panic.groups()
            if not message and index + 1 < len(lines):
                message = lines[index + 1].strip()
            results.failures.append(TestFailure(name, file, int(line_no), message))
    return results


_GO_FAIL = re.compile(r"^\s*--- FAIL: (\S+)")
_GO_PASS = re.compile(r"^\s*--- PASS: ")
_GO_LOCATION = re.compile(r"^\s+(\S+\.go):(\d+): (.*)")
_GO_PACKAGE = re.compile(r"^(ok|FAIL)\s+\S+")


def parse_go(text: str) -> TestResults:
    results = TestResults()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _GO_PACKAGE.match(line):
            results.recognised = True
        if _GO_PASS.match(line):
            results.passed += 1
        failure = _GO_FAIL.match(line)
        if failure:
            results.failed += 1
            file, line_no, message = "", 0, ""
            # Without -v the test's log lines follow its FAIL line; with -v they come before it.
            before = list(reversed(lines[max(0, index - 5) : index]))
            for follow in [*lines[index + 1 : index + 6], *before]:
                location = _GO_LOCATION.match(follow)
                if location:
                    file, line_no, message = location.group(1), int(location.group(2)), location.group(3)
                    break
            results.failures.append(TestFailure(failure.group(1), file, line_no, message))
    return results


_JEST = re.compile(r"^Tests:\s+(.*\d+ total)")
_VITEST = re.compile(r"^\s*Tests\s+(.*)\(\d+\)")
_MOCHA_PASSING = re.compile(r"^\s*(\d+) passing")
_MOCHA_FAILING = re.compile(r"^\s*(\d+) failing")
_NODE_TAP = re.compile(r"^# (pass|fail) (\d+)")


def parse_js(text: str) -> TestResults:
    results = TestResults()
    for line in text.splitlines():
        summary = _JEST.match(line) or _VITEST.match(line)
        if summary:
            results.recognised = True
            for number, word in re.findall(r"(\d+) (passed|failed|skipped)", summary.group(1)):
                setattr(results, word if word != "skipped" else "skipped", int(number))
        elif _MOCHA_PASSING.match(line) or _MOCHA_FAILING.match(line):
            results.recognised = True
            passing, failing = _MOCHA_PASSING.match(line), _MOCHA_FAILING.match(line)
            if passing:
                results.passed = int(passing.group(1))
            if failing:
                results.failed = int(failing.group(1))
        else:
            tap = _NODE_TAP.match(line)
            if tap:
                results.recognised = True
                if tap.group(1) == "pass":
                    results.passed = int(tap.group(2))
                else:
                    results.failed = int(tap.group(2))
    return results


_PLAIN = re.compile(r"^(?:\w+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


def parse_plain(text: str) -> TestResults:
    results = TestResults()
    for line in reversed(text.splitlines()):
        match = _PLAIN.match(line.strip())
        if match:
            results.recognised = True
            results.passed, results.failed = int(match.group(1)), int(match.group(2))
            results.skipped = int(match.group(3) or 0)
            break
    return results
