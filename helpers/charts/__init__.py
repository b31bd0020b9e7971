"""Charts for the kit's reports: each function takes ``ax=None`` (or makes its own
grid), returns the matplotlib Figure and never calls ``show()``.

The functions live in one module per topic (``health``, ``conversion``, ``lift``,
``roi``, ``scorecard``, ``primer``) and are all re-exported here, so notebooks write
``from helpers import charts; charts.forest_plot(...)``.

Importing the package registers the bundled CJK font (Noto Sans CJK SC) as the
fallback of matplotlib's ``font.family``, so Chinese labels render; call
``charts.use_cjk_font()`` again after anything that resets the rcParams.
"""

from __future__ import annotations

import importlib
import pkgutil

from helpers.charts._style import CJK_FAMILY, use_cjk_font

__all__: list[str] = ["CJK_FAMILY", "use_cjk_font"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        if _name in __all__:
            raise ImportError(
                f"chart name {_name!r} is defined twice (again in {_module.__name__}); rename one"
            )
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
