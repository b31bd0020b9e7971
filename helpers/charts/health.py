"""Charts for the data-health report (``01_data_health``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter

from helpers.charts._style import figure_and_axes, percent_formatter
from helpers.health import REASON_TEXT
from helpers.i18n import label, text, translate

__all__ = [
    "coverage_heatmap",
    "coverage_timeline",
    "funnel_chart",
    "rate_distribution_chart",
    "row_accounting_chart",
]

_TEXT = {
    "en": {
        "rows": "rows",
        "read_kept": "read = kept + rejected",
        "rejected_rows": "rejected rows (a row may have several reasons)",
        "why": "why rows were rejected",
        "none_rejected": "no row rejected",
        "accounted": "Every row accounted for",
        "heatmap": "{value} by {row} and {col}",
        "no_dates": "no dates in the export",
        "period_start": "period start",
        "per_period": "{value} per period, by site",
        "counts": "{g}: counts (log scale)",
        "money": "{g}: money (site currency)",
        "funnel": "Funnel: impressions -> clicks -> orders -> GMV -> refunds -> net GMV",
        "return rate": "return rate",
        "no_content": "no content above the threshold",
        "aov_axis": "AOV (site currency, log scale)",
        "rate_axis": "{metric} (content with >= {n} {unit})",
        "median": "{site} {metric}: median {value:.3g}",
        "distributions": "Content-level distributions (dashed line: median)",
    },
    "zh": {
        "rows": "行数",
        "read_kept": "读取 = 保留 + 剔除",
        "rejected_rows": "剔除行数（一行可能有多个原因）",
        "why": "剔除原因",
        "none_rejected": "没有被剔除的行",
        "accounted": "每一行都有交代",
        "heatmap": "{value}：按{row}和{col}",
        "no_dates": "导出数据中没有日期",
        "period_start": "周期起始日",
        "per_period": "各站点每周期{value}",
        "counts": "{g}：数量（对数刻度）",
        "money": "{g}：金额（站点币种）",
        "funnel": "转化漏斗：曝光 → 点击 → 订单 → GMV → 退款 → 净成交额",
        "return rate": "退货率",
        "no_content": "没有达到门槛的内容",
        "aov_axis": "客单价（站点币种，对数刻度）",
        "rate_axis": "{metric}（{unit}≥ {n} 的内容）",
        "median": "{site} {metric}：中位数 {value:.3g}",
        "distributions": "单条内容的指标分布（虚线：中位数）",
    },
}


def row_accounting_chart(accounting: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Rows read, kept and rejected (left) and rejections by reason on their own scale
    (right), so that 8 rejected rows out of 30,000 stay visible.

    Parameters
    ----------
    accounting : DataFrame
        Output of :func:`helpers.health.row_accounting`.
    lang : {"en", "zh"}
        Language of titles and labels.
    """
    totals = accounting[~accounting["stage"].str.startswith("rejected: ")]
    reasons = accounting[accounting["stage"].str.startswith("rejected: ")]
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(11.0, 0.35 * max(len(reasons), 3) + 1.6),
        layout="constrained",
        gridspec_kw={"width_ratios": [1, 1.4]},
    )
    colours = ["#4c72b0", "#55a868", "#c44e52"][: len(totals)]
    left.barh([label(st, lang) for st in totals["stage"]], totals["rows"], color=colours)
    left.invert_yaxis()
    for y, v in enumerate(totals["rows"]):
        left.text(v, y, f" {v:,}", va="center", fontsize=9)
    left.margins(x=0.25)
    left.set_xlabel(text(_TEXT, "rows", lang))
    left.set_title(text(_TEXT, "read_kept", lang))
    if len(reasons):
        labels = [
            translate(r, REASON_TEXT, lang) for r in reasons["stage"].str.removeprefix("rejected: ")
        ]
        right.barh(labels, reasons["rows"], color="#c44e52")
        right.invert_yaxis()
        for y, v in enumerate(reasons["rows"]):
            right.text(v, y, f" {v:,}", va="center", fontsize=9)
        right.margins(x=0.15)
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_xlabel(text(_TEXT, "rejected_rows", lang))
        right.set_title(text(_TEXT, "why", lang))
    else:
        right.text(
            0.5,
            0.5,
            text(_TEXT, "none_rejected", lang),
            ha="center",
            va="center",
            transform=right.transAxes,
        )
        right.set_axis_off()
    fig.suptitle(text(_TEXT, "accounted", lang))
    return fig


def coverage_heatmap(
    table: pd.DataFrame,
    *,
    row: str = "category",
    col: str = "tier",
    value: str = "clicks",
    ax: Axes | None = None,
    lang: str = "en",
) -> Figure:
    """Heatmap of a coverage table (e.g. clicks by category x tier).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`helpers.health.coverage` grouped by at least ``row`` and ``col``.
    row, col : str
        Columns for the heatmap's rows and columns.
    value : str
        Column to show (summed over any other keys).
    ax : Axes, optional
        Where to draw.
    lang : {"en", "zh"}
        Language of the title and axis names.
    """
    pivot = table.pivot_table(
        index=row, columns=col, values=value, aggfunc="sum", observed=True, fill_value=0
    )
    fig, ax = figure_and_axes(ax, figsize=(1.2 * pivot.shape[1] + 3, 0.5 * pivot.shape[0] + 1.5))
    sns.heatmap(pivot, annot=True, fmt=",.0f", cmap="Blues", cbar=False, ax=ax, linewidths=0.5)
    ax.set_title(
        text(
            _TEXT,
            "heatmap",
            lang,
            value=label(value, lang),
            row=label(row, lang),
            col=label(col, lang),
        )
    )
    ax.set_xlabel(label(col, lang))
    ax.set_ylabel(label(row, lang))
    ax.tick_params(axis="y", labelrotation=0)  # category names side by side, not stacked
    return fig


def coverage_timeline(
    over_time: pd.DataFrame, *, value: str = "content", lang: str = "en"
) -> Figure:
    """Content (or clicks) per period, one line per site.

    Parameters
    ----------
    over_time : DataFrame
        Output of :func:`helpers.health.coverage_over_time`.
    value : str
        ``content``, ``clicks`` or ``orders``.
    lang : {"en", "zh"}
        Language of titles and labels.
    """
    fig, ax = figure_and_axes(None, figsize=(8.0, 3.8))
    if over_time.empty:
        ax.text(
            0.5,
            0.5,
            text(_TEXT, "no_dates", lang),
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    sns.lineplot(data=over_time, x="period", y=value, hue="site", marker="o", ax=ax)
    ax.set_xlabel(text(_TEXT, "period_start", lang))
    ax.set_ylabel(label(value, lang))
    ax.set_title(text(_TEXT, "per_period", lang, value=label(value, lang)).capitalize())
    if lang != "en":
        ax.legend(title=label("site", lang))
    fig.autofmt_xdate()
    return fig


def funnel_chart(steps: pd.DataFrame, *, by: str = "site", lang: str = "en") -> Figure:
    """The funnel per site: counts (log scale) and money (site currency), with the rate
    between steps written on the bars.

    Parameters
    ----------
    steps : DataFrame
        Output of :func:`helpers.health.funnel_steps`.
    by : str
        The grouping column used there.
    lang : {"en", "zh"}
        Language of titles and labels.
    """
    groups = list(pd.unique(steps[by]))
    fig, axes = plt.subplots(
        len(groups), 2, figsize=(10, 2.6 * len(groups) + 0.6), squeeze=False, layout="constrained"
    )
    labels = {
        "clicks": label("CTR", lang),
        "orders": label("CVR", lang),
        "refunds": text(_TEXT, "return rate", lang),
    }
    for i, g in enumerate(groups):
        part = steps[steps[by] == g]
        for j, kind in enumerate(("count", "money")):
            ax = axes[i, j]
            sub = part[part["kind"] == kind]
            ax.barh(
                [label(st, lang) for st in sub["step"]],
                sub["value"],
                color="#4c72b0" if kind == "count" else "#55a868",
            )
            ax.invert_yaxis()
            if kind == "count":
                ax.set_xscale("log")
            else:
                ax.xaxis.set_major_formatter(EngFormatter(sep=" "))
            for y, (step, v, rate) in enumerate(
                sub[["step", "value", "rate_from_previous"]].itertuples(index=False)
            ):
                note = f" {v:,.0f}"
                if step in labels and np.isfinite(rate):
                    note += f"  ({labels[step]} {rate:.2%})"
                ax.text(v, y, note, va="center", fontsize=8)
            ax.margins(x=0.35)
            ax.set_title(
                text(_TEXT, "counts" if kind == "count" else "money", lang, g=g), fontsize=10
            )
    fig.suptitle(text(_TEXT, "funnel", lang))
    return fig


def rate_distribution_chart(dist: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Histograms of content-level CTR, CVR and AOV, one row per site (never pooled).

    Parameters
    ----------
    dist : DataFrame
        Output of :func:`helpers.health.rate_distributions`.
    lang : {"en", "zh"}
        Language of titles and labels.
    """
    sites = list(pd.unique(dist["site"]))
    metrics = ["CTR", "CVR", "AOV"]
    fig, axes = plt.subplots(
        len(sites), 3, figsize=(11, 2.4 * len(sites) + 0.8), squeeze=False, layout="constrained"
    )
    thresholds = dist.attrs.get("thresholds", {})
    for i, site in enumerate(sites):
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            values = dist.loc[(dist["site"] == site) & (dist["metric"] == metric), "value"]
            if values.empty:
                ax.text(
                    0.5,
                    0.5,
                    text(_TEXT, "no_content", lang),
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                )
                continue
            if metric == "AOV":
                positive = values[values > 0]
                bins = (
                    np.geomspace(max(positive.min(), 1e-9), positive.max() * 1.01, 40)
                    if len(positive)
                    else 10
                )
                ax.hist(positive, bins=bins, color="#8172b3")
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                ax.set_xlabel(text(_TEXT, "aov_axis", lang))
            else:
                ax.hist(values, bins=40, color="#4c72b0" if metric == "CTR" else "#dd8452")
                ax.xaxis.set_major_formatter(percent_formatter(1))
                unit = label("impressions" if metric == "CTR" else "clicks", lang)
                ax.set_xlabel(
                    text(
                        _TEXT,
                        "rate_axis",
                        lang,
                        metric=label(metric, lang),
                        unit=unit,
                        n=thresholds.get(metric, "?"),
                    )
                )
            ax.axvline(values.median(), color="black", lw=1, ls="--")
            ax.set_title(
                text(
                    _TEXT,
                    "median",
                    lang,
                    site=site,
                    metric=label(metric, lang),
                    value=values.median(),
                ),
                fontsize=9,
            )
    fig.suptitle(text(_TEXT, "distributions", lang))
    return fig
