"""The palette's "Rerun tests" when no test watcher runs: the configured command through app/fix/testrun.py's
``run_command`` (the runner the fix loop uses: its own process group, ended with its children at the time
limit or when the worker is cancelled), summed up as one event-log line."""

from __future__ import annotations

from pathlib import Path

from app.fix.testrun import run_command
from app.tui import texts

# As long as the fix loop gives a test run (app/fix/loop.py's FixRequest.test_timeout).
RERUN_TIMEOUT = 900.0


async def rerun_tests(command: str, root: Path, timeout: float = RERUN_TIMEOUT) -> tuple[str, str]:
    """Run ``command`` in ``root``; the event-log line that says how it ended and its level."""
    run = await run_command(command, root, timeout=timeout)
    lines = run.output.strip().splitlines()
    last = lines[-1] if lines else ""
    if run.timed_out:
        return texts.TESTS_TIMED_OUT.format(seconds=timeout, last=last), "error"
    if run.exit_code == 0:
        return texts.TESTS_PASSED.format(last=last), "ok"
    return texts.TESTS_FAILED.format(code=run.exit_code, last=last), "error"
