"""One content hash: the index, the pre-read and the edit engine record the same digest for the same file."""

from __future__ import annotations

from pathlib import Path

from blake3 import blake3

from app.context.extract import extract_file
from app.text.textfile import content_hash


def test_the_index_stores_the_engine_hash(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"def f():\n    return 1\n")
    record = extract_file(str(tmp_path), "a.py")
    assert record is not None
    assert record.hash == content_hash((tmp_path / "a.py").read_bytes())


def test_the_hash_format_is_unchanged() -> None:
    # Stored indexes and undo journals hold these digests: blake3 of the bytes, 32 hex digits.
    assert content_hash(b"x = 1\n") == blake3(b"x = 1\n").hexdigest()[:32]
    assert content_hash("é") == content_hash("é".encode())
