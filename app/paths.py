"""Where things live: the data root, the project root and the project hash (PROTOCOL.md section 2)."""

from __future__ import annotations

import os
from pathlib import Path

SESSION_NAME_MAX = 64
DEFAULT_SESSION = "main"


def agent_home() -> Path:
    """The data root: ``$AI_AGENT_HOME``, default ``~/.ai-agent``."""
    env = os.environ.get("AI_AGENT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".ai-agent"


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

    return blake3(str(root.resolve()).encode()).hexdigest()[:16]


def project_data_dir(root: Path, home: Path | None = None) -> Path:
    return (home or agent_home()) / "data" / project_hash(root)


def is_valid_session_name(name: str) -> bool:
    """1 to 64 of letters, digits, ``-``, ``_`` and ``.``, not starting with ``.`` (PROTOCOL.md section 1)."""
    if not 1 <= len(name) <= SESSION_NAME_MAX or name.startswith("."):
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in name)


def session_name_error(name: str) -> str:
    return (
        f"invalid session name {name!r}: use 1 to {SESSION_NAME_MAX} letters, digits, '-', '_' or '.', "
        "not starting with '.'"
    )
