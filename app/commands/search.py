"""`ai --search QUERY [--json]`: the search of app/context/search.py on the command line.

Plain output is one hit a line, `path:line: snippet`, best first, the way editors jump to a match; `--json`
prints one JSON object a line. The index is built or refreshed first, with progress on stderr when that takes
a while, so the command is also how a user warms the index of a large project.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from app.errors import EXIT_OK
from app.text.terminal import json_safe, safe_text, unguarded

SEARCH_LIMIT = 50
PROGRESS_AFTER_S = 1.0
PIPE_PROGRESS_EVERY_S = 5.0  # a pipe gets a line this often while files are listed, not a spinner


def run_search(root: Path, query: str, *, as_json: bool, limit: int = SEARCH_LIMIT) -> int:
    from app.context.index import SymbolIndex
    from app.context.inventory import refuse_broad_root
    from app.context.search import search

    refuse_broad_root(root)
    with SymbolIndex.open(root, progress=_StderrProgress()) as index:
        hits = search(root, query, limit=limit, index=index)
    if as_json:
        import orjson

        for hit in hits:
            record = {
                "path": hit.path,
                "line": hit.line,
                "kind": hit.kind,
                "score": round(hit.score, 4),
                "snippet": hit.snippet,
            }
            # orjson escapes C0 but leaves DEL, C1 and the bidi controls of a snippet raw.
            sys.stdout.write(json_safe(orjson.dumps(record).decode()) + "\n")
        return EXIT_OK
    if not hits:
        print(f"no match for {query!r}", file=sys.stderr)
        return EXIT_OK
    for hit in hits:
        print(f"{safe_text(hit.path)}:{hit.line}: {safe_text(hit.snippet)}")
    return EXIT_OK


class _StderrProgress:
    """`indexing 1234/100000 files` on stderr, only when the build is slow enough to need it and stderr is a
    terminal (a pipe gets one line at the end instead)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False
        self.last = 0.0
        self.last_total = -1

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < PROGRESS_AFTER_S:
            return
        interactive = sys.stderr.isatty()
        if total == 0:  # still listing the files (a directory walk outside git)
            if interactive and now - self.last >= 0.2:
                self.last = now
                # Its own CR (the line redrawn in place): past the guard that escapes outside text.
                print(f"\rlisting files: {done} so far", end="", file=unguarded(sys.stderr), flush=True)
                self.shown = True
            elif not interactive and now - self.last >= PIPE_PROGRESS_EVERY_S:
                self.last = now
                print(f"listing files: {done} so far", file=sys.stderr, flush=True)
            return
        if self.shown and self.last_total == 0 and interactive:
            print(file=sys.stderr)  # end the listing line
        self.last_total = total
        if interactive and (now - self.last >= 0.2 or done == total):
            self.last = now
            end = "\n" if done == total else ""
            print(f"\rindexing {done}/{total} files", end=end, file=unguarded(sys.stderr), flush=True)
            self.shown = True
        elif not interactive and done == total and total:
            print(f"indexed {total} files in {now - self.started:.1f}s", file=sys.stderr)
