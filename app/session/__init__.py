"""Persistence: project hash, session metadata, messages, applied changes, undo entries, background state.

Import :mod:`app.session.store` for the API; :mod:`app.session.fastindex` is the stdlib-only reader that
``ai --list-sessions`` uses so it starts in a few tens of milliseconds.
"""
