"""The fix tests' fixtures: the broken project and the scripted model server (tests/support/fix_project.py)."""

from tests.support.fix_project import broken, model

__all__ = ["broken", "model"]
