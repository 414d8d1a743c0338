"""Stage 7 of the build, the language-server check of a proposal before it is applied: the pipeline's side.

``check_proposal`` asks a ``BuildRequest.diagnose`` provider (``await diagnose(path, text)``: the diagnostics
the proposed ``text`` adds to ``path``) about every file a proposal changes, within a time bound; the rest turns
what it found into the transcript's lines and the model's "fix these" message. The provider is the
workspace's (app/workspace/proposal_check.py): the running language servers when background services run,
else a short-lived one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.events import Diagnostic

if TYPE_CHECKING:
    from app.edits.proposal import FileChange, Proposal


async def check_proposal(
    diagnose: Callable[[str, str], Awaitable[list[Diagnostic]]], proposal: Proposal, seconds: float
) -> tuple[dict[str, list[Diagnostic]], str | None]:
    """(path -> the new diagnostics, a note for the user or None) for each file the proposal changes.
    Bounded by ``seconds`` in all; a server that cannot answer is a note, never a failure."""
    changes = [c for c in proposal.files if c.new_text is not None]
    if not changes:
        return {}, None

    async def one(change: FileChange) -> tuple[str, list[Diagnostic]]:
        return change.path, await diagnose(change.path, change.new_text or "")

    try:
        found = await asyncio.wait_for(asyncio.gather(*(one(c) for c in changes)), seconds)
    except TimeoutError:
        return {}, f"the language server did not answer within {seconds:.0f} s; the proposal was not checked"
    except Exception as exc:  # the check is a help: a server problem must not stop the build
        return {}, f"the language server could not check the proposal: {exc or type(exc).__name__}"
    return {path: list(diagnostics) for path, diagnostics in found if diagnostics}, None


def has_errors(diagnostics: dict[str, list[Diagnostic]]) -> bool:
    """Whether any of the diagnostics is an error (warnings are shown, never sent back)."""
    return any(d.severity == "error" for found in diagnostics.values() for d in found)


def diagnostic_lines(diagnostics: dict[str, list[Diagnostic]]) -> list[str]:
    """``path:line: message`` per diagnostic (warnings marked), in path order: the transcript's and the
    model's form."""
    lines = []
    for path in sorted(diagnostics):
        for d in diagnostics[path]:
            mark = "" if d.severity == "error" else f"{d.severity}: "
            lines.append(f"{path}:{d.line}: {mark}{d.message}")
    return lines


def diagnostic_listing(diagnostics: dict[str, list[Diagnostic]]) -> str:
    """The diagnostics on one line."""
    return "; ".join(diagnostic_lines(diagnostics))


def diagnostics_message(diagnostics: dict[str, list[Diagnostic]]) -> str:
    """The turn of ours that sends new errors back to the model."""
    listing = "\n".join(diagnostic_lines(diagnostics))
    return (
        "Nothing was applied yet. The language server sees new problems in your proposal:\n\n"
        f"{listing}\n\n"
        "Answer again with the complete corrected set of edit blocks against the files as they are now (your "
        "previous blocks were not applied). If the proposal is right as it is, repeat the same blocks.\n"
    )
