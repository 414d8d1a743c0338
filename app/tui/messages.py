"""App-wide messages of the workspace, all in this one module; a widget's own messages are nested in it."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from app.events import BackgroundEvent, Decision, DiffReady, Event


@dataclass
class PipelineEvent(Message):
    """One event of the build pipeline, posted from the pipeline's thread in the order it was yielded."""

    event: Event


@dataclass
class DecisionWanted(Message):
    """The pipeline waits for the user's decision on ``diff``; set ``answer`` (thread-safe) to go on."""

    diff: DiffReady
    answer: concurrent.futures.Future[Decision]


@dataclass
class BuildEnded(Message):
    """The pipeline's thread has finished (normally, cancelled or failed)."""

    error: str | None = None


@dataclass
class BackgroundNotice(Message):
    """One event of the background services (file watcher, language servers, tests, logs)."""

    event: BackgroundEvent


@dataclass
class SessionShown(Message):
    """A session's visible tail is on screen (tests and the benchmark wait for it)."""

    name: str
