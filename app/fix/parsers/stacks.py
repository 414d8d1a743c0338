"""Stack traces found anywhere in a text: Python tracebacks, Rust panics, Go panics and JavaScript stacks.

What a program (or a log entry) printed when it crashed, as opposed to a test runner's or a compiler's report:
the dispatcher falls back on it, and a log entry holding a stack is read by it.
"""

from __future__ import annotations

from pathlib import Path

from app.fix.parsers.common import ParsedError, ProjectPaths, dedupe, project_paths
from app.fix.parsers.go import parse_go
from app.fix.parsers.node import looks_like_node, parse_node
from app.fix.parsers.python import parse_tracebacks
from app.fix.parsers.rust_panic import looks_like_rust_panic, parse_rust_panics


def parse_stack_errors(text: str, root: Path | ProjectPaths | None = None) -> list[ParsedError]:
    """Tracebacks, Rust panics, Go panics and JavaScript stacks found anywhere in ``text``."""
    paths = project_paths(root)
    found: list[ParsedError] = []
    found += parse_tracebacks(text, paths)
    if looks_like_rust_panic(text):
        found += parse_rust_panics(text, paths)
    if "panic: " in text and "goroutine " in text:
        found += [e for e in parse_go(text, paths) if e.kind == "panic"]
    if looks_like_node(text):
        found += parse_node(text, paths)
    return dedupe(found)
