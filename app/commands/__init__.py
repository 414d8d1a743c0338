"""Every face of ``ai`` that is not the workspace: one module a command (build, fix, suggest, undo, search,
sessions, trust, the background watch), one printer (app/commands/printer.py) for the transcript and JSON
Lines. ``argparse`` and ``print`` live here and in app/cli.py only. Nothing here imports Textual: the
workspace (app/tui) is app/cli.py's to open."""
