"""What the pipeline needs of the symbol index (app/context/index.py ``SymbolIndex``): a face that already
holds one (the TUI) hands it to the build, else the build opens its own and closes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.context.indexquery import Symbol


class SymbolIndex(Protocol):
    complete: bool  # False while a cold index is still being built; ``remaining`` files are left
    remaining: int

    def paths(self) -> list[str]: ...

    def outline(self, relpath: str) -> list[Symbol]: ...

    def definitions(self, name: str) -> list[Symbol]: ...

    def files_with_all(self, idents: Sequence[str]) -> list[str]: ...

    def close(self) -> None: ...
