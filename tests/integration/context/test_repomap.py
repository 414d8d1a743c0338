"""The repo map: the definitions that matter, within the budget, the same bytes in every process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.context.index import SymbolIndex
from app.context.repomap import repo_map
from tests.conftest import REPO


def make_project(root: Path) -> None:
    files = {
        "core/db.py": "class Connection:\n    def query(self, sql):\n        pass\n\n\ndef connect(url):\n    return Connection()\n",
        "core/util.py": "def slugify(text):\n    return text\n\n\ndef _private():\n    pass\n",
        "web/views.py": "from core.db import connect\n\n\ndef index(request):\n    return connect('x').query('q')\n",
        "web/admin.py": "from core.db import connect\n\n\ndef admin(request):\n    connect('y')\n    return slugify('a')\n",
        "jobs/nightly.py": "def run():\n    connect('z')\n",
        "lib/geo.go": "package geo\n\nfunc Distance(a, b int) int {\n\treturn a - b\n}\n",
    }
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def test_most_referenced_definitions_come_first(project: Path) -> None:
    make_project(project)
    with SymbolIndex.open(project) as index:
        # A tight budget keeps the best: connect (called from three other files), then slugify (one).
        tight = repo_map(index, token_budget=20)
        full = repo_map(index)
    assert tight == "core/db.py:\n    6: def connect(url):\ncore/util.py:\n    1: def slugify(text):\n"
    # Within a file the outline keeps source order.
    assert full.startswith("core/db.py:\n    1: class Connection:\n    2:     def query(self, sql):\n")


def test_focus_brings_the_goal_files_and_names_forward(project: Path) -> None:
    make_project(project)
    with SymbolIndex.open(project) as index:
        text = repo_map(index, focus_files=["lib/geo.go"], focus_identifiers=["slugify"])
    assert text.startswith("core/util.py:\n    1: def slugify(text):\n    5: def _private():\nlib/geo.go:\n")


def test_the_budget_is_respected(project: Path) -> None:
    make_project(project)
    with SymbolIndex.open(project) as index:
        small = repo_map(index, token_budget=20)
        large = repo_map(index, token_budget=2000)
    assert len(small) <= 20 * 4
    assert small.splitlines()[0] == large.splitlines()[0]
    assert len(large) > len(small)
    assert "Distance" in large


def test_the_map_is_the_same_bytes_in_two_processes(project: Path, tmp_path: Path) -> None:
    make_project(project)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.context.index import SymbolIndex\n"
        "from app.context.repomap import repo_map\n"
        "index = SymbolIndex.open(Path(sys.argv[1]))\n"
        "sys.stdout.write(repo_map(index, focus_files=['web/views.py'], focus_identifiers=['query', 'run']))\n"
    )
    outputs = []
    for seed in ("1", "4242"):
        home = tmp_path / f"home-{seed}"  # each process builds its own index from nothing
        env = {**os.environ, "PYTHONHASHSEED": seed, "AI_AGENT_HOME": str(home)}
        result = subprocess.run(
            [sys.executable, "-c", script, str(project)],
            env=env,
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    with SymbolIndex.open(project) as index:
        here = repo_map(index, focus_files=["web/views.py"], focus_identifiers=["run", "query"])
    assert here.encode() == outputs[0]
    assert b"core/db.py:" in outputs[0]


def test_a_cached_map_is_dropped_when_the_index_changes(project: Path) -> None:
    make_project(project)
    with SymbolIndex.open(project) as index:
        before = repo_map(index)
        (project / "core/util.py").write_text("def slugify_everything(text):\n    return text\n")
        index.update_file("core/util.py")
        after = repo_map(index)
    assert "slugify_everything" in after and "slugify_everything" not in before


def test_what_the_goal_files_use_outranks_what_is_popular(project: Path) -> None:
    make_project(project)
    (project / "jobs" / "nightly.py").write_text("def run():\n    slugify('z')\n")
    with SymbolIndex.open(project) as index:
        text = repo_map(index, focus_files=["jobs/nightly.py"], token_budget=30)
    # connect is called from three files, slugify from two; but the goal's file uses slugify.
    assert text.startswith("jobs/nightly.py:\n    1: def run():\ncore/util.py:\n    1: def slugify(text):\n")


def test_an_updated_index_maps_like_one_built_afresh(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(project)
    with SymbolIndex.open(project) as index:
        (project / "web" / "admin.py").write_text("def admin(request):\n    return index(request)\n")
        index.update_file("web/admin.py")
        (project / "jobs" / "nightly.py").unlink()
        index.remove_file("jobs/nightly.py")
        (project / "jobs" / "weekly.py").write_text("def weekly():\n    slugify('a')\n    slugify('b')\n")
        index.update_file("jobs/weekly.py")
        updated = repo_map(index, focus_files=["web/views.py"])
        updated_stats = index.reference_stats()
    assert updated_stats["connect"] == (1, 1)  # only views.py calls it now
    assert updated_stats["slugify"] == (1, 2)  # weekly.py, twice
    monkeypatch.setenv("AI_AGENT_HOME", str(tmp_path / "fresh-home"))
    with SymbolIndex.open(project) as fresh:
        assert fresh.reference_stats() == updated_stats
        assert repo_map(fresh, focus_files=["web/views.py"]) == updated
