"""``ai [--session NAME] --undo [--dry-run] [--json] [--no-git]``: the command line face of undo."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app.commands.printer import emit
from app.errors import EXIT_OK, AgentError, UsageError
from app.paths import DEFAULT_SESSION
from app.text.terminal import safe_text

if TYPE_CHECKING:
    from app.edits.records import UndoResult
    from app.session.store import ProjectStore


def _emit(args: argparse.Namespace, event: dict[str, Any], text: str) -> None:
    emit(event, text, as_json=bool(args.json))


def _commit_note(entry: UndoResult, use_git: bool) -> str:
    if entry.warning:
        return f"  no commit: {safe_text(entry.warning)}"
    if entry.commit:
        return f"  commit: {entry.commit[:12]}"
    why = entry.no_commit or ("--no-git" if not use_git else "not a git repository")
    return f"  no commit ({safe_text(why)})"


def _already_undone(change: dict[str, Any]) -> str:
    summary = f" ({safe_text(change['summary'])})" if change.get("summary") else ""
    return f"change {change['id']}{summary} is already undone (the files are as before it)"


def cmd_undo(args: argparse.Namespace, store: ProjectStore) -> int:
    from app.config import Config
    from app.workspace import Workspace

    if args.session is not None and not store.exists(args.session):
        raise UsageError(f"no session named {args.session!r} in this project; see `ai --list-sessions`")
    name = args.session or DEFAULT_SESSION
    if not store.exists(name):
        _emit(args, {"event": "nothing_to_undo", "session": name}, f"nothing to undo in session {name!r}")
        return EXIT_OK
    use_git = not args.no_git
    # The undo reads no configuration: --no-git alone says whether it commits.
    workspace = Workspace(store.root, Config(use_git=use_git), store.session(name, create=False))
    try:
        if args.dry_run:
            plan = workspace.undo_plan()
            if plan is None:
                _emit(
                    args,
                    {"event": "nothing_to_undo", "session": name},
                    f"nothing to undo in session {name!r}",
                )
                return EXIT_OK
            change = plan.change
            if not plan.writes:
                text = f"{_already_undone(change)}; `ai --undo` records it as undone; nothing was changed"
                event = {"event": "undo_preview", "session": name, "change": change["id"], "files": []}
                _emit(args, {**event, "already_undone": True}, text)
                return EXIT_OK
            header = (
                f"would undo change {change['id']} ({safe_text(change.get('summary', ''))}) of session {name!r}; "
                "nothing was changed"
            )
            event = {
                "event": "undo_preview",
                "session": name,
                "change": change["id"],
                "summary": change.get("summary", ""),
                "files": plan.files,
                "diffs": plan.diffs,
            }
            diffs = safe_text("".join(plan.diffs.values()).rstrip("\n"), multiline=True)
            _emit(args, event, header + "\n" + diffs)
            return EXIT_OK
        entry = workspace.undo_last_change()
    except AgentError as exc:
        if args.json:  # the line on stderr is app/commands/ending.py's
            emit({"event": "error", "message": exc.message, "exit_code": exc.exit_code}, "", as_json=True)
        raise
    if entry is None:
        _emit(args, {"event": "nothing_to_undo", "session": name}, f"nothing to undo in session {name!r}")
        return EXIT_OK
    for line in entry.recovered:  # another `ai` was killed since this one started
        _emit(args, {"event": "recovered", "message": line}, line)
    files = list(entry.files)
    lines = [
        f"undid change {entry.undone} ({safe_text(entry.summary)}) of session {name!r}",
        f"  reverted: {', '.join(safe_text(path) for path in files)}",
        _commit_note(entry, use_git),
    ]
    if not files:
        # Recorded as undone all the same, so the next --undo walks back to the change before it.
        lines = [_already_undone({"id": entry.undone, "summary": entry.summary})]
    if entry.commit_note:
        lines.append(f"  warning: {safe_text(entry.commit_note)}")
    event = {
        "event": "undo",
        "session": name,
        "change": entry.undone,
        "summary": entry.summary,
        "files": files,
        "commit": entry.commit,
        "undo_id": entry.undo_id,
    }
    if not files:
        event["already_undone"] = True
    if entry.warning:
        event["warning"] = entry.warning
    if entry.commit_note:
        event["commit_note"] = entry.commit_note
    _emit(args, event, "\n".join(lines))
    sys.stdout.flush()
    return EXIT_OK
