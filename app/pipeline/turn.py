"""One model turn, shared by the build (app/pipeline/build.py) and the fix loop (app/fix/loop.py): the reply
streamed through the block grammar (app/llm/blocks.py), the client's waits and retries as events, the reply
recorded and its usage told, and the READ rounds it asks for served by the one guarded reader
(app/project/reader.py), so every file the model asks for passes the same rules whoever asked.

``ModelTurn.ask(messages, reply)`` streams one answer into ``reply`` and serves its READ blocks, up to
``read_rounds`` times, each round one more answer. What differs between the build and the fix loop comes in
as hooks: the events a completed block adds (the build's stage bar), how a reply is recorded in the session,
and what a served READ round tells (the build shows it and keeps it in the session's story).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.events import ContextEntry, Event, FilesRead, Info, ProseDelta, Retrying, Usage, Waiting, Why
from app.llm.blocks import BlockParseError, BlockParser, EditBlock, Prose

if TYPE_CHECKING:
    from app.llm.client import ModelClient
    from app.llm.prompts import FileContext
    from app.pipeline.symbols import SymbolIndex

Message = dict[str, str]


@dataclass
class Reply:
    """One answer of the model as it streamed: its text, its prose and blocks in order, why its blocks do not
    parse (None: they do), and the usage the endpoint reported."""

    text: str = ""
    items: list[Prose | EditBlock] = field(default_factory=list)
    parse_error: str | None = None
    usage: dict[str, int] | None = None

    @property
    def blocks(self) -> list[EditBlock]:
        return [i for i in self.items if isinstance(i, EditBlock)]

    @property
    def reads(self) -> list[EditBlock]:
        return [b for b in self.blocks if b.kind == "READ"]

    @property
    def edits(self) -> list[EditBlock]:
        return [b for b in self.blocks if b.kind != "READ"]

    def reset(self) -> None:
        self.text, self.items, self.parse_error, self.usage = "", [], None, None


@dataclass(frozen=True)
class ReadServing:
    """Where READ blocks are served from and by which rules: ``named`` are the paths the user named (the only
    secrets files sent without ``send_secrets``); a file over ``2 * max_file_tokens`` is shrunk to its
    relevant regions and outline (``max_file_tokens`` None: sent whole)."""

    root: Path
    named: Collection[str] = ()
    send_secrets: bool = False
    max_file_tokens: int | None = None
    index: SymbolIndex | None = None


@dataclass
class ServedReads:
    """The outcome of one READ round: the files sent, the refusals (``path: reason``) and the bytes of each
    file sent by its real path (the model's edits are made on these)."""

    files: list[FileContext]
    refused: list[str]
    raw: dict[str, bytes]

    def message(self) -> str:
        """The turn of ours that carries the files to the model."""
        from app.llm.prompts import read_reply_message

        return read_reply_message(self.files, self.refused)

    def summary(self) -> str:
        """The same turn as the session keeps it: without the contents."""
        sent = ", ".join(f.path for f in self.files) or "none"
        not_sent = f"; not served: {', '.join(self.refused)}" if self.refused else ""
        return f"(ai sent the files asked for with READ: {sent}{not_sent})"

    def events(self) -> list[Event]:
        events: list[Event] = [
            FilesRead(
                paths=tuple(f.path for f in self.files),
                partial=tuple(f.path for f in self.files if not f.full),
                reason="asked with READ",
                entries=tuple(ContextEntry(f.path, Why.READ, f.tokens) for f in self.files),
            )
        ]
        events += [Info(f"READ not served: {line}") for line in self.refused]
        return events


def serve_reads(serving: ReadServing, reads: list[EditBlock]) -> ServedReads:
    """Every file the READ blocks ask for, through the guarded reader (blocking: call it in a thread)."""
    from app.llm.prompts import FileContext, estimate_tokens, shrink
    from app.project.reader import ReadRefused, read_for_model

    served = ServedReads([], [], {})
    for block in reads:
        try:
            read = read_for_model(
                serving.root, block.path, named=serving.named, send_secrets=serving.send_secrets
            )
        except ReadRefused as exc:
            served.refused.append(f"{exc.path}: {exc.reason}")
            continue
        served.raw[read.real_path] = read.raw
        file = FileContext(path=read.path, content=read.text, reason="asked with READ", rank=5)
        limit = serving.max_file_tokens
        if limit is not None and estimate_tokens(read.text) > 2 * limit:
            file = shrink(file, [], [], 2 * limit, serving.index)
        served.files.append(file)
    return served


BlockHook = Callable[[EditBlock, int], list[Event]]  # a completed block and its number in the reply
ReadsHook = Callable[[ServedReads, list[Message]], list[Event]]  # tells the model; the events to show


def _no_block_events(_block: EditBlock, _number: int) -> list[Event]:
    return []


class ModelTurn:
    """The model turns of one conversation. ``record(reply)`` keeps an answer in the session; ``serving()``
    says where its READ blocks are served from (awaited: the fix loop's scratch copy may still be made);
    ``on_reads`` appends the served files to the messages and returns the events to show."""

    def __init__(
        self,
        client: ModelClient,
        *,
        record: Callable[[Reply], None],
        serving: Callable[[], Awaitable[ReadServing]],
        on_reads: ReadsHook,
        read_rounds: int,
    ) -> None:
        self.client = client
        self.record = record
        self.serving = serving
        self.on_reads = on_reads
        self.read_rounds = read_rounds
        self.out_of_rounds = False  # the last ``ask`` served all its rounds: its reply was not looked at

    async def stream(
        self, messages: list[Message], reply: Reply, on_block: BlockHook = _no_block_events
    ) -> AsyncIterator[Event]:
        """One model call into ``reply`` (reset first): prose as it streams, ``on_block``'s events per block,
        then the reply recorded, its usage, and the reply appended to ``messages``."""
        from app.llm.client import StreamDone, TextDelta

        reply.reset()
        parser = BlockParser()

        def take(items: list[Prose | EditBlock]) -> list[Event]:
            events: list[Event] = []
            for item in items:
                reply.items.append(item)
                if isinstance(item, Prose):
                    if item.text:
                        events.append(ProseDelta(item.text))
                else:
                    events += on_block(item, len(reply.blocks) - 1)
            return events

        async for piece in self.client.stream(messages):
            if isinstance(piece, Waiting):
                yield piece
            elif isinstance(piece, Retrying):
                parser = BlockParser()
                reply.reset()
                yield piece
            elif isinstance(piece, TextDelta):
                if reply.parse_error is None:
                    try:
                        for event in take(parser.feed(piece.text)):
                            yield event
                    except BlockParseError as exc:
                        reply.parse_error = exc.message
            elif isinstance(piece, StreamDone):
                reply.text = piece.text
                reply.usage = piece.usage
                if piece.finish_reason == "length":
                    yield Info("the answer was cut off at the model's output limit")
        if reply.parse_error is None:
            try:
                for event in take(parser.finish()):
                    yield event
            except BlockParseError as exc:
                reply.parse_error = exc.message
        self.record(reply)
        if reply.usage is not None:
            usage = reply.usage
            yield Usage(
                usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), usage.get("total_tokens", 0)
            )
        messages.append({"role": "assistant", "content": reply.text})

    async def serve(self, messages: list[Message], reads: list[EditBlock]) -> tuple[ServedReads, list[Event]]:
        """One READ round: the files read (in a thread), told to the model through ``on_reads``."""
        served = await asyncio.to_thread(serve_reads, await self.serving(), reads)
        return served, self.on_reads(served, messages)

    async def ask(
        self,
        messages: list[Message],
        reply: Reply,
        stream: Callable[[], AsyncIterator[Event]] | None = None,
    ) -> AsyncIterator[Event]:
        """An answer plus the READ rounds it asks for (at most ``read_rounds``), each round one more answer.
        ``stream`` is the caller's wrapper around ``self.stream`` (the build's stage bar); ``reply`` ends as
        the last answer."""
        turn = stream or (lambda: self.stream(messages, reply))
        self.out_of_rounds = False
        async for event in turn():
            yield event
        for _round in range(self.read_rounds):
            if not reply.reads or reply.parse_error:
                return
            _served, events = await self.serve(messages, reply.reads)
            for event in events:
                yield event
            async for event in turn():
                yield event
        self.out_of_rounds = True
