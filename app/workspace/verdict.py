"""The tests-after-change rule, one rule for both faces: which failures a change brought.

A change is judged by two runs of the suite: one from before it (or None when there is none to compare with)
and one after it. Only what fails after and did not fail before is the change's doing; what failed before and
still fails is not, and what failed before and passes now the change fixed. With no run from before, every
failure counts as new.

Headless builds make both runs in a scratch copy (app/workspace/after_change.py); the TUI compares the test
watcher's run after the change with the watcher's previous run. Both reduce a run to the set of its failures'
identities (``failing_ids``, ``watcher_failing_ids``) and ask ``judge_runs``, which lives with the fix loop
(app/fix/verdicts.py, the layer below) so that a fix is judged by the same rule: a fix is accepted when its
targets are gone and nothing new fails.

A failing run whose output names no failure is one anonymous failure (``TestOutcome.failure_ids``'s rule):
failing that way before and after is the same failure, not a new one.
"""

from __future__ import annotations

from app.events import TestRunFinished
from app.fix.testrun import ANONYMOUS_FAILURE, TestOutcome
from app.fix.verdicts import TestVerdict, judge_runs

__all__ = ["ANONYMOUS_FAILURE", "TestVerdict", "failing_ids", "judge_runs", "watcher_failing_ids"]


def failing_ids(outcome: TestOutcome) -> set[str]:
    """The failures of a scratch-copy run (app/fix/testrun.py), by identity; empty when it passed."""
    return outcome.failure_ids() if not outcome.ok else set()


def watcher_failing_ids(run: TestRunFinished) -> set[str]:
    """The failures of a test watcher's run, by identity; empty when it passed."""
    if run.ok:
        return set()
    return {failure.test_id for failure in run.failures} or {ANONYMOUS_FAILURE}
