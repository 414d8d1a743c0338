"""The model's context window: how many tokens a request may hold, by what the configuration or the model's name
says (pure: no I/O, no imports beyond the standard library).

``context_window`` in the configuration wins; else the model's name is matched against the well-known windows
below by prefix (the longest prefix first, after any ``provider/`` part and a ``:tag`` are set aside, so
``openai/gpt-4o-mini`` and ``qwen2.5-coder:7b`` are found); else the limit is unknown and a face says so
rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

# Known context windows in tokens, by model-name prefix (lower case). Only well-known, published figures.
KNOWN_WINDOWS: dict[str, int] = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4-turbo": 128_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-": 200_000,
    "llama3.1": 128_000,
    "llama3.2": 128_000,
    "llama3.3": 128_000,
    "llama-3.1": 128_000,
    "llama-3.2": 128_000,
    "llama-3.3": 128_000,
    "qwen2.5-coder": 32_768,
    "deepseek-coder-v2": 128_000,
    "mistral": 32_768,  # the 7B model (ollama's "mistral"); the larger ones below have their own
    "mistral-large": 128_000,
    "mistral-nemo": 128_000,
}


@dataclass(frozen=True)
class Window:
    """A model's context window: ``tokens`` (0 when unknown) and where the figure comes from: "config" (the
    ``context_window`` setting), "known" (the model's name) or "" (unknown)."""

    tokens: int = 0
    source: str = ""

    @property
    def known(self) -> bool:
        return self.tokens > 0


def known_window(model: str | None) -> int | None:
    """The published context window of ``model`` by its name, or None when it is not a well-known one."""
    if not model:
        return None
    name = model.strip().lower().rpartition("/")[2].partition(":")[0]
    for prefix in sorted(KNOWN_WINDOWS, key=len, reverse=True):
        if name.startswith(prefix):
            return KNOWN_WINDOWS[prefix]
    return None


def context_window(model: str | None, configured: int | None = None) -> Window:
    """The window a request of ``model`` may fill: ``configured`` (the ``context_window`` setting) when set,
    else the model's known window, else unknown."""
    if configured:
        return Window(configured, "config")
    known = known_window(model)
    return Window(known, "known") if known else Window()


def fill_share(tokens: int, window: int) -> float | None:
    """``tokens`` as a share of ``window`` (0.0 to 1.0 and beyond when over), None when the window is unknown."""
    return tokens / window if window > 0 else None
