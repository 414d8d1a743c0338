"""What the fix loop (app/fix/loop.py) is asked to do: ``FixRequest``, made by the workspace for every face
(app/workspace/core.py) and for the fix after a build (app/workspace/after_change.py); and the timing figures
a verified fix reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.config import Config
from app.fix.parsers import ParsedError
from app.fix.testrun import TestOutcome
from app.session.store import Session


@dataclass
class FixRequest:
    """What to fix and how. ``errors`` is the failure when the caller already knows it (the test watcher, the
    log tailer, a build's test run); without it the test command runs first and its failures are the target.
    ``baseline`` is a run the caller already made of the whole suite (its failures are not "new"), saving one
    run; ``failure_seen_at`` (``time.monotonic()``) is when the failure appeared, for the timing figures."""

    root: Path
    session: Session
    config: Config
    errors: list[ParsedError] | None = None
    test_cmd: str | None = None
    trigger: str = "ai --fix"
    dry_run: bool = False
    auto_apply: bool | None = None  # None: Config.auto_fix
    use_git: bool = True
    baseline: TestOutcome | None = None
    failure_seen_at: float | None = None
    scratch_parent: Path | None = None
    test_timeout: float = 900.0
    # Headless without --yes: a verified fix is shown, neither applied nor rejected; this line says how to
    # apply it (None: ask ``decide``).
    show_only: str | None = None


@dataclass
class FixTiming:
    """Seconds from the failure seen to the fix verified, and how many of them the model and the tests took."""

    seen: float = 0.0
    model: float = 0.0
    tests: float = 0.0
