"""Fixtures of the workspace tests: the app built by the same factory as `ai` uses, on a real project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import Config
from app.session.store import ProjectStore
from app.tui import WorkspaceApp, make_app
from tests.conftest import trusted

SIZE = (120, 36)
FROZEN_TIME = 1_790_000_000.0  # a fixed clock for the event log in snapshots


@pytest.fixture
def store(project: Path) -> ProjectStore:
    return ProjectStore(project)


@pytest.fixture
def workspace(project: Path) -> Callable[..., WorkspaceApp]:
    """``workspace(session="main", config=Config(), goal=None, background=False, trust=False)``: a fresh App on
    the test project (background services off unless a test is about them: they start language servers).
    ``trust``: the project is trusted first (tests.conftest.trusted), so its code may run in the background and
    the workspace does not ask."""

    def build(
        session: str = "main",
        config: Config | None = None,
        goal: str | None = None,
        background: bool = False,
        trust: bool = False,
    ) -> WorkspaceApp:
        if trust:
            trusted(project)
        return make_app(
            project,
            session,
            config=config or Config(),
            initial_goal=goal,
            background=background,
            clock=lambda: FROZEN_TIME,
            label="~/project",
        )

    return build


def history_document(name: str, count: int) -> dict:
    """An exported-session document with ``count`` messages (imported in one write, unlike appending)."""
    stamp = "2026-01-02T03:04:05+00:00"
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message number {i}", "ts": stamp}
        for i in range(count)
    ]
    return {
        "format": "ai-agent-session",
        "version": 1,
        "metadata": {
            "name": name,
            "created_at": stamp,
            "last_used": stamp,
            "goal_summary": f"goal of {name}",
            "change_count": 0,
            "is_active": False,
        },
        "messages": messages,
        "changes": [],
        "undo": [],
    }


async def wait_for_session(pilot, name: str, timeout: float = 5.0) -> None:
    """Wait until the workspace shows session ``name`` (its loading runs on a worker thread)."""
    import asyncio

    app = pilot.app
    for _ in range(int(timeout / 0.02)):
        await pilot.pause()
        try:
            screen = app.main_screen
        except LookupError:
            await asyncio.sleep(0.02)
            continue
        if screen.shown_session == name:
            await pilot.pause()
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"session {name!r} did not open")


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    import asyncio

    for _ in range(int(timeout / 0.02)):
        await pilot.pause()
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")
