"""Session pins and compaction: what the session's own events say about the context of its next goals.

Both are stored as events among the session's messages (role ``event``), so they survive reopening, ``--continue``
and an export/import, and are read back by folding the messages in order:

- ``kind: "pin"`` with ``files: [path]`` pins a file (``/add``); ``kind: "unpin"`` with ``files: [path]``
  unpins it, with ``files: []`` unpins every file (``/drop``). ``pinned_paths`` is what is pinned now.
- ``kind: "compact"`` holds a model-written summary of the conversation before it (``/compact``): the history
  sent with a later goal starts at the newest one (app/pipeline/preread.history_messages).

The store's layer: the standard library and the session schema only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from app.session.schema import CONTEXT_CLEARED

PIN = "pin"
UNPIN = "unpin"
COMPACT = "compact"


class EventLog(Protocol):
    """What this module needs of a session (app/session/store.py's ``Session``)."""

    def messages(self, limit: int | None = None, before: int | None = None) -> list[dict[str, Any]]: ...

    def append_message(self, role: str, content: str, **extra: Any) -> dict[str, Any]: ...


def fold_pins(messages: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The paths pinned after these messages, in the order they were pinned."""
    pinned: dict[str, None] = {}
    for message in messages:
        if message.get("role") != "event":
            continue
        kind = message.get("kind")
        files = [str(f) for f in message.get("files") or []]
        if kind == PIN:
            for path in files:
                pinned.setdefault(path, None)
        elif kind == UNPIN:
            if not files:
                pinned.clear()
            for path in files:
                pinned.pop(path, None)
    return tuple(pinned)


def pinned_paths(session: EventLog) -> tuple[str, ...]:
    return fold_pins(session.messages())


def record_pin(session: EventLog, path: str, note: str) -> None:
    session.append_message("event", note, kind=PIN, files=[path])


def record_unpin(session: EventLog, paths: Iterable[str], note: str) -> None:
    """Unpin ``paths``; an empty ``paths`` unpins every file."""
    session.append_message("event", note, kind=UNPIN, files=list(paths))


def record_compaction(session: EventLog, summary: str, usage: Mapping[str, int] | None = None) -> None:
    session.append_message("event", summary, kind=COMPACT, usage=dict(usage) if usage else None)


def is_compaction(message: Mapping[str, Any]) -> bool:
    return message.get("role") == "event" and message.get("kind") == COMPACT


def context_start(messages: Sequence[Mapping[str, Any]]) -> tuple[Sequence[Mapping[str, Any]], str | None]:
    """Where the context of the next goal starts: the messages after the newest ``/compact`` with its summary, or
    after the newest ``/clear`` (app/session/schema.py ``CONTEXT_CLEARED``) with none; all of them and None
    when there is neither."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if is_compaction(message):
            return messages[i + 1 :], str(message.get("content", ""))
        if message.get("role") == "event" and message.get("kind") == CONTEXT_CLEARED:
            return messages[i + 1 :], None
    return messages, None
