"""Pure text algorithms, the bottom layer: hunks and diffs (``diffs``), a file's text form with its encoding,
BOM and line endings (``textfile``), anchor matching (``matching``) and terminal-safe text (``terminal``).
Standard library only: ``ai --list-sessions`` imports ``terminal``."""
