"""The export of a session (README.md "How sessions are stored"): one JSON document, written the same way by every face
(``ai --export-session`` and the workspace's "export session")."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import RefusedError, UsageError
from app.paths import agent_home
from app.text.terminal import json_text

if TYPE_CHECKING:
    from app.session.store import ProjectStore

EXPORTS_FOLDER = "exports"


def export_text(store: ProjectStore, name: str) -> str:
    """Session ``name`` as its export document's text: no control character left raw for whoever prints it."""
    return json_text(store.export_session(name), indent=2) + "\n"


def write_export(
    store: ProjectStore,
    name: str,
    target: Path | None = None,
    *,
    folder: Path | None = None,
    shown: str | None = None,
) -> Path:
    """Write session ``name``'s export to ``target`` (atomically) and return where it went.

    Without ``target``: a new file in ``folder`` (default: the data root's exports folder), named by the
    session and the time: the workspace's export. A target the user named is never replaced (a typo,
    `--export-session main calc/ops.py`, must not overwrite a file), and its folder must exist; ``shown`` is
    how the user spelled it, for the error line."""
    from app.project.atomic import atomic_write_bytes

    text = export_text(store, name)
    if target is None:
        folder = folder or agent_home() / EXPORTS_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    else:
        shown = shown or str(target)
        if os.path.lexists(target):
            raise RefusedError(f"{shown} exists: choose another name or remove it first")
        if not target.parent.is_dir():
            raise UsageError(f"cannot write {shown}: folder {target.parent} does not exist")
        target = target.resolve()
    atomic_write_bytes(target, text.encode())
    return target
