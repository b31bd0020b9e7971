"""Shared look and helpers for the chart modules (not a backend choice: the kit never
selects a matplotlib backend, so papermill-run notebooks keep their figures).

Importing this module (which every chart module does, so ``import helpers.charts``)
registers the CJK font that ships with the kit's requirements (Noto Sans CJK SC, from
the ``noto-cjk-sans-otc`` package) and appends it to ``font.family`` as a per-glyph
fallback: Latin text keeps the default sans-serif (DejaVu Sans), and Chinese category
names, titles and labels are drawn in Noto Sans CJK SC instead of empty boxes.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

__all__ = [
    "CJK_FAMILY",
    "TIER_PALETTE",
    "cjk_font_path",
    "figure_and_axes",
    "lift_formatter",
    "percent_formatter",
    "thin_sample",
    "use_cjk_font",
]

#: The family name matplotlib knows the bundled Simplified Chinese face by.
CJK_FAMILY = "Noto Sans CJK SC"

TIER_PALETTE: dict[str, Any] = dict(
    zip(
        ["nano", "micro", "mid", "macro", "mega"],
        plt.get_cmap("viridis")(np.linspace(0.1, 0.9, 5)),
        strict=True,
    )
)


def figure_and_axes(
    ax: Axes | None = None, *, figsize: tuple[float, float] = (7.0, 4.5)
) -> tuple[Figure, Axes]:
    """Return ``(fig, ax)``: the given axes and their figure, or a new pair."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def percent_formatter(decimals: int = 0) -> PercentFormatter:
    """Axis formatter for fractions shown as percentages (0.05 -> 5%)."""
    return PercentFormatter(xmax=1.0, decimals=decimals)


def lift_formatter() -> FuncFormatter:
    """Axis formatter for a log2(ratio) axis labelled as % lift (1 -> +100%)."""
    return FuncFormatter(lambda v, _pos: f"{2.0**v - 1:+.0%}")


def thin_sample(n: int, max_points: int = 20_000, seed: int = 0) -> np.ndarray | slice:
    """Indices of at most ``max_points`` of ``n`` items (all of them when n is small),
    so that no scatter draws a million markers."""
    if n <= max_points:
        return slice(None)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_points, replace=False))


def cjk_font_path() -> str | None:
    """Path of the bundled Noto Sans CJK collection, or None when the package is absent."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    return str(noto_cjk_sans_otc.FONT_PATH)


def use_cjk_font() -> bool:
    """Register the bundled CJK font and make it the fallback of ``font.family``.

    Idempotent, so it is safe to call again after something reset the rcParams
    (``plt.rcdefaults()``, ``seaborn.set_theme()``). The font is appended after the
    families already set rather than put first, because its Latin glyphs are wider
    than DejaVu Sans's and would change every existing chart's layout; matplotlib
    (>= 3.6) then picks, glyph by glyph, the first family in the list that has it.

    Returns
    -------
    bool
        True when the font is registered; False (with a warning that says how to
        install it) when the ``noto-cjk-sans-otc`` package is missing.
    """
    path = cjk_font_path()
    if path is None:
        warnings.warn(
            "The CJK font package noto-cjk-sans-otc is not installed, so Chinese text in "
            "charts shows as boxes. Install the kit's pinned requirements: "
            "`.venv/bin/python -m pip install -r requirements.txt` (or `make setup`).",
            stacklevel=2,
        )
        return False
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    if CJK_FAMILY not in known:
        font_manager.fontManager.addfont(path)
    family = mpl.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    if CJK_FAMILY not in family:
        mpl.rcParams["font.family"] = [*family, CJK_FAMILY]
    return True


use_cjk_font()
