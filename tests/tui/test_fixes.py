"""Pilot tests of self-correction in the workspace: the live error feed (failing tests, log errors) with a
one-key fix, the fix proposed when tests fail after an applied change, and the suggestions palette command.

Real projects in git, the real background services (test watcher running real pytest, log tailer), the real fix
loop with its scratch copy; only the model is scripted. Each test waits on real test runs (about 0.3 s each
with plugins off), so these take a few seconds apiece.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from app.config import Config
from app.events import Applied, FixStarted, LogError, TestRunFinished
from app.session.store import ProjectStore
from app.tui import WorkspaceApp, make_app
from app.tui.messages import BackgroundNotice, BuildEnded, DecisionWanted, SessionShown
from tests.conftest import git, trusted
from tests.model_server import ScriptedModelServer
from tests.support.fix_project import MEAN, OPS, RIGHT, TEST_CMD, TESTS, WRONG_ZERO_ALWAYS, replace_block
from tests.tui.conftest import (
    BOUND,
    FROZEN_TIME,
    SIZE,
    Posted,
    feed_messages,
    run_command,
    wait_for_session,
    wait_until,
    wait_until_following,
)
from widgets.approval import ApprovalScreen
from widgets.event_log import EventLog
from widgets.suggestions import SuggestionsScreen

BROKEN_MEAN = "def mean(values):\n    return sum(values) // len(values) + 1\n"
BREAK_MEAN = replace_block(MEAN, BROKEN_MEAN, prose="Make mean faster.")
RESTORE_MEAN = replace_block(BROKEN_MEAN, MEAN, prose="Undo the off-by-one.")
# A fix runs the tests in a scratch copy several times (failing test, whole suite) on top of a model call.
FIX_BOUND = 2 * BOUND


@pytest.fixture
def server() -> Iterator[Callable[[dict[str, Any]], ScriptedModelServer]]:
    started: list[ScriptedModelServer] = []

    def start(script: dict[str, Any]) -> ScriptedModelServer:
        started.append(ScriptedModelServer(script).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


def calc_project(root: Path, tests: str) -> Path:
    (root / "calc").mkdir()
    (root / "calc/__init__.py").write_text("")
    (root / "calc/ops.py").write_text(OPS)
    (root / "tests").mkdir()
    (root / "tests/test_ops.py").write_text(tests)
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n*.log\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "calc")
    return root


def workspace_for(root: Path, url: str, **extra: Any) -> WorkspaceApp:
    settings: dict[str, Any] = {
        "base_url": url,
        "api_key": "test-key",
        "model": "scripted-model",
        "max_retries": 0,
        "request_timeout": BOUND,
        "lsp": False,
        "watch_tests": True,
        "test_cmd": TEST_CMD,
        "test_debounce_ms": 100,
    }
    settings.update(extra)
    trusted(root)  # the test watcher runs the project's code: only in a trusted project (app/trust.py)
    return make_app(root, "main", config=Config(**settings), clock=lambda: FROZEN_TIME, label="~/calc")


def notices(posted: Posted, kind: type[Any]) -> list[Any]:
    """The background events of ``kind`` that reached the screen (BackgroundNotice)."""
    return [m.event for m in posted.of(BackgroundNotice) if isinstance(m.event, kind)]


def ops(root: Path) -> str:
    return (root / "calc/ops.py").read_text()


async def wait_for_green_tests(pilot) -> None:
    """Until the test watcher's newest run (the one after the fix) has finished and passed: leaving while it
    runs would cut its process off at shutdown."""

    def green() -> bool:
        runs = [m for _, m in pilot.app.main_screen.events.entries if m.startswith("tests ")]
        return bool(runs) and not runs[-1].startswith("tests running") and " 0 failed" in runs[-1]

    await wait_until(pilot, green, timeout=FIX_BOUND, what="the test watcher's run after the fix")


async def wait_for_approval(pilot) -> ApprovalScreen:
    await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), timeout=FIX_BOUND, what="the approval"
    )
    screen = pilot.app.screen
    assert isinstance(screen, ApprovalScreen)
    return screen


async def test_a_failing_test_in_the_feed_is_fixed_with_one_key_after_approval(
    git_project: Path, server
) -> None:
    root = calc_project(git_project, TESTS)  # test_mean_empty fails (ZeroDivisionError)
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(root, model.base_url)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        feed = screen.events
        await wait_until(pilot, lambda: bool(feed.fixable), what="the failing run in the feed")
        assert "test_mean_empty" in feed.fixable[-1].message
        assert any(run.failed for run in notices(posted, TestRunFinished))
        assert not model.chat_requests()  # a failure in the feed asks nothing by itself
        await pilot.press("ctrl+f")
        assert feed.has_focus and feed.selected is feed.fixable[-1]
        await pilot.press("f")
        approval = await wait_for_approval(pilot)
        [wanted] = posted.of(EventLog.FixWanted)
        assert "test_mean_empty" in wanted.message
        assert len(posted.events(FixStarted)) == 1 and len(posted.of(DecisionWanted)) == 1
        title = str(approval.query_one("#approval-title").render())
        assert "Verified fix" in title and "test_mean_empty" in title
        assert ops(root) == OPS  # verified in a scratch copy; nothing written before the decision
        await pilot.press("y")
        await wait_until(pilot, lambda: posted.of(BuildEnded), timeout=FIX_BOUND, what="the fix to end")
        await wait_until(pilot, lambda: not screen.busy, what="the workspace to be idle")
        assert len(posted.events(Applied)) == 1
        assert any("fix verified" in str(n.render()) for n in screen.chat.query(".note"))
        await wait_for_green_tests(pilot)
    assert "if not values:\n        return 0" in ops(root)
    assert git(root, "status", "--porcelain", "calc/ops.py") == ""  # committed
    assert "fix" in git(root, "log", "-1", "--format=%s")


async def test_auto_fix_applies_the_verified_fix_without_asking(git_project: Path, server) -> None:
    root = calc_project(git_project, TESTS)
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(root, model.base_url, auto_fix=True)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        feed = app.main_screen.events
        await wait_until(pilot, lambda: bool(feed.fixable), what="the failing run in the feed")
        await run_command(pilot, "Fix newest error")
        await wait_until(pilot, lambda: posted.events(Applied), timeout=FIX_BOUND, what="the fix applied")
        assert "return 0" in ops(root)
        assert not isinstance(app.screen, ApprovalScreen) and not posted.of(DecisionWanted)  # never asked
        await wait_for_green_tests(pilot)


async def test_a_log_error_appears_in_the_feed_and_is_selectable(git_project: Path, server) -> None:
    root = calc_project(git_project, TESTS)
    model = server({"default": {"reply": RIGHT}})
    (root / "app.log").write_text("INFO started\n")
    app = workspace_for(root, model.base_url, watch_tests=False, log_paths=("app.log",))
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        feed = app.main_screen.events
        await wait_until_following(pilot, "app.log")
        # One error line, written once: a line written before the tailer followed the file would never be
        # read, and writing again until one shows leaves more entries on their way after the first.
        with (root / "app.log").open("a") as log:
            log.write("ERROR payment failed: card declined\n")
        await wait_until(pilot, lambda: bool(feed.fixable), what="the log error in the feed")
        [error] = notices(posted, LogError)
        assert "payment failed: card declined" in error.entry
        assert [line.message for line in feed.fixable] == [
            "app.log: error: ERROR payment failed: card declined"
        ]
        assert "ctrl+f f: fix" in str(feed.fixable[-1].render())
        await pilot.press("ctrl+f")
        assert feed.has_focus and feed.selected is feed.fixable[-1]


PASSING = TESTS.replace("def test_mean_empty():\n    assert mean([]) == 0\n\n\n", "")
AFTER_APPLY_SCRIPT = {
    "rules": [{"when": {"last_user_contains": "The failure to fix"}, "reply": RESTORE_MEAN}],
    "default": {"reply": BREAK_MEAN},
}


async def build_a_breaking_change(pilot) -> None:
    """Once the first test run passed: ask for the change that breaks test_mean and wait for its approval."""
    screen = pilot.app.main_screen
    await wait_until(
        pilot, lambda: "tests 2 passed, 0 failed" in feed_messages(pilot), what="the first, passing, run"
    )
    box = screen.query_one("#goal")
    box.focus()
    box.value = "make mean faster"
    await pilot.press("enter")
    await wait_for_approval(pilot)


async def the_fix_is_proposed_and_applied(pilot, root: Path, model: ScriptedModelServer) -> None:
    """The test watcher's run after the apply fails: the fix loop proposes, nothing is applied before y."""
    approval = await wait_for_approval(pilot)
    assert "Verified fix" in str(approval.query_one("#approval-title").render())
    assert any("tests fail after change" in m for m in feed_messages(pilot))
    assert "// len(values) + 1" in ops(root)
    await pilot.press("y")
    await wait_until(pilot, lambda: ops(root) == OPS, timeout=FIX_BOUND, what="the fix applied")
    await wait_for_green_tests(pilot)
    fix_request = model.chat_requests()[-1]["body"]["messages"][-1]["content"]
    assert "test_mean" in fix_request


async def test_tests_failing_after_an_applied_change_bring_a_fix_proposal(git_project: Path, server) -> None:
    root = calc_project(git_project, PASSING)
    model = server(AFTER_APPLY_SCRIPT)
    app = workspace_for(root, model.base_url)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await build_a_breaking_change(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: posted.events(Applied), what="the build applied")
        assert "// len(values) + 1" in ops(root)
        await the_fix_is_proposed_and_applied(pilot, root, model)
        # Asked twice (the change, then its fix), the fix started by the run after the change.
        assert len(posted.of(DecisionWanted)) == 2 and len(posted.events(Applied)) == 2
        assert len(posted.events(FixStarted)) == 1


@contextlib.contextmanager
def another_process_holding(lock: Path) -> Iterator[Callable[[], None]]:
    """A second process holds ``lock`` (as another `ai` writing the same session does) until the returned
    function is called."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"

        def release() -> None:
            if holder.poll() is None:
                holder.stdin.close()  # type: ignore[union-attr]
                holder.wait(timeout=BOUND)

        yield release
    finally:
        holder.kill()
        holder.wait(timeout=BOUND)


HOLD_LOCK = "import sys\nfrom filelock import FileLock\nwith FileLock(sys.argv[1]):\n    print('held', flush=True)\n    sys.stdin.read()\n"


async def test_a_test_run_that_ends_before_the_change_is_recorded_still_brings_the_fix(
    git_project: Path, server
) -> None:
    """The files are written first, the change recorded and committed after: the test watcher can see the
    new file and finish its run before the workspace hears that the change was applied (a busy machine, a
    slow disk, another `ai` writing the session). That run is still the run after the change."""
    root = calc_project(git_project, PASSING)
    model = server(AFTER_APPLY_SCRIPT)
    app = workspace_for(root, model.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await build_a_breaking_change(pilot)
        session_file = ProjectStore(root).session_path("main")
        with another_process_holding(Path(f"{session_file}.lock")) as release:
            await pilot.press("y")
            await wait_until(
                pilot,
                lambda: "tests 1 passed, 1 failed" in " ".join(feed_messages(pilot)),
                timeout=FIX_BOUND,
                what="the test watcher's failing run on the written file",
            )
            assert not any(m.startswith("applied change") for m in feed_messages(pilot))
            release()
        await the_fix_is_proposed_and_applied(pilot, root, model)


async def test_suggestions_palette_builds_the_picked_one_in_a_new_session(project: Path, server) -> None:
    (project / "report.py").write_text(
        "def total(rows):\n    # TODO: skip rows without an amount\n    return 0\n"
    )
    model = server({"default": {"reply": "Nothing to change."}})
    app = workspace_for(project, model.base_url, watch_tests=False, test_cmd=None)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await run_command(pilot, "Suggestions")
        await wait_until(pilot, lambda: isinstance(app.screen, SuggestionsScreen), what="the suggestions")
        picker = app.screen
        assert isinstance(picker, SuggestionsScreen)
        assert any(s.kind == "todo" and s.path == "report.py" for s in picker.suggestions)
        picker.query_one("#suggestion-list", OptionList).highlighted = next(
            i for i, s in enumerate(picker.suggestions) if s.kind == "todo"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main_screen.session_name != "main", what="a new session")
        name = app.main_screen.session_name
        await wait_for_session(pilot, name)
        assert [m.name for m in posted.of(SessionShown)] == ["main", name]
        await wait_until(pilot, lambda: bool(model.chat_requests()), what="the build's request")
    request = model.chat_requests()[-1]["body"]["messages"][-1]["content"]
    assert "skip rows without an amount" in request
    assert name.startswith("todo-")


CLAMP_BROKEN = TESTS.replace("assert clamp(5, 0, 3) == 3", "assert clamp(5, 0, 3) == 4")


async def test_two_failing_tests_are_two_feed_entries_and_a_fix_targets_the_selected_one(
    git_project: Path, server
) -> None:
    """test_mean_empty and test_clamp fail: one feed entry each; f on the selected one sends that one alone, and a
    fix that makes it pass is verified though the other still fails (it failed before)."""
    root = calc_project(git_project, CLAMP_BROKEN)
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(root, model.base_url, fix_attempts=1)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        feed = app.main_screen.events
        await wait_until(pilot, lambda: bool(feed.fixable), what="the failing run in the feed")
        entries = [line.message for line in feed.fixable]
        assert len(entries) == 2
        assert any("test_mean_empty" in m and "test_clamp" not in m for m in entries)
        assert any("test_clamp" in m and "test_mean_empty" not in m for m in entries)
        await pilot.press("ctrl+f")
        await pilot.press("up" if "test_clamp" in feed.selected.message else "down")  # type: ignore[union-attr]
        assert feed.selected is not None and "test_mean_empty" in feed.selected.message
        await pilot.press("f")
        approval = await wait_for_approval(pilot)
        [started] = posted.events(FixStarted)
        assert len(started.errors) == 1 and "test_mean_empty" in started.errors[0]
        assert "test_mean_empty" in str(approval.query_one("#approval-title").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: not app.main_screen.busy, what="the workspace to be idle")
    assert ops(root) == OPS


async def test_a_fix_after_a_change_targets_only_what_the_change_broke(git_project: Path, server) -> None:
    """test_mean_empty failed before the change; the change breaks test_mean: the fix targets test_mean and is
    verified once test_mean passes, test_mean_empty still failing as before."""
    root = calc_project(git_project, TESTS)
    model = server(AFTER_APPLY_SCRIPT)
    app = workspace_for(root, model.base_url, fix_attempts=1)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        await wait_until(
            pilot,
            lambda: any("tests 2 passed, 1 failed" in m for m in feed_messages(pilot)),
            what="the first, failing, run",
        )
        box = screen.query_one("#goal")
        box.focus()
        box.value = "make mean faster"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for_approval(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: posted.events(Applied), what="the build applied")
        approval = await wait_for_approval(pilot)
        assert "Verified fix" in str(approval.query_one("#approval-title").render())
        [started] = posted.events(FixStarted)
        assert len(started.errors) == 1
        assert "test_mean" in started.errors[0] and "test_mean_empty" not in started.errors[0]
        applied_at = len(feed_messages(pilot))
        await pilot.press("y")
        await wait_until(pilot, lambda: ops(root) == OPS, timeout=FIX_BOUND, what="the fix applied")
        await wait_until(
            pilot,
            lambda: any("tests 2 passed, 1 failed" in m for m in feed_messages(pilot)[applied_at:]),
            timeout=FIX_BOUND,
            what="the test watcher's run after the fix",
        )


async def fix_a_log_error(pilot, root: Path) -> None:
    """A log error appears in the feed and is fixed with ctrl+f f."""
    feed = pilot.app.main_screen.events
    await wait_until_following(pilot, "app.log")
    with (root / "app.log").open("a") as log:
        log.write("ERROR payment failed: card declined\n")
    await wait_until(pilot, lambda: bool(feed.fixable), what="the log error in the feed")
    await pilot.press("ctrl+f")
    await pilot.press("f")


async def test_a_failed_fix_says_so_once_and_its_prompt_calls_a_detected_command_detected(
    git_project: Path, server
) -> None:
    root = calc_project(git_project, TESTS)
    (root / ".venv/bin").mkdir(parents=True)
    (root / ".venv/bin/python").symlink_to(sys.executable)  # the project's own interpreter: pytest detected
    (root / "app.log").write_text("INFO started\n")
    model = server({"default": {"reply": WRONG_ZERO_ALWAYS}})  # breaks test_mean: never verified
    app = workspace_for(
        root, model.base_url, watch_tests=False, log_paths=("app.log",), test_cmd=None, fix_attempts=1
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await fix_a_log_error(pilot, root)
        await wait_until(
            pilot,
            lambda: any("no fix made the tests pass" in m for m in feed_messages(pilot)),
            timeout=FIX_BOUND,
            what="the fix to fail",
        )
        await wait_until(pilot, lambda: not app.main_screen.busy, what="the workspace to be idle")
        assert sum("no fix made the tests pass" in m for m in feed_messages(pilot)) == 1
    prompt = model.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "user's configuration" not in prompt
    assert "Test command (detected" in prompt
    assert ops(root) == OPS


async def test_a_missing_test_command_is_said_so_never_a_failing_baseline(git_project: Path, server) -> None:
    root = calc_project(git_project, TESTS)
    (root / "app.log").write_text("INFO started\n")
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(
        root, model.base_url, watch_tests=False, log_paths=("app.log",), test_cmd="no-such-test-runner-xyz"
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await fix_a_log_error(pilot, root)
        await wait_until(
            pilot,
            lambda: any("the test command was not found" in m for m in feed_messages(pilot)),
            timeout=FIX_BOUND,
            what="the missing command said",
        )
        await wait_until(pilot, lambda: not app.main_screen.busy, what="the workspace to be idle")
        assert not [m for m in feed_messages(pilot) if m.startswith("tests (baseline")]
    assert not model.chat_requests()
