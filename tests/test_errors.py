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


#: Modules that still raise bare ValueErrors (issue 12's work list); nothing joins it.
BARE_VALUE_ERRORS_LEFT = {
    "helpers/glossary.py",
    "helpers/i18n.py",
    "helpers/lift.py",
    "helpers/load.py",
    "helpers/scorecard.py",
    "helpers/charts/conversion.py",
    "helpers/charts/lift.py",
    "helpers/charts/roi.py",
    "helpers/charts/scorecard.py",
    "helpers/io/spec.py",
}


def test_errors_raised_on_purpose_have_the_kit_root() -> None:
    """``raise ValueError(...)`` escapes ``except KitError``: use a KitError subclass."""
    import re

    root = Path(helpers.__file__).parent
    found = {
        p.relative_to(root.parent).as_posix()
        for p in root.rglob("*.py")
        if re.search(r"raise ValueError\(", p.read_text(encoding="utf-8"))
    }
    assert found <= BARE_VALUE_ERRORS_LEFT, (
        f"bare ValueError in {sorted(found - BARE_VALUE_ERRORS_LEFT)}"
    )
    done = BARE_VALUE_ERRORS_LEFT - found
    assert not done, f"no bare ValueError left in {sorted(done)}: remove them from the list"
