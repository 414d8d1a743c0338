"""What the fix loop (app/fix/loop.py) shows at its end: the evidence that a fix is verified, or the summary of
the attempts when none worked."""

from __future__ import annotations

import time

from app.events import ErrorEvent, Event, Finished, FixSummary, FixVerified
from app.fix.parsers import ParsedError
from app.fix.prompt import AttemptRecord, is_test_file
from app.fix.request import FixTiming


def verified(record: AttemptRecord, targets: list[ParsedError], timing: FixTiming) -> FixVerified:
    """A verified attempt's evidence: what it targeted, the run that passed, and a warning when it edits tests."""
    targeted = ", ".join(e.test_id or e.location or e.kind for e in targets[:5])
    evidence: tuple[str, ...] = (f"{len(targets)} failure(s) targeted: {targeted}", record.reason)
    tests_changed = [f for f in record.files if is_test_file(f)]
    if tests_changed:
        # A fix that edits the tests may pass by weakening them: the user should look twice.
        evidence += (f"note: this fix changes test file(s) {', '.join(tests_changed)}; check what they test",)
    return FixVerified(
        attempt=record.number,
        files=tuple(record.files),
        evidence=evidence,
        seconds=round(time.monotonic() - timing.seen, 3),
        model_seconds=round(timing.model, 3),
        test_seconds=round(timing.tests, 3),
    )


def given_up(attempts: list[AttemptRecord]) -> list[Event]:
    """No attempt worked: every attempt in a line, the closest one's diff, and the failure."""
    ranked = [a for a in attempts if a.diff]
    closest = max(ranked, key=lambda a: (a.fixed - a.new_failures, -a.number), default=None)
    message = f"no fix made the tests pass after {len(attempts)} attempt(s); your files were not changed"
    return [
        FixSummary(
            attempts=tuple(a.line() for a in attempts),
            closest=closest.number if closest else 0,
            diff=closest.diff if closest else "",
        ),
        ErrorEvent(message=message, fatal=True, exit_code=1),
        Finished(ok=False, exit_code=1, summary=message),
    ]
