"""Terminal-safe editing widgets: an ``Input`` and a ``TextArea`` that never draw a control character raw.

Textual and Rich write the text of a widget to the terminal as it is: an ESC in it starts a real escape
sequence (OSC 52 sets the clipboard, OSC 0 the window title), C1 and bidi controls likewise (checked under
tmux, tests/e2e/escapes/test_tui_escapes.py). Widgets that show outside text pass it through
``app.text.terminal.safe_text`` before they render it. An editable widget cannot: its value is the data
(a goal the user pasted, a file's proposed content in the built-in editor), so these escape what they draw,
line by line, and leave the value alone.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Input, TextArea

from app.text.terminal import has_control, safe_text


def safe_strip(strip: Strip) -> Strip:
    """``strip`` with its text through ``safe_text``, at the same width. An escape is wider than the
    control it shows (Rich counts a control as zero cells), so text after it moves right by that much;
    such lines are rare, and a line that reads differently is better than a terminal told to act."""
    if not any(has_control(segment.text) for segment in strip if not segment.control):
        return strip
    segments = [
        segment if segment.control else Segment(safe_text(segment.text), segment.style) for segment in strip
    ]
    return Strip(segments).adjust_cell_length(strip.cell_length)


class SafeInput(Input):
    def render_line(self, y: int) -> Strip:
        return safe_strip(super().render_line(y))


class SafeTextArea(TextArea):
    def render_line(self, y: int) -> Strip:
        return safe_strip(super().render_line(y))
