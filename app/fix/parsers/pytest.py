"""pytest's failures (long and short tracebacks, collection errors), one per failing or erroring test with its
test id, and the counts of its closing line."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi
from app.fix.parsers.python import exception_line

_PYTEST_SECTION = re.compile(r"^_{3,} (?P<title>.+?) _{3,}$")
_PYTEST_BANNER = re.compile(r"^={3,} ?(?P<title>.*?) ?={3,}$")
_PYTEST_SUMMARY = re.compile(r"^(?P<outcome>FAILED|ERROR) (?P<id>\S+)(?: - (?P<message>.*))?$")
# Short traceback: "path.py:12: in func"; long traceback: "path.py:12: ExceptionName" (or nothing after).
_PYTEST_LOCATION = re.compile(
    r"^(?P<file>[^\s:][^:]*\.py):(?P<line>\d+):(?: in (?P<func>\S+)| (?P<exc>[\w.]+))?\s*$"
)
_PYTEST_DEF = re.compile(r"^\s*(?:async\s+)?def (?P<name>\w+)\(")
_PYTEST_CHUNK_SEPARATOR = re.compile(r"^(?:_ ){5,}_?\s*$")


def looks_like_pytest(text: str) -> bool:
    return bool(
        re.search(r"^=+ (FAILURES|ERRORS|short test summary info) =+$", text, re.M)
        or re.search(r"^=+ .*\b(passed|failed|error)\b.* in [\d.]+s", text, re.M)
        or re.search(r"^(FAILED|ERROR) \S+::\S+", text, re.M)
    )


def parse_pytest(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per failing or erroring test (and per collection error), with its test id."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    sections = _pytest_sections(lines)
    summaries: list[tuple[str, str, str]] = []
    for line in lines:
        match = _PYTEST_SUMMARY.match(line.strip())
        if match:
            summaries.append((match.group("outcome"), match.group("id"), match.group("message") or ""))
    errors: list[ParsedError] = []
    used: set[str] = set()
    for _outcome, test_id, summary_message in summaries:
        title = _section_title_for(sections, test_id)
        body = sections.get(title, []) if title else []
        if title:
            used.add(title)
        errors.append(_pytest_error(body, test_id, summary_message, paths))
    for title, body in sections.items():
        if title in used or not body:
            continue
        test_id = title[len("ERROR collecting ") :] if title.startswith("ERROR collecting ") else title
        errors.append(_pytest_error(body, test_id, "", paths))
    return dedupe(errors)


def _pytest_sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        header = _PYTEST_SECTION.match(line)
        if header and not _PYTEST_CHUNK_SEPARATOR.match(line):
            title = header.group("title")
            if title.startswith(("Captured ", "captured ")):
                current = None  # captured output belongs to no failure's traceback
                continue
            current = sections.setdefault(title, [])
            continue
        banner = _PYTEST_BANNER.match(line)
        if banner:
            current = None
            continue
        if line.startswith("-" * 10) and "Captured" in line:
            current = None
            continue
        if current is not None:
            current.append(line)
    return sections


def _section_title_for(sections: dict[str, list[str]], test_id: str) -> str | None:
    path, _, name = test_id.partition("::")
    dotted = name.replace("::", ".")
    for title in (dotted, name, f"ERROR collecting {path}", f"ERROR at setup of {name}", test_id):
        if title and title in sections:
            return title
    tail = dotted.rsplit(".", 1)[-1]
    for title in sections:
        if title == tail or title.endswith("." + tail) or title.endswith(f" of {tail}"):
            return title
    return None


def _pytest_error(body: list[str], test_id: str, summary_message: str, paths: ProjectPaths) -> ParsedError:
    frames: list[Frame] = []
    messages: list[str] = []
    last_def = ""
    for line in body:
        if _PYTEST_CHUNK_SEPARATOR.match(line):
            last_def = ""
            continue
        definition = _PYTEST_DEF.match(line)
        if definition and not line.startswith("E "):
            last_def = definition.group("name")
        location = _PYTEST_LOCATION.match(line)
        if location:
            rel = paths.relative(location.group("file"))
            function = location.group("func") or last_def
            if rel is not None:
                frames.append(Frame(rel, int(location.group("line")), function))
            continue
        if line.startswith("E ") or line == "E":
            messages.append(line[1:].strip())
    # Collection errors print an embedded "Traceback:" of "file:line: in func" lines: same format, same handling.
    kind, message = _kind_and_message(messages, summary_message)
    where = frames[-1] if frames else None
    test_file = paths.relative(test_id.partition("::")[0]) or ""
    if where is None and test_file:
        where = Frame(test_file, 0, "")
    return ParsedError(
        file=where.file if where else "",
        line=where.line if where else 0,
        column=0,
        message=message,
        kind=kind,
        frames=tuple(frames),
        tool="pytest",
        raw="\n".join(body).strip("\n") or summary_message,
        test_id=test_id,
    )


def _kind_and_message(messages: list[str], summary_message: str) -> tuple[str, str]:
    lines = [m for m in messages if m]
    for index, line in enumerate(lines):
        found = exception_line(line)
        if found:
            kind, first = found
            rest = lines[index + 1 : index + 6]
            return kind, "\n".join([first, *rest]).strip()
    if lines:
        # A bare "assert x == y" (pytest's rewritten assertion without the class name).
        kind = "AssertionError" if lines[0].startswith("assert ") else "Error"
        return kind, "\n".join(lines[:6])
    found = exception_line(summary_message.strip())
    if found:
        return found
    return "TestFailure", summary_message.strip() or "failed"


_PYTEST_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
_PYTEST_CLOSING = re.compile(r"^=*\s*(?:\d+ \w+.*|no tests ran.*) in [\d.]+s.*?=*\s*$")


def pytest_counts(text: str) -> RunCounts | None:
    """The counts of pytest's closing line (``=== 1 failed, 2 passed in 0.1s ===``), None without one."""
    for line in reversed(text.splitlines()):
        if not _PYTEST_CLOSING.match(line.strip()):
            continue
        counts = RunCounts()
        for number, word in _PYTEST_COUNTS.findall(line):
            if word == "passed":
                counts.passed = int(number)
            elif word == "failed":
                counts.failed = int(number)
            elif word.startswith("error"):
                counts.errors = int(number)
            elif word == "skipped":
                counts.skipped = int(number)
        return counts
    return None
