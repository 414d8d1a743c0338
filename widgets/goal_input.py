"""The goal / follow-up input: several lines (enter sends, shift+enter or ctrl+j starts a new line), the goals
already typed one up-arrow away, and the completion popup's keys while it is open.

It is a ``TextArea`` (terminal-safe: widgets/terminal_safe.py) that keeps the one-line ``Input``'s API the
workspace uses: ``value``, ``Submitted`` with ``.value``, ``placeholder``, ``disabled``. It grows with its lines
up to ``MAX_LINES`` rows (the stylesheet's ``height: auto`` and ``max-height``) and shrinks back once sent.
A paste is inserted as it is, newlines included: only the enter key sends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from widgets.completion import CompletionPopup
from widgets.terminal_safe import SafeTextArea

PLACEHOLDER = "goal or follow-up… (enter sends · ctrl+j new line · / commands · @ files)"
MAX_LINES = 6
# Terminals report shift+enter as its own key only with the kitty keyboard protocol; tmux and most others send
# a plain enter for it, and ctrl+j (a line feed) everywhere.
NEWLINE_KEYS = frozenset({"shift+enter", "ctrl+j", "newline"})


class GoalInput(SafeTextArea, inherit_bindings=False):
    # TextArea's editing keys (system keys: the help screen and README list the workspace's own), without its
    # undo and redo: ctrl+z is the workspace's undo of a change (and ctrl+y its copy of the reply).
    BINDINGS = [
        replace(binding, system=True)
        for binding in TextArea.BINDINGS
        if isinstance(binding, Binding) and binding.action not in ("undo", "redo")
    ]

    @dataclass
    class Submitted(Message):
        """Enter pressed with the popup closed: ``value`` is the whole text typed."""

        goal_input: GoalInput
        value: str

        @property
        def control(self) -> GoalInput:
            return self.goal_input

    def __init__(self, completion: CompletionPopup | None = None, **kwargs: Any) -> None:
        super().__init__(
            placeholder=PLACEHOLDER, soft_wrap=True, compact=False, highlight_cursor_line=False, **kwargs
        )
        self.completion = completion
        self.goals: list[str] = []
        self._position = 0

    @property
    def value(self) -> str:
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)

    def remember(self, goal: str) -> None:
        if goal and (not self.goals or self.goals[-1] != goal):
            self.goals.append(goal)
        self._position = len(self.goals)

    def _popup(self) -> CompletionPopup | None:
        popup = self.completion
        return popup if popup is not None and popup.is_open else None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        popup = self._popup()
        if popup is not None and key == "enter" and self._completes_nothing(popup):
            popup.close()  # `/help` typed whole: enter sends it
        elif popup is not None and key in ("enter", "tab", "escape"):
            event.stop()
            event.prevent_default()
            if key == "escape":
                popup.dismiss(self.text)
            else:
                self.accept_completion(popup)
            return
        if key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
        # Any other key: TextArea's own handler runs next (Textual calls each class's handler in turn).

    async def _on_paste(self, event: events.Paste) -> None:
        # TextArea's handler (run next) inserts it, newlines and all, never sent; stopped here so that it is
        # not passed on to be pasted again.
        event.stop()

    def _completes_nothing(self, popup: CompletionPopup) -> bool:
        """Whether accepting the highlighted candidate would leave the text as typed (bar a space)."""
        chosen, span = popup.chosen(), popup.span
        if chosen is None or span is None:
            return False
        return self.get_text_range(*span).strip() == chosen.insert.strip()

    def accept_completion(self, popup: CompletionPopup) -> None:
        """Put the highlighted candidate in place of what it completes, the cursor after it."""
        chosen = popup.chosen()
        span = popup.span
        popup.close()
        if chosen is None or span is None:
            return
        start, end = span
        result = self.replace(chosen.insert, start, end, maintain_selection_offset=False)
        self.move_cursor(result.end_location)

    def action_cursor_up(self, select: bool = False) -> None:
        popup = self._popup()
        if popup is not None and not select:
            popup.move(-1)
        elif not select and self.navigator.is_first_wrapped_line(self.cursor_location):
            self.walk_history(-1)
        else:
            super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        popup = self._popup()
        if popup is not None and not select:
            popup.move(1)
        elif not select and self.navigator.is_last_wrapped_line(self.cursor_location):
            self.walk_history(1)
        else:
            super().action_cursor_down(select)

    def walk_history(self, step: int) -> None:
        if not self.goals:
            return
        self._position = max(0, min(len(self.goals), self._position + step))
        self.value = self.goals[self._position] if self._position < len(self.goals) else ""
