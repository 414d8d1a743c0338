"""The build: a goal to an applied change in eight stages, as an async stream of typed events (``app.events``).
UI-agnostic: the TUI, headless runs and the tests consume the same events. The stages live beside this module:
app/pipeline/prepare.py (2-4: locate, read, context), app/pipeline/turn.py (5-6: the model turns and their
READ rounds), app/pipeline/validate.py (7), app/pipeline/apply.py (8's apply); this module runs them in order.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from app.errors import AgentError, TaskFailed
from app.events import (
    Applied,
    AwaitingDecision,
    BlockCompleted,
    Decision,
    DecisionKind,
    Diagnostic,
    DiffReady,
    ErrorEvent,
    Event,
    Finished,
    Info,
    Rejected,
    Stage,
    StageFinished,
    StageStarted,
)
from app.llm.blocks import EditBlock
from app.pipeline.apply import AppliedChange, apply_decision, caveats
from app.pipeline.prepare import prepare_context
from app.pipeline.state import BuildRequest, BuildState
from app.pipeline.turn import Message, ModelTurn, ReadServing, Reply, ServedReads
from app.pipeline.validate import diagnose, second_chance, validate_reply, warm_diagnostics

if TYPE_CHECKING:
    from app.edits.proposal import Proposal
    from app.llm.client import ModelClient

__all__ = ["BuildRequest", "Decider", "goal_summary", "run_build"]

Decider = Callable[[DiffReady], Awaitable[Decision]]
MAX_REVISIONS = 5  # REVISE / SUGGEST rounds in one build
NO_EDIT_TWICE = (
    "the model answered twice without an edit block, so there is nothing to apply; nothing was written: "
    "name the file and the change in the goal, or try another model"
)


def goal_summary(goal: str) -> str:
    first = goal.strip().splitlines()[0] if goal.strip() else ""
    return first if len(first) <= 80 else first[:77] + "..."


class _Build:
    def __init__(self, request: BuildRequest, decide: Decider) -> None:
        self.request = request
        self.decide = decide
        self.state = BuildState(request, request.root.resolve(), index=request.index)
        self.clock = self.state.clock
        self.session = request.session
        self.config = request.config
        self.reply = Reply()
        self.client: ModelClient | None = None
        self.turn: ModelTurn | None = None
        self.own_index = request.index is None  # opened here, so closed here
        self.prompt_version: int | None = None
        self.checked: tuple[Proposal, dict[str, list[Diagnostic]]] | None = None  # stage 7's outcome
        self.sent_back_diagnostics = False  # new language-server errors go back to the model once per build
        self.applied: str | None = None  # the change this build applied, once it did
        self.goal_kept = False  # stage 1 stored the goal: a failure after it says where it is kept

    # -- the run ---------------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Event]:
        from app.llm.client import ModelClient
        from app.llm.prompts import system_prompt

        goal, state = self.request.goal, self.state
        # 1. Goal
        yield self.clock.start(Stage.GOAL)
        earlier = self.session.messages() if self.request.with_history else []
        self.session.append_message("user", goal, kind="goal")
        self.goal_kept = True
        self.session.set_goal_summary(goal_summary(goal))
        yield self.clock.finish(Stage.GOAL, goal_summary(goal))
        # The client is made before any reading: no endpoint is a clear failure, not wasted work.
        client = self.client = ModelClient(self.config)
        self.turn = ModelTurn(
            client,
            record=self._record,
            serving=self._serving,
            on_reads=self._tell_reads,
            read_rounds=self.config.read_rounds,
        )
        # The model client takes ~1 s to get ready (openai's import, its HTTP client, its chat modules): make
        # it ready while the files are located and read, so the first request goes out as soon as they are.
        warm = asyncio.ensure_future(asyncio.to_thread(client.prepare))
        try:
            async for event in prepare_context(state, earlier):
                yield event
            await warm
            prompt, version = system_prompt()
            state.messages.insert(0, {"role": "system", "content": prompt})
            self.prompt_version = version
            async for event in self._converse():
                yield event
        finally:
            if not warm.done():
                warm.cancel()
            await client.close()
            if self.own_index and state.index is not None:
                state.index.close()
            for warming in state.warming:
                warming.cancel()

    # -- model turns (app/pipeline/turn.py) ------------------------------------------------------------------

    def _record(self, reply: Reply) -> None:
        assert self.client is not None
        self.session.append_message(
            "assistant",
            reply.text,
            usage=reply.usage,
            model=self.client.model,
            prompt_version=self.prompt_version,
        )

    async def _serving(self) -> ReadServing:
        state = self.state
        return ReadServing(
            state.root,
            named=state.named_explicitly,
            send_secrets=self.config.send_secrets,
            max_file_tokens=self.config.max_file_tokens,
            index=state.index,
        )

    def _tell_reads(self, served: ServedReads, _messages: list[Message]) -> list[Event]:
        from app.text.textfile import content_hash

        for path, raw in served.raw.items():
            self.state.read_hashes[path] = content_hash(raw)
            self.state.read_bytes[path] = raw
        self.state.tell_model(served.message(), stored=served.summary())
        return served.events()

    async def _stream_turn(self, first_stage: Stage) -> AsyncIterator[Event]:
        """One model call into ``self.reply``. Starts ``first_stage`` (PLAN or EDIT); a PLAN turn switches to
        EDIT at its first edit block."""
        assert self.turn is not None
        stage = first_stage
        yield self.clock.start(stage)

        def on_block(block: EditBlock, number: int) -> list[Event]:
            nonlocal stage
            events: list[Event] = []
            if stage is Stage.PLAN and block.kind != "READ":
                events.append(self.clock.finish(Stage.PLAN, "plan streamed"))
                events.append(self.clock.start(Stage.EDIT))
                stage = Stage.EDIT
            events.append(BlockCompleted(number, block.kind, block.path, block))
            if block.kind != "READ":
                warm_diagnostics(self.state, block.path)
            return events

        async for event in self.turn.stream(self.state.messages, self.reply, on_block):
            yield event
        if stage is Stage.PLAN:
            yield self.clock.finish(Stage.PLAN, "plan streamed")
            yield self.clock.start(Stage.EDIT)
        yield self.clock.finish(Stage.EDIT, f"{len(self.reply.edits)} edit block(s)")

    async def _ask(self, first_stage: Stage) -> AsyncIterator[Event]:
        """A model turn plus the READ rounds it asks for (bounded)."""
        assert self.turn is not None
        stages = iter([first_stage])

        def stream() -> AsyncIterator[Event]:
            return self._stream_turn(next(stages, Stage.PLAN))

        async for event in self.turn.ask(self.state.messages, self.reply, stream):
            yield event
        reply, rounds = self.reply, self.config.read_rounds
        if self.turn.out_of_rounds and reply.reads:
            if not reply.edits:
                raise TaskFailed(
                    f"the model still asked for files after {rounds} READ rounds and proposed "
                    "no change: name the files in the goal, or raise read_rounds in the configuration"
                )
            yield Info(f"the model asked for more files after {rounds} READ rounds; not served")

    # -- stage 7 and 8 ---------------------------------------------------------------------------------------

    async def _validate(self) -> AsyncIterator[Event]:
        """Stage 7 up to its last check; ``self.checked`` ends as (proposal, diagnostics), or None: nothing
        proposed."""
        from app.pipeline.diagnostics import diagnostic_listing, diagnostics_message, has_errors

        clock, state = self.clock, self.state
        self.checked = None
        yield clock.start(Stage.VALIDATE)
        proposal, error = validate_reply(state, self.reply)
        again = second_chance(proposal, error, self.request.require_edits)
        if again is not None:
            detail, info, message = again
            yield clock.finish(Stage.VALIDATE, detail)
            yield Info(info)
            state.tell_model(message)
            async for event in self._ask(Stage.EDIT):
                yield event
            yield clock.start(Stage.VALIDATE, "second attempt")
            proposal, error = validate_reply(state, self.reply)
            if error is not None:
                yield clock.finish(Stage.VALIDATE, "invalid")
                raise TaskFailed(f"the model's edits do not apply, nothing was written: {error}")
            if proposal is None and self.request.require_edits:
                yield clock.finish(Stage.VALIDATE, "no edit blocks")
                raise TaskFailed(NO_EDIT_TWICE)
        if proposal is None:
            return
        diagnostics: dict[str, list[Diagnostic]] = {}
        async for event in diagnose(state, proposal, diagnostics):
            yield event
        if has_errors(diagnostics) and not self.sent_back_diagnostics:
            # New errors go back to the model once, like a syntax error; its second answer is shown with
            # whatever the server still sees (or the first proposal, when the second does not apply).
            self.sent_back_diagnostics = True
            yield clock.finish(Stage.VALIDATE, "new errors: sent back to the model")
            listing = diagnostic_listing(diagnostics)
            yield Info(f"the language server sees new errors; asking the model once more: {listing}")
            state.tell_model(diagnostics_message(diagnostics))
            async for event in self._ask(Stage.EDIT):
                yield event
            yield clock.start(Stage.VALIDATE, "second attempt")
            second, error = validate_reply(state, self.reply)
            if second is None:
                why = error or "no edit blocks"
                yield Info(f"the second answer is not usable ({why}); the first proposal is shown")
            else:
                proposal, diagnostics = second, {}
                async for event in diagnose(state, proposal, diagnostics):
                    yield event
        self.checked = (proposal, diagnostics)

    async def _converse(self) -> AsyncIterator[Event]:
        from app.llm.prompts import SUGGEST_MESSAGE, revise_message

        clock, state = self.clock, self.state
        first = Stage.PLAN
        revisions = 0
        while True:
            async for event in self._ask(first):
                yield event
            first = Stage.EDIT
            # 7. Validate (an invalid answer, or in a headless run one without edits, goes back once)
            async for event in self._validate():
                yield event
            if self.checked is None:
                yield clock.finish(Stage.VALIDATE, "no edits proposed")
                yield clock.start(Stage.CONFIRM)
                yield clock.finish(Stage.CONFIRM, "nothing to apply")
                state.note("the model proposed no changes", outcome="no_change")
                yield Finished(ok=True, exit_code=0, summary="the model proposed no changes")
                return
            proposal, diagnostics = self.checked
            valid = f"{len(proposal.diffs())} file(s) valid"
            if diagnostics:
                valid += (
                    f", {sum(len(v) for v in diagnostics.values())} new problem(s) from the language server"
                )
            yield clock.finish(Stage.VALIDATE, valid)
            # 8. Confirm
            yield clock.start(Stage.CONFIRM)
            ready = DiffReady(
                diffs=proposal.diffs(),
                hunk_counts=proposal.hunk_counts(),
                proposal=proposal,
                diagnostics=diagnostics,
            )
            yield ready
            if self.request.dry_run:
                yield clock.finish(Stage.CONFIRM, "dry run: nothing applied")
                yield Rejected(reason="dry run: nothing was changed")
                state.note("dry run: proposal shown, nothing applied", outcome="not_applied")
                yield Finished(ok=True, exit_code=0, summary="dry run: nothing was changed")
                return
            yield AwaitingDecision(files=tuple(ready.diffs))
            decision = await self.decide(ready)
            if decision.kind in (DecisionKind.REVISE, DecisionKind.SUGGEST) and revisions < MAX_REVISIONS:
                revisions += 1
                yield clock.finish(Stage.CONFIRM, str(decision.kind))
                if decision.kind is DecisionKind.REVISE:
                    self.session.append_message("user", decision.feedback or "revise", kind="revise")
                    state.messages.append({"role": "user", "content": revise_message(decision.feedback)})
                else:
                    self.session.append_message("user", "suggest alternatives", kind="suggest")
                    state.messages.append({"role": "user", "content": SUGGEST_MESSAGE})
                continue
            if decision.kind in (DecisionKind.APPLY, DecisionKind.EDIT):
                for event in self._apply(proposal, decision):
                    yield event
                return
            reason = decision.feedback or "rejected"
            yield clock.finish(Stage.CONFIRM, "not applied")
            yield Rejected(reason=reason)
            state.note(f"proposal rejected: {reason}", outcome="not_applied")
            summary = reason if reason.startswith("nothing applied") else f"nothing applied: {reason}"
            yield Finished(ok=True, exit_code=0, summary=summary)
            return

    def _apply(self, proposal: Proposal, decision: Decision) -> list[Event]:
        """Apply without an await in between: a cancellation cannot land half-way."""

        def note(change: AppliedChange) -> None:
            commit = f" (commit {change.commit})" if change.commit else ""
            self.state.note(
                f"applied change {change.change_id}: {', '.join(change.files)}{commit}", outcome="applied"
            )
            self.applied = change.change_id

        change = apply_decision(
            proposal,
            decision,
            session=self.session,
            goal=self.request.goal,
            use_git=self.request.use_git,
            note=note,
        )
        return [
            self.clock.finish(Stage.CONFIRM, "applied"),
            Applied(change_id=change.change_id, files=change.files, commit=change.commit),
            *caveats(change),
            Finished(
                ok=True,
                exit_code=0,
                summary=f"applied change {change.change_id} to {len(change.files)} file(s)",
            ),
        ]


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
                build.state.note(f"build stopped after change {build.applied} was applied")
            else:
                build.state.note("build cancelled; nothing applied", outcome="cancelled")
        except Exception:  # the note is a courtesy; the cancellation must go on
            pass
        raise
    except AgentError as exc:
        message = exc.message
        if isinstance(exc, TaskFailed) and build.goal_kept:
            name = request.session.name
            message += f"; the goal is kept in session {name!r}: `ai --session {name} --continue --build ...`"
        try:
            build.state.note(f"failed: {exc.message}", outcome="failed")
        except AgentError:
            pass
        yield ErrorEvent(message=message, stage=stage, fatal=True, exit_code=exc.exit_code)
        for open_stage in reversed(open_stages):  # a face's stage bar must not stay "running"
            yield build.clock.finish(open_stage, "failed")
        yield Finished(ok=False, exit_code=exc.exit_code, summary=exc.message)
