"""The background event bus: the services' events (``app.events.BackgroundEvent``), async subscribers with
bounded queues, plain callbacks.

Publishing never blocks and never fails: a slow async subscriber has its queue coalesced (file events merge
into the pending one) and, past its bound, loses its oldest events (counted in ``Subscription.dropped``);
a callback that raises is logged and kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable

from app.events import BackgroundEvent, FileChanged

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 512
HISTORY_SIZE = 200


Listener = Callable[[BackgroundEvent], None]


class Subscription:
    """An async iterator over the events published after it was made. ``close()`` ends it."""

    def __init__(self, bus: EventBus, maxsize: int, kinds: tuple[type[BackgroundEvent], ...] | None) -> None:
        self._bus = bus
        self._maxsize = max(1, maxsize)
        self._kinds = kinds
        self._pending: deque[BackgroundEvent] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def _offer(self, event: BackgroundEvent) -> None:
        if self._closed or (self._kinds is not None and not isinstance(event, self._kinds)):
            return
        if isinstance(event, FileChanged):
            # Merge into a pending file event: a burst of saves is one event to a slow reader.
            for index in range(len(self._pending) - 1, -1, -1):
                pending = self._pending[index]
                if isinstance(pending, FileChanged):
                    del self._pending[index]
                    self._pending.append(pending.merged(event))
                    self._wakeup.set()
                    return
        if len(self._pending) >= self._maxsize:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(event)
        self._wakeup.set()

    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        self._closed = True
        self._bus._unsubscribe(self)
        self._wakeup.set()

    async def get(self) -> BackgroundEvent:
        """The next event; raises ``StopAsyncIteration`` once closed and drained."""
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._pending.popleft()

    def __aiter__(self) -> AsyncIterator[BackgroundEvent]:
        return self

    async def __anext__(self) -> BackgroundEvent:
        return await self.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """One bus per set of background services. Use from the event loop's thread; other threads call
    ``publish_threadsafe``."""

    def __init__(self, history_size: int = HISTORY_SIZE) -> None:
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        self.history: deque[BackgroundEvent] = deque(maxlen=history_size)
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(
        self, maxsize: int = DEFAULT_QUEUE_SIZE, kinds: Iterable[type[BackgroundEvent]] | None = None
    ) -> Subscription:
        """An async iterator of future events (optionally only of the given classes)."""
        self._remember_loop()
        subscription = Subscription(self, maxsize, tuple(kinds) if kinds is not None else None)
        self._subscriptions.append(subscription)
        return subscription

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` synchronously for each event; returns the function that removes it.
        The callback must be quick (a TUI posts a message from it)."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def publish(self, event: BackgroundEvent) -> None:
        self._remember_loop()
        self.history.append(event)
        for subscription in list(self._subscriptions):
            subscription._offer(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the services
                log.exception("background event listener failed")

    def publish_threadsafe(self, event: BackgroundEvent) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self.publish(event)
        else:
            loop.call_soon_threadsafe(self.publish, event)

    def _remember_loop(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass

    def _unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
