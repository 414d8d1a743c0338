"""Helpers and fixtures more than one tier uses. A tier's folder registers the fixtures it needs in its
conftest.py by importing them from here."""
