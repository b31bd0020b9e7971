"""Charts of CTR lift against the benchmark (notebook 04).

Every chart has one panel per site (sites are never pooled) and shows lift on a log2
ratio axis labelled in % lift (0 = the benchmark, +100 % = twice, -50 % = half), so
that "twice as good" and "half as good" are equally far from the benchmark. Inputs are
the ``units`` frame of :func:`helpers.lift.ctr_lift` and the summary of
:func:`helpers.lift.summarise_lift`. No chart draws more than ~20k markers.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator
from scipy import stats

from helpers.charts._style import TIER_PALETTE, lift_formatter, percent_formatter, thin_sample
from helpers.errors import ParameterError
from helpers.i18n import label, text

__all__ = [
    "lift_distribution",
    "lift_ecdf",
    "lift_funnel",
    "share_above_chart",
    "views_vs_ctr",
]

_TEXT = {
    "en": {
        "shrunk": "shrunk",
        "raw": "raw",
        "n": "{site} (n = {n:,})",
        "lift_vs": "{estimate} CTR lift vs benchmark",
        "by_title": "CTR lift by {by} ({estimate}; log scale: 0 = benchmark)",
        "lift_log": "{estimate} CTR lift (log scale)",
        "share_at_most": "share of units with at most this lift",
        "ecdf_title": "Cumulative distribution of CTR lift by {by}",
        "limits": "{level:.0%} limits",
        "panel": "{site} · {cat} (benchmark {p:.2%})",
        "ctr_lift_log": "CTR lift (log scale)",
        "impressions": "impressions",
        "funnel_title": "Funnel plot: raw vs shrunk lift against impressions (units with no clicks at the floor)",
        "flag_above": "flagged above (FDR)",
        "flag_below": "flagged below (FDR)",
        "raw_above": "raw CTR above benchmark (95% CI)",
        "share_units": "share of units (eligible)",
        "share_title": "Share of units beating the benchmark, by {by}",
        "pooled_bin": "pooled CTR per views bin",
        "spearman": "{site}: Spearman(views, CTR) = {rho:.2f}\n({n_out:,} rows without views left out)",
        "views_log": "video views (log scale)",
        "ctr_axis": "CTR (clicks / product impressions)",
        "views_title": "Views are not clicks: video views vs CTR",
    },
    "zh": {
        "shrunk": "收缩后",
        "raw": "原始",
        "n": "{site}（n = {n:,}）",
        "lift_vs": "{estimate}点击率提升（对比基准）",
        "by_title": "按{by}的点击率提升（{estimate}；对数刻度：0 = 基准）",
        "lift_log": "{estimate}点击率提升（对数刻度）",
        "share_at_most": "提升不超过该值的单元占比",
        "ecdf_title": "按{by}的点击率提升累积分布",
        "limits": "{level:.0%} 随机波动范围",
        "panel": "{site} · {cat}（基准 {p:.2%}）",
        "ctr_lift_log": "点击率提升（对数刻度）",
        "impressions": "曝光",
        "funnel_title": "漏斗图：原始提升与收缩后提升随曝光的变化（无点击的单元画在底部）",
        "flag_above": "显著高于基准（FDR）",
        "flag_below": "显著低于基准（FDR）",
        "raw_above": "原始点击率高于基准（95% 置信区间）",
        "share_units": "单元占比（达标单元）",
        "share_title": "按{by}统计跑赢基准的单元占比",
        "pooled_bin": "各播放量区间的合并点击率",
        "spearman": "{site}：Spearman（播放量, 点击率）= {rho:.2f}\n（{n_out:,} 行无播放量，未纳入）",
        "views_log": "视频播放量（对数刻度）",
        "ctr_axis": "点击率（点击 / 商品曝光）",
        "views_title": "播放量不等于点击：视频播放量与点击率",
    },
}

_FLOOR = -5.0  # log2 ratio floor (1/32 of the benchmark) for units with no clicks


def _labels(values: pd.Series) -> np.ndarray:
    """``values.astype(str).to_numpy()``, fast on a categorical column: the categories
    are converted, not the million rows (missing values stay missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = pd.Series(values.cat.categories).astype(str).to_numpy(dtype=object)
        codes = values.cat.codes.to_numpy()
        return np.append(cats, np.nan)[np.where(codes < 0, len(cats), codes)]
    return values.astype(str).to_numpy()


def _present_categories(values: pd.Series) -> list[str]:
    """The categories of a categorical column that occur, in category order, as text."""
    cats = values.cat.categories
    codes = values.cat.codes.to_numpy()
    seen = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
    return [str(c) for c, hit in zip(cats, seen, strict=True) if hit]


def _sites(frame: pd.DataFrame) -> list[str]:
    site = frame["site"]
    if isinstance(site.dtype, pd.CategoricalDtype):
        return _present_categories(site)
    return sorted(site.astype(str).unique())


def _log2_ratio(units: pd.DataFrame, estimate: str) -> np.ndarray:
    if estimate not in ("shrunk", "raw"):
        raise ParameterError(f"estimate={estimate!r} unknown; accepted: 'shrunk', 'raw'")
    col = "shrunk_lift" if estimate == "shrunk" else "lift"
    ratio = units[col].to_numpy(dtype=float) + 1
    with np.errstate(divide="ignore"):
        return np.maximum(np.log2(ratio), _FLOOR)


def _lift_axis(axis: object) -> None:
    """Ticks at doublings / halvings, labelled in % lift."""
    axis.set_major_locator(MultipleLocator(1.0))
    axis.set_major_formatter(lift_formatter())


def _order(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _present_categories(values)
    return sorted(values.astype(str).unique())


def _palette(order: Sequence[str]) -> dict[str, object] | None:
    if set(order) <= set(TIER_PALETTE):
        return {k: TIER_PALETTE[k] for k in order}
    return None


def _site_axes(
    n: int, *, width: float = 4.2, height: float = 3.6, sharey: bool = True
) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(
        1,
        max(n, 1),
        figsize=(width * max(n, 1), height),
        sharey=sharey,
        layout="constrained",
        squeeze=False,
    )
    return fig, axes[0]


def lift_distribution(
    units: pd.DataFrame,
    *,
    by: str = "tier",
    estimate: str = "shrunk",
    eligible_only: bool = False,
    lang: str = "en",
) -> Figure:
    """Distribution of unit lift per group (violins with quartiles), one panel per site.

    Parameters
    ----------
    units : pandas.DataFrame
        ``LiftResult.units`` (needs site, ``by``, lift / shrunk_lift, eligible).
    by : str
        Grouping column: tier, category, content_type, ...
    estimate : {"shrunk", "raw"}
        Shrunk lift (default: small units pulled toward their group, so the spread is
        the real spread) or raw lift (noisy; units with no clicks sit at the floor).
    eligible_only : bool
        Only units with at least ``min_impressions`` impressions.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    u = units.loc[units["eligible"]] if eligible_only else units
    y = _log2_ratio(u, estimate)
    data = pd.DataFrame({"site": _labels(u["site"]), by: _labels(u[by]), "y": y})
    order = _order(u[by])
    sites = _sites(u)
    fig, axes = _site_axes(len(sites))
    for ax, site in zip(axes, sites, strict=False):
        d = data.loc[data["site"] == site]
        sns.violinplot(
            data=d,
            x=by,
            y="y",
            order=order,
            hue=by,
            hue_order=order,
            palette=_palette(order),
            inner="quart",
            cut=0,
            density_norm="width",
            legend=False,
            ax=ax,
        )
        ax.axhline(0, color="black", lw=1, ls="--")
        ax.set_title(text(_TEXT, "n", lang, site=site, n=len(d)))
        ax.set_xlabel(label(by, lang))
        what = text(_TEXT, estimate, lang)
        ax.set_ylabel(text(_TEXT, "lift_vs", lang, estimate=what) if ax is axes[0] else "")
        _lift_axis(ax.yaxis)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(
        text(_TEXT, "by_title", lang, by=label(by, lang), estimate=text(_TEXT, estimate, lang))
    )
    return fig


def lift_ecdf(
    units: pd.DataFrame,
    *,
    hue: str = "tier",
    estimate: str = "shrunk",
    eligible_only: bool = False,
    lang: str = "en",
) -> Figure:
    """Empirical CDF of unit lift per group, one panel per site.

    Read it as "this share of units has at most this lift": the curve's height at 0
    is the share of units at or below the benchmark.

    Parameters
    ----------
    units : pandas.DataFrame
        ``LiftResult.units``.
    hue : str
        Grouping column.
    estimate : {"shrunk", "raw"}
        Which lift to plot.
    eligible_only : bool
        Only units with at least ``min_impressions`` impressions.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    u = units.loc[units["eligible"]] if eligible_only else units
    data = pd.DataFrame(
        {
            "site": _labels(u["site"]),
            hue: _labels(u[hue]),
            "x": _log2_ratio(u, estimate),
        }
    )
    order = _order(u[hue])
    sites = _sites(u)
    fig, axes = _site_axes(len(sites))
    for ax, site in zip(axes, sites, strict=False):
        d = data.loc[data["site"] == site]
        in_site = set(d[hue])
        sns.ecdfplot(
            data=d,
            x="x",
            hue=hue,
            hue_order=[o for o in order if o in in_site],
            palette=_palette(order),
            ax=ax,
        )
        ax.axvline(0, color="black", lw=1, ls="--")
        ax.set_title(site)
        _lift_axis(ax.xaxis)
        ax.yaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel(text(_TEXT, "lift_log", lang, estimate=text(_TEXT, estimate, lang)))
        ax.set_ylabel(text(_TEXT, "share_at_most", lang) if ax is axes[0] else "")
        if ax.get_legend() is not None:
            ax.get_legend().set_title(label(hue, lang))
    fig.suptitle(text(_TEXT, "ecdf_title", lang, by=label(hue, lang)))
    return fig


def lift_funnel(
    units: pd.DataFrame,
    *,
    categories: Sequence[str] | None = None,
    stratum: str = "category",
    max_categories: int = 3,
    max_points: int = 20_000,
    level: float = 0.95,
    seed: int = 0,
    lang: str = "en",
) -> Figure:
    """Funnel plot: raw and shrunk lift against impressions, with the benchmark's
    binomial funnel limits; rows = categories, columns = sites.

    Between the dashed limits a unit's raw CTR is within what chance alone gives a
    unit that exactly matches the benchmark. Small units scatter widely (grey); their
    shrunk estimates (colour) are pulled toward the category's typical CTR.

    Parameters
    ----------
    units : pandas.DataFrame
        ``LiftResult.units``.
    categories : sequence of str, optional
        Categories to show (default: the ``max_categories`` with most impressions).
    stratum : str
        The benchmark's stratum column.
    max_categories : int
        Rows when ``categories`` is not given.
    max_points : int
        Markers in the whole figure at most (a seeded sample of units is drawn).
    level : float
        Coverage of the funnel limits.
    seed : int
        Seed of the sample.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if categories is None:
        imp = units.groupby(units[stratum].astype(str), observed=True)["impressions"].sum()
        categories = list(imp.sort_values(ascending=False).index[:max_categories])
    categories = [str(c) for c in categories]
    sites = _sites(units)
    fig, axes = plt.subplots(
        len(categories),
        len(sites),
        figsize=(3.8 * len(sites), 3.0 * len(categories)),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    per_panel = max(50, max_points // (2 * max(1, len(categories) * len(sites))))
    lo_q = (1 - level) / 2
    n_min = max(int(units["impressions"].min()), 20)
    n_max = max(int(units["impressions"].max()), n_min + 1)
    grid = np.unique(np.geomspace(n_min, n_max, 200).round().astype(np.int64))
    stratum_labels, site_labels = _labels(units[stratum]), _labels(units["site"])
    for i, cat in enumerate(categories):
        for j, site in enumerate(sites):
            ax = axes[i, j]
            d = units.loc[(stratum_labels == cat) & (site_labels == site)]
            if d.empty:
                ax.set_axis_off()
                continue
            d = d.iloc[thin_sample(len(d), per_panel, seed)]
            x = d["impressions"].to_numpy()
            ax.scatter(
                x,
                _log2_ratio(d, "raw"),
                s=5,
                color="0.6",
                alpha=0.5,
                lw=0,
                label=text(_TEXT, "raw", lang),
                rasterized=True,
            )
            ax.scatter(
                x,
                _log2_ratio(d, "shrunk"),
                s=5,
                color="C0",
                alpha=0.6,
                lw=0,
                label=text(_TEXT, "shrunk", lang),
                rasterized=True,
            )
            p = float(d["benchmark_ctr"].iloc[0])
            lo = stats.binom.ppf(lo_q, grid, p) / (grid * p)
            hi = stats.binom.isf(lo_q, grid, p) / (grid * p)
            with np.errstate(divide="ignore"):
                # Where the lower limit is 0 clicks, no CTR is "too low": the line stops.
                ax.plot(
                    grid,
                    np.where(lo > 0, np.log2(np.maximum(lo, 1e-12)), np.nan),
                    color="black",
                    ls="--",
                    lw=1,
                    label=text(_TEXT, "limits", lang, level=level),
                )
                ax.plot(grid, np.log2(np.maximum(hi, 2.0**_FLOOR)), color="black", ls="--", lw=1)
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xscale("log")
            _lift_axis(ax.yaxis)
            ax.set_ylim(_FLOOR - 0.3, 4.3)
            ax.set_title(text(_TEXT, "panel", lang, site=site, cat=cat, p=p), fontsize=9)
            if j == 0:
                ax.set_ylabel(text(_TEXT, "ctr_lift_log", lang))
            if i == len(categories) - 1:
                ax.set_xlabel(text(_TEXT, "impressions", lang))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper right", ncols=3, fontsize=8)
    fig.suptitle(text(_TEXT, "funnel_title", lang))
    return fig


def share_above_chart(summary: pd.DataFrame, *, by: str = "tier", lang: str = "en") -> Figure:
    """Share of units whose CTR beats the benchmark per group, with its interval, and
    the share flagged above / below with FDR control; one panel per site.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`helpers.lift.summarise_lift` with ``by`` among its columns.
    by : str
        Grouping column.

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sites = _sites(summary)
    order = _order(summary[by])
    fig, axes = _site_axes(len(sites), height=3.8)
    for ax, site in zip(axes, sites, strict=False):
        d = summary.loc[summary["site"].astype(str) == site].copy()
        d[by] = d[by].astype(str)
        d = d.set_index(by).reindex([o for o in order if o in set(d[by])])
        xs = np.arange(len(d))
        ax.bar(
            xs - 0.2,
            d["share_flag_above"],
            width=0.35,
            color="C2",
            alpha=0.45,
            label=text(_TEXT, "flag_above", lang),
        )
        ax.bar(
            xs + 0.2,
            d["share_flag_below"],
            width=0.35,
            color="C3",
            alpha=0.45,
            label=text(_TEXT, "flag_below", lang),
        )
        err = np.vstack(
            [d["share_above"] - d["share_above_low"], d["share_above_high"] - d["share_above"]]
        )
        ax.errorbar(
            xs,
            d["share_above"],
            yerr=err,
            fmt="o",
            color="black",
            capsize=3,
            label=text(_TEXT, "raw_above", lang),
        )
        ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
        ax.set_xticks(xs, d.index, rotation=30)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(percent_formatter())
        ax.set_title(site)
        ax.set_xlabel(label(by, lang))
        ax.set_ylabel(text(_TEXT, "share_units", lang) if ax is axes[0] else "")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(text(_TEXT, "share_title", lang, by=label(by, lang)))
    return fig


def _compact_views(v: float, _pos: int) -> str:
    x = 10**v
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:g}{suffix}"
    return f"{x:g}"


def views_vs_ctr(
    df: pd.DataFrame,
    *,
    bins: int = 12,
    gridsize: int = 35,
    min_impressions: int = 1,
    lang: str = "en",
) -> Figure:
    """Video views against CTR: a hexbin per site with the pooled CTR per views bin.

    Many views are not many clicks: CTR is clicks per product impression, and a
    video's views say little about it. Rows without video views (LIVE, showcase) are
    left out and counted in the panel title.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical frame (site, video_views, impressions, clicks).
    bins : int
        Number of views bins (quantiles of log views) for the pooled CTR line.
    gridsize : int
        Hexagons across.
    min_impressions : int
        Rows with fewer impressions are not drawn (their CTR is mostly noise).

    lang : {"en", "zh"}
        Language of titles, axis labels and legends.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sites = _sites(df)
    fig, axes = _site_axes(len(sites), sharey=True)
    for ax, site in zip(axes, sites, strict=False):
        d = df.loc[df["site"].astype(str) == site, ["video_views", "impressions", "clicks"]]
        views = d["video_views"].to_numpy(dtype=float, na_value=np.nan)
        ok = (
            np.isfinite(views)
            & (views > 0)
            & (d["impressions"].to_numpy() >= max(min_impressions, 1))
        )
        n_out = int((~ok).sum())
        d = d.loc[ok]
        lv = np.log10(views[ok])
        ctr = d["clicks"].to_numpy() / d["impressions"].to_numpy()
        top = float(np.quantile(ctr, 0.99)) if len(ctr) else 0.1
        if len(d):
            ax.hexbin(
                lv, np.minimum(ctr, top), gridsize=gridsize, bins="log", cmap="Greys", mincnt=1
            )
            edges = np.unique(np.quantile(lv, np.linspace(0, 1, bins + 1)))
            idx = np.clip(np.searchsorted(edges, lv, side="right") - 1, 0, len(edges) - 2)
            g = pd.DataFrame(
                {"b": idx, "c": d["clicks"].to_numpy(), "i": d["impressions"].to_numpy(), "lv": lv}
            ).groupby("b")
            pooled = g["c"].sum() / g["i"].sum()
            ax.plot(
                g["lv"].median(), pooled, "o-", color="C1", label=text(_TEXT, "pooled_bin", lang)
            )
            rho = stats.spearmanr(lv, ctr).statistic if len(d) > 2 else np.nan
            ax.set_title(
                text(_TEXT, "spearman", lang, site=site, rho=rho, n_out=n_out),
                fontsize=9,
            )
        ax.xaxis.set_major_locator(MultipleLocator(1.0))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(_compact_views))
        ax.yaxis.set_major_formatter(percent_formatter(1))
        ax.set_xlabel(text(_TEXT, "views_log", lang))
        ax.set_ylabel(text(_TEXT, "ctr_axis", lang) if ax is axes[0] else "")
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", fontsize=8)
    fig.suptitle(text(_TEXT, "views_title", lang))
    return fig
