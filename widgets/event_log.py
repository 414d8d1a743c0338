"""The event feed: background events (watcher, language server, tests, logs) and pipeline notices.

It is also the live error feed: a line added with a ``payload`` (a failing test run, language-server errors, a
log error) is fixable. ctrl+f on the workspace focuses the feed on the newest such line; up/down move between
them and f (or enter) posts ``FixWanted`` for the selected one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from app.text.terminal import safe_text

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
