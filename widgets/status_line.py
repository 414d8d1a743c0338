"""The one-line status bar: project, session, model, token usage and the current stage."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from app.events import Stage


def format_tokens(count: int) -> str:
    if count >= 1000:
        return f"{count / 1000:.1f}k tok"
    return f"{count} tok"


class StatusLine(Widget):
    """Fed by the main screen through ``data_bind``; renders, nothing else."""

    project: reactive[str] = reactive("")
    session: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    tokens: reactive[int] = reactive(0)
    stage: reactive[Stage | None] = reactive(None)
    busy: reactive[bool] = reactive(False)

    def render(self) -> Text:
        left = Text.assemble(
            ("ai", "bold"),
            " · ",
            (self.project, "italic"),
            " · session ",
            (self.session, "bold"),
            " · ",
            (self.model or "no model", "" if self.model else "dim"),
            " · ",
            format_tokens(self.tokens),
        )
        if self.stage is None:
            right = Text("idle" if not self.busy else "working…", style="dim")
        else:
            right = Text(f"[{int(self.stage)}/{len(Stage)} {self.stage.label}]", style="bold")
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        left.append(" " * gap)
        left.append_text(right)
        left.truncate(max(self.size.width, 1))
        return left
