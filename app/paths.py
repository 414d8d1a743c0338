"""Where things live: the data root (``AI_AGENT_HOME``), the project root and the project hash."""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import StorageError, UsageError
from app.text.terminal import safe_text

SESSION_NAME_MAX = 64
DEFAULT_SESSION = "main"


def agent_home() -> Path:
    """The data root: ``$AI_AGENT_HOME``, default ``~/.ai-agent``. A usage error when its path is not UTF-8
    (paths under it are stored in change records as JSON text), a storage error when it is not a folder."""
    env = os.environ.get("AI_AGENT_HOME")
    if env and not is_utf8(env):
        raise UsageError(
            f"AI_AGENT_HOME {safe_text(env)} is not valid UTF-8: ai stores paths under it in its sessions; "
            "point it at a folder whose path is UTF-8"
        )
    home = Path(env).expanduser() if env else Path.home() / ".ai-agent"
    if home.exists() and not home.is_dir():
        name = f"AI_AGENT_HOME {home}" if env else f"the data folder {home}"
        raise StorageError(
            f"{name} is not a folder: point AI_AGENT_HOME at a folder (or move that file away); "
            "nothing was written"
        )
    return home


def is_utf8(text: str) -> bool:
    """False for text Python decoded from bytes that are not UTF-8 (argv, environment, file names carry
    them as surrogate escapes, which no JSON file and no HTTP request can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_project_root(start: Path | None = None) -> Path:
    """The git top level containing ``start`` when inside a repository, else ``start`` itself (resolved)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def project_hash(root: Path) -> str:
    """First 16 hex characters of the BLAKE3 digest of the resolved absolute project path."""
    from blake3 import blake3

    path = str(root.resolve())
    if not is_utf8(path):
        raise UsageError(
            f"the project folder {safe_text(path)} is not valid UTF-8: ai keys and stores sessions by that "
            "path; rename the folder so its path is UTF-8"
        )
    return blake3(path.encode()).hexdigest()[:16]


def project_data_dir(root: Path, home: Path | None = None) -> Path:
    return (home or agent_home()) / "data" / project_hash(root)


def is_valid_session_name(name: str) -> bool:
    """1 to 64 of letters, digits, ``-``, ``_`` and ``.``, not starting with ``.`` (a session name)."""
    if not 1 <= len(name) <= SESSION_NAME_MAX or name.startswith("."):
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in name)


def session_name_error(name: str) -> str:
    return (
        f"invalid session name {name!r}: use 1 to {SESSION_NAME_MAX} letters, digits, '-', '_' or '.', "
        "not starting with '.'"
    )
