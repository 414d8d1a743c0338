"""How a test run reads to the fix loop and to the tests after a build: a command that cannot run at all (the
configuration's problem, never sent to the model), failure identities as a person reads them, and the digest
of a failure the session keeps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from app.events import TestsRun
from app.fix.parsers import ParsedError
from app.fix.prompt import AttemptRecord
from app.fix.testrun import TestOutcome


@dataclass(frozen=True)
class TestVerdict:
    """What a change did to the suite, by failure identity: the one tests-after-change rule of the build's tests
    (app/workspace/verdict.py) and of a fix's (``judge_suite``). Only what fails after and did not fail before is
    the change's doing; with no run from before, every failure counts as new."""

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    new: frozenset[str]  # failing after, not before: the change's doing
    still_failing: frozenset[str]  # failing before and after: not the change's doing
    fixed: frozenset[str]  # failing before, passing after
    compared: bool  # there was a run from before to compare with

    @property
    def broke_tests(self) -> bool:
        """Whether the change brought failures of its own (what starts the fix loop)."""
        return bool(self.new)

    def still(self, targets: Iterable[str]) -> frozenset[str]:
        """The targeted failures that still fail after the change. A fix aimed at ``targets`` is accepted when
        this is empty and nothing is new; failures it did not target that failed before may still fail."""
        return (self.new | self.still_failing) & frozenset(targets)


def judge_runs(before: Iterable[str] | None, after: Iterable[str]) -> TestVerdict:
    """The verdict on a change from the failing ids of the run before it (None: no such run) and after it."""
    failing = frozenset(after)
    if before is None:
        return TestVerdict(new=failing, still_failing=frozenset(), fixed=frozenset(), compared=False)
    old = frozenset(before)
    return TestVerdict(new=failing - old, still_failing=failing & old, fixed=old - failing, compared=True)


PYTEST_USAGE_ERROR = 4
PYTEST_NO_TESTS = 5


def cannot_run(outcome: TestOutcome) -> str | None:
    """A test command that did not run at all is the configuration's problem, not the code's: say so rather
    than ask the model to fix it."""
    if outcome.missing:
        return outcome.missing
    if outcome.timed_out:
        return f"the test command timed out after {outcome.seconds:.0f} s before any fix: {outcome.command}"
    last = next((line.strip() for line in reversed(outcome.output.splitlines()) if line.strip()), "")
    if outcome.exit_code in (126, 127):
        return f"the test command could not run ({last or 'not found'}): check test_cmd or --test-cmd"
    if outcome.exit_code == PYTEST_USAGE_ERROR and "pytest" in outcome.command:
        return f"pytest could not start ({last or 'usage error'}): check test_cmd or --test-cmd"
    return None


def plain_failure(identity: str) -> str:
    """A failure identity as a person reads it: the test id, or the error's kind and file."""
    if identity.startswith("test:"):
        return identity[5:]
    if identity.startswith("error:"):
        kind, file, _test, message = [*identity[6:].split("|"), "", "", ""][:4]
        return f"{kind} in {file}" if file else f"{kind}: {message[:60]}"
    return identity


def plain_failures(identities: set[str]) -> tuple[str, ...]:
    """Failure identities as a person reads them, sorted."""
    return tuple(sorted(plain_failure(i) for i in identities))


def still_reason(still: set[str]) -> str:
    return "still failing: " + ", ".join(plain_failures(still)[:5])


def anonymous_failure(outcome: TestOutcome) -> ParsedError:
    """A failing run whose output names no failure: its last lines are the target."""
    tail = outcome.tail(40)
    return ParsedError(
        "", 0, 0, tail.splitlines()[-1] if tail else "the tests failed", "failure", (), "tests", tail
    )


def error_digest(error: ParsedError) -> dict[str, Any]:
    """What the session keeps of a targeted failure."""
    return {
        "kind": error.kind,
        "file": error.file,
        "line": error.line,
        "test_id": error.test_id,
        "tool": error.tool,
        "message": error.message[:200],
    }


def tests_event(outcome: TestOutcome, scope: str, attempt: int, still: set[str], new: set[str]) -> TestsRun:
    return TestsRun(
        scope=scope,
        command=outcome.command,
        ok=outcome.ok,
        attempt=attempt,
        failing=plain_failures(outcome.failure_ids()) if not outcome.ok else (),
        still_failing=plain_failures(still),
        new_failures=plain_failures(new),
        passed=outcome.passed,
        seconds=outcome.seconds,
    )


def judge_focused(record: AttemptRecord, focused: TestOutcome, target_ids: set[str]) -> set[str]:
    """The failing tests run alone after an attempt's fix: the targets still failing (the record says so)."""
    still = focused.failure_ids() & target_ids if not focused.ok else set()
    if not focused.ok and not still:
        still = {"the failing tests"}  # the narrowed run failed without naming them: not fixed
    if still:
        record.outcome, record.reason = "still_failing", still_reason(still)
        record.output_tail = focused.tail()
        record.fixed = len(target_ids - still)
    return still


def judge_suite(
    record: AttemptRecord, suite: TestOutcome, target_ids: set[str], baseline_ids: set[str]
) -> tuple[set[str], set[str]]:
    """The whole suite after an attempt's fix: (targets still failing, new failures); the record ends as
    still failing, new failures or verified (``TestVerdict.still``: the targets gone, nothing new failing;
    failures that were not targeted and failed before may remain)."""
    after = suite.failure_ids() if not suite.ok else set()
    verdict = judge_runs(baseline_ids, after)
    still, new = set(verdict.still(target_ids)), set(verdict.new)
    if not target_ids and not suite.ok and after == baseline_ids:
        # Nothing checkable was targeted and the suite still fails as before: not better.
        still = after
    record.fixed = len(target_ids - still)
    record.new_failures = len(new)
    record.output_tail = suite.tail() if (still or new) else ""
    if still:
        record.outcome, record.reason = "still_failing", still_reason(still)
    elif new:
        record.outcome = "new_failures"
        record.reason = "the fix breaks " + ", ".join(plain_failures(new)[:5])
    else:
        record.outcome = "verified"
        record.reason = f"{suite.describe()} after the fix"
    return still, new
