"""The event bus (subscribers never block the publisher) and the supervisor (a dead service comes back)."""

from __future__ import annotations

import asyncio

import pytest

from app.background.bus import EventBus
from app.background.supervisor import ServiceUnavailable, Supervisor
from app.events import FileChanged, LogError, ServiceStatus, TestRunFinished
from tests.waiting import BOUND, until


async def test_subscribers_get_events_in_order_and_listeners_are_called() -> None:
    bus = EventBus()
    seen: list[str] = []
    remove = bus.add_listener(lambda event: seen.append(event.kind))
    async with bus.subscribe() as subscription:
        bus.publish(TestRunFinished(passed=3, failed=1))
        bus.publish(LogError("app.log", "ERROR boom", "error"))
        first = await asyncio.wait_for(subscription.get(), BOUND)
        second = await asyncio.wait_for(subscription.get(), BOUND)
    assert isinstance(first, TestRunFinished) and first.failed == 1
    assert isinstance(second, LogError) and second.level == "error"
    assert seen == ["test_run_finished", "log_error"]
    remove()
    bus.publish(TestRunFinished(passed=1, failed=0))
    assert len(seen) == 2
    assert [e.kind for e in bus.history][-1] == "test_run_finished"


async def test_a_slow_subscriber_gets_merged_file_events_and_never_blocks_the_publisher() -> None:
    bus = EventBus()
    subscription = bus.subscribe(maxsize=3)
    for index in range(1000):
        bus.publish(FileChanged((f"f{index}.py",)))
    bus.publish(FileChanged(("f1.py",), removed=("gone.py",)))
    event = await asyncio.wait_for(subscription.get(), BOUND)
    assert isinstance(event, FileChanged)
    assert len(event.paths) == 1000 and event.removed == ("gone.py",)
    assert subscription.pending() == 0
    for index in range(10):
        bus.publish(LogError("x.log", f"ERROR {index}", "error"))
    assert subscription.pending() == 3 and subscription.dropped == 7
    kept = [await subscription.get() for _ in range(3)]
    assert [e.entry for e in kept if isinstance(e, LogError)] == ["ERROR 7", "ERROR 8", "ERROR 9"]
    subscription.close()
    with pytest.raises(StopAsyncIteration):
        await subscription.get()


async def test_a_failing_listener_does_not_stop_publishing() -> None:
    bus = EventBus()
    received: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("widget gone")

    bus.add_listener(broken)
    bus.add_listener(received.append)
    bus.publish(ServiceStatus("tests", "running"))
    assert len(received) == 1


async def test_a_crashing_service_is_restarted_with_backoff_and_reported() -> None:
    bus = EventBus()
    supervisor = Supervisor(bus, backoff_initial=0.05, max_restarts=5)
    runs = 0
    healthy = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ConnectionError(f"lost the pipe (run {runs})")
        healthy.set()
        await asyncio.Event().wait()

    supervisor.add("flaky", flaky)
    await supervisor.start()
    await asyncio.wait_for(healthy.wait(), BOUND)
    assert supervisor.restarts("flaky") == 2
    states = [(e.state, e.message) for e in bus.history if isinstance(e, ServiceStatus)]
    crashed = [message for state, message in states if state == "crashed"]
    assert len(crashed) == 2 and "lost the pipe (run 1)" in crashed[0]
    assert [state for state, _message in states][-2:] == ["restarting", "running"]
    await supervisor.stop()
    assert supervisor.state("flaky") == "stopped"


async def test_restarts_are_bounded_and_an_unavailable_service_is_not_retried() -> None:
    bus = EventBus()
    supervisor = Supervisor(bus, backoff_initial=0.01, max_restarts=2)
    attempts = {"always": 0, "missing": 0}

    async def always_fails() -> None:
        attempts["always"] += 1
        raise RuntimeError("exit status 1")

    async def not_installed() -> None:
        attempts["missing"] += 1
        raise ServiceUnavailable("gopls is not installed")

    supervisor.add("always", always_fails)
    supervisor.add("missing", not_installed)
    await supervisor.start()
    await until(
        lambda: supervisor.state("always") == "failed" and supervisor.state("missing") == "skipped",
        what="both services to give up",
    )
    assert attempts == {"always": 3, "missing": 1}
    failed = [e for e in bus.history if isinstance(e, ServiceStatus) and e.state == "failed"]
    assert "gave up after 2 restarts" in failed[0].message
    await supervisor.stop()


async def test_stop_cancels_running_services_and_waits_for_their_cleanup() -> None:
    bus = EventBus()
    supervisor = Supervisor(bus)
    cleaned = asyncio.Event()
    started = asyncio.Event()

    async def service() -> None:
        try:
            started.set()
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)
            cleaned.set()

    supervisor.add("sleeper", service)
    await supervisor.start()
    await asyncio.wait_for(started.wait(), BOUND)
    await supervisor.stop()
    assert cleaned.is_set()
    assert supervisor.states() == {"sleeper": "stopped"}
