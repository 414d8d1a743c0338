"""Knowing the code: file inventory, symbol index, search and repo map (and file mentions)."""
