"""Runs a build or a fix off the UI: on a worker thread with its own event loop.

The run is the workspace's (app/workspace/): ``lambda decide: workspace.build(goal, decide)`` or
``workspace.fix(request, decide)``, a function of the decider giving the run's events.

The pipeline's own blocking work (reading files, parsing, git) then never stalls the interface. Events go back
as ``PipelineEvent`` messages, in order; a decision is asked through a ``DecisionWanted`` message carrying a
thread-safe future, so it is handled after every event that came before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from app.tui.messages import BuildEnded, DecisionWanted, PipelineEvent

if TYPE_CHECKING:
    from app.events import Decision, DiffReady, Event


Run = Callable[[Callable[["DiffReady"], Awaitable["Decision"]]], AsyncIterator["Event"]]


class BuildBridge:
    """One run. ``run(decide)`` gives its events (a ``Workspace.build`` or ``Workspace.fix``); ``post``
    delivers a message to the screen (thread-safe)."""

    def __init__(self, run: Run, post: Callable[[Message], Any]) -> None:
        self.run_events = run
        self.post = post
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: concurrent.futures.Future[Decision] | None = None
        self.cancelled = False

    def run(self) -> None:
        """The worker thread's body: drive the pipeline to its end."""
        error: str | None = None
        try:
            asyncio.run(self._drive())
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            from app.errors import AgentError

            error = exc.message if isinstance(exc, AgentError) else f"{type(exc).__name__}: {exc}"
        finally:
            self.post(BuildEnded(error))

    async def _drive(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self.cancelled:
            return
        try:
            async for event in self.run_events(self.decide):
                self.post(PipelineEvent(event))
        except asyncio.CancelledError:
            return

    async def decide(self, diff: DiffReady) -> Decision:
        answer: concurrent.futures.Future[Decision] = concurrent.futures.Future()
        self._pending = answer
        self.post(DecisionWanted(diff, answer))
        try:
            return await asyncio.wrap_future(answer)
        finally:
            self._pending = None

    def cancel(self) -> None:
        """Stop the run (from the UI thread): a pending decision becomes a rejection, then the task is cancelled."""
        from app.events import Decision, DecisionKind

        self.cancelled = True
        pending = self._pending
        if pending is not None and not pending.done():
            pending.set_result(Decision(DecisionKind.REJECT))
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the run already ended and its loop is closed
                pass
