"""A cloned repository whose own code leaves a mark when it runs: its ``conftest.py`` and the ``.venv/bin/python``
it ships (a shim that appends to the marker, then runs the real interpreter). What a stranger's repository can
do to whoever opens it; shared by the trust tests of tests/integration/config and tests/tui."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.conftest import git

CALC = "def add(a, b):\n    return a + b\n"
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def cloned_repository(tmp_path: Path) -> tuple[Path, Path]:
    """(the clone, the marker file its code appends to when it runs; absent until then)."""
    marker = tmp_path / "project-code-ran.log"
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "calc.py").write_text(CALC)
    (origin / "tests").mkdir()
    (origin / "tests/test_calc.py").write_text(TESTS)
    (origin / "conftest.py").write_text(
        f"with open({str(marker)!r}, 'a') as mark:\n    mark.write('conftest.py ran\\n')\n"
    )
    shim = origin / ".venv/bin/python"
    shim.parent.mkdir(parents=True)
    # Without the shared venv's pytest plugins: the same runner, a fifth of the start-up time.
    shim.write_text(
        "#!/bin/sh\n"
        f'echo ".venv/bin/python ran: $*" >> {shlex.quote(str(marker))}\n'
        f'PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 exec {shlex.quote(sys.executable)} "$@"\n'
    )
    shim.chmod(0o755)
    (origin / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    git(origin, "add", "-f", ".")
    git(origin, "commit", "-q", "-m", "calc")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert (clone / ".venv/bin/python").stat().st_mode & 0o111
    return clone, marker
