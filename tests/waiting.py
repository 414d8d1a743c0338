"""How the tests wait: for a condition or an event, within one generous bound, never for a fixed time.

The suite runs on a shared 2-core machine under load (load average 4 and more from other work): a pytest run
in a scratch copy, a language server's start, a model round trip, a git commit or a process start can each take
seconds there. A passing test never waits for the bound: every helper returns as soon as its condition holds.
Pilot tests use tests/tui/conftest.py's ``wait_until`` (the same rule, between rounds of the app's messages).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

BOUND = 60.0  # seconds: the most any one awaited thing may take before the test fails


def wait_for(
    condition: Callable[[], T | None],
    timeout: float = BOUND,
    what: str = "",
    detail: Callable[[], str] | None = None,
    step: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something true, and return that; after ``timeout`` seconds fail
    saying what was waited for (and ``detail()``, such as what a terminal shows)."""
    began = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() - began > timeout:
            raise AssertionError(_timed_out(timeout, what or repr(condition), detail))
        time.sleep(step)


async def until(
    condition: Callable[[], T | None],
    timeout: float = BOUND,
    what: str = "",
    detail: Callable[[], str] | None = None,
    step: float = 0.02,
) -> T:
    """``wait_for`` on the event loop: the loop's other tasks run between the polls."""
    began = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() - began > timeout:
            raise AssertionError(_timed_out(timeout, what or repr(condition), detail))
        await asyncio.sleep(step)


def _timed_out(timeout: float, what: str, detail: Callable[[], str] | None) -> str:
    message = f"timed out after {timeout:.0f} s waiting for {what}"
    return message + (f"\n{detail()}" if detail is not None else "")
