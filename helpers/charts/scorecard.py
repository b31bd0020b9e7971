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
from helpers.errors import ParameterError
from helpers.i18n import text

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

_TEXT = {
    "en": {
        "keep": "keep",
        "test more": "test more",
        "drop": "drop",
        "profit": "profit",
        "net": "net",
        "rec_n": "{rec} ({n})",
        "threshold": "{metric} ROI = {t:g}",
        "break_even": " (break-even)",
        "drop_possible": "{n:,} clicks: drop possible",
        "clicks_log": "clicks (log scale)",
        "roi_axis": "{metric} ROI with 95 % interval (log scale)",
        "expected_roi_axis": "expected {metric} ROI with 95 % interval (log scale)",
        "roi_title_site": "{site}: {metric} ROI per creator",
        "roi_title": "{metric} ROI per creator",
        "not_drawn": " ({n} not drawn: no clicks, no ROI or thinned)",
        "tier": "creator tier",
        "creators": "creators",
        "counts_site": "{site}: recommendation by tier",
        "counts": "Recommendation by tier",
        "as_expected": "as expected",
        "of_expected": "{r:.0%} of expected",
        "expected_cvr": "expected CVR (tier, category, commission)",
        "shrunk_cvr": "shrunk CVR with 95 % interval",
        "cvr_site": "{site}: conversion against expectation",
        "cvr": "Conversion against expectation",
    },
    "zh": {
        "keep": "保留",
        "test more": "再测",
        "drop": "淘汰",
        "profit": "利润",
        "net": "净",
        "rec_n": "{rec}（{n}）",
        "threshold": "{metric} ROI = {t:g}",
        "break_even": "（保本线）",
        "drop_possible": "{n:,} 次点击：可判断淘汰",
        "clicks_log": "点击（对数刻度）",
        "roi_axis": "{metric} ROI 及 95% 区间（对数刻度）",
        "expected_roi_axis": "预期{metric} ROI 及 95% 区间（对数刻度）",
        "roi_title_site": "{site}：各达人的{metric} ROI",
        "roi_title": "各达人的{metric} ROI",
        "not_drawn": "（{n} 位未画出：无点击、无 ROI 或抽样省略）",
        "tier": "达人等级",
        "creators": "达人数",
        "counts_site": "{site}：各等级达人的建议",
        "counts": "各等级达人的建议",
        "as_expected": "符合预期",
        "of_expected": "预期的 {r:.0%}",
        "expected_cvr": "预期转化率（按等级、类目、佣金）",
        "shrunk_cvr": "收缩后转化率及 95% 区间",
        "cvr_site": "{site}：实际转化率对比预期",
        "cvr": "实际转化率对比预期",
    },
}


def _rec(rec: str, lang: str) -> str:
    """A recommendation as the reader's language says it."""
    return text(_TEXT, rec, lang) if rec in _TEXT["en"] else rec


# Error bars are heavier than markers: cap them well below the scatter limit.
_MAX_INTERVALS = 3_000


def _one_site(card: pd.DataFrame) -> str:
    sites = card["site"].astype(str).unique() if "site" in card.columns else []
    if len(sites) > 1:
        raise ParameterError(
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
    lang: str = "en",
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

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For another ``metric``, or rows of several sites.
    """
    if metric not in ("profit", "net"):
        raise ParameterError(f"metric must be 'profit' or 'net'; got {metric!r}")
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
            sub["clicks"],
            sub[point],
            s=14,
            color=color,
            label=text(_TEXT, "rec_n", lang, rec=_rec(rec, lang), n=len(sub)),
            zorder=3,
        )
    ax.axhline(
        roi_threshold,
        color="black",
        ls="--",
        lw=1,
        label=text(_TEXT, "threshold", lang, metric=text(_TEXT, metric, lang), t=roi_threshold)
        + (text(_TEXT, "break_even", lang) if metric == "profit" else ""),
    )
    if min_clicks_drop is not None:
        ax.axvline(
            min_clicks_drop,
            color="grey",
            ls=":",
            lw=1,
            label=text(_TEXT, "drop_possible", lang, n=min_clicks_drop),
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
    ax.set_xlabel(text(_TEXT, "clicks_log", lang))
    name = text(_TEXT, metric, lang)
    ax.set_ylabel(
        text(_TEXT, "expected_roi_axis" if point != col else "roi_axis", lang, metric=name)
    )
    n_out = len(card) - len(data)
    title = (
        text(_TEXT, "roi_title_site", lang, site=site, metric=name)
        if site
        else text(_TEXT, "roi_title", lang, metric=name)
    )
    if lang == "en" and not site:
        title = title[0].upper() + title[1:]
    if n_out:
        title += text(_TEXT, "not_drawn", lang, n=n_out)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return fig


def scorecard_counts_chart(
    card: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Number of creators per tier, stacked by recommendation.

    Parameters
    ----------
    card : pandas.DataFrame
        Scorecard rows of one site (``tier``, ``recommendation``).
    ax : Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
        ax.bar(x, v, bottom=bottom, color=color, label=_rec(rec, lang), width=0.7)
        for xi, b, n in zip(x, bottom, v, strict=True):
            if n:
                ax.text(xi, b + n / 2, str(n), ha="center", va="center", fontsize=8)
        bottom = bottom + v
    ax.set_xticks(x, [str(t) for t in counts.index])
    ax.set_xlabel(text(_TEXT, "tier", lang))
    ax.set_ylabel(text(_TEXT, "creators", lang))
    ax.set_title(
        text(_TEXT, "counts_site", lang, site=site) if site else text(_TEXT, "counts", lang)
    )
    ax.legend(fontsize=8)
    return fig


def scorecard_cvr_chart(
    card: pd.DataFrame,
    *,
    cvr_drop_ratio: float | None = None,
    seed: int = 0,
    ax: Axes | None = None,
    lang: str = "en",
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

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
        ax.scatter(
            sub["expected_cvr"],
            sub["shrunk_cvr"],
            s=12,
            color=color,
            label=_rec(rec, lang),
            zorder=3,
        )
    if len(data):
        hi = float(np.nanmax(data[["expected_cvr", "shrunk_cvr_high"]].to_numpy())) * 1.05
        grid = np.array([0.0, hi])
        ax.plot(grid, grid, color="black", lw=1, label=text(_TEXT, "as_expected", lang))
        if cvr_drop_ratio is not None:
            ax.plot(
                grid,
                cvr_drop_ratio * grid,
                color="black",
                ls=":",
                lw=1,
                label=text(_TEXT, "of_expected", lang, r=cvr_drop_ratio),
            )
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
    ax.xaxis.set_major_formatter(percent_formatter(1))
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_xlabel(text(_TEXT, "expected_cvr", lang))
    ax.set_ylabel(text(_TEXT, "shrunk_cvr", lang))
    ax.set_title(text(_TEXT, "cvr_site", lang, site=site) if site else text(_TEXT, "cvr", lang))
    ax.legend(fontsize=8)
    return fig
