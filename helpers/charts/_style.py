"""Shared look and helpers for the chart modules (not a backend choice: the kit never
selects a matplotlib backend, so papermill-run notebooks keep their figures)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

__all__ = [
    "TIER_PALETTE",
    "figure_and_axes",
    "lift_formatter",
    "percent_formatter",
    "thin_sample",
]

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
