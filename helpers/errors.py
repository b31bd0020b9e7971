"""Errors the kit raises for bad input, with messages that say how to fix it."""

from __future__ import annotations

__all__ = ["ExportError", "ModelError", "PlanError"]


class ExportError(ValueError):
    """An export cannot be read as it is.

    The message names the file and, where it applies, the column and row, and says
    how to fix the input (or which parameter to pass).
    """


class ModelError(ValueError):
    """A model cannot be fitted honestly (missing column, separation, no convergence)."""


class PlanError(ValueError):
    """A campaign plan is invalid (unknown category, commission out of range, ...)."""
