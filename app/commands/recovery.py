"""The next ``ai`` after a killed one finishes or rolls back what that one left half-done
(app/edits/recovery.py), and says so."""

from __future__ import annotations

import argparse
import sys

from app.commands.options import root_of
from app.paths import agent_home, project_hash


def recover_interrupted(args: argparse.Namespace) -> None:
    """The next `ai` after a killed one finishes or rolls back what it left half-done (app/edits/recovery.py)
    and says so, one line each. Looking costs one directory listing; the edit engine loads only when an
    interrupted change is there."""
    root = root_of(args)
    try:
        pending = any((agent_home() / "backups" / project_hash(root) / "in-flight").iterdir())
    except OSError:
        pending = False
    if not pending:
        return
    from app.commands.printer import emit
    from app.edits.recovery import recover_project
    from app.session.store import ProjectStore

    for line in recover_project(ProjectStore(root)):
        emit({"event": "recovered", "message": line}, line, as_json=bool(args.json))
    sys.stdout.flush()
