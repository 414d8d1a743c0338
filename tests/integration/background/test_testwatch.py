"""The test watcher on real projects: a real failing pytest run, a cancelled run, detection."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import psutil

from app.background.bus import EventBus
from app.background.testwatch import TestWatcher, detect_test_command, triggers_tests
from app.events import TestRunFinished, TestRunStarted
from app.fix.parsers import parse_test_output
from tests.integration.background.conftest import next_event
from tests.waiting import BOUND, until

CALC = "def add(a, b):\n    return a + b\n"
TESTS = """from calc import add


def test_add():
    assert add(1, 2) == 3


def test_add_is_wrong():
    total = add(2, 2)
    assert total == 5, "two and two"


class TestMore:
    def test_negative(self):
        assert add(-1, -1) == -3
"""


def make_pytest_project(root: Path) -> None:
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TESTS)


async def test_a_failing_pytest_project_reports_each_failing_test_with_file_and_line(
    project: Path, activated_venv: str
) -> None:
    make_pytest_project(project)
    bus = EventBus()
    watcher = TestWatcher(project, bus)
    assert watcher.command is not None and watcher.command.startswith(
        f"{activated_venv}/bin/python -m pytest"
    )
    result = await asyncio.wait_for(watcher.run_once("start"), 60)
    assert result is not None
    assert (result.passed, result.failed, result.exit_code) == (1, 2, 1)
    by_id = {f.test_id: f for f in result.failures}
    assert set(by_id) == {
        "tests/test_calc.py::test_add_is_wrong",
        "tests/test_calc.py::TestMore::test_negative",
    }
    wrong = by_id["tests/test_calc.py::test_add_is_wrong"]
    assert (wrong.file, wrong.line) == ("tests/test_calc.py", 10)
    assert "two and two" in wrong.message
    negative = by_id["tests/test_calc.py::TestMore::test_negative"]
    assert (negative.file, negative.line) == ("tests/test_calc.py", 15)
    assert "assert -2 == -3" in negative.message
    assert [e.kind for e in bus.history] == ["test_run_started", "test_run_finished"]
    assert "2 failed" in result.summary() and result.level == "error"


async def test_a_change_runs_the_tests_after_the_quiet_period_and_a_fix_turns_them_green(
    project: Path, activated_venv: str
) -> None:
    make_pytest_project(project)
    bus = EventBus()
    watcher = TestWatcher(project, bus, debounce=0.2, run_on_start=False)
    subscription = bus.subscribe()
    service = asyncio.create_task(watcher.run())
    try:
        (project / "tests" / "test_calc.py").write_text(
            TESTS.replace("== 5", "== 4").replace("== -3", "== -2")
        )
        await watcher.on_files_changed(["tests/test_calc.py"], [])
        started = await next_event(subscription, lambda e: isinstance(e, TestRunStarted))
        assert isinstance(started, TestRunStarted) and started.reason == "tests/test_calc.py changed"
        finished = await next_event(subscription, lambda e: isinstance(e, TestRunFinished))
        assert isinstance(finished, TestRunFinished)
        assert (finished.passed, finished.failed, finished.ok) == (3, 0, True)
    finally:
        service.cancel()
        await asyncio.gather(service, return_exceptions=True)


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}


async def test_a_newer_run_cancels_the_older_and_ends_its_whole_process_group(project: Path) -> None:
    marker = project / "runs.txt"
    # The command starts a grandchild that would outlive a plain kill of the shell.
    command = f"echo run >> {marker}; {sys.executable} -c 'import time; time.sleep(60)' & wait; echo '1 passed, 0 failed'"
    bus = EventBus()
    watcher = TestWatcher(project, bus, command, debounce=0.05, run_on_start=False)
    subscription = bus.subscribe()
    before = _descendants()
    service = asyncio.create_task(watcher.run())
    try:
        watcher.request_run("first")
        await next_event(subscription, lambda e: isinstance(e, TestRunStarted))
        await until(
            lambda: marker.exists() and len(_descendants() - before) >= 2, what="the first run's processes"
        )
        first_run = _descendants() - before
        watcher.request_run("second")
        second = await next_event(subscription, lambda e: isinstance(e, TestRunStarted))
        assert isinstance(second, TestRunStarted) and second.reason == "second"
        await until(lambda: not (first_run & _descendants()), what="the cancelled run's processes to end")
        # The second run's shell has begun its command (a stop before that would leave one mark, not two).
        await until(lambda: marker.read_text().count("run") == 2, what="the second run's command to start")
        assert not any(isinstance(e, TestRunFinished) for e in bus.history)
    finally:
        service.cancel()
        await asyncio.gather(service, return_exceptions=True)
    await until(lambda: not (_descendants() - before), what="stopping the watcher to end its processes")
    assert marker.read_text().count("run") == 2


async def test_only_source_and_build_files_start_a_run(project: Path) -> None:
    watcher = TestWatcher(project, EventBus(), "true", run_on_start=False)
    await watcher.on_files_changed(["reports/junit.xml", "app.log", "data.sqlite"], ["old.txt"])
    assert not watcher._trigger.is_set()
    await watcher.on_files_changed(["app.log", "src/calc.py"], [])
    assert watcher._trigger.is_set()
    assert all(triggers_tests(name) for name in ("pyproject.toml", "Makefile", "web/app.tsx", "go.mod"))


async def test_a_run_that_never_ends_is_stopped_and_reported_as_a_failure(project: Path) -> None:
    before = _descendants()
    command = f"echo collecting; {sys.executable} -c 'import time; time.sleep(60)'"
    watcher = TestWatcher(project, EventBus(), command, run_on_start=False, timeout=1.0)
    result = await asyncio.wait_for(watcher.run_once("start"), BOUND)
    assert result is not None and result.exit_code is None and result.failed == 1 and not result.ok
    assert "collecting" in result.output_tail and "stopped after 1 s" in result.output_tail
    await until(lambda: not (_descendants() - before), what="the stopped run's processes to end")


def test_the_test_command_is_detected_per_kind_of_project(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert detect_test_command(empty) is None
    python = tmp_path / "py"
    (python / "tests").mkdir(parents=True)
    assert "-m pytest" in (detect_test_command(python, {"VIRTUAL_ENV": sys.prefix}) or "")
    node = tmp_path / "node"
    node.mkdir()
    (node / "package.json").write_text('{"scripts": {"test": "node --test"}}')
    assert detect_test_command(node) == "npm test --silent"
    (node / "package.json").write_text(
        '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'
    )
    assert detect_test_command(node) is None


async def test_no_test_command_is_one_clear_status_not_a_crash(project: Path) -> None:
    from app.background.supervisor import Supervisor

    bus = EventBus()
    supervisor = Supervisor(bus)
    supervisor.add("tests", TestWatcher(project, bus).run)
    await supervisor.start()
    await until(lambda: supervisor.state("tests") == "skipped", what="the tests service to be skipped")
    assert "no test command" in bus.history[-1].summary()
    await supervisor.stop()


def test_other_runners_counts_and_failures() -> None:
    cargo = (
        "running 3 tests\ntest tests::ok ... ok\ntest tests::bad ... FAILED\n\nfailures:\n\n"
        "---- tests::bad stdout ----\nthread 'tests::bad' panicked at src/lib.rs:12:9:\n"
        "assertion `left == right` failed\n\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured\n"
    )
    results = parse_test_output(cargo)
    assert (results.passed, results.failed) == (2, 1)
    assert results.failures[0][:3] == ("tests::bad", "src/lib.rs", 12)
    go = (
        "=== RUN   TestAdd\n--- PASS: TestAdd (0.00s)\n=== RUN   TestSub\n    calc_test.go:14: got 1 want 2\n"
        "--- FAIL: TestSub (0.00s)\nFAIL\nFAIL\texample.com/calc\t0.002s\n"
    )
    results = parse_test_output(go)
    assert (results.passed, results.failed) == (1, 1)
    assert results.failures[0][:3] == ("TestSub", "calc_test.go", 14)
    jest = "Tests:       1 failed, 4 passed, 5 total\n"
    assert (parse_test_output(jest).passed, parse_test_output(jest).failed) == (4, 1)
    assert parse_test_output("# pass 3\n# fail 0\n").passed == 3
    assert parse_test_output("nothing to see").recognised is False


async def test_a_test_command_that_is_not_installed_is_an_error_status_not_a_failing_run(
    project: Path,
) -> None:
    from app.background.supervisor import Supervisor
    from app.events import ServiceStatus

    bus = EventBus()
    supervisor = Supervisor(bus, backoff_initial=0.01)
    supervisor.add("tests", TestWatcher(project, bus, "no-such-test-runner-xyz -q", debounce=0.01).run)
    await supervisor.start()
    await until(lambda: supervisor.state("tests") == "failed", what="the tests service to fail")
    await supervisor.stop()
    assert supervisor.state("tests") == "failed"
    status = [e for e in bus.history if isinstance(e, ServiceStatus) and e.state == "failed"]
    assert len(status) == 1 and status[0].level == "error"
    assert status[0].message.startswith("the test command was not found: set test_cmd in .ai-agent.toml")
    assert not any(isinstance(e, TestRunFinished) for e in bus.history)
