"""The records of a model's answer, below both the parser that makes them (app/llm/blocks.py) and the edit
engine that applies them (app/edits/proposal.py): an edit block and a run of prose."""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = "======="


@dataclass(frozen=True)
class EditBlock:
    kind: str
    path: str
    anchor: str
    content: str
    line: int  # 1-based line of the opening marker in the model's text
    # A REPLACE/INSERT body with more than one `=======` line (a merge conflict or a reST underline in the
    # anchor or the new lines): the body indexes of every such line. ``anchor``/``content`` then hold the split
    # at the first one, which need not be the right one: the edit engine picks the split whose anchor fits the
    # file, or rejects the block; it never guesses.
    separators: tuple[int, ...] = ()

    def splits(self) -> list[tuple[str, str]]:
        """Every way to read the body as (anchor, new lines); one unless the body has several separators."""
        if len(self.separators) < 2:
            return [(self.anchor, self.content)]
        lines = [*lines_of(self.anchor), SEPARATOR, *lines_of(self.content)]
        return [(join_lines(lines[:at]), join_lines(lines[at + 1 :])) for at in self.separators]

    def separator_lines(self) -> list[int]:
        """The separators' 1-based line numbers in the model's text."""
        return [self.line + 1 + at for at in self.separators]


@dataclass(frozen=True)
class Prose:
    text: str


def join_lines(lines: list[str]) -> str:
    """Lines (without their newlines) as text, each ended by a newline."""
    return "".join(text + "\n" for text in lines)


def lines_of(text: str) -> list[str]:
    """The inverse of :func:`join_lines`."""
    return text.split("\n")[:-1] if text else []
