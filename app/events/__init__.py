"""Every event of ``ai`` in one hierarchy, and the typed records they carry: the contract between the core and
its faces. Import from here (``from app.events import DiffReady, TestRunFinished``).

- ``base``: ``Event``, the base of all, and its JSON Lines form (``to_json``).
- ``pipeline``: the build's and the fix loop's events (stages, the streamed reply, the proposal, the outcome),
  ``Stage`` and the user's ``Decision``.
- ``background``: what the background services publish on their bus (``BackgroundEvent`` and its kinds:
  files changed, diagnostics, test runs, log errors, service states).
- ``records``: ``Diagnostic`` and ``TestFailure``, the records those events carry.

The standard library and the answer's records (app/text/editblocks.py, itself standard library only): the fast
paths (``ai --help``, ``--list-sessions``) may import it.
"""

from __future__ import annotations

from app.events.background import (
    BackgroundEvent,
    DiagnosticsUpdated,
    FileChanged,
    LogError,
    ServiceStatus,
    TestRunFinished,
    TestRunStarted,
)
from app.events.base import Event
from app.events.pipeline import (
    Applied,
    AwaitingDecision,
    BlockCompleted,
    ContextEntry,
    ContextReady,
    Decision,
    DecisionKind,
    DiffReady,
    ErrorEvent,
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
    Why,
)
from app.events.records import (
    Diagnostic,
    TestFailure,
)

__all__ = [
    "Applied",
    "AwaitingDecision",
    "BackgroundEvent",
    "BlockCompleted",
    "ContextEntry",
    "ContextReady",
    "Decision",
    "DecisionKind",
    "Diagnostic",
    "DiagnosticsUpdated",
    "DiffReady",
    "ErrorEvent",
    "Event",
    "FileChanged",
    "FilesRead",
    "Finished",
    "FixAttempt",
    "FixStarted",
    "FixSummary",
    "FixVerified",
    "Info",
    "LogError",
    "ProseDelta",
    "Rejected",
    "Retrying",
    "ServiceStatus",
    "Stage",
    "StageFinished",
    "StageStarted",
    "TestFailure",
    "TestRunFinished",
    "TestRunStarted",
    "TestsRun",
    "Usage",
    "Waiting",
    "Why",
]
