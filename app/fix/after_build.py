"""Issue 8's trigger "tests failing after an applied change": a build's events, then (when the build applied a
change and the project has a test command configured) the tests, and the fix loop when they fail, in the same
session.

A face wraps the build's event stream::

    async for event in fix_after_build(run_build(request, decide), request, auto_apply=True):
        ...

Only a configured command (``test_cmd`` in .ai-agent.toml or ``--test-cmd``) runs: a detected one would make
every build of a project with a tests/ folder run its suite, which the user did not ask for. The tests run in
a scratch copy like every fix-loop run; the user's tree is written only by applying a verified fix, under the
same rule as ``ai --fix`` (``auto_apply``, else ``Config.auto_fix``, else the fix is shown and not applied).

The stream still ends with exactly one ``Finished``: the build's when nothing more ran or the tests passed,
else the fix loop's outcome (its exit status: 1 when no fix made the tests pass) with the build's summary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.events import Applied, Decision, DecisionKind, DiffReady, Event, Finished, FixStarted, Info

HOW_TO_APPLY = "run `ai --fix --yes` to apply the verified fix"


async def fix_after_build(
    build_events: AsyncIterator[Event], request: Any, *, auto_apply: bool | None = None
) -> AsyncIterator[Event]:
    """The build's events, then the tests and the fix loop after an applied change (see the module's text).
    ``request`` is the build's ``BuildRequest`` (root, session, config, use_git)."""
    from app.fix.loop import FixRequest, run_fix

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
    fix = FixRequest(
        root=request.root,
        session=request.session,
        config=request.config,
        test_cmd=command,
        trigger=f"after change {applied.change_id}",
        auto_apply=auto_apply,
        use_git=request.use_git,
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
        # The tests pass after the change (or collected nothing): said as a note, the build's line ends it.
        yield Info(outcome.summary)
        yield finished
        return
    yield Finished(
        ok=outcome.ok, exit_code=outcome.exit_code, summary=f"{outcome.summary} (after {finished.summary})"
    )
