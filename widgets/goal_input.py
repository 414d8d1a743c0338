"""The goal / follow-up input, with the goals already typed one up-arrow away."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from widgets.terminal_safe import SafeInput

PLACEHOLDER = "goal or follow-up… (enter sends)"


class GoalInput(SafeInput):
    BINDINGS = [
        Binding("up", "history(-1)", "Previous goal", id="goal-history-previous", show=False),
        Binding("down", "history(1)", "Next goal", id="goal-history-next", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder=PLACEHOLDER, **kwargs)
        self.history: list[str] = []
        self._position = 0

    def remember(self, goal: str) -> None:
        if goal and (not self.history or self.history[-1] != goal):
            self.history.append(goal)
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else ""
        self.cursor_position = len(self.value)
