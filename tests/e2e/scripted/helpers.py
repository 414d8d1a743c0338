"""Assertions the end-to-end tests share: what a user sees on stderr and in git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import git


def one_line(stderr: str) -> str:
    """The failure line: exactly one line, `ai: ...`, no traceback."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("ai: "), lines[0]
    return lines[0]


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
