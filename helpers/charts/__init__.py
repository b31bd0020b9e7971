"""Charts for the kit's reports: each function takes ``ax=None`` (or makes its own
grid), returns the matplotlib Figure and never calls ``show()``.

The functions live in one module per topic (``health``, ``conversion``, ``lift``,
``roi``, ``scorecard``, ``primer``) and are all re-exported here, so notebooks write
``from helpers import charts; charts.forest_plot(...)``. A topic module is imported on
the first use of one of its names (PEP 562 ``__getattr__``), so a notebook pays only for
the libraries of the charts it draws (seaborn and scipy.stats are slow to import). The
names are read from each module's ``__all__`` without importing it.

Importing the package registers the bundled CJK font (Noto Sans CJK SC) as the
fallback of matplotlib's ``font.family``, so Chinese labels render; call
``charts.use_cjk_font()`` again after anything that resets the rcParams.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from helpers.charts._style import CJK_FAMILY, use_cjk_font


def _exported_names() -> dict[str, str]:
    """Chart name -> topic module, from the literal ``__all__`` of every public module
    of the package (parsed, not imported)."""
    where: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = f"{__name__}.{path.stem}"
        names: list[str] = []
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", 0)]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                names = list(ast.literal_eval(node.value))  # type: ignore[arg-type]
        for name in names:
            if name in where or name in ("CJK_FAMILY", "use_cjk_font"):
                raise ImportError(
                    f"chart name {name!r} is defined twice (again in {module}); rename one"
                )
            where[name] = module
    return where


_WHERE = _exported_names()

__all__: list[str] = ["CJK_FAMILY", "use_cjk_font", *_WHERE]


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
