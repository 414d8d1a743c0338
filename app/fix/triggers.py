"""From what the background services saw to a fix request: a failing run of the test watcher, an error entry of
the log tailer, a test run after an applied change. Each gives the errors in the structured form (richer than the
watcher's own failure list: frames, kinds) and, for a test run, the baseline that saves running the suite again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.config import Config
from app.events import Diagnostic, LogError, TestRunFinished
from app.fix.loop import FixRequest
from app.fix.parsers import Frame, ParsedError, ProjectPaths, parse_errors, parse_log_entry
from app.fix.testrun import TestOutcome, failure_id


def errors_from_test_run(event: TestRunFinished, root: Path) -> list[ParsedError]:
    """The failures of the test watcher's run: its output parsed when it says more, else its own failure list
    (test id, file, line, message)."""
    parsed = {e.test_id: e for e in _parse(event.output_tail, root) if e.test_id}
    errors: list[ParsedError] = []
    for failure in event.failures:
        known = parsed.get(failure.test_id)
        if known is not None:
            errors.append(known)
            continue
        frames = (Frame(failure.file, failure.line, ""),) if failure.file else ()
        errors.append(
            ParsedError(
                failure.file,
                failure.line,
                0,
                failure.message,
                "test_failure",
                frames,
                "tests",
                "",
                failure.test_id,
            )
        )
    if not errors and not event.ok:
        errors = _parse(event.output_tail, root) or [
            ParsedError(
                "",
                0,
                0,
                f"{event.command} failed (exit status {event.exit_code})",
                "failure",
                (),
                "tests",
                event.output_tail,
            )
        ]
    return errors


def baseline_from_test_run(event: TestRunFinished, root: Path) -> TestOutcome:
    """The watcher's run as the fix loop's baseline (what already failed is not a new failure)."""
    return TestOutcome(
        command=event.command,
        exit_code=event.exit_code,
        output=event.output_tail,
        errors=errors_from_test_run(event, root),
        seconds=event.duration,
        passed=event.passed,
        failed=event.failed,
    )


def errors_from_log(event: LogError, root: Path) -> list[ParsedError]:
    """The errors of the log tailer's entry."""
    return parse_log_entry(event.entry, ProjectPaths(root), source=event.path) or [
        ParsedError("", 0, 0, event.summary(), event.error_kind, (), "log", event.entry)
    ]


def request_for_test_run(
    event: TestRunFinished,
    root: Path,
    session: Any,
    config: Config,
    only: Iterable[str] | None = None,
    **options: Any,
) -> FixRequest:
    """A fix request for a failing ``TestRunFinished``: its failures (``only``: those of these test ids, the
    one the user selected or those a change broke), the whole run as baseline, so a failure it had that is not
    targeted is not "new" when it still fails after the fix."""
    baseline = baseline_from_test_run(event, root)
    wanted = set(only) if only is not None else set()
    targets = [e for e in baseline.errors if e.test_id in wanted] or baseline.errors
    return FixRequest(
        root=root,
        session=session,
        config=config,
        errors=targets,
        test_cmd=event.command or None,
        trigger="the test watcher",
        baseline=baseline if {failure_id(e) for e in baseline.errors} else None,
        failure_seen_at=options.pop("failure_seen_at", time.monotonic()),
        **options,
    )


def request_for_log_error(
    event: LogError, root: Path, session: Any, config: Config, **options: Any
) -> FixRequest:
    """A fix request for a ``LogError``: verified by the test suite not getting worse."""
    return FixRequest(
        root=root,
        session=session,
        config=config,
        errors=errors_from_log(event, root),
        trigger=f"the log {event.path}",
        failure_seen_at=options.pop("failure_seen_at", time.monotonic()),
        **options,
    )


def _parse(text: str, root: Path) -> list[ParsedError]:
    return parse_errors(text, ProjectPaths(root)) if text else []


def errors_from_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[ParsedError]:
    """Language-server errors in the structured form; warnings are left out."""
    return [
        ParsedError(
            d.path,
            d.line,
            d.column,
            d.message,
            d.code or "diagnostic",
            (Frame(d.path, d.line, ""),),
            f"lsp:{d.source}" if d.source else "lsp",
            d.summary(),
        )
        for d in diagnostics
        if d.severity == "error"
    ]


def request_for_diagnostics(
    diagnostics: Iterable[Diagnostic], root: Path, session: Any, config: Config, **options: Any
) -> FixRequest:
    """A fix request for language-server errors: verified by the test suite not getting worse."""
    return FixRequest(
        root=root,
        session=session,
        config=config,
        errors=errors_from_diagnostics(diagnostics),
        trigger="the language server",
        failure_seen_at=options.pop("failure_seen_at", time.monotonic()),
        **options,
    )
