"""``ai [--project DIR] --trust``: show the project config's settings that need trust and trust them, with the
project itself (app/trust.py records it); and the one-line note a headless command prints when settings of an
untrusted project config were ignored."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.errors import UsageError
from app.paths import PROJECT_CONFIG
from app.trust import PROJECT_TRUSTED, digest, untrusted_note, update_trust

if TYPE_CHECKING:
    from app.config import Config


def trust_project(root: Path, out: TextIO | None = None) -> int:
    """``ai --trust``: trust the project (its code may run in the background), and its config's settings that
    need trust as this exact content, after showing them."""
    from app.config import TRUST_NEEDED, parse_project_config

    out = out or sys.stdout
    path = root / PROJECT_CONFIG
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    # An invalid file is a usage error, and then nothing is trusted, not even the project.
    values = parse_project_config(path, data) if data is not None else {}
    if data is None:
        update_trust(root, project=PROJECT_TRUSTED)
    else:
        update_trust(root, config=digest(data), project=PROJECT_TRUSTED)
    out.write(
        f"trusted project {root}: its tests (the test watcher) and its language servers may now run its code "
        "in the background\n"
    )
    if data is None:
        out.write(f"  it has no {PROJECT_CONFIG}\n")
        return 0
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


def tell_untrusted(config: Config, *, output: str = "text") -> None:
    """Print the note (a command calls this once). ``output``: "text" (a line of the plain transcript on
    stdout) or "jsonl" (an ``info`` event among the JSON Lines on stdout)."""
    note = untrusted_note(config)
    if note is None:
        return
    if output == "jsonl":
        from app.events import Info
        from app.text.terminal import json_text

        print(json_text(Info(note).to_json()), flush=True)
    else:
        print(f"note: {note}", flush=True)


def cmd_trust(args: argparse.Namespace) -> int:
    """`ai [--project DIR] --trust` (app/cli.py refuses it with any other command or --session, --continue)."""
    from app.commands.options import root_of

    return trust_project(root_of(args))


def note_untrusted_config(args: argparse.Namespace, root: Path) -> None:
    """Before a headless --build, --fix or --suggest: the one-line note when the project config's settings
    that need trust were ignored (the workspace says it in its event log instead)."""
    from app.commands.options import config_overrides, wants_terminal
    from app.config import load_config

    if args.build is not None and wants_terminal(args):
        return
    output = "jsonl" if args.json else "text"
    tell_untrusted(load_config(root, config_overrides(args)), output=output)
