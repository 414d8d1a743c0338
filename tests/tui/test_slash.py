"""Pilot tests of the slash commands in the goal input, against the scripted model server: a command is never
sent to the model nor stored as a goal; an unknown one is one line; /help lists the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.session.store import ProjectStore
from app.tui import WorkspaceApp, make_app, texts
from app.tui.slash import SLASH_COMMANDS
from tests.model_server import ScriptedModelServer
from tests.tui.builds import model_config
from tests.tui.conftest import FROZEN_TIME, SIZE, wait_for_session, wait_until
from widgets.goal_input import GoalInput

SCRIPT: dict[str, Any] = {"default": {"reply": "Nothing to change here."}}


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(SCRIPT) as server:
        yield server


@pytest.fixture
def app(project: Path, model: ScriptedModelServer) -> WorkspaceApp:
    return make_app(project, "main", config=model_config(model.base_url), clock=lambda: FROZEN_TIME)


def chat(app: WorkspaceApp) -> str:
    return app.main_screen.chat.transcript()


async def type_line(pilot: Any, line: str) -> None:
    box = pilot.app.main_screen.query_one(GoalInput)
    box.focus()
    box.value = line
    await pilot.press("enter")


async def test_an_unknown_command_is_one_line_and_never_reaches_the_model(
    app: WorkspaceApp, model: ScriptedModelServer, project: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        before = len(app.main_screen.chat.children)
        await type_line(pilot, "/frobnicate now")
        expected = texts.SLASH_UNKNOWN.format(name="frobnicate")
        await wait_until(pilot, lambda: expected in chat(app), what="the unknown-command line")
        box = app.main_screen.query_one(GoalInput)
        assert box.value == "" and box.goals == ["/frobnicate now"]
        assert len(app.main_screen.chat.children) == before + 1  # one line, no "you" turn
        assert not app.main_screen.busy
    assert model.chat_requests() == []
    assert not any(m["role"] == "user" for m in ProjectStore(project).session("main").messages())


async def test_help_lists_every_command_and_points_to_f1(
    app: WorkspaceApp, model: ScriptedModelServer
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/help")
        await wait_until(pilot, lambda: texts.SLASH_HELP_END in chat(app), what="the /help note")
        note = chat(app).split(texts.SLASH_HELP_TITLE, 1)[1]
        lines = note.strip().splitlines()
        assert lines[-1] == texts.SLASH_HELP_END
        for command in SLASH_COMMANDS:
            assert any(line.split()[:1] == [f"/{command.name}"] and command.help in line for line in lines), (
                command
            )
        assert "/add PATH" in note and "/new [NAME]" in note
    assert model.chat_requests() == []


async def send_goal(pilot: Any, model: ScriptedModelServer, goal: str) -> str:
    """Type a goal, wait for its build to end: all the text of its first request to the model."""
    before = len(model.chat_requests())
    await type_line(pilot, goal)
    screen = pilot.app.main_screen
    await wait_until(pilot, lambda: len(model.chat_requests()) > before, what=f"{goal!r} to reach the model")
    await wait_until(pilot, lambda: not screen.busy, what=f"the build of {goal!r} to end")
    return "\n".join(str(m["content"]) for m in model.chat_requests()[before]["body"]["messages"])


async def test_after_clear_the_next_goal_sends_none_of_the_earlier_messages(
    app: WorkspaceApp, model: ScriptedModelServer, project: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await send_goal(pilot, model, "first goal: explain alpha-marker")
        sent = await send_goal(pilot, model, "second goal: beta")
        assert "alpha-marker" in sent  # a follow-up carries the conversation
        await type_line(pilot, "/clear")
        await wait_until(pilot, lambda: texts.CONTEXT_CLEARED in chat(app), what="the cleared divider")
        sent = await send_goal(pilot, model, "third goal: gamma")
        assert "third goal: gamma" in sent
        assert "alpha-marker" not in sent and "second goal" not in sent and "Nothing to change" not in sent
        # The earlier messages are still shown, above the divider.
        shown = chat(app)
        assert shown.index("alpha-marker") < shown.index(texts.CONTEXT_CLEARED) < shown.index("third goal")
    # Opened again, the stored divider is where it was, styled as one.
    again = make_app(project, "main", config=app.settings.config, clock=lambda: FROZEN_TIME)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        [divider] = again.main_screen.chat.query(".context_cleared")
        assert getattr(divider, "source", None) == texts.CONTEXT_CLEARED
    contents = [m["content"] for m in ProjectStore(project).session("main").messages()]
    assert any("alpha-marker" in text for text in contents) and "/clear" not in contents


FIRST_EDIT = (
    "Plan: subtract.\n\n<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)
SECOND_EDIT = (
    "Plan: document add.\n\n<<<<<<< REPLACE calc/ops.py\ndef add(a, b):\n    return a + b\n=======\n"
    'def add(a, b):\n    """Sum."""\n    return a + b\n>>>>>>> END\n'
)
EDITS: dict[str, Any] = {
    "rules": [
        {"when": {"last_user_contains": "document add"}, "reply": SECOND_EDIT},
        {"when": {"last_user_contains": "fix subtract"}, "reply": FIRST_EDIT},
    ]
}


@pytest.fixture
def calc(git_project: Path) -> Path:
    from tests.conftest import git

    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text(
        "def add(a, b):\n    return a + b\n\n\n"
        + "# filler\n" * 8
        + "\n\ndef subtract(a, b):\n    return a + b\n"
    )
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


async def apply_goal(pilot: Any, goal: str) -> None:
    from widgets.approval import ApprovalScreen

    await type_line(pilot, goal)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), what="the approval")
    await pilot.press("y")
    await wait_until(pilot, lambda: not pilot.app.main_screen.busy, what="the build to end")


async def test_diff_shows_what_the_session_applied_and_undo_takes_it_back(calc: Path) -> None:
    with ScriptedModelServer(EDITS) as model:
        app = make_app(calc, "main", config=model_config(model.base_url), clock=lambda: FROZEN_TIME)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            pane = app.main_screen.diff
            await type_line(pilot, "/diff")
            await wait_until(
                pilot, lambda: texts.NOTHING_APPLIED in chat(app), what="the nothing-applied line"
            )
            await apply_goal(pilot, "fix subtract in calc/ops.py")
            await apply_goal(pilot, "document add in calc/ops.py")
            requests = len(model.chat_requests())
            await type_line(pilot, "/diff")
            await wait_until(pilot, lambda: str(pane.border_title).startswith(texts.APPLIED_DIFF_TITLE))
            assert [f.path for f in pane.files] == ["calc/ops.py"]  # both changes, one diff of the file
            [diff] = app.main_screen.current_workspace().applied_diffs().values()
            assert [line for line in diff.splitlines() if line.startswith("--- ")] == ["--- a/calc/ops.py"]
            shown = "\n".join(h.text for h in pane.hunk_views)
            assert "+    return a - b" in shown and '+    """Sum."""' in shown
            await type_line(pilot, "/undo")
            await wait_until(
                pilot, lambda: "Sum" not in (calc / "calc" / "ops.py").read_text(), what="the undo"
            )
            undone = texts.UNDONE_NOTE.split("{")[0]
            await wait_until(pilot, lambda: undone in chat(app), what="the undo note")
            await type_line(pilot, "/diff")
            await wait_until(pilot, lambda: '"""Sum."""' not in "\n".join(h.text for h in pane.hunk_views))
            assert "+    return a - b" in "\n".join(h.text for h in pane.hunk_views)
            assert len(model.chat_requests()) == requests  # no command reached the model


async def test_while_a_build_runs_session_changes_wait_and_help_works(project: Path, tmp_path: Path) -> None:
    cue = tmp_path / "release"
    with ScriptedModelServer({"default": {"reply": "Nothing to change.", "hold_until": str(cue)}}) as model:
        app = make_app(project, "main", config=model_config(model.base_url), clock=lambda: FROZEN_TIME)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            screen = app.main_screen
            await type_line(pilot, "first goal: hold on")
            await wait_until(pilot, lambda: screen.busy and model.chat_requests(), what="the build to run")
            for name in ("clear", "new", "undo"):
                await type_line(pilot, f"/{name}")
                wait = texts.SLASH_WAIT.format(name=name)

                def told(wait: str = wait) -> bool:
                    return wait in chat(app)

                await wait_until(pilot, told, what=f"/{name} told to wait")
            assert texts.CONTEXT_CLEARED not in chat(app) and app.screen is screen  # no dialog, no divider
            await type_line(pilot, "/help")
            await wait_until(pilot, lambda: texts.SLASH_HELP_END in chat(app), what="/help while busy")
            assert screen.busy
            cue.touch()
            await pilot.press("ctrl+g")
            await wait_until(pilot, lambda: not screen.busy, what="the build to stop")
    messages = ProjectStore(project).session("main").messages()
    assert not any(m.get("kind") == "context_cleared" for m in messages)


async def test_new_with_a_name_opens_it_and_a_bad_name_says_why(
    app: WorkspaceApp, project: Path, model: ScriptedModelServer
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/new .hidden")
        await wait_until(pilot, lambda: "no session created: invalid session name" in chat(app), what="why")
        assert [m.name for m in ProjectStore(project).list_sessions()] == ["main"]
        await type_line(pilot, "/new dark-mode")
        await wait_for_session(pilot, "dark-mode")
        assert ProjectStore(project).active_name() == "dark-mode"
        from widgets.dialogs import PromptScreen

        await type_line(pilot, "/new")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the new-session dialog")
        await pilot.press("escape")
    assert model.chat_requests() == []


async def test_sessions_unfolds_the_list_at_80_columns_and_focuses_it(app: WorkspaceApp) -> None:
    from widgets.session_list import SessionList

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_session(pilot, "main")
        sessions = app.main_screen.query_one(SessionList)
        assert sessions.region.width == 0  # folded away at this width
        await type_line(pilot, "/sessions")
        await wait_until(
            pilot, lambda: sessions.has_focus and sessions.region.width > 0, what="the list shown"
        )
        await type_line(pilot, "/sessions now")
        await wait_until(pilot, lambda: "/sessions takes no argument" in chat(app), what="the argument line")


async def test_export_writes_the_session_and_quit_leaves(
    app: WorkspaceApp, model: ScriptedModelServer
) -> None:
    from tests.tui.conftest import feed_messages

    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/export")
        exported = texts.EXPORTED.split("{")[0]
        await wait_until(
            pilot, lambda: any(exported in line for line in feed_messages(pilot)), what="the export"
        )
        [line] = [line for line in feed_messages(pilot) if exported in line]
        assert Path(line.split(" to ", 1)[1]).is_file()
        await type_line(pilot, "/quit")
        await wait_until(pilot, lambda: app.return_code is not None, what="the app to quit")
    assert app.return_code == 0 and model.chat_requests() == []


async def test_a_command_given_as_the_first_goal_runs_as_a_command(
    project: Path, model: ScriptedModelServer
) -> None:
    app = make_app(
        project, "main", config=model_config(model.base_url), initial_goal="/help", clock=lambda: FROZEN_TIME
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await wait_until(pilot, lambda: texts.SLASH_HELP_END in chat(app), what="the /help note")
        assert not app.main_screen.busy
    assert model.chat_requests() == []
