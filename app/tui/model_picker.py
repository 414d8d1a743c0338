"""The model picker: the endpoint's models (``GET /models``), the current one marked, filtered as you type.

enter picks the highlighted model, or, when none is listed or none matches, the name as typed (an endpoint
without a list still gets a model by hand); escape cancels. The list loads on a worker thread, and until it
is there the picker says so, or says in one line why there is no list. Returns the name picked, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from app.errors import AgentError
from app.text.terminal import safe_text
from app.tui import texts
from widgets.terminal_safe import SafeInput

STYLES = Path(__file__).resolve().parents[2] / "styles"


def matching(names: list[str], typed: str) -> list[str]:
    """The names holding every word typed, in any case (``gpt 4o`` finds ``gpt-4o-mini``)."""
    words = typed.lower().split()
    return [name for name in names if all(word in name.lower() for word in words)]


class ModelPicker(ModalScreen[str | None]):
    CSS_PATH = STYLES / "model_picker.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="model-picker-cancel"),
        Binding("down", "move(1)", "Next", id="model-picker-next", show=False),
        Binding("up", "move(-1)", "Previous", id="model-picker-previous", show=False),
    ]

    def __init__(self, current: str, load: Callable[[], list[str]]) -> None:
        super().__init__(classes="dialog")
        self.current = current
        self.load = load
        self.names: list[str] | None = None  # None while loading, [] when the endpoint has no list
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="model-picker"):
            yield Label(texts.PICKER_TITLE, id="model-picker-title")
            yield SafeInput(placeholder=texts.PICKER_PLACEHOLDER, id="model-filter")
            yield OptionList(id="model-list")
            yield Label(texts.PICKER_LOADING, id="model-picker-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#model-filter", SafeInput).focus()
        self.fetch()

    @work(thread=True, exit_on_error=False, group="model-list", description="the endpoint's models")
    def fetch(self) -> None:
        try:
            names = self.load()
        except AgentError as exc:
            self.app.call_from_thread(self.failed, exc.message)
        else:
            self.app.call_from_thread(self.loaded, names)

    def loaded(self, names: list[str]) -> None:
        self.names = names
        self.refilter()

    def failed(self, error: str) -> None:
        self.names = []
        self.refilter()
        self.query_one("#model-picker-status", Label).update(texts.PICKER_FAILED.format(error=error))

    @property
    def typed(self) -> str:
        return self.query_one("#model-filter", SafeInput).value.strip()

    @on(SafeInput.Changed, "#model-filter")
    def _typed(self) -> None:
        self.refilter()

    def refilter(self) -> None:
        if self.names is None:
            return
        options = self.query_one("#model-list", OptionList)
        self.shown = matching(self.names, self.typed)
        options.clear_options()
        for name in self.shown:
            label = Text(safe_text(name))  # the endpoint's words: shown, never read as markup
            if name == self.current:
                label = Text.assemble(("● ", "bold"), (label.plain, "bold"), (texts.PICKER_CURRENT, "dim"))
            else:
                label = Text.assemble("  ", label)
            options.add_option(Option(label, id=name))
        if self.shown:
            options.highlighted = self.shown.index(self.current) if self.current in self.shown else 0
        status = self.query_one("#model-picker-status", Label)
        if self.names and not self.shown and self.typed:
            status.update(texts.PICKER_NO_MATCH.format(name=self.typed))
        elif self.names:
            status.update(texts.PICKER_HELP.format(count=len(self.names)))

    def action_move(self, step: int) -> None:
        options = self.query_one("#model-list", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(SafeInput.Submitted, "#model-filter")
    def _enter(self, event: SafeInput.Submitted) -> None:
        event.stop()
        options = self.query_one("#model-list", OptionList)
        if self.shown and options.highlighted is not None:
            self.dismiss(self.shown[options.highlighted])
        elif self.typed:
            self.dismiss(self.typed)

    @on(OptionList.OptionSelected, "#model-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
