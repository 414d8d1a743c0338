"""Search in the conversation (ctrl+r): a find bar above the goal input.

Typing finds the messages on screen that contain the text (case-insensitive), marks them, scrolls to the
current one and says "2/5" (or "no match"); enter or ↓ goes to the next, ↑ to the previous, both wrapping;
escape closes the bar, clears the marks and gives the focus back to where it was. The messages searched are
those mounted (the session's visible tail; ctrl+o loads older ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from app.tui import texts
from widgets.terminal_safe import SafeInput

if TYPE_CHECKING:
    from textual.widget import Widget

    from widgets.chat_view import ChatView

HIT = "-search-hit"
CURRENT = "-search-current"


def message_text(widget: Widget) -> str | None:
    """The text of a message or note of the conversation (its source), None for what is not one."""
    if widget.has_class("older-hint"):
        return None
    source = getattr(widget, "source", None)
    return source if isinstance(source, str) else None


def matching(messages: list[Widget], query: str) -> list[Widget]:
    wanted = query.casefold()
    return [m for m in messages if wanted in (message_text(m) or "").casefold()]


class ConversationSearch(Horizontal):
    """The find bar; hidden until ``open``. ``chat`` gives the conversation it searches."""

    BINDINGS = [
        Binding("down", "step(1)", "Next match", id="search-next", show=False),
        Binding("up", "step(-1)", "Previous match", id="search-previous", show=False),
        Binding("escape", "close", "Close search", id="search-close", show=False),
    ]

    def __init__(self, chat: Callable[[], ChatView], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chat = chat
        self.hits: list[Widget] = []
        self.current = -1
        self._back_to: Widget | None = None

    def compose(self) -> ComposeResult:
        yield SafeInput(placeholder=texts.SEARCH_PLACEHOLDER, id="search-input")
        yield Label("", id="search-count")

    @property
    def field(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def count_text(self) -> str:
        return str(self.query_one("#search-count", Label).render())

    def open(self) -> None:
        if not self.has_class("-open"):
            self._back_to = self.screen.focused
        self.add_class("-open")
        self.field.focus()
        self.search()

    def action_close(self) -> None:
        self._mark([], -1)
        self.remove_class("-open")
        self.query_one("#search-count", Label).update("")
        back, self._back_to = self._back_to, None
        if back is not None and back.is_attached and back.focusable:
            back.focus()
        else:
            self.screen.focus_next()

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.search()

    @on(Input.Submitted, "#search-input")
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_step(1)

    def search(self) -> None:
        """Find the query among the messages on screen now; the first match becomes the current one."""
        query = self.field.value
        hits = matching(list(self.chat().children), query) if query.strip() else []
        self._mark(hits, 0 if hits else -1)

    def action_step(self, step: int) -> None:
        query = self.field.value
        if not query.strip():
            return
        # The conversation may have grown since: find again, and keep the place when the current one is still
        # a match.
        current = self.hits[self.current] if 0 <= self.current < len(self.hits) else None
        hits = matching(list(self.chat().children), query)
        if not hits:
            self._mark([], -1)
            return
        index = hits.index(current) if current in hits else -step if step > 0 else 0
        self._mark(hits, (index + step) % len(hits))

    def _mark(self, hits: list[Widget], current: int) -> None:
        for widget in self.hits:
            widget.remove_class(HIT, CURRENT)
        self.hits, self.current = hits, current
        for widget in hits:
            widget.add_class(HIT)
        label = self.query_one("#search-count", Label)
        if not self.field.value.strip():
            label.update("")
            return
        if not hits:
            older = self.chat().first_index
            label.update(
                texts.SEARCH_NO_MATCH + (texts.SEARCH_NOT_LOADED.format(count=older) if older else "")
            )
            return
        shown = hits[current]
        shown.add_class(CURRENT)
        label.update(texts.SEARCH_COUNT.format(current=current + 1, total=len(hits)))
        chat = self.chat()
        chat.release_anchor()
        chat.scroll_to_widget(shown, animate=False, top=True, immediate=True)
