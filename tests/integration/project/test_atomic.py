"""One atomic writer: the new content or the old, never a torn file, and no temp file left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.project.atomic import link_atomic, write_atomic


def test_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.txt"
    write_atomic(target, b"one")
    write_atomic(target, b"two", mode=0o640)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]


def test_a_failed_write_keeps_the_old_content_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    for temp in (None, tmp_path / ".a.txt.ai-x.tmp"):
        with pytest.raises(OSError):
            write_atomic(target, b"new", temp=temp)
        assert target.read_bytes() == b"old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_link_is_replaced_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("kept")
    link = tmp_path / "link"
    link.symlink_to("real.txt")
    link_atomic(link, "other.txt", tmp_path / ".link.tmp")
    assert os.readlink(link) == "other.txt"
    assert (tmp_path / "real.txt").read_text() == "kept"
    assert not (tmp_path / ".link.tmp").exists()
