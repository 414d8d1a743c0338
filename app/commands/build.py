"""``ai --build GOAL`` headless (README.md "Commands"): the pipeline's events printed as a plain transcript or
JSON Lines (app/commands/printer.py) on stdout, errors on stderr, the exit status of the run.

``--yes`` applies, ``--dry-run`` shows the diff and changes nothing; without either, a headless run shows the
diff, applies nothing and says how to apply. With ``--json`` every event is one JSON object per line
(``{"event": kind, ...}``, see ``app.events``); the failure line also goes to stderr. The workspace's
``--build`` on a terminal is app/cli.py's: this module imports no Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, TextIO

from app.commands.options import config_overrides, working_root
from app.commands.printer import printer_for
from app.errors import EXIT_OK, UsageError
from app.events import Decision, DecisionKind, DiffReady, Finished
from app.paths import DEFAULT_SESSION

if TYPE_CHECKING:
    from app.workspace import Workspace

HOW_TO_APPLY = "nothing applied: run again with --yes to apply it, or --dry-run to only show the diff"


class Mode(StrEnum):
    APPLY = "apply"  # --yes
    DRY_RUN = "dry-run"  # --dry-run
    SHOW = "show"  # neither: show the proposal, apply nothing


async def run_headless(
    workspace: Workspace,
    goal: str,
    mode: Mode = Mode.SHOW,
    *,
    with_history: bool = False,
    json_lines: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``workspace``'s build of ``goal`` to its end, printing every event; the exit status of README.md
    "Commands"."""
    # The fix loop's lines too: a configured test command failing after an applied change starts it.
    printer = printer_for(json_lines, out, err)

    async def decide(_diff: DiffReady) -> Decision:
        if mode is Mode.APPLY:
            return Decision(DecisionKind.APPLY)
        return Decision(DecisionKind.REJECT, feedback=HOW_TO_APPLY)

    code = EXIT_OK
    # No background services: stage 7's check is a short-lived language server, started only when the
    # proposal has a file it serves, and the tests after an applied change run in a scratch copy.
    async with workspace:
        # A headless build that ends without an edit failed its task (exit 1): a script must not
        # take "the model only talked" for "the change landed".
        build = workspace.build(
            goal,
            decide,
            with_history=with_history,
            dry_run=mode is Mode.DRY_RUN,
            require_edits=True,
            auto_apply=True if mode is Mode.APPLY else None,
        )
        async for event in build:
            printer.show(event)
            if isinstance(event, Finished):
                code = event.exit_code
    return code


def cmd_build(args: argparse.Namespace) -> int:
    """`ai [--session NAME] [--continue] --build GOAL` without the TUI."""
    from app.config import load_config
    from app.llm.client import check_base_url, warm_imports
    from app.session.store import ProjectStore
    from app.workspace import Workspace

    goal = (args.build or "").strip()
    if not goal:
        raise UsageError('--build needs a goal, e.g. ai --build "add a --verbose flag"')
    # The workspace's rule (app/tui/slash.py): a line starting with a slash is a command, never a goal.
    if goal.startswith("/"):
        raise UsageError(
            f"{goal.split()[0]} is a slash command of the workspace (run `ai` on a terminal and type it there), "
            "not a goal: nothing was sent to the model"
        )
    # The model client's library is the slowest import of a build: start it now, beside the set-up.
    threading.Thread(target=warm_imports, daemon=True).start()
    root = working_root(args)
    config = load_config(root, config_overrides(args))
    check_base_url(config)  # a usage error before anything is stored or sent
    store = ProjectStore(root)
    name = args.session or DEFAULT_SESSION
    if args.continue_ and not store.exists(name):
        raise UsageError(
            f"no session {name!r} to continue yet; start one with `ai --session NAME --build ...`"
        )
    workspace = Workspace(root, config, store.session(name, activate=True))
    mode = Mode.APPLY if args.yes else Mode.DRY_RUN if args.dry_run else Mode.SHOW
    return asyncio.run(
        run_headless(workspace, goal, mode, with_history=bool(args.continue_), json_lines=bool(args.json))
    )
