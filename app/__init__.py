"""ai: a coding co-pilot that lives in the terminal.

Everything under ``app`` except ``cli.py`` and ``tui.py`` is the headless core: it never imports Textual.
"""

__version__ = "0.1.0"
