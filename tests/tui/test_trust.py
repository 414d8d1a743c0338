"""The workspace on a cloned repository it was never told to trust: one question on the first open, nothing of
the project's code running before the answer, "Trust this project" starting the test watcher in the same run,
"Not now" remembered and the workspace as usable as ever (app/tui/trust.py)."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList
from textual.css.query import NoMatches
from textual.widgets import Label
from textual.worker import WorkerState

from app.config import Config
from app.events import TestRunFinished
from app.trust import PROJECT_NOT_NOW, PROJECT_TRUSTED, project_answer
from app.tui import WorkspaceApp, make_app
from app.tui.messages import BackgroundNotice
from tests.support.project_code import cloned_repository
from tests.tui.conftest import FROZEN_TIME, SIZE, Posted, run_command, wait_for_session, wait_until
from widgets.dialogs import PromptScreen, TrustScreen

DETECTED = ".venv/bin/python -m pytest -q -rfE --tb=short"


def workspace_on(root: Path) -> WorkspaceApp:
    # Language servers off: tests/integration/config/test_project_trust.py shows basedpyright runs none of the clone's code.
    return make_app(
        root,
        "main",
        config=Config(lsp=False, test_debounce_ms=100),
        clock=lambda: FROZEN_TIME,
        label="~/clone",
    )


def palette_highlights(app: WorkspaceApp, title: str) -> bool:
    """The command palette is open with ``title`` as its highlighted command (enter runs it)."""
    try:
        option = app.screen.query_one(CommandList).highlighted_option
    except NoMatches:
        return False
    return option is not None and title in str(option.prompt)


def finished_runs(app: WorkspaceApp) -> list[str]:
    return [m for _, m in app.main_screen.events.entries if m.startswith("tests ") and " passed" in m]


def watcher_runs(posted: Posted) -> list[TestRunFinished]:
    """The test watcher's finished runs that reached the screen."""
    return [m.event for m in posted.of(BackgroundNotice) if isinstance(m.event, TestRunFinished)]


def waiting_line(app: WorkspaceApp) -> list[str]:
    return [m for _, m in app.main_screen.events.entries if "until you trust this project" in m]


async def test_the_first_open_asks_once_and_trust_starts_the_test_watcher_at_once(tmp_path: Path) -> None:
    root, marker = cloned_repository(tmp_path)
    app = workspace_on(root)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TrustScreen), timeout=30, what="the question")
        question = str(app.screen.query_one("#question", Label).render())
        assert f"`{DETECTED}`" in question and "~/clone" in question
        services = app.main_screen.services
        assert services is not None
        assert "tests" not in services.supervisor.states(), "the test watcher started before the answer"
        assert not marker.exists(), f"the project's code ran before the answer: {marker.read_text()}"

        assert not watcher_runs(posted)
        await pilot.press("t")
        await wait_until(pilot, lambda: watcher_runs(posted), what="the watcher's first run")
        assert [(run.passed, run.failed) for run in watcher_runs(posted)] == [(1, 0)]
        await wait_until(pilot, lambda: bool(finished_runs(app)), what="the run in the feed")
        assert finished_runs(app)[-1].startswith("tests 1 passed, 0 failed")
        assert app.main_screen.services is services, "trusting must not restart the workspace's services"
    assert "conftest.py ran" in marker.read_text()
    assert project_answer(root) == PROJECT_TRUSTED


async def test_not_now_is_remembered_and_keeps_the_workspace_usable(tmp_path: Path) -> None:
    root, marker = cloned_repository(tmp_path)
    app = workspace_on(root)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TrustScreen), timeout=30, what="the question")
        await pilot.press("n")
        await wait_until(pilot, lambda: project_answer(root) == PROJECT_NOT_NOW, what="the answer recorded")
        [line] = waiting_line(app)
        assert "`ai --trust`" in line and "Trust this project" in line and DETECTED in line
        # Sessions work as before, and a switch (new services) asks nothing again.
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the new-session prompt")
        await pilot.press(*"second", "enter")
        await wait_for_session(pilot, "second")
        await wait_until(pilot, lambda: len(waiting_line(app)) == 2, what="the new session's services")
        assert not isinstance(app.screen, TrustScreen) and not watcher_runs(posted)
    assert not marker.exists(), f"the project's code ran after Not now: {marker.read_text()}"

    again = workspace_on(root)
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(waiting_line(again)), timeout=30, what="the services")
        await pilot.pause()
        assert not isinstance(again.screen, TrustScreen), "the question came back after Not now"
        await pilot.press("ctrl+p", *"trust this project")
        await wait_until(pilot, lambda: palette_highlights(again, "Trust this project"), what="the command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(finished_runs(again)), timeout=60, what="the watcher's run")
    assert "conftest.py ran" in marker.read_text()
    assert project_answer(root) == PROJECT_TRUSTED


async def test_rerun_tests_in_an_untrusted_project_asks_first(tmp_path: Path) -> None:
    root, marker = cloned_repository(tmp_path)
    (root / "check.sh").write_text(f"echo ran >> {marker}\necho '3 passed'\n")
    config = Config(lsp=False, test_cmd="sh check.sh")
    app = make_app(root, "main", config=config, background=False, clock=lambda: FROZEN_TIME)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await run_command(pilot, "Rerun tests")  # waits for the palette to offer it, never for a time
        await wait_until(pilot, lambda: isinstance(app.screen, TrustScreen), what="the question")
        assert "sh check.sh" in str(app.screen.query_one("#question", Label).render())
        # The palette's run ended at the question; the answer starts the run again.
        await wait_until(
            pilot, lambda: posted.worker_states("tests").count(WorkerState.SUCCESS) == 1, what="the question"
        )
        assert not marker.exists()
        await pilot.press("t")
        await wait_until(
            pilot, lambda: posted.worker_states("tests").count(WorkerState.SUCCESS) == 2, what="the run"
        )
        assert ("ok", "tests passed · 3 passed") in app.main_screen.events.entries
    assert marker.read_text() == "ran\n"
