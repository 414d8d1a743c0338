"""What the workspace's first paint imports, seen from a fresh interpreter (a subprocess, so not a Pilot test)."""

from __future__ import annotations

import subprocess
import sys

from app.events import Stage
from widgets.stage_progress import STAGE_LABELS


def test_stage_labels_are_the_pipelines_and_the_first_paint_leaves_its_events_unimported() -> None:
    """The stage row spells the stages itself so the workspace's first paint need not import app.events."""
    assert tuple(stage.label for stage in Stage) == STAGE_LABELS
    assert [int(stage) for stage in Stage] == list(range(1, len(STAGE_LABELS) + 1))
    code = "import sys, app.tui; print(sorted(m for m in ('app.events', 'widgets.approval') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
