"""No module of app/ or widgets/ imports another module's private name (``from app.x import _helper``, inside
a function too): a name another module needs is public, or lives where both can reach it.

import-linter (the contracts in pyproject.toml) sees modules, not names, so this is checked here."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("app", "widgets")
# The private imports the restructure (issue 12) is removing; nothing may join them. Empty it when they are gone.
TODAYS = {
    ("app.fix.after_build", "app.fix.loop", "_plain"),
    ("app.fix.after_build", "app.fix.loop", "_cannot_run"),
    ("app.fix.after_build", "app.edits.undo", "_backup_dir"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_module(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of the module ``node`` imports from (``from . import x`` and ``from ..y import x``
    resolved against ``importer``)."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(source: str, importer: str, is_package: bool = False) -> set[tuple[str, str, str]]:
    """(importer, imported module, name) for every private name the module ``importer`` (its ``source``)
    imports from another module of app/ or widgets/."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        imported = imported_module(importer, is_package, node)
        if imported.split(".")[0] not in PACKAGES or imported == importer:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.add((importer, imported, alias.name))
    return found


def test_no_module_imports_another_modules_private_name() -> None:
    paths = [path for package in PACKAGES for path in (REPO / package).rglob("*.py")]
    found = set().union(
        *(private_imports(p.read_text(), module_name(p), p.name == "__init__.py") for p in paths)
    )
    assert found - TODAYS == set(), "make these names public, or move them where both modules can reach them"


def test_the_check_sees_relative_imports_and_imports_inside_functions() -> None:
    source = (
        "from ._shared import _own\n"
        "def f():\n"
        "    from .loop import _plain, public\n"
        "    from app.edits.undo import _backup_dir\n"
        "    from textual.widgets import _markdown\n"
    )
    assert private_imports(source, "app.fix.probe") == {
        ("app.fix.probe", "app.fix._shared", "_own"),
        ("app.fix.probe", "app.fix.loop", "_plain"),
        ("app.fix.probe", "app.edits.undo", "_backup_dir"),
    }
    # A package's own private names (and modules) are its own.
    assert private_imports("from . import _x\n", "app.fix", is_package=True) == set()
