"""Pilot tests of the model picker, the model remembered per project, and the tokens and cost the workspace
shows, against the scripted model server (real HTTP: its /v1/models list and the chat requests it received)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from app.config import Config, load_config
from app.tui import WorkspaceApp, make_app
from app.tui.model_picker import ModelPicker
from tests.model_server import ScriptedModelServer
from tests.tui.conftest import (
    BOUND,
    FROZEN_TIME,
    SIZE,
    feed_messages,
    run_command,
    wait_for_session,
    wait_for_workers,
    wait_until,
)
from widgets.chat_view import MessageView
from widgets.status_line import StatusLine

MODELS = ["alpha-model", "scripted-model", "zeta-model"]
ANSWER = "Nothing needs to change here."


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    script = {"default": {"reply": ANSWER, "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}}
    with ScriptedModelServer({**script, "models": MODELS}) as running:
        yield running


def settings(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": url,
        "api_key": "k",
        "max_retries": 0,
        "request_timeout": BOUND,
        "lsp": False,
        **extra,
    }


@pytest.fixture
def open_app(project: Path, server: ScriptedModelServer) -> Callable[..., WorkspaceApp]:
    def make(config: Config | None = None, **extra: Any) -> WorkspaceApp:
        config = config or Config(**settings(server.base_url, model="scripted-model", **extra))
        return make_app(project, "main", config=config, background=False, clock=lambda: FROZEN_TIME)

    return make


def status_text(app: WorkspaceApp) -> str:
    return str(app.main_screen.query_one(StatusLine).render())


async def open_picker(pilot) -> ModelPicker:
    await run_command(pilot, "Pick model")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker), what="the model picker")
    picker = pilot.app.screen
    assert isinstance(picker, ModelPicker)
    await wait_until(pilot, lambda: picker.names is not None, what="the endpoint's models")
    return picker


def listed(picker: ModelPicker) -> list[str]:
    options = picker.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def send_goal(pilot, goal: str) -> None:
    box = pilot.app.main_screen.query_one("#goal")
    box.focus()
    box.value = goal
    await pilot.press("enter")
    await wait_until(pilot, lambda: not pilot.app.main_screen.busy, what="the build to end")


async def test_the_picker_lists_marks_filters_and_its_choice_drives_the_next_builds_and_the_next_start(
    open_app, server: ScriptedModelServer, project: Path
) -> None:
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        picker = await open_picker(pilot)
        assert listed(picker) == ["  alpha-model", "● scripted-model  (current)", "  zeta-model"]
        assert server.model_list_requests[-1]["auth"]
        await pilot.press(*"zeta")
        await wait_until(pilot, lambda: listed(picker) == ["  zeta-model"], what="the filtered list")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert "zeta-model" in status_text(app) and "scripted-model" not in status_text(app)
        assert "model: zeta-model for the next builds of this project" in feed_messages(pilot)
        await send_goal(pilot, "explain calc")
        assert server.chat_requests()[-1]["body"]["model"] == "zeta-model"
        await wait_for_workers(pilot, "model-choice")
    # The next `ai` in this project (no --model, no AI_AGENT_MODEL) starts with the choice, headless too.
    config = load_config(project, {"base_url": server.base_url})
    assert config.model == "zeta-model"
    again = open_app(config)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        assert "zeta-model" in status_text(again)


async def test_escape_cancels_and_an_endpoint_without_a_list_takes_a_typed_name(
    open_app, server: ScriptedModelServer
) -> None:
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await open_picker(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert "scripted-model" in status_text(app)
        server.models_status = 404
        picker = await open_picker(pilot)
        status = str(picker.query_one("#model-picker-status").render())
        assert "has no model list (GET /models: HTTP 404)" in status
        assert listed(picker) == []
        await pilot.press(*"my-local-model", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert "my-local-model" in status_text(app)
        await send_goal(pilot, "explain calc")
        assert server.chat_requests()[-1]["body"]["model"] == "my-local-model"


async def test_status_line_shows_the_turns_and_the_sessions_tokens_and_their_cost(open_app) -> None:
    app = open_app(price_per_mtok_in=2.5, price_per_mtok_out=10.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        assert "0 tok" in status_text(app) and "$" in status_text(app)
        await send_goal(pilot, "explain calc")
        # 1,200 prompt tokens at $2.5 and 300 completion tokens at $10 per million: $0.0060.
        await wait_until(
            pilot, lambda: "1.5k tok (turn 1.5k tok) · $0.0060" in status_text(app), what="usage"
        )
        await send_goal(pilot, "explain it again")
        await wait_until(
            pilot, lambda: "3.0k tok (turn 1.5k tok) · $0.0120" in status_text(app), what="usage"
        )


async def type_line(pilot, line: str) -> None:
    box = pilot.app.main_screen.query_one("#goal")
    box.focus()
    box.value = line
    await pilot.press("enter")


async def test_slash_model_name_switches_at_once_and_warns_when_the_endpoint_does_not_list_it(
    open_app, server: ScriptedModelServer
) -> None:
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/model zeta-model")
        await wait_for_workers(pilot, "model-choice")
        assert "zeta-model" in status_text(app)
        assert not any("not on the endpoint's model list" in line for line in feed_messages(pilot))
        await type_line(pilot, "/model unlisted-model")
        assert "unlisted-model" in status_text(app)  # at once, before the list is checked
        await wait_until(
            pilot,
            lambda: any(
                "'unlisted-model' is not on the endpoint's model list (alpha-model, scripted-model, zeta-model)"
                in line
                for line in feed_messages(pilot)
            ),
            what="the warning",
        )
        await send_goal(pilot, "explain calc")
        assert server.chat_requests()[-1]["body"]["model"] == "unlisted-model"
        assert not server.chat_requests()[0]["body"]["messages"][-1]["content"].startswith("/model")
        await type_line(pilot, "/model")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ModelPicker), what="/model alone opens the picker"
        )


async def test_slash_tokens_says_the_sessions_and_the_last_turns_split_and_cost(open_app) -> None:
    app = open_app(price_per_mtok_in=2.5, price_per_mtok_out=10.0, context_window=100_000)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await send_goal(pilot, "explain calc")
        await send_goal(pilot, "explain it again")
        await type_line(pilot, "/tokens")

        def note() -> str:
            notes = [w.source for w in app.main_screen.chat.query(MessageView).filter(".note")]
            return next((text for text in notes if text.startswith("tokens of session")), "")

        await wait_until(pilot, note, what="the /tokens note")
        text = note()
        assert "2,400 prompt + 600 completion = 3,000 · $0.0120" in text
        assert "last turn: 1,200 prompt + 300 completion = 1,500 · $0.0060" in text
        assert "prices: $2.5 in / $10 out per million tokens" in text
        assert re.search(r"last context sent: ~[\d,]+ tokens of the 24,000 budget", text)
        assert re.search(r"budget \(context_tokens\), \d+% of the model's 100,000-token window", text)


async def test_slash_tokens_without_prices_says_how_to_configure_them(open_app) -> None:
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/tokens")

        def note() -> str:
            notes = [w.source for w in app.main_screen.chat.query(MessageView).filter(".note")]
            return next((text for text in notes if text.startswith("tokens of session")), "")

        await wait_until(pilot, note, what="the /tokens note")
        assert "0 prompt + 0 completion = 0" in note() and "none in this run yet" in note()
        assert "set price_per_mtok_in and price_per_mtok_out" in note()
        assert "last context sent" not in note()  # no build in this run: nothing to say
        assert "$" not in status_text(app)
