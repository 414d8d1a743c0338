"""Stages 2 to 4 of a build: locate the files the goal is about (the symbol index, else rg), read them through
the guarded reader, and fit them with the session's history into the context budget as the first message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from app.events import ContextReady, Event, FilesRead, Info, Stage
from app.pipeline.state import BuildState


async def prepare_context(state: BuildState, earlier: list[dict[str, Any]]) -> AsyncIterator[Event]:
    """Locate, Read and Context; ``state.messages`` ends as the conversation to send (history, then the goal
    with its files)."""
    from app.llm.client import DEFAULT_MODEL
    from app.llm.limits import context_window
    from app.llm.prompts import estimate_tokens, fit_budget, planning_message, system_prompt
    from app.pipeline import preread
    from app.pipeline.context_report import file_entries, section_entries

    root, goal, config, clock = state.root, state.request.goal, state.config, state.clock
    # 2. Locate
    yield clock.start(Stage.LOCATE)
    # The index opens within a time budget (preread.open_index); its file list is the inventory when it is
    # complete, else the files are listed (git's view) for what it does not cover yet.
    if state.index is None:
        state.index = await asyncio.to_thread(preread.open_index, root)
    index = state.index
    files = await asyncio.to_thread(preread.project_files, root, index)
    if index is not None and not index.complete:
        yield Info(
            f"the symbol index is still being built ({index.remaining} files to go); "
            "this build searches with rg instead, and the next one goes on with the index"
        )
    located = await asyncio.to_thread(preread.locate, root, goal, index, files)
    res = located.resolution
    state.named_explicitly = {f.path for f in res.files if f.explicit}
    detail = f"{len(res.files)} file(s) for the goal, {len(located.hits)} search hit(s)"
    yield clock.finish(Stage.LOCATE, detail)
    for missing in res.unresolved:
        yield Info(f"{missing}: named in the goal but not found in the project")
    # 3. Read
    yield clock.start(Stage.READ)
    read = await asyncio.to_thread(
        preread.read_mentioned, root, located, config.max_file_tokens, config.send_secrets
    )
    if state.request.pinned:
        await asyncio.to_thread(preread.read_pinned, root, state.request.pinned, read, config.send_secrets)
    state.read_hashes.update(read.hashes)
    state.read_bytes.update(read.raw)
    for line in read.skipped:
        yield Info(f"not sent: {line}")
    yield FilesRead(
        paths=tuple(f.path for f in read.files),
        partial=tuple(f.path for f in read.files if not f.full),
        reason="named by the goal",
    )
    yield clock.finish(Stage.READ, f"{len(read.files)} file(s) read")
    # 4. Context
    yield clock.start(Stage.CONTEXT)
    budget = config.context_tokens
    history = preread.history_messages(earlier, budget // 4) if earlier else []
    # Counted as the history was budgeted (estimate_tokens: 4 bytes a token), so what is left for the rest
    # of the context is what is really left, in any script.
    history_tokens = sum(estimate_tokens(m["content"]) for m in history)
    mentioned = [f.path for f in read.files]
    sections = await asyncio.to_thread(
        preread.context_sections, root, state.session, located, mentioned, budget
    )
    symbols_of = {f.path: f.symbols for f in res.files}
    fitted = fit_budget(read.files, sections, budget - history_tokens, symbols_of, located.terms, index)
    text = planning_message(goal, fitted, res.unresolved)
    if history and history[-1]["role"] == "user":
        # The history ends with a turn of ours (an outcome note, a goal that got no answer): one user
        # turn with the new goal, so the conversation keeps alternating.
        text = history.pop()["content"] + "\n\n" + text
    state.messages = [*history, {"role": "user", "content": text}]
    for dropped in fitted.dropped:
        yield Info(f"context budget: dropped {dropped}")
    pinned = _pinned_paths(state, res.files)
    entries = file_entries(fitted.files, pinned) + section_entries(fitted.sections, located.hits)
    window = context_window(config.model or DEFAULT_MODEL, config.context_window)
    yield ContextReady(
        tokens=fitted.tokens + history_tokens,
        bytes=len(text.encode()) + sum(len(m["content"].encode()) for m in history),
        files=tuple(f.path for f in fitted.files),
        dropped=tuple(fitted.dropped),
        skipped=tuple(read.skipped),
        entries=tuple(entries),
        history_tokens=history_tokens,
        window=window.tokens,
        window_source=window.source,
        system_tokens=estimate_tokens(system_prompt()[0]),
    )
    yield clock.finish(Stage.CONTEXT, f"~{fitted.tokens + history_tokens} tokens")


def _pinned_paths(state: BuildState, mentioned: list[Any]) -> set[str]:
    """The files the user pinned: ``@path`` mentions marked ``pinned`` by the goal's resolution, and the
    session's pins the request carries (``pinned``), when the resolution and the request say so."""
    pinned = {m.path for m in mentioned if getattr(m, "pinned", False)}
    pinned.update(str(p) for p in getattr(state.request, "pinned", ()) or ())
    return pinned
