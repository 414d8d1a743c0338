"""The tests-after-change rule, one rule for both faces: which failures a change brought.

A change is judged by two runs of the suite: one from before it (or None when there is none to compare with)
and one after it. Only what fails after and did not fail before is the change's doing; what failed before and
still fails is not, and what failed before and passes now the change fixed. With no run from before, every
failure counts as new.

Headless builds make both runs in a scratch copy (app/workspace/after_change.py); the TUI compares the test
watcher's run after the change with the watcher's previous run. Both reduce a run to the set of its failures'
identities (``failing_ids``, ``watcher_failing_ids``) and ask ``judge_runs``.

A failing run whose output names no failure is one anonymous failure (``TestOutcome.failure_ids``'s rule):
failing that way before and after is the same failure, not a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from app.events import TestRunFinished
from app.fix.testrun import TestOutcome

ANONYMOUS_FAILURE = "exit-status"  # a failing run that names nothing (app/fix/testrun.py)


@dataclass(frozen=True)
class TestVerdict:
    """What a change did to the suite, by failure identity."""

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    new: frozenset[str]  # failing after, not before: the change's doing
    still_failing: frozenset[str]  # failing before and after: not the change's doing
    fixed: frozenset[str]  # failing before, passing after
    compared: bool  # there was a run from before to compare with

    @property
    def broke_tests(self) -> bool:
        """Whether the change brought failures of its own (what starts the fix loop)."""
        return bool(self.new)


def judge_runs(before: Iterable[str] | None, after: Iterable[str]) -> TestVerdict:
    """The verdict on a change from the failing ids of the run before it (None: no such run) and after it."""
    failing = frozenset(after)
    if before is None:
        return TestVerdict(new=failing, still_failing=frozenset(), fixed=frozenset(), compared=False)
    old = frozenset(before)
    return TestVerdict(new=failing - old, still_failing=failing & old, fixed=old - failing, compared=True)


def failing_ids(outcome: TestOutcome) -> set[str]:
    """The failures of a scratch-copy run (app/fix/testrun.py), by identity; empty when it passed."""
    return outcome.failure_ids() if not outcome.ok else set()


def watcher_failing_ids(run: TestRunFinished) -> set[str]:
    """The failures of a test watcher's run, by identity; empty when it passed."""
    if run.ok:
        return set()
    return {failure.test_id for failure in run.failures} or {ANONYMOUS_FAILURE}
