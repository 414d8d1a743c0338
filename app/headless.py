"""Headless runs of ``ai --build`` (README.md "Commands"): a plain transcript or JSON Lines of the pipeline's
events on stdout, errors on stderr, the exit status of the run.

``--yes`` applies, ``--dry-run`` shows the diff and changes nothing; without either, a headless run shows the
diff, applies nothing and says how to apply. With ``--json`` every event is one JSON object per line
(``{"event": kind, ...}``, see ``app.events``); the failure line also goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.errors import EXIT_OK, UsageError
from app.events import (
    Applied,
    BlockCompleted,
    ContextReady,
    Decision,
    DecisionKind,
    DiffReady,
    ErrorEvent,
    Event,
    FilesRead,
    Finished,
    Info,
    ProseDelta,
    Rejected,
    Retrying,
    Stage,
    StageFinished,
    StageStarted,
    Usage,
    Waiting,
)
from app.paths import DEFAULT_SESSION
from app.text.terminal import json_text, safe_text

if TYPE_CHECKING:
    from app.pipeline.build import BuildRequest

HOW_TO_APPLY = "nothing applied: run again with --yes to apply it, or --dry-run to only show the diff"


class Mode(StrEnum):
    APPLY = "apply"  # --yes
    DRY_RUN = "dry-run"  # --dry-run
    SHOW = "show"  # neither: show the proposal, apply nothing


def wants_headless(args: argparse.Namespace, stdout: TextIO | None = None) -> bool:
    """--yes, --dry-run or --json, or stdout not a terminal, means no TUI (README.md "Commands")."""
    stream = stdout or sys.stdout
    return bool(args.yes or args.dry_run or args.json) or not stream.isatty()


class Transcript:
    """The plain transcript: stage lines, the model's prose as it streams, the diff, the outcome.

    Stderr gets exactly one line, and only when the run fails (one clear line to act on): progress such
    as retry notes goes to stdout with everything else.

    What came from outside (the model's prose and paths, the goal, file contents in the diff) is shown through
    ``safe_text``: its terminal controls escaped, and a line's fields kept on their line."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.mid_line = False  # prose ended without a newline
        self.applied: str | None = None  # the change id the Applied line named
        self.told_wait = False  # a wait of the model's was noted: its end is noted too

    def _line(self, text: str, stream: TextIO | None = None) -> None:
        target = stream or self.out
        if self.mid_line and target is self.out:
            self.out.write("\n")
        self.mid_line = False
        target.write(text + "\n")
        target.flush()

    def show(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            if event.stage in (Stage.PLAN, Stage.EDIT) and not event.detail:
                self._line(f"[{int(event.stage)}/8] {event.stage.label} ...")
        elif isinstance(event, StageFinished):
            detail = f": {safe_text(event.detail)}" if event.detail else ""
            self._line(f"[{int(event.stage)}/8] {event.stage.label}{detail} ({event.seconds:.2f} s)")
        elif isinstance(event, ProseDelta):
            self.out.write(safe_text(event.text, multiline=True))
            self.out.flush()
            self.mid_line = not event.text.endswith("\n")
        elif isinstance(event, BlockCompleted):
            self._line(f"  [{event.block_kind} {safe_text(event.path)}]")
        elif isinstance(event, FilesRead):
            if event.paths:
                partial = f" (outline and regions: {_paths(event.partial)})" if event.partial else ""
                self._line(f"read {_paths(event.paths)}{partial}")
        elif isinstance(event, ContextReady):
            self._line(f"context: {event.bytes} bytes, ~{event.tokens} tokens")
        elif isinstance(event, Info):
            self._line(f"note: {safe_text(event.message)}")
        elif isinstance(event, Retrying):
            self._line(
                f"note: {safe_text(event.reason)}; retrying in {event.delay:.1f} s ({event.attempt + 1}/{event.attempts})"
            )
        elif isinstance(event, Waiting):
            # The start of every first-token wait is no news; a wait that lasts is, and so is how long it took.
            setting = "first_token_timeout" if event.what == "first_token" else "stream_idle_timeout"
            if event.over:
                if self.told_wait and event.what == "first_token":
                    self._line(f"note: the model's first token came after {event.waited:.1f} s")
                self.told_wait = False
            elif event.waited > 0:
                self._line(
                    f"note: {event.label}: {event.waited:.0f} s so far, at most {event.limit:g} s ({setting}), "
                    f"attempt {event.attempt}/{event.attempts}"
                )
                self.told_wait = True
        elif isinstance(event, Usage):
            self._line(f"tokens: {event.prompt_tokens} prompt, {event.completion_tokens} completion")
        elif isinstance(event, DiffReady):
            self._line("")
            for diff in event.diffs.values():
                self.out.write(safe_text(diff if diff.endswith("\n") else diff + "\n", multiline=True))
            self.out.flush()
            if event.diagnostics:
                from app.pipeline.diagnostics import diagnostic_lines

                self._line("new problems the language server sees in the proposal:")
                for line in diagnostic_lines(event.diagnostics):
                    self._line(f"  {safe_text(line)}")
        elif isinstance(event, Applied):
            commit = f" (commit {event.commit[:12]})" if event.commit else ""
            self._line(f"applied change {event.change_id} to {_paths(event.files)}{commit}")
            self.applied = event.change_id
        elif isinstance(event, Rejected):
            pass  # the Finished line that follows says it
        elif isinstance(event, ErrorEvent):
            self._line(f"ai: {safe_text(event.message)}", self.err)
        elif isinstance(event, Finished):
            if event.ok:
                # The build's "applied change N to k file(s)" repeats the Applied line: said once is enough.
                if not (self.applied and event.summary.startswith(f"applied change {self.applied} ")):
                    self._line(safe_text(event.summary))
            else:
                self._line(f"failed (exit {event.exit_code})")


def _paths(paths: tuple[str, ...] | list[str]) -> str:
    return ", ".join(safe_text(path) for path in paths)


class JsonLines:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def show(self, event: Event) -> None:
        self.out.write(json_text(event.to_json()) + "\n")
        self.out.flush()
        if isinstance(event, ErrorEvent):
            self.err.write(f"ai: {safe_text(event.message)}\n")
            self.err.flush()


async def run_headless(
    request: BuildRequest,
    mode: Mode = Mode.SHOW,
    json_lines: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the pipeline to its end, printing every event; the exit status of README.md "Commands"."""
    from app.fix.commands import FixTranscript
    from app.workspace import Workspace

    out = out or sys.stdout
    err = err or sys.stderr
    # The fix loop's lines too: a configured test command failing after an applied change starts it.
    printer: FixTranscript | JsonLines = JsonLines(out, err) if json_lines else FixTranscript(out, err)

    async def decide(_diff: DiffReady) -> Decision:
        if mode is Mode.APPLY:
            return Decision(DecisionKind.APPLY)
        return Decision(DecisionKind.REJECT, feedback=HOW_TO_APPLY)

    code = EXIT_OK
    # No background services: stage 7's check is a short-lived language server, started only when the
    # proposal has a file it serves, and the tests after an applied change run in a scratch copy.
    async with await Workspace.open(request.root, request.config, request.session) as workspace:
        # A headless build that ends without an edit failed its task (exit 1): a script must not
        # take "the model only talked" for "the change landed".
        build = workspace.build(
            request.goal,
            decide,
            with_history=request.with_history,
            dry_run=request.dry_run or mode is Mode.DRY_RUN,
            require_edits=True,
            use_git=request.use_git,
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
    from app.pipeline.build import BuildRequest
    from app.session.store import ProjectStore

    goal = (args.build or "").strip()
    if not goal:
        raise UsageError('--build needs a goal, e.g. ai --build "add a --verbose flag"')
    # The model client's library is the slowest import of a build: start it now, beside the set-up.
    threading.Thread(target=warm_imports, daemon=True).start()
    root = build_root(args)
    config = load_config(root, build_overrides(args))
    check_base_url(config)  # a usage error before anything is stored or sent
    store = ProjectStore(root)
    name = args.session or DEFAULT_SESSION
    if args.continue_ and not store.exists(name):
        raise UsageError(
            f"no session {name!r} to continue yet; start one with `ai --session NAME --build ...`"
        )
    session = store.session(name, activate=True)
    request = BuildRequest(
        root=root,
        session=session,
        goal=goal,
        config=config,
        use_git=config.use_git,
        with_history=bool(args.continue_),
    )
    mode = Mode.APPLY if args.yes else Mode.DRY_RUN if args.dry_run else Mode.SHOW
    return asyncio.run(run_headless(request, mode=mode, json_lines=bool(args.json)))


def build_root(args: argparse.Namespace) -> Path:
    from app.context.inventory import refuse_broad_root
    from app.paths import find_project_root

    if args.project is None:
        root = find_project_root()
    else:
        directory = Path(args.project).expanduser()
        if not directory.is_dir():
            raise UsageError(f"--project {args.project}: no such directory")
        root = find_project_root(directory)
    refuse_broad_root(root)  # `/` and $HOME: minutes of listing files, nothing useful to send
    return root


def build_overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "model": args.model,
        "base_url": args.base_url,
        "test_cmd": args.test_cmd,
        "use_git": False if args.no_git else None,
    }
