"""The terminal-escape tests' fixtures (tests/support/escapes.py), autouse fast model settings among them."""

from tests.support.escapes import calc, fast_model_settings, model

__all__ = ["calc", "fast_model_settings", "model"]
