"""``python -m app.background [DIR] [--json]``: the entry point of the background watch, whose face (its
arguments and printing) is app/commands/background.py."""

import sys

from app.commands.background import main

if __name__ == "__main__":
    sys.exit(main())
