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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.config import Config
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
    FixSummary,
    FixVerified,
    Info,
    ProseDelta,
    Rejected,
    Retrying,
    TestsRun,
    Usage,
    Waiting,
)
from app.fix.parsers import ParsedError, ProjectPaths
from app.fix.prompt import AttemptRecord, fix_message, is_test_file
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
    plain_failure,
    still_reason,
)
from app.session.store import Session

Decider = Callable[[DiffReady], Awaitable[Decision]]
NO_COMMAND = "no test command configured or detected: set test_cmd in .ai-agent.toml or pass --test-cmd"


@dataclass
class FixRequest:
    """What to fix and how. ``errors`` is the failure when the caller already knows it (the test watcher, the
    log tailer, a build's test run); without it the test command runs first and its failures are the target.
    ``baseline`` is a run the caller already made of the whole suite (its failures are not "new"), saving one
    run; ``failure_seen_at`` (``time.monotonic()``) is when the failure appeared, for the timing figures."""

    root: Path
    session: Session
    config: Config
    errors: list[ParsedError] | None = None
    test_cmd: str | None = None
    trigger: str = "ai --fix"
    dry_run: bool = False
    auto_apply: bool | None = None  # None: Config.auto_fix
    use_git: bool = True
    baseline: TestOutcome | None = None
    failure_seen_at: float | None = None
    scratch_parent: Path | None = None
    test_timeout: float = 900.0
    # Headless without --yes: a verified fix is shown, neither applied nor rejected; this line says how to
    # apply it (None: ask ``decide``).
    show_only: str | None = None


@dataclass
class _Timing:
    seen: float = 0.0
    model: float = 0.0
    tests: float = 0.0


@dataclass
class _Reply:
    text: str = ""
    items: list[Any] = field(default_factory=list)
    parse_error: str | None = None


class _Fix:
    def __init__(self, request: FixRequest, decide: Decider) -> None:
        self.request = request
        self.decide = decide
        self.session = request.session
        self.config = request.config
        self.root = request.root.resolve()
        self.client: Any = None
        self.scratch: Any = None
        self.timing = _Timing()
        self.attempts: list[AttemptRecord] = []
        self.max_attempts = max(1, request.config.fix_attempts)
        self.again = False
        self.warming: asyncio.Future[None] | None = None
        self.copying: asyncio.Future[Any] | None = None

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
        yield Info(test_run_line(command, self.root, origin))
        began = time.monotonic()
        if self.config.has_model:
            # The model client's library takes ~0.4 s to import: do it while the copy is made and tests run.
            self.warming = asyncio.ensure_future(asyncio.to_thread(_import_model_library))
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

    async def _scratch_ready(self) -> Any:
        """The scratch copy, waiting for it when it is still being made."""
        if self.scratch is None:
            assert self.copying is not None  # started by run() before anything asks
            self.scratch = await self.copying
        return self.scratch

    async def _run(self, command: str, scratch_seconds: float) -> AsyncIterator[Event]:
        baseline = self.request.baseline
        if baseline is None:
            baseline = await self._tests(command, "baseline", 0)
            yield self._tests_event(baseline, "baseline", 0, set(), set())
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
        )
        if record.number == 1:
            yield FilesRead(paths=tuple(sent), reason="in the failure's stack")
            for line in left_out:
                yield Info(f"not sent: {line}")
        prompt, _version = system_prompt()
        messages = [{"role": "system", "content": prompt}, {"role": "user", "content": text}]
        reply = _Reply()
        async for event in self._ask(messages, reply, record, shown):
            yield event
        edits = [item for item in reply.items if getattr(item, "kind", None) not in (None, "READ")]
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
        await asyncio.to_thread(self.scratch.apply, proposal)
        # The failing tests first (quick to fail), then the whole suite.
        if narrowed:
            focused = await self._tests(narrowed, "failing", n)
            still = focused.failure_ids() & target_ids if not focused.ok else set()
            if not focused.ok and not still:
                still = {"the failing tests"}  # the narrowed run failed without naming them: not fixed
            yield self._tests_event(focused, "failing", n, still, set())
            if still:
                record.outcome, record.reason = "still_failing", still_reason(still)
                record.output_tail = focused.tail()
                record.fixed = len(target_ids - still)
        if record.outcome == "started":
            suite = await self._tests(command, "suite", n)
            after = suite.failure_ids() if not suite.ok else set()
            still = after & target_ids
            new = after - baseline_ids
            if not target_ids and not suite.ok and after == baseline_ids:
                # Nothing checkable was targeted and the suite still fails as before: not better.
                still = after
            yield self._tests_event(suite, "suite", n, still, new)
            record.fixed = len(target_ids - still)
            record.new_failures = len(new)
            record.output_tail = suite.tail() if (still or new) else ""
            if still:
                record.outcome, record.reason = "still_failing", still_reason(still)
            elif new:
                record.outcome = "new_failures"
                record.reason = "the fix breaks " + ", ".join(sorted(plain_failure(i) for i in new)[:5])
            else:
                record.outcome = "verified"
                record.reason = f"{suite.describe()} after the fix"
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

    async def _ask(
        self, messages: list[dict[str, str]], reply: _Reply, record: AttemptRecord, shown: dict[str, bytes]
    ) -> AsyncIterator[Event]:
        """One model turn plus the READ rounds it asks for (served from the scratch copy)."""
        for round_number in range(self.config.read_rounds + 1):
            async for event in self._stream(messages, reply, record):
                yield event
            reads = [i for i in reply.items if getattr(i, "kind", None) == "READ"]
            if not reads or reply.parse_error or round_number == self.config.read_rounds:
                return
            await self._scratch_ready()
            messages.append({"role": "assistant", "content": reply.text})
            messages.append({"role": "user", "content": self._serve_reads(reads, shown)})
            reply.items, reply.text = [], ""

    async def _stream(
        self, messages: list[dict[str, str]], reply: _Reply, record: AttemptRecord
    ) -> AsyncIterator[Event]:
        from app.llm.blocks import BlockParseError, BlockParser, Prose
        from app.llm.client import Retrying as ClientRetrying
        from app.llm.client import StreamDone, TextDelta
        from app.llm.client import Waiting as ClientWaiting

        parser = BlockParser()
        began = time.monotonic()
        usage: dict[str, int] | None = None
        try:
            async for piece in self.client.stream(messages):
                if isinstance(piece, ClientWaiting):
                    yield Waiting(
                        piece.what, piece.waited, piece.limit, piece.attempt, piece.attempts, piece.over
                    )
                elif isinstance(piece, ClientRetrying):
                    parser, reply.items, reply.parse_error = BlockParser(), [], None
                    yield Retrying(
                        piece.attempt, piece.attempts, piece.delay, piece.reason, piece.short, piece.what
                    )
                elif isinstance(piece, TextDelta) and reply.parse_error is None:
                    try:
                        for item in parser.feed(piece.text):
                            reply.items.append(item)
                            if isinstance(item, Prose) and item.text:
                                yield ProseDelta(item.text)
                    except BlockParseError as exc:
                        reply.parse_error = exc.message
                elif isinstance(piece, StreamDone):
                    reply.text, usage = piece.text, piece.usage
        finally:
            spent = time.monotonic() - began
            record.model_seconds += spent
            self.timing.model += spent
        if reply.parse_error is None:
            try:
                for item in parser.finish():
                    reply.items.append(item)
                    if isinstance(item, Prose) and item.text:
                        yield ProseDelta(item.text)
            except BlockParseError as exc:
                reply.parse_error = exc.message
        self.session.append_message(
            "assistant", reply.text, usage=usage, kind="fix_reply", attempt=record.number
        )
        if usage is not None:
            yield Usage(
                usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), usage.get("total_tokens", 0)
            )

    def _serve_reads(self, reads: list[Any], shown: dict[str, bytes]) -> str:
        """The files asked for, from the scratch copy, through the guarded reader (as the build serves them): no
        goal names files here, so a secrets file goes only with ``send_secrets``. ``shown`` receives their bytes."""
        from app.llm.prompts import FileContext, read_reply_message
        from app.pipeline.reader import ReadRefused, read_for_model

        served: list[FileContext] = []
        refused: list[str] = []
        for block in reads:
            try:
                read = read_for_model(self.scratch.root, block.path, send_secrets=self.config.send_secrets)
            except ReadRefused as exc:
                refused.append(f"{exc.path}: {exc.reason}")
                continue
            shown[read.real_path] = read.raw
            served.append(FileContext(path=read.path, content=read.text, reason="asked with READ", rank=5))
        return read_reply_message(served, refused)

    async def _tests(self, command: str, scope: str, attempt: int) -> TestOutcome:
        began = time.monotonic()
        outcome = await run_tests(
            command,
            self.scratch.root,
            env=self.scratch.env(),
            timeout=self.request.test_timeout,
            paths=ProjectPaths(self.scratch.root, also=(self.root,)),
        )
        if scope != "baseline":
            self.timing.tests += time.monotonic() - began
        return outcome

    def _tests_event(
        self, outcome: TestOutcome, scope: str, attempt: int, still: set[str], new: set[str]
    ) -> TestsRun:
        return TestsRun(
            scope=scope,
            command=outcome.command,
            ok=outcome.ok,
            attempt=attempt,
            failing=tuple(sorted(plain_failure(i) for i in outcome.failure_ids())) if not outcome.ok else (),
            still_failing=tuple(sorted(plain_failure(i) for i in still)),
            new_failures=tuple(sorted(plain_failure(i) for i in new)),
            passed=outcome.passed,
            seconds=outcome.seconds,
        )

    # -- the offer --------------------------------------------------------------------------------------------------

    async def _offer(
        self, record: AttemptRecord, targets: list[ParsedError], summary: str
    ) -> AsyncIterator[Event]:
        """Offer the verified fix: the diff, the evidence, then the user's decision (or automatic apply). Sets
        ``self.again`` when the user asked for another fix and attempts remain."""
        self.again = False
        proposal = replace(record.proposal, root=self.root)
        targeted = ", ".join(e.test_id or e.location or e.kind for e in targets[:5])
        evidence: tuple[str, ...] = (f"{len(targets)} failure(s) targeted: {targeted}", record.reason)
        tests_changed = [f for f in record.files if is_test_file(f)]
        if tests_changed:
            # A fix that edits the tests may pass by weakening them: the user should look twice.
            evidence += (
                f"note: this fix changes test file(s) {', '.join(tests_changed)}; check what they test",
            )
        ready = DiffReady(diffs=proposal.diffs(), hunk_counts=proposal.hunk_counts(), proposal=proposal)
        yield ready
        yield FixVerified(
            attempt=record.number,
            files=tuple(record.files),
            evidence=evidence,
            seconds=round(time.monotonic() - self.timing.seen, 3),
            model_seconds=round(self.timing.model, 3),
            test_seconds=round(self.timing.tests, 3),
        )
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
            await asyncio.to_thread(self.scratch.reset)
            self.again = True
            return
        reason = decision.feedback or "rejected"
        self.note(f"fix rejected: {reason}", kind="fix_rejected", files=record.files, goal=goal)
        yield Rejected(reason=reason)
        yield Finished(ok=True, exit_code=0, summary=f"nothing applied: {reason}")

    def _apply(self, proposal: Any, decision: Decision, goal: str) -> list[Event]:
        from app.edits import apply_proposal

        if decision.kind is DecisionKind.EDIT and decision.edited:
            proposal = proposal.with_edited(decision.edited)
        elif decision.hunks is not None:
            proposal = proposal.select(decision.hunks)
        record = apply_proposal(proposal, session=self.session, goal=goal, use_git=self.request.use_git)
        files = tuple(str(f) for f in record.get("files", ()))
        change_id = str(record.get("id", ""))
        commit = record.get("commit")
        self.note(
            f"fix applied as change {change_id}: {', '.join(files)}", kind="fix_applied", files=list(files)
        )
        return [
            Applied(change_id=change_id, files=files, commit=commit),
            Finished(
                ok=True, exit_code=0, summary=f"applied a verified fix ({change_id}) to {len(files)} file(s)"
            ),
        ]

    async def _give_up(self, summary: str) -> AsyncIterator[Event]:
        ranked = [a for a in self.attempts if a.diff]
        closest = max(ranked, key=lambda a: (a.fixed - a.new_failures, -a.number), default=None)
        lines = tuple(a.line() for a in self.attempts)
        self.note(
            f"fix failed after {len(self.attempts)} attempt(s): {summary}",
            kind="fix_failed",
            files=sorted({f for a in self.attempts for f in a.files}),
        )
        yield FixSummary(
            attempts=lines, closest=closest.number if closest else 0, diff=closest.diff if closest else ""
        )
        message = (
            f"no fix made the tests pass after {len(self.attempts)} attempt(s); your files were not changed"
        )
        yield ErrorEvent(message=message, fatal=True, exit_code=1)
        yield Finished(ok=False, exit_code=1, summary=message)


def _close_when_made(copying: asyncio.Future[Any]) -> None:
    """A copy finished after its fix run ended (cancelled while copying): remove it at once."""
    if not copying.cancelled() and copying.exception() is None:
        copying.result().close()


def _import_model_library() -> None:
    try:
        import openai  # noqa: F401
    except ImportError:  # the client says so itself when it is used
        pass


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
