"""The one printer of the command line's faces: the plain transcript and JSON Lines.

``--build`` and ``--fix`` print every event of the pipeline and of the fix loop through :class:`Transcript`
(stage lines, the model's prose as it streams, the diff, the fix loop's progress, the outcome) or, with
``--json``, through :class:`JsonLines` (one ``{"event": kind, ...}`` object a line, see ``app.events``).
``--undo`` and the recovery lines print their records through :func:`emit`.

Stderr gets exactly one line, and only when the run fails (one clear line to act on): progress such as
retry notes goes to stdout with everything else. What came from outside (the model's prose and paths, the goal,
file contents in the diff, test names and failure messages) is shown through ``safe_text``: its terminal
controls escaped, and a line's fields kept on their line.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from app.events import (
    Applied,
    BlockCompleted,
    ContextReady,
    DiffReady,
    ErrorEvent,
    Event,
    FilesRead,
    Finished,
    FixAttempt,
    FixStarted,
    FixSummary,
    FixVerified,
    Info,
    ProseDelta,
    Rejected,
    Retrying,
    Stage,
    StageFinished,
    StageStarted,
    TestsRun,
    Usage,
    Waiting,
)
from app.text.terminal import json_text, safe_text


class Transcript:
    """The plain transcript of a build or a fix run."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.mid_line = False  # prose ended without a newline
        self.applied: str | None = None  # the change id the Applied line named
        self.told_wait = False  # a wait of the model's was noted: its end is noted too

    def line(self, text: str, stream: TextIO | None = None) -> None:
        """One whole line on ``stream`` (stdout by default), after ending streamed prose's open line."""
        target = stream or self.out
        if self.mid_line and target is self.out:
            self.out.write("\n")
        self.mid_line = False
        target.write(text + "\n")
        target.flush()

    def show(self, event: Event) -> None:
        fix_line = describe_fix(event)
        if fix_line is not None:
            # Test names and failure messages come from the project's test output.
            self.line(safe_text(fix_line, multiline=True))
            if isinstance(event, FixSummary) and event.diff:
                diff = event.diff if event.diff.endswith("\n") else event.diff + "\n"
                self.out.write(safe_text(diff, multiline=True))
                self.out.flush()
            return
        self.show_build(event)

    def show_build(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            if event.stage in (Stage.PLAN, Stage.EDIT) and not event.detail:
                self.line(f"[{int(event.stage)}/8] {event.stage.label} ...")
        elif isinstance(event, StageFinished):
            detail = f": {safe_text(event.detail)}" if event.detail else ""
            self.line(f"[{int(event.stage)}/8] {event.stage.label}{detail} ({event.seconds:.2f} s)")
        elif isinstance(event, ProseDelta):
            self.out.write(safe_text(event.text, multiline=True))
            self.out.flush()
            self.mid_line = not event.text.endswith("\n")
        elif isinstance(event, BlockCompleted):
            self.line(f"  [{event.block_kind} {safe_text(event.path)}]")
        elif isinstance(event, FilesRead):
            if event.paths:
                partial = f" (outline and regions: {_paths(event.partial)})" if event.partial else ""
                self.line(f"read {_paths(event.paths)}{partial}")
        elif isinstance(event, ContextReady):
            total = event.tokens + event.system_tokens
            fill = (
                f"{100 * total / event.window:.0f}% of the model's {event.window}-token window"
                if event.window
                else "the model's window unknown: set context_window"
            )
            window = f" (the request ~{total} with the system prompt: {fill})"
            self.line(f"context: {event.bytes} bytes, ~{event.tokens} tokens{window}")
        elif isinstance(event, Info):
            self.line(f"note: {safe_text(event.message)}")
        elif isinstance(event, Retrying):
            self.line(
                f"note: {safe_text(event.reason)}; retrying in {event.delay:.1f} s ({event.attempt + 1}/{event.attempts})"
            )
        elif isinstance(event, Waiting):
            self.show_wait(event)
        elif isinstance(event, Usage):
            self.line(f"tokens: {event.prompt_tokens} prompt, {event.completion_tokens} completion")
        elif isinstance(event, DiffReady):
            self.show_diff(event)
        elif isinstance(event, Applied):
            commit = f" (commit {event.commit[:12]})" if event.commit else ""
            self.line(f"applied change {event.change_id} to {_paths(event.files)}{commit}")
            self.applied = event.change_id
        elif isinstance(event, Rejected):
            pass  # the Finished line that follows says it
        elif isinstance(event, ErrorEvent):
            self.line(f"ai: {safe_text(event.message)}", self.err)
        elif isinstance(event, Finished):
            if event.ok:
                # The build's "applied change N to k file(s)" repeats the Applied line: said once is enough.
                if not (self.applied and event.summary.startswith(f"applied change {self.applied} ")):
                    self.line(safe_text(event.summary))
            else:
                self.line(f"failed (exit {event.exit_code})")

    def show_wait(self, event: Waiting) -> None:
        # The start of every first-token wait is no news; a wait that lasts is, and so is how long it took.
        setting = "first_token_timeout" if event.what == "first_token" else "stream_idle_timeout"
        if event.over:
            if self.told_wait and event.what == "first_token":
                self.line(f"note: the model's first token came after {event.waited:.1f} s")
            self.told_wait = False
        elif event.waited > 0:
            self.line(
                f"note: {event.label}: {event.waited:.0f} s so far, at most {event.limit:g} s ({setting}), "
                f"attempt {event.attempt}/{event.attempts}"
            )
            self.told_wait = True

    def show_diff(self, event: DiffReady) -> None:
        self.line("")
        for diff in event.diffs.values():
            self.out.write(safe_text(diff if diff.endswith("\n") else diff + "\n", multiline=True))
        self.out.flush()
        if event.diagnostics:
            from app.pipeline.diagnostics import diagnostic_lines

            self.line("new problems the language server sees in the proposal:")
            for line in diagnostic_lines(event.diagnostics):
                self.line(f"  {safe_text(line)}")


def describe_fix(event: Event) -> str | None:
    """The transcript line(s) of a fix-loop event; None for the events of the build."""
    if isinstance(event, FixStarted):
        count = len(event.errors)
        shown = "\n".join(f"  - {line}" for line in event.errors[:8])
        more = f"\n  ... and {count - 8} more" if count > 8 else ""
        return (
            f"fix: {count} failure{'s' if count != 1 else ''} to fix, up to {event.attempts} attempt(s), "
            f"tests: {event.command}\n{shown}{more}"
        )
    if isinstance(event, TestsRun):
        return _tests_line(event)
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


def _tests_line(event: TestsRun) -> str:
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


def _paths(paths: tuple[str, ...] | list[str]) -> str:
    return ", ".join(safe_text(path) for path in paths)


class JsonLines:
    """``--json``: every event as one JSON object a line on stdout; an error's line on stderr too."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def show(self, event: Event) -> None:
        self.out.write(json_text(event.to_json()) + "\n")
        self.out.flush()
        if isinstance(event, ErrorEvent):
            self.err.write(f"ai: {safe_text(event.message)}\n")
            self.err.flush()


def printer_for(
    json_lines: bool, out: TextIO | None = None, err: TextIO | None = None
) -> Transcript | JsonLines:
    """The printer of a run: JSON Lines with ``--json``, else the plain transcript (stdout, stderr by default)."""
    out = out or sys.stdout
    err = err or sys.stderr
    return JsonLines(out, err) if json_lines else Transcript(out, err)


def emit(record: dict[str, Any], text: str, *, as_json: bool) -> None:
    """A command's record (``{"event": kind, ...}``) as one JSON line with ``--json``, else its text."""
    if as_json:
        print(json_text(record))
    else:
        print(text)


__all__ = ["JsonLines", "Transcript", "describe_fix", "emit", "printer_for"]
