"""Charts of the ROI forecast: distribution, tornado, commission curve, backtest."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.charts._style import figure_and_axes, percent_formatter

__all__ = [
    "roi_backtest_chart",
    "roi_commission_curve",
    "roi_distribution_chart",
    "roi_tornado_chart",
]

_DRIVER_LABELS = {
    "ctr": "CTR",
    "cvr": "conversion (CVR)",
    "aov": "average order value",
    "return_rate": "return rate",
    "commission": "commission rate",
    "sample_cost": "sample cost",
    "post_rate": "share of creators who post",
}


def roi_distribution_chart(
    forecast: Any, *, kind: str | None = None, ax: Axes | None = None
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    kind = kind or forecast.roi
    v = forecast.draws[f"{kind}_roi"].dropna().to_numpy()
    fig, ax = figure_and_axes(ax)
    q025, q10, q50, q90, q975 = np.quantile(v, [0.025, 0.1, 0.5, 0.9, 0.975])
    ax.axvspan(q025, q975, color="0.9", label="95 % interval", zorder=0)
    ax.axvspan(q10, q90, color="0.78", label="80 % interval", zorder=0)
    # matplotlib's own histogram: seaborn (and scipy.stats under it) is slow to import
    ax.hist(v, bins=60, density=True, color="tab:blue", alpha=0.6)
    ax.axvline(q50, color="tab:blue", lw=2, label=f"median {q50:.2f}")
    ax.axvline(
        1.0, color="tab:red", ls="--", lw=1.5, label=f"ROI = 1 (P below: {np.mean(v < 1):.0%})"
    )
    ax.set_xlabel(
        f"{kind} ROI (sales per 1 of promotion cost)"
        if kind != "profit"
        else "profit ROI (contribution per 1 of promotion cost)"
    )
    ax.set_ylabel("share of simulated campaigns (density)")
    ax.set_title(f"Forecast {kind} ROI: {len(v):,} simulated campaigns")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def roi_tornado_chart(forecast: Any, *, ax: Axes | None = None) -> Figure:
    """Tornado: median ROI with each driver at -20 % and +20 %.

    Parameters
    ----------
    forecast : helpers.roi.RoiForecast
        A forecast computed with ``sensitivity=True``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    sens = forecast.sensitivity
    if sens is None or len(sens) == 0:
        raise ValueError(
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
    ax.set_yticks(y, [_DRIVER_LABELS.get(d, d) for d in sens["driver"]])
    ax.set_xlabel(f"median {forecast.roi} ROI (base {base:.2f})")
    ax.set_title("What moves the ROI: each driver 20 % lower / higher")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def roi_commission_curve(forecast: Any, *, ax: Axes | None = None) -> Figure:
    """Expected profit by commission rate (median and 80 % band over parameter draws),
    with the break-even and profit-maximising commission, the planned rate and the
    history's commission range.

    Parameters
    ----------
    forecast : helpers.roi.RoiForecast
    ax : matplotlib Axes, optional

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
        label="commission range in history",
    )
    ax.fill_between(
        c["commission_rate"],
        c["profit_q10"],
        c["profit_q90"],
        color="tab:green",
        alpha=0.25,
        label="80 % band",
    )
    ax.plot(
        c["commission_rate"],
        c["profit_median"],
        color="tab:green",
        lw=2,
        label="expected profit (median)",
    )
    ax.axhline(0.0, color="black", lw=1)
    ax.axvline(
        be["plan_commission"],
        color="tab:blue",
        ls=":",
        label=f"planned {be['plan_commission']:.1%}",
    )
    if np.isfinite(be["break_even_median"]):
        ax.axvline(
            be["break_even_median"],
            color="tab:red",
            ls="--",
            label=f"break-even {be['break_even_median']:.1%}",
        )
    else:
        # more than half the parameter draws have no profitable commission at all
        ax.text(
            0.02,
            0.04,
            f"no break-even: in {be['p_no_break_even']:.0%} of parameter draws no commission "
            "is profitable",
            transform=ax.transAxes,
            color="tab:red",
            fontsize="small",
        )
    if np.isfinite(be["best_commission_median"]):
        ax.axvline(
            be["best_commission_median"],
            color="tab:purple",
            ls="-.",
            label=f"most profitable {be['best_commission_median']:.1%}",
        )
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel("commission rate")
    ax.set_ylabel(f"expected profit ({forecast.plan.currency})")
    ax.set_title(f"Expected profit by commission ({be['basis']} basis)")
    ax.legend(loc="best", fontsize="small")
    return fig


def roi_backtest_chart(backtest: Any) -> Figure:
    """Estimate vs actual: each cell's 80 % and 95 % forecast interval with the actual
    ROI, and the histogram of PIT values (flat when the uncertainty is honest).

    Parameters
    ----------
    backtest : helpers.roi.BacktestResult

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
    ax.hlines(y, cells["q025"], cells["q975"], color="0.7", lw=6, label="95 % interval")
    ax.hlines(
        y, cells["q10"], cells["q90"], color="tab:blue", lw=6, alpha=0.6, label="80 % interval"
    )
    ax.plot(cells["forecast_median"], y, "|", color="black", ms=10, label="forecast median")
    inside = cells["in_95"].to_numpy()
    ax.plot(
        cells.loc[inside, "actual_roi"],
        y[inside],
        "o",
        color="tab:green",
        label="actual (inside 95 %)",
    )
    ax.plot(
        cells.loc[~inside, "actual_roi"],
        y[~inside],
        "X",
        color="tab:red",
        ms=8,
        label="actual (outside 95 %)",
    )
    ax.set_yticks(
        y,
        [f"{t} · {c}" for t, c in zip(cells["tier"], cells["category"], strict=True)],
        fontsize="small",
    )
    cov = backtest.coverage
    ax.set_xlabel(
        f"{backtest.roi} ROI in the later window (sales model check: realised commission, "
        "costs and posting creators given)"
    )
    ax.set_title(
        f"Backtest {cov['site']} from {cov['split_date']}: {cov['coverage_80']:.0%} inside 80 %, "
        f"{cov['coverage_95']:.0%} inside 95 % ({cov['n_cells']} cells)"
    )
    ax.legend(loc="lower right", fontsize="x-small")
    ax2.hist(
        cells["pit"], bins=np.linspace(0, 1, 11), color="tab:blue", alpha=0.7, edgecolor="white"
    )
    ax2.axhline(len(cells) / 10, color="black", ls="--", lw=1, label="ideal (flat)")
    ax2.set_xlabel("where the actual fell in the forecast (PIT)")
    ax2.set_ylabel("cells")
    ax2.set_title("PIT histogram")
    ax2.legend(fontsize="small")
    return fig
