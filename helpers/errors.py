"""Errors the kit raises for bad input, with messages that say how to fix it."""

from __future__ import annotations

__all__ = [
    "ExportError",
    "KitError",
    "KitWarning",
    "ModelError",
    "ParameterError",
    "PlanError",
    "ReportError",
]


class KitError(ValueError):
    """Root of every error the kit raises on purpose (catch this one to catch them all).

    A ValueError, so code written against the first versions (``except ValueError``)
    keeps working.
    """


class KitWarning(UserWarning):
    """Root of every warning the kit issues (filter this one to silence them all)."""


class ExportError(KitError):
    """An export cannot be read as it is.

    The message names the file and, where it applies, the column and row, and says
    how to fix the input (or which parameter to pass).
    """


class ModelError(KitError):
    """A model cannot be fitted honestly (missing column, separation, no convergence)."""


class PlanError(KitError):
    """A campaign plan is invalid (unknown category, commission out of range, ...)."""


class ReportError(KitError):
    """A report cannot be run or written as asked (missing params file, bad YAML,
    unknown notebook, a parameter value of the wrong type, a table path with an
    unknown suffix). The message says how to fix it."""


class ParameterError(KitError):
    """An argument is invalid: out of its accepted range, of the wrong kind, or at odds
    with the data passed with it (a column the frame lacks, counts that cannot be).
    The message lists the accepted values or says what to pass instead."""
