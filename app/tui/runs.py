"""One build or fix run of the workspace: start it, keep its state, take the user's decision, end it.

``RunDesk`` is a collaborator of the main screen, reaching it through app/tui/host.py's ``Host``. The pipeline
runs on a worker thread through ``BuildBridge``; its events come back to the screen, which routes them to the
panes and then hands each to ``after_event`` for the run's own state (the stage, the tokens, the outcome).
"""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING

from app.tui import texts

if TYPE_CHECKING:
    from app.events import Decision, DecisionKind, DiffReady, Event
    from app.tui.build_bridge import BuildBridge, Run
    from app.tui.fixes import FixDesk
    from app.tui.host import RunHost
    from app.tui.messages import BuildEnded, DecisionWanted
    from widgets.approval import ApprovalScreen


def proposed_contents(diff: DiffReady) -> dict[str, str]:
    """The full proposed text of each changed file (what `e` opens), from the edit engine's proposal."""
    files = getattr(diff.proposal, "files", None) or []
    return {change.path: change.new_text for change in files if change.new_text is not None}


class RunDesk:
    def __init__(self, host: RunHost, fixes: FixDesk, with_history: bool) -> None:
        self.host = host
        self.fixes = fixes  # told what the user applies, for the tests-after-change rule
        # --continue, or a follow-up after a first goal here: the model sees the session's conversation.
        self.with_history = with_history
        self.bridge: BuildBridge | None = None
        self._answer: concurrent.futures.Future[Decision] | None = None
        self._approval: ApprovalScreen | None = None
        self._last_decision: DecisionKind | None = None
        self._outcome_shown = False
        self._applied = False  # this run applied a change (a stop after it says so)
        self.fixing_run = False
        # keep_diff: the diff pane holds something to keep after the run ends (a failed fix's closest attempt).
        self.keep_diff = False
        # The verified fix's test evidence, shown in the approval modal (empty for a build's proposal).
        self.fix_evidence: tuple[str, ...] = ()
        # The user's edited result of the pending proposal (e), kept while the approval is hidden: y applies it.
        self.edited: dict[str, str] | None = None
        self.edited_diffs: dict[str, str] | None = None

    async def start_build(self, goal: str) -> None:
        host = self.host
        await host.chat.add_message("user", goal)
        # Without a model too: the core keeps the goal in the session and answers with what to set.
        workspace = host.current_workspace()
        with_history, self.with_history = self.with_history, True
        await self.begin_run(lambda decide: workspace.build(goal, decide, with_history=with_history))

    async def begin_run(self, run: Run, fixing: bool = False) -> None:
        """Run a build (or, with ``fixing``, a fix) of the workspace on the pipeline's worker thread."""
        from app.llm.usage import TokenUsage
        from app.tui.build_bridge import BuildBridge

        host = self.host
        self.bridge = bridge = BuildBridge(run, host.post_message)
        self.fixing_run = fixing
        self.keep_diff = False
        self.fix_evidence = ()
        self._outcome_shown = False
        self._applied = False
        self._last_decision = None
        host.busy = True
        host.turn_usage = TokenUsage()  # the status line's "turn": this run's model calls
        host.progress.reset()
        await host.diff.clear(texts.WAITING_FOR_MODEL)
        host.start_worker(bridge.run, group="build", description="build pipeline", thread=True)

    def stop(self) -> None:
        if self.bridge is not None:
            self.bridge.cancel()
            self.host.events.add(texts.STOPPING, "warning")

    def stop_on_escape(self) -> bool:
        """escape on the workspace: the running build or fix stops (ctrl+g's clean stop) and True, unless a
        proposal waits for a decision (escape keeps the focus on it; n rejects) or nothing runs."""
        if self.bridge is None or self.bridge.cancelled or self.host.pending is not None:
            return False
        self.stop()
        return True

    def cancel(self) -> None:
        """The screen closes: the pipeline's thread must end too (a pending decision becomes a rejection)."""
        if self.bridge is not None:
            self.bridge.cancel()

    def after_event(self, event: Event) -> None:
        """The run's state after the panes showed ``event``."""
        from app.events import (
            Applied,
            ErrorEvent,
            Finished,
            FixStarted,
            FixSummary,
            FixVerified,
            Rejected,
            StageStarted,
            Usage,
        )

        host = self.host
        if isinstance(event, StageStarted):
            host.stage = event.stage
        elif isinstance(event, FixStarted):
            self.fix_evidence = ()
        elif isinstance(event, FixVerified):
            self.fix_evidence = event.evidence
        elif isinstance(event, FixSummary) and event.diff:
            self.keep_diff = True
        elif isinstance(event, Applied):
            self._outcome_shown = self._applied = True
            if not self.fixing_run:
                self.fixes.remember_applied(event.change_id)
            host.refresh_sessions()
        elif isinstance(event, Rejected):
            self._outcome_shown = True
        elif isinstance(event, ErrorEvent) and event.fatal:
            self._outcome_shown = True  # the feed has its line: the Finished summary would repeat it
        elif isinstance(event, Usage):
            from app.llm.usage import TokenUsage

            used = TokenUsage.of(event.to_json())
            host.usage, host.turn_usage = host.usage + used, host.turn_usage + used
        elif isinstance(event, Finished):
            host.stage = None
            # Applied / Rejected already said how it ended; otherwise the summary does.
            if event.summary and not self._outcome_shown:
                host.events.add(event.summary, "ok" if event.ok else "error")

    # -- the decision ------------------------------------------------------------------------------------------

    async def decision_wanted(self, message: DecisionWanted) -> None:
        from app.events import Decision, DecisionKind

        host = self.host
        if self.bridge is None or self.bridge.cancelled:
            message.answer.set_result(Decision(DecisionKind.REJECT))
            return
        await host.chat.end_reply()
        if not host.diff.files or host.pending is not message.diff:
            await host.diff.show_diffs(message.diff.diffs)
        self._answer = message.answer
        self.edited = self.edited_diffs = None
        host.pending = message.diff
        self.review()

    def review(self) -> None:
        """The approval modal for the pending proposal (hidden with its hunk choice kept, or decided)."""
        host = self.host
        if host.pending is None or self._approval is not None:
            return
        from app.events import DecisionKind
        from widgets.approval import ApprovalScreen

        pending = host.pending
        proposal = pending.proposal

        def rediff(edited: dict[str, str]) -> dict[str, str]:
            return proposal.with_edited(edited).diffs() if proposal is not None else {}

        screen = ApprovalScreen(
            self.edited_diffs or pending.diffs,
            host.diff.rejected,
            lambda: proposed_contents(pending),
            after_suggest=self._last_decision is DecisionKind.SUGGEST,
            evidence=self.fix_evidence,
            rediff=rediff,
            edited=self.edited,
        )
        self._approval = screen

        async def closed(decision: Decision | None) -> None:
            self._approval = None
            if decision is None:  # hidden: keep the hunk choice (and the edited version) made there
                edited_now = screen.edited is not self.edited
                self.edited, self.edited_diffs = screen.edited, screen.diffs if screen.edited else None
                if edited_now or screen.rejected_hunks != host.diff.rejected:
                    await host.diff.show_diffs(screen.diffs, screen.rejected_hunks)
                host.action_focus_goal()
                return
            self.answer(decision)

        host.app.push_screen(screen, closed)

    def apply_pending(self, hunks: dict[str, list[int]] | None) -> None:
        """y on the workspace: the pending proposal, or the user's edited version of it, with the hunks kept."""
        from app.events import Decision, DecisionKind

        if self.edited:
            self.answer(Decision(DecisionKind.EDIT, hunks=hunks, edited=self.edited))
        else:
            self.answer(Decision(DecisionKind.APPLY, hunks=hunks))

    def answer(self, decision: Decision) -> None:
        """Hand the user's decision to the waiting pipeline (once)."""
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            return
        host = self.host
        self.edited = self.edited_diffs = None
        host.pending = None
        note = texts.DECISION_NOTES[decision.kind]
        if decision.kind == "apply" and decision.hunks is not None:
            kept = sum(len(v) for v in decision.hunks.values())
            note += texts.HUNKS_KEPT.format(kept=kept, plural="s" * (kept != 1))
        if decision.feedback:
            note += f": {decision.feedback}"
        host.start_worker(host.chat.add_note(note, "decision"), group="notes", description="decision note")
        self._last_decision = decision.kind
        if decision.kind in ("apply", "edit") and not self.fixing_run:
            self.fixes.expect_apply()  # before the pipeline's thread can write a file
        answer.set_result(decision)

    async def ended(self, message: BuildEnded) -> None:
        host = self.host
        stopped = self.bridge is not None and self.bridge.cancelled
        self.bridge = None
        host.busy = False
        host.pending = None
        host.stage = None
        await host.chat.end_reply()
        if message.error:
            await host.chat.add_note(texts.ERROR_NOTE.format(message=message.error), "error")
            host.events.add(message.error, "error")
            host.progress.fail(None)
        if stopped:
            await host.chat.add_note(texts.STOPPED_NOTE, "rejected")
            host.events.add(texts.STOPPED_AFTER_APPLY if self._applied else texts.STOPPED, "warning")
            host.progress.stop()
        if self.keep_diff:
            pass  # a failed fix's closest attempt stays to be read
        elif host.diff.files:
            # A proposal still shown when the run ended was neither applied nor rejected (a refused apply,
            # a stop): it is dead, so it goes, and with it the y/n keys (QA.md).
            await host.diff.clear(texts.DIFF_DEAD)
        elif host.diff.pending_blocks or host.diff.note == texts.WAITING_FOR_MODEL:
            # The run ended before a proposal (a stop, a failed model call, a fix with no closest attempt):
            # the pane no longer waits for anything.
            await host.diff.clear(texts.NO_PROPOSAL)
        self.fixes.forget_unapplied()
        self.fixes.start_queued_fix()
