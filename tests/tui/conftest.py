"""Fixtures of the workspace tests: the app built by the same factory as `ai` uses, on a real project."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.worker import Worker, WorkerState

from app.config import Config
from app.session.store import ProjectStore
from app.tui import WorkspaceApp, make_app
from tests.conftest import trusted
from tests.waiting import BOUND  # the one generous bound of every wait (tests/waiting.py)

M = TypeVar("M", bound=Message)
E = TypeVar("E")

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


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = BOUND, what: str = ""
) -> None:
    """Poll ``condition`` after each round of the app's message processing until it is true; after
    ``timeout`` seconds of wall-clock time, fail saying what was waited for (tests/waiting.py's rule)."""
    began = time.monotonic()
    while True:
        await pilot.pause()
        if condition():
            return
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        await asyncio.sleep(0.02)


def app_of(pilot: Pilot[Any]) -> WorkspaceApp:
    """The workspace App that ``pilot`` drives (a Pilot's ``app`` is typed as any App)."""
    assert isinstance(pilot.app, WorkspaceApp)
    return pilot.app


async def wait_for_session(pilot: Pilot[Any], name: str, timeout: float = BOUND) -> None:
    """Wait until the workspace shows session ``name`` (its loading runs on a worker)."""

    def shown() -> bool:
        try:
            return app_of(pilot).main_screen.shown_session == name
        except LookupError:  # the workspace screen is not pushed yet
            return False

    await wait_until(pilot, shown, timeout, f"session {name!r} to open")
    await pilot.pause()


async def run_command(pilot: Pilot[Any], title: str) -> None:
    """Run a command from the palette as a user does: ctrl+p, type ``title``, enter once the palette lists it
    highlighted. Its search runs in a worker per keystroke: an enter before the last one has answered would
    run nothing, or another command."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the command palette")
    palette = pilot.app.screen
    await pilot.press(*title)

    def listed() -> bool:
        if any(worker.node is palette and not worker.is_finished for worker in pilot.app.workers):
            return False
        commands = palette.query_one(CommandList)
        if commands.highlighted is None:
            return False
        hit = getattr(commands.get_option_at_index(commands.highlighted), "hit", None)
        return hit is not None and str(hit.text).lower() == title.lower()

    await wait_until(pilot, listed, what=f"the palette to offer {title!r}")
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.screen is not palette, what=f"{title!r} to run")


class Posted:
    """A ``message_hook`` for ``app.run_test``: every message posted in the app, in order, to assert on (once
    each: the hook sees a bubbling message again at each node it reaches)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._seen: set[int] = set()  # ids of the recorded messages (kept alive by the list, so never reused)

    def __call__(self, message: Message) -> None:
        if id(message) not in self._seen:
            self._seen.add(id(message))
            self.messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        return [message for message in self.messages if isinstance(message, kind)]

    def events(self, kind: type[E]) -> list[E]:
        """The pipeline's events of ``kind`` that reached the screen (app/tui/messages.py's PipelineEvent)."""
        from app.tui.messages import PipelineEvent

        return [m.event for m in self.of(PipelineEvent) if isinstance(m.event, kind)]

    def worker_states(self, group: str) -> list[WorkerState]:
        """The states the app's workers of ``group`` reported, in order (their ``Worker.StateChanged``)."""
        return [m.state for m in self.of(Worker.StateChanged) if m.worker.group == group]


async def wait_for_posted(
    pilot: Pilot[Any], posted: Posted, kind: type[M], count: int = 1, what: str = ""
) -> list[M]:
    """Until ``count`` messages of ``kind`` have been posted (and handled): those messages."""
    await wait_until(pilot, lambda: len(posted.of(kind)) >= count, what=what or f"{count} {kind.__name__}")
    return posted.of(kind)


async def wait_for_workers(pilot: Pilot[Any], *groups: str) -> None:
    """Until the app's workers of ``groups`` (of the moment) have finished, and the messages they posted on
    the way out are handled."""
    workers = [worker for worker in pilot.app.workers if worker.group in groups]
    # Polled between rounds of the app's messages rather than ``workers.wait_for_complete``: a thread worker
    # ends by posting to the app, which must keep processing meanwhile.
    await wait_until(pilot, lambda: all(w.is_finished for w in workers), what=f"the workers of {groups}")


def feed_messages(pilot: Pilot[Any]) -> list[str]:
    return [message for _, message in app_of(pilot).main_screen.events.entries]


async def wait_until_watching(pilot: Pilot[Any]) -> None:
    """Until the session's file watcher has its watches in place: a change made before that is never seen."""

    def watching() -> bool:
        services = app_of(pilot).main_screen.services
        return services is not None and services.watcher.ready.is_set()

    await wait_until(pilot, watching, what="the file watcher to watch the project")


async def wait_until_following(pilot: Pilot[Any], relpath: str) -> None:
    """Until the session's log tailer follows ``relpath``: from then on every line appended to it is read (a
    log that is there when the tailer starts is followed from its end, so an earlier line is never seen)."""

    def following() -> bool:
        services = app_of(pilot).main_screen.services
        return services is not None and services.logs is not None and services.logs.follows(relpath)

    await wait_until(pilot, following, what=f"the log tailer to follow {relpath}")
