"""The tests-after-change rule of both faces: only what fails after a change and did not fail before it is the
change's doing."""

from __future__ import annotations

from app.events import TestFailure, TestRunFinished
from app.fix import testrun
from app.workspace import failing_ids, judge_runs, watcher_failing_ids


def test_only_failures_the_change_brought_are_new() -> None:
    verdict = judge_runs({"test:a", "test:b"}, {"test:b", "test:c"})
    assert verdict.new == {"test:c"} and verdict.still_failing == {"test:b"} and verdict.fixed == {"test:a"}
    assert verdict.broke_tests and verdict.compared


def test_the_same_failures_as_before_did_not_break_anything() -> None:
    verdict = judge_runs({"test:a"}, {"test:a"})
    assert not verdict.broke_tests and verdict.still_failing == {"test:a"}


def test_without_a_run_from_before_every_failure_is_new() -> None:
    verdict = judge_runs(None, {"test:a"})
    assert verdict.new == {"test:a"} and not verdict.compared and verdict.still_failing == frozenset()
    assert not judge_runs(None, set()).broke_tests


def test_a_passing_run_before_makes_every_failure_new() -> None:
    assert judge_runs(set(), {"test:a"}).new == {"test:a"}


def test_a_failing_run_that_names_nothing_is_one_anonymous_failure_in_both_faces() -> None:
    scratch = testrun.TestOutcome(command="pytest", exit_code=1, output="boom")
    watcher = TestRunFinished(passed=0, failed=0, failures=(), command="pytest", exit_code=1)
    assert failing_ids(scratch) == watcher_failing_ids(watcher) == {"exit-status"}
    assert not judge_runs(failing_ids(scratch), watcher_failing_ids(watcher)).broke_tests


def test_a_watcher_run_is_judged_by_its_failures_test_ids() -> None:
    failure = TestFailure(
        test_id="tests/test_calc.py::test_add", file="tests/test_calc.py", line=3, message=""
    )
    run = TestRunFinished(passed=1, failed=1, failures=(failure,), command="pytest", exit_code=1)
    assert watcher_failing_ids(run) == {"tests/test_calc.py::test_add"}
    passing = TestRunFinished(passed=2, failed=0, failures=(), command="pytest", exit_code=0)
    assert watcher_failing_ids(passing) == set()
