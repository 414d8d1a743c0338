"""What every command-line face reads from the parsed arguments: the project root, the configuration overrides,
and whether there is a terminal to talk to. One rule each, so the faces cannot drift apart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.paths import project_root

if TYPE_CHECKING:
    from app.session.store import ProjectStore


def root_of(args: argparse.Namespace) -> Path:
    """The project of ``--project DIR`` (default: the one here)."""
    return project_root(args.project)


def store_of(args: argparse.Namespace) -> ProjectStore:
    """The sessions of the project of ``--project DIR``."""
    from app.session.store import ProjectStore

    return ProjectStore(root_of(args))


def working_root(args: argparse.Namespace) -> Path:
    """The project root of a command that lists its files (build, fix, suggest): ``/`` and $HOME are refused,
    minutes of listing files with nothing useful to send."""
    from app.context.inventory import refuse_broad_root

    root = root_of(args)
    refuse_broad_root(root)
    return root


def config_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The configuration the modifiers set (None: not given, the configuration's own value holds)."""
    return {
        "model": args.model,
        "base_url": args.base_url,
        "test_cmd": args.test_cmd,
        "use_git": False if args.no_git else None,
    }


def wants_terminal(args: argparse.Namespace) -> bool:
    """Whether to talk to the user on the terminal (the workspace, or asking before a fix is applied): only
    when both stdin and stdout are terminals and no --yes, --dry-run or --json asks for a headless run
    (README.md "Commands")."""
    headless = bool(args.yes or args.dry_run or args.json)
    return not headless and sys.stdin.isatty() and sys.stdout.isatty()


__all__ = ["config_overrides", "root_of", "store_of", "wants_terminal", "working_root"]
