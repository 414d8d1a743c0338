"""The event feed: background events (watcher, language server, tests, logs) and pipeline notices.

It is also the live error feed: a line added with a ``payload`` (a failing test run, language-server errors, a
log error) is fixable. ctrl+f on the workspace focuses the feed on the newest such line; up/down move between
them and f (or enter) posts ``FixWanted`` for the selected one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from app.text.terminal import safe_text

if TYPE_CHECKING:
    from app.events import Event

LEVEL_STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red"}
MAX_LINES = 300


class FeedLine(Static):
    """One line of the feed; ``payload`` is set on the errors a fix can start from."""

    def __init__(self, renderable: Text, level: str, message: str, payload: Any = None) -> None:
        classes = f"line {level}" + (" fixable" if payload is not None else "")
        super().__init__(renderable, classes=classes)
        self.message = message
        self.payload = payload


class EventLog(VerticalScroll, can_focus=True):
    """A bounded list of lines, each starting with the local time; it follows the newest line.

    Plain ``Static`` lines rather than ``RichLog``: RichLog pulls in rich.pretty and attrs at start-up (about
    15 ms of the workspace's first paint) for features this feed does not use. ``clock`` is replaceable so
    snapshots are stable.
    """

    BINDINGS = [
        Binding("up,k", "select(-1)", "Previous error", id="feed-previous-error", show=False),
        Binding("down,j", "select(1)", "Next error", id="feed-next-error", show=False),
        Binding("f,enter", "fix", "Fix this error", id="feed-fix"),
    ]

    @dataclass
    class FixWanted(Message):
        """The user asked for a fix of the selected error (``payload`` as given to ``add``)."""

        payload: Any
        message: str

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.entries: list[tuple[str, str]] = []
        self.selected: FeedLine | None = None

    def add(self, message: str, level: str = "info", payload: Any = None) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.clock()))
        self.entries.append((level, message))
        # A log line's colours, a test's output, a model's error: shown escaped, never acted on.
        shown = safe_text(message, multiline=True)
        line = Text.assemble((stamp + " ", "dim"), (shown, LEVEL_STYLES.get(level, "")))
        if payload is not None:
            line.append("  · ctrl+f f: fix", style="dim")
        del self.entries[:-MAX_LINES]
        self.mount(FeedLine(line, level, message, payload))
        lines = self.children
        if len(lines) > MAX_LINES:
            if lines[0] is self.selected:
                self.selected = None
            lines[0].remove()

    def show_event(self, event: Event) -> None:
        """What the feed says of one build or fix event (a build's outcome summary is the screen's to say)."""
        from app.events import (
            Applied,
            ContextReady,
            DiffReady,
            ErrorEvent,
            FixAttempt,
            FixStarted,
            Info,
            Retrying,
            StageFinished,
            TestsRun,
            Waiting,
        )
        from app.tui import texts
        from widgets.chat_view import diagnostic_lines

        if isinstance(event, FixStarted):
            trigger = f" ({event.trigger})" if event.trigger else ""
            self.add(
                texts.FIX_STARTED_LINE.format(
                    trigger=trigger, count=len(event.errors), attempts=event.attempts
                )
            )
        elif isinstance(event, TestsRun):
            outcome = "pass" if event.ok else f"fail ({len(event.failing)})"
            new = f", {len(event.new_failures)} new" if event.new_failures else ""
            line = texts.FIX_TESTS_LINE.format(
                scope=event.scope, attempt=event.attempt, outcome=outcome, new=new, seconds=event.seconds
            )
            self.add(line, "ok" if event.ok else "warning")
        elif isinstance(event, FixAttempt):
            word = texts.ATTEMPT_WORDS.get(event.outcome, event.outcome)
            reason = f": {event.reason}" if event.reason else ""
            level = (
                "ok" if event.outcome == "verified" else ("info" if event.outcome == "started" else "warning")
            )
            self.add(
                texts.FIX_ATTEMPT_LINE.format(
                    number=event.number, attempts=event.attempts, word=word, reason=reason
                ),
                level,
            )
        elif isinstance(event, StageFinished):
            if event.detail:
                self.add(texts.STAGE_DETAIL.format(stage=event.stage.label, detail=event.detail))
        elif isinstance(event, DiffReady):
            for line in diagnostic_lines(event.diagnostics):
                self.add(texts.DIAGNOSTIC_LINE.format(line=line), "warning")
        elif isinstance(event, Applied):
            commit = texts.COMMIT.format(short=event.commit[:8]) if event.commit else ""
            self.add(
                texts.APPLIED_LINE.format(change=event.change_id, count=len(event.files), commit=commit), "ok"
            )
        elif isinstance(event, Info):
            self.add(event.message)
        elif isinstance(event, ContextReady):
            dropped = texts.CONTEXT_DROPPED.format(paths=", ".join(event.dropped)) if event.dropped else ""
            self.add(texts.CONTEXT_LINE.format(tokens=event.tokens, count=len(event.files), dropped=dropped))
        elif isinstance(event, Retrying):
            line = texts.RETRY_LINE.format(
                reason=event.reason, next=event.attempt + 1, attempts=event.attempts, delay=event.delay
            )
            self.add(line, "warning")
        elif isinstance(event, Waiting):
            if event.waited > 0 and not event.over:  # a wait that lasts: said once in the feed too
                line = texts.WAIT_LINE.format(
                    label=event.label,
                    waited=event.waited,
                    limit=event.limit,
                    attempt=event.attempt,
                    attempts=event.attempts,
                )
                self.add(line)
        elif isinstance(event, ErrorEvent):
            self.add(event.message, "error")

    @property
    def fixable(self) -> list[FeedLine]:
        return [line for line in self.query(FeedLine) if line.payload is not None]

    def select_latest(self) -> bool:
        """Select the newest fixable error; False when there is none."""
        lines = self.fixable
        self._select(lines[-1] if lines else None)
        return bool(lines)

    def _select(self, line: FeedLine | None) -> None:
        if self.selected is not None:
            self.selected.remove_class("-selected")
        self.selected = line
        if line is not None:
            line.add_class("-selected")
            self.scroll_to_widget(line, animate=False)

    def action_select(self, step: int) -> None:
        lines = self.fixable
        if not lines:
            return
        if self.selected not in lines:
            self._select(lines[-1])
            return
        index = lines.index(self.selected)
        self._select(lines[max(0, min(len(lines) - 1, index + step))])

    def action_fix(self) -> None:
        if (self.selected is None or self.selected.payload is None) and not self.select_latest():
            self.notify("no error to fix in the feed", severity="warning")
            return
        assert self.selected is not None
        self.post_message(self.FixWanted(self.selected.payload, self.selected.message))

    def on_focus(self) -> None:
        if self.selected is None:
            self.select_latest()

    def on_mount(self) -> None:
        self.anchor()  # follow the newest line until the user scrolls up
