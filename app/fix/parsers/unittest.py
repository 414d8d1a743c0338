"""unittest's failures: one per ``FAIL:``/``ERROR:`` section, its traceback read by the traceback parser."""

from __future__ import annotations

import re
from dataclasses import replace

from app.fix.parsers.common import ParsedError, ProjectPaths, dedupe, strip_ansi
from app.fix.parsers.python import parse_tracebacks

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
