"""Small modal dialogs: a yes/no confirmation, a one-line prompt, and the in-app editor."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TabbedContent, TabPane

from app.terminal_text import safe_text
from widgets.terminal_safe import SafeInput, SafeTextArea


class ConfirmScreen(ModalScreen[bool]):
    """A question answered with y (yes) or n / escape (no, the default)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes", priority=True),
        Binding("n,escape", "answer(False)", "No", id="confirm-no", priority=True),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(safe_text(self.question, multiline=True), id="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a session name, revision feedback); escape cancels with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(safe_text(self.question, multiline=True), id="question", markup=False)
            yield SafeInput(self.value, placeholder=self.placeholder, id="answer")

    @on(SafeInput.Submitted)
    def _submitted(self, event: SafeInput.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EditorScreen(ModalScreen[dict[str, str] | None]):
    """The proposed result of each file in a TextArea; ctrl+s keeps the edits, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Use edited", id="editor-save", priority=True),
        Binding("escape", "cancel", "Cancel", id="editor-cancel"),
    ]

    def __init__(self, contents: dict[str, str]) -> None:
        super().__init__(classes="dialog")
        self.contents = contents

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-box"):
            yield Label("Edit the proposed result · ctrl+s use it · escape back", id="question")
            with TabbedContent():
                for number, (path, text) in enumerate(self.contents.items()):
                    # Content, not a str: a path is the model's text, never markup.
                    with TabPane(Content(safe_text(path)), id=f"file-{number}"):
                        yield SafeTextArea(text, id=f"text-{number}", show_line_numbers=True)

    def on_mount(self) -> None:
        self.query(SafeTextArea).first().focus()

    def action_save(self) -> None:
        edited = {
            path: self.query_one(f"#text-{number}", SafeTextArea).text
            for number, path in enumerate(self.contents)
        }
        self.dismiss(edited)

    def action_cancel(self) -> None:
        self.dismiss(None)
