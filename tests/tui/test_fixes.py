"""Pilot tests of self-correction in the workspace: the live error feed (failing tests, log errors) with a
one-key fix, the fix proposed when tests fail after an applied change, and the suggestions palette command.

Real projects in git, the real background services (test watcher running real pytest, log tailer), the real fix
loop with its scratch copy; only the model is scripted. Each test waits on real test runs (about 0.3 s each
with plugins off), so these take a few seconds apiece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.tui import WorkspaceApp, make_app
from tests.conftest import git, trusted
from tests.fix.conftest import MEAN, OPS, RIGHT, TEST_CMD, TESTS, replace_block
from tests.model_server import ScriptedModelServer
from tests.tui.conftest import FROZEN_TIME, SIZE, wait_for_session, wait_until
from widgets.approval import ApprovalScreen
from widgets.suggestions import SuggestionsScreen

BROKEN_MEAN = "def mean(values):\n    return sum(values) // len(values) + 1\n"
BREAK_MEAN = replace_block(MEAN, BROKEN_MEAN, prose="Make mean faster.")
RESTORE_MEAN = replace_block(BROKEN_MEAN, MEAN, prose="Undo the off-by-one.")


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
        "request_timeout": 10.0,
        "lsp": False,
        "watch_tests": True,
        "test_cmd": TEST_CMD,
        "test_debounce_ms": 100,
    }
    settings.update(extra)
    trusted(root)  # the test watcher runs the project's code: only in a trusted project (app/trust.py)
    return make_app(root, "main", config=Config(**settings), clock=lambda: FROZEN_TIME, label="~/calc")


def ops(root: Path) -> str:
    return (root / "calc/ops.py").read_text()


async def wait_for_green_tests(pilot) -> None:
    """Until the test watcher's newest run (the one after the fix) has finished and passed: leaving while it
    runs would cut its process off at shutdown."""

    def green() -> bool:
        runs = [m for _, m in pilot.app.main_screen.events.entries if m.startswith("tests ")]
        return bool(runs) and not runs[-1].startswith("tests running") and " 0 failed" in runs[-1]

    await wait_until(pilot, green, timeout=30, what="the test watcher's run after the fix")


async def wait_for_approval(pilot) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), timeout=30, what="approval")
    return pilot.app.screen


async def test_a_failing_test_in_the_feed_is_fixed_with_one_key_after_approval(
    git_project: Path, server
) -> None:
    root = calc_project(git_project, TESTS)  # test_mean_empty fails (ZeroDivisionError)
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(root, model.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        feed = screen.events
        await wait_until(pilot, lambda: bool(feed.fixable), timeout=30, what="the failing run in the feed")
        assert "test_mean_empty" in feed.fixable[-1].message
        assert not model.chat_requests()  # a failure in the feed asks nothing by itself
        await pilot.press("ctrl+f")
        assert feed.has_focus and feed.selected is feed.fixable[-1]
        await pilot.press("f")
        approval = await wait_for_approval(pilot)
        title = str(approval.query_one("#approval-title").render())
        assert "Verified fix" in title and "test_mean_empty" in title
        assert ops(root) == OPS  # verified in a scratch copy; nothing written before the decision
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.busy, timeout=30, what="the fix to end")
        assert any("fix verified" in str(n.render()) for n in screen.chat.query(".note"))
        await wait_for_green_tests(pilot)
    assert "if not values:\n        return 0" in ops(root)
    assert git(root, "status", "--porcelain", "calc/ops.py") == ""  # committed
    assert "fix" in git(root, "log", "-1", "--format=%s")


async def test_auto_fix_applies_the_verified_fix_without_asking(git_project: Path, server) -> None:
    root = calc_project(git_project, TESTS)
    model = server({"default": {"reply": RIGHT}})
    app = workspace_for(root, model.base_url, auto_fix=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        feed = app.main_screen.events
        await wait_until(pilot, lambda: bool(feed.fixable), timeout=30, what="the failing run in the feed")
        await pilot.press("ctrl+p", *"fix newest error")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "return 0" in ops(root), timeout=30, what="the fix applied")
        assert not isinstance(app.screen, ApprovalScreen)
        await wait_for_green_tests(pilot)


async def test_a_log_error_appears_in_the_feed_and_is_selectable(git_project: Path, server) -> None:
    root = calc_project(git_project, TESTS)
    model = server({"default": {"reply": RIGHT}})
    (root / "app.log").write_text("INFO started\n")
    app = workspace_for(root, model.base_url, watch_tests=False, log_paths=("app.log",))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        feed = app.main_screen.events
        await wait_until(pilot, lambda: app.main_screen.services is not None, what="services")
        for _ in range(200):  # the tailer may still be starting (a loaded machine): append until seen
            with (root / "app.log").open("a") as log:
                log.write("ERROR payment failed: card declined\n")
            await pilot.pause(0.1)
            if feed.fixable:
                break
        assert "payment failed" in feed.fixable[-1].message
        assert "ctrl+f f: fix" in str(feed.fixable[-1].render())
        await pilot.press("ctrl+f")
        assert feed.selected is feed.fixable[-1]


async def test_tests_failing_after_an_applied_change_bring_a_fix_proposal(git_project: Path, server) -> None:
    passing = TESTS.replace("def test_mean_empty():\n    assert mean([]) == 0\n\n\n", "")
    root = calc_project(git_project, passing)
    model = server(
        {
            "rules": [{"when": {"last_user_contains": "The failure to fix"}, "reply": RESTORE_MEAN}],
            "default": {"reply": BREAK_MEAN},
        }
    )
    app = workspace_for(root, model.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        await wait_until(
            pilot,
            lambda: any("1 passed" in m or "2 passed" in m for _, m in screen.events.entries),
            timeout=30,
        )
        box = screen.query_one("#goal")
        box.focus()
        box.value = "make mean faster"
        await pilot.press("enter")
        await wait_for_approval(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: "// len(values) + 1" in ops(root), what="the build applied")
        # The test watcher's run after the apply fails: the fix loop proposes, nothing is applied yet.
        approval = await wait_for_approval(pilot)
        assert "Verified fix" in str(approval.query_one("#approval-title").render())
        assert any("tests fail after change" in m for _, m in screen.events.entries)
        assert "// len(values) + 1" in ops(root)
        await pilot.press("y")
        await wait_until(pilot, lambda: ops(root) == OPS, timeout=30, what="the fix applied")
        await wait_for_green_tests(pilot)
    fix_request = model.chat_requests()[-1]["body"]["messages"][-1]["content"]
    assert "test_mean" in fix_request


async def test_suggestions_palette_builds_the_picked_one_in_a_new_session(project: Path, server) -> None:
    (project / "report.py").write_text(
        "def total(rows):\n    # TODO: skip rows without an amount\n    return 0\n"
    )
    model = server({"default": {"reply": "Nothing to change."}})
    app = workspace_for(project, model.base_url, watch_tests=False, test_cmd=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await pilot.press("ctrl+p", *"suggestions")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SuggestionsScreen), timeout=30, what="picker")
        picker = app.screen
        assert any(s.kind == "todo" and s.path == "report.py" for s in picker.suggestions)
        picker.query_one("#suggestion-list").highlighted = next(
            i for i, s in enumerate(picker.suggestions) if s.kind == "todo"
        )
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: app.main_screen.session_name != "main", timeout=30, what="a new session"
        )
        name = app.main_screen.session_name
        await wait_for_session(pilot, name)
        await wait_until(pilot, lambda: bool(model.chat_requests()), timeout=30, what="the build's request")
    request = model.chat_requests()[-1]["body"]["messages"][-1]["content"]
    assert "skip rows without an amount" in request
    assert name.startswith("todo-")
