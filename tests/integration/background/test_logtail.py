"""The log tailer on real log files: appends, rotation, truncation, multi-line entries, classification."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.background.bus import EventBus
from app.background.logtail import LogTailer, classify_entry
from app.events import LogError
from tests.waiting import BOUND, until

TRACEBACK = """2026-11-24 10:00:01 ERROR request failed
Traceback (most recent call last):
  File "/srv/app/views.py", line 42, in handle
    return compute(payload)
  File "/srv/app/logic.py", line 7, in compute
    return 1 / payload["count"]
ZeroDivisionError: division by zero
"""


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.fixture
def tailers() -> Iterator[list[LogTailer]]:
    made: list[LogTailer] = []
    yield made
    for tailer in made:
        tailer.close()


def poll(tailer: LogTailer, times: int = 2) -> list[LogError]:
    found: list[LogError] = []
    for _ in range(times):
        found.extend(tailer.poll_once())
    return found


def test_appended_errors_are_reported_and_old_content_is_not(project: Path, tailers: list[LogTailer]) -> None:
    log_file = project / "app.log"
    log_file.write_text("2026-11-24 09:00:00 ERROR from before we started\n")
    bus = EventBus()
    tailer = LogTailer(project, bus, ["*.log"])
    tailers.append(tailer)
    assert poll(tailer) == []
    append(log_file, "2026-11-24 10:00:00 INFO all good\n2026-11-24 10:00:01 ERROR disk full\n")
    errors = poll(tailer)
    assert [(e.path, e.error_kind, e.entry) for e in errors] == [
        ("app.log", "error", "2026-11-24 10:00:01 ERROR disk full")
    ]
    assert bus.history[-1] == errors[0]


def test_a_traceback_written_in_pieces_is_one_entry(project: Path, tailers: list[LogTailer]) -> None:
    log_file = project / "app.log"
    log_file.write_text("")
    tailer = LogTailer(project, EventBus(), [str(log_file)])
    tailers.append(tailer)
    poll(tailer)
    lines = TRACEBACK.splitlines(keepends=True)
    append(log_file, "".join(lines[:3]))
    first = tailer.poll_once()
    append(log_file, "".join(lines[3:]) + "2026-11-24 10:00:02 INFO recovered\n")
    errors = first + poll(tailer)
    assert len(errors) == 1
    assert errors[0].error_kind == "traceback"
    assert errors[0].entry == TRACEBACK.rstrip("\n")
    assert errors[0].summary().endswith("ZeroDivisionError: division by zero")


def test_rotation_by_rename_is_followed_without_losing_lines(project: Path, tailers: list[LogTailer]) -> None:
    log_file = project / "logs" / "server.log"
    log_file.parent.mkdir()
    log_file.write_text("starting\n")
    tailer = LogTailer(project, EventBus(), ["logs/*.log"])
    tailers.append(tailer)
    poll(tailer)
    append(log_file, "ERROR last words of the old file\n")
    os.rename(log_file, project / "logs" / "server.log.1")
    log_file.write_text("FATAL first words of the new file\n")
    errors = poll(tailer, 3)
    assert [(e.error_kind, e.entry) for e in errors] == [
        ("error", "ERROR last words of the old file"),
        ("fatal", "FATAL first words of the new file"),
    ]
    append(log_file, "panic: runtime error: index out of range [3] with length 2\n\ngoroutine 1 [running]:\n")
    append(log_file, "main.main()\n\t/src/main.go:9 +0x1d\nexit status 2\n")
    errors = poll(tailer, 3)
    assert len(errors) == 1 and errors[0].error_kind == "panic"
    assert "main.go:9" in errors[0].entry


def test_truncation_starts_over_from_the_beginning(project: Path, tailers: list[LogTailer]) -> None:
    log_file = project / "app.log"
    log_file.write_text("x" * 500 + "\n")
    tailer = LogTailer(project, EventBus(), ["app.log"])
    tailers.append(tailer)
    poll(tailer)
    with open(log_file, "w", encoding="utf-8") as handle:  # truncate in place, as logrotate's copytruncate
        handle.write(
            "java.lang.IllegalStateException: pool exhausted\n\tat com.shop.Pool.get(Pool.java:31)\n"
        )
    errors = poll(tailer, 3)
    assert len(errors) == 1
    assert errors[0].error_kind == "exception"
    assert errors[0].entry.endswith("Pool.java:31)")


def test_a_file_matching_the_glob_later_is_read_from_its_start(
    project: Path, tailers: list[LogTailer]
) -> None:
    tailer = LogTailer(project, EventBus(), ["logs/**/*.log"])
    tailers.append(tailer)
    poll(tailer)
    (project / "logs" / "worker").mkdir(parents=True)
    (project / "logs" / "worker" / "w1.log").write_text("CRITICAL worker lost\n")
    errors = poll(tailer, 6)
    assert [(e.path, e.error_kind) for e in errors] == [("logs/worker/w1.log", "fatal")]


def test_classification() -> None:
    assert classify_entry("INFO request served in 12 ms, 0 errors") is None
    assert classify_entry("level=error msg=timeout") == "error"
    assert classify_entry("[error] upstream closed") == "error"
    assert classify_entry("ValueError: bad input") == "exception"
    assert classify_entry("thread 'main' panicked at src/main.rs:2:5") == "panic"
    assert classify_entry("FATAL: password authentication failed") == "fatal"


async def test_the_service_loop_follows_a_file_and_stops_cleanly(
    project: Path, tailers: list[LogTailer]
) -> None:
    log_file = project / "app.log"
    log_file.write_text("")
    bus = EventBus()
    subscription = bus.subscribe()
    tailer = LogTailer(project, bus, ["app.log"], poll_interval=0.05)
    tailers.append(tailer)
    task = asyncio.create_task(tailer.run())
    await until(lambda: tailer.follows("app.log"), what="the tailer to follow app.log")
    append(log_file, "ERROR payment declined\n")
    event = await asyncio.wait_for(subscription.get(), BOUND)
    assert isinstance(event, LogError) and event.entry == "ERROR payment declined"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
