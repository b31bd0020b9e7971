"""Charts of the creator scorecard (notebook ``05_creator_scorecard``): the portfolio's
profit ROI intervals against clicks, recommendation counts by tier, and shrunk against
expected CVR. Inputs are the rows of :func:`helpers.scorecard.build_scorecard` for
one site (sites are never drawn together: their currencies and markets differ).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.charts._style import figure_and_axes, percent_formatter, thin_sample

__all__ = [
    "RECOMMENDATION_COLORS",
    "scorecard_counts_chart",
    "scorecard_cvr_chart",
    "scorecard_roi_chart",
]

RECOMMENDATION_COLORS: dict[str, str] = {
    "keep": "#2a9d8f",
    "test more": "#e9c46a",
    "drop": "#e76f51",
}
"""Colour of each recommendation, the same in every scorecard chart."""

# Error bars are heavier than markers: cap them well below the scatter limit.
_MAX_INTERVALS = 3_000


def _one_site(card: pd.DataFrame) -> str:
    sites = card["site"].astype(str).unique() if "site" in card.columns else []
    if len(sites) > 1:
        raise ValueError(
            f"draw one site at a time (sites are never pooled); the frame has {sorted(sites)}. "
            "Use ScorecardResult.site('US')."
        )
    return str(sites[0]) if len(sites) else ""


def scorecard_roi_chart(
    card: pd.DataFrame,
    *,
    roi_threshold: float = 1.0,
    min_clicks_drop: int | None = None,
    metric: str = "profit",
    seed: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """Profit (or net) ROI and its interval against clicks, one point per creator,
    coloured by recommendation. The point is the creator's expected ROI (the posterior
    median, ``profit_roi_median``) when the card has it, so that it sits inside its
    interval; otherwise the realised ROI.

    Parameters
    ----------
    card : pandas.DataFrame
        Scorecard rows of one site (``clicks``, ``<metric>_roi``, ``<metric>_roi_low``,
        ``<metric>_roi_high``, ``recommendation``).
    roi_threshold : float
        Drawn as a horizontal line (profit ROI 1: break-even, the keep / drop line).
    min_clicks_drop : int, optional
        Drawn as a vertical line: nobody left of it can be dropped.
    metric : {"profit", "net"}
        Profit ROI (what the rules decide on) or net ROI (before product cost and
        platform fee).
    seed : int
        Seed of the thinning when there are more than 3,000 creators.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For another ``metric``, or rows of several sites.
    """
    if metric not in ("profit", "net"):
        raise ValueError(f"metric must be 'profit' or 'net'; got {metric!r}")
    col = f"{metric}_roi"
    site = _one_site(card)
    fig, ax = figure_and_axes(ax, figsize=(8, 5))
    point = col
    if metric == "profit" and "profit_roi_median" in card.columns:
        point = "profit_roi_median"
    elif metric == "net" and "profit_roi_median" in card.columns and "profit_roi" in card.columns:
        # net ROI = profit ROI / margin, one margin per site
        card = card.assign(
            net_roi_median=card["profit_roi_median"] * card["net_roi"] / card["profit_roi"]
        )
        point = "net_roi_median"
    data = card[(card["clicks"] > 0) & np.isfinite(card[point]) & (card[point] > 0)]
    data = data.iloc[thin_sample(len(data), _MAX_INTERVALS, seed)]
    for rec, color in RECOMMENDATION_COLORS.items():
        sub = data[data["recommendation"].astype(str) == rec]
        if sub.empty:
            continue
        has_ci = sub[f"{col}_low"].notna() & sub[f"{col}_high"].notna()
        ci = sub[has_ci]
        if len(ci):
            lo = np.maximum(ci[f"{col}_low"].to_numpy(), 1e-3)
            ax.vlines(ci["clicks"], lo, ci[f"{col}_high"], color=color, alpha=0.35, lw=1)
        ax.scatter(
            sub["clicks"], sub[point], s=14, color=color, label=f"{rec} ({len(sub)})", zorder=3
        )
    ax.axhline(
        roi_threshold,
        color="black",
        ls="--",
        lw=1,
        label=f"{metric} ROI = {roi_threshold:g}" + (" (break-even)" if metric == "profit" else ""),
    )
    if min_clicks_drop is not None:
        ax.axvline(
            min_clicks_drop,
            color="grey",
            ls=":",
            lw=1,
            label=f"{min_clicks_drop:,} clicks: drop possible",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    if len(data):
        # Lower bounds near 0 would stretch a log axis to nothing: frame the
        # points and let long intervals run off the edge.
        pts = data[point].to_numpy(dtype="float64")
        ax.set_ylim(
            max(float(np.nanmin(pts)) / 2, 1e-2),
            float(np.nanmax(data[f"{col}_high"].fillna(0).to_numpy().tolist() + [pts.max()])) * 1.5,
        )
    ax.set_xlabel("clicks (log scale)")
    what = "expected " if point != col else ""
    ax.set_ylabel(f"{what}{metric} ROI with 95 % interval (log scale)")
    n_out = len(card) - len(data)
    title = (
        f"{site}: {metric} ROI per creator" if site else f"{metric.capitalize()} ROI per creator"
    )
    if n_out:
        title += f" ({n_out} not drawn: no clicks, no ROI or thinned)"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return fig


def scorecard_counts_chart(card: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Number of creators per tier, stacked by recommendation.

    Parameters
    ----------
    card : pandas.DataFrame
        Scorecard rows of one site (``tier``, ``recommendation``).
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    site = _one_site(card)
    fig, ax = figure_and_axes(ax)
    counts = (
        card.groupby(["tier", "recommendation"], observed=False)
        .size()
        .unstack("recommendation", fill_value=0)
        .reindex(columns=list(RECOMMENDATION_COLORS), fill_value=0)
    )
    bottom = np.zeros(len(counts))
    x = np.arange(len(counts))
    for rec, color in RECOMMENDATION_COLORS.items():
        v = counts[rec].to_numpy()
        ax.bar(x, v, bottom=bottom, color=color, label=rec, width=0.7)
        for xi, b, n in zip(x, bottom, v, strict=True):
            if n:
                ax.text(xi, b + n / 2, str(n), ha="center", va="center", fontsize=8)
        bottom = bottom + v
    ax.set_xticks(x, [str(t) for t in counts.index])
    ax.set_xlabel("creator tier")
    ax.set_ylabel("creators")
    ax.set_title(f"{site}: recommendation by tier" if site else "Recommendation by tier")
    ax.legend(fontsize=8)
    return fig


def scorecard_cvr_chart(
    card: pd.DataFrame,
    *,
    cvr_drop_ratio: float | None = None,
    seed: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """Shrunk CVR (with interval) against the CVR expected for the creator's tier,
    category and commission; the diagonal is "as expected".

    Parameters
    ----------
    card : pandas.DataFrame
        Scorecard rows of one site (``expected_cvr``, ``shrunk_cvr``,
        ``shrunk_cvr_low``, ``shrunk_cvr_high``, ``recommendation``).
    cvr_drop_ratio : float, optional
        Draws the line ``cvr_drop_ratio`` x expected (the CVR drop rule).
    seed : int
        Seed of the thinning when there are more than 3,000 creators.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    site = _one_site(card)
    fig, ax = figure_and_axes(ax, figsize=(6.5, 5.5))
    data = card[card["expected_cvr"].notna() & card["shrunk_cvr"].notna()]
    data = data.iloc[thin_sample(len(data), _MAX_INTERVALS, seed)]
    for rec, color in RECOMMENDATION_COLORS.items():
        sub = data[data["recommendation"].astype(str) == rec]
        if sub.empty:
            continue
        ax.vlines(
            sub["expected_cvr"],
            sub["shrunk_cvr_low"],
            sub["shrunk_cvr_high"],
            color=color,
            alpha=0.3,
            lw=1,
        )
        ax.scatter(sub["expected_cvr"], sub["shrunk_cvr"], s=12, color=color, label=rec, zorder=3)
    if len(data):
        hi = float(np.nanmax(data[["expected_cvr", "shrunk_cvr_high"]].to_numpy())) * 1.05
        grid = np.array([0.0, hi])
        ax.plot(grid, grid, color="black", lw=1, label="as expected")
        if cvr_drop_ratio is not None:
            ax.plot(
                grid,
                cvr_drop_ratio * grid,
                color="black",
                ls=":",
                lw=1,
                label=f"{cvr_drop_ratio:.0%} of expected",
            )
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
    ax.xaxis.set_major_formatter(percent_formatter(1))
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_xlabel("expected CVR (tier, category, commission)")
    ax.set_ylabel("shrunk CVR with 95 % interval")
    ax.set_title(
        f"{site}: conversion against expectation" if site else "Conversion against expectation"
    )
    ax.legend(fontsize=8)
    return fig
