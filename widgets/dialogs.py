"""Small modal dialogs: a yes/no confirmation, the project-trust question, a one-line prompt, and the in-app
editor."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TabbedContent, TabPane

from app.text.terminal import safe_text
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


class TrustScreen(ModalScreen[bool]):
    """Whether the project's own code may run in the background, like an editor's workspace trust: t trusts,
    n / escape is "Not now" (the default: nothing of the project runs)."""

    BINDINGS = [
        Binding("t", "answer(True)", "Trust this project", id="trust-project", priority=True),
        Binding("n,escape", "answer(False)", "Not now", id="trust-not-now", priority=True),
    ]

    def __init__(self, project: str, would_run: list[str], note: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.project = project
        self.would_run = would_run
        self.note = note

    def compose(self) -> ComposeResult:
        runs = "\n".join(f"  • {line}" for line in self.would_run)
        text = (
            f"Trust {self.project}?\n\nOnce trusted, ai runs the project's own code in the background:\n{runs}\n\n"
            "Not now: sessions, builds, undo, the file watcher and the language servers that only read files "
            "work as before; nothing of the project runs."
        )
        if self.note:
            text += f"\n\n{self.note}"
        with Vertical(id="dialog-box", classes="trust"):
            yield Label(text, id="question")
            with Horizontal(classes="buttons"):
                yield Button("Trust this project (t)", id="trust", variant="warning")
                yield Button("Not now (n)", id="not-now", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#not-now", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "trust")


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a session name, revision feedback); escape cancels with None. ``validate`` returns
    what is wrong with an answer (one line) or None: a refused answer keeps the dialog open, its text kept and
    the reason shown under it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(
        self,
        question: str,
        value: str = "",
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(safe_text(self.question, multiline=True), id="question", markup=False)
            yield SafeInput(self.value, placeholder=self.placeholder, id="answer")
            yield Label("", id="prompt-error", markup=False)

    @on(SafeInput.Submitted)
    def _submitted(self, event: SafeInput.Submitted) -> None:
        event.stop()
        answer = event.value.strip()
        problem = self.validate(answer) if answer and self.validate is not None else None
        error = self.query_one("#prompt-error", Label)
        if problem is not None:
            error.update(safe_text(problem))
            error.display = True
            return
        self.dismiss(answer or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def with_final_newline_of(original: str, edited: str) -> str:
    """``edited`` ending as ``original`` does: a text area shows no final newline, so an edit there must not
    drop (or add) the file's."""
    ending = "\r\n" if original.endswith("\r\n") else "\n" if original.endswith("\n") else ""
    if ending and not edited.endswith(("\n", "\r")):
        return edited + ending
    return edited


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
            path: with_final_newline_of(
                self.contents[path], self.query_one(f"#text-{number}", SafeTextArea).text
            )
            for number, path in enumerate(self.contents)
        }
        self.dismiss(edited)

    def action_cancel(self) -> None:
        self.dismiss(None)
