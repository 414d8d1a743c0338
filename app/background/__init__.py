"""Background intelligence: file watcher, language servers, test watcher and log tailer, per session.

Everything here is headless asyncio (no Textual). One ``BackgroundServices`` per open project and session::

    from app.background import BackgroundServices
    from app.events import FileChanged, TestRunFinished

    async with BackgroundServices(root, config, session=session) as services:
        async for event in services.bus.subscribe():          # an async iterator per subscriber
            print(event.level, event.summary())

or with explicit ``await services.start()`` / ``await services.stop()`` (stop ends every child process and
saves the session's snapshot).

The faces do not make them by hand: ``Workspace(root, config, session, background=True)`` (app/workspace/)
starts them with the symbol index it opened, so the file watcher keeps that index current. The TUI runs the
workspace on the App's own event loop, in an async worker (app/tui/main_screen.py)::

    workspace = Workspace(root, config, session, background=True)
    remove = workspace.bus.add_listener(lambda event: self.post_message(BackgroundNotice(event)))
    await workspace.start()                      # the index, then the services on ``workspace.services``
    for event in workspace.services.restored_events():  # the snapshot saved by the last run of this session
        event_log.add(event.summary(), event.level)

A listener is called synchronously on the loop for every event; keep it quick (post a message). From another
thread use ``bus.publish_threadsafe``. Subscriptions (``bus.subscribe(maxsize, kinds=[...])``) have a bounded
queue: file events merge, and past the bound the oldest are dropped (``subscription.dropped``); publishing
never blocks. ``bus.history`` keeps the last 200 events for a late viewer.

Events (``app.events.BackgroundEvent`` and its kinds, frozen dataclasses like the pipeline's events;
``summary()`` is one line for the event log, ``level`` is "info", "ok", "warning" or "error", ``to_json()`` the
JSON Lines form every event has, ``at`` the wall-clock time):

- ``FileChanged(paths, removed)``: relative paths, after ``.gitignore`` filtering.
- ``DiagnosticsUpdated(path, version, diagnostics, server)``: the current diagnostics of one document, for
  that document version (a stale report is never sent); an empty tuple means the file is clean.
- ``TestRunStarted(command, reason)`` and ``TestRunFinished(passed, failed, failures, command, exit_code,
  duration, errors, skipped, output_tail)``; each failure is ``TestFailure(test_id, file, line, message)``.
- ``LogError(path, entry, error_kind)``: one (possibly multi-line) log entry; ``error_kind`` is "traceback",
  "panic", "fatal", "error" or "exception".
- ``ServiceStatus(name, state, message)``: states "starting", "running", "crashed" (restart pending),
  "restarting", "failed" (gave up), "skipped" (cannot run here, e.g. a server not installed), "stopped".
  Names: "watcher", "tests", "logs", "lsp:<language>", "snapshot".

For an error feed with one-key fixes: ``TestRunFinished.failures`` and ``DiagnosticsUpdated.errors`` carry
file and line; ``LogError.entry`` is the whole traceback.

Other entry points:

- ``await services.diagnose_text(path, text)``: diagnostics of proposed content before it touches the disk
  (the validate stage); ``await services.new_diagnostics(path, text)``: only what the proposed text adds to
  the file's current diagnostics (the diff preview's "new errors"). Code on another thread (a pipeline
  worker) calls ``services.diagnose_text_from_thread(path, text, only_new=True)``, which blocks for the answer.
- ``services.run_tests()``: rerun now (cancels a run in progress).
- ``services.snapshot()`` (the dict stored with ``Session.save_background``), ``services.open_diagnostics()``,
  ``services.last_test_result``, ``services.supervisor.states()``.
- ``python -m app.background [DIR] [--json]``: the services headless, printing every event.
"""

from __future__ import annotations

from app.background.bus import EventBus, Subscription
from app.background.services import BackgroundServices
from app.background.snapshot import BackgroundState
from app.background.supervisor import ServiceUnavailable, Supervisor

__all__ = [
    "BackgroundServices",
    "BackgroundState",
    "EventBus",
    "ServiceUnavailable",
    "Subscription",
    "Supervisor",
]
