"""The context panel: what the last goal's request holds, part by part, and how full the model's window is.

A generic view: it renders a ``ContextView`` (a summary line, the window's fill as a bar, a table of rows and
lines of notes) or an empty state, in words the caller gives (app/tui/context_pane.py turns the pipeline's
events into them). Hidden until the screen shows it (ctrl+t in the workspace).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.text.terminal import safe_text

ROOMY_WIDTH = 44  # from this width the reasons keep to one line


@dataclass(frozen=True)
class ContextView:
    """What the panel shows: ``summary`` (the total against the window), ``share`` of the window filled (None:
    the window is unknown, no bar), ``rows`` of (part, why, tokens) under ``headers``, largest first, and
    ``notes`` under the table (the history's share, what the budget dropped)."""

    summary: str
    share: float | None
    headers: tuple[str, str, str]
    rows: Sequence[tuple[str, str, str]] = ()
    notes: Sequence[str] = field(default_factory=tuple)


class ContextPanel(VerticalScroll):
    """A scrolling pane with one body: the empty state's line, or a ``ContextView``."""

    COMPONENT_CLASSES = {
        "context-panel--summary",
        "context-panel--bar",
        "context-panel--bar-filled",
        "context-panel--bar-over",
        "context-panel--why",
        "context-panel--note",
    }
    DEFAULT_CSS = """
    ContextPanel .context-panel--summary { text-style: bold; }
    ContextPanel .context-panel--bar { color: $panel-lighten-2; }
    ContextPanel .context-panel--bar-filled { color: $accent; }
    ContextPanel .context-panel--bar-over { color: $error; }
    ContextPanel .context-panel--why { color: $text-muted; }
    ContextPanel .context-panel--note { color: $text-muted; }
    ContextPanel #context-body { width: 100%; height: auto; }
    """

    def __init__(self, empty: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ContextView | None = None
        self.empty = empty

    def compose(self) -> ComposeResult:
        yield Static(Text(self.empty, style="dim"), id="context-body")

    @property
    def body(self) -> Static:
        return self.query_one("#context-body", Static)

    def show(self, view: ContextView | None) -> None:
        """Show ``view``, or the empty state's line with None."""
        self.view = view
        if self.is_mounted:
            self.body.update(self.render_view())

    def on_mount(self) -> None:
        self.body.update(self.render_view())

    def on_resize(self) -> None:
        self.body.update(self.render_view())  # the table's columns are chosen for the width

    def render_view(self) -> RenderableType:
        view = self.view
        if view is None:
            return Text(self.empty, style=self.get_component_rich_style("context-panel--note"))
        style = self.get_component_rich_style
        parts: list[RenderableType] = [Text(view.summary, style=style("context-panel--summary"))]
        if view.share is not None:
            over = view.share > 1
            filled = style("context-panel--bar-over" if over else "context-panel--bar-filled")
            parts.append(
                ProgressBar(
                    total=1.0,
                    completed=min(view.share, 1.0),
                    style=style("context-panel--bar"),
                    complete_style=filled,
                    finished_style=filled,
                )
            )
        table = Table(box=None, expand=True, padding=(0, 1, 0, 0), show_edge=False, pad_edge=False)
        part, why, tokens = view.headers
        # The part's name gets most of the width; on a narrow pane the reasons wrap between words.
        roomy = self.content_size.width >= ROOMY_WIDTH
        table.add_column(part, ratio=2, overflow="fold")
        table.add_column(why, ratio=None if roomy else 1, no_wrap=roomy, style=style("context-panel--why"))
        table.add_column(tokens, justify="right", no_wrap=True)
        for name, reason, cost in view.rows:
            table.add_row(safe_text(name), reason, cost)
        parts += [Text(""), table]
        if view.notes:
            parts.append(Text(""))
            parts += [Text(safe_text(note), style=style("context-panel--note")) for note in view.notes]
        return Group(*parts)
