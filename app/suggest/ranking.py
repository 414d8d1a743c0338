"""The order of the suggestions: a fixed weighting (``rank_heuristically``), and the model's order when one is
configured (``rank_with_model``; what it leaves out keeps the heuristic order after it)."""

from __future__ import annotations

import json
import re

from app.config import Config
from app.suggest.signals import Suggestion

MAX_RANKED_BY_MODEL = 40


def rank_heuristically(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Highest score first; a function that is long and complex once; at most one TODO suggestion per line."""
    seen: set[tuple[str, str, int]] = set()
    unique: list[Suggestion] = []
    for item in sorted(suggestions, key=lambda s: (-s.score, s.path, s.line, s.kind)):
        key = ("function" if item.kind.endswith("_function") else item.kind, item.path, item.line)
        if key in seen and item.path:
            continue
        seen.add(key)
        unique.append(item)
    return unique


RANK_SYSTEM = (
    "You are a senior engineer triaging a code base. You are given numbered improvement suggestions, each with "
    "its kind, place and reason. Order them by what the team should do first: broken behaviour before risk, "
    "risk before tidiness. Answer with one JSON array of the suggestion numbers, most important first, and "
    "nothing else."
)


async def rank_with_model(suggestions: list[Suggestion], config: Config) -> list[Suggestion]:
    """The model's order for the top suggestions (the rest keep their heuristic order after them)."""
    from app.llm.client import ModelClient, StreamDone

    head, tail = suggestions[:MAX_RANKED_BY_MODEL], suggestions[MAX_RANKED_BY_MODEL:]
    listing = "\n".join(
        f"{n}. [{s.kind}] {s.place or '(project)'}: {s.title}; {s.reason}"
        for n, s in enumerate(head, start=1)
    )
    messages = [
        {"role": "system", "content": RANK_SYSTEM},
        {"role": "user", "content": f"Suggestions:\n{listing}\n\nThe order, as a JSON array of numbers:"},
    ]
    client = ModelClient(config)
    text = ""
    try:
        async for piece in client.stream(messages):
            if isinstance(piece, StreamDone):
                text = piece.text
    finally:
        await client.close()
    order = _parse_order(text, len(head))
    if not order:
        raise ValueError("its answer held no order of the suggestion numbers")
    ranked = [head[n - 1] for n in order]
    ranked += [s for s in head if s not in ranked]
    return ranked + tail


def _parse_order(text: str, count: int) -> list[int]:
    match = re.search(r"\[[\d,\s]*\]", text)
    if not match:
        return []
    try:
        numbers = json.loads(match.group(0))
    except ValueError:
        return []
    order: list[int] = []
    for number in numbers:
        if isinstance(number, int) and 1 <= number <= count and number not in order:
            order.append(number)
    return order
