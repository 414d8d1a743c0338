"""Read the session index with the standard library only (no TinyDB, orjson or locks).

The index is replaced atomically, so an unlocked read sees a whole file. When it is missing, damaged (it does
not parse, or has the wrong shape: ``schema.INDEX``) or out of step with the session files, this returns None
and the caller falls back to the store, which moves a damaged one aside, says so and rebuilds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.session.schema import check_index

INDEX_VERSION = 2  # the store's (app/session/store.py), repeated: importing the store would load TinyDB


def read_index(data_dir: Path) -> dict[str, Any] | None:
    if not data_dir.exists():
        return {"version": INDEX_VERSION, "active": None, "sessions": {}}
    try:
        with open(data_dir / "index.json", "rb") as handle:
            index: dict[str, Any] = json.loads(handle.read())
        names = {e[:-5] for e in os.listdir(data_dir / "sessions") if e.endswith(".json")}
        check_index(index)
    except (OSError, ValueError, RecursionError):  # ShapeError is a ValueError; json recurses on nesting
        return None
    if index.get("version") != INDEX_VERSION:  # an older index (its counts mean less): the store rebuilds it
        return None
    if set(index["sessions"]) != names:
        return None
    return index


def session_rows(index: dict[str, Any]) -> list[dict[str, Any]]:
    """Metadata objects, most recently used first, with ``is_active`` filled in."""
    active = index.get("active")
    rows = [{**meta, "is_active": name == active} for name, meta in index["sessions"].items()]
    rows.sort(key=lambda m: (m.get("last_used", ""), m.get("name", "")), reverse=True)
    return rows
