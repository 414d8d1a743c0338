"""The headless core never imports Textual (pyproject's core-without-textual contract too); the fast paths
import nothing heavy."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import app

HEAVY = ("textual", "openai", "dulwich", "multilspy", "tree_sitter")


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(app.__path__, prefix="app."):
        if info.name in ("app.cli", "app.tui") or info.name.startswith("app.tui."):
            continue
        names.append(info.name)
    return names


def test_core_imports_no_textual() -> None:
    modules = _core_modules()
    assert "app.session.store" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fast_paths_import_nothing_heavy(tmp_path) -> None:
    code = (
        "import sys\n"
        "from app.cli import run\n"
        "for argv in (['--list-sessions'], ['--list-sessions', '--json']):\n"
        "    run(argv)\n"
        "try:\n"
        "    run(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert "HEAVY []" in out.stdout
