"""The one structured form every error parser produces, and the path rules they share.

``ParsedError.file``/``line``/``column`` is where the error shows itself in the project (the innermost frame that
lies inside the project, or the compiler's location); ``frames`` is the stack inside the project, outermost first
and innermost last (the order of a Python traceback), whatever order the tool printed it in. Paths are relative
to the project root with forward slashes; frames in the standard library, site-packages, ``node_modules`` or the
Rust toolchain are dropped, because the model cannot fix them and the user did not write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

# Folders whose files are never "the project" even when they sit under its root.
FOREIGN_PARTS = frozenset(
    {"site-packages", "dist-packages", "node_modules", ".venv", "venv", ".tox", "__pypackages__", ".cargo"}
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


@dataclass(frozen=True)
class ParsedError:
    """One error, from whichever tool printed it.

    ``kind`` is what went wrong in the tool's own words (``ZeroDivisionError``, ``TS2322``, ``E0308``, ``panic``,
    ``F821``); ``tool`` says which parser read it (``python``, ``pytest``, ``unittest``, ``tsc``, ``rustc``,
    ``rust-panic``, ``cargo-test``, ``go-test``, ``go-build``, ``node``, ``generic``, ``log``); ``raw`` is the
    text it came from, as printed; ``test_id`` names the failing test when the error is a test failure.
    """

    file: str
    line: int
    column: int
    message: str
    kind: str
    frames: tuple[Frame, ...] = ()
    tool: str = ""
    raw: str = ""
    test_id: str = ""

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")

    def summary(self) -> str:
        """One line: where, what kind, what message."""
        where = f"{self.location}: " if self.location else ""
        test = f"{self.test_id}: " if self.test_id and self.test_id not in where else ""
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        kind = f"{self.kind}: " if self.kind and not first.startswith(self.kind) else ""
        return f"{test}{where}{kind}{first}"[:300]

    def files(self) -> list[str]:
        """The project files this error points at: its location and every frame's file, innermost first."""
        seen: list[str] = []
        for name in [self.file, *(f.file for f in reversed(self.frames))]:
            if name and name not in seen:
                seen.append(name)
        return seen

    def fingerprint(self) -> str:
        """What stays the same when the same error comes back: kind, file and the message without numbers,
        quotes' contents and addresses (used to tell recurring errors and whether a failure is gone)."""
        message = re.sub(
            r"0x[0-9a-fA-F]+|\d+", "N", self.message.strip().splitlines()[0] if self.message else ""
        )
        message = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "Q", message)
        return f"{self.kind}|{self.file}|{self.test_id}|{message[:160]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "kind": self.kind,
            "frames": [f.to_json() for f in self.frames],
            "tool": self.tool,
            "test_id": self.test_id,
            "raw": self.raw,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedError:
        frames = tuple(
            Frame(str(f["file"]), int(f["line"]), str(f.get("function", ""))) for f in data["frames"]
        )
        return cls(
            file=str(data.get("file", "")),
            line=int(data.get("line", 0)),
            column=int(data.get("column", 0)),
            message=str(data.get("message", "")),
            kind=str(data.get("kind", "")),
            frames=frames,
            tool=str(data.get("tool", "")),
            raw=str(data.get("raw", "")),
            test_id=str(data.get("test_id", "")),
        )


@dataclass
class RunCounts:
    """A test run's closing counts, as its runner printed them."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


@dataclass
class ProjectPaths:
    """Turns the paths tools print into project-relative ones, or None for files outside the project.

    ``root`` may be None (only relative paths are then taken as the project's). Work is on strings, so a
    capture from another machine parses the same; ``exists`` is consulted only to map Go's bare file names.
    """

    root: Path | None = None
    # Other absolute folders that stand for the same project (the user's tree when tests ran in a copy).
    also: tuple[Path, ...] = ()
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names: set[str] = set()
        for folder in (*([self.root] if self.root is not None else []), *self.also):
            names.add(str(folder).rstrip("/"))
            try:
                names.add(str(folder.resolve()))
            except OSError:
                pass
        self.aliases = tuple(sorted(names, key=len, reverse=True))

    def relative(self, printed: str) -> str | None:
        path = printed.strip().strip("\"'")
        if not path or path.startswith(("<", "node:", "/rustc/", "[")):
            return None
        if path.startswith("file://"):
            path = path[len("file://") :]
        if path.startswith("/"):
            for alias in self.aliases:
                if path.startswith(alias + "/"):
                    path = path[len(alias) + 1 :]
                    break
            else:
                return None
        parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("", ".")]
        if not parts or ".." in parts or FOREIGN_PARTS.intersection(parts):
            return None
        return "/".join(parts)


def project_paths(root: Path | ProjectPaths | None) -> ProjectPaths:
    """The path rules for ``root`` (a folder, rules made already, or None: relative paths only)."""
    return root if isinstance(root, ProjectPaths) else ProjectPaths(root)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def dedupe(errors: list[ParsedError]) -> list[ParsedError]:
    """The same error printed twice (a traceback echoed by a runner) is kept once, first place wins."""
    seen: set[tuple[str, int, str, str, str]] = set()
    kept: list[ParsedError] = []
    for error in errors:
        key = (error.file, error.line, error.kind, error.message.strip()[:200], error.test_id)
        if key not in seen:
            seen.add(key)
            kept.append(error)
    return kept
