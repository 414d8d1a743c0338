"""The one apply-and-record step of the build and the fix loop: the user's decision narrows the proposal (their
edited contents, the hunks they kept), the change is applied, recorded in the session and committed
(app/edits/apply.py), and the face gets a typed ``AppliedChange``.

The apply runs without an await and with Ctrl-C deferred until the caller's note is in the session too: a
cancellation lands before the change or after its whole story, never half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.edits.records import AppliedChange
from app.events import Decision, DecisionKind, Info

if TYPE_CHECKING:
    from app.edits.proposal import Proposal
    from app.session.store import Session

__all__ = ["AppliedChange", "apply_decision", "chosen_proposal"]


def chosen_proposal(proposal: Proposal, decision: Decision) -> Proposal:
    """The proposal as the user decided it: their edited contents (EDIT), and of that only the hunks they
    kept (the hunks of the edited diff, as the approval showed it)."""
    if decision.kind is DecisionKind.EDIT and decision.edited:
        proposal = proposal.with_edited(decision.edited)
    if decision.hunks is not None:
        return proposal.select(decision.hunks)
    return proposal


def apply_decision(
    proposal: Proposal,
    decision: Decision,
    *,
    session: Session,
    goal: str,
    use_git: bool,
    note: Callable[[AppliedChange], None],
) -> AppliedChange:
    """Apply the decided proposal and record it; ``note(change)`` tells the session's story of it while
    interrupts are still deferred."""
    from app.edits import apply_proposal
    from app.edits.transaction import deferred_interrupts

    chosen = chosen_proposal(proposal, decision)
    with deferred_interrupts():
        change = AppliedChange.from_record(
            apply_proposal(chosen, session=session, goal=goal, use_git=use_git)
        )
        note(change)
    return change


def caveats(change: AppliedChange) -> list[Info]:
    """The commit's caveats (it failed; the user's own edits went into it; an interrupted run recovered
    first): said, not only recorded."""
    lines = [Info(line) for line in change.recovered]
    lines += [Info(f"warning: {text}") for text in (change.warning, change.commit_note) if text]
    return lines
