"""``/compact``: the session's history summarised by one model call, stored as a session event.

The summary replaces the messages before it in what later goals send (app/pipeline/preread.history_messages
starts at the newest compaction); the messages themselves stay stored and shown. The history summarised is the
one a goal would send now (a previous summary included), within ``context_tokens``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import TaskFailed

if TYPE_CHECKING:
    from app.config import Config
    from app.events import Retrying, Waiting
    from app.session.store import Session

COMPACT_SYSTEM = (
    "You summarise a coding session between a user and an AI coding assistant so that the assistant can go on "
    "from the summary alone. Keep: the goals and how each ended (applied, rejected, failed, undone), the files "
    "and functions involved, decisions and the user's preferences, and what is still open. Plain prose and "
    "short bullet lists, no edit blocks, no code longer than a line or two, at most about 300 words."
)
COMPACT_REQUEST = "Summarise this coding session so far (the conversation follows):\n\n{transcript}"
NOTHING_TO_COMPACT = (
    "there is nothing to compact yet: this session has no conversation since its last summary"
)
EMPTY_SUMMARY = "the model answered with an empty summary; nothing was changed"


@dataclass(frozen=True)
class Compacted:
    summary: str
    messages: int  # how many turns of the conversation it summarised
    tokens: int  # the tokens the call used (0: the endpoint did not say)


class NothingToCompact(TaskFailed):
    """The session has no conversation to summarise (since its last summary)."""


def compaction_request(history: list[dict[str, str]]) -> list[dict[str, str]]:
    transcript = "\n\n".join(f"[{turn['role']}]\n{turn['content']}" for turn in history)
    return [
        {"role": "system", "content": COMPACT_SYSTEM},
        {"role": "user", "content": COMPACT_REQUEST.format(transcript=transcript)},
    ]


async def compact_session(
    session: Session, config: Config, on_wait: Callable[[Waiting | Retrying], None] | None = None
) -> Compacted:
    """Summarise the session's history with one model call and store it; ``TaskFailed`` with one line when
    there is no model, nothing to compact, or the call fails. ``on_wait`` hears the client's waits and retries."""
    import asyncio

    from app.events import Retrying, Waiting
    from app.llm.client import ModelClient, StreamDone
    from app.pipeline.preread import history_messages
    from app.session.pins import record_compaction

    history = history_messages(session.messages(), config.context_tokens)
    if not history:
        raise NothingToCompact(NOTHING_TO_COMPACT)
    client = ModelClient(config)  # no endpoint: its one line, before anything is read or sent
    try:
        await asyncio.to_thread(client.prepare)
        done: StreamDone | None = None
        async for piece in client.stream(compaction_request(history)):
            if isinstance(piece, StreamDone):
                done = piece
            elif isinstance(piece, Waiting | Retrying) and on_wait is not None:
                on_wait(piece)
    finally:
        await client.close()
    summary = done.text.strip() if done is not None else ""
    if not summary:
        raise TaskFailed(EMPTY_SUMMARY)
    usage = done.usage if done is not None else None
    record_compaction(session, summary, usage)
    tokens = (usage or {}).get("total_tokens") or sum(
        (usage or {}).get(k, 0) for k in ("prompt_tokens", "completion_tokens")
    )
    return Compacted(summary, len(history), int(tokens or 0))
