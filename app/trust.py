"""Trust: of a project's own ``.ai-agent.toml`` (like direnv's allow), and of the project itself (like an
editor's workspace trust). Both live in ``$AI_AGENT_HOME/trust.json``, one entry per project root.

A cloned repository chooses its ``.ai-agent.toml``. The settings in it that send data or run commands
(``app.config.TRUST_NEEDED``: the endpoint, the test command, log files, ...) take effect only when the user
trusted that exact file content with ``ai --trust``: the entry holds the BLAKE3 digest of the file's bytes, so
an edited file (a pull, a checkout) needs trusting again. Flags, the environment and the user's own
``$AI_AGENT_HOME/config.toml`` are always trusted.

A cloned repository also chooses its code: running its tests runs its ``conftest.py`` and its
``.venv/bin/python``, a language server may load its plugins. Nothing of the project's code runs in the
background (app/background/services.py) until the user trusted the project: ``ai --trust``, or the
workspace's question on the first open (whose "Not now" is remembered too, so it is asked once). What the user
types (``ai --fix``, ``ai --suggest``) may run the tests, and says which command.

This module is the digest store (what is trusted, read and recorded), below app/config.py, which asks it: it
imports only the basics (app.errors, app.paths) and the one atomic writer (app/project/atomic.py). ``ai
--trust`` itself, which shows the file and prints, is app/commands/trust.py.

``trust.json``: ``{"<root>": {"config": "<blake3 of .ai-agent.toml>", "project": "trusted" | "not-now"}}``;
a plain string as the value is the older form of the same file, the config digest alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from app.errors import UsageError
from app.paths import PROJECT_CONFIG, agent_home

TRUST_FILE = "trust.json"
HOW_TO_TRUST = "`ai --trust` shows it and trusts it"
# How to trust a project whose code waits for it (the workspace's palette has the command).
HOW_TO_TRUST_PROJECT = '`ai --trust`, or "Trust this project" in the workspace\'s palette (ctrl+p)'
PROJECT_TRUSTED = "trusted"
PROJECT_NOT_NOW = "not-now"


def trust_file() -> Path:
    return agent_home() / TRUST_FILE


def digest(data: bytes) -> str:
    """The BLAKE3 hex digest of a config file's bytes: what a trust is for."""
    from blake3 import blake3

    return blake3(data).hexdigest()


def _key(root: Path) -> str:
    return str(root.resolve())


def _read_all(*, strict: bool) -> dict[str, dict[str, str]]:
    """The recorded trusts, per project root. An unreadable file trusts nothing (``strict``: a usage error
    instead, so that recording a new trust never throws the others away)."""
    path = trust_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if strict:
            raise UsageError(f"cannot read {path}: {exc}; fix or remove it") from None
        return {}
    if not isinstance(data, dict):
        if strict:
            raise UsageError(f"{path} is not a JSON object of project folders; fix or remove it")
        return {}
    entries: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            entries[str(key)] = {"config": value}
        elif isinstance(value, dict):
            entries[str(key)] = {str(k): v for k, v in value.items() if isinstance(v, str)}
    return entries


def _entry(root: Path) -> dict[str, str]:
    return _read_all(strict=False).get(_key(root), {})


def trust_state(root: Path, data: bytes) -> str:
    """``"trusted"`` when this exact content is trusted for this project, ``"changed"`` when another content
    was, else ``"untrusted"``."""
    recorded = _entry(root).get("config")
    if recorded is None:
        return "untrusted"
    return "trusted" if recorded == digest(data) else "changed"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One writer of trust.json at a time (two `ai --trust` in different projects both keep theirs)."""
    home = agent_home()
    home.mkdir(parents=True, exist_ok=True)
    with open(home / f".{TRUST_FILE}.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def update_trust(root: Path, **fields: str) -> None:
    """Set ``fields`` in ``root``'s entry of trust.json (the other entries and fields stay)."""
    from app.project.atomic import atomic_write_bytes

    with _locked():
        trusts = _read_all(strict=True)
        trusts.setdefault(_key(root), {}).update(fields)
        text = json.dumps(trusts, indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(trust_file(), text.encode())


def project_answer(root: Path) -> str | None:
    """What the user said about running this project's code: ``PROJECT_TRUSTED``, ``PROJECT_NOT_NOW``
    (asked once, not trusted), or None (never asked)."""
    return _entry(root).get("project")


def project_trusted(root: Path) -> bool:
    """Whether this project's own code (its tests, its virtualenv's Python, language-server plugins) may run
    in the background. An unreadable trust.json trusts nothing."""
    return project_answer(root) == PROJECT_TRUSTED


def record_project_trust(root: Path, answer: str = PROJECT_TRUSTED) -> None:
    """Remember the user's answer for the project: trusted (``ai --trust``, the workspace's question) or
    "not now" (the question is not asked again)."""
    if answer not in (PROJECT_TRUSTED, PROJECT_NOT_NOW):
        raise ValueError(f"not an answer about project trust: {answer!r}")
    update_trust(root, project=answer)


def trust_current(root: Path) -> None:
    """Trust the project and its config as it is now, without showing it (what ``ai --trust`` records)."""
    data = (root / PROJECT_CONFIG).read_bytes()
    update_trust(root, config=digest(data), project=PROJECT_TRUSTED)


class TrustOutcome(Protocol):
    """What a loaded configuration says of its project config's trust (``app.config.Config`` has these)."""

    @property
    def project_trust(self) -> str: ...

    @property
    def untrusted(self) -> tuple[str, ...]: ...


def untrusted_note(config: TrustOutcome) -> str | None:
    """The one line telling what the untrusted project config set that was ignored, or None."""
    if not config.untrusted:
        return None
    why = "changed since you trusted it" if config.project_trust == "changed" else "not trusted"
    return f"ignored {', '.join(config.untrusted)} from .ai-agent.toml ({why}): {HOW_TO_TRUST}"
