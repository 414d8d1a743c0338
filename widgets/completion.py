"""The completion popup over the goal input: candidates for what is being typed (a slash command, an ``@`` file),
shown above the input, never focused. The input drives it (widgets/goal_input.py: up/down move, tab or enter
accepts, escape closes); the screen's glue gives it candidates and the span of text they replace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.content import Content
from textual.geometry import Offset, Region
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.text.terminal import safe_text

# Rows of candidates shown at once (more scroll); the border takes two more.
VISIBLE_ROWS = 8
MAX_WIDTH = 80
Location = tuple[int, int]


@dataclass(frozen=True)
class Candidate:
    """One choice: ``label`` as shown, ``detail`` dimmed after it, ``insert`` the text accepting it types."""

    label: str
    insert: str
    detail: str = ""


class CompletionPopup(OptionList):
    """An option list that floats over the screen (``overlay: screen``, placed by ``show_above``)."""

    can_focus = False

    DEFAULT_CSS = """
    CompletionPopup {
        overlay: screen;
        position: absolute;
        display: none;
        border: round $accent;
        background: $panel;
        padding: 0;
        scrollbar-size-vertical: 1;
    }
    CompletionPopup.-open {
        display: block;
    }
    CompletionPopup > .option-list--option-highlighted {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.candidates: tuple[Candidate, ...] = ()
        # The document span (start, end) the chosen candidate replaces.
        self.span: tuple[Location, Location] | None = None
        # The input's text when escape closed the popup: it stays closed until that text changes.
        self.dismissed_on: str | None = None

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def show_above(
        self, candidates: Sequence[Candidate], span: tuple[Location, Location], anchor: Region
    ) -> None:
        """Show ``candidates`` (none: close) above ``anchor`` (the input's region on the screen), the first one
        highlighted."""
        if not candidates:
            self.close()
            return
        self.span = span
        width = min(MAX_WIDTH, max(20, anchor.width - 2))
        if tuple(candidates) != self.candidates:
            self.candidates = tuple(candidates)
            # One row each (cut with an ellipsis): the border, and a scrollbar when they scroll, take 3 cells.
            self.set_options(Option(self._line(candidate, width - 3)) for candidate in self.candidates)
            self.highlighted = 0
        rows = min(len(self.candidates), VISIBLE_ROWS)
        height = rows + 2
        self.styles.height = height
        self.styles.width = width
        self.styles.offset = Offset(anchor.x + 1, max(0, anchor.y - height))
        self.add_class("-open")

    @staticmethod
    def _line(candidate: Candidate, width: int) -> Content:
        label = Content(safe_text(candidate.label))
        if candidate.detail:
            label = Content.assemble(label, "  ", (safe_text(candidate.detail), "dim"))
        return label.truncate(width, ellipsis=True)

    def close(self) -> None:
        self.remove_class("-open")
        self.span = None

    def dismiss(self, text: str) -> None:
        self.close()
        self.dismissed_on = text

    def move(self, step: int) -> None:
        if not self.candidates:
            return
        current = self.highlighted if self.highlighted is not None else 0
        self.highlighted = (current + step) % len(self.candidates)

    def chosen(self) -> Candidate | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self.candidates):
            return None
        return self.candidates[index]
