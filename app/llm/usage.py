"""Token usage and what it costs: prompt and completion tokens kept apart, because endpoints price them apart
(``price_per_mtok_in`` / ``price_per_mtok_out``, USD per million tokens, app/config.py).

A session's stored usage is what its model replies carry (each assistant message's ``usage``, as the client
read it from the stream: ``prompt_tokens``, ``completion_tokens``, ``total_tokens``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.config import Config

MILLION = 1_000_000


@dataclass(frozen=True)
class TokenUsage:
    prompt: int = 0
    completion: int = 0
    # What an endpoint's reported total holds beyond the two parts (some count cached or reasoning tokens
    # there): shown in the total, never priced.
    other: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion + self.other

    def __add__(self, more: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt + more.prompt, self.completion + more.completion, self.other + more.other
        )

    @classmethod
    def of(cls, usage: dict[str, Any]) -> TokenUsage:
        """One call's usage as the client reports it (a stored message's ``usage``); junk counts as 0."""

        def count(key: str) -> int:
            try:
                return max(0, int(usage.get(key) or 0))
            except (TypeError, ValueError):
                return 0

        prompt, completion, total = count("prompt_tokens"), count("completion_tokens"), count("total_tokens")
        return cls(prompt, completion, max(0, total - prompt - completion))


def stored_usage(messages: Iterable[dict[str, Any]]) -> TokenUsage:
    """The usage the stored messages carry (each model reply has its call's)."""
    total = TokenUsage()
    for message in messages:
        usage = message.get("usage")
        if isinstance(usage, dict):
            total = total + TokenUsage.of(usage)
    return total


def last_turn_usage(messages: list[dict[str, Any]]) -> TokenUsage:
    """The usage of the stored replies after the last goal (a turn's model calls: read rounds, revisions)."""
    users = [i for i, message in enumerate(messages) if message.get("role") == "user"]
    return stored_usage(messages[users[-1] + 1 :] if users else messages)


def has_prices(config: Config) -> bool:
    return config.price_per_mtok_in is not None or config.price_per_mtok_out is not None


def usage_cost(usage: TokenUsage, config: Config) -> float | None:
    """What ``usage`` cost in USD at the configured prices, or None when no price is configured (a price left
    out of the two counts as 0: e.g. an endpoint that charges only for completions)."""
    if not has_prices(config):
        return None
    price_in = config.price_per_mtok_in or 0.0
    price_out = config.price_per_mtok_out or 0.0
    return (usage.prompt * price_in + usage.completion * price_out) / MILLION


def format_cost(cost: float) -> str:
    """``$0.0042``, ``$1.23``: cents once it is worth them, four decimals below a dime."""
    return f"${cost:.2f}" if cost >= 0.1 else f"${cost:.4f}"
