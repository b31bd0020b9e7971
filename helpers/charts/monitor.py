"""Charts of the weekly monitor (notebook 06): changes with intervals, the GMV
decomposition, the PIT histogram of past forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from helpers.charts._style import figure_and_axes, percent_formatter
from helpers.i18n import text

__all__ = ["monitor_change_chart", "monitor_decomposition_chart", "monitor_pit_chart"]

_TEXT = {
    "en": {
        "change": "change vs comparison period (95 % interval)",
        "change_title": "{site}: this period vs the comparison period",
        "gmv_change": "GMV change (site currency)",
        "decomp_title": "{site}: where the GMV change came from",
        "reach": "reach",
        "ctr": "CTR",
        "cvr": "CVR",
        "aov": "AOV",
        "other": "other",
        "total": "total",
        "pit": "PIT: where the actual fell in the forecast",
        "count": "forecasts",
        "pit_title": "Calibration of ROI forecasts (flat = honest)",
        "gmv": "GMV",
        "net_gmv": "net GMV",
        "orders": "orders",
        "profit_roi": "profit ROI",
    },
    "zh": {
        "change": "相对对比期的变化（95% 区间）",
        "change_title": "{site}：本期 vs 对比期",
        "gmv_change": "GMV 变化（站点货币）",
        "decomp_title": "{site}：GMV 变化来自哪里",
        "reach": "曝光",
        "ctr": "点击率",
        "cvr": "转化率",
        "aov": "客单价",
        "other": "其他",
        "total": "合计",
        "pit": "PIT：实际值在预估分布中的位置",
        "count": "预估数",
        "pit_title": "ROI 预估的校准（越平越诚实）",
        "gmv": "GMV",
        "net_gmv": "净 GMV",
        "orders": "订单数",
        "profit_roi": "利润 ROI",
    },
}


def monitor_change_chart(
    cmp: pd.DataFrame, *, site: str, ax: Axes | None = None, lang: str = "en"
) -> Figure:
    """Relative change of each metric with its interval; flagged changes in colour.

    Parameters
    ----------
    cmp : DataFrame
        :func:`helpers.monitor.compare_periods` output (rows of one or more sites).
    site : str
        The site to draw.
    ax : Axes, optional
    lang : str
    """
    fig, ax = figure_and_axes(ax, figsize=(7.0, 3.6))
    c = cmp[cmp["site"] == site].iloc[::-1]
    y = np.arange(len(c))
    colors = np.where(c["flag"], np.where(c["change_pct"] > 0, "#1a9850", "#d73027"), "#888888")
    err = np.vstack([c["change_pct"] - c["low_pct"], c["high_pct"] - c["change_pct"]])
    ax.errorbar(
        c["change_pct"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="#999999", capsize=3
    )
    ax.scatter(c["change_pct"], y, c=list(colors), zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [text(_TEXT, m, lang) if m in _TEXT["en"] else m.upper() for m in c["metric"]])
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel(text(_TEXT, "change", lang))
    ax.set_title(text(_TEXT, "change_title", lang, site=site))
    return fig


def monitor_decomposition_chart(
    dec: pd.DataFrame, *, site: str, ax: Axes | None = None, lang: str = "en"
) -> Figure:
    """Waterfall of the site's GMV change: reach, CTR, CVR, AOV (and other) effects."""
    fig, ax = figure_and_axes(ax, figsize=(7.0, 3.6))
    row = dec[dec["site"] == site].iloc[0]
    parts = ["reach", "ctr", "cvr", "aov", "other"]
    vals = [float(row[p]) for p in parts] + [float(row["change"])]
    starts = np.concatenate([[0.0], np.cumsum(vals[:-1])[:-1], [0.0]])
    colors = ["#1a9850" if v >= 0 else "#d73027" for v in vals[:-1]] + ["#4575b4"]
    ax.bar(range(len(vals)), vals, bottom=starts, color=colors)
    # Limits from every bar's both ends, with room above and below: a falling bar's top is
    # a sticky edge, so autoscaling left the tallest bars touching the frame (looked cut).
    ends = [0.0, *starts, *(np.asarray(starts) + np.asarray(vals))]
    lo, hi = min(ends), max(ends)
    pad = 0.08 * ((hi - lo) or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # no "1e8" offset
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(vals)), [text(_TEXT, p, lang) for p in [*parts, "total"]])
    ax.set_ylabel(text(_TEXT, "gmv_change", lang))
    ax.set_title(text(_TEXT, "decomp_title", lang, site=site))
    return fig


def monitor_pit_chart(
    eva: pd.DataFrame, *, bins: int = 10, ax: Axes | None = None, lang: str = "en"
) -> Figure:
    """Histogram of the PIT values of past forecasts, with the flat line of perfect calibration."""
    fig, ax = figure_and_axes(ax, figsize=(6.0, 3.4))
    ax.hist(eva["pit"].clip(0, 1), bins=bins, range=(0, 1), color="#4575b4", edgecolor="white")
    if len(eva):
        ax.axhline(len(eva) / bins, color="black", ls="--", lw=1)
    ax.set_xlabel(text(_TEXT, "pit", lang))
    ax.set_ylabel(text(_TEXT, "count", lang))
    ax.set_title(text(_TEXT, "pit_title", lang))
    return fig
