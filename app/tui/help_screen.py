"""The help screen (F1 anywhere, ``?`` outside a text input): how a change happens in a few lines, then every
key grouped by where it works, collected from the bindings themselves (app/tui/keys.py), then the slash
commands (app/tui/slash.py's table). Scrollable; escape, F1 or q closes it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.tui import texts
from app.tui.keys import keys_by_place
from app.tui.slash import SLASH_COMMANDS


def two_columns(rows: list[tuple[str, str]]) -> Table:
    """A key (or command) column that never wraps, and what it does, wrapped to the width left."""
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1)
    for left, right in rows:
        table.add_row(left, right)
    return table


def help_content() -> RenderableType:
    """The whole help, top to bottom (built from the bindings and the slash table each time it opens)."""
    parts: list[RenderableType] = [Text(texts.HELP_WORKFLOW), Text()]
    parts.append(Text(texts.HELP_KEYS_HEADING, style="bold underline"))
    for place, keys in keys_by_place().items():
        parts.append(Text(f"\n{place}", style="bold italic"))
        parts.append(two_columns([(one.shown, one.help) for one in keys]))
    parts.append(Text())
    parts.append(Text(texts.HELP_SLASH_HEADING, style="bold underline"))
    parts.append(two_columns([(command.usage, command.help) for command in SLASH_COMMANDS]))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="help-close"),  # F1 too: the App's key closes it
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(texts.HELP_TITLE, id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_content(), id="help-text")
            yield Label(texts.HELP_FOOTER, id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
