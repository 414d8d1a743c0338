"""The failure parsers: what a test runner, compiler, linter, program or log printed, read into one form.

``parse_errors(text, root)`` (``dispatch``) picks the parser that recognises the text, one module per tool:
``pytest``, ``unittest``, ``python`` (tracebacks), ``tsc``, ``rustc``, ``rust_panic``, ``cargo`` (cargo test),
``go`` (go test, panics, build errors), ``node`` (Node.js stacks), ``jest``, ``generic`` (``file:line:col:
message`` linters) and ``logs`` (log entries); ``stacks`` finds stack traces anywhere in a text. Every one gives
``ParsedError(file, line, column, message, kind, frames, tool, raw, test_id)`` (``common``, with the path rules
they share). ``parse_test_output(text)`` adds a test run's counts for the test watcher.

Import from here; inside the package the modules import each other directly, the dispatcher importing the tools
and no tool importing the dispatcher. Standard library only (the test watcher imports it on a fast path).
"""

from __future__ import annotations

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths
from app.fix.parsers.dispatch import TestResults, parse_errors, parse_test_output
from app.fix.parsers.logs import parse_log_entry, parse_log_text, split_entries

__all__ = [
    "Frame",
    "ParsedError",
    "ProjectPaths",
    "TestResults",
    "parse_errors",
    "parse_log_entry",
    "parse_log_text",
    "parse_test_output",
    "split_entries",
]
