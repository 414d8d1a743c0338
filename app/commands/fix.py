"""``ai --fix`` headless: run the test command in a scratch copy; on failure run the fix loop and print its
progress (plain transcript, or JSON Lines with ``--json``). ``--yes`` (or ``auto_fix`` in the configuration)
applies a verified fix; ``--dry-run`` shows it; neither: on a terminal the user is asked, otherwise nothing is
applied and the transcript says how.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from app.commands.options import config_overrides, wants_terminal, working_root
from app.commands.printer import printer_for
from app.errors import EXIT_OK
from app.events import Decision, DecisionKind, DiffReady, Finished
from app.paths import DEFAULT_SESSION

if TYPE_CHECKING:
    from app.fix.loop import FixRequest
    from app.workspace import Workspace

HOW_TO_APPLY_FIX = "run `ai --fix --yes` to apply the verified fix, or --dry-run to only show it"


async def run_fix_headless(
    workspace: Workspace,
    request: FixRequest,
    *,
    apply: bool,
    json_lines: bool,
    ask: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    printer = printer_for(json_lines, out, err)

    async def decide(_ready: DiffReady) -> Decision:
        if apply:
            return Decision(DecisionKind.APPLY)
        if ask:
            answer = await asyncio.to_thread(_ask_terminal, out)
            if answer:
                return Decision(DecisionKind.APPLY)
            return Decision(DecisionKind.REJECT, feedback="not applied: the user said no")
        return Decision(DecisionKind.REJECT, feedback=HOW_TO_APPLY_FIX)

    code = EXIT_OK
    async for event in workspace.fix(request, decide):
        printer.show(event)
        if isinstance(event, Finished):
            code = event.exit_code
    return code


def _ask_terminal(out: TextIO) -> bool:
    out.write("apply this fix? [y/N] ")
    out.flush()
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_fix(args: argparse.Namespace) -> int:
    """`ai [--session NAME] --fix [--yes|--dry-run] [--json] [--test-cmd CMD] ...`."""
    from app.config import load_config
    from app.session.store import ProjectStore
    from app.workspace import Workspace

    root = working_root(args)
    store = ProjectStore(root)
    session = store.session(args.session or DEFAULT_SESSION, activate=True)
    config = load_config(root, config_overrides(args))
    # No background services: the fix loop runs the tests in a scratch copy.
    workspace = Workspace(root, config, session)
    interactive = wants_terminal(args)
    request = workspace.tests_fix_request(
        dry_run=bool(args.dry_run),
        auto_apply=True if args.yes else None,
        show_only=None if interactive or args.dry_run or args.yes else HOW_TO_APPLY_FIX,
    )
    return asyncio.run(
        run_fix_headless(
            workspace, request, apply=bool(args.yes), json_lines=bool(args.json), ask=interactive
        )
    )
