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
from helpers.i18n import text

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


_TEXT = {
    "en": {
        "impressions": "impressions",
        "clicks": "clicks",
        "orders": "orders",
        "CTR": "CTR",
        "CVR": "CVR",
        "count_axis": "count (log scale: each step is a big drop)",
        "funnel_counts": "Funnel: counts",
        "GMV": "GMV",
        "refunds": "refunds",
        "net GMV": "net GMV",
        "AOV": "AOV",
        "return rate": "return rate",
        "currency": "{site} site currency",
        "funnel_money": "Funnel: money",
        "platform fee": "platform fee",
        "product cost": "product cost",
        "commission": "commission",
        "samples": "samples",
        "flat fee": "flat fee",
        "profit": "profit",
        "waterfall": "From net sales to profit - gross ROI {g:.2f}, net ROI {n:.2f}, profit ROI {p:.2f}",
        "views_log": "video views, log scale",
        "more_views": "More views do not mean more orders",
        "rank_corr": " (rank correlation {rho:.2f})",
        "estimate_ci": "estimate and 95 % interval",
        "true_net": "true net ROI",
        "net_1": "net ROI = 1 (sales equal cost)",
        "history_axis": "clicks of history behind the estimate (log scale)",
        "net ROI": "net ROI",
        "history_title": "An ROI estimate from little history is a wide guess",
        "gross_ignores": "gross ROI (ignores refunds)",
        "profit ROI": "profit ROI",
        "refund_only": "profit ROI if refunded items never come back",
        "ROI": "ROI",
        "refunds_title": "Refunds: gross ROI does not see them",
        "creator": "creator {cr}",
        "n_clicks": "{v:.1%}\n{n:,} clicks",
        "simpson_title": "Per site A converts better; pooled, B looks better",
        "expected_profit": "expected profit",
        "one_campaign": "one simulated campaign",
        "commission rate": "commission rate",
        "profit_axis": "profit, site currency",
        "fake_share": "fake share of orders",
        "fake_axis": "fake orders, share of orders",
        "commission_title": "Higher commission is not more profit (illustrative model)",
        "ci_video": "95 % interval, video-level test",
        "ci_impr": "95 % interval if each impression counted alone (too narrow)",
        "est_lift": "estimated lift of B",
        "planned_lift": "lift the test was planned for",
        "planned_end": "planned end: day {d}",
        "day": "day of the test",
        "lift_axis": "CTR lift of B over A",
        "ab_title": "A/B test by video: early days are noise; decide at the planned size",
    },
    "zh": {
        "impressions": "曝光",
        "clicks": "点击",
        "orders": "订单",
        "CTR": "点击率",
        "CVR": "转化率",
        "count_axis": "数量（对数刻度：每一步都大幅流失）",
        "funnel_counts": "转化漏斗：数量",
        "GMV": "GMV",
        "refunds": "退款",
        "net GMV": "净成交额",
        "AOV": "客单价",
        "return rate": "退货率",
        "currency": "{site} 站点币种",
        "funnel_money": "转化漏斗：金额",
        "platform fee": "平台佣金",
        "product cost": "商品成本",
        "commission": "达人佣金",
        "samples": "样品",
        "flat fee": "坑位费",
        "profit": "利润",
        "waterfall": "从净销售额到利润：毛 ROI {g:.2f}，净 ROI {n:.2f}，利润 ROI {p:.2f}",
        "views_log": "视频播放量（对数刻度）",
        "more_views": "播放量高不等于订单多",
        "rank_corr": "（秩相关 {rho:.2f}）",
        "estimate_ci": "估计值及 95% 区间",
        "true_net": "真实净 ROI",
        "net_1": "净 ROI = 1（销售额刚好覆盖成本）",
        "history_axis": "估计所依据的历史点击数（对数刻度）",
        "net ROI": "净 ROI",
        "history_title": "历史数据少时，ROI 预估只是一个很宽的猜测",
        "gross_ignores": "毛 ROI（忽略退款）",
        "profit ROI": "利润 ROI",
        "refund_only": "退款商品全部收不回时的利润 ROI",
        "ROI": "ROI",
        "refunds_title": "退款：毛 ROI 看不到它",
        "creator": "达人 {cr}",
        "n_clicks": "{v:.1%}\n{n:,} 次点击",
        "simpson_title": "分站点看 A 转化更好；合并后却是 B 看起来更好",
        "expected_profit": "预期利润",
        "one_campaign": "一次模拟活动",
        "commission rate": "佣金率",
        "profit_axis": "利润（站点币种）",
        "fake_share": "刷单占订单比例",
        "fake_axis": "刷单占订单比例",
        "commission_title": "佣金越高不等于利润越高（示意模型）",
        "ci_video": "95% 区间（按视频检验）",
        "ci_impr": "把每次曝光当独立样本时的 95% 区间（过窄）",
        "est_lift": "B 的提升估计",
        "planned_lift": "测试计划检测的提升",
        "planned_end": "计划结束：第 {d} 天",
        "day": "测试天数",
        "lift_axis": "B 相对 A 的点击率提升",
        "ab_title": "按视频做 A/B 测试：前几天都是噪声，达到计划样本量再下结论",
    },
}


def primer_funnel_chart(
    c: Any, axes: tuple[Axes, Axes] | None = None, *, lang: str = "en"
) -> Figure:
    """The toy campaign's funnel: impressions -> clicks -> orders, then GMV -> net revenue.

    Parameters
    ----------
    c : helpers.glossary.ToyCampaign
        The campaign.
    axes : pair of Axes, optional
        Axes for the counts (left) and the money (right); new ones when omitted.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
    labels = [text(_TEXT, k, lang) for k in ("impressions", "clicks", "orders")]
    notes = [
        "",
        f"{text(_TEXT, 'CTR', lang)} {c.ctr:.2%}",
        f"{text(_TEXT, 'CVR', lang)} {c.cvr:.2%}",
    ]
    y = np.arange(3)[::-1]
    ax1.barh(y, counts, color=[_NEUTRAL, "#43aa8b", _GOOD], height=0.6)
    ax1.set_xscale("log")
    ax1.set_yticks(y, labels)
    for yi, n, note in zip(y, counts, notes, strict=True):
        value = f"{n:,}" + (f"  ({note})" if note else "")
        ax1.text(n * 1.15, yi, value, va="center", fontsize=9)
    ax1.set_xlim(max(min(counts), 1) / 3, max(counts) * 60)
    ax1.set_xlabel(text(_TEXT, "count_axis", lang))
    ax1.set_title(text(_TEXT, "funnel_counts", lang))

    money = [c.gmv, c.refunds, c.net_gmv]
    m_labels = [text(_TEXT, k, lang) for k in ("GMV", "refunds", "net GMV")]
    y2 = np.arange(3)[::-1]
    ax2.barh(y2, money, color=[_NEUTRAL, _BAD, _GOOD], height=0.6)
    ax2.set_yticks(y2, m_labels)
    notes2 = [
        f"{text(_TEXT, 'AOV', lang)} {c.aov:,.2f}",
        f"{text(_TEXT, 'return rate', lang)} {c.return_rate:.0%}",
        "",
    ]
    for yi, v, note in zip(y2, money, notes2, strict=True):
        ax2.text(
            v + max(money) * 0.02,
            yi,
            f"{v:,.0f}" + (f"  ({note})" if note else ""),
            va="center",
            fontsize=9,
        )
    ax2.set_xlim(0, max(money) * 1.6 if max(money) > 0 else 1)
    ax2.set_xlabel(text(_TEXT, "currency", lang, site=c.site))
    ax2.set_title(text(_TEXT, "funnel_money", lang))
    return fig


def primer_cost_breakdown_chart(c: Any, ax: Axes | None = None, *, lang: str = "en") -> Figure:
    """Waterfall from net GMV to profit: platform fee, product cost, commission,
    samples and flat fees taken off in turn.

    Parameters
    ----------
    c : helpers.glossary.ToyCampaign
        The campaign.
    ax : Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
    names = [text(_TEXT, s[0], lang) if s[0] in _TEXT["en"] else s[0] for s in steps]
    ax.set_xticks(range(i + 1), names + [text(_TEXT, "profit", lang)], fontsize=8)
    ax.set_ylabel(text(_TEXT, "currency", lang, site=c.site))
    ax.set_title(
        text(_TEXT, "waterfall", lang, g=c.gross_roi, n=c.net_roi, p=c.profit_roi),
        fontsize=10,
    )
    return fig


def primer_views_vs_orders_chart(
    df: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Video views against orders per creator (from ``demo_views_vs_clicks``), each
    point labelled with the creator's CTR.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
            f"{row.creator[-2:]}: {text(_TEXT, 'CTR', lang)} {row.ctr:.1%}",
            (row.video_views, row.orders),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_xlabel(text(_TEXT, "views_log", lang))
    ax.set_ylabel(text(_TEXT, "orders", lang))
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label(text(_TEXT, "CTR", lang))
    cb.formatter = percent_formatter(1)
    cb.update_ticks()
    rho = df.attrs.get("spearman_views_orders")
    title = text(_TEXT, "more_views", lang)
    if rho is not None:
        title += text(_TEXT, "rank_corr", lang, rho=rho)
    ax.set_title(title)
    return fig


def primer_roi_history_chart(
    df: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Net ROI estimate and interval against the clicks of history behind it
    (from ``demo_roi_history``), with the true net ROI and break-even.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    x = df["history_clicks"].to_numpy()
    yhat = df["net_roi_hat"].to_numpy()
    err = np.vstack([yhat - df["net_roi_low"].to_numpy(), df["net_roi_high"].to_numpy() - yhat])
    ax.errorbar(
        x,
        yhat,
        yerr=err,
        fmt="o",
        color=_NEUTRAL,
        capsize=4,
        label=text(_TEXT, "estimate_ci", lang),
    )
    ax.axhline(
        float(df["true_net_roi"].iloc[0]), color=_GOOD, ls="--", label=text(_TEXT, "true_net", lang)
    )
    ax.axhline(1.0, color=_BAD, ls=":", label=text(_TEXT, "net_1", lang))
    ax.set_xscale("log")
    ax.set_xlabel(text(_TEXT, "history_axis", lang))
    ax.set_ylabel(text(_TEXT, "net ROI", lang))
    ax.set_title(text(_TEXT, "history_title", lang))
    ax.legend(fontsize=8)
    return fig


def primer_refunds_roi_chart(
    df: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Gross, net and profit ROI against the return rate (from ``demo_refunds``), and
    profit ROI when refunded items are not recovered (refund-only), when given.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
        label=text(_TEXT, "gross_ignores", lang),
    )
    ax.plot(df["return_rate"], df["net_roi"], "s-", color=_GOOD, label=text(_TEXT, "net ROI", lang))
    ax.plot(
        df["return_rate"], df["profit_roi"], "^-", color=_BAD, label=text(_TEXT, "profit ROI", lang)
    )
    if "profit_roi_refund_only" in df.columns:
        ax.plot(
            df["return_rate"],
            df["profit_roi_refund_only"],
            "v--",
            color=_BAD,
            alpha=0.6,
            label=text(_TEXT, "refund_only", lang),
        )
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel(text(_TEXT, "return rate", lang))
    ax.set_ylabel(text(_TEXT, "ROI", lang))
    ax.set_title(text(_TEXT, "refunds_title", lang))
    ax.legend(fontsize=8)
    return fig


def primer_simpson_chart(df: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en") -> Figure:
    """CVR of two creators per site and pooled (from ``demo_mixing_sites``).

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
        ax.bar(
            xs,
            sub["cvr"],
            width=width,
            color=colors[j % len(colors)],
            label=text(_TEXT, "creator", lang, cr=cr),
        )
        for xi, v, n in zip(xs, sub["cvr"], sub["clicks"], strict=True):
            ax.text(
                xi, v, text(_TEXT, "n_clicks", lang, v=v, n=n), ha="center", va="bottom", fontsize=7
            )
    ax.set_xticks(np.arange(len(sites)), sites)
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_ylabel(text(_TEXT, "CVR", lang))
    ax.set_ylim(0, float(df["cvr"].max()) * 1.3)
    ax.set_title(text(_TEXT, "simpson_title", lang))
    ax.legend(fontsize=8)
    return fig


def primer_commission_profit_chart(
    df: pd.DataFrame, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Profit and fake orders against the commission rate (from
    ``demo_commission_fake_orders``).

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure_and_axes(ax)
    ax.plot(
        df["commission_rate"],
        df["expected_profit"],
        "-",
        color=_NEUTRAL,
        label=text(_TEXT, "expected_profit", lang),
    )
    ax.plot(
        df["commission_rate"],
        df["profit"],
        "o",
        color=_NEUTRAL,
        ms=4,
        label=text(_TEXT, "one_campaign", lang),
    )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(text(_TEXT, "commission rate", lang))
    ax.set_ylabel(text(_TEXT, "profit_axis", lang))
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
        label=text(_TEXT, "fake_share", lang),
    )
    ax2.yaxis.set_major_formatter(percent_formatter())
    ax2.set_ylabel(text(_TEXT, "fake_axis", lang))
    ax2.set_ylim(0, 1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower left")
    ax.set_title(text(_TEXT, "commission_title", lang))
    return fig


def primer_ab_test_chart(
    df: pd.DataFrame, plan: Any = None, ax: Axes | None = None, *, lang: str = "en"
) -> Figure:
    """Cumulative CTR lift of B over A with its 95 % interval, day by day (from
    ``demo_ab_test``), and the planned end of the test.

    The shaded band is the video-level interval (the unit the thumbnails were
    assigned to). When the frame has ``lift_low_naive`` / ``lift_high_naive`` the
    impression-level interval is drawn too, as dashed lines: it is much narrower,
    which is exactly the false confidence the video-level test removes.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

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
        label=text(_TEXT, "ci_video", lang),
    )
    if {"lift_low_naive", "lift_high_naive"} <= set(df.columns):
        ax.plot(
            df["day"],
            df["lift_low_naive"],
            color=_BAD,
            ls="--",
            lw=1,
            label=text(_TEXT, "ci_impr", lang),
        )
        ax.plot(df["day"], df["lift_high_naive"], color=_BAD, ls="--", lw=1)
    ax.plot(df["day"], df["lift"], "o-", color=_NEUTRAL, ms=3, label=text(_TEXT, "est_lift", lang))
    ax.axhline(0, color="black", lw=0.8)
    if plan is not None:
        ax.axhline(
            plan.min_detectable_lift,
            color=_GOOD,
            ls="--",
            lw=1,
            label=text(_TEXT, "planned_lift", lang),
        )
        if plan.days is not None:
            ax.axvline(
                plan.days, color=_BAD, ls=":", label=text(_TEXT, "planned_end", lang, d=plan.days)
            )
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel(text(_TEXT, "day", lang))
    ax.set_ylabel(text(_TEXT, "lift_axis", lang))
    ax.set_title(text(_TEXT, "ab_title", lang))
    ax.legend(fontsize=8, loc="upper right")
    return fig
