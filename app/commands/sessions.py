"""The session faces of the command line: ``--list-sessions``, ``--delete-session``, ``--export-session``,
``--import-session``, and a plain ``ai`` / ``ai --continue`` that has no terminal (the session's summary or
history printed instead of the workspace).

``--list-sessions`` is a fast path: it reads the small index file and imports only the standard library, unless
the index needs rebuilding (app/session/fastindex.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.options import root_of, store_of
from app.commands.recovery import recover_interrupted
from app.errors import EXIT_OK, UsageError
from app.paths import DEFAULT_SESSION, project_data_dir
from app.text.terminal import json_text, safe_text

if TYPE_CHECKING:
    from app.session.store import ProjectStore


def _format_row(meta: dict[str, Any]) -> str:
    # One row a session: a goal with a newline (or a terminal control) in it is shown escaped.
    marker = "*" if meta.get("is_active") else " "
    last_used = safe_text(str(meta.get("last_used", ""))[:16].replace("T", " "))
    count = int(meta.get("change_count") or 0)
    changes = f"{count} change{'s' if count != 1 else ''}"
    summary = safe_text(str(meta.get("goal_summary") or "-"))
    return f"{marker} {safe_text(str(meta['name'])):<20} {last_used:<16}  {changes:<11} {summary}"


def cmd_list_sessions(args: argparse.Namespace) -> int:
    from app.session.fastindex import read_index, session_rows

    index = read_index(project_data_dir(root_of(args)))
    if index is not None:
        rows = session_rows(index)
    else:  # missing, damaged or stale: the store rebuilds it
        store = store_of(args)
        rows = [m.to_dict() for m in store.list_sessions()]
        for warning in (store.index_warning or "").splitlines():  # one line per file kept aside
            print(f"ai: {warning}", file=sys.stderr)
    if args.json:
        print(json_text(rows, indent=2))
    elif not rows:
        print("no sessions yet in this project; `ai` or `ai --session NAME` starts one")
    else:
        for row in rows:
            print(_format_row(row))
    return EXIT_OK


def cmd_delete_session(args: argparse.Namespace) -> int:
    recover_interrupted(args)  # the session's backups go with it: nothing of its may be left half-done
    store = store_of(args)
    store.delete_session(args.delete_session)
    print(f"deleted session {args.delete_session!r}; its applied changes stay in the files")
    return EXIT_OK


def cmd_export_session(args: argparse.Namespace) -> int:
    from app.session.export import export_text, write_export

    name, *rest = args.export_session
    if not rest or rest[0] == "-":
        sys.stdout.write(export_text(store_of(args), name))
        return EXIT_OK
    write_export(store_of(args), name, Path(rest[0]).expanduser(), shown=rest[0])
    print(f"exported session {name!r} to {rest[0]}", file=sys.stderr)
    return EXIT_OK


def _read_bounded(source: str, limit: int, where: str) -> bytes:
    """FILE (or stdin for ``-``), refused once it is over ``limit`` bytes: /dev/zero or an endless pipe stops
    at the cap, a huge regular file is refused by its size unread. A FIFO opens without waiting for a writer
    (O_NONBLOCK), so one that nobody writes reads as empty instead of hanging."""
    too_big = UsageError(
        f"{where}: larger than {limit // 2**20} MiB, more than any session export; "
        "give the file that --export-session wrote"
    )
    if source == "-":
        raw = sys.stdin.buffer.read(limit + 1)
    else:
        path = Path(source).expanduser()
        if path.is_dir():
            raise UsageError(f"{where}: is a folder, not an exported session file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if os.fstat(fd).st_size > limit:
                raise too_big
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                raw = handle.read(limit + 1)
        finally:
            os.close(fd)
    if len(raw) > limit:
        raise too_big
    return raw


def cmd_import_session(args: argparse.Namespace) -> int:
    import orjson

    from app.session.schema import MAX_DEPTH, MAX_DOCUMENT_BYTES, export_problem

    source = args.import_session
    where = f"import: {safe_text(source)}"
    try:
        raw = _read_bounded(source, MAX_DOCUMENT_BYTES, where)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        # orjson, the store's own parser: what it accepts the store can write back (no lone surrogates,
        # no integers beyond 64 bits, no NaN), and it stops at 1024 levels instead of recursing.
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.strip():
            what = "nothing (it is empty)"
        elif str(exc).startswith("depth limit exceeded"):
            what = f"nests lists and objects deeper than {MAX_DEPTH} levels, unlike any session export"
        else:
            what = f"not JSON ({exc})"
        raise UsageError(f"{where}: {what}") from None
    problem = export_problem(document)
    if problem:
        raise UsageError(f"{where}: {problem}")
    meta = store_of(args).import_session(document, args.session)
    print(f"imported session {meta.name!r} ({len(document['messages'])} messages)")
    return EXIT_OK


def _summary(store: ProjectStore, name: str) -> str:
    session = store.session(name)
    meta = session.meta()
    count = session.message_count()
    lines = [
        f"session {meta.name}{' (active)' if meta.is_active else ''} · project {safe_text(str(store.root))}",
        f"  {count} message{'s' if count != 1 else ''} · {meta.change_count} applied change"
        f"{'s' if meta.change_count != 1 else ''} · created {safe_text(meta.created_at[:16].replace('T', ' '))}"
        f" · last used {safe_text(meta.last_used[:16].replace('T', ' '))}",
    ]
    if meta.goal_summary:
        lines.append(f"  goal: {safe_text(meta.goal_summary)}")
    return "\n".join(lines)


def cmd_continue_headless(args: argparse.Namespace, store: ProjectStore, name: str) -> int:
    session = store.session(name, create=False, activate=True)
    messages = session.messages()
    if args.json:
        for message in messages:
            print(json_text(message))
        return EXIT_OK
    print(_summary(store, name))
    for message in messages:
        stamp = safe_text(str(message.get("ts", ""))[:19].replace("T", " "))
        print(f"\n[{stamp}] {safe_text(str(message['role']))}:")
        print(safe_text(str(message["content"]), multiline=True))
    return EXIT_OK


def open_session(args: argparse.Namespace) -> tuple[ProjectStore, str]:
    """`ai` / `ai --session NAME` / `ai --continue`: the session to open, created and made the active one
    (one to continue must exist already)."""
    store = store_of(args)
    name = args.session or DEFAULT_SESSION
    if args.continue_:
        if args.session is None and not store.exists(name):
            raise UsageError(f"no session {name!r} to continue yet; start one with `ai --session NAME`")
        if args.session is not None and not store.exists(name):
            raise UsageError(f"no session named {name!r} in this project; see `ai --list-sessions`")
    else:
        store.session(name, activate=True)
    return store, name


def cmd_open_headless(args: argparse.Namespace, store: ProjectStore, name: str) -> int:
    """An opened session without a terminal: its history (``--continue``) or its summary."""
    if args.continue_:
        return cmd_continue_headless(args, store, name)
    print(_summary(store, name))
    return EXIT_OK
