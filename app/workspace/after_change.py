"""Issue 8's trigger "tests failing after an applied change": a build's events, then (when the build applied a
change and the project has a test command configured) the tests, and the fix loop when the change broke some.

``Workspace.build`` wraps the build's event stream when the workspace runs no background services::

    async for event in fix_after_build(run_build(request, decide), request, auto_apply=True):
        ...

Only a configured command (``test_cmd`` in .ai-agent.toml or ``--test-cmd``) runs: a detected one would make
every build of a project with a tests/ folder run its suite, which the user did not ask for. The tests run in
a scratch copy like every fix-loop run; the user's tree is written only by applying a verified fix, under the
same rule as ``ai --fix`` (``auto_apply``, else ``Config.auto_fix``, else the fix is shown and not applied).

Only failures the change introduced are the build's doing (the one rule of both faces: app/workspace/verdict.py). Tests that already failed before it are a one-line
note ("N tests already failed before this change: ...; `ai --fix` to work on them"): the build stays exit 0 and
the model is not asked about them. "Before" is found after the fact, in the same scratch copy: the change's
files are put back to their pre-change bytes (from the edit engine's backup, checked against the change
record's ``pre_hash``; a file the change created is removed) and the suite runs once more. That is cheaper than
running the suite before every apply: the extra run happens only when the tests fail after the change, which
is the rare case, whereas a run before the apply would double the test time of every build, also the ones whose
tests pass. It never touches the user's tree either. When the pre-change bytes cannot be had (a backup gone),
every failure counts as new, as before.

New failures start the fix loop with ``errors`` = only the new failures and ``baseline`` = the run after the
change: the loop targets the new ones, and an attempt counts as "breaking something" only for failures beyond
that run, so the old failures neither become targets nor make a fix be rejected.

The stream still ends with exactly one ``Finished``: the build's when nothing more ran, the tests passed or only
old failures remain, else the fix loop's outcome (its exit status: 1 when no fix made the tests pass) with the
build's summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.events import (
    Applied,
    Decision,
    DecisionKind,
    DiffReady,
    Event,
    Finished,
    FixStarted,
    Info,
    TestsRun,
)
from app.fix.testrun import TestOutcome
from app.workspace.verdict import TestVerdict, failing_ids, judge_runs

if TYPE_CHECKING:
    from app.pipeline.state import BuildRequest
    from app.session.store import Session

HOW_TO_APPLY = "run `ai --fix --yes` to apply the verified fix"
SHOWN_IDS = 5  # the old failures named in the note; the rest are counted


@dataclass
class _Runs:
    """The suite after the change and (when it failed and the change could be taken back) before it."""

    after: TestOutcome
    before: TestOutcome | None = None

    def verdict(self) -> TestVerdict:
        before = failing_ids(self.before) if self.before is not None else None
        return judge_runs(before, failing_ids(self.after))


async def fix_after_build(
    build_events: AsyncIterator[Event], request: BuildRequest, *, auto_apply: bool | None = None
) -> AsyncIterator[Event]:
    """The build's events, then the tests and the fix loop after an applied change (see the module's text):
    ``request``'s root, session, config and use_git."""
    from app.fix.loop import FixRequest, run_fix
    from app.fix.testrun import failure_id
    from app.fix.verdicts import plain_failure

    applied: Applied | None = None
    finished: Finished | None = None
    async for event in build_events:
        if isinstance(event, Applied):
            applied = event
        if isinstance(event, Finished):
            finished = event  # held back: the run has one last event
            continue
        yield event
    if finished is None:
        return
    command = request.config.test_cmd
    if applied is None or not finished.ok or not command:
        yield finished
        return
    yield Info(f"running the tests after change {applied.change_id}: {command}")
    runs = await _run_around_change(request, command, applied.change_id)
    verdict = runs.verdict()
    new_ids, old_ids = verdict.new, verdict.still_failing
    yield TestsRun(
        scope="baseline",
        command=runs.after.command,
        ok=runs.after.ok,
        failing=tuple(sorted(plain_failure(i) for i in runs.after.failure_ids()))
        if not runs.after.ok
        else (),
        new_failures=tuple(sorted(plain_failure(i) for i in new_ids)) if runs.before is not None else (),
        passed=runs.after.passed,
        seconds=runs.after.seconds,
    )
    if runs.after.ok:
        yield Info(f"tests pass after change {applied.change_id} ({command})")
        yield finished
        return
    if old_ids:
        note = _old_failures_note(sorted(plain_failure(i) for i in old_ids))
        request.session.append_message("event", note, kind="fix_preexisting", change=applied.change_id)
        yield Info(note)
    if not new_ids:
        yield finished  # the build did its task; what failed before it is not its doing
        return
    errors = [e for e in runs.after.errors if failure_id(e) in new_ids]
    fix = FixRequest(
        root=request.root,
        session=request.session,
        config=request.config,
        test_cmd=command,
        trigger=f"after change {applied.change_id}",
        auto_apply=auto_apply,
        use_git=request.use_git,
        # Only the new failures are targets; the run after the change is what an attempt must not make worse.
        errors=errors or None,
        baseline=runs.after,
        show_only=None if auto_apply or request.config.auto_fix else HOW_TO_APPLY,
    )

    async def never_asked(_ready: DiffReady) -> Decision:  # show_only or auto_apply decide first
        return Decision(DecisionKind.REJECT, feedback=HOW_TO_APPLY)

    fixing = False
    outcome: Finished | None = None
    async for event in run_fix(fix, never_asked):
        fixing = fixing or isinstance(event, FixStarted)
        if isinstance(event, Finished):
            outcome = event
            continue
        yield event
    if outcome is None:
        yield finished
        return
    if not fixing and outcome.ok:
        # Nothing was left to fix (collected nothing, or passed on the re-run): a note, the build's line ends it.
        yield Info(outcome.summary)
        yield finished
        return
    yield Finished(
        ok=outcome.ok, exit_code=outcome.exit_code, summary=f"{outcome.summary} (after {finished.summary})"
    )


def _old_failures_note(names: list[str]) -> str:
    count = len(names)
    shown = ", ".join(names[:SHOWN_IDS]) + (f" and {count - SHOWN_IDS} more" if count > SHOWN_IDS else "")
    tests = "test" if count == 1 else "tests"
    return f"{count} {tests} already failed before this change: {shown}; `ai --fix` to work on them"


async def _run_around_change(request: BuildRequest, command: str, change_id: str) -> _Runs:
    """The suite in a scratch copy of the tree as it is after the change; when it fails, once more in the same
    copy with the change's files put back as they were before it."""
    from app.fix.parsers import ProjectPaths
    from app.fix.scratch import ScratchCopy
    from app.fix.testrun import run_tests
    from app.fix.verdicts import PYTEST_NO_TESTS, cannot_run

    root = Path(request.root).resolve()
    scratch = await asyncio.to_thread(ScratchCopy.create, root)
    try:

        async def suite() -> TestOutcome:
            return await run_tests(
                command, scratch.root, env=scratch.env(), paths=ProjectPaths(scratch.root, also=(root,))
            )

        after = await suite()
        if after.ok or cannot_run(after) is not None:
            return _Runs(after)  # passing, or a command that cannot run: the fix loop says so as before
        if after.exit_code == PYTEST_NO_TESTS and "pytest" in command:
            return _Runs(after)
        before_files = await asyncio.to_thread(_pre_change_files, request.session, change_id)
        if before_files is None:
            return _Runs(after)
        for path, data in before_files.items():
            scratch.write(path, data)
        before = await suite()
        if cannot_run(before) is not None:
            return _Runs(after)  # the old tree cannot be tested: no telling old from new
        return _Runs(after, before)
    finally:
        await asyncio.to_thread(scratch.close)


def _pre_change_files(session: Session, change_id: str) -> dict[str, bytes | None] | None:
    """Every file of the recorded change as it was before it (None: the change created it), from the change's
    backup and checked against the record's ``pre_hash``; None when any of them cannot be had."""
    from app.edits.transaction import backup_bytes
    from app.edits.undo import backup_dir_of
    from app.text.textfile import content_hash

    change = next((c for c in session.changes() if c.get("id") == change_id), None)
    if change is None:
        return None
    backup = backup_dir_of(session, change)
    files: dict[str, bytes | None] = {}
    for entry in change.get("changes", []):
        path, pre_hash = entry.get("path"), entry.get("pre_hash")
        if not path:
            return None
        if entry.get("action") == "create" or pre_hash is None:
            files[path] = None
            continue
        old = backup_bytes(backup, path)
        if old is None or content_hash(old) != pre_hash:
            return None
        files[path] = old
    return files or None
