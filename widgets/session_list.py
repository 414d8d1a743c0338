"""The session sidebar: one entry per session (name, last used, change count, goal summary), the active marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.text.terminal import safe_text


def session_label(meta: dict[str, Any], active: str) -> Text:
    name = str(meta["name"])
    marker = "▶ " if name == active else "  "
    count = int(meta.get("change_count") or 0)
    last_used = safe_text(str(meta.get("last_used", ""))[5:16].replace("T", " "))
    text = Text.assemble(
        (marker, "bold" if name == active else ""),
        (safe_text(name), "bold" if name == active else ""),
    )
    if count:
        text.append(f"  {count}Δ", style="dim")
    text.append(f"\n  {last_used}", style="dim")
    summary = safe_text(str(meta.get("goal_summary") or ""))  # the goal: outside text
    if summary:
        text.append(f"\n  {summary[:60]}", style="italic dim")
    return text


class SessionList(OptionList):
    """Keyboard: enter opens, F2 renames, Delete deletes (after a confirmation)."""

    BINDINGS = [
        Binding("f2", "rename", "Rename", id="session-rename"),
        Binding("delete", "delete", "Delete", id="session-delete"),
    ]

    @dataclass
    class Open(Message):
        name: str

    @dataclass
    class RenameWanted(Message):
        name: str

    @dataclass
    class DeleteWanted(Message):
        name: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.active = ""
        self.border_title = "Sessions"

    def show_sessions(self, metas: list[dict[str, Any]], active: str, cursor: str | None = None) -> None:
        """Replace the entries, the highlight on ``cursor`` (the session the user's keys act on, e.g. the one
        just renamed) while it is listed, else on the active session."""
        self.active = active
        self.clear_options()
        self.add_options(Option(session_label(m, active), id=str(m["name"])) for m in metas)
        names = [str(m["name"]) for m in metas]
        target = cursor if cursor in names else active
        if target in names:
            self.highlighted = names.index(target)
        self.border_subtitle = f"{len(names)}"

    @property
    def highlighted_name(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    @on(OptionList.OptionSelected)
    def _open_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Open(event.option.id))

    def action_rename(self) -> None:
        if (name := self.highlighted_name) is not None:
            self.post_message(self.RenameWanted(name))

    def action_delete(self) -> None:
        if (name := self.highlighted_name) is not None:
            self.post_message(self.DeleteWanted(name))
