"""Helpers for the background-service tests: wait for a bus event within a bound."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import pytest

from app.background.bus import Subscription
from app.events import BackgroundEvent
from tests.waiting import BOUND


async def next_event(
    subscription: Subscription, match: Callable[[BackgroundEvent], bool], timeout: float = BOUND
) -> BackgroundEvent:
    """The first event that ``match`` accepts, or a test failure after ``timeout`` seconds."""

    async def wait() -> BackgroundEvent:
        async for event in subscription:
            if match(event):
                return event
        raise AssertionError("the bus closed")

    try:
        return await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"no matching event within {timeout} s") from None


@pytest.fixture
def activated_venv(monkeypatch: pytest.MonkeyPatch) -> str:
    """The user activated a virtualenv that has pytest (this one): detection runs the tests with it."""
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    return sys.prefix
