"""The rules of the code's shape over app/ and widgets/: the import contracts hold (import-linter, the
contracts in pyproject.toml), and what those cannot see: no module imports another's private name, no file over
600 lines, every module says what it is for, and no comment cites a design file the repository does not hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("app", "widgets")
MAX_LINES = 600
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Design notes kept outside the repository: a comment says what it means instead.
OUTSIDE_NOTES = ("DESIGN.md", "PROTOCOL.md", "STYLE.md")


def sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))


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


def test_the_import_contracts_hold() -> None:
    """What .ci/run checks after mypy, here too, so the test suite alone catches a broken layer or a cycle (a
    fraction of a second: the graph is built from scratch, nothing is cached in the checkout)."""
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_imports_another_modules_private_name() -> None:
    found = set().union(
        *(private_imports(p.read_text(), module_name(p), p.name == "__init__.py") for p in sources())
    )
    assert found == set(), "make these public, or move them where both modules reach them"


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


def test_no_file_is_over_600_lines() -> None:
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in sources()}
    big = {path: lines for path, lines in sizes.items() if lines > MAX_LINES}
    assert big == {}, "split these by what they do"


def test_every_module_says_what_it_is_for() -> None:
    undocumented = [
        str(p.relative_to(REPO)) for p in sources() if ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert undocumented == []


def test_no_comment_cites_a_design_note_outside_the_repository() -> None:
    # The tests too, all but this file, which names the notes to look for.
    tests = [p for p in sorted((REPO / "tests").rglob("*.py")) if p != Path(__file__).resolve()]
    citing = [
        f"{p.relative_to(REPO)}: {note}"
        for p in [*sources(), *tests]
        for note in OUTSIDE_NOTES
        if note in p.read_text()
    ]
    assert citing == []
