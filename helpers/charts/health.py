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

__all__ = [
    "coverage_heatmap",
    "coverage_timeline",
    "funnel_chart",
    "rate_distribution_chart",
    "row_accounting_chart",
]


def row_accounting_chart(accounting: pd.DataFrame) -> Figure:
    """Rows read, kept and rejected (left) and rejections by reason on their own scale
    (right), so that 8 rejected rows out of 30,000 stay visible.

    Parameters
    ----------
    accounting : DataFrame
        Output of :func:`helpers.health.row_accounting`.
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
    left.barh(totals["stage"], totals["rows"], color=colours)
    left.invert_yaxis()
    for y, v in enumerate(totals["rows"]):
        left.text(v, y, f" {v:,}", va="center", fontsize=9)
    left.margins(x=0.25)
    left.set_xlabel("rows")
    left.set_title("read = kept + rejected")
    if len(reasons):
        labels = reasons["stage"].str.removeprefix("rejected: ")
        right.barh(labels, reasons["rows"], color="#c44e52")
        right.invert_yaxis()
        for y, v in enumerate(reasons["rows"]):
            right.text(v, y, f" {v:,}", va="center", fontsize=9)
        right.margins(x=0.15)
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_xlabel("rejected rows (a row may have several reasons)")
        right.set_title("why rows were rejected")
    else:
        right.text(0.5, 0.5, "no row rejected", ha="center", va="center", transform=right.transAxes)
        right.set_axis_off()
    fig.suptitle("Every row accounted for")
    return fig


def coverage_heatmap(
    table: pd.DataFrame,
    *,
    row: str = "category",
    col: str = "tier",
    value: str = "clicks",
    ax: Axes | None = None,
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
    """
    pivot = table.pivot_table(
        index=row, columns=col, values=value, aggfunc="sum", observed=True, fill_value=0
    )
    fig, ax = figure_and_axes(ax, figsize=(1.2 * pivot.shape[1] + 3, 0.5 * pivot.shape[0] + 1.5))
    sns.heatmap(pivot, annot=True, fmt=",.0f", cmap="Blues", cbar=False, ax=ax, linewidths=0.5)
    ax.set_title(f"{value} by {row} and {col}")
    return fig


def coverage_timeline(over_time: pd.DataFrame, *, value: str = "content") -> Figure:
    """Content (or clicks) per period, one line per site.

    Parameters
    ----------
    over_time : DataFrame
        Output of :func:`helpers.health.coverage_over_time`.
    value : str
        ``content``, ``clicks`` or ``orders``.
    """
    fig, ax = figure_and_axes(None, figsize=(8.0, 3.8))
    if over_time.empty:
        ax.text(
            0.5, 0.5, "no dates in the export", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return fig
    sns.lineplot(data=over_time, x="period", y=value, hue="site", marker="o", ax=ax)
    ax.set_xlabel("period start")
    ax.set_ylabel(value)
    ax.set_title(f"{value.capitalize()} per period, by site")
    fig.autofmt_xdate()
    return fig


def funnel_chart(steps: pd.DataFrame, *, by: str = "site") -> Figure:
    """The funnel per site: counts (log scale) and money (site currency), with the rate
    between steps written on the bars.

    Parameters
    ----------
    steps : DataFrame
        Output of :func:`helpers.health.funnel_steps`.
    by : str
        The grouping column used there.
    """
    groups = list(pd.unique(steps[by]))
    fig, axes = plt.subplots(
        len(groups), 2, figsize=(10, 2.6 * len(groups) + 0.6), squeeze=False, layout="constrained"
    )
    labels = {"clicks": "CTR", "orders": "CVR", "refunds": "return rate"}
    for i, g in enumerate(groups):
        part = steps[steps[by] == g]
        for j, kind in enumerate(("count", "money")):
            ax = axes[i, j]
            sub = part[part["kind"] == kind]
            ax.barh(sub["step"], sub["value"], color="#4c72b0" if kind == "count" else "#55a868")
            ax.invert_yaxis()
            if kind == "count":
                ax.set_xscale("log")
            else:
                ax.xaxis.set_major_formatter(EngFormatter(sep=" "))
            for y, (step, v, rate) in enumerate(
                sub[["step", "value", "rate_from_previous"]].itertuples(index=False)
            ):
                text = f" {v:,.0f}"
                if step in labels and np.isfinite(rate):
                    text += f"  ({labels[step]} {rate:.2%})"
                ax.text(v, y, text, va="center", fontsize=8)
            ax.margins(x=0.35)
            ax.set_title(
                f"{g}: {'counts (log scale)' if kind == 'count' else 'money (site currency)'}",
                fontsize=10,
            )
    fig.suptitle("Funnel: impressions -> clicks -> orders -> GMV -> refunds -> net GMV")
    return fig


def rate_distribution_chart(dist: pd.DataFrame) -> Figure:
    """Histograms of content-level CTR, CVR and AOV, one row per site (never pooled).

    Parameters
    ----------
    dist : DataFrame
        Output of :func:`helpers.health.rate_distributions`.
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
                    "no content above the threshold",
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
                ax.set_xlabel("AOV (site currency, log scale)")
            else:
                ax.hist(values, bins=40, color="#4c72b0" if metric == "CTR" else "#dd8452")
                ax.xaxis.set_major_formatter(percent_formatter(1))
                ax.set_xlabel(
                    f"{metric} (content with >= {thresholds.get(metric, '?')} "
                    f"{'impressions' if metric == 'CTR' else 'clicks'})"
                )
            ax.axvline(values.median(), color="black", lw=1, ls="--")
            ax.set_title(f"{site} {metric}: median {values.median():.3g}", fontsize=9)
    fig.suptitle("Content-level distributions (dashed line: median)")
    return fig
