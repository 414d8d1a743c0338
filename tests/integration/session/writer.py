"""A writer process for the reliability tests: appends numbered messages to one session."""

from __future__ import annotations

import sys
from pathlib import Path

from app.session.store import ProjectStore


def main() -> None:
    root, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    session = ProjectStore(root).session(name)
    print("ready", flush=True)
    for i in range(count):
        session.append_message("user", f"{name} message {i} " + "x" * 200)


if __name__ == "__main__":
    main()
