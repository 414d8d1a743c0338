"""The one-line status bar: project, session, model, token usage (and cost), the current stage and what the model call
waits for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from app.text.terminal import safe_text

if TYPE_CHECKING:
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
    # The token usage as the screen words it ("1.5k tok (turn 320) · $0.0042").
    usage: reactive[str] = reactive(format_tokens(0))
    stage: reactive[Stage | None] = reactive(None)
    busy: reactive[bool] = reactive(False)
    # What the model call is waiting for, or the retry under way ("stream idle 30 s, retrying 2/4"); "" none.
    waiting: reactive[str] = reactive("")

    def render(self) -> Text:
        if self.stage is None:
            right = Text("working…" if self.busy else "idle", style="dim")
        else:
            from widgets.stage_progress import STAGE_LABELS

            right = Text(f"[{int(self.stage)}/{len(STAGE_LABELS)} {self.stage.label}]", style="bold")
        if self.waiting:
            right = Text.assemble((self.waiting, "yellow"), " ", right)
        tail = Text.assemble(
            " · session ",
            (safe_text(self.session), "bold"),
            " · ",
            (safe_text(self.model) or "no model", "" if self.model else "dim"),
            " · ",
            self.usage,
        )
        # The project path gives way first (from its left end): session, model and stage stay readable.
        room = self.size.width - len("ai · ") - tail.cell_len - right.cell_len - 1
        project = safe_text(self.project)  # a folder name can hold an ESC too
        if len(project) > room:
            project = "…" + project[-max(room - 1, 0) :] if room > 1 else ""
        line = Text.assemble(("ai", "bold"), " · ", (project, "italic"))
        line.append_text(tail)
        gap = max(1, self.size.width - line.cell_len - right.cell_len)
        line.append(" " * gap)
        line.append_text(right)
        line.truncate(max(self.size.width, 1))
        return line
