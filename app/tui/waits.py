"""The status line's account of the model call's wait: what it waits for and for how long (ticking each
second), what failed and which attempt comes next, or nothing once the answer streams."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.timer import Timer

from app.tui import texts


class WaitClock:
    """``say`` sets the status line's text; ``every(seconds, tick)`` starts a timer (the screen's
    ``set_interval``)."""

    def __init__(
        self, say: Callable[[str], None], every: Callable[[float, Callable[[], None]], Timer]
    ) -> None:
        self.say = say
        self.every = every
        self._wait: tuple[str, float] | None = None  # the status label of a model wait and when it began
        self._timer: Timer | None = None

    def show(self, event: Any) -> None:
        """A ``Waiting``, a ``Retrying``, or anything that ends the wait (the call's end, the run's end)."""
        from app.events import Retrying, Waiting

        if isinstance(event, Waiting) and not event.over:
            label = texts.WAIT_FIRST_TOKEN if event.what == "first_token" else texts.WAIT_STREAM_IDLE
            self._wait = (label, time.monotonic() - event.waited)
            if self._timer is None:
                self._timer = self.every(1.0, self._tick)
            self._tick()
            return
        self._wait = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if isinstance(event, Retrying):
            short = event.short or texts.MODEL_CALL_FAILED
            self.say(texts.WAIT_RETRYING.format(short=short, next=event.attempt + 1, attempts=event.attempts))
        else:
            self.say("")

    def _tick(self) -> None:
        if self._wait is not None:
            label, since = self._wait
            self.say(texts.WAIT_TICK.format(label=label, seconds=time.monotonic() - since))
