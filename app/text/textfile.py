"""Project files as the edit engine sees them: bytes in, text with its own encoding, BOM and line endings out,
and back to the very same bytes for every line an edit does not touch.

Lines keep their own endings (``"x\\r\\n"``); matching compares line bodies. A file is refused when it looks
binary, is larger than :data:`MAX_FILE_BYTES`, or is text we cannot decode and re-encode byte for byte.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from app.errors import EditError

MAX_FILE_BYTES = 2 * 1024 * 1024
_SNIFF_BYTES = 8192
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# PEP 263 style declarations, also used by many other languages' editors (vim/emacs modelines).
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines splits on these too
_CODING_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")


def content_hash(data: str | bytes) -> str:
    """The hash the engine uses to notice a changed file: of the file's bytes (text is hashed as UTF-8)."""
    from blake3 import blake3

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return blake3(raw).hexdigest()[:32]


@dataclass(frozen=True)
class FileText:
    """A decoded text file and what is needed to write it back the way it was."""

    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    eol: str = "\n"  # the dominant line ending, given to new lines
    final_newline: bool = True

    @property
    def lines(self) -> list[str]:
        return split_lines(self.text)


def split_lines(text: str) -> list[str]:
    """Lines with their endings. Only ``\\n`` ends a line (``str.splitlines`` would also split on form feeds
    and unicode separators, which would corrupt files that contain them)."""
    if not text:
        return []
    if text.count("\r") == text.count("\r\n") and not any(ch in text for ch in _OTHER_BREAKS):
        return text.splitlines(keepends=True)  # same result here, and much faster on long files
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def body(line: str) -> str:
    """A line without its ending."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def ending(line: str) -> str:
    return line[len(body(line)) :]


def dominant_eol(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def describe_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def decode_bytes(raw: bytes, path: str) -> FileText:
    """Decode a project file, or refuse it (binary, too large, an encoding we cannot round-trip)."""
    if len(raw) > MAX_FILE_BYTES:
        raise EditError(
            f"{path} is {describe_size(len(raw))}, over the {describe_size(MAX_FILE_BYTES)} limit for edits; "
            "edit it by hand"
        )
    bom, encoding = b"", ""
    for mark, name in _BOMS:
        if raw.startswith(mark):
            bom, encoding = mark, name
            break
    payload = raw[len(bom) :]
    if not bom and b"\x00" in raw[:_SNIFF_BYTES]:
        raise EditError(f"{path} is a binary file; ai edits text files only")
    candidates = [encoding] if encoding else ["utf-8", *_declared_coding(payload), "cp1252"]
    for name in candidates:
        try:
            text = payload.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        if text.encode(name) != payload:
            continue  # would not write back the same bytes
        return FileText(text, name, bom, dominant_eol(text), not text or text.endswith("\n"))
    raise EditError(
        f"{path} is not valid UTF-8 and its encoding could not be read back byte for byte; "
        "convert it to UTF-8 or edit it by hand"
    )


def _declared_coding(payload: bytes) -> list[str]:
    head = b"\n".join(payload.split(b"\n", 2)[:2])
    found = _CODING_RE.search(head)
    if not found:
        return []
    name = found.group(1).decode("ascii", "replace")
    try:
        return [codecs.lookup(name).name]
    except LookupError:
        return []


def encode_text(text: str, like: FileText, path: str) -> bytes:
    """``text`` in the file's own encoding with its BOM; refuses characters that encoding cannot hold."""
    try:
        return like.bom + text.encode(like.encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise EditError(
            f"{path} is encoded as {like.encoding}, which cannot hold {bad!r} from the new lines; "
            "ask for ASCII-only text or convert the file to UTF-8"
        ) from None


def fix_line_endings(lines: list[str], eol: str, final_newline: bool) -> list[str]:
    """Every line but the last ends with a newline; the last one does iff the file had a final newline."""
    fixed = [line if line.endswith("\n") else line + eol for line in lines[:-1]]
    if lines:
        last = lines[-1]
        if final_newline and not last.endswith("\n"):
            last += eol
        elif not final_newline:
            last = body(last)
        if last:
            fixed.append(last)
    return fixed
