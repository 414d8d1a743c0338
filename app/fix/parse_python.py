"""Python's errors: tracebacks (plain and chained, and the caret-only SyntaxError form), pytest failures (long
and short tracebacks, collection errors) and unittest failures."""

from __future__ import annotations

import re
from dataclasses import replace

from app.fix.errors import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi

_TB_START = "Traceback (most recent call last):"
_TB_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_EXCEPTION = re.compile(
    r"^(?P<kind>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration|[A-Z]\w*))"
    r"(?::\s?(?P<message>.*))?$"
)
_CARET = re.compile(r"^\s*[\^~]+\s*$")
_CHAIN = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def _exception_line(line: str) -> tuple[str, str] | None:
    match = _EXCEPTION.match(line)
    if not match:
        return None
    kind = match.group("kind")
    return kind.rsplit(".", 1)[-1] if "." in kind and not kind[0].islower() else kind, (
        match.group("message") or ""
    )


def parse_tracebacks(text: str, paths: ProjectPaths | None = None, tool: str = "python") -> list[ParsedError]:
    """Every traceback in ``text``. A chain (``raise ... from``, an error while handling another) is one error:
    the last exception's kind and message, the frames of the whole chain, its location from the last part."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    chain: list[
        tuple[list[Frame], str, str, int]
    ] = []  # (project frames, kind, message, start line) per part
    chain_start = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped == _TB_START or stripped.endswith(_TB_START):
            start = index
            frames, kind, message, index = _read_traceback(lines, index + 1, paths)
            if not chain:
                chain_start = start
            chain.append((frames, kind, message, start))
            # A chain goes on when the next non-blank line announces it.
            follow = index
            while follow < len(lines) and not lines[follow].strip():
                follow += 1
            if follow < len(lines) and lines[follow].strip() in _CHAIN:
                index = follow + 1
                continue
            errors.append(_chain_error(chain, lines[chain_start:index], tool))
            chain = []
            continue
        syntax = _syntax_error(lines, index, paths, tool)
        if syntax is not None:
            error, index = syntax
            errors.append(error)
            continue
        index += 1
    if chain:
        errors.append(_chain_error(chain, lines[chain_start:], tool))
    return dedupe(errors)


def _read_traceback(lines: list[str], index: int, paths: ProjectPaths) -> tuple[list[Frame], str, str, int]:
    frames: list[Frame] = []
    kind, message = "", ""
    while index < len(lines):
        line = lines[index]
        frame = _TB_FRAME.match(line)
        if frame:
            rel = paths.relative(frame.group("file"))
            if rel is not None:
                frames.append(Frame(rel, int(frame.group("line")), (frame.group("func") or "").strip()))
            index += 1
            continue
        if line.startswith((" ", "\t")) or not line.strip():
            index += 1  # source lines, caret lines
            continue
        found = _exception_line(line.strip())
        if found:
            kind, message = found
            index += 1
            # A message may go on over more lines (e.g. an AssertionError with a diff), until a blank line.
            more: list[str] = []
            while index < len(lines) and lines[index].strip() and not _looks_like_new_block(lines[index]):
                more.append(lines[index].rstrip())
                index += 1
            if more:
                message = "\n".join([message, *more]) if message else "\n".join(more)
        break
    return frames, kind, message, index


def _looks_like_new_block(line: str) -> bool:
    stripped = line.strip()
    return stripped == _TB_START or stripped in _CHAIN or bool(re.match(r"^\d{4}-\d\d-\d\d", stripped))


def _chain_error(chain: list[tuple[list[Frame], str, str, int]], raw: list[str], tool: str) -> ParsedError:
    frames = [frame for part in chain for frame in part[0]]
    last_frames, kind, message, _ = chain[-1]
    where = last_frames[-1] if last_frames else (frames[-1] if frames else None)
    if len(chain) > 1:
        causes = "; ".join(f"{k}: {m}".strip() for _, k, m, _ in chain[:-1] if k)
        if causes:
            message = f"{message} (after {causes})"
    return ParsedError(
        file=where.file if where else "",
        line=where.line if where else 0,
        column=0,
        message=message,
        kind=kind or "Exception",
        frames=tuple(frames),
        tool=tool,
        raw="\n".join(raw).strip("\n"),
    )


def _syntax_error(
    lines: list[str], index: int, paths: ProjectPaths, tool: str
) -> tuple[ParsedError, int] | None:
    """``  File "x.py", line 3`` + source + caret + ``SyntaxError: ...`` with no Traceback header (the script
    itself did not compile)."""
    frame = _TB_FRAME.match(lines[index])
    if not frame or frame.group("func"):
        return None
    end = index + 1
    column = 0
    source_line: str | None = None
    while end < len(lines) and end <= index + 4 and lines[end].startswith((" ", "\t")):
        if _CARET.match(lines[end]) and source_line is not None:
            caret = len(lines[end]) - len(lines[end].lstrip())
            code_start = len(source_line) - len(source_line.lstrip())
            column = caret - code_start + 1
        elif source_line is None:
            source_line = lines[end]
        end += 1
    if end >= len(lines):
        return None
    found = _exception_line(lines[end].strip())
    if not found or not found[0].endswith(("SyntaxError", "IndentationError", "TabError")):
        return None
    rel = paths.relative(frame.group("file"))
    line_no = int(frame.group("line"))
    error = ParsedError(
        file=rel or "",
        line=line_no,
        column=max(column, 0),
        message=found[1],
        kind=found[0],
        frames=(Frame(rel, line_no, ""),) if rel else (),
        tool=tool,
        raw="\n".join(lines[index : end + 1]),
    )
    return error, end + 1


# -- pytest -------------------------------------------------------------------------------------------------------

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
        found = _exception_line(line)
        if found:
            kind, first = found
            rest = lines[index + 1 : index + 6]
            return kind, "\n".join([first, *rest]).strip()
    if lines:
        # A bare "assert x == y" (pytest's rewritten assertion without the class name).
        kind = "AssertionError" if lines[0].startswith("assert ") else "Error"
        return kind, "\n".join(lines[:6])
    found = _exception_line(summary_message.strip())
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


# -- unittest -----------------------------------------------------------------------------------------------------

_UNITTEST_HEADER = re.compile(r"^(?P<outcome>FAIL|ERROR): (?P<name>\w+) \((?P<where>[\w.]+)\)(?:\s*\n?.*)?$")


def looks_like_unittest(text: str) -> bool:
    return bool(re.search(r"^(FAIL|ERROR): \w+ \([\w.]+\)", text, re.M)) and "Ran " in text


def parse_unittest(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per ``FAIL:``/``ERROR:`` section, its traceback read by ``parse_tracebacks``."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    while index < len(lines):
        header = _UNITTEST_HEADER.match(lines[index])
        if not header:
            index += 1
            continue
        end = index + 1
        while end < len(lines):
            line = lines[end]
            if line.startswith("=" * 20):
                break
            if line.startswith("-" * 20) and end + 1 < len(lines) and lines[end + 1].startswith("Ran "):
                break  # the closing rule before "Ran N tests"
            end += 1
        body = "\n".join(lines[index:end])
        where = header.group("where")
        # Python 3.11 prints (module.Class.test); older ones (module.Class).
        test_id = where if where.endswith("." + header.group("name")) else f"{where}.{header.group('name')}"
        found = parse_tracebacks(body, paths, tool="unittest")
        if found:
            errors.append(replace(found[-1], test_id=test_id, raw=body))
        else:
            errors.append(
                ParsedError(
                    "",
                    0,
                    0,
                    body.splitlines()[-1] if body else "",
                    "TestFailure",
                    (),
                    "unittest",
                    body,
                    test_id,
                )
            )
        index = end
    return dedupe(errors)
