"""``ai --fix`` headless: run the test command in a scratch copy; on failure run the fix loop and print its
progress (plain transcript, or JSON Lines with ``--json``). ``--yes`` (or ``auto_fix`` in the configuration)
applies a verified fix; ``--dry-run`` shows it; neither: on a terminal the user is asked, otherwise nothing is
applied and the transcript says how.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from app.errors import EXIT_OK
from app.events import (
    Decision,
    DecisionKind,
    DiffReady,
    Event,
    Finished,
    FixAttempt,
    FixStarted,
    FixSummary,
    FixVerified,
    TestsRun,
)
from app.fix.loop import FixRequest, run_fix
from app.headless import JsonLines, Transcript
from app.paths import DEFAULT_SESSION
from app.text.terminal import json_text, safe_text

HOW_TO_APPLY_FIX = "run `ai --fix --yes` to apply the verified fix, or --dry-run to only show it"


class FixTranscript:
    """The build's plain transcript plus lines for the fix loop's own events."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.base = Transcript(out, err)
        self.out = out

    def show(self, event: Event) -> None:
        line = describe(event)
        if line is not None:
            # Test names and failure messages come from the project's test output.
            self.base._line(safe_text(line, multiline=True))
            if isinstance(event, FixSummary) and event.diff:
                diff = event.diff if event.diff.endswith("\n") else event.diff + "\n"
                self.out.write(safe_text(diff, multiline=True))
                self.out.flush()
            return
        self.base.show(event)


def describe(event: Event) -> str | None:
    """The transcript line(s) of a fix-loop event; None for the events the build's transcript prints."""
    if isinstance(event, FixStarted):
        count = len(event.errors)
        shown = "\n".join(f"  - {line}" for line in event.errors[:8])
        more = f"\n  ... and {count - 8} more" if count > 8 else ""
        return (
            f"fix: {count} failure{'s' if count != 1 else ''} to fix, up to {event.attempts} attempt(s), "
            f"tests: {event.command}\n{shown}{more}"
        )
    if isinstance(event, TestsRun):
        where = "baseline" if event.scope == "baseline" else f"attempt {event.attempt}, {event.scope}"
        if event.ok:
            state = "pass" + (f" ({event.passed} passed)" if event.passed else "")
        elif event.still_failing or event.new_failures:
            parts = []
            if event.still_failing:
                parts.append("still failing: " + ", ".join(event.still_failing[:5]))
            if event.new_failures:
                parts.append("newly failing: " + ", ".join(event.new_failures[:5]))
            state = "; ".join(parts)
        else:
            state = f"{len(event.failing)} failing"
        return f"tests ({where}): {state} ({event.seconds:.2f} s, in a scratch copy)"
    if isinstance(event, FixAttempt):
        if event.outcome == "started":
            return f"attempt {event.number}/{event.attempts} ..."
        files = f" [{', '.join(event.files)}]" if event.files else ""
        reason = f": {event.reason}" if event.reason else ""
        return f"attempt {event.number}/{event.attempts}: {event.outcome.replace('_', ' ')}{files}{reason}"
    if isinstance(event, FixVerified):
        evidence = "\n".join(f"  {line}" for line in event.evidence)
        return (
            f"verified fix (attempt {event.attempt}) for {', '.join(event.files)}:\n{evidence}\n"
            f"  {event.seconds:.2f} s from the failure to this offer: model {event.model_seconds:.2f} s, "
            f"tests {event.test_seconds:.2f} s"
        )
    if isinstance(event, FixSummary):
        lines = "\n".join(f"  {line}" for line in event.attempts)
        closest = f"\nclosest was attempt {event.closest}; its diff (not applied):" if event.diff else ""
        return f"no attempt fixed the failure:\n{lines}{closest}"
    return None


async def run_fix_headless(
    request: FixRequest,
    *,
    apply: bool,
    json_lines: bool,
    ask: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    printer: FixTranscript | JsonLines = JsonLines(out, err) if json_lines else FixTranscript(out, err)

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
    async for event in run_fix(request, decide):
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
    from app.headless import build_overrides, build_root
    from app.session.store import ProjectStore

    root = build_root(args)
    store = ProjectStore(root)
    session = store.session(args.session or DEFAULT_SESSION, activate=True)
    config = load_config(root, build_overrides(args))
    request = FixRequest(
        root=root,
        session=session,
        config=config,
        test_cmd=config.test_cmd,
        dry_run=bool(args.dry_run),
        auto_apply=True if args.yes else None,
        use_git=config.use_git,
    )
    interactive = not (args.json or args.dry_run or args.yes) and sys.stdin.isatty() and sys.stdout.isatty()
    if not (interactive or args.dry_run or args.yes):
        request.show_only = HOW_TO_APPLY_FIX
    return asyncio.run(
        run_fix_headless(request, apply=bool(args.yes), json_lines=bool(args.json), ask=interactive)
    )


SHOWN_SUGGESTIONS = 20


def cmd_suggest(args: argparse.Namespace) -> int:
    """`ai [--session NAME] --suggest [--json]`: ranked suggestions, each with the command that builds it."""
    from app.config import load_config
    from app.headless import build_overrides, build_root
    from app.session.store import ProjectStore
    from app.suggest import build_command, start_build, suggest

    root = build_root(args)
    store = ProjectStore(root)
    name = args.session or DEFAULT_SESSION
    session = store.session(name, create=False) if store.exists(name) else None
    config = load_config(root, build_overrides(args))

    announced: list[str] = []

    def announce(line: str) -> None:
        # Said before the tests run (they may take a while); with --json stdout is one JSON document, so the
        # line goes to stderr, and into the document's notes.
        announced.append(line)
        print(f"note: {line}", file=sys.stderr if args.json else sys.stdout, flush=True)

    report = asyncio.run(
        suggest(root, session=session, config=config, test_cmd=config.test_cmd, announce=announce)
    )
    if args.json:
        report.notes[:0] = announced
        print(json_text(report.to_json(root), indent=2))
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
