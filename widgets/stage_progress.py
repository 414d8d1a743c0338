"""The eight pipeline stages in one row, the current one live.

The labels are app.events' ``Stage`` labels, kept here so the first paint does not import the pipeline's event
module (its two dozen dataclasses cost about 13 ms); a test checks they agree. Stages arrive as ``Stage``
members, which are ints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from app.events import Stage

# Stage 1..8 of a build (app/events/pipeline.py ``Stage``), as ``Stage.label`` spells them.
STAGE_LABELS = ("Goal", "Locate", "Read", "Context", "Plan", "Edit", "Validate", "Confirm")


class StageProgress(Widget):
    current: reactive[Stage | None] = reactive(None)
    done: reactive[frozenset[Stage]] = reactive(frozenset())
    failed: reactive[Stage | None] = reactive(None)
    # The stage a stopped build was at (or would have started next).
    stopped: reactive[int | None] = reactive(None)

    def start(self, stage: Stage) -> None:
        if self.current is None or stage <= min(self.done, default=stage):
            # A new run (or a revision going back to an earlier stage): clear what was done after it.
            self.done = frozenset(s for s in self.done if s < stage)
        self.current = stage
        self.failed = None
        self.stopped = None

    def finish(self, stage: Stage) -> None:
        self.done = self.done | {stage}
        if self.current == stage:
            self.current = None

    def fail(self, stage: Stage | None) -> None:
        self.failed = stage or self.current
        self.current = None

    def stop(self) -> None:
        """The build was stopped: its live stage (or the next one) says so."""
        if self.failed is None:
            self.stopped = self.current or next((s for s in range(1, 9) if s not in self.done), 8)
        self.current = None

    def reset(self) -> None:
        self.done = frozenset()
        self.current = None
        self.failed = None
        self.stopped = None

    def render(self) -> Text:
        # Every label in full when the row fits (it does at 80 columns while a build runs); else the stage
        # numbers, with the name of the live stage (running, failed or stopped) only: never a cut label.
        full = self._row(lambda stage: True)
        if full.cell_len <= self.size.width:
            return full
        live = self.current or self.failed or self.stopped
        return self._row(lambda stage: stage == live)

    def _row(self, named: Callable[[int], bool]) -> Text:
        text = Text()
        for stage, name in enumerate(STAGE_LABELS, start=1):
            label = f"{stage} {name}" if named(stage) else f"{stage}"
            if stage == self.failed:
                style, mark = "bold red", "✗"
            elif stage == self.stopped:
                style, mark = "bold yellow", "■"
            elif stage == self.current:
                style, mark = "bold reverse", "▸"
            elif stage in self.done:
                style, mark = "green", "✓"
            else:
                style, mark = "dim", " "
            text.append(f"{mark}{label}", style=style)
            text.append(" ")
        if self.stopped is not None:
            text.append("stopped", style="bold yellow")
        return text
