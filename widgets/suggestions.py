"""The suggestions picker: what to improve next (app.suggest), each with its place and reason.

enter builds the highlighted one in a new session; escape closes. Returns the picked ``Suggestion`` or None.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from app.text.terminal import safe_text


def suggestion_label(rank: int, suggestion: Any) -> Text:
    # A TODO's text, a function's name, a test's message: the repository's, shown escaped.
    text = Text.assemble((f"{rank}. ", "bold"), (safe_text(suggestion.title), "bold"))
    if suggestion.place:
        text.append(f"  {safe_text(suggestion.place)}", style="italic")
    text.append(f"\n   {safe_text(suggestion.reason)}", style="dim")
    return text


class SuggestionsScreen(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "close", "Close", id="suggestions-close")]

    def __init__(self, suggestions: list[Any], ranked_by: str) -> None:
        super().__init__(classes="dialog")
        self.suggestions = list(suggestions)
        self.ranked_by = ranked_by

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box", classes="suggestions"):
            yield Label(
                f"Suggestions (ranked {'by the model' if self.ranked_by == 'model' else 'heuristically'}):"
                " enter builds one in a new session",
                id="question",
            )
            yield OptionList(
                *(Option(suggestion_label(i, s), id=str(i)) for i, s in enumerate(self.suggestions, start=1)),
                id="suggestion-list",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.suggestions[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
