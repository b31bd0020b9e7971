"""One error root and one warning root for everything the kit raises or warns."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import helpers
from helpers.errors import ExportError, KitError, KitWarning, ModelError, PlanError


def _kit_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(helpers.__path__, prefix="helpers."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            # Private classes (leading _) are internal control flow, caught where raised.
            public = not obj.__name__.startswith("_")
            if public and obj.__module__ == info.name and issubclass(obj, (Exception, Warning)):
                found.append(obj)
    return found


def test_every_kit_exception_and_warning_has_the_kit_root() -> None:
    classes = _kit_classes()
    assert {ExportError, ModelError, PlanError} <= set(classes)
    strays = [
        f"{c.__module__}.{c.__name__}"
        for c in classes
        if not issubclass(c, KitWarning if issubclass(c, Warning) else KitError)
    ]
    assert not strays, f"not under KitError/KitWarning: {strays}"


def test_kit_errors_stay_value_errors() -> None:
    # Code written against the first versions catches ValueError.
    with pytest.raises(ValueError):
        raise ExportError("x")


def test_errors_raised_on_purpose_have_the_kit_root() -> None:
    """``raise ValueError(...)`` escapes ``except KitError``: use a KitError subclass."""
    import re

    root = Path(helpers.__file__).parent
    found = sorted(
        p.relative_to(root.parent).as_posix()
        for p in root.rglob("*.py")
        if re.search(r"raise ValueError\(", p.read_text(encoding="utf-8"))
    )
    assert not found, f"bare ValueError raised in {found}"
