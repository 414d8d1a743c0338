"""The event feed: background events (watcher, language server, tests, logs) and pipeline notices."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widgets import RichLog

LEVEL_STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red"}


class EventLog(RichLog):
    """A bounded log; each line starts with the local time. ``clock`` is replaceable for stable snapshots."""

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__(max_lines=500, wrap=True, markup=False, highlight=False, **kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.can_focus = False
        self.entries: list[tuple[str, str]] = []

    def add(self, message: str, level: str = "info") -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.clock()))
        self.entries.append((level, message))
        line = Text.assemble((stamp + " ", "dim"), (message, LEVEL_STYLES.get(level, "")))
        self.write(line)
