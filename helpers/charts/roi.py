"""Charts of the ROI forecast: distribution, tornado, commission curve, backtest."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.charts._style import figure_and_axes, percent_formatter
from helpers.errors import ParameterError
from helpers.i18n import text

__all__ = [
    "roi_backtest_chart",
    "roi_commission_curve",
    "roi_distribution_chart",
    "roi_tornado_chart",
]

_TEXT = {
    "en": {
        "ctr": "CTR",
        "cvr": "conversion (CVR)",
        "aov": "average order value",
        "return_rate": "return rate",
        "commission": "commission rate",
        "sample_cost": "sample cost",
        "post_rate": "share of creators who post",
        "gross": "gross",
        "net": "net",
        "profit": "profit",
        "i95": "95 % interval",
        "i80": "80 % interval",
        "median": "median {q:.2f}",
        "roi1": "ROI = 1 (P below: {p:.0%})",
        "roi_axis": "{kind} ROI (sales per 1 of promotion cost)",
        "profit_axis": "profit ROI (contribution per 1 of promotion cost)",
        "density": "share of simulated campaigns (density)",
        "dist_title": "Forecast {kind} ROI: {n:,} simulated campaigns",
        "median_base": "median {kind} ROI (base {base:.2f})",
        "tornado_title": "What moves the ROI: each driver 20 % lower / higher",
        "history_range": "commission range in history",
        "band80": "80 % band",
        "expected_profit": "expected profit (median)",
        "planned": "planned {c:.1%}",
        "break_even": "break-even {c:.1%}",
        "no_break_even": "no break-even: in {p:.0%} of parameter draws no commission is profitable",
        "best": "most profitable {c:.1%}",
        "commission_axis": "commission rate",
        "profit_y": "expected profit ({currency})",
        "curve_title": "Expected profit by commission ({basis} basis)",
        "inside": "actual (inside 95 %)",
        "outside": "actual (outside 95 %)",
        "forecast_median": "forecast median",
        "bt_axis": "{kind} ROI in the later window (sales model check: realised commission, "
        "costs and posting creators given)",
        "bt_title": "Backtest {site} from {split}: {c80:.0%} inside 80 %, {c95:.0%} inside 95 % "
        "({n} cells)",
        "ideal": "ideal (flat)",
        "pit_axis": "where the actual fell in the forecast (PIT)",
        "cells": "cells",
        "pit_title": "PIT histogram",
    },
    "zh": {
        "ctr": "点击率",
        "cvr": "转化率",
        "aov": "客单价",
        "return_rate": "退货率",
        "commission": "佣金率",
        "sample_cost": "样品成本",
        "post_rate": "寄样后发视频的达人比例",
        "gross": "毛",
        "net": "净",
        "profit": "利润",
        "i95": "95% 区间",
        "i80": "80% 区间",
        "median": "中位数 {q:.2f}",
        "roi1": "ROI = 1（低于 1 的概率：{p:.0%}）",
        "roi_axis": "{kind} ROI（每 1 元推广成本带来的销售额）",
        "profit_axis": "利润 ROI（每 1 元推广成本带来的贡献利润）",
        "density": "模拟活动占比（密度）",
        "dist_title": "{kind} ROI 预估：{n:,} 次模拟活动",
        "median_base": "{kind} ROI 中位数（基准 {base:.2f}）",
        "tornado_title": "哪些因素影响 ROI：各因素分别下调 / 上调 20%",
        "history_range": "历史佣金率范围",
        "band80": "80% 区间带",
        "expected_profit": "预期利润（中位数）",
        "planned": "计划佣金 {c:.1%}",
        "break_even": "保本佣金 {c:.1%}",
        "no_break_even": "无保本点：{p:.0%} 的参数抽样中没有任何佣金率能盈利",
        "best": "利润最高 {c:.1%}",
        "commission_axis": "佣金率",
        "profit_y": "预期利润（{currency}）",
        "curve_title": "不同佣金率下的预期利润（{basis}口径）",
        "inside": "实际值（在 95% 区间内）",
        "outside": "实际值（在 95% 区间外）",
        "forecast_median": "预估中位数",
        "bt_axis": "后期窗口的{kind} ROI（检验销售模型：实际佣金、成本和发视频的达人已知）",
        "bt_title": "{site} 回测（自 {split} 起）：{c80:.0%} 落在 80% 区间内，{c95:.0%} 落在 95% 区间内"
        "（{n} 个单元）",
        "ideal": "理想（平坦）",
        "pit_axis": "实际值在预估分布中的位置（PIT）",
        "cells": "单元数",
        "pit_title": "PIT 直方图",
    },
}


def roi_distribution_chart(
    forecast: Any,
    *,
    kind: str | None = None,
    ax: Axes | None = None,
    lang: str = "en",
) -> Figure:
    """Histogram of the forecast ROI with its median, 80 % and 95 % intervals and the
    ROI = 1 line.

    Parameters
    ----------
    forecast : helpers.roi.RoiForecast
        A forecast.
    kind : str, optional
        "gross", "net" or "profit"; default: the forecast's headline ROI.
    ax : matplotlib Axes, optional
        Axes to draw on.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    kind = kind or forecast.roi
    v = forecast.draws[f"{kind}_roi"].dropna().to_numpy()
    fig, ax = figure_and_axes(ax)
    q025, q10, q50, q90, q975 = np.quantile(v, [0.025, 0.1, 0.5, 0.9, 0.975])
    ax.axvspan(q025, q975, color="0.9", label=text(_TEXT, "i95", lang), zorder=0)
    ax.axvspan(q10, q90, color="0.78", label=text(_TEXT, "i80", lang), zorder=0)
    # matplotlib's own histogram: seaborn (and scipy.stats under it) is slow to import
    ax.hist(v, bins=60, density=True, color="tab:blue", alpha=0.6)
    ax.axvline(q50, color="tab:blue", lw=2, label=text(_TEXT, "median", lang, q=q50))
    ax.axvline(
        1.0, color="tab:red", ls="--", lw=1.5, label=text(_TEXT, "roi1", lang, p=np.mean(v < 1))
    )
    ax.set_xlabel(
        text(_TEXT, "roi_axis", lang, kind=text(_TEXT, kind, lang))
        if kind != "profit"
        else text(_TEXT, "profit_axis", lang)
    )
    ax.set_ylabel(text(_TEXT, "density", lang))
    ax.set_title(text(_TEXT, "dist_title", lang, kind=text(_TEXT, kind, lang), n=len(v)))
    ax.legend(loc="upper right", fontsize="small")
    return fig


def roi_tornado_chart(forecast: Any, *, ax: Axes | None = None, lang: str = "en") -> Figure:
    """Tornado: median ROI with each driver at -20 % and +20 %.

    Parameters
    ----------
    forecast : helpers.roi.RoiForecast
        A forecast computed with ``sensitivity=True``.
    ax : matplotlib Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sens = forecast.sensitivity
    if sens is None or len(sens) == 0:
        raise ParameterError(
            "the forecast has no sensitivity table; call forecast_roi(..., sensitivity=True)"
        )
    sens = sens.sort_values("swing", ascending=True)
    fig, ax = figure_and_axes(ax, figsize=(7.0, 0.6 * len(sens) + 1.5))
    base = float(sens["base"].iloc[0])
    y = np.arange(len(sens))
    for yi, row in zip(y, sens.itertuples(index=False), strict=True):
        ax.barh(
            yi,
            row.low - base,
            left=base,
            color="tab:orange",
            height=0.6,
            label="-20 %" if yi == 0 else None,
        )
        ax.barh(
            yi,
            row.high - base,
            left=base,
            color="tab:blue",
            height=0.6,
            label="+20 %" if yi == 0 else None,
        )
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y, [text(_TEXT, d, lang) if d in _TEXT["en"] else d for d in sens["driver"]])
    ax.set_xlabel(text(_TEXT, "median_base", lang, kind=text(_TEXT, forecast.roi, lang), base=base))
    ax.set_title(text(_TEXT, "tornado_title", lang))
    ax.legend(loc="lower right", fontsize="small")
    return fig


def roi_commission_curve(forecast: Any, *, ax: Axes | None = None, lang: str = "en") -> Figure:
    """Expected profit by commission rate (median and 80 % band over parameter draws),
    with the break-even and profit-maximising commission, the planned rate and the
    history's commission range.

    Parameters
    ----------
    forecast : helpers.roi.RoiForecast
    ax : matplotlib Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    c = forecast.commission_curve
    be = forecast.break_even
    fig, ax = figure_and_axes(ax)
    ax.axvspan(
        be["history_commission_min"],
        be["history_commission_max"],
        color="0.92",
        label=text(_TEXT, "history_range", lang),
    )
    ax.fill_between(
        c["commission_rate"],
        c["profit_q10"],
        c["profit_q90"],
        color="tab:green",
        alpha=0.25,
        label=text(_TEXT, "band80", lang),
    )
    ax.plot(
        c["commission_rate"],
        c["profit_median"],
        color="tab:green",
        lw=2,
        label=text(_TEXT, "expected_profit", lang),
    )
    ax.axhline(0.0, color="black", lw=1)
    ax.axvline(
        be["plan_commission"],
        color="tab:blue",
        ls=":",
        label=text(_TEXT, "planned", lang, c=be["plan_commission"]),
    )
    if np.isfinite(be["break_even_median"]):
        ax.axvline(
            be["break_even_median"],
            color="tab:red",
            ls="--",
            label=text(_TEXT, "break_even", lang, c=be["break_even_median"]),
        )
    else:
        # more than half the parameter draws have no profitable commission at all
        ax.text(
            0.02,
            0.04,
            text(_TEXT, "no_break_even", lang, p=be["p_no_break_even"]),
            transform=ax.transAxes,
            color="tab:red",
            fontsize="small",
        )
    if np.isfinite(be["best_commission_median"]):
        ax.axvline(
            be["best_commission_median"],
            color="tab:purple",
            ls="-.",
            label=text(_TEXT, "best", lang, c=be["best_commission_median"]),
        )
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel(text(_TEXT, "commission_axis", lang))
    ax.set_ylabel(text(_TEXT, "profit_y", lang, currency=forecast.plan.currency))
    basis = text(_TEXT, be["basis"], lang) if be["basis"] in _TEXT["en"] else be["basis"]
    ax.set_title(text(_TEXT, "curve_title", lang, basis=basis))
    ax.legend(loc="best", fontsize="small")
    return fig


def roi_backtest_chart(backtest: Any, *, lang: str = "en") -> Figure:
    """Estimate vs actual: each cell's 80 % and 95 % forecast interval with the actual
    ROI, and the histogram of PIT values (flat when the uncertainty is honest).

    Parameters
    ----------
    backtest : helpers.roi.BacktestResult

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cells = backtest.cells.sort_values("forecast_median").reset_index(drop=True)
    fig, (ax, ax2) = plt.subplots(
        1,
        2,
        figsize=(11.0, max(4.0, 0.28 * len(cells) + 1.5)),
        layout="constrained",
        width_ratios=[2.2, 1],
    )
    y = np.arange(len(cells))
    ax.hlines(y, cells["q025"], cells["q975"], color="0.7", lw=6, label=text(_TEXT, "i95", lang))
    ax.hlines(
        y,
        cells["q10"],
        cells["q90"],
        color="tab:blue",
        lw=6,
        alpha=0.6,
        label=text(_TEXT, "i80", lang),
    )
    ax.plot(
        cells["forecast_median"],
        y,
        "|",
        color="black",
        ms=10,
        label=text(_TEXT, "forecast_median", lang),
    )
    inside = cells["in_95"].to_numpy()
    ax.plot(
        cells.loc[inside, "actual_roi"],
        y[inside],
        "o",
        color="tab:green",
        label=text(_TEXT, "inside", lang),
    )
    ax.plot(
        cells.loc[~inside, "actual_roi"],
        y[~inside],
        "X",
        color="tab:red",
        ms=8,
        label=text(_TEXT, "outside", lang),
    )
    ax.set_yticks(
        y,
        [f"{t} · {c}" for t, c in zip(cells["tier"], cells["category"], strict=True)],
        fontsize="small",
    )
    cov = backtest.coverage
    ax.set_xlabel(text(_TEXT, "bt_axis", lang, kind=text(_TEXT, backtest.roi, lang)))
    ax.set_title(
        text(
            _TEXT,
            "bt_title",
            lang,
            site=cov["site"],
            split=cov["split_date"],
            c80=cov["coverage_80"],
            c95=cov["coverage_95"],
            n=cov["n_cells"],
        )
    )
    ax.legend(loc="lower right", fontsize="x-small")
    ax2.hist(
        cells["pit"], bins=np.linspace(0, 1, 11), color="tab:blue", alpha=0.7, edgecolor="white"
    )
    ax2.axhline(len(cells) / 10, color="black", ls="--", lw=1, label=text(_TEXT, "ideal", lang))
    ax2.set_xlabel(text(_TEXT, "pit_axis", lang))
    ax2.set_ylabel(text(_TEXT, "cells", lang))
    ax2.set_title(text(_TEXT, "pit_title", lang))
    ax2.legend(fontsize="small")
    return fig
