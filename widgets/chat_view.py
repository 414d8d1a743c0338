"""The conversation: stored messages, then the model's reply streaming as Markdown.

Only the visible tail of a long history is mounted; scrolling to the top asks for the page before it
(``OlderWanted``), so switching to a session of thousands of messages stays instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from app.text.terminal import safe_text

if TYPE_CHECKING:
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

ROLE_LABELS = {"user": "you", "assistant": "ai", "system": "system", "event": "·"}


def prose_for_history(content: str) -> str:
    """A stored reply as the chat shows it: each edit block becomes one "✎ REPLACE path" line (the diff pane
    and git hold the change itself), as in the live stream. Left as is, Markdown reads `<<<<<<<` as three levels
    of blockquote and `=======` as a heading underline. The blocks are found by the pipeline's own parser
    (app/llm/blocks.py), which also drops the fences that wrap them; a reply it cannot parse is shown as stored."""
    if "<<<<<<< " not in content:
        return content
    from app.llm.blocks import BlockParseError, EditBlock, parse_blocks

    try:
        items = parse_blocks(content)
    except BlockParseError:
        return content
    out: list[str] = []
    for item in items:
        if isinstance(item, EditBlock):
            out.append(f"\n\n{'↳' if item.kind == 'READ' else '✎'} {item.kind} `{item.path}`\n\n")
        else:
            out.append(item.text)
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()


class MessageView(Static):
    """A stored message or a note; ``source`` keeps its text (what a transcript shows). Text is shown through
    ``safe_text``: Textual would write its ESC, C1 and bidi controls to the terminal raw."""

    def __init__(self, renderable: Any, source: str, classes: str) -> None:
        if isinstance(renderable, str):
            renderable = safe_text(renderable, multiline=True)
        super().__init__(renderable, classes=classes, markup=False)
        self.source = source


def message_widget(message: dict[str, Any]) -> Widget:
    """A stored message as one widget. Assistant replies from history render through Rich's Markdown in a
    single Static: a Textual ``Markdown`` widget per reply (one child per block) made opening a long session
    several times slower. The live reply streams into a Textual ``Markdown`` (see ``stream_prose``)."""
    role = str(message.get("role", "event"))
    content = str(message.get("content", ""))
    if role == "assistant":
        from rich.markdown import Markdown as RichMarkdown

        shown = safe_text(prose_for_history(content), multiline=True)
        widget: Widget = MessageView(RichMarkdown(shown), content, "message assistant")
    elif role == "user":
        widget = MessageView(content, content, "message user")
    else:  # system and event lines read as notes, not as turns of the conversation
        kind = str(message.get("kind", ""))  # e.g. "context_cleared" (/clear): styled as a divider
        widget = MessageView(
            content, content, f"note {role} {kind}" if kind.isidentifier() else f"note {role}"
        )
    widget.border_title = safe_text(ROLE_LABELS.get(role, role))
    return widget


def older_hint(count: int) -> Widget:
    text = f"↑ {count} earlier messages (scroll up or ctrl+o)"
    return MessageView(text, text, "older-hint")


class ChatView(VerticalScroll):
    """Messages top to bottom; anchored to the bottom while a reply streams."""

    @dataclass
    class OlderWanted(Message):
        """The user scrolled to the top and older messages exist: the owner should call ``prepend``."""

        before: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Conversation"
        # Position (in the session's message list) of the oldest mounted message; 0 means all are shown.
        self.first_index = 0
        self._loading_older = False
        self._reply: Markdown | None = None
        self._stream: MarkdownStream | None = None

    # -- history -------------------------------------------------------------------------------------------

    async def show_history(self, messages: list[dict[str, Any]], first_index: int) -> None:
        """Replace everything with ``messages``, the last ones of a session starting at ``first_index``."""
        await self.end_reply()
        await self.remove_children()
        self.first_index = first_index
        if first_index > 0:
            await self.mount(older_hint(first_index))
        if messages:
            await self.mount_all([message_widget(m) for m in messages])
        self.scroll_end(animate=False, immediate=True)
        self.anchor()

    async def prepend(self, messages: list[dict[str, Any]], first_index: int) -> None:
        """Mount an older page above what is shown, keeping the view where the user is reading."""
        hint = self.query(".older-hint")
        await hint.remove()
        widgets: list[Widget] = [message_widget(m) for m in messages]
        if first_index > 0:
            widgets.insert(0, older_hint(first_index))
        before_height = self.virtual_size.height
        if widgets:
            first = self.children[0] if self.children else None
            if first is not None:
                await self.mount_all(widgets, before=first)
            else:
                await self.mount_all(widgets)
        self.first_index = first_index
        self._loading_older = False

        def keep_position() -> None:
            self.scroll_to(y=self.virtual_size.height - before_height, animate=False, immediate=True)

        self.call_after_refresh(keep_position)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 0 and old > 0 and self.first_index > 0 and not self._loading_older:
            self._loading_older = True
            self.post_message(self.OlderWanted(self.first_index))

    def want_older(self) -> None:
        """Ask for the page before the oldest shown (also bound to a key for keyboard users)."""
        if self.first_index > 0 and not self._loading_older:
            self._loading_older = True
            self.post_message(self.OlderWanted(self.first_index))

    # -- live additions ------------------------------------------------------------------------------------

    async def add_message(self, role: str, content: str) -> Widget:
        await self.end_reply()
        widget = message_widget({"role": role, "content": content})
        await self.mount(widget)
        self.scroll_end(animate=False)
        return widget

    async def add_note(self, text: str, kind: str = "note") -> None:
        """A one-line notice in the conversation (files read, applied, rejected, errors)."""
        await self.end_reply()
        await self.mount(MessageView(text, text, f"note {kind}"))
        self.scroll_end(animate=False)

    async def stream_prose(self, text: str) -> None:
        """Append a chunk of the model's prose to the current reply, starting one if needed."""
        if self._stream is None:
            from textual.widgets import Markdown

            self._reply = Markdown("", classes="message assistant streaming")
            self._reply.border_title = "ai"
            await self.mount(self._reply)
            self.anchor()
            self._stream = Markdown.get_stream(self._reply)
        await self._stream.write(safe_text(text, multiline=True))

    async def end_reply(self) -> None:
        """Close the streaming reply (the model call ended): flush what is pending."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        if self._reply is not None:
            self._reply.remove_class("streaming")
            self._reply = None

    async def discard_reply(self) -> None:
        """Drop the reply streamed so far (the model call is retried from scratch)."""
        reply = self._reply
        await self.end_reply()
        if reply is not None:
            await reply.remove()

    def on_unmount(self) -> None:
        # Leaving mid-stream (quit, or the screen closing): stop the stream's task so none is left pending.
        stream, self._stream = self._stream, None
        task = getattr(stream, "_task", None)
        if task is not None:
            task.cancel()

    def transcript(self) -> str:
        """The conversation as plain text, top to bottom (replies as their Markdown source)."""
        parts = []
        for child in self.children:
            source = getattr(child, "source", None)
            if isinstance(source, str):
                parts.append(source)
        return "\n".join(parts)

    @property
    def streaming(self) -> bool:
        return self._stream is not None
