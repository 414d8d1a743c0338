"""Stage 7 of a build: an answer's blocks made into a proposal on the files as the model was shown them, each
changed file still parsing (tree-sitter) when it parsed before, and, when the face gives a language-server
check, the new diagnostics the proposal would add (app/pipeline/diagnostics.py). An answer that does not apply goes
back to the model once (``second_chance``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from app.events import Diagnostic, Event, Info
from app.pipeline.state import BuildState
from app.pipeline.turn import Reply

if TYPE_CHECKING:
    from app.edits.proposal import Proposal

DIAGNOSE_SECONDS = 5.0  # the whole language-server check of one proposal; past it the check is skipped


def first_error_line(node: Any) -> int:
    """1-based line of the first error node under ``node`` (a tree-sitter node): the innermost one.
    tree-sitter often wraps the valid code before a mistake in an outer ERROR node that starts at line 1; the
    error nodes inside it (or a MISSING token) say where the parse actually broke."""
    current = node
    while True:
        if current.is_missing:
            return int(current.start_point[0]) + 1
        inner = next((c for c in current.children if c.has_error or c.is_missing), None)
        if inner is None:
            return int(current.start_point[0]) + 1
        current = inner


def syntax_problem(proposal: Proposal) -> str | None:
    """A file the proposal leaves unparseable (tree-sitter) though it parsed before: the exact error for the
    model. Files that were already broken, and languages without a grammar, are not judged."""
    from app.context.languages import language_of, load_language

    for change in proposal.files:
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
        line = first_error_line(new_tree.root_node)
        return f"{change.path}: after the edits the file no longer parses as {lang} (syntax error near line {line})"
    return None


def validate_reply(state: BuildState, reply: Reply) -> tuple[Proposal | None, str | None]:
    """(proposal, None), (None, error) or (None, None) when the answer proposes no change."""
    from app.edits import build_proposal
    from app.errors import EditError

    if reply.parse_error:
        return None, reply.parse_error
    edits = reply.edits
    if not edits:
        return None, None
    try:
        proposal = build_proposal(
            state.root, edits, read_hashes=dict(state.read_hashes), read=dict(state.read_bytes)
        )
    except EditError as exc:
        return None, exc.message
    problem = syntax_problem(proposal)
    return (None, problem) if problem else (proposal, None)


def second_chance(
    proposal: Proposal | None, error: str | None, require_edits: bool
) -> tuple[str, str, str] | None:
    """When an answer goes back to the model once: (stage detail, info line, message to the model)."""
    from app.llm.prompts import edits_required_message, revise_after_error_message

    if error is not None:
        return (
            "invalid: sent back to the model",
            f"the answer does not apply; asking the model once more: {error}",
            revise_after_error_message(error),
        )
    if proposal is None and require_edits:
        return (
            "no edit blocks: asked again",
            "the answer has no edit blocks; asking the model once more for them",
            edits_required_message(),
        )
    return None


def warm_diagnostics(state: BuildState, path: str) -> None:
    """Tell a language-server check of a file the model is editing, so its server starts early."""
    prepare = getattr(state.request.diagnose, "prepare", None)
    if prepare is not None and path:
        state.warming.append(asyncio.ensure_future(prepare(path)))


async def diagnose(
    state: BuildState, proposal: Proposal, into: dict[str, list[Diagnostic]]
) -> AsyncIterator[Event]:
    """The language-server check (app/pipeline/diagnostics.py): new diagnostics go ``into``."""
    from app.pipeline.diagnostics import check_proposal

    if state.request.diagnose is not None:
        found, note = await check_proposal(state.request.diagnose, proposal, DIAGNOSE_SECONDS)
        into.update(found)
        if note:
            yield Info(note)
