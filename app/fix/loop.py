"""The auto-fix loop: at most ``Config.fix_attempts`` attempts, each proposed by the model, applied to a scratch
copy and verified there by the failing tests and then the whole suite. Only a verified fix is offered; the user's
tree is written only when that fix is approved (or automatic fixes are on).

``run_fix(request, decide)`` yields ``app.events`` events like the build pipeline: FixStarted, TestsRun,
FixAttempt, ProseDelta while the model streams, Usage, then DiffReady + FixVerified + AwaitingDecision and
Applied or Rejected; or FixSummary + ErrorEvent when no attempt worked; always Finished last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.errors import AgentError, TaskFailed
from app.events import (
    Applied,
    AwaitingDecision,
    Decision,
    DecisionKind,
    DiffReady,
    ErrorEvent,
    Event,
    FilesRead,
    Finished,
    FixAttempt,
    FixStarted,
    Info,
    Rejected,
)
from app.fix.offer import given_up, verified
from app.fix.parsers import ParsedError, ProjectPaths
from app.fix.prompt import AttemptRecord, fix_message
from app.fix.request import FixRequest, FixTiming
from app.fix.testrun import (
    TestOutcome,
    command_origin,
    detect_command,
    failure_id,
    run_tests,
    targeted_command,
    test_run_line,
)
from app.fix.verdicts import (
    PYTEST_NO_TESTS,
    anonymous_failure,
    cannot_run,
    error_digest,
    judge_focused,
    judge_suite,
    tests_event,
)
from app.llm.client import import_model_library
from app.pipeline.apply import AppliedChange, apply_decision
from app.pipeline.build import Decider
from app.pipeline.turn import Message, ModelTurn, ReadServing, Reply, ServedReads

if TYPE_CHECKING:
    from app.edits.proposal import Proposal
    from app.fix.scratch import ScratchCopy
    from app.llm.client import ModelClient

NO_COMMAND = "no test command configured or detected: set test_cmd in .ai-agent.toml or pass --test-cmd"


class _Fix:
    def __init__(self, request: FixRequest, decide: Decider) -> None:
        self.request = request
        self.decide = decide
        self.session = request.session
        self.config = request.config
        self.root = request.root.resolve()
        self.client: ModelClient | None = None
        self.scratch: ScratchCopy | None = None
        self.timing = FixTiming()
        self.attempts: list[AttemptRecord] = []
        self.max_attempts = max(1, request.config.fix_attempts)
        self.again = False
        self.warming: asyncio.Future[None] | None = None
        self.copying: asyncio.Future[ScratchCopy] | None = None
        self.origin = ""  # where the test command comes from (testrun's ``command_origin``)

    def note(self, text: str, **extra: Any) -> None:
        self.session.append_message("event", text, **extra)

    # -- the run ----------------------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Event]:
        from app.fix.scratch import ScratchCopy

        given = self.request.test_cmd or self.config.test_cmd
        command = detect_command(self.root, given)
        if command is None:
            raise TaskFailed(
                NO_COMMAND
                if not self.request.errors
                else NO_COMMAND.replace("no test command", "no test command to verify a fix with")
            )
        # The project's code runs now (its tests, in the copy): the user asked for it, and is told what runs.
        origin = await asyncio.to_thread(
            command_origin,
            command,
            self.root,
            given,
            self.config.test_cmd,
            self.config.sources.get("test_cmd"),
        )
        self.origin = origin
        yield Info(test_run_line(command, self.root, origin))
        began = time.monotonic()
        if self.config.has_model:
            # The model client's library takes ~0.4 s to import: do it while the copy is made and tests run.
            self.warming = asyncio.ensure_future(asyncio.to_thread(import_model_library))
        copying = asyncio.ensure_future(
            asyncio.to_thread(ScratchCopy.create, self.root, parent=self.request.scratch_parent)
        )
        self.copying = copying
        scratch_seconds = 0.0
        if self.request.baseline is None:
            # The baseline runs in the copy: wait for it. With a baseline (the test watcher's run) nothing needs
            # the copy before the model has answered, so it is made while the model is asked.
            self.scratch = await copying
            scratch_seconds = time.monotonic() - began
        try:
            async for event in self._run(command, scratch_seconds):
                yield event
        finally:
            # Removed without an await first: a cancelled run must not leave the copy behind in memory.
            if copying.done():
                if not copying.cancelled() and copying.exception() is None:
                    copying.result().close()
            else:
                copying.add_done_callback(_close_when_made)
            if self.client is not None:
                await self.client.close()

    async def _scratch_ready(self) -> ScratchCopy:
        """The scratch copy, waiting for it when it is still being made."""
        if self.scratch is None:
            assert self.copying is not None  # started by run() before anything asks
            self.scratch = await self.copying
        return self.scratch

    async def _run(self, command: str, scratch_seconds: float) -> AsyncIterator[Event]:
        baseline = self.request.baseline
        if baseline is None:
            baseline = await self._tests(command, "baseline", 0)
            stop = cannot_run(baseline)
            if stop is not None:
                # No run at all (no such command, a timeout, a runner that cannot start): the error says so; a
                # baseline line would call it a failing test.
                raise TaskFailed(stop)
            yield tests_event(baseline, "baseline", 0, set(), set())
        self.timing.seen = self.request.failure_seen_at or time.monotonic()
        stop = cannot_run(baseline)
        if stop is not None:
            raise TaskFailed(stop)
        if baseline.exit_code == PYTEST_NO_TESTS and "pytest" in command and not self.request.errors:
            yield Finished(
                ok=True, exit_code=0, summary=f"no tests were collected by {command}: nothing to fix"
            )
            return
        self.timing.tests = 0.0
        targets = list(self.request.errors or baseline.errors)
        if not targets and not baseline.ok:
            targets = [anonymous_failure(baseline)]
        if not targets:
            self.note("fix: the tests pass, nothing to fix", kind="fix_nothing")
            yield Finished(ok=True, exit_code=0, summary=f"tests pass ({command}): nothing to fix")
            return
        baseline_ids = baseline.failure_ids()
        target_ids = {failure_id(e) for e in targets} & baseline_ids if not baseline.ok else set()
        if self.request.errors and not target_ids:
            if any(e.test_id for e in self.request.errors):
                # Failing tests that pass in the copy (fixed meanwhile, or flaky): nothing to fix now.
                self.note("fix: the failing tests pass now, nothing to fix", kind="fix_nothing")
                yield Finished(ok=True, exit_code=0, summary="the failing tests pass now: nothing to fix")
                return
            yield Info(
                "the failure cannot be re-run by the test command (it came from "
                f"{self.request.trigger}): a fix is verified by the suite not getting worse"
            )
        summary = targets[0].summary()
        self.session.append_message(
            "user",
            f"fix: {summary}",
            kind="fix",
            trigger=self.request.trigger,
            fix_errors=[error_digest(e) for e in targets[:10]],
        )
        yield FixStarted(
            errors=tuple(e.summary() for e in targets),
            command=command,
            attempts=self.max_attempts,
            trigger=self.request.trigger,
            scratch_seconds=round(scratch_seconds, 3),
        )
        from app.llm.client import ModelClient

        self.client = ModelClient(self.config)
        if self.warming is not None:
            await self.warming
        narrowed = targeted_command(command, [e for e in targets if failure_id(e) in target_ids])
        number = 0
        while number < self.max_attempts:
            number += 1
            record = AttemptRecord(number)
            self.attempts.append(record)
            async for event in self._attempt(record, command, narrowed, targets, baseline_ids, target_ids):
                yield event
            if record.outcome != "verified":
                await asyncio.to_thread((await self._scratch_ready()).reset)
                continue
            async for event in self._offer(record, targets, summary):
                yield event
            if not self.again:
                return
        async for event in self._give_up(summary):
            yield event

    # -- one attempt ------------------------------------------------------------------------------------------------

    async def _attempt(
        self,
        record: AttemptRecord,
        command: str,
        narrowed: str | None,
        targets: list[ParsedError],
        baseline_ids: set[str],
        target_ids: set[str],
    ) -> AsyncIterator[Event]:
        from app.edits import build_proposal
        from app.errors import EditError, RefusedError
        from app.llm.prompts import system_prompt

        started = time.monotonic()
        n, of = record.number, self.max_attempts
        yield FixAttempt(n, of, "started")
        # Until the copy is made it is the user's tree as it is now: the prompt reads the same files. The bytes
        # shown are kept: the user may save again before the copy has that file (or after), and the model's
        # blocks belong to what it saw.
        shown: dict[str, bytes] = {}
        text, sent, left_out = await asyncio.to_thread(
            fix_message,
            self.scratch.root if self.scratch is not None else self.root,
            targets,
            command,
            self.session.changes(),
            self.attempts[:-1],
            self.config.context_tokens,
            self.config.send_secrets,
            shown,
            self.origin,
        )
        if record.number == 1:
            yield FilesRead(paths=tuple(sent), reason="in the failure's stack")
            for line in left_out:
                yield Info(f"not sent: {line}")
        prompt, _version = system_prompt()
        messages = [{"role": "system", "content": prompt}, {"role": "user", "content": text}]
        reply = Reply()
        turn = self._turn(record, shown)
        async for event in turn.ask(
            messages, reply, lambda: self._timed(turn.stream(messages, reply), record)
        ):
            yield event
        edits = reply.edits
        if reply.parse_error or not edits:
            record.outcome = "invalid" if reply.parse_error else "no_edit"
            record.reason = reply.parse_error or "the model proposed no change"
        else:
            scratch = await self._scratch_ready()
            try:
                # Made on the text the model was shown, carried onto the copy (the hunk placement rule).
                record.proposal = await asyncio.to_thread(build_proposal, scratch.root, edits, read=shown)
            except (EditError, RefusedError) as exc:
                record.outcome, record.reason = "invalid", exc.message
        if record.outcome in ("invalid", "no_edit"):
            self.note(record.line(), kind="fix_attempt", outcome=record.outcome, attempt=n)
            yield FixAttempt(
                n,
                of,
                record.outcome,
                record.reason,
                seconds=round(time.monotonic() - started, 3),
                model_seconds=round(record.model_seconds, 3),
            )
            return
        proposal = record.proposal
        record.files = [c.path for c in proposal.files]
        record.diff = proposal.diff_text()
        await asyncio.to_thread((await self._scratch_ready()).apply, proposal)
        # The failing tests first (quick to fail), then the whole suite.
        if narrowed:
            focused = await self._tests(narrowed, "failing", n)
            still = judge_focused(record, focused, target_ids)
            yield tests_event(focused, "failing", n, still, set())
        if record.outcome == "started":
            suite = await self._tests(command, "suite", n)
            still, new = judge_suite(record, suite, target_ids, baseline_ids)
            yield tests_event(suite, "suite", n, still, new)
        self.note(record.line(), kind="fix_attempt", outcome=record.outcome, attempt=n, files=record.files)
        yield FixAttempt(
            n,
            of,
            record.outcome,
            record.reason,
            files=tuple(record.files),
            diff=record.diff,
            seconds=round(time.monotonic() - started, 3),
            model_seconds=round(record.model_seconds, 3),
        )

    def _turn(self, record: AttemptRecord, shown: dict[str, bytes]) -> ModelTurn:
        """The attempt's model turns (app/pipeline/turn.py): READ blocks are served from the scratch copy
        through the guarded reader, as the build serves them; no goal names files here, so a secrets file goes
        only with ``send_secrets``. ``shown`` receives the bytes of every file served."""
        assert self.client is not None  # made before the first attempt

        def record_reply(reply: Reply) -> None:
            self.session.append_message(
                "assistant", reply.text, usage=reply.usage, kind="fix_reply", attempt=record.number
            )

        async def serving() -> ReadServing:
            return ReadServing((await self._scratch_ready()).root, send_secrets=self.config.send_secrets)

        def tell(served: ServedReads, messages: list[Message]) -> list[Event]:
            shown.update(served.raw)
            messages.append({"role": "user", "content": served.message()})
            return []

        return ModelTurn(
            self.client,
            record=record_reply,
            serving=serving,
            on_reads=tell,
            read_rounds=self.config.read_rounds,
        )

    async def _timed(self, events: AsyncIterator[Event], record: AttemptRecord) -> AsyncIterator[Event]:
        """A model call's events, its time counted for the attempt and the whole fix."""
        began = time.monotonic()
        try:
            async for event in events:
                yield event
        finally:
            spent = time.monotonic() - began
            record.model_seconds += spent
            self.timing.model += spent

    async def _tests(self, command: str, scope: str, attempt: int) -> TestOutcome:
        scratch = await self._scratch_ready()  # made before any run: the baseline waits for it
        began = time.monotonic()
        outcome = await run_tests(
            command,
            scratch.root,
            env=scratch.env(),
            timeout=self.request.test_timeout,
            paths=ProjectPaths(scratch.root, also=(self.root,)),
        )
        if scope != "baseline":
            self.timing.tests += time.monotonic() - began
        return outcome

    # -- the offer --------------------------------------------------------------------------------------------------

    async def _offer(
        self, record: AttemptRecord, targets: list[ParsedError], summary: str
    ) -> AsyncIterator[Event]:
        """Offer the verified fix: the diff, the evidence, then the user's decision (or automatic apply). Sets
        ``self.again`` when the user asked for another fix and attempts remain."""
        self.again = False
        proposal = replace(record.proposal, root=self.root)
        ready = DiffReady(diffs=proposal.diffs(), hunk_counts=proposal.hunk_counts(), proposal=proposal)
        yield ready
        yield verified(record, targets, self.timing)
        goal = f"fix: {summary}"
        if self.request.dry_run:
            self.note(
                f"fix verified (attempt {record.number}); dry run: nothing applied", kind="fix_verified"
            )
            yield Rejected(reason="dry run: nothing was changed")
            yield Finished(
                ok=True, exit_code=0, summary="dry run: a verified fix was shown, nothing was changed"
            )
            return
        auto = self.config.auto_fix if self.request.auto_apply is None else self.request.auto_apply
        if not auto and self.request.show_only:
            # Nobody said no: not a rejection (``ai --suggest`` counts those), only not applied yet.
            self.note(
                f"fix verified (attempt {record.number}); not applied: {self.request.show_only}",
                kind="fix_verified",
            )
            yield Rejected(reason=self.request.show_only)
            yield Finished(ok=True, exit_code=0, summary=f"nothing applied: {self.request.show_only}")
            return
        if auto:
            decision = Decision(DecisionKind.APPLY)
        else:
            yield AwaitingDecision(files=tuple(ready.diffs))
            decision = await self.decide(ready)
        if decision.kind in (DecisionKind.APPLY, DecisionKind.EDIT):
            for event in self._apply(proposal, decision, goal):
                yield event
            return
        if decision.kind in (DecisionKind.REVISE, DecisionKind.SUGGEST) and record.number < self.max_attempts:
            record.outcome = "revise"
            record.reason = "the user asked for another fix: " + (decision.feedback or "a different approach")
            self.session.append_message("user", record.reason, kind="fix_revise")
            await asyncio.to_thread((await self._scratch_ready()).reset)
            self.again = True
            return
        reason = decision.feedback or "rejected"
        self.note(f"fix rejected: {reason}", kind="fix_rejected", files=record.files, goal=goal)
        yield Rejected(reason=reason)
        yield Finished(ok=True, exit_code=0, summary=f"nothing applied: {reason}")

    def _apply(self, proposal: Proposal, decision: Decision, goal: str) -> list[Event]:
        def note(change: AppliedChange) -> None:
            self.note(
                f"fix applied as change {change.change_id}: {', '.join(change.files)}",
                kind="fix_applied",
                files=list(change.files),
            )

        change = apply_decision(
            proposal, decision, session=self.session, goal=goal, use_git=self.request.use_git, note=note
        )
        summary = f"applied a verified fix ({change.change_id}) to {len(change.files)} file(s)"
        return [
            Applied(change_id=change.change_id, files=change.files, commit=change.commit),
            Finished(ok=True, exit_code=0, summary=summary),
        ]

    async def _give_up(self, summary: str) -> AsyncIterator[Event]:
        self.note(
            f"fix failed after {len(self.attempts)} attempt(s): {summary}",
            kind="fix_failed",
            files=sorted({f for a in self.attempts for f in a.files}),
        )
        for event in given_up(self.attempts):
            yield event


def _close_when_made(copying: asyncio.Future[Any]) -> None:
    """A copy finished after its fix run ended (cancelled while copying): remove it at once."""
    if not copying.cancelled() and copying.exception() is None:
        copying.result().close()


async def run_fix(request: FixRequest, decide: Decider) -> AsyncIterator[Event]:
    """The fix loop. Failures end as ErrorEvent(fatal) + Finished(ok=False, exit_code), never an exception
    (except cancellation, which propagates after the scratch copy is removed; the user's tree is untouched)."""
    fix = _Fix(request, decide)
    try:
        async for event in fix.run():
            yield event
    except AgentError as exc:
        try:
            fix.note(f"fix failed: {exc.message}", kind="fix_error")
        except AgentError:
            pass
        yield ErrorEvent(message=exc.message, fatal=True, exit_code=exc.exit_code)
        yield Finished(ok=False, exit_code=exc.exit_code, summary=exc.message)
