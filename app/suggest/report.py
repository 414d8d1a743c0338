"""The suggestion report: what to improve next, each with its place and reason, ranked.

``await suggest(root, session=..., config=...)`` gathers the signals of ``app.suggest.signals`` (the background
snapshot's failing tests and diagnostics when the session has one, else one run of the test command in a scratch
copy; TODO/FIXME through rg; long or complex functions through tree-sitter; patterns across the project's
sessions) and ranks them: by the model when one is configured (it returns an order; anything it leaves out keeps
the heuristic order), heuristically otherwise (failing tests, then errors, recurring trouble, complexity, TODOs):
``app.suggest.ranking``.
``start_build(root, suggestion)`` gives the goal and a fresh session name to build it in.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.config import Config
from app.events import Diagnostic, TestFailure
from app.suggest.ranking import rank_heuristically, rank_with_model
from app.suggest.signals import (
    Suggestion,
    diagnostic_suggestions,
    failing_test_suggestions,
    function_suggestions,
    session_pattern_suggestions,
    todo_suggestions,
)

TEST_TIMEOUT = 120.0  # a suite slower than this leaves the failing tests unknown, said in a note
MAX_DAMAGED_SESSIONS = 20  # reads that find one more damaged session file before the rest is left out
_T = TypeVar("_T")


@dataclass
class SuggestionReport:
    suggestions: list[Suggestion]
    ranked_by: str  # "model" or "heuristic"
    notes: list[str] = field(default_factory=list)

    def to_json(self, root: Path | None = None) -> dict[str, Any]:
        items = []
        for rank, item in enumerate(self.suggestions, start=1):
            data = item.to_json()
            data["rank"] = rank
            if root is not None:
                goal, session = start_build(root, item)
                data["session"] = session
                data["command"] = build_command(goal, session)
            items.append(data)
        return {"ranked_by": self.ranked_by, "notes": self.notes, "suggestions": items}


async def suggest(
    root: Path,
    *,
    session: Any = None,
    config: Config | None = None,
    run_tests: bool = True,
    test_cmd: str | None = None,
    function_budget: float | None = None,
    announce: Callable[[str], None] | None = None,
) -> SuggestionReport:
    """Collect and rank. ``session`` gives the background snapshot (failing tests, diagnostics) when it has
    one; without failing tests known, the test command runs once in a scratch copy (``run_tests``).
    ``announce`` gets the line naming the test command before it runs (else it is one of the notes)."""
    from app.fix.scratch import list_project_files
    from app.session.store import ProjectStore

    root = root.resolve()
    config = config or Config()
    notes: list[str] = []
    found: list[Suggestion] = []
    store = ProjectStore(root)
    snapshot, where = await asyncio.to_thread(_latest_snapshot, store, session, notes)
    tests = (snapshot or {}).get("tests")
    if tests:
        found += failing_test_suggestions(TestFailure.from_json(f) for f in tests.get("failures") or [])
        notes.append(f"failing tests: from the last background test run of session {where}")
    elif run_tests:
        found += await _failing_tests_now(root, test_cmd or config.test_cmd, notes, config, announce)
    diagnostics = (snapshot or {}).get("diagnostics") or {}
    found += diagnostic_suggestions(
        {path: [Diagnostic.from_json(d) for d in items] for path, items in diagnostics.items()}
    )
    found += await asyncio.to_thread(todo_suggestions, root)
    files = await asyncio.to_thread(list_project_files, root)
    budget = {} if function_budget is None else {"budget_seconds": function_budget}
    functions, note = await asyncio.to_thread(function_suggestions, root, files, **budget)
    found += functions
    if note:
        notes.append(note)
    found += await asyncio.to_thread(_kept_going, lambda: session_pattern_suggestions(store), notes, [])
    ranked = rank_heuristically(found)
    if config.has_model and len(ranked) > 1:
        try:
            return SuggestionReport(await rank_with_model(ranked, config), "model", notes)
        except Exception as exc:  # the model is an improvement, never a requirement
            notes.append(f"ranked heuristically: the model could not rank ({_one_line(exc)})")
    return SuggestionReport(ranked, "heuristic", notes)


def _kept_going(read: Callable[[], _T], notes: list[str], fallback: _T) -> _T:
    """``read()``, where a damaged session file is a note, not the end of the suggestions: the store has
    moved it aside (StoreCorruptError names it), so reading again goes on without it."""
    from app.errors import StoreCorruptError

    for _ in range(MAX_DAMAGED_SESSIONS):
        try:
            return read()
        except StoreCorruptError as exc:
            notes.append(f"skipped: {exc.message}")
    return fallback


def _latest_snapshot(store: Any, session: Any, notes: list[str]) -> tuple[dict[str, Any], str]:
    """The background snapshot of ``session`` when it has test results, else the newest one of any session of
    the project (what the workspace last knew), else an empty one. A damaged session is skipped with a note."""
    empty: tuple[dict[str, Any], str] = ({}, "")
    own: dict[str, Any] = (
        _kept_going(lambda: session.background() or {}, notes, {}) if session is not None else {}
    )
    if own.get("tests"):
        return own, session.name

    def newest() -> tuple[dict[str, Any], str]:
        best: tuple[float, dict[str, Any], str] = (-1.0, {}, "")
        for meta in store.list_sessions():
            snapshot = store.session(meta.name, create=False).background() or {}
            saved = float(snapshot.get("saved_at") or 0.0)
            if snapshot.get("tests") and saved > best[0]:
                best = (saved, snapshot, meta.name)
        return (best[1], best[2]) if best[1] else empty

    found = _kept_going(newest, notes, empty)
    return found if found[1] else (own, "")


async def _failing_tests_now(
    root: Path,
    configured: str | None,
    notes: list[str],
    config: Config,
    announce: Callable[[str], None] | None,
) -> list[Suggestion]:
    from app.fix.parsers import ProjectPaths
    from app.fix.scratch import ScratchCopy
    from app.fix.testrun import command_origin, detect_command, run_tests, test_run_line

    command = detect_command(root, configured)
    if command is None:
        notes.append("failing tests: no test command configured or detected")
        return []
    origin = await asyncio.to_thread(
        command_origin, command, root, configured, config.test_cmd, config.sources.get("test_cmd")
    )
    # The project's code runs now: say which command before it does.
    (announce or notes.append)(test_run_line(command, root, origin))
    scratch = await asyncio.to_thread(ScratchCopy.create, root)
    try:
        outcome = await run_tests(
            command,
            scratch.root,
            env=scratch.env(),
            timeout=TEST_TIMEOUT,
            paths=ProjectPaths(scratch.root, also=(root,)),
        )
    finally:
        await asyncio.to_thread(scratch.close)
    if outcome.timed_out:
        notes.append(f"failing tests: unknown, {command} did not finish within {TEST_TIMEOUT:.0f} s")
        return []
    if outcome.missing:
        # Not a failing test: the runner is not there, which the user fixes in the configuration.
        notes.append(f"failing tests: unknown, {outcome.missing}")
        return []
    notes.append(f"failing tests: ran {command} ({outcome.describe()})")
    if outcome.ok:
        return []
    failures = outcome.errors or []
    if not failures:
        from app.fix.parsers import ParsedError

        failures = [ParsedError("", 0, 0, outcome.tail(1), "failure", (), "tests", outcome.tail())]
    return failing_test_suggestions(failures)


def start_build(root: Path, suggestion: Suggestion, store: Any = None) -> tuple[str, str]:
    """The goal text and a session name (new in this project) to build the suggestion in."""
    from app.paths import is_valid_session_name
    from app.session.store import ProjectStore

    store = store or ProjectStore(root)
    stem = (
        suggestion.details.get("test_id")
        or suggestion.details.get("function")
        or suggestion.path
        or suggestion.title
    )
    stem = str(stem).rsplit("::", 1)[-1].rsplit("/", 1)[-1]
    prefix = {"failing_test": "fix", "diagnostic": "fix", "todo": "todo"}.get(suggestion.kind, "improve")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{prefix}-{stem}").strip("-").lower()[:56] or prefix
    name, number = slug, 2
    while store.exists(name) or not is_valid_session_name(name):
        name = f"{slug}-{number}"
        number += 1
    return suggestion.goal or suggestion.title, name


def build_command(goal: str, session: str) -> str:
    import shlex

    return f"ai --session {session} --build {shlex.quote(goal)}"


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:200]
