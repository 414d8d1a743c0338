"""The Textual workspace. Only the command line's TUI path imports this package.

``WorkspaceApp`` and ``make_app`` load on first use, so that a widget may import ``app.tui.texts`` (the
workspace's words) without loading the whole App first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.tui.app import WorkspaceApp, make_app

__all__ = ["WorkspaceApp", "make_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.tui import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
