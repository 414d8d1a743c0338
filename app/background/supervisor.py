"""Runs background services as asyncio tasks and restarts a dead one with bounded, growing backoff.

A service is an async function that runs until cancelled. Returning ends it for good (state "stopped");
raising ``ServiceUnavailable`` ends it with state "skipped" (nothing to retry: a server that is not
installed), ``ServiceFailed`` with state "failed" (the user must change something first); any other exception restarts it after a delay that doubles each time, up to ``max_restarts``
in a row (state "failed" after that). A service that ran ``healthy_after`` seconds has its count reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.background.bus import EventBus
from app.events import ServiceStatus

log = logging.getLogger(__name__)

ServiceFn = Callable[[], Awaitable[None]]


class ServiceUnavailable(Exception):
    """The service cannot run here (not installed, nothing to do): reported once, never restarted."""


class ServiceFailed(Exception):
    """The service cannot go on until the user changes something (a test command that is not installed):
    reported once as an error ("failed"), never restarted."""


@dataclass
class _Service:
    name: str
    run: ServiceFn
    on_stop: Callable[[], None] | None = None
    reports_running: bool = False
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    state: str = "new"
    history: list[str] = field(default_factory=list)


class Supervisor:
    def __init__(
        self,
        bus: EventBus,
        *,
        max_restarts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.bus = bus
        self.max_restarts = max_restarts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.healthy_after = healthy_after
        self._services: dict[str, _Service] = {}
        self._stopping = False
        bus.add_listener(self._follow_own_reports)

    def _follow_own_reports(self, event: object) -> None:
        if isinstance(event, ServiceStatus) and event.name in self._services:
            self._services[event.name].state = event.state

    def add(
        self,
        name: str,
        run: ServiceFn,
        on_stop: Callable[[], None] | None = None,
        *,
        reports_running: bool = False,
    ) -> None:
        """Register a service; started by ``start()`` (or at once when the supervisor already runs).
        ``on_stop`` is called before the service's task is cancelled (to end a blocking wait promptly).
        A service that ``reports_running`` publishes its own "running" status once it is ready (a language
        server after its handshake); for the others the supervisor says "running" as it starts them."""
        if name in self._services:
            raise ValueError(f"service {name!r} is already registered")
        service = _Service(name, run, on_stop, reports_running)
        self._services[name] = service
        if self._started:
            service.task = asyncio.create_task(self._supervise(service), name=f"bg:{name}")

    _started = False

    async def start(self) -> None:
        self._started = True
        self._stopping = False
        for service in self._services.values():
            if service.task is None:
                service.task = asyncio.create_task(self._supervise(service), name=f"bg:{service.name}")

    def state(self, name: str) -> str:
        return self._services[name].state

    def restarts(self, name: str) -> int:
        return self._services[name].restarts

    def states(self) -> dict[str, str]:
        return {name: service.state for name, service in self._services.items()}

    def _report(self, service: _Service, state: str, message: str = "") -> None:
        service.state = state
        self.bus.publish(ServiceStatus(service.name, state, message))

    async def _supervise(self, service: _Service) -> None:
        failures_in_a_row = 0
        while not self._stopping:
            self._report(service, "starting" if not service.restarts else "restarting")
            if not service.reports_running:
                self._report(service, "running")
            began = time.monotonic()
            try:
                await service.run()
            except asyncio.CancelledError:
                raise
            except ServiceUnavailable as exc:
                self._report(service, "skipped", str(exc))
                return
            except ServiceFailed as exc:
                self._report(service, "failed", str(exc))
                return
            except Exception as exc:
                if self._stopping:
                    break
                if time.monotonic() - began >= self.healthy_after:
                    failures_in_a_row = 0
                failures_in_a_row += 1
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                log.debug("background service %s died", service.name, exc_info=True)
                if failures_in_a_row > self.max_restarts:
                    self._report(service, "failed", f"{reason}; gave up after {self.max_restarts} restarts")
                    return
                delay = min(self.backoff_max, self.backoff_initial * 2 ** (failures_in_a_row - 1))
                self._report(service, "crashed", f"{reason}; restarting in {delay:.1f} s")
                service.restarts += 1
                await asyncio.sleep(delay)
                continue
            else:
                break
        self._report(service, "stopped")

    async def stop(self, timeout: float = 15.0) -> None:
        """Cancel every service and wait for each to clean up (processes ended, files closed)."""
        self._stopping = True
        for service in self._services.values():
            if service.on_stop is not None:
                try:
                    service.on_stop()
                except Exception:
                    log.exception("stopping %s failed", service.name)
        tasks = [s.task for s in self._services.values() if s.task is not None and not s.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in done:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    task.result()
            for task in pending:
                log.warning("background task %s did not stop in %.0f s", task.get_name(), timeout)
        for service in self._services.values():
            if service.state not in ("stopped", "skipped", "failed"):
                self._report(service, "stopped")
        self._started = False
