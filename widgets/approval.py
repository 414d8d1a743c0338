"""The approval modal: the proposal's diff with per-hunk choice, answered from the keyboard.

y apply · n reject (the default, also enter) · e edit · r revise · s suggest · escape back to the workspace
(the decision stays pending; y, n or a reopens it there). Returns a ``Decision``, or None when hidden.
An edit is never an approval: it comes back here as the edited diff, which y applies (as an EDIT decision).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from app.events import Decision, DecisionKind
from app.text.terminal import safe_text
from widgets.diff_preview import DiffPreview


def chosen_editor() -> list[str] | None:
    """The user's editor command ($VISUAL, then $EDITOR), split like a shell would; None when unset."""
    value = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    return shlex.split(value) if value and value.strip() else None


class ApprovalScreen(ModalScreen[Decision | None]):
    BINDINGS = [
        Binding("y", "decide('apply')", "Apply", id="approve-apply", priority=True),
        Binding("n,enter", "decide('reject')", "Reject", id="approve-reject", priority=True),
        Binding("e", "edit", "Edit", id="approve-edit", priority=True),
        Binding("r", "revise", "Revise", id="approve-revise", priority=True),
        Binding("s", "decide('suggest')", "Suggest", id="approve-suggest", priority=True),
        Binding("escape", "hide", "Back", id="approve-hide"),
    ]

    def __init__(
        self,
        diffs: dict[str, str],
        rejected: set[tuple[str, int]],
        contents_for_edit: Callable[[], dict[str, str]],
        after_suggest: bool = False,
        evidence: tuple[str, ...] = (),
        rediff: Callable[[dict[str, str]], dict[str, str]] | None = None,
        edited: dict[str, str] | None = None,
    ) -> None:
        super().__init__(classes="approval")
        # The model just described alternatives and proposed the one it recommends: say how to pick another.
        self.after_suggest = after_suggest
        # A verified fix's test evidence (what ran in the scratch copy and passed).
        self.evidence = evidence
        self.diffs = diffs
        self.initial_rejected = set(rejected)
        # The hunk choice as it stands; read by the workspace when the screen is hidden, to keep it.
        self.rejected_hunks = set(rejected)
        self.contents_for_edit = contents_for_edit
        # The diff of an edited result against the project (the proposal with the user's contents).
        self.rediff = rediff
        # The user's edited result when they edited (kept by the workspace when the screen is hidden).
        self.edited = edited

    def compose(self) -> ComposeResult:
        with Vertical(id="approval-box"):
            yield Static(self._title(), id="approval-title")
            yield DiffPreview(id="approval-diff")
            yield Static(
                Text.assemble(
                    ("space", "bold"),
                    " keep/skip hunk · ",
                    ("↑↓", "bold"),
                    " hunks · ",
                    ("[ ]", "bold"),
                    " files   ",
                    ("Apply? [y/N/e/r/s]", "bold reverse"),
                ),
                id="approval-help",
            )
        yield Footer()

    def _title(self) -> Text:
        hunks = sum(max(1, text.count("\n@@")) for text in self.diffs.values())
        what = "Your edited version" if self.edited else "Proposal"
        title = Text(f"{what}: {len(self.diffs)} file(s), {hunks} hunk(s) · nothing is applied without you")
        if self.after_suggest:
            title.append(" · the recommended alternative; for another, press r and name it", style="italic")
        if self.evidence:
            title = Text.assemble(("Verified fix", "bold green"), " · ", title)
            for line in self.evidence:
                title.append(f"\n  ✓ {safe_text(line)}", style="green")
        return title

    async def on_mount(self) -> None:
        preview = self.query_one(DiffPreview)
        await preview.show_diffs(self.diffs, self.initial_rejected)
        preview.focus()

    @property
    def preview(self) -> DiffPreview:
        return self.query_one(DiffPreview)

    def on_diff_preview_selection_changed(self, message: DiffPreview.SelectionChanged) -> None:
        self.rejected_hunks = set(message.preview.rejected)

    def action_decide(self, kind: str) -> None:
        decision_kind = DecisionKind(kind)
        hunks = self.preview.selection() if decision_kind is DecisionKind.APPLY else None
        if decision_kind is DecisionKind.APPLY and self.edited:
            self.dismiss(Decision(kind=DecisionKind.EDIT, hunks=hunks, edited=self.edited))
            return
        self.dismiss(Decision(kind=decision_kind, hunks=hunks))

    def action_hide(self) -> None:
        self.dismiss(None)

    def action_revise(self) -> None:
        from widgets.dialogs import PromptScreen

        def got_feedback(feedback: str | None) -> None:
            if feedback:
                self.dismiss(Decision(kind=DecisionKind.REVISE, feedback=feedback))

        self.app.push_screen(
            PromptScreen(
                "What should change? The model answers again with this feedback.", placeholder="feedback"
            ),
            got_feedback,
        )

    async def action_edit(self) -> None:
        contents = self.edited or self.contents_for_edit()
        if not contents:
            self.notify("nothing to edit: the proposal has no file contents", severity="warning")
            return
        editor = chosen_editor()
        if editor is None:
            from widgets.dialogs import EditorScreen

            self.app.push_screen(EditorScreen(contents), self._edited)
            return
        await self._edited(self._run_external_editor(editor, contents))

    async def _edited(self, edited: dict[str, str] | None) -> None:
        """Back from the editor: the edited result becomes the diff shown here, for y to apply."""
        from app.errors import AgentError

        if edited is None:
            return
        if edited == (self.edited or self.contents_for_edit()) or self.rediff is None:
            self.notify("the editor changed nothing: the proposal still waits for y or n")
            return
        try:
            diffs = self.rediff(edited)
        except AgentError as exc:
            self.notify(f"the edited version cannot be used: {exc.message}", severity="error")
            return
        if not diffs:
            self.notify("the edited version changes nothing in the project: n rejects it", severity="warning")
            return
        self.edited = edited
        self.diffs = diffs
        self.rejected_hunks = set()
        self.query_one("#approval-title", Static).update(self._title())
        await self.preview.show_diffs(diffs)
        self.preview.focus()
        self.notify("your edited version: y applies it")

    def _run_external_editor(self, editor: list[str], contents: dict[str, str]) -> dict[str, str] | None:
        from textual.app import SuspendNotSupported

        with tempfile.TemporaryDirectory(prefix="ai-edit-") as scratch:
            # Same relative paths (and so extensions) as in the project, for the editor's highlighting.
            files = {path: Path(scratch) / path for path in contents}
            for path, target in files.items():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(contents[path], encoding="utf-8")
            command = [*editor, *(str(p) for p in files.values())]
            try:
                try:
                    with self.app.suspend():
                        status = subprocess.run(command, check=False).returncode
                except SuspendNotSupported:
                    # No terminal to hand over (headless): only a non-interactive editor can work here.
                    status = subprocess.run(command, check=False, stdin=subprocess.DEVNULL).returncode
            except OSError as exc:
                self.notify(f"cannot start the editor {editor[0]!r}: {exc}", severity="error")
                return None
            if status != 0:
                self.notify(f"the editor exited with status {status}; nothing changed", severity="warning")
                return None
            return {path: target.read_text(encoding="utf-8") for path, target in files.items()}
