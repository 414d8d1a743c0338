"""The workspace's panes: the widgets of widgets/ taught to show the pipeline's events, each through its own
``show_event``, in the words of app/tui/texts.py. The widgets stay generic (they render and post messages);
what an event means for a pane lives here, beside the screen that routes the events (app/tui/main_screen.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from app.tui import texts
from widgets.chat_view import ChatView
from widgets.diff_preview import DiffPreview
from widgets.event_log import EventLog
from widgets.stage_progress import StageProgress

if TYPE_CHECKING:
    from app.events import Diagnostic, Event


def diagnostic_lines(diagnostics: dict[str, list[Diagnostic]]) -> list[str]:
    """The language server's new errors in a proposal (stage 7), one line each."""
    return [
        texts.DIAGNOSTIC.format(path=d.path, line=d.line, severity=d.severity, message=d.message)
        for found in diagnostics.values()
        for d in found
    ]


class ChatPane(ChatView):
    """The conversation."""

    async def show_event(self, event: Event) -> None:
        """What the conversation shows of one build or fix event: the streamed reply and its notes."""
        from app.events import (
            Applied,
            DiffReady,
            ErrorEvent,
            FilesRead,
            Finished,
            FixStarted,
            FixSummary,
            FixVerified,
            ProseDelta,
            Rejected,
            Retrying,
            Usage,
        )

        if isinstance(event, ProseDelta):
            await self.stream_prose(event.text)
        elif isinstance(event, FixStarted):
            trigger = f" ({event.trigger})" if event.trigger else ""
            note = texts.FIX_STARTED_NOTE.format(trigger=trigger, errors="; ".join(event.errors[:3]))
            await self.add_note(note, "files")
        elif isinstance(event, FixVerified):
            note = texts.FIX_VERIFIED_NOTE.format(attempt=event.attempt, evidence="; ".join(event.evidence))
            await self.add_note(note, "applied")
        elif isinstance(event, FixSummary):
            attempts = "\n".join(f"  {line}" for line in event.attempts)
            await self.add_note(texts.FIX_FAILED_NOTE.format(lines=attempts), "error")
        elif isinstance(event, FilesRead):
            partial = texts.FILES_READ_PARTLY.format(paths=", ".join(event.partial)) if event.partial else ""
            paths = ", ".join(event.paths) or texts.NO_FILES
            await self.add_note(texts.FILES_READ.format(paths=paths, partial=partial), "files")
        elif isinstance(event, DiffReady):
            await self.end_reply()
            lines = diagnostic_lines(event.diagnostics)
            if lines:
                await self.add_note(texts.DIAGNOSTICS_NOTE.format(lines="\n  ".join(lines[:8])), "error")
        elif isinstance(event, Applied):
            commit = texts.COMMIT.format(short=event.commit[:8]) if event.commit else ""
            await self.add_note(
                texts.APPLIED_NOTE.format(files=", ".join(event.files), commit=commit), "applied"
            )
        elif isinstance(event, Rejected):
            # The plain "rejected" of a decision without feedback is the note itself, not its reason.
            reason = ": " + event.reason if event.reason and event.reason != "rejected" else ""
            await self.add_note(texts.REJECTED_NOTE.format(reason=reason), "rejected")
        elif isinstance(event, Usage | Finished):
            await self.end_reply()
        elif isinstance(event, Retrying):
            # The call starts over: what streamed so far is not the answer.
            await self.discard_reply()
        elif isinstance(event, ErrorEvent):
            await self.add_note(texts.ERROR_NOTE.format(message=event.message), "error")


class FeedPane(EventLog):
    """The event feed and live error feed."""

    def show_event(self, event: Event) -> None:
        """What the feed says of one build or fix event (a build's outcome summary is the screen's to say)."""
        from app.events import (
            Applied,
            ContextReady,
            DiffReady,
            ErrorEvent,
            FixAttempt,
            FixStarted,
            Info,
            Retrying,
            StageFinished,
            TestsRun,
            Waiting,
        )

        if isinstance(event, FixStarted):
            trigger = f" ({event.trigger})" if event.trigger else ""
            self.add(
                texts.FIX_STARTED_LINE.format(
                    trigger=trigger, count=len(event.errors), attempts=event.attempts
                )
            )
        elif isinstance(event, TestsRun):
            outcome = "pass" if event.ok else f"fail ({len(event.failing)})"
            new = f", {len(event.new_failures)} new" if event.new_failures else ""
            line = texts.FIX_TESTS_LINE.format(
                scope=event.scope, attempt=event.attempt, outcome=outcome, new=new, seconds=event.seconds
            )
            self.add(line, "ok" if event.ok else "warning")
        elif isinstance(event, FixAttempt):
            word = texts.ATTEMPT_WORDS.get(event.outcome, event.outcome)
            reason = f": {event.reason}" if event.reason else ""
            level = (
                "ok" if event.outcome == "verified" else ("info" if event.outcome == "started" else "warning")
            )
            self.add(
                texts.FIX_ATTEMPT_LINE.format(
                    number=event.number, attempts=event.attempts, word=word, reason=reason
                ),
                level,
            )
        elif isinstance(event, StageFinished):
            if event.detail:
                self.add(texts.STAGE_DETAIL.format(stage=event.stage.label, detail=event.detail))
        elif isinstance(event, DiffReady):
            for line in diagnostic_lines(event.diagnostics):
                self.add(texts.DIAGNOSTIC_LINE.format(line=line), "warning")
        elif isinstance(event, Applied):
            commit = texts.COMMIT.format(short=event.commit[:8]) if event.commit else ""
            self.add(
                texts.APPLIED_LINE.format(change=event.change_id, count=len(event.files), commit=commit), "ok"
            )
        elif isinstance(event, Info):
            self.add(event.message)
        elif isinstance(event, ContextReady):
            dropped = texts.CONTEXT_DROPPED.format(paths=", ".join(event.dropped)) if event.dropped else ""
            self.add(texts.CONTEXT_LINE.format(tokens=event.tokens, count=len(event.files), dropped=dropped))
        elif isinstance(event, Retrying):
            line = texts.RETRY_LINE.format(
                reason=event.reason, next=event.attempt + 1, attempts=event.attempts, delay=event.delay
            )
            self.add(line, "warning")
        elif isinstance(event, Waiting):
            if event.waited > 0 and not event.over:  # a wait that lasts: said once in the feed too
                line = texts.WAIT_LINE.format(
                    label=event.label,
                    waited=event.waited,
                    limit=event.limit,
                    attempt=event.attempt,
                    attempts=event.attempts,
                )
                self.add(line)
        elif isinstance(event, ErrorEvent):
            self.add(event.message, "error")


class DiffPane(DiffPreview):
    """The live diff."""

    BINDINGS = [Binding("c", "screen.copy_diff", texts.KEYS["copy-diff"], id="copy-diff")]

    async def show_event(self, event: Event) -> None:
        """The blocks as they complete, the proposal's diff, and what became of it."""
        from app.events import Applied, BlockCompleted, DiffReady, FixSummary, Rejected, Retrying

        if isinstance(event, BlockCompleted):
            await self.show_pending_block(event.index, event.block_kind, event.path)
        elif isinstance(event, DiffReady):
            await self.show_diffs(event.diffs)
        elif isinstance(event, Applied):
            await self.clear(texts.DIFF_APPLIED)
        elif isinstance(event, Rejected):
            await self.clear(texts.DIFF_REJECTED)
        elif isinstance(event, Retrying):
            await self.clear(texts.WAITING_FOR_MODEL)
        elif isinstance(event, FixSummary) and event.diff:
            await self.show_diffs({texts.CLOSEST_ATTEMPT: event.diff})


class StagesPane(StageProgress):
    """The stage bar."""

    def show_event(self, event: Event) -> None:
        """A stage that starts or ends, or the run's fatal error."""
        from app.events import ErrorEvent, StageFinished, StageStarted

        if isinstance(event, StageStarted):
            self.start(event.stage)
        elif isinstance(event, StageFinished):
            self.finish(event.stage)
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.fail(event.stage)
