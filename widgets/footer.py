"""The Footer, fitted to the terminal: every key it shows keeps its whole word.

Textual's Footer lays its keys out in one row and docks the palette key over the row's right end, so when they
do not fit (at 80 columns, or with a proposal pending) the last keys lose their words (``^q`` alone). This one
puts the palette key in the row and, until the row fits, in turn: goes compact, leaves out the keys that do
nothing now (otherwise greyed out), uses the shorter words it is given, and leaves out keys in ``drop_first``
order. A key left out still works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from textual import events
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


@dataclass(frozen=True)
class _Key:
    key: str
    display: str
    word: str
    action: str
    enabled: bool
    tooltip: str


class FittedFooter(Footer):
    # The footer's width: a change lays the row out again.
    width_seen: reactive[int] = reactive(0, recompose=True)

    def __init__(self, short_words: Mapping[str, str], drop_first: Iterable[str] = ()) -> None:
        super().__init__()
        self.short_words = dict(short_words)  # by action: the word used when the full ones do not fit
        self.drop_first = tuple(drop_first)  # actions ("command_palette" included), the first left out first

    def on_resize(self, event: events.Resize) -> None:
        self.width_seen = event.size.width

    def _keys(self) -> list[_Key]:
        app = self.app
        keys: dict[str, _Key] = {}
        bindings = self.screen.active_bindings
        for _, binding, enabled, tooltip in bindings.values():
            if binding.show and binding.action not in keys:
                display = app.get_key_display(binding)
                keys[binding.action] = _Key(
                    binding.key, display, binding.description, binding.action, enabled, tooltip
                )
        palette = bindings.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            _, binding, enabled, _ = palette
            display = app.get_key_display(binding)
            keys[binding.action] = _Key(
                binding.key, display, binding.description, binding.action, enabled, binding.tooltip
            )
        return list(keys.values())

    @staticmethod
    def _width(keys: list[_Key], compact: bool) -> int:
        # A key is "key word" with one column of padding each side, or compact one column between keys.
        return sum(len(k.display) + 1 + len(k.word) + (1 if compact else 2) for k in keys) - compact

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        room = self.width_seen or self.app.size.width
        keys = self._keys()
        # One column spare: the docked palette key has a border on its left.
        if self._width(keys, compact=False) < room:
            self.compact = False
            yield from super().compose()  # it all fits: Textual's own row, the palette key on the right
            return
        self.compact = True
        if self._width(keys, compact=True) > room:
            keys = [k for k in keys if k.enabled]
        if self._width(keys, compact=True) > room:
            keys = [replace(k, word=self.short_words.get(k.action, k.word)) for k in keys]
        for action in self.drop_first:
            if self._width(keys, compact=True) <= room:
                break
            keys = [k for k in keys if k.action != action]
        for k in keys:
            yield FooterKey(
                k.key, k.display, k.word, k.action, disabled=not k.enabled, tooltip=k.tooltip
            ).data_bind(compact=Footer.compact)
