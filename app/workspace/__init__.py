"""The workspace: the one orchestrator both faces drive (the headless commands and the TUI), above the
pipeline, the fix loop and the background services.

::

    from app.workspace import Workspace

    async with await Workspace.open(root, config, session, background=True) as ws:
        async for event in ws.build(goal, decide):           # app.events, as they come
            ...
        async for event in ws.fix(failing_run, decide):       # a FixRequest or a background event
            ...
        async for event in ws.subscribe():                    # the background services' events
            ...

- ``Workspace.open(root, config, session, background=False, services_options=None)`` / ``close()``; also an
  async context manager. ``background=True`` opens the symbol index once and starts the background services
  (app/background/), the index handed to their file watcher: a saved file is in the index without a rebuild
  (``await ws.index_updated(path)`` waits for that).
- ``build(goal, decide, *, with_history, dry_run, require_edits, use_git, auto_apply, tests_after)``: a build,
  given the workspace's index and stage 7 check; without background services it also runs the tests after an
  applied change (app/workspace/after_change.py).
- ``fix(source, decide)``, ``fix_request(event, trigger)``: the fix loop; ``tests_fix_request(dry_run,
  auto_apply, show_only)`` its request for the failing tests (``ai --fix``).
- ``undo()`` (``undo_last_change()`` off the event loop), ``undo_plan()`` (its preview), ``export(folder)``,
  ``rerun_tests(reason)``, ``test_command()``, ``suggest(announce, own_snapshot)``, ``clear_context()`` (``/clear``:
  later goals send nothing from before it), ``applied_diffs()`` (``/diff``).
- ``proposal_check()``: stage 7's provider (app/workspace/proposal_check.py).
- The tests-after-change rule of both faces: ``judge_runs(before_ids, after_ids) -> TestVerdict`` with
  ``failing_ids(outcome)`` and ``watcher_failing_ids(run)`` (app/workspace/verdict.py).
"""

from __future__ import annotations

from app.workspace.core import Workspace
from app.workspace.verdict import TestVerdict, failing_ids, judge_runs, watcher_failing_ids

__all__ = ["TestVerdict", "Workspace", "failing_ids", "judge_runs", "watcher_failing_ids"]
