"""The build pipeline: a goal to an applied change in eight stages (README.md "How a build works"), as an
async stream of typed events (``app.events``). UI-agnostic: the TUI, headless runs and the tests consume the
same events.

``run_build(request, decide)`` yields, in order: StageStarted/StageFinished for every stage (all eight, always;
model turns after the first repeat EDIT, VALIDATE and CONFIRM), FilesRead, ContextReady, ProseDelta while the
model streams, BlockCompleted per block, Waiting while a model call waits (its first token, an idle stream),
Retrying when a model call is retried, Usage per model call, DiffReady, AwaitingDecision, then Applied or
Rejected, ErrorEvent on failure, and last Finished(ok, exit_code).

Decisions (``decide`` is awaited after AwaitingDecision): APPLY (optionally per-hunk), EDIT (apply the user's
edited contents), REJECT, REVISE (the feedback goes back to the model in the same conversation, then a new
DiffReady) and SUGGEST (the model describes alternatives as prose - ProseDelta events - and proposes the one it
recommends as a new DiffReady). With ``dry_run`` the pipeline stops after DiffReady with Rejected("dry run").

Validate (stage 7) checks a proposal with the language server when ``BuildRequest.diagnose`` is given: the NEW
diagnostics each changed file would get (bounded by DIAGNOSE_SECONDS; a server that cannot answer is an Info
note). New errors go back to the model once, like a syntax error; whatever remains is shown, not a failure:
``DiffReady.diagnostics`` (path -> ``Diagnostic`` records) carries it to the diff preview, ``--json`` and the
transcript, and ``--yes`` still applies.

Cancellation (the consuming task cancelled, Ctrl-C) never leaves a change half-applied: the apply itself runs
without an await, so it is all done or not started when the cancellation lands.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Config
from app.errors import AgentError, TaskFailed
from app.events import (
    Applied,
    AwaitingDecision,
    BlockCompleted,
    ContextReady,
    Decision,
    DecisionKind,
    Diagnostic,
    DiffReady,
    ErrorEvent,
    Event,
    FilesRead,
    Finished,
    Info,
    ProseDelta,
    Rejected,
    Retrying,
    Stage,
    StageFinished,
    StageStarted,
    Usage,
    Waiting,
)
from app.session.store import Session

Decider = Callable[[DiffReady], Awaitable[Decision]]
MAX_REVISIONS = 5  # REVISE / SUGGEST rounds in one build
DIAGNOSE_SECONDS = 5.0  # the whole language-server check of one proposal; past it the check is skipped
NO_EDIT_TWICE = (
    "the model answered twice without an edit block, so there is nothing to apply; nothing was written: "
    "name the file and the change in the goal, or try another model"
)


@dataclass
class BuildRequest:
    root: Path
    session: Session
    goal: str
    config: Config
    dry_run: bool = False
    use_git: bool = True
    # --continue: the session's earlier conversation is sent with the new goal.
    with_history: bool = False
    # A face that already holds the symbol index (the TUI) passes it; else it is opened here.
    index: Any = field(default=None, repr=False)
    # Headless runs: an answer without any edit block is asked again once, then the task fails
    # (exit 1, "no valid edit"). The TUI leaves it off: there a prose answer to a question is a fine outcome.
    require_edits: bool = False
    # Stage 7's language-server check: ``await diagnose(path, proposed_text)`` gives the diagnostics the
    # proposed text ADDS to the file (``app.events.Diagnostic``); None: no check. A provider with a
    # ``prepare(path)`` coroutine is told of each edited file as its block completes, to start its server early.
    diagnose: Callable[[str, str], Awaitable[list[Diagnostic]]] | None = field(default=None, repr=False)


def goal_summary(goal: str) -> str:
    first = goal.strip().splitlines()[0] if goal.strip() else ""
    return first if len(first) <= 80 else first[:77] + "..."


@dataclass
class _Reply:
    text: str = ""
    items: list[Any] = field(default_factory=list)  # Prose | EditBlock, in order
    parse_error: str | None = None
    usage: dict[str, int] | None = None

    @property
    def blocks(self) -> list[Any]:
        from app.llm.blocks import EditBlock

        return [i for i in self.items if isinstance(i, EditBlock)]


class _Build:
    def __init__(self, request: BuildRequest, decide: Decider) -> None:
        self.request = request
        self.decide = decide
        self.session = request.session
        self.config = request.config
        self.root = request.root.resolve()
        self.messages: list[dict[str, str]] = []
        self.read_hashes: dict[str, str] = {}
        self.read_bytes: dict[str, bytes] = {}  # as the model was shown them: its edits are made on these
        self.reply = _Reply()
        self.client: Any = None
        self.stage_started: dict[Stage, float] = {}
        self.index: Any = request.index
        self.own_index = request.index is None  # opened here, so closed here
        self.named_explicitly: set[str] = set()
        self.prompt_version: int | None = None
        self.warming: list[asyncio.Future[Any]] = []  # language servers started as the blocks complete
        self.sent_back_diagnostics = False  # new language-server errors go back to the model once per build
        self.applied: str | None = None  # the change this build applied, once it did

    # -- small helpers ---------------------------------------------------------------------------------------

    def start(self, stage: Stage, detail: str = "") -> StageStarted:
        self.stage_started[stage] = time.perf_counter()
        return StageStarted(stage, detail)

    def finish(self, stage: Stage, detail: str = "") -> StageFinished:
        seconds = time.perf_counter() - self.stage_started.get(stage, time.perf_counter())
        return StageFinished(stage, detail, round(seconds, 4))

    def note(self, text: str, **extra: Any) -> None:
        """An event summary kept in the session (what happened, never file contents or the key). ``outcome``
        marks how a goal ended, for the history a later ``--continue`` sends (``preread.history_messages``)."""
        self.session.append_message("event", text, **extra)

    def tell_model(self, text: str, stored: str | None = None) -> None:
        """A turn of ours in the conversation (READ replies, "your blocks do not apply", ...): sent as a user
        message, and kept in the session as an event of kind ``to_model`` (``stored``, when shorter than the
        text, e.g. without the file contents) so a later history is the same alternating conversation."""
        self.messages.append({"role": "user", "content": text})
        self.session.append_message("event", stored or text, kind="to_model")

    # -- the run ---------------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Event]:
        from app.llm.client import ModelClient
        from app.llm.prompts import system_prompt

        goal = self.request.goal
        # 1. Goal
        yield self.start(Stage.GOAL)
        earlier = self.session.messages() if self.request.with_history else []
        self.session.append_message("user", goal, kind="goal")
        self.session.set_goal_summary(goal_summary(goal))
        yield self.finish(Stage.GOAL, goal_summary(goal))
        # The client is made before any reading: no endpoint is a clear failure, not wasted work.
        self.client = ModelClient(self.config)
        # The model client takes ~1 s to get ready (openai's import, its HTTP client, its chat modules): make
        # it ready while the files are located and read, so the first request goes out as soon as they are.
        warm = asyncio.ensure_future(asyncio.to_thread(self.client.prepare))
        try:
            async for event in self._prepare(earlier):
                yield event
            await warm
            prompt, version = system_prompt()
            self.messages.insert(0, {"role": "system", "content": prompt})
            self.prompt_version = version
            async for event in self._converse():
                yield event
        finally:
            if not warm.done():
                warm.cancel()
            await self.client.close()
            if self.own_index and self.index is not None:
                self.index.close()
            for warming in self.warming:
                warming.cancel()

    async def _prepare(self, earlier: list[dict[str, Any]]) -> AsyncIterator[Event]:
        from app.context import preread
        from app.llm.prompts import estimate_tokens, fit_budget, planning_message

        root, goal, config = self.root, self.request.goal, self.config
        # 2. Locate
        yield self.start(Stage.LOCATE)
        # The index opens within a time budget (preread.open_index); its file list is the inventory when it is
        # complete, else the files are listed (git's view) for what it does not cover yet.
        if self.index is None:
            self.index = await asyncio.to_thread(preread.open_index, root)
        files = await asyncio.to_thread(preread.project_files, root, self.index)
        if self.index is not None and not getattr(self.index, "complete", True):
            yield Info(
                f"the symbol index is still being built ({getattr(self.index, 'remaining', 0)} files to go); "
                "this build searches with rg instead, and the next one goes on with the index"
            )
        located = await asyncio.to_thread(preread.locate, root, goal, self.index, files)
        res = located.resolution
        self.named_explicitly = {f.path for f in res.files if f.explicit}
        detail = f"{len(res.files)} file(s) for the goal, {len(located.hits)} search hit(s)"
        yield self.finish(Stage.LOCATE, detail)
        for missing in res.unresolved:
            yield Info(f"{missing}: named in the goal but not found in the project")
        # 3. Read
        yield self.start(Stage.READ)
        read = await asyncio.to_thread(
            preread.read_mentioned, root, located, config.max_file_tokens, config.send_secrets
        )
        self.read_hashes.update(read.hashes)
        self.read_bytes.update(read.raw)
        for line in read.skipped:
            yield Info(f"not sent: {line}")
        yield FilesRead(
            paths=tuple(f.path for f in read.files),
            partial=tuple(f.path for f in read.files if not f.full),
            reason="named by the goal",
        )
        yield self.finish(Stage.READ, f"{len(read.files)} file(s) read")
        # 4. Context
        yield self.start(Stage.CONTEXT)
        budget = config.context_tokens
        history = preread.history_messages(earlier, budget // 4) if earlier else []
        # Counted as the history was budgeted (estimate_tokens: 4 bytes a token), so what is left for the rest
        # of the context is what is really left, in any script.
        history_tokens = sum(estimate_tokens(m["content"]) for m in history)
        mentioned = [f.path for f in read.files]
        sections = await asyncio.to_thread(
            preread.context_sections, root, self.session, located, mentioned, budget
        )
        symbols_of = {f.path: f.symbols for f in res.files}
        fitted = fit_budget(
            read.files, sections, budget - history_tokens, symbols_of, located.terms, self.index
        )
        text = planning_message(goal, fitted, res.unresolved)
        if history and history[-1]["role"] == "user":
            # The history ends with a turn of ours (an outcome note, a goal that got no answer): one user
            # turn with the new goal, so the conversation keeps alternating.
            text = history.pop()["content"] + "\n\n" + text
        self.messages = [*history, {"role": "user", "content": text}]
        for dropped in fitted.dropped:
            yield Info(f"context budget: dropped {dropped}")
        yield ContextReady(
            tokens=fitted.tokens + history_tokens,
            bytes=len(text.encode()) + sum(len(m["content"].encode()) for m in history),
            files=tuple(f.path for f in fitted.files),
            dropped=tuple(fitted.dropped),
            skipped=tuple(read.skipped),
        )
        yield self.finish(Stage.CONTEXT, f"~{fitted.tokens + history_tokens} tokens")

    # -- model turns -----------------------------------------------------------------------------------------

    async def _stream_turn(self, first_stage: Stage) -> AsyncIterator[Event]:
        """One model call: streams prose and blocks, sets ``self.reply``. Starts ``first_stage`` (PLAN or
        EDIT); a PLAN turn switches to EDIT at its first edit block."""
        from app.llm.blocks import BlockParseError, BlockParser, EditBlock, Prose
        from app.llm.client import Retrying as ClientRetrying
        from app.llm.client import StreamDone, TextDelta
        from app.llm.client import Waiting as ClientWaiting

        stage = first_stage
        yield self.start(stage)
        parser = BlockParser()
        reply = _Reply()
        count = 0

        def take(items: list[Any]) -> list[Event]:
            nonlocal stage, count
            events: list[Event] = []
            for item in items:
                reply.items.append(item)
                if isinstance(item, Prose):
                    if item.text:
                        events.append(ProseDelta(item.text))
                elif isinstance(item, EditBlock):
                    if stage is Stage.PLAN and item.kind != "READ":
                        events.append(self.finish(Stage.PLAN, "plan streamed"))
                        events.append(self.start(Stage.EDIT))
                        stage = Stage.EDIT
                    events.append(BlockCompleted(count, item.kind, item.path, item))
                    if item.kind != "READ":
                        self._warm_diagnostics(item.path)
                    count += 1
            return events

        async for piece in self.client.stream(self.messages):
            if isinstance(piece, ClientWaiting):
                yield Waiting(
                    piece.what, piece.waited, piece.limit, piece.attempt, piece.attempts, piece.over
                )
            elif isinstance(piece, ClientRetrying):
                parser, reply, count = BlockParser(), _Reply(), 0
                yield Retrying(
                    piece.attempt, piece.attempts, piece.delay, piece.reason, piece.short, piece.what
                )
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
        self.reply = reply
        usage = reply.usage or {}
        self.session.append_message(
            "assistant",
            reply.text,
            usage=reply.usage,
            model=self.client.model,
            prompt_version=self.prompt_version,
        )
        if reply.usage is not None:
            yield Usage(
                usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), usage.get("total_tokens", 0)
            )
        self.messages.append({"role": "assistant", "content": reply.text})
        if stage is Stage.PLAN:
            yield self.finish(Stage.PLAN, "plan streamed")
            yield self.start(Stage.EDIT)
        edits = [b for b in reply.blocks if b.kind != "READ"]
        yield self.finish(Stage.EDIT, f"{len(edits)} edit block(s)")

    async def _ask(self, first_stage: Stage) -> AsyncIterator[Event]:
        """A model turn plus the READ rounds it asks for (bounded)."""
        async for event in self._stream_turn(first_stage):
            yield event
        for _round in range(self.config.read_rounds):
            reads = [b for b in self.reply.blocks if b.kind == "READ"]
            if not reads or self.reply.parse_error:
                return
            async for event in self._serve_reads(reads):
                yield event
            async for event in self._stream_turn(Stage.PLAN):
                yield event
        if any(b.kind == "READ" for b in self.reply.blocks):
            if not any(b.kind != "READ" for b in self.reply.blocks):
                raise TaskFailed(
                    f"the model still asked for files after {self.config.read_rounds} READ rounds and proposed "
                    "no change: name the files in the goal, or raise read_rounds in the configuration"
                )
            yield Info(
                f"the model asked for more files after {self.config.read_rounds} READ rounds; not served"
            )

    async def _serve_reads(self, reads: list[Any]) -> AsyncIterator[Event]:
        from app.llm.prompts import FileContext, estimate_tokens, read_reply_message, shrink
        from app.pipeline.reader import ReadRefused, read_for_model
        from app.text.textfile import content_hash

        served: list[FileContext] = []
        refused: list[str] = []
        for block in reads:
            try:
                read = await asyncio.to_thread(
                    read_for_model,
                    self.root,
                    block.path,
                    named=self.named_explicitly,
                    send_secrets=self.config.send_secrets,
                )
            except ReadRefused as exc:
                refused.append(f"{exc.path}: {exc.reason}")
                continue
            self.read_hashes[read.real_path] = content_hash(read.raw)
            self.read_bytes[read.real_path] = read.raw
            file = FileContext(path=read.path, content=read.text, reason="asked with READ", rank=5)
            if estimate_tokens(read.text) > 2 * self.config.max_file_tokens:
                file = shrink(file, [], [], 2 * self.config.max_file_tokens, self.index)
            served.append(file)
        yield FilesRead(
            paths=tuple(f.path for f in served),
            partial=tuple(f.path for f in served if not f.full),
            reason="asked with READ",
        )
        for line in refused:
            yield Info(f"READ not served: {line}")
        sent = ", ".join(f.path for f in served) or "none"
        not_sent = f"; not served: {', '.join(refused)}" if refused else ""
        self.tell_model(
            read_reply_message(served, refused),
            stored=f"(ai sent the files asked for with READ: {sent}{not_sent})",
        )

    def _validate(self) -> tuple[Any, str | None]:
        """(proposal, None), (None, error) or (None, None) when the answer proposes no change."""
        from app.edits import build_proposal
        from app.errors import EditError

        if self.reply.parse_error:
            return None, self.reply.parse_error
        edits = [b for b in self.reply.blocks if b.kind != "READ"]
        if not edits:
            return None, None
        try:
            proposal = build_proposal(
                self.root, edits, read_hashes=dict(self.read_hashes), read=dict(self.read_bytes)
            )
        except EditError as exc:
            return None, exc.message
        problem = syntax_problem(proposal)
        return (None, problem) if problem else (proposal, None)

    def _warm_diagnostics(self, path: str) -> None:
        prepare = getattr(self.request.diagnose, "prepare", None)
        if prepare is not None and path:
            self.warming.append(asyncio.ensure_future(prepare(path)))

    async def _diagnose(self, proposal: Any, into: dict[str, list[Diagnostic]]) -> AsyncIterator[Event]:
        """Stage 7's language-server check (``validate_lsp.check_proposal``): new diagnostics go ``into``."""
        from app.validate_lsp import check_proposal

        if self.request.diagnose is not None:
            found, note = await check_proposal(self.request.diagnose, proposal, DIAGNOSE_SECONDS)
            into.update(found)
            if note:
                yield Info(note)

    def _second_chance(self, proposal: Any, error: str | None) -> tuple[str, str, str] | None:
        """When an answer goes back to the model once: (stage detail, info line, message to the model)."""
        from app.llm.prompts import edits_required_message, revise_after_error_message

        if error is not None:
            return (
                "invalid: sent back to the model",
                f"the answer does not apply; asking the model once more: {error}",
                revise_after_error_message(error),
            )
        if proposal is None and self.request.require_edits:
            return (
                "no edit blocks: asked again",
                "the answer has no edit blocks; asking the model once more for them",
                edits_required_message(),
            )
        return None

    async def _converse(self) -> AsyncIterator[Event]:
        from app.llm.prompts import SUGGEST_MESSAGE, revise_message
        from app.validate_lsp import diagnostic_listing, diagnostics_message, has_errors

        first = Stage.PLAN
        revisions = 0
        while True:
            async for event in self._ask(first):
                yield event
            first = Stage.EDIT
            # 7. Validate (an invalid answer, or in a headless run one without edits, goes back once)
            yield self.start(Stage.VALIDATE)
            proposal, error = self._validate()
            again = self._second_chance(proposal, error)
            if again is not None:
                detail, info, message = again
                yield self.finish(Stage.VALIDATE, detail)
                yield Info(info)
                self.tell_model(message)
                async for event in self._ask(Stage.EDIT):
                    yield event
                yield self.start(Stage.VALIDATE, "second attempt")
                proposal, error = self._validate()
                if error is not None:
                    yield self.finish(Stage.VALIDATE, "invalid")
                    raise TaskFailed(f"the model's edits do not apply, nothing was written: {error}")
                if proposal is None and self.request.require_edits:
                    yield self.finish(Stage.VALIDATE, "no edit blocks")
                    raise TaskFailed(NO_EDIT_TWICE)
            if proposal is None:
                yield self.finish(Stage.VALIDATE, "no edits proposed")
                yield self.start(Stage.CONFIRM)
                yield self.finish(Stage.CONFIRM, "nothing to apply")
                self.note("the model proposed no changes", outcome="no_change")
                yield Finished(ok=True, exit_code=0, summary="the model proposed no changes")
                return
            diagnostics: dict[str, list[Diagnostic]] = {}
            async for event in self._diagnose(proposal, diagnostics):
                yield event
            if has_errors(diagnostics) and not self.sent_back_diagnostics:
                # New errors go back to the model once, like a syntax error; its second answer is shown with
                # whatever the server still sees (or the first proposal, when the second does not apply).
                self.sent_back_diagnostics = True
                yield self.finish(Stage.VALIDATE, "new errors: sent back to the model")
                listing = diagnostic_listing(diagnostics)
                yield Info(f"the language server sees new errors; asking the model once more: {listing}")
                self.tell_model(diagnostics_message(diagnostics))
                async for event in self._ask(Stage.EDIT):
                    yield event
                yield self.start(Stage.VALIDATE, "second attempt")
                second, error = self._validate()
                if second is None:
                    why = error or "no edit blocks"
                    yield Info(f"the second answer is not usable ({why}); the first proposal is shown")
                else:
                    proposal, diagnostics = second, {}
                    async for event in self._diagnose(proposal, diagnostics):
                        yield event
            valid = f"{len(proposal.diffs())} file(s) valid"
            if diagnostics:
                valid += (
                    f", {sum(len(v) for v in diagnostics.values())} new problem(s) from the language server"
                )
            yield self.finish(Stage.VALIDATE, valid)
            # 8. Confirm
            yield self.start(Stage.CONFIRM)
            ready = DiffReady(
                diffs=proposal.diffs(),
                hunk_counts=proposal.hunk_counts(),
                proposal=proposal,
                diagnostics=diagnostics,
            )
            yield ready
            if self.request.dry_run:
                yield self.finish(Stage.CONFIRM, "dry run: nothing applied")
                yield Rejected(reason="dry run: nothing was changed")
                self.note("dry run: proposal shown, nothing applied", outcome="not_applied")
                yield Finished(ok=True, exit_code=0, summary="dry run: nothing was changed")
                return
            yield AwaitingDecision(files=tuple(ready.diffs))
            decision = await self.decide(ready)
            if decision.kind in (DecisionKind.REVISE, DecisionKind.SUGGEST) and revisions < MAX_REVISIONS:
                revisions += 1
                yield self.finish(Stage.CONFIRM, str(decision.kind))
                if decision.kind is DecisionKind.REVISE:
                    self.session.append_message("user", decision.feedback or "revise", kind="revise")
                    self.messages.append({"role": "user", "content": revise_message(decision.feedback)})
                else:
                    self.session.append_message("user", "suggest alternatives", kind="suggest")
                    self.messages.append({"role": "user", "content": SUGGEST_MESSAGE})
                continue
            if decision.kind in (DecisionKind.APPLY, DecisionKind.EDIT):
                for event in self._apply(proposal, decision):
                    yield event
                return
            reason = decision.feedback or "rejected"
            yield self.finish(Stage.CONFIRM, "not applied")
            yield Rejected(reason=reason)
            self.note(f"proposal rejected: {reason}", outcome="not_applied")
            summary = reason if reason.startswith("nothing applied") else f"nothing applied: {reason}"
            yield Finished(ok=True, exit_code=0, summary=summary)
            return

    def _apply(self, proposal: Any, decision: Decision) -> list[Event]:
        """Apply without an await in between: a cancellation cannot land half-way."""
        from app.edits import apply_proposal

        if decision.kind is DecisionKind.EDIT and decision.edited:
            proposal = proposal.with_edited(decision.edited)
        elif decision.hunks is not None:
            proposal = proposal.select(decision.hunks)
        from app.edits.transaction import deferred_interrupts

        # Ctrl-C waits for the outcome note too: a session never holds an applied change its story lacks.
        with deferred_interrupts():
            record = apply_proposal(
                proposal, session=self.session, goal=self.request.goal, use_git=self.request.use_git
            )
            files = tuple(str(f) for f in record.get("files", ()))
            change_id = str(record.get("id", record.get("change_id", "")))
            commit = record.get("commit")
            self.note(
                f"applied change {change_id}: {', '.join(files)}" + (f" (commit {commit})" if commit else ""),
                outcome="applied",
            )
            self.applied = change_id
        # The commit's caveats (it failed; the user's own edits went into it): said, not only recorded.
        caveats = [Info(line) for line in record.get("recovered", [])]
        caveats += [Info(f"warning: {record[key]}") for key in ("warning", "commit_note") if record.get(key)]
        return [
            self.finish(Stage.CONFIRM, "applied"),
            Applied(change_id=change_id, files=files, commit=commit),
            *caveats,
            Finished(ok=True, exit_code=0, summary=f"applied change {change_id} to {len(files)} file(s)"),
        ]


def _first_error_line(node: Any) -> int:
    """1-based line of the first error node under ``node``: the innermost one. tree-sitter often wraps
    the valid code before a mistake in an outer ERROR node that starts at line 1; the error nodes inside it
    (or a MISSING token) say where the parse actually broke."""
    current = node
    while True:
        if current.is_missing:
            return int(current.start_point[0]) + 1
        inner = next((c for c in current.children if c.has_error or c.is_missing), None)
        if inner is None:
            return int(current.start_point[0]) + 1
        current = inner


def syntax_problem(proposal: Any) -> str | None:
    """A file the proposal leaves unparseable (tree-sitter) though it parsed before: the exact error for the
    model. Files that were already broken, and languages without a grammar, are not judged."""
    from app.context.languages import language_of, load_language

    for change in getattr(proposal, "files", []):
        lang = language_of(change.path)
        if lang is None or change.new_text is None:
            continue
        import tree_sitter

        parser = tree_sitter.Parser(load_language(lang))  # type: ignore[arg-type]
        new_tree = parser.parse(change.new_text.encode("utf-8", "surrogatepass"))
        if not new_tree.root_node.has_error:
            continue
        if change.old_text is not None:
            old_tree = parser.parse(change.old_text.encode("utf-8", "surrogatepass"))
            if old_tree.root_node.has_error:
                continue
        line = _first_error_line(new_tree.root_node)
        return f"{change.path}: after the edits the file no longer parses as {lang} (syntax error near line {line})"
    return None


async def run_build(request: BuildRequest, decide: Decider) -> AsyncIterator[Event]:
    """The pipeline. Failures end as ErrorEvent(fatal) + Finished(ok=False, exit_code), never an exception
    (except cancellation, which propagates after noting it in the session)."""
    build = _Build(request, decide)
    stage: Stage | None = None
    open_stages: list[Stage] = []
    try:
        async for event in build.run():
            if isinstance(event, StageStarted):
                stage = event.stage
                open_stages.append(event.stage)
            elif isinstance(event, StageFinished) and event.stage in open_stages:
                open_stages.remove(event.stage)
            yield event
    except asyncio.CancelledError:
        try:
            if build.applied:  # cancelled after the change landed: the story keeps "applied" as the outcome
                build.note(f"build stopped after change {build.applied} was applied")
            else:
                build.note("build cancelled; nothing applied", outcome="cancelled")
        except Exception:  # the note is a courtesy; the cancellation must go on
            pass
        raise
    except AgentError as exc:
        message = exc.message
        if isinstance(exc, TaskFailed) and build.client is not None:
            name = request.session.name
            message += f"; the goal is kept in session {name!r}: `ai --session {name} --continue --build ...`"
        try:
            build.note(f"failed: {exc.message}", outcome="failed")
        except AgentError:
            pass
        yield ErrorEvent(message=message, stage=stage, fatal=True, exit_code=exc.exit_code)
        for open_stage in reversed(open_stages):  # a face's stage bar must not stay "running"
            yield build.finish(open_stage, "failed")
        yield Finished(ok=False, exit_code=exc.exit_code, summary=exc.message)
