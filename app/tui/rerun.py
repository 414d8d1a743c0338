"""The palette's "Rerun tests" when no test watcher runs, as one event-log line: the outcome of the
workspace's run (app/workspace/core.py's ``rerun_tests``, through app/fix/testrun.py's ``run_tests``, the
runner the fix loop uses: its own process group, ended with its children at the time limit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.tui import texts

if TYPE_CHECKING:
    from app.fix.testrun import TestOutcome

# What app/fix/testrun.py's ``run_tests`` allows a run by default, as the workspace calls it.
RERUN_TIMEOUT = 900.0


def rerun_line(outcome: TestOutcome, timeout: float = RERUN_TIMEOUT) -> tuple[str, str]:
    """The event-log line that says how the run ended, and its level."""
    lines = outcome.output.strip().splitlines()
    last = lines[-1] if lines else ""
    if outcome.timed_out:
        return texts.TESTS_TIMED_OUT.format(seconds=timeout, last=last), "error"
    if outcome.ok:
        return texts.TESTS_PASSED.format(last=last), "ok"
    return texts.TESTS_FAILED.format(code=outcome.exit_code, last=last), "error"
