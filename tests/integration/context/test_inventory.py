"""The file inventory: what git would list, less binaries, symlinks and vendored trees; without git, the same
from a walk that applies the .gitignore files itself."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.context.index import SymbolIndex
from app.context.inventory import list_project_files
from tests.conftest import git


def make_tree(root: Path) -> None:
    files = {
        ".gitignore": "*.log\n!keep.log\nsecret/\n/local.py\ndocs/**/draft.md\n",
        "app/main.py": "print('hi')\n",
        "app/local.py": "LOCAL = 1\n",  # ignored only at the root: this one stays
        "local.py": "LOCAL = 2\n",
        "app/debug.log": "noise\n",
        "keep.log": "kept\n",
        "secret/token.txt": "s3cret\n",
        "docs/a/b/draft.md": "draft\n",
        "docs/a/final.md": "final\n",
        "sub/.gitignore": "generated.py\n",
        "sub/generated.py": "X = 1\n",
        "sub/real.py": "Y = 1\n",
        "node_modules/lib/index.js": "module.exports = 1\n",
        "pkg/__pycache__/m.cpython-311.pyc": "x",
        "web/app.min.js": "var a=1;\n",
        "LICENSE": "MIT\n",
    }
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (root / "data.bin2").write_bytes(b"\x00\x01\x02binary")
    (root / "link.py").symlink_to(root / "app/main.py")


EXPECTED = [
    ".gitignore",
    "LICENSE",
    "app/local.py",
    "app/main.py",
    "docs/a/final.md",
    "keep.log",
    "sub/.gitignore",
    "sub/real.py",
]


def test_git_repository_lists_tracked_and_untracked_not_ignored(git_project: Path) -> None:
    make_tree(git_project)
    git(git_project, "add", ".gitignore", "app/main.py", "LICENSE")
    git(git_project, "add", "-f", "node_modules/lib/index.js")  # tracked, still vendored
    git(git_project, "commit", "-q", "-m", "files")
    (git_project / "LICENSE").unlink()  # tracked but deleted in the work tree
    files = list_project_files(git_project)
    assert files == sorted({*EXPECTED, "README.md"} - {"LICENSE"})
    # What git itself says is ignored agrees with the inventory.
    ignored = git(git_project, "status", "--porcelain", "--ignored", "-uall")
    assert "!! secret/token.txt" in ignored and "!! sub/generated.py" in ignored


def test_walk_without_git_applies_gitignore_the_same_way(project: Path) -> None:
    make_tree(project)
    assert list_project_files(project) == EXPECTED


def test_walk_and_git_agree_on_the_same_tree(git_project: Path, tmp_path: Path) -> None:
    make_tree(git_project)
    plain = tmp_path / "plain"
    shutil.copytree(git_project, plain, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    assert list_project_files(git_project) == list_project_files(plain)


def test_the_index_skips_what_the_inventory_skips(git_project: Path) -> None:
    make_tree(git_project)
    with SymbolIndex.open(git_project) as index:
        assert index.files_with_identifier("s3cret") == []
        assert index.files_with_identifier("LOCAL") == ["app/local.py"]
        assert index.definitions("X") == []
        # The watcher may report an ignored vendored file: it is not indexed.
        index.update_file("node_modules/lib/index.js")
        assert index.files_with_identifier("exports") == []


def test_a_file_name_that_is_not_utf8_is_left_out(git_project: Path) -> None:
    import os

    (git_project / "ok.py").write_text("GOOD = 1\n")
    with open(os.path.join(os.fsencode(git_project), b"bad-\xff.py"), "w") as handle:
        handle.write("BAD = 1\n")
    assert list_project_files(git_project) == ["README.md", "ok.py"]
    with SymbolIndex.open(git_project) as index:
        assert [s.name for s in index.definitions("GOOD")] == ["GOOD"]
        assert index.definitions("BAD") == []
    shutil.rmtree(git_project / ".git")
    assert list_project_files(git_project) == ["README.md", "ok.py"]


def test_a_walk_that_finds_too_many_files_stops_with_one_line(project: Path, monkeypatch) -> None:
    import pytest

    from app.context import inventory

    for i in range(12):
        (project / f"f{i}.txt").write_text("x\n")
    monkeypatch.setattr(inventory, "MAX_WALKED_FILES", 10)
    with pytest.raises(inventory.TooManyFiles, match="more than 10 files outside any git repository"):
        list_project_files(project)
