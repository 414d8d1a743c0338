"""The face of ``python -m app.background`` (app/background/__main__.py starts it): the services of the
workspace run headless, each event printed as a line or, with ``--json``, as one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from app.background.services import BackgroundServices
from app.config import load_config
from app.errors import AgentError
from app.paths import project_root
from app.text.terminal import guarded_std_streams, json_text, safe_text

DESCRIPTION = """Watch a project headless and print the background events: ``python -m app.background [DIR] [--json]``.

A way to see the services without the workspace (and to check a configuration): Ctrl-C stops them. It runs
what the workspace runs, under the same trust (app/background/services.py): typing it is not trusting the
project, so an untrusted project's tests wait, and the first lines say so and how to trust it.
"""


async def watch(root: Path, as_json: bool) -> None:
    config = load_config(root)
    services = BackgroundServices(root, config)
    # Subscribed before the start: what the start itself says (an untrusted project, an ignored setting) is
    # printed too.
    events = services.bus.subscribe()
    async with services:
        async for event in events:
            if as_json:
                print(json_text(event.to_json()), flush=True)
            else:
                stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
                # A log line's colours, a test's output: shown escaped, never acted on.
                print(f"{stamp} {event.level:<7} {safe_text(event.summary())}", flush=True)


def main(argv: list[str] | None = None) -> int:
    with guarded_std_streams():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.background", description=DESCRIPTION)
    parser.add_argument("directory", nargs="?", default=".", help="a folder of the project (default: here)")
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    args = parser.parse_args(argv)
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"ai: {directory} is not a folder", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(watch(project_root(args.directory), args.json))
    except AgentError as exc:
        print(f"ai: {safe_text(str(exc))}", file=sys.stderr)
        return exc.exit_code
    return 0
