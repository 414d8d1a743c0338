"""Small helpers for the edit engine's tests: answers in the model's format, run on real files."""

from __future__ import annotations

from pathlib import Path

from app.edits import Proposal, build_proposal
from app.llm.blocks import EditBlock, parse_blocks


def blocks(text: str) -> list[EditBlock]:
    return [item for item in parse_blocks(text) if isinstance(item, EditBlock)]


def propose(root: Path, text: str, **kwargs: object) -> Proposal:
    return build_proposal(root, blocks(text), **kwargs)  # type: ignore[arg-type]


def new_text(root: Path, text: str, path: str) -> str:
    """The proposed new content of ``path`` after the answer ``text``."""
    change = propose(root, text).file(path)
    assert change.new_text is not None
    return change.new_text


def replace(path: str, anchor: str, content: str) -> str:
    return f"<<<<<<< REPLACE {path}\n{anchor}=======\n{content}>>>>>>> END\n"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (outside .git) with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


# Two functions whose bodies look alike: three lines either side of `size = round(size)` are the same in both,
# so a hunk there (with its context) fits either one.
_BODY = (
    "    check(w)\n    check(h)\n    size = w * h\n    log(size)\n    size = round(size)\n    log(size)\n"
    "    return size\n\n\n"
)
LOOK_ALIKE = "def area(w, h):\n" + _BODY + "def volume(w, h):\n" + _BODY + "def main():\n    pass\n"
AREA_ROUND = "def area(w, h):\n" + _BODY[: _BODY.index("    log(size)\n    return")]  # up to area's line


def in_area(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` inside area only (the first function)."""
    cut = text.index("def volume")
    assert old in text[:cut]
    return text[:cut].replace(old, new, 1) + text[cut:]


def in_volume(text: str, old: str, new: str) -> str:
    cut = text.index("def volume")
    assert old in text[cut:]
    return text[:cut] + text[cut:].replace(old, new, 1)


# area's body again as a method's (indented one level more): an anchor copied from area fits only area exactly,
# and only volume once its indentation is ignored.
SHIFTED_LOOK_ALIKE = (
    "def area(w, h):\n"
    + _BODY
    + "class Box:\n    def volume(self, w, h):\n"
    + "".join("    " + line if line.strip() else line for line in _BODY.splitlines(keepends=True))
    + "def main():\n    pass\n"
)
AREA_ANCHOR = "    log(size)\n    size = round(size)\n    log(size)\n"
