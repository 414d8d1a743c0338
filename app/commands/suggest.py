"""``ai [--session NAME] --suggest [--json]``: what to improve next (app/suggest), ranked, each suggestion
with the command that builds it; with ``--json`` JSON Lines like every headless command: an ``info`` event per
note as it is said, then one ``suggestions`` event with the ranked list."""

from __future__ import annotations

import argparse
import asyncio

from app.commands.options import config_overrides, working_root
from app.errors import EXIT_OK
from app.events import Info
from app.paths import DEFAULT_SESSION
from app.text.terminal import json_text, safe_text

SHOWN_SUGGESTIONS = 20


def cmd_suggest(args: argparse.Namespace) -> int:
    """`ai [--session NAME] --suggest [--json]`: ranked suggestions, each with the command that builds it."""
    from app.config import load_config
    from app.session.store import ProjectStore, Session
    from app.suggest import build_command, start_build
    from app.workspace import Workspace

    root = working_root(args)
    store = ProjectStore(root)
    name = args.session or DEFAULT_SESSION
    stored = store.exists(name)
    # A session not stored yet stays so: the workspace holds only its handle, and its snapshot is not read.
    session = store.session(name, create=False) if stored else Session(store, name)
    workspace = Workspace(root, load_config(root, config_overrides(args)), session)

    def announce(line: str) -> None:
        # Said before the tests run (they may take a while): an info event with --json, as `--fix` says it.
        if args.json:
            print(json_text(Info(line).to_json()), flush=True)
        else:
            print(f"note: {line}", flush=True)

    report = asyncio.run(workspace.suggest(announce, own_snapshot=stored))
    if args.json:
        print(json_text({"event": "suggestions", **report.to_json(root)}), flush=True)
        return EXIT_OK
    for note in report.notes:
        print(f"note: {safe_text(note)}")
    if not report.suggestions:
        print("no suggestions: tests pass, no TODO/FIXME, no long or complex functions found")
        return EXIT_OK
    print(
        f"{len(report.suggestions)} suggestion(s), ranked {'by the model' if report.ranked_by == 'model' else 'heuristically'}:"
    )
    for rank, item in enumerate(report.suggestions[:SHOWN_SUGGESTIONS], start=1):
        goal, session_name = start_build(root, item, store)
        kind = item.kind.replace("_", " ")
        # A TODO's text, a function's name, a test's message: the repository's, shown escaped on its line.
        print(f"{rank:>2}. [{kind}] {safe_text(item.place or '(project)')}: {safe_text(item.title)}")
        print(f"    why: {safe_text(item.reason)}")
        print(f"    start: {safe_text(build_command(goal, session_name))}")
    hidden = len(report.suggestions) - SHOWN_SUGGESTIONS
    if hidden > 0:
        print(f"... and {hidden} more (`ai --suggest --json` lists them all)")
    return EXIT_OK
