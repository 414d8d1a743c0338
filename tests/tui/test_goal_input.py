"""The goal input as the user types: several lines, the goal history, and the completion popup for slash
commands and ``@`` files (real project files, the real App through Pilot)."""

from __future__ import annotations

from pathlib import Path

from textual import events

from app.tui import WorkspaceApp
from tests.tui.conftest import SIZE, wait_for_session, wait_until
from widgets.completion import CompletionPopup
from widgets.goal_input import GoalInput


def parts(app: WorkspaceApp) -> tuple[GoalInput, CompletionPopup]:
    screen = app.main_screen
    return screen.query_one("#goal", GoalInput), screen.query_one(CompletionPopup)


def chat_text(app: WorkspaceApp) -> str:
    return app.main_screen.chat.transcript()


def with_files(project: Path) -> None:
    for path in ("app/users.py", "app/orders.py", "tests/test_users.py", "README.md"):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(f"# {path}\n")


async def test_ctrl_j_and_shift_enter_start_new_lines_enter_sends_and_the_input_shrinks(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, _ = parts(app)
        one_line = goal.outer_size.height
        await pilot.press(*"first", "ctrl+j", *"second", "shift+enter", *"third")
        await pilot.pause()
        assert goal.value == "first\nsecond\nthird"
        assert goal.outer_size.height == one_line + 2  # it grew with its lines
        for _ in range(6):
            await pilot.press("ctrl+j")
        await pilot.pause()
        assert goal.outer_size.height == 8  # six rows at most (and its border)
        await pilot.press(*"!", "enter")
        await wait_until(pilot, lambda: "first\nsecond\nthird" in chat_text(app), what="the goal in the chat")
        assert goal.value == ""
        await pilot.pause()
        assert goal.outer_size.height == one_line


async def test_a_pasted_multi_line_text_stays_in_the_input(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, _ = parts(app)
        goal.post_message(events.Paste("rename load\nand save\n"))
        await wait_until(pilot, lambda: goal.value == "rename load\nand save\n", what="the paste")
        assert "rename load" not in chat_text(app)  # not sent


async def test_up_and_down_walk_the_history_only_from_the_first_and_last_line(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, _ = parts(app)
        await pilot.press(*"earlier goal", "enter")
        await pilot.press(*"line one", "ctrl+j", *"line two")
        await pilot.press("up")  # from the second line: the cursor moves up
        assert goal.value == "line one\nline two" and goal.cursor_location[0] == 0
        await pilot.press("up")  # from the first line: the previous goal
        assert goal.value == "earlier goal"
        await pilot.press("down")
        assert goal.value == ""


async def test_slash_opens_the_commands_typing_filters_and_tab_accepts(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, popup = parts(app)
        await pilot.press("/")
        await wait_until(pilot, lambda: popup.is_open, what="the popup")
        assert len(popup.candidates) > 10
        assert popup.region.bottom <= goal.region.y  # above the input
        await pilot.press(*"ex")
        await pilot.pause()
        assert popup.candidates[0].label == "/export"
        await pilot.press("tab")
        await pilot.pause()
        assert goal.value == "/export " and not popup.is_open


async def test_at_completes_project_files_fuzzily_and_enter_accepts_without_sending(
    workspace, project
) -> None:
    with_files(project)
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, popup = parts(app)
        await wait_until(pilot, lambda: app.main_screen.completion.files is not None, what="the file list")
        await pilot.press(*"fix @usr")
        await wait_until(pilot, lambda: popup.is_open, what="the popup")
        labels = [c.label for c in popup.candidates]
        assert labels[0] == "app/users.py" and "tests/test_users.py" in labels and "README.md" not in labels
        await pilot.press("down")
        await pilot.press("up")
        await pilot.press("enter")
        await pilot.pause()
        assert goal.value == "fix @app/users.py " and not popup.is_open
        assert "fix @app/users.py" not in chat_text(app)  # enter accepted, it did not send


async def test_escape_closes_only_the_popup(workspace, project) -> None:
    with_files(project)
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal, popup = parts(app)
        await pilot.press("/", "u")
        await wait_until(pilot, lambda: popup.is_open, what="the popup")
        await pilot.press("escape")
        await pilot.pause()
        assert not popup.is_open
        assert app.focused is goal and goal.value == "/u"
        await pilot.press("n")  # typing on opens it again
        await wait_until(pilot, lambda: popup.is_open, what="the popup again")
        assert popup.candidates[0].label == "/undo"


async def test_a_file_created_later_is_offered_once_the_watcher_reports_it(workspace, project) -> None:
    from app.events import FileChanged
    from app.tui.messages import BackgroundNotice

    with_files(project)
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        desk = app.main_screen.completion
        await wait_until(pilot, lambda: desk.files is not None, what="the file list")
        (project / "app" / "payments.py").write_text("x = 1\n")
        app.main_screen.post_message(BackgroundNotice(FileChanged(("app/payments.py",))))
        await wait_until(
            pilot,
            lambda: desk.files is not None and "app/payments.py" in desk.files.paths,
            what="the new file",
        )
