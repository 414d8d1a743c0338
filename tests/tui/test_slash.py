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
from tests.tui.conftest import FROZEN_TIME, SIZE, wait_for_session, wait_until
from tests.tui.test_build import model_config
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
        assert box.value == "" and box.history == ["/frobnicate now"]
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
