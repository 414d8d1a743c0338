"""Typed records the events carry, and the faces, the store and the fix loop read: a language server's
``Diagnostic`` and a ``TestFailure`` of a test run. Each has ``to_json``/``from_json``: JSON is made only where
a record leaves the process (a face's ``--json``, the session's background snapshot)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Diagnostic:
    """One language-server diagnostic; lines and columns are 1-based, ``path`` relative to the project."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str  # "error", "warning", "information" or "hint"
    message: str
    source: str = ""
    code: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def summary(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


class TestFailure(NamedTuple):
    """One failing test: its id (``tests/test_x.py::test_y``), the file and line where it failed, why."""

    test_id: str
    file: str
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestFailure:
        return cls(str(data["test_id"]), str(data["file"]), int(data["line"]), str(data["message"]))


TestFailure.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class
