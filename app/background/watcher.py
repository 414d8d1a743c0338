"""The file watcher: watchfiles' ``awatch`` over the project, filtered by its ignore files (app/background/ignore.py).

Each batch of changes becomes one ``FileChanged`` event and is handed to the sinks (the symbol index, the
language servers, the test watcher). watchfiles already groups a burst: it yields once no new change came for
``step_ms`` (bounded by ``debounce_ms``), so a save reaches the sinks within about ``step_ms`` plus our filter.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.background.bus import EventBus
from app.background.ignore import ALWAYS_IGNORED_PARTS, IgnoreFilter
from app.events import FileChanged

log = logging.getLogger(__name__)

# sink(changed relpaths, removed relpaths)
ChangeSink = Callable[[list[str], list[str]], Awaitable[None]]

DEFAULT_STEP_MS = 50
DEFAULT_DEBOUNCE_MS = 400
FOLDER_SCAN_LIMIT = 5_000  # files listed from one new folder (an unpacked archive, a checkout)


class FileWatcher:
    def __init__(
        self,
        root: Path,
        bus: EventBus,
        sinks: list[ChangeSink] | None = None,
        *,
        step_ms: int = DEFAULT_STEP_MS,
        debounce_ms: int = DEFAULT_DEBOUNCE_MS,
        exclude: Callable[[str], bool] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.bus = bus
        self.sinks: list[ChangeSink] = list(sinks or [])
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.ignore = IgnoreFilter(self.root)
        # Files another service owns (the log tailer's logs): their appends are not "changes" to report.
        self.exclude = exclude
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()

    def request_stop(self) -> None:
        """End the watch promptly (the blocking wait in watchfiles' thread checks this every step)."""
        self._stop.set()

    async def run(self) -> None:
        from watchfiles import DefaultFilter, awatch

        self._stop = asyncio.Event()
        watch = awatch(
            self.root,
            watch_filter=DefaultFilter(),
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=self._stop,
            ignore_permission_denied=True,
        )
        self.ready.set()
        try:
            async for changes in watch:
                await self.handle_changes([path for _change, path in changes])
        finally:
            self.ready.clear()

    async def handle_changes(self, absolute_paths: list[str]) -> None:
        changed: set[str] = set()
        removed: set[str] = set()
        for path in absolute_paths:
            rel = self._relative(path)
            if rel is None or (self.exclude is not None and self.exclude(rel)):
                continue
            # Judge by what is on disk now: an editor's save-by-rename shows as deleted + added.
            if os.path.isfile(path):
                changed.add(rel)
            elif os.path.isdir(path):
                # Files written into a new folder before its watch was in place make no event of their
                # own (inotify): list them.
                changed.update(self._files_under(path))
            elif not os.path.exists(path):
                removed.add(rel)
        if self.exclude is not None:
            changed = {rel for rel in changed if not self.exclude(rel)}
        if any(rel.rsplit("/", 1)[-1] == ".gitignore" for rel in changed | removed):
            self.ignore = IgnoreFilter(self.root)
        candidates = changed | removed
        if not candidates:
            return
        ignored = await self.ignore.ignored(candidates)
        changed -= ignored
        removed -= ignored
        if not changed and not removed:
            return
        event = FileChanged(tuple(sorted(changed)), tuple(sorted(removed)))
        self.bus.publish(event)
        for sink in self.sinks:
            try:
                await sink(list(event.paths), list(event.removed))
            except Exception:  # one broken consumer must not blind the others
                log.exception("file change consumer failed")

    def _files_under(self, directory: str) -> list[str]:
        found: list[str] = []
        for current, dirnames, filenames in os.walk(directory):
            dirnames[:] = [d for d in dirnames if d not in ALWAYS_IGNORED_PARTS and d != "node_modules"]
            for name in filenames:
                rel = self._relative(os.path.join(current, name))
                if rel is not None:
                    found.append(rel)
            if len(found) >= FOLDER_SCAN_LIMIT:
                break
        return found[:FOLDER_SCAN_LIMIT]

    def _relative(self, path: str) -> str | None:
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix() if rel.parts else None
