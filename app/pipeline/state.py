"""What one build holds from stage to stage (``BuildState``): its request, the conversation with the model, the
files as the model was shown them, the symbol index, and the stage clock. The stage modules of app/pipeline/
read and extend it; app/pipeline/build.py runs them in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Config
from app.events import Diagnostic, Stage, StageFinished, StageStarted
from app.pipeline.symbols import SymbolIndex
from app.session.store import Session

Diagnose = Callable[[str, str], Awaitable[list[Diagnostic]]]


@dataclass
class BuildRequest:
    root: Path
    session: Session
    goal: str
    config: Config
    dry_run: bool = False
    use_git: bool = True
    # --continue: the session's earlier conversation is sent with the new goal.
    with_history: bool = False
    # The session's pinned files (/add, app/session/pins.py): read in full for the goal, never dropped.
    pinned: tuple[str, ...] = ()
    # A face that already holds the symbol index (the TUI) passes it; else it is opened here.
    index: SymbolIndex | None = field(default=None, repr=False)
    # Headless runs: an answer without any edit block is asked again once, then the task fails (exit 1,
    # "no valid edit"). The TUI leaves it off: there a prose answer to a question is a fine outcome.
    require_edits: bool = False
    # Stage 7's language-server check: ``await diagnose(path, proposed_text)`` gives the diagnostics the
    # proposed text ADDS to the file (``app.events.Diagnostic``); None: no check. A provider with a
    # ``prepare(path)`` coroutine is told of each edited file as its block completes, to start its server early.
    diagnose: Diagnose | None = field(default=None, repr=False)


class StageClock:
    """StageStarted / StageFinished events, the finished one with the seconds since its start."""

    def __init__(self) -> None:
        self.started: dict[Stage, float] = {}

    def start(self, stage: Stage, detail: str = "") -> StageStarted:
        self.started[stage] = time.perf_counter()
        return StageStarted(stage, detail)

    def finish(self, stage: Stage, detail: str = "") -> StageFinished:
        seconds = time.perf_counter() - self.started.get(stage, time.perf_counter())
        return StageFinished(stage, detail, round(seconds, 4))


@dataclass
class BuildState:
    request: BuildRequest
    root: Path
    clock: StageClock = field(default_factory=StageClock)
    messages: list[dict[str, str]] = field(default_factory=list)
    read_hashes: dict[str, str] = field(default_factory=dict)
    # The files as the model was shown them: its edits are made on these.
    read_bytes: dict[str, bytes] = field(default_factory=dict)
    index: SymbolIndex | None = None
    named_explicitly: set[str] = field(default_factory=set)
    warming: list[asyncio.Future[Any]] = field(default_factory=list)  # language servers started early

    @property
    def session(self) -> Session:
        return self.request.session

    @property
    def config(self) -> Config:
        return self.request.config

    def note(self, text: str, **extra: Any) -> None:
        """An event summary kept in the session (what happened, never file contents or the key). ``outcome``
        marks how a goal ended, for the history a later ``--continue`` sends (``preread.history_messages``)."""
        self.session.append_message("event", text, **extra)

    def tell_model(self, text: str, stored: str | None = None) -> None:
        """A turn of ours in the conversation (READ replies, "your blocks do not apply", ...): sent as a user
        message, and kept in the session as an event of kind ``to_model`` (``stored``, when shorter than the
        text, e.g. without the file contents) so a later history is the same alternating conversation."""
        self.messages.append({"role": "user", "content": text})
        self.session.append_message("event", stored or text, kind="to_model")
