"""One file lister, one ignore rule: the inventory, the scratch copy, the watcher's filter and rg's search
agree on what the project's files are, in a git repository and in a plain folder, nested .gitignore included."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.background.ignore import IgnoreFilter
from app.context.inventory import list_project_files as inventory_files
from app.context.search import search_regex
from app.fix.scratch import list_project_files as scratch_files
from app.project.files import Gitignore, IgnoreRule, list_files, walk_listing
from tests.conftest import git

TREE = {
    ".gitignore": "*.log\n!keep.log\nout/\n/local.txt\ndocs/**/draft.md\n",
    "app/main.py": "",
    "app/local.txt": "",  # ignored only at the root: this one stays
    "local.txt": "",
    "app/debug.log": "",
    "keep.log": "",
    "out/result.txt": "",
    "docs/a/b/draft.md": "",
    "docs/a/final.md": "",
    "sub/.gitignore": "generated.py\n!important.log\ndeep/\n",
    "sub/generated.py": "",
    "sub/real.py": "",
    "sub/important.log": "",  # re-included by the nested file
    "sub/deep/x.py": "",
    "sub/inner/.gitignore": "*.txt\n",
    "sub/inner/a.txt": "",
    "sub/inner/b.py": "",
    "other/generated.py": "",  # the nested rule is sub/'s only
    ".github/ci.yml": "",  # hidden files are project files
}
EXPECTED = [
    ".github/ci.yml",
    ".gitignore",
    "app/local.txt",
    "app/main.py",
    "docs/a/final.md",
    "keep.log",
    "other/generated.py",
    "sub/.gitignore",
    "sub/important.log",
    "sub/inner/.gitignore",
    "sub/inner/b.py",
    "sub/real.py",
]


def make_tree(root: Path) -> None:
    for relpath, text in TREE.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text or "MARKER\n")


@pytest.fixture(params=["git", "plain"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    if request.param == "git":
        git(root, "init", "-q", "-b", "main")
    make_tree(root)
    return root


async def test_lister_watcher_scratch_and_search_agree(tree: Path) -> None:
    assert list_files(tree) == EXPECTED
    assert inventory_files(tree) == EXPECTED
    assert scratch_files(tree) == EXPECTED
    ignored = await IgnoreFilter(tree).ignored(TREE)
    assert sorted(set(TREE) - ignored) == EXPECTED
    assert sorted(set(TREE) - IgnoreRule(tree).ignored(TREE)) == EXPECTED
    found = {hit.path for hit in search_regex(tree, "MARKER", limit=1000)}
    assert found == set(EXPECTED) - {".gitignore", "sub/.gitignore", "sub/inner/.gitignore"}


def test_the_walk_and_the_path_rule_are_one(tmp_path: Path) -> None:
    make_tree(tmp_path)
    rules = Gitignore(tmp_path)
    assert walk_listing(tmp_path) == EXPECTED
    assert [p for p in sorted(TREE) if not rules.ignored(p)] == EXPECTED
    assert rules.ignored("out", is_dir=True) and not rules.ignored("out")  # "out/" names folders only
