"""Every key of the workspace, collected from the code's own bindings: what the help screen (F1) lists and what
README's key tables are checked against (tests/unit/test_keys_in_readme.py), so neither can drift from the code.

The keys are those of every class in app/tui/ and widgets/ that declares ``BINDINGS`` (the App, the workspace
screen, its panes and widgets, the approval and editor screens, the dialogs), plus the ones Textual's App and
Screen give every screen (the command palette, tab). A class added later with its own bindings (a popup, a
panel) appears here by itself. The modules are found and imported by name (importlib), never imported
statically: the screens that show this list import it, and a static import back would be a cycle.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from functools import cache

from app.tui import texts

PACKAGES = ("app.tui", "widgets")
# How a key is written in the help screen and README, where its Textual name is not how people say it.
KEY_NAMES = {
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "question_mark": "?",
    "delete": "Delete",
    "pageup": "PgUp",
    "pagedown": "PgDn",
}


@dataclass(frozen=True)
class Key:
    keys: tuple[str, ...]  # as shown: ("n", "enter"), ("ctrl+z",), ("↑",)
    description: str
    place: str  # where it works: "in the workspace", "in the approval", ...
    action: str
    id: str | None = None  # the binding's id (texts.KEY_HELP words it for the help screen)

    @property
    def help(self) -> str:
        """What the key does, in the help screen's words (else the Footer's)."""
        return texts.KEY_HELP.get(self.id or "", self.description)

    @property
    def shown(self) -> str:
        return ", ".join(self.keys)


def key_label(key: str) -> str:
    """A Textual key name as the help and README write it: ``ctrl+z``, ``F2``, ``↑``, ``]``, ``?``."""
    *modifiers, name = key.split("+")
    if re.fullmatch(r"f\d{1,2}", name):
        name = name.upper()
    name = KEY_NAMES.get(name, name)
    return "+".join([*modifiers, name])


def place_of(class_name: str) -> str:
    """Where the keys of a class work, in words: texts.KEY_PLACES, else its name's words ("CompletionPopup"
    → "in the completion popup")."""
    known = texts.KEY_PLACES.get(class_name)
    if known is not None:
        return known
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", class_name).lower()
    return f"in the {words.removesuffix(' screen')}"


def binding_classes() -> list[type]:
    """Every class of app/tui/ and widgets/ that declares its own ``BINDINGS``, in module order."""
    found: dict[str, type] = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and "BINDINGS" in cls.__dict__:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def _bindings_of(cls: type) -> list[tuple[str, str, str, str | None]]:
    """(key string, description, action, id) of the class's own bindings, those without a description left out
    (Textual's system keys)."""
    from textual.binding import Binding

    out = []
    for item in cls.__dict__["BINDINGS"]:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.description and not binding.system:
            out.append((binding.key, binding.description, binding.action, binding.id))
    return out


def textual_keys() -> list[Key]:
    """What Textual gives every screen of the App: the command palette, focus moves, copying a selection."""
    from textual.app import App
    from textual.screen import Screen

    anywhere = texts.KEY_PLACES["WorkspaceApp"]
    palette = (key_label(App.COMMAND_PALETTE_BINDING),)
    keys = [Key(palette, texts.KEY_PALETTE, anywhere, "command_palette", "command_palette")]
    for key, description, action, _ in _bindings_of(Screen):
        keys.append(Key(tuple(key_label(k) for k in key.split(",")), description, anywhere, action, action))
    return keys


@cache
def collected_keys() -> tuple[Key, ...]:
    """Every key: the workspace's bindings by where they work (texts.KEY_PLACES's order, then any other
    place), then Textual's own; a key bound twice in one place (an override) is listed once."""
    keys: list[Key] = []
    for cls in binding_classes():
        place = place_of(cls.__name__)
        for key, description, action, binding_id in _bindings_of(cls):
            shown = tuple(key_label(k.strip()) for k in key.split(","))
            keys.append(Key(shown, description, place, action, binding_id))
    keys.extend(textual_keys())
    order = list(texts.KEY_PLACES.values())
    unique: dict[tuple[str, tuple[str, ...]], Key] = {}
    for one in keys:
        unique.setdefault((one.place, one.keys), one)

    def rank(one: Key) -> int:
        return order.index(one.place) if one.place in order else len(order)

    return tuple(sorted(unique.values(), key=rank))


def keys_by_place() -> dict[str, list[Key]]:
    grouped: dict[str, list[Key]] = {}
    for one in collected_keys():
        grouped.setdefault(one.place, []).append(one)
    return grouped
