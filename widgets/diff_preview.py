"""The live diff: a syntax-highlighted unified diff per file, files and hunks navigable, hunks toggled.

Keys: up/down (j/k) move between hunks, [ and ] between files, space accepts or rejects the current hunk.
Hunk numbers are 0-based per file, in diff order, as ``Decision.hunks`` expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from app.text.terminal import safe_text


@dataclass
class FileDiff:
    path: str
    header: str
    hunks: list[str] = field(default_factory=list)


def split_diff(path: str, diff: str) -> FileDiff:
    """Split one file's unified diff into its header (--- / +++) and its hunks (each from an @@ line)."""
    header: list[str] = []
    hunks: list[list[str]] = []
    for line in diff.splitlines():
        if line.startswith("@@"):
            hunks.append([line])
        elif hunks:
            hunks[-1].append(line)
        else:
            header.append(line)
    return FileDiff(path, "\n".join(header), ["\n".join(h) for h in hunks])


class HunkView(Static, can_focus=False):
    """One hunk; its state classes (-current, -rejected) are set by the preview."""

    def __init__(self, path: str, index: int, text: str) -> None:
        super().__init__(classes="hunk")
        self.path = path
        self.index = index
        self.text = text

    def render_hunk(self, rejected: bool) -> None:
        mark = Text.assemble(
            ("[ ] skip" if rejected else "[x] keep", "bold red" if rejected else "bold green"),
            (f"  hunk {self.index + 1}", "dim"),
        )
        from rich.syntax import Syntax  # pygments: loaded with the first diff, not at start-up

        # The model's lines and the file's: shown escaped (Syntax writes an ESC in them raw).
        shown = safe_text(self.text, multiline=True)
        syntax = Syntax(shown, "diff", theme="ansi_dark", word_wrap=True, background_color="default")
        self.update(Group(mark, syntax))
        self.set_class(rejected, "-rejected")


class DiffPreview(VerticalScroll, can_focus=True):
    BINDINGS = [
        Binding("down,j", "next_hunk", "Next hunk", id="diff-next-hunk", show=False),
        Binding("up,k", "previous_hunk", "Prev hunk", id="diff-prev-hunk", show=False),
        Binding("right_square_bracket", "next_file", "Next file", id="diff-next-file", show=False),
        Binding("left_square_bracket", "previous_file", "Prev file", id="diff-prev-file", show=False),
        Binding("space", "toggle_hunk", "Keep/skip hunk", id="diff-toggle-hunk"),
    ]

    @dataclass
    class SelectionChanged(Message):
        preview: DiffPreview

    files: reactive[list[FileDiff]] = reactive(list, init=False, always_update=True)
    cursor: reactive[int] = reactive(0, init=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rejected: set[tuple[str, int]] = set()
        self.pending_blocks: list[str] = []
        # What the pane says while it shows no diff (``clear``'s note), "" while it shows blocks or a diff.
        self.note = ""
        self.border_title = "Diff"

    # -- filling -------------------------------------------------------------------------------------------

    async def show_pending_block(self, index: int, kind: str, path: str) -> None:
        """A block arrived while the model is still writing: list it until the validated diff is ready."""
        if not self.pending_blocks:
            await self.remove_children()
        self.note = ""
        self.remove_class("-empty")
        self.pending_blocks.append(f"{kind} {path}")
        await self.mount(
            Static(Text(f"⋯ block {index + 1}: {kind} {safe_text(path)}", style="italic"), classes="pending")
        )
        self.border_title = f"Diff ({len(self.pending_blocks)} block{'s' * (len(self.pending_blocks) != 1)}…)"

    async def show_diffs(self, diffs: dict[str, str], rejected: set[tuple[str, int]] | None = None) -> None:
        self.pending_blocks = []
        self.note = ""
        self.rejected = set(rejected or ())
        self.remove_class("-empty")
        files = [split_diff(path, text) for path, text in diffs.items()]
        await self.remove_children()
        widgets: list[Static] = []
        for file in files:
            widgets.append(Static(Text(safe_text(file.path), style="bold"), classes="file-title"))
            for index, hunk in enumerate(file.hunks):
                view = HunkView(file.path, index, hunk)
                view.render_hunk((file.path, index) in self.rejected)
                widgets.append(view)
        if widgets:
            await self.mount_all(widgets)
        hunk_total = sum(len(f.hunks) for f in files)
        self.border_title = (
            f"Diff ({len(files)} file{'s' * (len(files) != 1)}, {hunk_total} hunk{'s' * (hunk_total != 1)})"
        )
        self.files = files
        self.cursor = 0
        self._mark_cursor()

    async def clear(self, note: str = "") -> None:
        self.pending_blocks = []
        self.note = note
        self.rejected = set()
        self.files = []
        # Nothing to review: narrow layouts fold the pane away (styles/workspace.tcss).
        self.add_class("-empty")
        await self.remove_children()
        if note:
            await self.mount(Static(Text(safe_text(note, multiline=True), style="dim"), classes="empty"))
        self.border_title = "Diff"

    # -- selection -----------------------------------------------------------------------------------------

    @property
    def hunk_views(self) -> list[HunkView]:
        return list(self.query(HunkView))

    def selection(self) -> dict[str, list[int]] | None:
        """Hunks to keep per file, or None when every hunk is kept (the Decision's convention)."""
        if not self.rejected:
            return None
        return {
            f.path: [i for i in range(len(f.hunks)) if (f.path, i) not in self.rejected] for f in self.files
        }

    def _mark_cursor(self) -> None:
        views = self.hunk_views
        for number, view in enumerate(views):
            view.set_class(number == self.cursor, "-current")
        if views and 0 <= self.cursor < len(views):
            self.scroll_to_widget(views[self.cursor], animate=False)

    def watch_cursor(self) -> None:
        self._mark_cursor()

    def action_next_hunk(self) -> None:
        if self.cursor < len(self.hunk_views) - 1:
            self.cursor += 1
        else:
            self.scroll_down(animate=False)

    def action_previous_hunk(self) -> None:
        if self.cursor > 0:
            self.cursor -= 1
        else:
            self.scroll_up(animate=False)

    def _file_starts(self) -> list[int]:
        starts, total = [], 0
        for file in self.files:
            starts.append(total)
            total += len(file.hunks)
        return starts

    def action_next_file(self) -> None:
        later = [s for s in self._file_starts() if s > self.cursor and s < len(self.hunk_views)]
        if later:
            self.cursor = later[0]

    def action_previous_file(self) -> None:
        earlier = [s for s in self._file_starts() if s < self.cursor]
        if earlier:
            self.cursor = max(earlier)

    def action_toggle_hunk(self) -> None:
        views = self.hunk_views
        if not views:
            return
        view = views[self.cursor]
        key = (view.path, view.index)
        if key in self.rejected:
            self.rejected.discard(key)
        else:
            self.rejected.add(key)
        view.render_hunk(key in self.rejected)
        self.post_message(self.SelectionChanged(self))
