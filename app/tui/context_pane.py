"""The context panel of the workspace (ctrl+t): widgets/context_panel.py taught the pipeline's events.

A goal's ``ContextReady`` says what its request holds (each part with why and tokens, the history, the model's
window); each READ round's ``FilesRead`` adds the files the model asked for, so the panel grows as the build
goes. The panel shows the parts largest first (a file that is both named and a search hit is one row, its
costs added), the total against the window with a bar, the history's share and what the budget dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.tui import texts
from widgets.context_panel import ContextPanel, ContextView

if TYPE_CHECKING:
    from app.events import ContextEntry, ContextReady, Event


def short_tokens(count: int) -> str:
    """850, 23.4k, 128k, 1.05M: a token count as the panel says it."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}".removesuffix(".0") + "k"
    return f"{count / 1_000_000:.3g}M"


def _percent(part: int, whole: int) -> str:
    share = 100 * part / whole if whole else 0.0
    return f"{share:.0f}" if share >= 1 or share == 0 else "<1"


def _rows(
    entries: Iterable[ContextEntry], history_tokens: int, system_tokens: int
) -> list[tuple[str, str, str]]:
    """One row per part (a path's reasons joined, its costs added), the history and the system prompt as two
    more, largest first."""
    whys: dict[str, list[str]] = {}
    tokens: dict[str, int] = {}
    for entry in entries:
        reasons = whys.setdefault(entry.path, [])
        if str(entry.why) not in reasons:
            reasons.append(str(entry.why))
        tokens[entry.path] = tokens.get(entry.path, 0) + entry.tokens
    parts = [(path, texts.CONTEXT_WHY_JOIN.join(whys[path]), cost) for path, cost in tokens.items()]
    if history_tokens:
        parts.append((texts.CONTEXT_HISTORY_ROW, texts.CONTEXT_HISTORY_WHY, history_tokens))
    if system_tokens:
        parts.append((texts.CONTEXT_SYSTEM_ROW, texts.CONTEXT_SYSTEM_WHY, system_tokens))
    parts.sort(key=lambda part: (-part[2], part[0]))
    return [(path, why, short_tokens(cost)) for path, why, cost in parts]


def context_view(ready: ContextReady, read: Iterable[ContextEntry] = ()) -> ContextView:
    """What the panel shows of a goal's context, with the files READ rounds added since."""
    read = list(read)
    # The whole request: the system prompt, the context (history included) and what READ rounds added.
    total = ready.system_tokens + ready.tokens + sum(entry.tokens for entry in read)
    if ready.window > 0:
        line = texts.CONTEXT_FILL_CONFIGURED if ready.window_source == "config" else texts.CONTEXT_FILL
        summary = line.format(
            tokens=short_tokens(total),
            window=short_tokens(ready.window),
            percent=_percent(total, ready.window),
        )
        if total > ready.window:
            summary += texts.CONTEXT_OVER
        share: float | None = total / ready.window
    else:
        summary, share = texts.CONTEXT_NO_LIMIT.format(tokens=short_tokens(total)), None
    notes = [
        texts.CONTEXT_HISTORY.format(
            tokens=short_tokens(ready.history_tokens), percent=_percent(ready.history_tokens, total)
        )
        if ready.history_tokens
        else texts.CONTEXT_NO_HISTORY,
        texts.CONTEXT_BUDGET_DROPPED.format(parts="; ".join(ready.dropped))
        if ready.dropped
        else texts.CONTEXT_NOTHING_DROPPED,
    ]
    if ready.skipped:
        notes.append(texts.CONTEXT_NOT_SENT.format(parts="; ".join(ready.skipped)))
    return ContextView(
        summary=summary,
        share=share,
        headers=texts.CONTEXT_HEADERS,
        rows=_rows([*ready.entries, *read], ready.history_tokens, ready.system_tokens),
        notes=notes,
    )


class ContextPane(ContextPanel):
    """The panel, fed every pipeline event by the screen: it keeps the last goal's context and its READs."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(texts.CONTEXT_EMPTY, id=id)
        self.ready: ContextReady | None = None
        self.read: list[ContextEntry] = []
        self.border_title = texts.CONTEXT_TITLE

    def show_event(self, event: Event) -> None:
        """A goal's context replaces the last one; a READ round's files join it."""
        from app.events import ContextReady, FilesRead

        if isinstance(event, ContextReady):
            self.ready, self.read = event, []
        elif isinstance(event, FilesRead) and event.entries and self.ready is not None:
            self.read += event.entries
        else:
            return
        self.show(context_view(self.ready, self.read))
