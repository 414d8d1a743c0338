"""Trust for a project's own ``.ai-agent.toml``, like direnv's allow.

A cloned repository chooses its ``.ai-agent.toml``. The settings in it that send data or run commands
(``app.config.TRUST_NEEDED``: the endpoint, the test command, log files, ...) take effect only when the user
trusted that exact file content with ``ai --trust``: ``$AI_AGENT_HOME/trust.json`` maps the project root to
the BLAKE3 digest of the file's bytes, so an edited file (a pull, a checkout) needs trusting again. Flags, the
environment and the user's own ``$AI_AGENT_HOME/config.toml`` are always trusted.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.errors import UsageError
from app.paths import agent_home

if TYPE_CHECKING:
    from app.config import Config

TRUST_FILE = "trust.json"
HOW_TO_TRUST = "`ai --trust` shows it and trusts it"


def trust_file() -> Path:
    return agent_home() / TRUST_FILE


def digest(data: bytes) -> str:
    """The BLAKE3 hex digest of a config file's bytes: what a trust is for."""
    from blake3 import blake3

    return blake3(data).hexdigest()


def _key(root: Path) -> str:
    return str(root.resolve())


def _read_all(*, strict: bool) -> dict[str, str]:
    """The recorded trusts. An unreadable file trusts nothing (``strict``: a usage error instead, so that
    recording a new trust never throws the others away)."""
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
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def trust_state(root: Path, data: bytes) -> str:
    """``"trusted"`` when this exact content is trusted for this project, ``"changed"`` when another content
    was, else ``"untrusted"``."""
    recorded = _read_all(strict=False).get(_key(root))
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


def record_trust(root: Path, data: bytes) -> None:
    """Trust ``data`` as the content of ``root``'s project config (replacing an older trust of it)."""
    from app.session.storage import atomic_write_bytes

    with _locked():
        trusts = _read_all(strict=True)
        trusts[_key(root)] = digest(data)
        text = json.dumps(trusts, indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(trust_file(), text.encode())


def trust_current(root: Path) -> None:
    """Trust the project config as it is now, without showing it (what ``ai --trust`` records)."""
    from app.config import PROJECT_CONFIG

    record_trust(root, (root / PROJECT_CONFIG).read_bytes())


def trust_project(root: Path, out: TextIO | None = None) -> int:
    """``ai --trust``: show the project config's settings that need trust, then trust this exact content."""
    from app.config import PROJECT_CONFIG, TRUST_NEEDED, parse_project_config

    out = out or sys.stdout
    path = root / PROJECT_CONFIG
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no {PROJECT_CONFIG} in {root}: nothing to trust") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    values = parse_project_config(path, data)  # an invalid file is a usage error, never trusted
    record_trust(root, data)
    shown = [key for key in TRUST_NEEDED if key in values]
    out.write(f"trusted {path} (blake3 {digest(data)[:16]})\n")
    if shown:
        for key in shown:
            out.write(f"  {key} = {_toml_value(values[key])}\n")
    else:
        out.write(f"  it sets none of {', '.join(TRUST_NEEDED)}\n")
    out.write(f"a change to {PROJECT_CONFIG} needs `ai --trust` again\n")
    return 0


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    return json.dumps(value)


def untrusted_note(config: Config) -> str | None:
    """The one line telling what the untrusted project config set that was ignored, or None."""
    if not config.untrusted:
        return None
    why = "changed since you trusted it" if config.project_trust == "changed" else "not trusted"
    return f"ignored {', '.join(config.untrusted)} from .ai-agent.toml ({why}): {HOW_TO_TRUST}"


def tell_untrusted(config: Config, *, output: str = "text") -> None:
    """Print the note (a command calls this once). ``output``: "text" (a line of the plain transcript on
    stdout), "jsonl" (an ``info`` event among the JSON Lines on stdout), "json" (stdout is one JSON document:
    the line goes to stderr)."""
    note = untrusted_note(config)
    if note is None:
        return
    if output == "jsonl":
        from app.events import Info
        from app.terminal_text import json_text

        print(json_text(Info(note).to_json()), flush=True)
    else:
        print(f"note: {note}", file=sys.stderr if output == "json" else sys.stdout, flush=True)


def cmd_trust(args: argparse.Namespace, root: Path) -> int:
    """`ai [--project DIR] --trust`."""
    others = [
        flag
        for flag, on in (
            ("--build", args.build is not None),
            ("--fix", args.fix),
            ("--suggest", args.suggest),
            ("--undo", args.undo),
            ("--continue", args.continue_),
            ("--session", args.session is not None),
            ("--list-sessions", args.list_sessions),
            ("--delete-session", args.delete_session is not None),
            ("--export-session", args.export_session is not None),
            ("--import-session", args.import_session is not None),
            ("--search", getattr(args, "search", None) is not None),
        )
        if on
    ]
    if others:
        raise UsageError(f"--trust goes alone (with --project DIR at most), not with {others[0]}")
    return trust_project(root)


def note_untrusted_config(args: argparse.Namespace, root: Path) -> None:
    """Before a headless --build, --fix or --suggest: the one-line note when the project config's settings
    that need trust were ignored (the workspace says it in its event log instead)."""
    from app.config import load_config
    from app.headless import build_overrides, wants_headless

    if args.build is not None and not wants_headless(args):
        return
    output = ("json" if args.suggest else "jsonl") if args.json else "text"
    tell_untrusted(load_config(root, build_overrides(args)), output=output)
