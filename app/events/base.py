"""The base of every event, the pipeline's and the background services' alike: one JSON Lines form for all.

``to_json`` gives ``{"event": kind, field: value, ...}``; a field marked ``metadata={"json": False}`` (an
engine's object) is left out, a value with its own ``to_json`` (a ``Stage``, a ``Diagnostic``) gives that, an
enum its value, containers their items. ``--json`` and ``python -m app.background --json`` print this form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """Base of every event. ``kind`` names it in the JSON Lines form."""

    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind}
        for f in dataclasses.fields(self):
            if f.metadata.get("json", True):
                data[f.name] = _jsonable(getattr(self, f.name))
        return data


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (what ``Event.to_json`` puts in for each field)."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
