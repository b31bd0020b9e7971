"""Charts of the conversion model (notebook 02): odds-ratio forest plot, CVR heatmap by
tier x category, commission response curve with its band, calibration plot.

Each function takes the tables that :class:`helpers.conversion.ConversionFit` produces
(``summary_frame()``, ``cvr_grid()``, ``commission_response()``, ``calibration()``), so
the charts stay pure drawing and can be tested on small frames.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from helpers.charts._style import figure_and_axes, percent_formatter
from helpers.errors import ParameterError
from helpers.i18n import label, text

__all__ = ["calibration_plot", "commission_response", "cvr_heatmap", "forest_plot"]

_TEXT = {
    "en": {
        "term": "{var}: {level}",
        "term_vs": "{var}: {level} (vs {ref})",
        "step": "{name}: +{step:g}",
        "step_pp": "{name}: +{step:g} pp",
        "or_axis": "odds ratio of converting a click (log scale; 1 = no difference)",
        "forest_title": "What goes with higher conversion (95 % intervals)",
        "pred_cvr_pct": "predicted CVR (%)",
        "heatmap_title": "Predicted conversion (orders per click) at {c:.0%} commission",
        "band95": "95 % band",
        "model": "model (average over your mix)",
        "observed_raw": "observed (raw, size = clicks)",
        "commission": "commission rate",
        "conversion": "conversion (orders per click)",
        "curve_title": "Commission and conversion (association, not a causal effect)",
        "bins": "bins of predicted CVR",
        "interval": "\ninterval: {how}",
        "iv_wilson": "Wilson (clicks treated as independent)",
        "iv_cluster": "cluster-robust ratio by {cluster} ({n} clusters, {ref})",
        "ref_cr2": "CR2, t with Satterthwaite df",
        "ref_normal": "normal",
        "perfect": "perfect calibration",
        "predicted": "predicted CVR",
        "observed": "observed CVR",
        "cal_title": "Calibration (in-sample): do predictions match what happened?",
        "no_data": "no data",
    },
    "zh": {
        "term": "{var}：{level}",
        "term_vs": "{var}：{level}（对比 {ref}）",
        "step": "{name}：+{step:g}",
        "step_pp": "{name}：+{step:g} 个百分点",
        "or_axis": "点击转化为订单的优势比（对数刻度；1 = 无差别）",
        "forest_title": "哪些因素与更高的转化率相关（95% 区间）",
        "pred_cvr_pct": "预测转化率（%）",
        "heatmap_title": "佣金率 {c:.0%} 时的预测转化率（订单 / 点击）",
        "band95": "95% 区间带",
        "model": "模型（按你的达人和商品结构平均）",
        "observed_raw": "实际值（原始，点大小 = 点击量）",
        "commission": "佣金率",
        "conversion": "转化率（订单 / 点击）",
        "curve_title": "佣金率与转化率（相关关系，不是因果效应）",
        "bins": "按预测转化率分组",
        "interval": "\n区间：{how}",
        "iv_wilson": "Wilson 区间（各次点击视为相互独立）",
        "iv_cluster": "按{cluster}聚类稳健的比值（{n} 个聚类，{ref}）",
        "ref_cr2": "CR2，Satterthwaite 自由度的 t 分布",
        "ref_normal": "正态分布",
        "perfect": "完全校准",
        "predicted": "预测转化率",
        "observed": "实际转化率",
        "cal_title": "校准图（样本内）：预测和实际对得上吗？",
        "no_data": "无数据",
    },
}

_OR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100)
_TERM = re.compile(r"^C\((?P<var>[^,)]+)(?:,[^)]*)?\)\[T\.(?P<level>.+)\]$")


def _pretty_term(term: str, reference: dict[str, str] | None = None, lang: str = "en") -> str:
    """``C(tier)[T.micro]`` -> ``tier: micro (vs nano)``; other names unchanged."""
    m = _TERM.match(term)
    if not m:
        return term
    var, level = m.group("var").strip(), m.group("level")
    ref = (reference or {}).get(var)
    name = label(var, lang)
    return text(_TEXT, "term_vs" if ref else "term", lang, var=name, level=level, ref=ref)


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{what} lacks columns {missing}; it has {list(frame.columns)}. Pass the table "
            "the matching ConversionFit method returns."
        )


def forest_plot(
    table: pd.DataFrame,
    *,
    per: dict[str, float] | None = None,
    reference: dict[str, str] | None = None,
    include_intercept: bool = False,
    ax: Axes | None = None,
    lang: str = "en",
) -> Figure:
    """Odds ratios with their intervals, one row per coefficient, on a log axis.

    Parameters
    ----------
    table : pandas.DataFrame
        ``ConversionFit.summary_frame()`` (index: term; columns ``log_odds``,
        ``ci_lower``, ``ci_upper``).
    per : dict, optional
        Rescale numeric terms to a meaningful step, e.g. ``{"commission_rate": 0.01}``
        shows the odds ratio per +1 percentage point instead of per +100.
    reference : dict, optional
        Reference level of each factor, e.g. ``{"tier": "nano"}``, for the labels.
    include_intercept : bool
        Show the intercept (baseline odds, not a ratio); off by default.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure otherwise.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(table, ["log_odds", "ci_lower", "ci_upper"], "table")
    t = table.copy()
    if not include_intercept:
        t = t.loc[[i for i in t.index if i != "Intercept"]]
    per = per or {}
    labels = []
    for term in t.index:
        step = per.get(term)
        if step is not None:
            t.loc[term, ["log_odds", "ci_lower", "ci_upper"]] *= step
            name = term.removesuffix("_rate") if lang == "en" else label(term, lang)
            key = "step" if step >= 1 else "step_pp"
            labels.append(text(_TEXT, key, lang, name=name, step=step if step >= 1 else step * 100))
        else:
            labels.append(_pretty_term(term, reference, lang))
    fig, ax = figure_and_axes(ax, figsize=(7.0, 0.42 * len(t) + 1.4))
    y = np.arange(len(t))[::-1]
    or_ = np.exp(t["log_odds"].to_numpy(dtype=float))
    lo = np.exp(t["ci_lower"].to_numpy(dtype=float))
    hi = np.exp(t["ci_upper"].to_numpy(dtype=float))
    significant = (lo > 1) | (hi < 1)
    colors = np.where(significant, "#1f5f8b", "#8c8c8c")
    ax.hlines(y, lo, hi, colors=colors, linewidth=2)
    ax.scatter(or_, y, c=colors, zorder=3, s=30)
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    # plain numbers (0.5, 1, 2) rather than powers of ten on the odds-ratio axis
    lo_lim, hi_lim = ax.get_xlim()
    ticks = [t for t in _OR_TICKS if lo_lim <= t <= hi_lim]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, labels)
    ax.set_xlabel(text(_TEXT, "or_axis", lang))
    ax.set_title(text(_TEXT, "forest_title", lang))
    ax.grid(axis="x", alpha=0.3, which="both")
    return fig


def cvr_heatmap(
    grid: pd.DataFrame,
    *,
    commission: float | None = None,
    rows: str = "tier",
    cols: str = "category",
    commission_col: str = "commission_rate",
    annotate_interval: bool = True,
    ax: Axes | None = None,
    lang: str = "en",
) -> Figure:
    """Predicted CVR for each ``rows`` x ``cols`` combination at one commission rate.

    Parameters
    ----------
    grid : pandas.DataFrame
        ``ConversionFit.cvr_grid()`` (columns ``rows``, ``cols``, ``commission_col``,
        ``cvr``, ``lower``, ``upper``, ``observed_trials``).
    commission : float, optional
        The commission rate to show (one of the grid's); default the middle one.
    annotate_interval : bool
        Write the 95 % interval under each value. Cells with no observed clicks are
        marked "no data" (the value there is an extrapolation of the additive model).
    ax : matplotlib Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(grid, [rows, cols, commission_col, "cvr", "lower", "upper"], "grid")
    rates = np.sort(grid[commission_col].unique())
    if commission is None:
        commission = float(rates[len(rates) // 2])
    sel = grid[np.isclose(grid[commission_col].to_numpy(dtype=float), commission)]
    if sel.empty:
        raise ParameterError(f"commission={commission} is not in the grid; it has {list(rates)}")
    value = sel.pivot_table(index=rows, columns=cols, values="cvr", observed=True, aggfunc="first")
    lo = sel.pivot_table(index=rows, columns=cols, values="lower", observed=True, aggfunc="first")
    hi = sel.pivot_table(index=rows, columns=cols, values="upper", observed=True, aggfunc="first")
    trials = (
        sel.pivot_table(
            index=rows, columns=cols, values="observed_trials", observed=True, aggfunc="first"
        )
        if "observed_trials" in sel.columns
        else None
    )
    annot = np.empty(value.shape, dtype=object)
    for i in range(value.shape[0]):
        for j in range(value.shape[1]):
            cell = f"{value.iat[i, j]:.2%}"
            if annotate_interval:
                cell += f"\n{lo.iat[i, j]:.2%}–{hi.iat[i, j]:.2%}"
            if trials is not None and not (trials.iat[i, j] > 0):
                cell += "\n" + text(_TEXT, "no_data", lang)
            annot[i, j] = cell
    fig, ax = figure_and_axes(ax, figsize=(1.5 * value.shape[1] + 2.5, 0.8 * value.shape[0] + 1.5))
    sns.heatmap(
        value * 100,
        annot=annot,
        fmt="",
        cmap="viridis",
        cbar_kws={"label": text(_TEXT, "pred_cvr_pct", lang)},
        annot_kws={"fontsize": 8},
        ax=ax,
    )
    ax.set_title(text(_TEXT, "heatmap_title", lang, c=commission))
    ax.set_xlabel(label(cols, lang))
    ax.set_ylabel(label(rows, lang))
    return fig


def commission_response(
    curve: pd.DataFrame,
    *,
    observed: pd.DataFrame | None = None,
    commission_col: str = "commission_rate",
    ax: Axes | None = None,
    lang: str = "en",
) -> Figure:
    """Model CVR as the commission changes, with its confidence band.

    Parameters
    ----------
    curve : pandas.DataFrame
        ``ConversionFit.commission_response()`` (``commission_col``, ``cvr``,
        ``lower``, ``upper``).
    observed : pandas.DataFrame, optional
        Observed CVR by commission level (``commission_col``, ``successes``,
        ``trials``), drawn as points sized by clicks. These are raw, unadjusted rates:
        they mix tiers and categories.
    ax : matplotlib Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(curve, [commission_col, "cvr", "lower", "upper"], "curve")
    fig, ax = figure_and_axes(ax)
    x = curve[commission_col].to_numpy(dtype=float)
    ax.fill_between(
        x,
        curve["lower"],
        curve["upper"],
        alpha=0.25,
        color="#1f5f8b",
        label=text(_TEXT, "band95", lang),
    )
    ax.plot(x, curve["cvr"], color="#1f5f8b", linewidth=2, label=text(_TEXT, "model", lang))
    if observed is not None:
        _require(observed, [commission_col, "successes", "trials"], "observed")
        obs = observed[observed["trials"] > 0]
        size = 15 + 185 * obs["trials"] / max(float(obs["trials"].max()), 1.0)
        ax.scatter(
            obs[commission_col],
            obs["successes"] / obs["trials"],
            s=size,
            color="#d95f02",
            alpha=0.6,
            label=text(_TEXT, "observed_raw", lang),
            zorder=3,
        )
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_xlabel(text(_TEXT, "commission", lang))
    ax.set_ylabel(text(_TEXT, "conversion", lang))
    ax.set_title(text(_TEXT, "curve_title", lang))
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _interval_words(attrs: dict[str, Any], lang: str) -> str:
    """How the observed intervals were computed, in ``lang`` (the English method text of
    :meth:`ConversionFit.calibration` when its parts are not given)."""
    parts = attrs.get("interval_parts")
    if not parts:
        return str(attrs.get("interval", ""))
    if parts["kind"] == "wilson":
        return text(_TEXT, "iv_wilson", lang)
    ref = parts["reference"]
    ref = text(_TEXT, f"ref_{ref}", lang) if ref in ("cr2", "normal") else ref
    return text(
        _TEXT,
        "iv_cluster",
        lang,
        cluster=label(parts["cluster"], lang),
        n=parts["clusters"],
        ref=ref,
    )


def calibration_plot(cal: pd.DataFrame, *, ax: Axes | None = None, lang: str = "en") -> Figure:
    """Observed against predicted CVR by bins of predicted CVR, with a 45° line.

    An in-sample check (the model was fitted on the same clicks); the title says so,
    and the legend names the observed intervals' method (``cal.attrs["interval"]``,
    cluster-robust by creator for a clustered fit).

    Parameters
    ----------
    cal : pandas.DataFrame
        ``ConversionFit.calibration()`` (``predicted``, ``observed``, ``obs_lower``,
        ``obs_upper``).
    ax : matplotlib Axes, optional

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(cal, ["predicted", "observed", "obs_lower", "obs_upper"], "cal")
    fig, ax = figure_and_axes(ax, figsize=(5.5, 5.0))
    pred = cal["predicted"].to_numpy(dtype=float)
    obs = cal["observed"].to_numpy(dtype=float)
    err = np.vstack(
        [obs - cal["obs_lower"].to_numpy(dtype=float), cal["obs_upper"].to_numpy(dtype=float) - obs]
    )
    ax.errorbar(
        pred,
        obs,
        yerr=np.clip(err, 0, None),
        fmt="o",
        color="#1f5f8b",
        capsize=3,
        label=text(_TEXT, "bins", lang)
        + (
            text(_TEXT, "interval", lang, how=_interval_words(cal.attrs, lang))
            if cal.attrs.get("interval")
            else ""
        ),
    )
    lims = [0.0, float(np.nanmax(np.r_[pred, cal["obs_upper"].to_numpy(dtype=float)])) * 1.08]
    ax.plot(
        lims, lims, linestyle="--", color="black", linewidth=0.8, label=text(_TEXT, "perfect", lang)
    )
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.xaxis.set_major_formatter(percent_formatter(1))
    ax.yaxis.set_major_formatter(percent_formatter(1))
    ax.set_xlabel(text(_TEXT, "predicted", lang))
    ax.set_ylabel(text(_TEXT, "observed", lang))
    ax.set_title(text(_TEXT, "cal_title", lang))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return fig
