"""Copying to the clipboard: the model's last reply (ctrl+y, palette "Copy last reply") as its Markdown source,
and the diff the diff pane shows (``c`` there, palette "Copy diff") as a unified diff.

``CopyDesk`` is a collaborator of the main screen, reaching it through app/tui/host.py's ``Host``. The copy goes
through ``App.copy_to_clipboard`` (OSC 52, which most terminals pass to the system clipboard; the App keeps the
text in ``app.clipboard`` too); a toast says what was copied, or that there is nothing to copy yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.tui import texts
from widgets.chat_view import prose_for_history

if TYPE_CHECKING:
    from app.tui.host import Host
    from widgets.chat_view import ChatView
    from widgets.diff_preview import DiffPreview


def last_reply(chat: ChatView) -> str | None:
    """The newest reply of the model on screen, as Markdown: a stored one with its edit blocks as the
    conversation shows them ("✎ REPLACE path"), the live one as streamed so far. None if there is none."""
    for child in reversed(chat.children):
        if child.has_class("assistant"):
            source = getattr(child, "source", None)
            if isinstance(source, str) and source.strip():
                return prose_for_history(source)
    return None


def shown_diff(diff: DiffPreview) -> str | None:
    """The unified diff of every file the pane shows (each file's header, then its hunks), else None."""
    parts = []
    for file in diff.files:
        lines = [file.header] if file.header else []
        parts.append("\n".join([*lines, *file.hunks]))
    text = "\n".join(part for part in parts if part)
    return text + "\n" if text else None


def plural(count: int) -> str:
    return "" if count == 1 else "s"


class CopyDesk:
    def __init__(self, host: Host) -> None:
        self.host = host

    def copy_reply(self) -> None:
        text = last_reply(self.host.chat)
        if text is None:
            self.host.notify(texts.NOTHING_TO_COPY, severity="warning")
            return
        self.host.app.copy_to_clipboard(text)
        lines = len(text.splitlines())
        self.host.notify(texts.COPIED_REPLY.format(lines=lines, plural=plural(lines)))

    def copy_diff(self) -> None:
        diff = self.host.diff
        text = shown_diff(diff)
        if text is None:
            self.host.notify(texts.NOTHING_TO_COPY, severity="warning")
            return
        self.host.app.copy_to_clipboard(text)
        files, lines = len(diff.files), len(text.splitlines())
        self.host.notify(
            texts.COPIED_DIFF.format(
                files=files, files_plural=plural(files), lines=lines, plural=plural(lines)
            )
        )
