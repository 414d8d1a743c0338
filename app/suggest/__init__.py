"""Proactive suggestions: what to improve next, each with its place, reason and the build that starts it.

- ``signals``: where suggestions come from (failing tests, language-server diagnostics, TODO/FIXME comments,
  long or complex functions through tree-sitter, patterns across the project's sessions), each a
  ``Suggestion``.
- ``ranking``: their order, heuristic or the model's.
- ``report``: ``await suggest(root, session=..., config=...)`` gathers and ranks them into a
  ``SuggestionReport``; ``start_build(root, suggestion)`` gives the goal and a new session name to build one
  in, ``build_command`` the ``ai --build`` line that does it.

This package sits above ``app.fix`` (it runs the tests in a scratch copy and reads their failures with its
parsers); ``app.fix`` never imports it.
"""

from __future__ import annotations

from app.suggest.report import SuggestionReport, build_command, start_build, suggest
from app.suggest.signals import Suggestion

__all__ = ["Suggestion", "SuggestionReport", "build_command", "start_build", "suggest"]
