"""The index on disk: incremental updates, rebuilds of damaged or stale stores, the parallel cold build."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.context import indexdb
from app.context.index import SymbolIndex, index_dir_for


def write(root: Path, relpath: str, text: str) -> None:
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def small_project(root: Path) -> Path:
    write(root, "app/models.py", "class User:\n    def save(self):\n        return validate(self)\n")
    write(root, "app/checks.py", "def validate(obj):\n    return True\n")
    write(root, "README.md", "The User model is saved after validate passes.\n")
    return root


def test_update_after_an_edit(project: Path) -> None:
    small_project(project)
    with SymbolIndex.open(project) as index:
        assert [s.line for s in index.definitions("validate")] == [1]
        write(project, "app/checks.py", "import re\n\n\ndef check_email(text):\n    return '@' in text\n")
        index.update_file("app/checks.py")
        assert index.definitions("validate") == []
        [check] = index.definitions("check_email")
        assert (check.path, check.line, check.end_line) == ("app/checks.py", 4, 5)
        # The identifier index follows: validate is only in the callers now, check_email only here.
        assert index.files_with_identifier("validate") == ["README.md", "app/models.py"]
        assert index.files_with_identifier("check_email") == ["app/checks.py"]
    # And the change was persisted: a new process (here a new open) sees it without re-reading.
    with SymbolIndex.open(project, build=False) as again:
        assert [s.name for s in again.outline("app/checks.py")] == ["check_email"]


def test_update_after_a_rename_and_a_delete(project: Path) -> None:
    small_project(project)
    with SymbolIndex.open(project) as index:
        os.rename(project / "app/checks.py", project / "app/validation.py")
        index.update_file("app/validation.py")
        index.remove_file("app/checks.py")
        assert [s.path for s in index.definitions("validate")] == ["app/validation.py"]
        assert index.outline("app/checks.py") == []
        assert "app/checks.py" not in index.files_with_identifier("validate")

        (project / "app/models.py").unlink()
        index.update_file("app/models.py")  # the watcher may report a deletion as a change
        assert index.definitions("User") == []
        assert index.files_with_identifier("User") == ["README.md"]
        assert index.file_count() == 2


def test_open_refreshes_what_changed_while_closed(project: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    write(project, "app/models.py", "class Account:\n    pass\n")
    (project / "README.md").unlink()
    write(project, "app/new.py", "def fresh():\n    pass\n")
    with SymbolIndex.open(project) as index:
        assert index.definitions("User") == []
        assert [s.line for s in index.definitions("Account")] == [1]
        assert [s.path for s in index.definitions("fresh")] == ["app/new.py"]
        assert index.files_with_identifier("passes") == []


def test_same_size_edit_within_the_clock_granularity_is_not_missed(project: Path) -> None:
    small_project(project)
    path = project / "app/checks.py"
    SymbolIndex.open(project).close()
    stat = path.stat()
    # Same size, same mtime: only the content hash can tell. A freshly written file is "racy", so the
    # index did not trust its stat and hashes it again.
    path.write_text(path.read_text().replace("validate", "vbliditt"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with SymbolIndex.open(project) as index:
        assert [s.name for s in index.outline("app/checks.py")] == ["vbliditt"]


def test_unchanged_files_are_not_parsed_again(project: Path) -> None:
    small_project(project)
    old = 1_600_000_000_000_000_000  # files last touched long ago are trusted by their stat
    for path in project.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(old, old))
    SymbolIndex.open(project).close()
    with SymbolIndex.open(project) as index:
        generation = index.generation()
        assert index.refresh() == 0
        assert index.generation() == generation


def test_a_corrupted_store_is_rebuilt(project: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    index_dir = index_dir_for(project.resolve())
    db_path = indexdb.current_db_path(index_dir)
    assert db_path is not None
    db_path.write_bytes(b"this is not a database" * 100)
    with SymbolIndex.open(project) as index:
        assert [s.path for s in index.definitions("validate")] == ["app/checks.py"]
        assert index.file_count() == 3


def test_a_truncated_store_is_rebuilt(project: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    db_path = indexdb.current_db_path(index_dir_for(project.resolve()))
    assert db_path is not None
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 3])
    with SymbolIndex.open(project) as index:
        assert [s.name for s in index.outline("app/models.py")] == ["User", "save"]
        assert index.files_with_identifier("validate") == ["README.md", "app/checks.py", "app/models.py"]


def test_a_store_with_a_damaged_identifier_list_is_rebuilt(project: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    db_path = indexdb.current_db_path(index_dir_for(project.resolve()))
    assert db_path is not None
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE filedata SET tokens = X'00FF00FF'")
    write(project, "app/checks.py", "def validated(obj):\n    return True\n")
    with SymbolIndex.open(project) as index:
        assert index.files_with_identifier("validated") == ["app/checks.py"]
        assert index.files_with_identifier("validate") == ["README.md", "app/models.py"]


def test_a_stale_store_of_another_schema_or_root_is_rebuilt(project: Path, tmp_path: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    db_path = indexdb.current_db_path(index_dir_for(project.resolve()))
    assert db_path is not None
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value='0' WHERE key='schema'")
        # A stale store would also claim a definition that is not in the files: it must not survive.
        conn.execute("INSERT INTO defs VALUES ('ghost', 1, 'function', 1, 1)")
    with SymbolIndex.open(project) as index:
        assert index.definitions("ghost") == []
        assert [s.path for s in index.definitions("validate")] == ["app/checks.py"]
    leftovers = [p.name for p in db_path.parent.iterdir() if p.name.startswith("index-")]
    assert db_path.name not in leftovers


def test_the_store_lives_under_agent_home(project: Path, agent_home: Path) -> None:
    small_project(project)
    SymbolIndex.open(project).close()
    index_dir = index_dir_for(project.resolve())
    assert index_dir.is_relative_to(agent_home / "index")
    assert (index_dir / "CURRENT").is_file()


def test_parallel_cold_build_reports_progress(project: Path) -> None:
    # 450 files: above the threshold where the build uses two worker processes (spawned: ~1 s of start-up).
    for i in range(450):
        write(project, f"pkg/mod_{i:03}.py", f"def func_{i}():\n    return helper_{i % 7}()\n")
    seen: list[tuple[int, int]] = []
    with SymbolIndex.open(project, progress=lambda done, total: seen.append((done, total))) as index:
        assert index.file_count() == 450
        assert [s.path for s in index.definitions("func_123")] == ["pkg/mod_123.py"]
        assert len(index.files_with_identifier("helper_3")) == 64
    assert seen[0] == (0, 450) and seen[-1] == (450, 450)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_fuzzy_finds_names_from_scattered_letters(project: Path) -> None:
    write(
        project,
        "a.py",
        "def get_user_model():\n    pass\n\ndef get_user():\n    pass\n\nclass UserModelAdmin:\n    pass\n",
    )
    with SymbolIndex.open(project) as index:
        names = [s.name for s in index.fuzzy("getusermod")]
        assert names[0] == "get_user_model"
        assert "UserModelAdmin" not in names  # the letters are not in that order
        assert [s.name for s in index.fuzzy("get_user")][:2] == ["get_user", "get_user_model"]


def test_damage_found_by_an_update_rebuilds_the_store(project: Path) -> None:
    small_project(project)
    with SymbolIndex.open(project) as index:
        db_path = indexdb.current_db_path(index_dir_for(project.resolve()))
        assert db_path is not None
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE filedata SET tokens = X'00FF00FF'")
        write(project, "app/checks.py", "def validated(obj):\n    return True\n")
        index.update_file("app/checks.py")
        assert index.files_with_identifier("validated") == ["app/checks.py"]
        assert index.files_with_identifier("validate") == ["README.md", "app/models.py"]


def test_updates_before_any_build_wait_for_it(project: Path) -> None:
    small_project(project)
    index = SymbolIndex.open(project, build=False)
    assert index.definitions("validate") == [] and index.file_count() == 0
    index.update_file("app/checks.py")  # nothing stored yet: no partial index of one file
    assert index.file_count() == 0
    index.refresh()
    assert index.file_count() == 3
    index.close()


def test_two_processes_opening_at_once_share_one_build(project: Path, agent_home: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    small_project(project)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.context.index import SymbolIndex\n"
        "with SymbolIndex.open(Path(sys.argv[1])) as index:\n"
        "    print(index.file_count(), [s.line for s in index.definitions('validate')])\n"
    )
    env = {**os.environ, "AI_AGENT_HOME": str(agent_home)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(project)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == ["3 [1]\n", "3 [1]\n"]
    stores = [p for p in index_dir_for(project.resolve()).iterdir() if p.suffix == ".sqlite"]
    assert len(stores) == 1


def test_queries_answer_from_the_last_state_while_a_refresh_runs(project: Path) -> None:
    import threading

    small_project(project)
    with SymbolIndex.open(project) as index:
        write(project, "app/checks.py", "def verify(obj):\n    return True\n")
        seen: list[list[str]] = []

        def query_from_another_thread(done: int, total: int) -> None:
            # Called inside the refresh, with its locks held: a query from another thread must not wait.
            if seen:
                return
            worker = threading.Thread(
                target=lambda: seen.append([s.name for s in index.outline("app/checks.py")])
            )
            worker.start()
            worker.join(timeout=10)
            assert not worker.is_alive(), "a query waited for the refresh"

        index.refresh(progress=query_from_another_thread)
        assert seen == [["validate"]]  # the state before the refresh committed
        assert [s.name for s in index.outline("app/checks.py")] == ["verify"]


def test_the_watcher_never_indexes_a_file_behind_a_link_out_or_a_secret(
    project: Path, tmp_path: Path
) -> None:
    from app.context.search import search

    small_project(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text("def outside_only():\n    return 'from elsewhere'\n")
    (project / "lib").symlink_to(outside)
    with SymbolIndex.open(project) as index:
        # What the file watcher does for a save: one path at a time.
        index.update_file("lib/leak.py")
        write(project, "config/credentials.json", '{"outside_only": "fake_secret_value"}\n')
        index.update_file("config/credentials.json")
        assert index.definitions("outside_only") == []
        assert search(project, "outside_only", index=index) == []
        assert "config/credentials.json" in index.paths()  # listed, so a goal can name it; never read
