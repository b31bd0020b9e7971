"""Weekly monitor: this period against a comparison period, estimate vs actual, stop-loss.

Teams run the report every week. This module gives the kit a notion of a period and
answers the weekly questions, per site (sites are never pooled):

* :func:`resolve_periods`: the period (``last: 1w``, ``4w``, ``7d`` or start/end, as in
  the data spec's ``period``) and its comparison (the previous period of the same length,
  or the same weeks a year earlier: 364 days back, so weekdays match).
* :func:`compare_periods`: GMV, net GMV, orders, CTR, CVR, AOV and profit ROI in both
  periods, with an interval for the change that respects clustering by creator (a
  delete-one-creator jackknife of the log change, t(G - 1) critical value: the same
  method :func:`helpers.lift.ratio_interval` uses for one ratio, applied to the ratio
  of two periods), and a flag only where the interval excludes "no change".
* :func:`decompose_gmv`: the GMV change split into reach (impressions), CTR, CVR and
  AOV effects by Shapley values of the product ``impressions x CTR x CVR x AOV``. Shapley
  rather than log-mean Divisia because it stays exact when a factor is zero (a creator
  with no orders in one period); the parts add up to the change exactly, overall and
  per creator, category or product.
* :func:`creator_churn`: new and lost creators with their GMV.
* :func:`stop_loss`: per creator (or campaign) a confidence sequence for the weekly
  profit at the stop-loss line, ``contribution - line x promotion cost``, whose mean is
  negative exactly when the true profit ROI is below the line. The boundary is Robbins'
  normal mixture with a running variance estimate (the asymptotic confidence sequence of
  Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, 2021): it holds uniformly over all
  weeks, so a seller who looks every week keeps the stated error rate, which a weekly
  p-value does not (12 looks at 5 % give far more than 5 % false alarms). Why not a
  betting confidence sequence: those need a bounded statistic, and a creator's weekly
  sales are unbounded above (one viral video), so no bound would be honest. The
  asymptotic boundary is checked by simulation (``tests/monitor_sim.py``); weeks with
  no promotion cost carry no evidence and are skipped.
* :func:`forecast_next`, :func:`estimate_vs_actual`, :func:`rolling_backtest`,
  :func:`calibration`: ROI forecasts are stored with their target period and a quantile
  grid; a later run with data for that period sets the forecast beside what happened,
  with its PIT (where the actual fell in the forecast distribution) and the running
  coverage of the 80 % and 95 % intervals. Without past runs, a rolling backtest over
  the last weeks of the same data stands in (:func:`helpers.roi.backtest_roi`).

Forecast history lives in ``forecast_history.jsonl`` next to the run folders
(``reports/forecast_history.jsonl`` for ``make report``): one JSON line per forecast,
appended by each run (see :func:`append_history`).

Simulation figures (``python -m tests.monitor_sim --reps 300 --creators 2000``; the
generator is described in ``tests/monitor_sim.py``: 1.5 videos a week per creator,
log-normal reach, about 2.4 orders a video):

* stop-loss, 12 weekly looks, alpha 5 %: 0 of 2,000 creators exactly at the line (true
  profit ROI 1.0) ever alerted, where a one-sided weekly t-test at 5 % alerted on 37.6 %
  of them; 0 of 2,000 creators with true ROI uniform in [1, 2] (weekly t-test: 14 %).
  Detection within 12 weeks: 87.3 % of creators at true ROI 0.25 (median delay 7
  weeks), 10.9 % at 0.5 (median 10 weeks), 0 % at 0.75. A creator with a few orders a
  week is too noisy for 12 weeks to tell ROI 0.5 from 1 at an anytime-valid 5 %; the
  boundary is conservative here (below 1 % realised where 5 % is allowed), the price of
  holding for every week and not only 12.
* week-over-week flags with no real change: 4.4 % of 2,100 (300 weeks x 7 metrics)
  flagged at a stated 5 % (per metric 3.3 % to 5.3 %).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.defaults import DEFAULTS
from helpers.errors import ParameterError, PlanError
from helpers.escaping import escape_markdown
from helpers.i18n import text
from helpers.io.spec import Period
from helpers.metrics import commission_on_net, contribution, promotion_cost, safe_ratio
from helpers.schema import SITES

__all__ = [
    "COMPARE",
    "FACTORS",
    "METRICS",
    "Periods",
    "StopLossResult",
    "append_history",
    "calibration",
    "compare_periods",
    "creator_churn",
    "decompose_gmv",
    "estimate_vs_actual",
    "forecast_next",
    "has_dates",
    "history_path",
    "read_history",
    "resolve_periods",
    "rolling_backtest",
    "stop_loss",
    "period_note",
    "week_start",
]

COMPARE: dict[str, str] = {
    "previous": "the period of the same length just before",
    "last_year": "the same dates 52 weeks (364 days) earlier, so weekdays match",
}
"""Accepted comparison periods."""

#: metric -> (numerator, denominator or None for a total)
METRICS: dict[str, tuple[str, str | None]] = {
    "gmv": ("gmv", None),
    "net_gmv": ("net_gmv", None),
    "orders": ("orders", None),
    "ctr": ("clicks", "impressions"),
    "cvr": ("orders", "clicks"),
    "aov": ("gmv", "orders"),
    "profit_roi": ("contribution", "cost"),
}
"""The monitored metrics as ratios of per-creator sums (KPI definitions of
:mod:`helpers.metrics`: CTR = clicks / impressions, CVR = orders / clicks, AOV = GMV /
orders, profit ROI = contribution / promotion cost)."""

FACTORS: tuple[str, ...] = ("reach", "ctr", "cvr", "aov")
"""The GMV factors: impressions x CTR x CVR x AOV."""

QUANTILES: tuple[float, ...] = (0.01, *np.round(np.arange(0.05, 0.951, 0.05), 2), 0.99)
"""The quantile grid stored with each forecast (PIT is interpolated on it)."""

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "period": "This period: {start} to {end} ({days} days); compared with {cstart} to {cend} ({compare}).",
        "no_dates": "The export carries no dates: all rows are treated as one period, so there is no comparison period.",
        "previous": "the previous period",
        "last_year": "the same weeks last year",
        "flag_up": "up",
        "flag_down": "down",
        "flag_none": "within noise",
        "alert": "Stop-loss: {unit} ({site}) has a profit ROI of {roi} over {weeks} active weeks; even the optimistic bound ({high}) is below the line {line}. Profit so far {profit} {cur}; promotion cost {spend} {cur} a week.",
        "no_alert": "No creator or campaign has crossed the stop-loss line {line} with the evidence so far ({n} watched).",
        "eva_runs": "Estimate vs actual from {n} forecasts stored by past runs.",
        "eva_backtest": "No past run has forecast a period this data covers: a rolling backtest over the last {weeks} weeks of the same data stands in (each week forecast from the weeks before it).",
        "calib": "Running calibration over {n} forecasts: {c80} inside the 80 % interval, {c95} inside the 95 % interval.",
        "stored": "{n} ROI forecasts stored for {start} to {end} ({new} new in {file}); the run that has data for that period will set them beside what happened.",
        "data_period": "Data period: {start} to {end} ({days} days, {weeks} weeks started).",
        "alert_count": "{n} of {watched} in alert at the line {line}; the largest losses first.",
        "by_creator_id": "Creators",
        "by_product_id": "Campaigns (products)",
    },
    "zh": {
        "period": "本期：{start} 至 {end}（{days} 天）；对比期：{cstart} 至 {cend}（{compare}）。",
        "no_dates": "导出文件没有日期：所有行视为同一期，因此没有对比期。",
        "previous": "上一期",
        "last_year": "去年同期",
        "flag_up": "上升",
        "flag_down": "下降",
        "flag_none": "在噪声范围内",
        "alert": "止损提醒：{unit}（{site}）在 {weeks} 个有投放的周内利润 ROI 为 {roi}；即使乐观上限（{high}）也低于止损线 {line}。目前利润 {profit} {cur}；每周推广成本 {spend} {cur}。",
        "no_alert": "按目前的证据，没有达人或推广计划跌破止损线 {line}（共监控 {n} 个）。",
        "eva_runs": "ROI 预估 vs 实际：来自以往运行保存的 {n} 个预估。",
        "eva_backtest": "以往运行没有预估过本数据覆盖的时期：以同一数据最近 {weeks} 周的滚动回测代替（每周用之前的周来预估）。",
        "calib": "累计校准（{n} 个预估）：{c80} 落在 80% 区间内，{c95} 落在 95% 区间内。",
        "stored": "已保存 {n} 个 {start} 至 {end} 的 ROI 预估（{file} 中新增 {new} 个）；有该期数据的运行会把它们与实际并列。",
        "data_period": "数据期间：{start} 至 {end}（{days} 天，涉及 {weeks} 周）。",
        "alert_count": "{watched} 个中有 {n} 个跌破止损线 {line}；按亏损从大到小列出。",
        "by_creator_id": "达人",
        "by_product_id": "推广计划（商品）",
    },
}


# ------------------------------------------------------------------------- periods


def has_dates(df: pd.DataFrame) -> bool:
    """True when ``df`` has a ``date`` column with at least one date."""
    return "date" in df.columns and bool(pd.Series(df["date"]).notna().any())


@dataclass(frozen=True)
class Periods:
    """A period and its comparison period (inclusive dates).

    Attributes
    ----------
    start, end : date
        This period.
    cstart, cend : date
        The comparison period.
    compare : str
        A key of :data:`COMPARE`.
    """

    start: _dt.date
    end: _dt.date
    cstart: _dt.date
    cend: _dt.date
    compare: str

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days + 1

    def next(self) -> tuple[_dt.date, _dt.date]:
        """The period of the same length right after this one (what a forecast targets)."""
        return self.end + _dt.timedelta(days=1), self.end + _dt.timedelta(days=self.days)

    def label(self, lang: str = "en") -> str:
        """One sentence naming both periods."""
        return text(
            _TEXT,
            "period",
            lang,
            start=self.start,
            end=self.end,
            days=self.days,
            cstart=self.cstart,
            cend=self.cend,
            compare=text(_TEXT, self.compare, lang),
        )

    def to_dict(self) -> dict[str, str]:
        """Plain values for results.json."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "compare_start": self.cstart.isoformat(),
            "compare_end": self.cend.isoformat(),
            "compare": self.compare,
        }


def resolve_periods(
    dates: pd.Series,
    *,
    last: str = "1w",
    start: str | None = None,
    end: str | None = None,
    compare: str = "previous",
) -> Periods:
    """This period and its comparison period, from the data's dates.

    Parameters
    ----------
    dates : Series
        The data's ``date`` column.
    last : str
        ``"<n>d"``, ``"<n>w"`` or ``"<n>m"`` ending on the latest date (as the data
        spec's ``period: {last: ...}``); ignored when ``start`` or ``end`` is given.
    start, end : str, optional
        ISO dates of this period (inclusive); a missing end is the latest date, a
        missing start gives a period of length ``last`` ending on ``end``.
    compare : str
        ``"previous"`` or ``"last_year"`` (see :data:`COMPARE`).

    Returns
    -------
    Periods

    Raises
    ------
    PlanError
        No dates, an unknown ``compare``, a malformed duration, or a period outside the data.
    """
    if compare not in COMPARE:
        raise PlanError(f"compare={compare!r} is not accepted; accepted: {list(COMPARE)}")
    d = pd.to_datetime(pd.Series(dates)).dropna()
    if d.empty:
        raise PlanError(
            text(_TEXT, "no_dates") + " Fix: map a date column (column_map: {'Post date': date})."
        )
    first, latest = d.min().date(), d.max().date()
    cur_end = _dt.date.fromisoformat(end) if end else latest
    if start:
        cur_start = _dt.date.fromisoformat(start)
    else:
        if (
            not isinstance(last, str)
            or len(last) < 2
            or last[-1] not in "dwm"
            or not last[:-1].isdigit()
        ):
            raise PlanError(f"period last={last!r} is not a duration; accepted: 7d, 1w, 4w, 1m")
        cur_start = Period(last=last).bounds(cur_end)[0]
    if cur_start > cur_end:
        raise PlanError(f"period start {cur_start} is after its end {cur_end}")
    n = (cur_end - cur_start).days + 1
    shift = _dt.timedelta(days=n if compare == "previous" else 364)
    periods = Periods(cur_start, cur_end, cur_start - shift, cur_end - shift, compare)
    if cur_end < first or cur_start > latest:
        raise PlanError(
            f"period {cur_start} to {cur_end} is outside the data ({first} to {latest})"
        )
    if periods.cend < first:
        raise PlanError(
            f"the comparison period {periods.cstart} to {periods.cend} is before the data's first "
            f"date {first}; choose a shorter period or compare='previous' (accepted: {list(COMPARE)}). "
            "If the data spec's `period` cut the export, widen it to include the comparison period."
        )
    return periods


def week_start(dates: pd.Series) -> pd.Series:
    """Monday of each date's week (weeks run Monday to Sunday)."""
    d = pd.to_datetime(dates)
    return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).dt.normalize()


def _in(df: pd.DataFrame, start: _dt.date, end: _dt.date) -> pd.DataFrame:
    d = pd.to_datetime(df["date"])
    return df[(d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))]


# --------------------------------------------------------------------- row values


def row_values(
    df: pd.DataFrame,
    *,
    unit_cost_rate: float = DEFAULTS.unit_cost_rate,
    refund_recovery: float = DEFAULTS.refund_recovery,
) -> pd.DataFrame:
    """Per-row net GMV, contribution and promotion cost (the kit's ROI definitions).

    Commission is ``commission_rate x net GMV`` (:func:`helpers.metrics.commission_on_net`);
    a row without a rate uses the export's ``commission_paid``; a row with neither
    counts no commission (the count is in ``attrs["n_unknown_commission"]``).
    """
    out = df.copy()
    for c in ("refunds", "sample_cost", "flat_fee"):
        out[c] = out[c].astype("float64").fillna(0.0) if c in out.columns else 0.0
    gmv = out["gmv"].astype("float64").fillna(0.0)
    refunds = np.minimum(out["refunds"], gmv)  # refunds of earlier sales are not this row's
    rate = (
        out["commission_rate"].astype("float64")
        if "commission_rate" in out.columns
        else np.nan * gmv
    )
    comm = pd.Series(commission_on_net(gmv, refunds, rate.fillna(0.0)), index=out.index)
    comm = comm.where(rate.notna(), np.nan)
    if "commission_paid" in out.columns:
        comm = comm.fillna(out["commission_paid"].astype("float64"))
    unknown = int(comm.isna().sum())
    # One look-up per site, not per row (a Python call per row costs seconds at 1M rows).
    codes, sites = pd.factorize(out["site"].astype(str))
    rates = [SITES[s].platform_fee_rate if s in SITES else 0.0 for s in sites]
    fee = pd.Series(np.append(rates, 0.0)[codes], index=out.index)  # code -1 (missing): 0
    out["gmv"] = gmv
    out["net_gmv"] = gmv - refunds
    out["contribution"] = contribution(
        gmv.to_numpy(),
        refunds.to_numpy(),
        unit_cost_rate,
        fee.to_numpy(dtype=float),
        refund_recovery,
    )
    out["cost"] = promotion_cost(
        comm.fillna(0.0).to_numpy(), out["sample_cost"].to_numpy(), out["flat_fee"].to_numpy()
    )
    out.attrs["n_unknown_commission"] = unknown
    return out


_SUMS = ("impressions", "clicks", "orders", "gmv", "net_gmv", "contribution", "cost")


def _unit_sums(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    cols = [c for c in _SUMS if c in df.columns]
    return df.groupby(list(by), observed=True)[cols].sum()


# --------------------------------------------------------------------- comparison


def _jackknife_change(n1: np.ndarray, d1: np.ndarray, n0: np.ndarray, d0: np.ndarray) -> float:
    """Delete-one-cluster jackknife SE of log(R1 / R0), R = sum n / sum d per period.

    Each cluster (creator) is left out of both periods at once, so a creator active in
    both weeks is one unit, as in :func:`helpers.lift._jackknife_se_log` for one ratio.
    When a leave-one-out ratio is 0, the jackknife runs on the ratio itself and the
    delta method maps it to the log scale.
    """
    g = len(n1)
    r1 = (n1.sum() - n1) / (d1.sum() - d1)
    r0 = (n0.sum() - n0) / (d0.sum() - d0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = r1 / r0
    full = (n1.sum() / d1.sum()) / (n0.sum() / d0.sum())
    if np.all(np.isfinite(theta)) and np.all(theta > 0):
        return math.sqrt((g - 1) * float(np.var(np.log(theta))))
    ok = np.isfinite(theta)
    if ok.sum() < 2 or not full > 0:
        return math.nan
    return math.sqrt((g - 1) * float(np.var(theta[ok]))) / full


def _change_row(
    a: pd.DataFrame, b: pd.DataFrame, num: str, den: str | None, alpha: float
) -> dict[str, Any]:
    """One metric's change between period sums ``a`` (this) and ``b`` (comparison)."""
    units = a.index.union(b.index)
    a, b = a.reindex(units, fill_value=0.0), b.reindex(units, fill_value=0.0)
    n1, n0 = a[num].to_numpy(float), b[num].to_numpy(float)
    d1 = np.ones_like(n1) if den is None else a[den].to_numpy(float)
    d0 = np.ones_like(n0) if den is None else b[den].to_numpy(float)
    if den is None:  # a total: sum over creators, each leave-out rescaled by the unit count
        d1, d0 = d1 / len(units), d0 / len(units)
    cur, ref = float(safe_ratio(n1.sum(), d1.sum())), float(safe_ratio(n0.sum(), d0.sum()))
    if den is None:
        cur, ref = float(n1.sum()), float(n0.sum())
    g = len(units)
    se = _jackknife_change(n1, d1, n0, d0) if g >= 3 else math.nan
    rel = cur / ref - 1 if ref > 0 else math.nan
    crit = float(stats.t.ppf(1 - alpha / 2, max(g - 1, 1)))
    low = high = math.nan
    if math.isfinite(se) and cur > 0 and ref > 0:
        log_change = math.log(cur / ref)
        low, high = math.exp(log_change - crit * se) - 1, math.exp(log_change + crit * se) - 1
    flag = bool(math.isfinite(low) and (low > 0 or high < 0))
    return {
        "current": cur,
        "comparison": ref,
        "change": cur - ref,
        "change_pct": rel,
        "low_pct": low,
        "high_pct": high,
        "se_log": se,
        "n_creators": g,
        "flag": flag,
        "direction": "up" if flag and rel > 0 else ("down" if flag else ""),
    }


def compare_periods(
    df: pd.DataFrame,
    periods: Periods,
    *,
    cluster: str = "creator_id",
    unit_cost_rate: float = DEFAULTS.unit_cost_rate,
    alpha: float = 0.05,
    metrics: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Each metric per site, this period against the comparison period.

    The change is ``current / comparison - 1`` with a (1 - alpha) interval from the
    delete-one-creator jackknife of its log (creators are the independent units: a
    creator's videos share an audience). ``flag`` is True only when the interval
    excludes 0, so with no real change each metric is flagged at rate ``alpha``.

    Parameters
    ----------
    df : DataFrame
        Canonical frame with ``date`` (rows of both periods; others are ignored).
    periods : Periods
        From :func:`resolve_periods`.
    cluster : str
        The clustering column (default ``creator_id``; rows are their own cluster if absent).
    unit_cost_rate : float
        Product cost as a share of price, for profit ROI.
    alpha : float
        1 - confidence level of the intervals, and the flag's error rate per metric.
    metrics : iterable of str, optional
        Keys of :data:`METRICS` (default all).

    Returns
    -------
    DataFrame
        One row per (site, metric): ``current``, ``comparison``, ``change``,
        ``change_pct``, ``low_pct``, ``high_pct``, ``se_log``, ``n_creators``, ``flag``,
        ``direction``.
    """
    keys = list(metrics or METRICS)
    bad = [k for k in keys if k not in METRICS]
    if bad:
        raise ParameterError(f"unknown metrics {bad}; accepted: {list(METRICS)}")
    rows = []
    vals = row_values(df, unit_cost_rate=unit_cost_rate)
    if cluster not in vals.columns:
        vals = vals.assign(**{cluster: np.arange(len(vals)).astype(str)})
    for site, g in vals.groupby(vals["site"].astype(str), sort=True):
        a = _unit_sums(_in(g, periods.start, periods.end), [cluster])
        b = _unit_sums(_in(g, periods.cstart, periods.cend), [cluster])
        for k in keys:
            num, den = METRICS[k]
            rows.append({"site": site, "metric": k, **_change_row(a, b, num, den, alpha)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ decomposition


def _factors(s: pd.DataFrame) -> np.ndarray:
    """(n, 4) array of impressions, CTR, CVR, AOV; 0/0 stays NaN (filled by the caller)."""
    imp = s["impressions"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ctr = s["clicks"].to_numpy(float) / imp
        cvr = s["orders"].to_numpy(float) / s["clicks"].to_numpy(float)
        aov = s["gmv"].to_numpy(float) / s["orders"].to_numpy(float)
    f = np.column_stack([imp, ctr, cvr, aov])
    f[~np.isfinite(f)] = np.nan
    return f


def shapley_product(f1: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Shapley split of ``prod(f1) - prod(f0)`` among the factors (columns).

    Effect of factor k = average over orders of adding factors of the change in the
    product when k switches from its old to its new value; the effects add up to the
    change exactly (efficiency of the Shapley value), zeros included.

    Parameters
    ----------
    f1, f0 : ndarray, shape (n, k)
        New and old factor values (finite).

    Returns
    -------
    ndarray, shape (n, k)
    """
    n, k = f1.shape
    out = np.zeros((n, k))
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for size in range(k):
            w = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                base = np.ones(n)
                for i in others:
                    base *= f1[:, i] if i in subset else f0[:, i]
                out[:, j] += w * base * (f1[:, j] - f0[:, j])
    return out


def decompose_gmv(df: pd.DataFrame, periods: Periods, *, by: str | None = None) -> pd.DataFrame:
    """The GMV change per site (or per site and ``by``) in reach, CTR, CVR and AOV effects.

    Each row: GMV in both periods, the change, the four Shapley effects of
    ``impressions x CTR x CVR x AOV`` (see :func:`shapley_product`) and ``other``: GMV
    the chain cannot explain (rows with sales but no impressions or clicks recorded),
    so that ``reach + ctr + cvr + aov + other == change`` exactly. A ratio undefined
    in one period (no clicks, so no CVR) takes the other period's value: its product
    is zero either way, and no effect is attributed to it. Per ``by`` (creator_id,
    category, product_id), rows add up to the site's change.

    Returns
    -------
    DataFrame
        ``site``, [``by``], ``gmv_comparison``, ``gmv_current``, ``change``, ``reach``,
        ``ctr``, ``cvr``, ``aov``, ``other``; sorted by absolute change within each site.
    """
    keys = ["site"] + ([by] if by else [])
    d = df.assign(site=df["site"].astype(str))
    a = _unit_sums(_in(d, periods.start, periods.end), keys)
    b = _unit_sums(_in(d, periods.cstart, periods.cend), keys)
    idx = a.index.union(b.index)
    a, b = a.reindex(idx, fill_value=0.0), b.reindex(idx, fill_value=0.0)
    f1, f0 = _factors(a), _factors(b)
    f1 = np.where(np.isnan(f1), f0, f1)
    f0 = np.where(np.isnan(f0), f1, f0)
    f1, f0 = np.nan_to_num(f1), np.nan_to_num(f0)
    eff = shapley_product(f1, f0)
    out = pd.DataFrame(eff, columns=list(FACTORS), index=idx)
    out.insert(0, "gmv_comparison", b["gmv"].to_numpy(float))
    out.insert(1, "gmv_current", a["gmv"].to_numpy(float))
    out.insert(2, "change", out["gmv_current"] - out["gmv_comparison"])
    out["other"] = out["change"] - out[list(FACTORS)].sum(axis=1)
    out = out.reset_index()
    out["_abs"] = out["change"].abs()
    out = out.sort_values(["site", "_abs"], ascending=[True, False]).drop(columns="_abs")
    return out.reset_index(drop=True)


def creator_churn(df: pd.DataFrame, periods: Periods) -> pd.DataFrame:
    """New creators (active this period, not in the comparison) and lost ones, per site.

    Returns
    -------
    DataFrame
        ``site``, ``creator_id``, ``status`` ("new" or "lost"), ``gmv`` (in the period
        where the creator was active), ``pieces``.
    """
    d = df.assign(site=df["site"].astype(str), creator_id=df["creator_id"].astype(str))
    cur = (
        _in(d, periods.start, periods.end)
        .groupby(["site", "creator_id"])["gmv"]
        .agg(["sum", "size"])
    )
    ref = (
        _in(d, periods.cstart, periods.cend)
        .groupby(["site", "creator_id"])["gmv"]
        .agg(["sum", "size"])
    )
    new = cur.loc[cur.index.difference(ref.index)].assign(status="new")
    lost = ref.loc[ref.index.difference(cur.index)].assign(status="lost")
    out = pd.concat([new, lost]).rename(columns={"sum": "gmv", "size": "pieces"}).reset_index()
    out = out[["site", "creator_id", "status", "gmv", "pieces"]]
    return out.sort_values(["site", "status", "gmv"], ascending=[True, False, False]).reset_index(
        drop=True
    )


# ---------------------------------------------------------------------- stop-loss


def mixture_boundary(v: np.ndarray, rho: np.ndarray | float, alpha: float) -> np.ndarray:
    """One-sided normal-mixture boundary ``sqrt((v + rho) log((v + rho) / (rho alpha^2)))``.

    For a sum ``S_t`` of martingale differences with variance process ``v_t``, the chance
    that ``S_t`` ever goes below ``-boundary(v_t)`` is at most ``alpha`` (Robbins' normal
    mixture; Howard, Ramdas, McAuliffe and Sekhon 2021, eq. (14)), exactly for Gaussian
    increments and asymptotically otherwise (Waudby-Smith et al. 2021). ``rho`` sets
    where the boundary is tightest (about ``v = 8 rho`` for alpha = 0.05).
    """
    v = np.asarray(v, dtype=float)
    return np.sqrt((v + rho) * np.log((v + rho) / (rho * alpha**2)))


def _jump_scale(vals: pd.DataFrame, line: float, keys: Sequence[str]) -> pd.Series:
    """Var(weekly x) per unit of expected contribution under a compound Poisson, per ``keys``.

    A week's contribution is a sum of rows' sales; if rows with sales arrive as a Poisson
    process, ``Var = E[rate] E[j^2]`` with ``j = contribution - line x commission`` the
    row's jump, so ``Var(x_t) = k E[contribution_t]`` with ``k = sum j^2 / sum
    contribution`` (a row's jump holds all its orders, which covers the clustering of
    orders in one video). At the stop-loss line ``E[contribution_t] = line x cost_t``.
    ``keys`` is site and tier for creators (a mega creator's lumps are bigger), site for
    campaigns.
    """
    comm = vals["cost"] - vals["sample_cost"] - vals["flat_fee"]
    j = vals["contribution"] - line * comm
    sums = vals[list(keys)].astype(str).assign(j2=j**2, c=vals["contribution"].clip(lower=0))
    g = sums.groupby(list(keys))[["j2", "c"]].sum()
    return (g["j2"] / g["c"]).replace([np.inf, -np.inf], np.nan).fillna(0.0)


@dataclass
class StopLossResult:
    """What :func:`stop_loss` returns.

    Attributes
    ----------
    paths : DataFrame
        One row per unit and active week: cumulative cost and contribution, profit ROI to
        date, the confidence sequence's upper bound on profit ROI, ``alert``.
    alerts : DataFrame
        One row per unit in alert at its latest week: the evidence and the money at stake.
    watched : int
        Units watched.
    line, alpha : float
    """

    paths: pd.DataFrame
    alerts: pd.DataFrame
    watched: int
    line: float
    alpha: float

    def sentences(self, lang: str = "en", *, markdown: bool = True) -> list[str]:
        """One sentence per alert (or one saying there is none), in ``lang``.

        ``markdown=True`` escapes the unit names for Markdown (notebook output); False
        gives plain text for a page that escapes HTML itself (the report's index).
        """
        if self.alerts.empty:
            return [text(_TEXT, "no_alert", lang, line=f"{self.line:g}", n=self.watched)]
        head = text(
            _TEXT,
            "alert_count",
            lang,
            n=len(self.alerts),
            watched=self.watched,
            line=f"{self.line:g}",
        )
        return [head] + [
            text(
                _TEXT,
                "alert",
                lang,
                unit=escape_markdown(r.unit) if markdown else r.unit,
                site=r.site,
                roi=f"{r.roi_to_date:.2f}",
                weeks=int(r.weeks),
                high=f"{r.roi_high:.2f}",
                line=f"{self.line:g}",
                profit=f"{r.profit_so_far:,.0f}",
                spend=f"{r.weekly_cost:,.0f}",
                cur=SITES[r.site].currency if r.site in SITES else "",
            )
            for r in self.alerts.itertuples()
        ]


def _most_frequent(vals: pd.DataFrame, keys: list[str], col: str) -> pd.Series:
    """Per ``keys`` group, the most frequent value of ``col`` as text, ties to the first
    in sort order (what ``Series.mode().iat[0]`` gives), counted in one groupby rather
    than a Python call per group (83,000 creators at 1M rows)."""
    t = vals[keys].assign(_v=vals[col].astype(str))
    n = t.groupby([*keys, "_v"], sort=False, observed=True).size().rename("_n").reset_index()
    n = n.sort_values([*keys, "_n", "_v"], ascending=[True] * len(keys) + [False, True])
    return n.drop_duplicates(keys).set_index(keys)["_v"].rename(col)


def stop_loss(
    df: pd.DataFrame,
    *,
    by: str = "creator_id",
    line: float = DEFAULTS.break_even_roi,
    alpha: float = 0.05,
    unit_cost_rate: float = DEFAULTS.unit_cost_rate,
    min_weeks: int = 2,
    t_opt: float = 12.0,
    jump_scale: Mapping[str, float] | None = None,
    until: _dt.date | None = None,
) -> StopLossResult:
    """Anytime-valid stop-loss alerts on profit ROI, per site and ``by`` unit.

    Per unit and week with promotion cost, ``x_t = contribution_t - line x cost_t``: its
    mean is negative exactly when the unit's true profit ROI is below the line. The sum
    ``S_t`` of the weeks so far is compared with a one-sided normal-mixture boundary
    (:func:`mixture_boundary`) in the variance process ``V_t``, the larger of

    * the empirical variance of the x's so far (times t), and
    * what a unit exactly at the line would show: ``k x line x cost so far``, with ``k``
      the site's compound-Poisson jump scale (:func:`_jump_scale`). Without it, a few
      weeks without sales would look like certainty: sales arrive in lumps (one order a
      month can still pay), and no test can tell a dry spell from a loss without
      some such model of the lumps.

    The alert fires once ``S_t < -boundary(V_t)`` after at least ``min_weeks`` active
    weeks, and stays. Because the boundary holds for every week at once, a seller who
    looks every week keeps the error rate ``alpha`` over the whole horizon.

    Parameters
    ----------
    df : DataFrame
        Canonical frame with ``date`` and ``by``.
    by : str
        Unit of the stop-loss: ``creator_id``, or a campaign column (``product_id``).
    line : float
        The stop-loss line on profit ROI (1 = break-even).
    alpha : float
        Error rate over the whole horizon.
    unit_cost_rate : float
        Product cost share of price (for contribution).
    min_weeks : int
        Active weeks needed before an alert.
    t_opt : float
        Week count at which the boundary is tightest (default 12: a quarter of weekly looks).
    jump_scale : mapping, optional
        ``k`` per site, or per (site, tier) for creators (default: estimated from ``df``,
        see :func:`_jump_scale`).
    until : date, optional
        Last date to use (the end of the monitored period); later rows are ignored.

    Returns
    -------
    StopLossResult
    """
    if by not in df.columns:
        raise PlanError(
            f"stop_loss by={by!r}: no such column; accepted: creator_id, product_id or a campaign column"
        )
    if until is not None:
        df = df[pd.to_datetime(df["date"]) <= pd.Timestamp(until)]
    vals = row_values(df, unit_cost_rate=unit_cost_rate)
    vals = vals.assign(
        site=vals["site"].astype(str), unit=vals[by].astype(str), week=week_start(vals["date"])
    )
    scale_keys = ["site", "tier"] if by == "creator_id" and "tier" in vals.columns else ["site"]
    k = _jump_scale(vals, line, scale_keys)
    if jump_scale is not None:
        k = pd.Series({(key,) if len(scale_keys) == 1 else key: v for key, v in jump_scale.items()})
    # each unit takes the scale of its most frequent tier
    unit_key = _most_frequent(vals, ["site", "unit"], scale_keys[-1])
    wk = (
        vals.groupby(["site", "unit", "week"], sort=True)[["contribution", "cost"]]
        .sum()
        .reset_index()
    )
    wk = wk[wk["cost"] > 0].reset_index(drop=True)
    wk["x"] = wk["contribution"] - line * wk["cost"]
    keys = [wk["site"], wk["unit"]]
    g = wk.groupby(["site", "unit"], sort=False)
    t = (g.cumcount() + 1).to_numpy(float)
    s = wk["x"].groupby(keys).cumsum().to_numpy()
    mean = s / t
    ss = (wk["x"] ** 2).groupby(keys).cumsum().to_numpy() - t * mean**2
    wk["cum_cost"] = wk["cost"].groupby(keys).cumsum()
    wk["cum_contribution"] = wk["contribution"].groupby(keys).cumsum()
    unit_scale = _unit_scale(k, unit_key, two_keys=len(scale_keys) == 2)
    k_row = unit_scale.reindex(pd.MultiIndex.from_frame(wk[["site", "unit"]])).to_numpy()
    v_null = np.nan_to_num(k_row) * line * wk["cum_cost"].to_numpy()
    v = np.maximum(np.maximum(ss, 0.0) * t / np.maximum(t - 1, 1), v_null)
    # rho is fixed per unit from its first week (predictable): tightest near t_opt weeks
    la = -2 * math.log(alpha)
    rho = pd.Series(v_null / t, index=wk.index).groupby(keys).transform("first").to_numpy()
    rho = np.maximum(rho * t_opt / (la + math.log(la + 1)), 1e-9)
    bound = mixture_boundary(v, rho, alpha)
    wk["t"] = t.astype(int)
    wk["roi_to_date"] = wk["cum_contribution"] / wk["cum_cost"]
    wk["roi_high"] = line + (s + bound) / wk["cum_cost"].to_numpy()
    wk["alert"] = (s + bound < 0) & (t >= min_weeks)
    wk["alert"] = wk["alert"].groupby(keys).cummax()  # once in alert, stays
    last = wk.groupby(["site", "unit"], sort=False).tail(1)
    alerts = _alert_table(wk, last)
    return StopLossResult(wk, alerts, int(len(last)), float(line), float(alpha))


def _unit_scale(k: pd.Series, unit_key: pd.Series, *, two_keys: bool) -> pd.Series:
    """Each (site, unit)'s jump scale: that of its site (and most frequent tier)."""
    site_of_unit = unit_key.index.get_level_values("site")
    if two_keys:
        wanted = pd.MultiIndex.from_arrays([site_of_unit, unit_key.to_numpy()])
    elif isinstance(k.index, pd.MultiIndex):  # jump_scale given as {(site,): k}
        wanted = pd.MultiIndex.from_arrays([site_of_unit])
    else:
        wanted = site_of_unit
    # Aligned in one reindex (a per-unit k.get costs a MultiIndex look-up per creator).
    return pd.Series(k.reindex(wanted).fillna(0.0).to_numpy(dtype="float64"), index=unit_key.index)


def _alert_table(wk: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    """One row per unit in alert at its last week, biggest losses first."""
    first = wk[wk["alert"]].groupby(["site", "unit"])["week"].min().rename("first_alert_week")
    al = last[last["alert"]].join(first, on=["site", "unit"])
    alerts = (
        pd.DataFrame(
            {
                "site": al["site"],
                "unit": al["unit"],
                "weeks": al["t"].astype(int),
                "first_alert_week": al["first_alert_week"].dt.date,
                "roi_to_date": al["roi_to_date"],
                "roi_high": al["roi_high"],
                "profit_so_far": al["cum_contribution"] - al["cum_cost"],
                "weekly_cost": al["cum_cost"] / al["t"],
                "cost_so_far": al["cum_cost"],
            }
        )
        .sort_values("profit_so_far")
        .reset_index(drop=True)
    )
    return alerts


# ------------------------------------------------------------ estimate vs actual


def history_path(output_root: str | Path) -> Path:
    """Where forecasts are kept: ``forecast_history.jsonl`` beside the run folder.

    For ``make report`` runs (``reports/<run-id>/``) that is ``reports/forecast_history.jsonl``,
    shared by every later run; a notebook opened in JupyterLab writes to ``reports/lab``'s
    parent, the same file.
    """
    return Path(output_root).resolve().parent / "forecast_history.jsonl"


def append_history(path: str | Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Append forecast records (one JSON line each); return how many were written.

    A record already present (same key: site, tier, category, target period, roi kind,
    data fingerprint) is not written twice, so re-running a report does not
    double-count it in the calibration.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    have = {r["key"] for r in read_history(p)}
    new = [dict(r) for r in records if r["key"] not in have]
    with p.open("a", encoding="utf-8") as fh:
        for r in new:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    return len(new)


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """Forecast records from a history file (missing file: none; bad lines skipped)."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (tier, category) cell: creators, pieces, GMV, refunds, commission, samples, fees."""
    v = rows.assign(tier=rows["tier"].astype(str), category=rows["category"].astype(str))
    comm = v["cost"] - v["sample_cost"] - v["flat_fee"]
    v = v.assign(commission=comm)
    return (
        v.groupby(["tier", "category"], sort=True)
        .agg(
            creators=("creator_id", "nunique"),
            pieces=("creator_id", "size"),
            gmv=("gmv", "sum"),
            net_gmv=("net_gmv", "sum"),
            commission=("commission", "sum"),
            sample_cost=("sample_cost", "sum"),
            flat_fee=("flat_fee", "sum"),
        )
        .reset_index()
    )


def _actual_roi(cell: Any, roi: str) -> float:
    cost = cell.commission + cell.sample_cost + cell.flat_fee
    sales = cell.gmv if roi == "gross" else cell.net_gmv
    return float(sales / cost) if cost > 0 else math.nan


def forecast_next(
    df: pd.DataFrame,
    periods: Periods,
    *,
    site: str,
    roi: str = "net",
    max_cells: int = 3,
    n_draws: int = 500,
    seed: int = 0,
    fingerprint: str = "",
) -> list[dict[str, Any]]:
    """ROI forecasts for the next period, for this period's largest (tier, category) cells.

    Each plan keeps the cell's shape this period (creators of that tier, pieces per
    creator, effective commission, samples and flat fees per creator; everyone posts),
    and is forecast by :func:`helpers.roi.forecast_roi` from all data up to the period's
    end. A record holds the plan, the target period and the quantile grid
    :data:`QUANTILES` of the headline ROI, ready for :func:`append_history`.
    """
    from helpers.roi import CampaignPlan, _forecast, _Request

    hist = df[
        (df["site"].astype(str) == site) & (pd.to_datetime(df["date"]) <= pd.Timestamp(periods.end))
    ]
    cur = row_values(_in(hist, periods.start, periods.end))
    if cur.empty:
        return []
    cells = _cells(cur).sort_values("pieces", ascending=False).head(max_cells)
    nxt = periods.next()
    cache: dict[Any, Any] = {}
    records = []
    for cell in cells.itertuples(index=False):
        rate = (
            cell.commission / cell.net_gmv
            if cell.net_gmv > 0
            else float(cur["commission_rate"].mean())
        )
        plan = CampaignPlan(
            site=site,
            category=cell.category,
            commission_rate=float(np.clip(rate, 1e-4, 0.8)),
            creators_per_tier={cell.tier: int(cell.creators)},
            pieces_per_creator=max(1, round(cell.pieces / cell.creators)),
            sample_cost=float(cell.sample_cost) / cell.creators,
            flat_fee=float(cell.flat_fee) / cell.creators,
            post_rate=1.0,
            name=f"{site} {cell.tier} {cell.category}",
        )
        fc = _forecast(
            hist, _Request.checked(plan, roi, n_draws), seed=seed, sensitivity=False, cache=cache
        )
        v = fc.draws[f"{roi}_roi"].dropna().to_numpy()
        records.append(
            _record(
                site, cell.tier, cell.category, nxt, roi, v, plan.to_dict(), fingerprint, periods
            )
        )
    return records


def _record(
    site: str,
    tier: str,
    category: str,
    target: tuple[_dt.date, _dt.date],
    roi: str,
    draws: np.ndarray,
    plan: Mapping[str, Any],
    fingerprint: str,
    made: Periods,
) -> dict[str, Any]:
    q = np.quantile(draws, QUANTILES)
    key = f"{site}|{tier}|{category}|{target[0]}|{target[1]}|{roi}|{fingerprint}"
    return {
        "key": key,
        "site": site,
        "tier": tier,
        "category": category,
        "roi": roi,
        "period_start": target[0].isoformat(),
        "period_end": target[1].isoformat(),
        "made_with_data_to": made.end.isoformat(),
        "plan": dict(plan),
        "mean": float(np.mean(draws)),
        "quantiles": [float(x) for x in QUANTILES],
        "values": [float(x) for x in q],
    }


def _pit(values: Sequence[float], quantiles: Sequence[float], actual: float) -> float:
    """Forecast CDF at ``actual``, linear between the stored quantiles, 0/1 outside."""
    v, q = np.asarray(values, float), np.asarray(quantiles, float)
    if actual <= v[0]:
        return float(q[0] * (actual >= v[0]))
    if actual >= v[-1]:
        return float(q[-1] + (1 - q[-1]) * (actual > v[-1]))
    return float(np.interp(actual, v, q))


def _q(values: Sequence[float], quantiles: Sequence[float], p: float) -> float:
    return float(np.interp(p, quantiles, values))


def estimate_vs_actual(records: Iterable[Mapping[str, Any]], df: pd.DataFrame) -> pd.DataFrame:
    """Past forecasts whose target period the data fully covers, beside what happened.

    The actual is the ROI of the same (site, tier, category) cell in the target period
    (sales / (commission + samples + flat fees), as in :func:`helpers.roi.backtest_roi`).
    ``error = actual - forecast_median`` so ``forecast_median + error == actual``.

    Returns
    -------
    DataFrame
        ``source`` ("past run"), ``site``, ``tier``, ``category``, ``period_start``,
        ``period_end``, ``actual_roi``, ``forecast_median``, ``q10``, ``q90``, ``q025``,
        ``q975``, ``error``, ``pit``, ``in_80``, ``in_95``.
    """
    if not has_dates(df):
        return _eva_frame([])
    latest = pd.to_datetime(df["date"]).max().date()
    rows = []
    for r in records:
        start, end = (
            _dt.date.fromisoformat(r["period_start"]),
            _dt.date.fromisoformat(r["period_end"]),
        )
        if end > latest:
            continue
        sub = df[
            (df["site"].astype(str) == r["site"])
            & (df["tier"].astype(str) == r["tier"])
            & (df["category"].astype(str) == r["category"])
        ]
        sub = row_values(_in(sub, start, end))
        if sub.empty:
            continue
        actual = _actual_roi(next(_cells(sub).itertuples(index=False)), r["roi"])
        if not math.isfinite(actual):
            continue
        rows.append(
            _eva_row(
                "past run",
                r["site"],
                r["tier"],
                r["category"],
                start,
                end,
                actual,
                r["values"],
                r["quantiles"],
            )
        )
    return _eva_frame(rows)


def _eva_row(
    source: str,
    site: str,
    tier: str,
    category: str,
    start: Any,
    end: Any,
    actual: float,
    values: Sequence[float],
    quantiles: Sequence[float],
) -> dict[str, Any]:
    med = _q(values, quantiles, 0.5)
    lo80, hi80 = _q(values, quantiles, 0.1), _q(values, quantiles, 0.9)
    lo95, hi95 = _q(values, quantiles, 0.025), _q(values, quantiles, 0.975)
    return {
        "source": source,
        "site": site,
        "tier": tier,
        "category": category,
        "period_start": str(start),
        "period_end": str(end),
        "actual_roi": actual,
        "forecast_median": med,
        "q10": lo80,
        "q90": hi80,
        "q025": lo95,
        "q975": hi95,
        "error": actual - med,
        "pit": _pit(values, quantiles, actual),
        "in_80": bool(lo80 <= actual <= hi80),
        "in_95": bool(lo95 <= actual <= hi95),
    }


def _eva_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = [
        "source",
        "site",
        "tier",
        "category",
        "period_start",
        "period_end",
        "actual_roi",
        "forecast_median",
        "q10",
        "q90",
        "q025",
        "q975",
        "error",
        "pit",
        "in_80",
        "in_95",
    ]
    return pd.DataFrame(rows, columns=cols)


def rolling_backtest(
    df: pd.DataFrame,
    *,
    end: _dt.date,
    weeks: int = 3,
    sites: Sequence[str] | None = None,
    roi: str = "net",
    max_cells: int = 2,
    n_draws: int = 300,
    seed: int = 0,
) -> pd.DataFrame:
    """Estimate vs actual without past runs: each of the last ``weeks`` weeks up to
    ``end`` forecast from the weeks before it (:func:`helpers.roi.backtest_roi`).

    Returns
    -------
    DataFrame
        As :func:`estimate_vs_actual`, ``source`` = "rolling backtest".
    """
    from helpers.roi import backtest_roi

    d = pd.to_datetime(df["date"])
    sites = list(sites) if sites else sorted(df["site"].astype(str).unique())
    rows = []
    for w in range(weeks, 0, -1):
        w_end = end - _dt.timedelta(days=7 * (w - 1))
        w_start = w_end - _dt.timedelta(days=6)
        upto = df[d <= pd.Timestamp(w_end)]
        for site in sites:
            try:
                bt = backtest_roi(
                    upto,
                    site=site,
                    split_date=w_start.isoformat(),
                    roi=roi,
                    n_draws=n_draws,
                    seed=seed,
                    max_cells=max_cells,
                )
            except PlanError:
                continue  # a site without history before the week: nothing to backtest
            for c in bt.cells.itertuples(index=False):
                vals = [c.q025, c.q10, c.forecast_median, c.q90, c.q975]
                row = _eva_row(
                    "rolling backtest",
                    site,
                    c.tier,
                    c.category,
                    w_start,
                    w_end,
                    c.actual_roi,
                    vals,
                    [0.025, 0.1, 0.5, 0.9, 0.975],
                )
                row["pit"] = float(c.pit)  # the backtest's own PIT, from all draws
                rows.append(row)
    return _eva_frame(rows)


def calibration(eva: pd.DataFrame, bins: int = 10) -> dict[str, Any]:
    """Running calibration: PIT histogram and coverage of the 80 % and 95 % intervals.

    A calibrated forecast has a flat PIT histogram, 80 % coverage near 0.8 and 95 % near
    0.95; the binomial 95 % range of each coverage for this many forecasts is included.
    """
    n = int(len(eva))
    if n == 0:
        return {"n": 0, "coverage_80": None, "coverage_95": None, "pit_counts": [0] * bins}
    counts, _ = np.histogram(eva["pit"].clip(0, 1), bins=bins, range=(0, 1))

    def band(p: float) -> list[float]:
        lo, hi = stats.binom.ppf([0.025, 0.975], n, p)
        return [float(lo / n), float(hi / n)]

    return {
        "n": n,
        "coverage_80": float(eva["in_80"].mean()),
        "coverage_95": float(eva["in_95"].mean()),
        "expected_range_80": band(0.8),
        "expected_range_95": band(0.95),
        "pit_counts": [int(c) for c in counts],
        "mean_pit": float(eva["pit"].mean()),
    }


def eva_sentences(
    eva: pd.DataFrame, calib: Mapping[str, Any], *, source: str, weeks: int, lang: str = "en"
) -> list[str]:
    """What the estimate-vs-actual table rests on, and its calibration, in ``lang``."""
    first = (
        text(_TEXT, "eva_runs", lang, n=len(eva))
        if source == "past run"
        else text(_TEXT, "eva_backtest", lang, weeks=weeks)
    )
    if not calib.get("n"):
        return [first]
    return [
        first,
        text(
            _TEXT,
            "calib",
            lang,
            n=calib["n"],
            c80=f"{calib['coverage_80']:.0%}",
            c95=f"{calib['coverage_95']:.0%}",
        ),
    ]


def no_dates_sentence(lang: str = "en") -> str:
    """The sentence shown when the export has no dates."""
    return text(_TEXT, "no_dates", lang)


def period_note(df: pd.DataFrame, lang: str = "en") -> str:
    """One sentence stating the data's period (for any notebook), or that it has no dates.

    An export without dates is treated as one period, and the sentence says so.
    """
    if not has_dates(df):
        return no_dates_sentence(lang)
    d = pd.to_datetime(df["date"]).dropna()
    first, last = d.min().date(), d.max().date()
    weeks = int(week_start(pd.Series([d.min(), d.max()])).diff().dt.days.iloc[-1] // 7 + 1)
    return text(
        _TEXT, "data_period", lang, start=first, end=last, days=(last - first).days + 1, weeks=weeks
    )


def stored_sentence(
    records: Sequence[Mapping[str, Any]], new: int, file: str | Path, lang: str = "en"
) -> str:
    """What this run stored for the next run's estimate vs actual, in ``lang``."""
    if not records:
        return ""
    start, end = records[0]["period_start"], records[0]["period_end"]
    return text(
        _TEXT, "stored", lang, n=len(records), start=start, end=end, new=new, file=Path(file).name
    )


def unit_title(by: str, lang: str = "en") -> str:
    """Heading for a stop-loss unit column (creators, campaigns), in ``lang``."""
    key = f"by_{by}"
    return text(_TEXT, key, lang) if key in _TEXT["en"] else by


def flag_word(direction: str, lang: str = "en") -> str:
    """The word for a change: up, down or within noise, in ``lang``."""
    return text(_TEXT, {"up": "flag_up", "down": "flag_down"}.get(direction, "flag_none"), lang)
