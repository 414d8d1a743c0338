"""The Textual workspace. Only the command line's TUI path imports this package."""

from app.tui.app import WorkspaceApp, make_app

__all__ = ["WorkspaceApp", "make_app"]
