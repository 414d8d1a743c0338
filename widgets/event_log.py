"""The event feed: background events (watcher, language server, tests, logs) and pipeline notices."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

LEVEL_STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red"}
MAX_LINES = 300


class EventLog(VerticalScroll, can_focus=False):
    """A bounded list of lines, each starting with the local time; it follows the newest line.

    Plain ``Static`` lines rather than ``RichLog``: RichLog pulls in rich.pretty and attrs at start-up (about
    15 ms of the workspace's first paint) for features this feed does not use. ``clock`` is replaceable so
    snapshots are stable.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.entries: list[tuple[str, str]] = []

    def add(self, message: str, level: str = "info") -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.clock()))
        self.entries.append((level, message))
        line = Text.assemble((stamp + " ", "dim"), (message, LEVEL_STYLES.get(level, "")))
        del self.entries[:-MAX_LINES]
        self.mount(Static(line, classes=f"line {level}"))
        lines = self.children
        if len(lines) > MAX_LINES:
            lines[0].remove()

    def on_mount(self) -> None:
        self.anchor()  # follow the newest line until the user scrolls up
