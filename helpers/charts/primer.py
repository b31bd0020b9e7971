"""Charts of the metrics primer (notebook ``00_metrics_primer``): the funnel, the cost
breakdown and one chart per common mistake. Inputs come from :mod:`helpers.glossary`.

Chart text is English only: matplotlib falls back to empty boxes for Chinese when no
CJK font is installed (the default on servers); the notebook's glossary table carries
the Chinese terms.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.charts._style import figure_and_axes, percent_formatter

__all__ = [
    "primer_ab_test_chart",
    "primer_commission_profit_chart",
    "primer_cost_breakdown_chart",
    "primer_funnel_chart",
    "primer_refunds_roi_chart",
    "primer_roi_history_chart",
    "primer_simpson_chart",
    "primer_views_vs_orders_chart",
]

_GOOD = "#2a9d8f"
_BAD = "#e76f51"
_NEUTRAL = "#577590"


def primer_funnel_chart(c: Any, axes: tuple[Axes, Axes] | None = None) -> Figure:
    """The toy campaign's funnel: impressions -> clicks -> orders, then GMV -> net revenue.

    Parameters
    ----------
    c : helpers.glossary.ToyCampaign
        The campaign.
    axes : pair of Axes, optional
        Axes for the counts (left) and the money (right); new ones when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if axes is None:
        fig, (ax1, ax2) = plt.subplots(
            1, 2, figsize=(11, 3.8), layout="constrained", width_ratios=[1.2, 1]
        )
    else:
        ax1, ax2 = axes
        fig = ax1.figure
    counts = [c.impressions, c.clicks, c.orders]
    labels = ["impressions", "clicks", "orders"]
    notes = ["", f"CTR {c.ctr:.2%}", f"CVR {c.cvr:.2%}"]
    y = np.arange(3)[::-1]
    ax1.barh(y, counts, color=[_NEUTRAL, "#43aa8b", _GOOD], height=0.6)
    ax1.set_xscale("log")
    ax1.set_yticks(y, labels)
    for yi, n, note in zip(y, counts, notes, strict=True):
        text = f"{n:,}" + (f"  ({note})" if note else "")
        ax1.text(n * 1.15, yi, text, va="center", fontsize=9)
    ax1.set_xlim(max(min(counts), 1) / 3, max(counts) * 60)
    ax1.set_xlabel("count (log scale: each step is a big drop)")
    ax1.set_title("Funnel: counts")

    money = [c.gmv, c.refunds, c.net_gmv]
    m_labels = ["GMV", "refunds", "net GMV"]
    y2 = np.arange(3)[::-1]
    ax2.barh(y2, money, color=[_NEUTRAL, _BAD, _GOOD], height=0.6)
    ax2.set_yticks(y2, m_labels)
    notes2 = [f"AOV {c.aov:,.2f}", f"return rate {c.return_rate:.0%}", ""]
    for yi, v, note in zip(y2, money, notes2, strict=True):
        ax2.text(
            v + max(money) * 0.02,
            yi,
            f"{v:,.0f}" + (f"  ({note})" if note else ""),
            va="center",
            fontsize=9,
        )
    ax2.set_xlim(0, max(money) * 1.6 if max(money) > 0 else 1)
    ax2.set_xlabel(f"{c.site} site currency")
    ax2.set_title("Funnel: money")
    return fig


def primer_cost_breakdown_chart(c: Any, ax: Axes | None = None) -> Figure:
    """Waterfall from net GMV to profit: platform fee, product cost, commission,
    samples and flat fees taken off in turn.

    Parameters
    ----------
    c : helpers.glossary.ToyCampaign
        The campaign.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax, figsize=(9, 4.5))
    steps = [
        ("net GMV", c.net_gmv),
        ("platform fee", -c.platform_fee),
        ("product cost", -c.product_cost),
        ("commission", -c.commission),
        ("samples", -c.sample_cost),
        ("flat fee", -c.flat_fee),
    ]
    level = 0.0
    for i, (_label, v) in enumerate(steps):
        bottom = level if v < 0 else 0.0
        start = level + v if v < 0 else 0.0
        ax.bar(
            i,
            abs(v),
            bottom=start if v < 0 else bottom,
            color=_BAD if v < 0 else _NEUTRAL,
            width=0.65,
        )
        ax.text(
            i,
            max(level, level + v) + c.net_gmv * 0.015,
            f"{v:+,.0f}" if i else f"{v:,.0f}",
            ha="center",
            fontsize=8,
        )
        level += v
    i = len(steps)
    ax.bar(i, c.profit, color=_GOOD if c.profit >= 0 else _BAD, width=0.65)
    ax.text(i, max(c.profit, 0) + c.net_gmv * 0.015, f"{c.profit:,.0f}", ha="center", fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(i + 1), [s[0] for s in steps] + ["profit"], fontsize=8)
    ax.set_ylabel(f"{c.site} site currency")
    ax.set_title(
        f"From net sales to profit - gross ROI {c.gross_roi:.2f}, net ROI {c.net_roi:.2f}, "
        f"profit ROI {c.profit_roi:.2f}",
        fontsize=10,
    )
    return fig


def primer_views_vs_orders_chart(df: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Video views against orders per creator (from ``demo_views_vs_clicks``), each
    point labelled with the creator's CTR.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    sc = ax.scatter(
        df["video_views"], df["orders"], c=df["ctr"], cmap="viridis", s=60, edgecolor="k", lw=0.5
    )
    for row in df.itertuples(index=False):
        ax.annotate(
            f"{row.creator[-2:]}: CTR {row.ctr:.1%}",
            (row.video_views, row.orders),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_xlabel("video views, log scale")
    ax.set_ylabel("orders")
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label("CTR")
    cb.formatter = percent_formatter(1)
    cb.update_ticks()
    rho = df.attrs.get("spearman_views_orders")
    title = "More views do not mean more orders"
    if rho is not None:
        title += f" (rank correlation {rho:.2f})"
    ax.set_title(title)
    return fig


def primer_roi_history_chart(df: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Net ROI estimate and interval against the clicks of history behind it
    (from ``demo_roi_history``), with the true net ROI and break-even.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    x = df["history_clicks"].to_numpy()
    yhat = df["net_roi_hat"].to_numpy()
    err = np.vstack([yhat - df["net_roi_low"].to_numpy(), df["net_roi_high"].to_numpy() - yhat])
    ax.errorbar(
        x, yhat, yerr=err, fmt="o", color=_NEUTRAL, capsize=4, label="estimate and 95 % interval"
    )
    ax.axhline(float(df["true_net_roi"].iloc[0]), color=_GOOD, ls="--", label="true net ROI")
    ax.axhline(1.0, color=_BAD, ls=":", label="net ROI = 1 (sales equal cost)")
    ax.set_xscale("log")
    ax.set_xlabel("clicks of history behind the estimate (log scale)")
    ax.set_ylabel("net ROI")
    ax.set_title("An ROI estimate from little history is a wide guess")
    ax.legend(fontsize=8)
    return fig


def primer_refunds_roi_chart(df: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Gross, net and profit ROI against the return rate (from ``demo_refunds``), and
    profit ROI when refunded items are not recovered (refund-only), when given.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    ax.plot(
        df["return_rate"],
        df["gross_roi"],
        "o-",
        color=_NEUTRAL,
        label="gross ROI (ignores refunds)",
    )
    ax.plot(df["return_rate"], df["net_roi"], "s-", color=_GOOD, label="net ROI")
    ax.plot(df["return_rate"], df["profit_roi"], "^-", color=_BAD, label="profit ROI")
    if "profit_roi_refund_only" in df.columns:
        ax.plot(
            df["return_rate"],
            df["profit_roi_refund_only"],
            "v--",
            color=_BAD,
            alpha=0.6,
            label="profit ROI if refunded items never come back",
        )
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel("return rate")
    ax.set_ylabel("ROI")
    ax.set_title("Refunds: gross ROI does not see them")
    ax.legend(fontsize=8)
    return fig


def primer_simpson_chart(df: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """CVR of two creators per site and pooled (from ``demo_mixing_sites``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    sites = list(dict.fromkeys(df["site"]))
    creators = list(dict.fromkeys(df["creator"]))
    width = 0.8 / len(creators)
    colors = [_NEUTRAL, "#f4a261", _GOOD, _BAD]
    for j, cr in enumerate(creators):
        sub = df[df["creator"] == cr].set_index("site").reindex(sites)
        xs = np.arange(len(sites)) + (j - (len(creators) - 1) / 2) * width
        ax.bar(xs, sub["cvr"], width=width, color=colors[j % len(colors)], label=f"creator {cr}")
        for xi, v, n in zip(xs, sub["cvr"], sub["clicks"], strict=True):
            ax.text(xi, v, f"{v:.1%}\n{n:,} clicks", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(sites)), sites)
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_ylabel("CVR")
    ax.set_ylim(0, float(df["cvr"].max()) * 1.3)
    ax.set_title("Per site A converts better; pooled, B looks better")
    ax.legend(fontsize=8)
    return fig


def primer_commission_profit_chart(df: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Profit and fake orders against the commission rate (from
    ``demo_commission_fake_orders``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    ax.plot(
        df["commission_rate"], df["expected_profit"], "-", color=_NEUTRAL, label="expected profit"
    )
    ax.plot(
        df["commission_rate"],
        df["profit"],
        "o",
        color=_NEUTRAL,
        ms=4,
        label="one simulated campaign",
    )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("commission rate")
    ax.set_ylabel("profit, site currency")
    ax.xaxis.set_major_formatter(percent_formatter())
    ax2 = ax.twinx()
    total = df["real_orders"] + df["fake_orders"]
    share = np.where(total > 0, df["fake_orders"] / total.where(total > 0, 1), 0.0)
    ax2.bar(
        df["commission_rate"],
        share,
        width=0.03,
        color=_BAD,
        alpha=0.3,
        label="fake share of orders",
    )
    ax2.yaxis.set_major_formatter(percent_formatter())
    ax2.set_ylabel("fake orders, share of orders")
    ax2.set_ylim(0, 1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower left")
    ax.set_title("Higher commission is not more profit (illustrative model)")
    return fig


def primer_ab_test_chart(df: pd.DataFrame, plan: Any = None, ax: Axes | None = None) -> Figure:
    """Cumulative CTR lift of B over A with its 95 % interval, day by day (from
    ``demo_ab_test``), and the planned end of the test.

    The shaded band is the video-level interval (the unit the thumbnails were
    assigned to). When the frame has ``lift_low_naive`` / ``lift_high_naive`` the
    impression-level interval is drawn too, as dashed lines: it is much narrower,
    which is exactly the false confidence the video-level test removes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    ax.fill_between(
        df["day"],
        df["lift_low"],
        df["lift_high"],
        color=_NEUTRAL,
        alpha=0.25,
        label="95 % interval, video-level test",
    )
    if {"lift_low_naive", "lift_high_naive"} <= set(df.columns):
        ax.plot(
            df["day"],
            df["lift_low_naive"],
            color=_BAD,
            ls="--",
            lw=1,
            label="95 % interval if each impression counted alone (too narrow)",
        )
        ax.plot(df["day"], df["lift_high_naive"], color=_BAD, ls="--", lw=1)
    ax.plot(df["day"], df["lift"], "o-", color=_NEUTRAL, ms=3, label="estimated lift of B")
    ax.axhline(0, color="black", lw=0.8)
    if plan is not None:
        ax.axhline(
            plan.min_detectable_lift,
            color=_GOOD,
            ls="--",
            lw=1,
            label="lift the test was planned for",
        )
        if plan.days is not None:
            ax.axvline(plan.days, color=_BAD, ls=":", label=f"planned end: day {plan.days}")
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel("day of the test")
    ax.set_ylabel("CTR lift of B over A")
    ax.set_title("A/B test by video: early days are noise; decide at the planned size")
    ax.legend(fontsize=8, loc="upper right")
    return fig
