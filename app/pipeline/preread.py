"""Stages 2-4 of the pipeline: locate what the goal names, read it, and gather the rest of the context.

Everything here is synchronous (file reads, ``rg``, the index); the pipeline runs it in a worker thread so the
event loop (and the TUI) stays responsive.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.context.extract import MAX_IDENTIFIER, MIN_IDENTIFIER
from app.context.inventory import list_project_files
from app.context.mentions import Resolution, key_terms, resolve_mentions, rg_binary
from app.llm.prompts import (
    DROP_AGENTS,
    DROP_CHANGES,
    DROP_HEALTH,
    DROP_REPO_MAP,
    DROP_SEARCH,
    FileContext,
    Section,
    estimate_tokens,
    shrink,
)
from app.pipeline.symbols import SymbolIndex
from app.project.reader import LineGuard, ReadRefused, read_for_model
from app.text.textfile import content_hash

if TYPE_CHECKING:
    from app.context.index import SymbolIndex as StoredIndex

MAX_HITS = 40
# Opening the symbol index for a build: a stored index answers at once while its refresh (a stat of every
# file, 1-2 s at 100k files) goes on in the background past this wait; a project with no index yet builds
# what fits COLD_BUILD_S and falls back to rg for the rest (the next build, or `ai --search`, goes on).
REFRESH_WAIT_S = 1.0
COLD_BUILD_S = 3.0
_WORD = re.compile(r"[^\W\d]\w*")
_PLAIN_WORD = re.compile(r"^[^\W\d]\w*$")


def project_files(root: Path, index: SymbolIndex | None = None) -> list[str]:
    """The inventory: the file list of the index's last refresh when it is complete (no second walk of the
    tree), else ``list_project_files`` (git's view, else a walk)."""
    if index is not None and getattr(index, "complete", False):
        try:
            paths = list(index.paths())
        except Exception:  # the index is a help: its failure falls back to listing the files
            paths = []
        if paths:
            return paths
    return list_project_files(root)


def open_index(
    root: Path, refresh_wait: float = REFRESH_WAIT_S, cold_budget: float = COLD_BUILD_S
) -> StoredIndex | None:
    """The symbol index of issue 4 within a time budget, or None when it is not available (the rg fallbacks
    take over). A stored index is refreshed in a background thread, waited for at most ``refresh_wait``
    seconds (its queries answer from the stored state meanwhile; ``close`` waits for the refresh). With no
    store yet, at most ``cold_budget`` seconds of parsing: ``index.complete`` is then False and ``remaining``
    says how many files are left for the next build."""
    from app.context.index import SymbolIndex as StoredIndex
    from app.errors import AgentError

    try:
        index = StoredIndex.open(root, build=False)
        if not StoredIndex.exists(root):  # none yet, or a damaged one just thrown away
            index.refresh(deadline=time.monotonic() + cold_budget)
            return index
    except (AgentError, OSError):  # an index that cannot be written: the rg fallbacks still find things
        return None
    # Parsing bounded too (a checkout that changed thousands of files): `close` waits for this refresh.
    index.refresh_in_background(wait=refresh_wait, deadline=time.monotonic() + refresh_wait + cold_budget)
    return index


@dataclass
class Hit:
    path: str
    line: int
    text: str


def term_hits(root: Path, terms: list[str], index: Any = None, limit: int = MAX_HITS) -> list[Hit]:
    """Lines with the goal's key terms: the index's search (definitions first) when there is an index, else
    a plain ``rg`` over the tree."""
    if not terms:
        return []
    hits: list[Hit] = []
    if index is not None and getattr(index, "complete", True):
        from app.context.search import search

        for term in terms:
            # Only identifier searches: a term with punctuation must not become a regex scan of the tree, nor
            # a word too short for the index (which search answers with a scan).
            if not any(MIN_IDENTIFIER <= len(w) <= MAX_IDENTIFIER for w in _WORD.findall(term)):
                continue
            mode = "auto" if _PLAIN_WORD.match(term) else "identifier"
            try:
                results = search(root, term, index=index, limit=8, mode=mode)
            except Exception:  # search is a help: a failure must not stop the build
                continue
            for r in results:
                hits.append(Hit(r.path, int(r.line), str(r.snippet)[:200]))
    else:
        rg = rg_binary()
        if rg is None:
            return []
        args = [rg, "-n", "--no-heading", "-F", "-i", "--max-count", "3", "--max-columns", "200"]
        for term in terms:
            args += ["-e", term]
        try:
            out = subprocess.run([*args, "."], cwd=root, capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            return []
        for line in out.splitlines():
            path, _, rest = line.partition(":")
            number, _, text = rest.partition(":")
            if number.isdigit():
                hits.append(Hit(path.removeprefix("./"), int(number), text.strip()[:200]))
    seen: set[tuple[str, int]] = set()
    unique = []
    # The index's search guards its own hits; the rg scan reads every file, so each hit's file is judged here.
    guard = LineGuard(root) if index is None or not getattr(index, "complete", True) else None
    for hit in hits:
        if (hit.path, hit.line) in seen or (guard is not None and not guard.allows(hit.path)):
            continue
        seen.add((hit.path, hit.line))
        unique.append(hit)
    return unique[:limit]


@dataclass
class Located:
    files: list[str]
    index: Any
    resolution: Resolution
    hits: list[Hit]
    terms: list[str] = field(default_factory=list)


def locate(root: Path, goal: str, index: Any = None, files: list[str] | None = None) -> Located:
    files = files if files is not None else project_files(root)
    resolution = resolve_mentions(root, goal, files, index)
    terms = key_terms(goal)
    return Located(
        files=files, index=index, resolution=resolution, hits=term_hits(root, terms, index), terms=terms
    )


@dataclass
class ReadResult:
    files: list[FileContext]
    hashes: dict[str, str]
    skipped: list[str]  # one line each: path and why
    raw: dict[str, bytes] = field(default_factory=dict)  # the bytes read: what the model's edits were made on


def read_mentioned(
    root: Path, located: Located, max_file_tokens: int, send_secrets: bool = False
) -> ReadResult:
    """Every file the goal names, in full; large ones as relevant regions plus an outline."""
    out: list[FileContext] = []
    hashes: dict[str, str] = {}
    raws: dict[str, bytes] = {}
    skipped: list[str] = []
    named = {m.path for m in located.resolution.files if m.explicit}
    for mention in located.resolution.files:
        try:
            read = read_for_model(root, mention.path, named=named, send_secrets=send_secrets)
        except ReadRefused as refused:
            skipped.append(f"{mention.path}: {refused.reason}")
            continue
        # Keyed by the file itself, as the edit engine resolves a block's path (through an in-project link).
        hashes[read.real_path] = content_hash(read.raw)
        raws[read.real_path] = read.raw
        file = FileContext(
            path=mention.path,
            content=read.text,
            reason="; ".join(mention.reasons),
            rank=mention.rank,
            pinned=mention.pinned,
        )
        # A plain word that happens to name a definition is a guess: its file goes whole only when small.
        limit = max_file_tokens // 4 if mention.rank >= 4 else max_file_tokens
        if estimate_tokens(read.text) > limit:
            file = shrink(file, mention.symbols, located.terms, limit, located.index)
        out.append(file)
    return ReadResult(files=out, hashes=hashes, skipped=skipped, raw=raws)


PINNED_REASON = "pinned for this session"


def read_pinned(root: Path, pinned: Sequence[str], read: ReadResult, send_secrets: bool = False) -> None:
    """Add the session's pinned files (``/add``) to ``read``, each in full, marked ``pinned`` (rank 0, so the
    budget never drops them): through the guarded reader, by the rules ``/add`` checked, as a file may have
    changed since. A file the goal's own mentions read already is marked pinned too."""
    have = {f.path: f for f in read.files}
    for path in pinned:
        if path in have:
            have[path].pinned = True
            continue
        try:
            file = read_for_model(root, path, send_secrets=send_secrets)
        except ReadRefused as refused:
            read.skipped.append(f"{path} (pinned): {refused.reason}")
            continue
        read.hashes[file.real_path] = content_hash(file.raw)
        read.raw[file.real_path] = file.raw
        read.files.append(FileContext(path=path, content=file.text, reason=PINNED_REASON, pinned=True))


def _changes_section(session: Any, limit: int = 5) -> Section | None:
    changes = [c for c in session.changes() if not c.get("undone")][-limit:]
    if not changes:
        return None
    lines = []
    for change in changes:
        files = ", ".join(str(f) for f in change.get("files", []))
        commit = str(change.get("commit") or "")[:10]
        lines.append(f"- {change.get('goal', '')} ({files}{'; commit ' + commit if commit else ''})")
    return Section("changes", "Recent applied changes in this session", "\n".join(lines), DROP_CHANGES)


def _health_section(session: Any, limit: int = 12) -> Section | None:
    """Failing tests, diagnostics and log errors the background services saved in the session."""
    snapshot = session.background() or {}
    lines: list[str] = []
    tests = snapshot.get("tests") or {}
    if tests.get("failed") or tests.get("errors"):
        lines.append(
            f"Last test run (`{tests.get('command', '')}`): {tests.get('passed', 0)} passed, "
            f"{tests.get('failed', 0)} failed, {tests.get('errors', 0)} errors"
        )
        for failure in (tests.get("failures") or [])[:limit]:
            message = str(failure.get("message", ""))[:300]
            lines.append(
                f"- {failure.get('test_id')} ({failure.get('file')}:{failure.get('line')}): {message}"
            )
    diagnostics = [
        f"- {path}:{d.get('line')}: {d.get('severity', '')}: {str(d.get('message', ''))[:200]}"
        for path, items in sorted((snapshot.get("diagnostics") or {}).items())
        for d in items
    ]
    if diagnostics:
        lines.append("Diagnostics:")
        lines.extend(diagnostics[: limit * 2])
    errors = (snapshot.get("log_errors") or [])[-3:]
    for error in errors:
        lines.append(f"Log error in {error.get('path')}:\n{str(error.get('entry', ''))[:800]}")
    if not lines:
        return None
    return Section("health", "Project health (tests, diagnostics, logs)", "\n".join(lines), DROP_HEALTH)


def _repo_map_section(located: Located, mentioned: list[str], budget: int) -> Section | None:
    if located.index is None:
        return None
    try:
        from app.context.repomap import repo_map
    except ImportError:
        return None
    try:
        text = repo_map(
            located.index,
            focus_files=mentioned,
            focus_identifiers=located.terms,
            token_budget=budget,
        )
    except Exception:  # the map is a help: a failure must not stop the build
        return None
    text = str(text or "").strip()
    return Section("repo_map", "Repo map (most relevant definitions)", text, DROP_REPO_MAP) if text else None


def context_sections(
    root: Path, session: Any, located: Located, mentioned: list[str], budget: int
) -> list[Section]:
    sections: list[Section] = []
    if located.hits:
        body = "\n".join(f"{h.path}:{h.line}: {h.text}" for h in located.hits)
        terms = ", ".join(located.terms)
        sections.append(Section("search", f"Search hits for {terms}", body, DROP_SEARCH))
    if located.resolution.ambiguous:
        body = "\n".join(
            f"- {name}: " + ", ".join(f"{path}:{line}" for path, line in sites)
            for name, sites in located.resolution.ambiguous.items()
        )
        sections.append(Section("ambiguous", "Named symbols defined in many files", body, DROP_SEARCH))
    repo_map = _repo_map_section(located, mentioned, max(500, budget // 8))
    if repo_map is not None:
        sections.append(repo_map)
    for extra in (_changes_section(session), _health_section(session)):
        if extra is not None:
            sections.append(extra)
    try:
        agents = read_for_model(root, "AGENTS.md")
    except ReadRefused:  # none, or a link out of the project: no instructions then
        agents = None
    if agents is not None:
        sections.append(Section("agents", "Project instructions (AGENTS.md)", agents.text, DROP_AGENTS))
    return sections


def _outcome_note(message: dict[str, Any]) -> str | None:
    """How an earlier goal ended, as ai tells the model in a later history; None for other events."""
    content = str(message.get("content", ""))
    outcome = message.get("outcome")
    if outcome is None and content.startswith("failed: "):  # sessions written before outcomes were marked
        outcome = "failed"
    if outcome is None:
        return None
    if outcome == "failed":
        return (
            f"(ai: the goal above FAILED and nothing from it was applied: {content.removeprefix('failed: ')})"
        )
    if outcome == "applied":
        return f"(ai: the goal above was applied: {content})"
    if outcome == "undone":  # said where it happened: later goals may sit between the change and its undo
        return f"(ai: UNDONE: {content}; that earlier goal's change is no longer in the files)"
    return f"(ai: the goal above ended with nothing applied: {content})"


def history_messages(messages: Sequence[dict[str, Any]], budget: int) -> list[dict[str, str]]:
    """The session's earlier conversation as chat messages, newest kept first, within ``budget`` tokens.

    What the model was told by ai itself (READ replies, "your edit blocks could not be applied", the request
    for edit blocks: events of kind ``to_model``) becomes the user turn it was, and how each goal ended (events
    with an ``outcome``) becomes a note in the next user turn, so a failed goal reads as failed. Consecutive
    turns of one role are joined, and the result starts with a user turn: a well-formed alternating
    conversation. It may end with a user turn (a goal that got no answer, a last outcome note): the caller
    joins that to its own next user message.

    The walk goes from the newest message back and stops at the first that does not fit, and a turn is joined
    once, from the parts kept: the cost follows what is sent, not the session's length. (Joining every turn
    first made a session of 100,000 messages of one role quadratic, and that one giant turn, over the budget,
    was then dropped whole, so nothing at all was sent.) Inside a joined turn the oldest parts go first too.

    The history starts at the newest ``/clear`` or ``/compact`` (app/session/pins.py ``context_start``): after a
    clear nothing from before it is sent, after a compaction its summary is, as the first user turn, counted
    against the budget first; in the workspace and in ``ai --continue`` alike."""
    from app.session.pins import context_start

    recent, summary = context_start(messages)
    head = SUMMARY_TURN.format(summary=summary.strip()) if summary is not None else None
    kept: list[tuple[str, list[str]]] = []  # newest turn first; each turn's parts newest first
    spent = estimate_tokens(head) if head is not None else 0
    for message in reversed(recent):
        turn = _history_turn(message)
        if turn is None:
            continue
        role, content = turn
        joins = bool(kept) and kept[-1][0] == role
        cost = estimate_tokens(content) + (_JOIN_TOKENS if joins else 0)
        if spent + cost > budget:
            break
        spent += cost
        if joins:
            kept[-1][1].append(content)
        else:
            kept.append((role, [content]))
    turns = [{"role": role, "content": _JOINER.join(reversed(parts))} for role, parts in reversed(kept)]
    if head is not None:
        if turns and turns[0]["role"] == "user":
            turns[0]["content"] = head + _JOINER + turns[0]["content"]
        else:
            turns.insert(0, {"role": "user", "content": head})
    start = next((i for i, turn in enumerate(turns) if turn["role"] == "user"), len(turns))
    return turns[start:]


_JOINER = "\n\n"
SUMMARY_TURN = "(ai: the conversation of this session before this point was compacted by the user; its summary:)\n\n{summary}"
_JOIN_TOKENS = estimate_tokens(_JOINER)


def _history_turn(message: dict[str, Any]) -> tuple[str, str] | None:
    """(role, content) of one stored message in the history sent to the model; None when it is not sent."""
    role = message.get("role")
    content = str(message.get("content", ""))
    if role == "event":
        if message.get("kind") == "to_model":
            return "user", content
        note = _outcome_note(message)
        return None if note is None else ("user", note)
    if role not in ("user", "assistant"):
        return None
    return str(role), content
