"""``/init``: AGENTS.md written from the repository map (app/context/agents_doc.py), offered as a proposal.

No model is involved: the document is made from the project's files and symbol index, then goes through the
same approval as a build's proposal (``DiffReady``, the face's decision) and the same journaled apply with its
git commit (app/pipeline/apply.py), so ``y`` applies it, ``e`` edits it first and ctrl+z undoes it. An AGENTS.md
that exists already is replaced: the proposal is the diff to it; one that says the same already is left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.events import (
    Applied,
    AwaitingDecision,
    Decision,
    DecisionKind,
    DiffReady,
    Event,
    Finished,
    Info,
    Rejected,
)

if TYPE_CHECKING:
    from app.context.index import SymbolIndex
    from app.edits.proposal import Proposal
    from app.session.store import Session

INIT_GOAL = "/init: write AGENTS.md from the repository map"
UP_TO_DATE = "AGENTS.md already says what /init would write: nothing to change"


def agents_text(root: Path, index: SymbolIndex | None, configured_tests: str | None) -> str:
    """What AGENTS.md would say now (the files as git sees them, the index's symbols, the test command)."""
    from app.context.agents_doc import TestCommand, agents_document
    from app.fix.testrun import detect_command
    from app.pipeline.preread import project_files

    files = project_files(root, index)
    command = detect_command(root, configured_tests)  # the configured one, else the detected one
    source = ("configured" if configured_tests else "detected") if command else ""
    return agents_document(root, files, index, TestCommand(command, source))


def agents_proposal(root: Path, text: str) -> Proposal | None:
    """The proposal that makes AGENTS.md say ``text``; None when it does already."""
    from app.context.agents_doc import AGENTS_FILE
    from app.edits import build_proposal
    from app.text.editblocks import EditBlock

    target = root / AGENTS_FILE
    blocks = [EditBlock("CREATE", AGENTS_FILE, "", text, 1)]
    if target.is_file() or target.is_symlink():
        if target.is_file() and target.read_bytes() == text.encode():
            return None
        # Removed and written again in one proposal: its diff is the whole change to the file as it is.
        blocks.insert(0, EditBlock("REMOVE", AGENTS_FILE, "", "", 1))
    return build_proposal(root, blocks)


async def propose_agents(
    root: Path,
    session: Session,
    index: SymbolIndex | None,
    *,
    configured_tests: str | None,
    use_git: bool,
    decide: Callable[[DiffReady], Awaitable[Decision]],
) -> AsyncIterator[Event]:
    """``/init``'s events, as a build's: the proposal, the decision it waits for, then applied or rejected."""
    from app.pipeline.apply import apply_decision, caveats

    text = await asyncio.to_thread(agents_text, root, index, configured_tests)
    proposal = await asyncio.to_thread(agents_proposal, root, text)
    if proposal is None:
        yield Info(UP_TO_DATE)
        yield Finished(ok=True, exit_code=0, summary=UP_TO_DATE)
        return
    ready = DiffReady(diffs=proposal.diffs(), hunk_counts=proposal.hunk_counts(), proposal=proposal)
    yield ready
    yield AwaitingDecision(files=tuple(ready.diffs))
    decision = await decide(ready)
    if decision.kind not in (DecisionKind.APPLY, DecisionKind.EDIT):
        reason = decision.feedback or "rejected"
        session.append_message("event", f"/init: AGENTS.md not written ({reason})", outcome="not_applied")
        yield Rejected(reason=reason)
        yield Finished(ok=True, exit_code=0, summary=f"nothing applied: {reason}")
        return

    def note(change: object) -> None:
        session.append_message("event", "/init: wrote AGENTS.md from the repository map", outcome="applied")

    change = apply_decision(proposal, decision, session=session, goal=INIT_GOAL, use_git=use_git, note=note)
    yield Applied(change_id=change.change_id, files=change.files, commit=change.commit)
    for line in caveats(change):
        yield line
    yield Finished(ok=True, exit_code=0, summary=f"applied change {change.change_id}: AGENTS.md")
