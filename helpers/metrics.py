"""Funnel metrics, rate intervals and the kit's ROI definitions.

Definitions (the same everywhere in the kit, and in the metrics primer):

- CTR = clicks / impressions; CVR (conversion) = orders / clicks;
  AOV = GMV / orders; return rate = refunds / GMV; net GMV = GMV - refunds.
  Ratios of a group are ratios of its sums, never means of per-row ratios, and are
  NaN where the denominator is 0.
- Commission is paid on the net paid amount (none on refunded orders, a partial
  refund gives a partial commission): ``commission = rate * (GMV - refunds)``.
- Promotion cost = commission + samples + flat fees (+ ads spend, when a plan has it).
- Gross ROI = GMV / promotion cost. "ROI 2.5" means that one dollar of promotion
  cost brings 2.5 dollars of sales (this is what sellers quote).
- Net ROI = (GMV - refunds) / promotion cost.
- Contribution = net GMV - product cost - platform fee rate * net GMV, with product
  cost = ``product_cost_rate * (net GMV + (1 - refund_recovery) * refunds)`` (unit
  cost as a fraction of the selling price). ``refund_recovery`` is the share of the
  refunded units' product cost that is recovered: 1 (the default, the kit's earlier
  definition) assumes every refunded unit comes back resellable; many TikTok Shop
  refunds are refund-only (no return), where the unit's cost is lost: use 0 there,
  or your own share of refunds restocked.
- Profit ROI = contribution / promotion cost. Profit = contribution - promotion cost,
  so a profit ROI below 1 is a loss and 1 is break-even.

Missing commission rates are never read as zero commission: :func:`campaign_summary`
counts such rows and falls back to the export's ``commission_paid`` (or reports the
commission and ROIs as NaN, with a note).

Every ROI function works on scalars, numpy arrays or pandas Series (broadcast);
it returns a float for scalar input, a Series (with the first Series' index) when a
Series is given, else an ndarray. ROI is NaN where the promotion cost is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from helpers.defaults import DEFAULTS
from helpers.errors import ParameterError
from helpers.schema import SITES

__all__ = [
    "REFUND_RECOVERY",
    "COMMISSION_RANGE",
    "INTERVAL_METHODS",
    "MISSING_COMMISSION",
    "campaign_summary",
    "commission_on_net",
    "contribution",
    "funnel",
    "gross_roi",
    "net_roi",
    "profit_roi",
    "promotion_cost",
    "rate_interval",
    "safe_ratio",
]

COMMISSION_RANGE: tuple[float, float] = (0.0, 0.80)
"""Accepted commission rates as fractions. TikTok Shop allows 1 % to 80 % per product;
0 is accepted for what-if calculations."""

INTERVAL_METHODS: tuple[str, ...] = ("wilson", "normal", "agresti_coull", "beta", "jeffreys")
"""Vectorised methods of :func:`statsmodels.stats.proportion.proportion_confint`."""

MISSING_COMMISSION: tuple[str, ...] = ("fallback", "exclude", "raise")

REFUND_RECOVERY = DEFAULTS.refund_recovery
"""The kit's one default share of refunded units' product cost recovered (restocked
and resold): 1. Used by profit everywhere (primer, ROI plans, scorecard, index) and
stated in each report's answer; set ``refund_recovery`` (0 for refund-only refunds,
where the buyer keeps the item) to your own share."""
"""What :func:`campaign_summary` does with rows whose commission rate is missing:
"fallback" uses the row's reported ``commission_paid`` (commission and ROIs are NaN
when some row has neither), "exclude" leaves those rows out of every sum (counted),
"raise" stops with an error naming the rows."""

_FUNNEL_STEPS: tuple[str, ...] = ("impressions", "clicks", "orders", "gmv")
_FUNNEL_SUMS: tuple[str, ...] = (*_FUNNEL_STEPS, "refunds")
_FUNNEL_RATIOS: tuple[tuple[str, str, str], ...] = (
    ("ctr", "clicks", "impressions"),
    ("cvr", "orders", "clicks"),
    ("aov", "gmv", "orders"),
    ("return_rate", "refunds", "gmv"),
)
_FUNNEL_OPTIONAL: tuple[str, ...] = (
    "items_sold",
    "video_views",
    "commission_paid",
    "sample_cost",
    "flat_fee",
)

Number = float | int | np.ndarray | pd.Series | Sequence[float]


# --------------------------------------------------------------------------- helpers


def _as_float(value: Any) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.astype("float64").to_numpy(na_value=np.nan)
    return np.asarray(value, dtype="float64")


def _wrap(result: np.ndarray, *inputs: Any) -> Any:
    """Return ``result`` shaped like the inputs: float, Series or ndarray."""
    for x in inputs:
        if isinstance(x, pd.Series):
            return pd.Series(np.broadcast_to(result, x.shape), index=x.index, dtype="float64")
    if np.ndim(result) == 0:
        return float(result)
    return result


def _check_range(
    name: str, values: np.ndarray, lo: float, hi: float = np.inf, hint: str = ""
) -> None:
    """Raise ValueError if a (non-NaN) value lies outside ``[lo, hi]``."""
    v = np.asarray(values, dtype="float64")
    bad = ~np.isnan(v) & ((v < lo) | (v > hi))
    if bad.any():
        first = v[bad].flat[0]
        where = "" if v.ndim == 0 else f" at position {int(np.flatnonzero(bad.ravel())[0])}"
        upper = "no upper bound" if np.isinf(hi) else f"{hi:g}"
        raise ParameterError(
            f"{name} = {first:g}{where} is outside the accepted range [{lo:g}, {upper}]"
            f" ({int(bad.sum())} value(s) out of range). {hint}".rstrip()
        )


def safe_ratio(numerator: Number, denominator: Number) -> Any:
    """``numerator / denominator`` with NaN where the denominator is 0 (or missing).

    Parameters
    ----------
    numerator, denominator : scalar, array or Series
        Broadcastable values.

    Returns
    -------
    float, ndarray or Series
        The ratio, NaN where the denominator is 0.
    """
    num = _as_float(numerator)
    den = _as_float(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den == 0, np.nan, num / np.where(den == 0, 1.0, den))
    return _wrap(out, numerator, denominator)


def _check_commission(rate: np.ndarray, name: str = "commission rate") -> None:
    lo, hi = COMMISSION_RANGE
    _check_range(
        name,
        rate,
        lo,
        hi,
        hint="Give the rate as a fraction (0.15 for 15 %); TikTok Shop allows 1 %-80 %.",
    )


# --------------------------------------------------------------------------- funnel


_MONEY: tuple[str, ...] = (
    "gmv",
    "refunds",
    "net_gmv",
    "aov",
    "commission_paid",
    "sample_cost",
    "flat_fee",
)
"""Funnel columns in site currency: never summed over sites with different currencies."""


def funnel(
    data: Any,
    by: str | Sequence[str] | None = None,
    *,
    pool_sites: bool = False,
) -> pd.DataFrame:
    """Funnel sums and ratios per site, overall or per group within each site.

    Sites are never pooled silently (money is in each site's currency and shoppers
    differ by market): when the frame has a ``site`` column, ``site`` is the first
    grouping key unless ``pool_sites=True``.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or Spark DataFrame
        Canonical rows (see DESIGN.md; summed on the engine, :mod:`helpers.reduce`)
        with at least one of ``impressions``,
        ``clicks``, ``orders`` and ``gmv`` (the others are left out, with the ratios
        that need them); ``refunds`` counts as 0 when absent; ``items_sold``,
        ``video_views``, ``commission_paid``, ``sample_cost`` and ``flat_fee`` are
        summed when present (missing values count as 0 in a sum).
    by : str or list of str, optional
        Grouping column(s) within each site. Categorical groups keep only observed levels.
    pool_sites : bool
        Pool the sites of each group (default False: one row per site and group). Counts
        and count ratios (CTR, CVR) are pooled; money columns (GMV, refunds, net GMV,
        AOV, commission, samples, flat fees) are NaN in a row that mixes currencies, and
        ``sites`` lists the pooled sites.

    Returns
    -------
    DataFrame
        One row per site and group (per group when pooled; one row when the frame has no
        site column and ``by`` is None), the group columns, ``currency`` (the site's,
        "mixed" across currencies), ``n_rows``, the sums, and ``ctr`` = clicks /
        impressions, ``cvr`` = orders / clicks, ``aov`` = gmv / orders, ``return_rate`` =
        refunds / gmv and ``net_gmv`` = gmv - refunds. Ratios are ratios of sums (never
        means of per-row ratios), NaN where the denominator is 0. ``attrs["pooled_sites"]``
        says whether sites were pooled and ``attrs["notes"]`` what was done.

    Raises
    ------
    KeyError
        If a required or grouping column is missing (the message lists them).
    """
    from helpers.reduce import as_source, column_names

    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    columns = column_names(data)
    has_site = "site" in columns
    if has_site and not pool_sites and "site" not in keys:
        keys = ["site", *keys]
    missing = [c for c in keys if c not in columns]
    if missing or not any(c in columns for c in _FUNNEL_STEPS):
        raise KeyError(
            f"funnel() needs the grouping column(s) {keys} and at least one of "
            f"{list(_FUNNEL_STEPS)}; the data has {columns}. Load the data with "
            "helpers.load_dataset or rename the columns to the canonical names."
        )
    sum_cols = [c for c in (*_FUNNEL_SUMS, *_FUNNEL_OPTIONAL) if c in columns]
    pooled = has_site and "site" not in keys
    if isinstance(data, pd.DataFrame):
        # Text and object columns of numbers (a hand-made frame) are read as numbers.
        data = data.assign(**{c: pd.to_numeric(data[c]) for c in sum_cols})
    with as_source(data, [*keys, *(["site"] if pooled else []), *sum_cols]) as src:
        out = _funnel_sums(src, keys, sum_cols, has_site=has_site, pooled=pooled)
    if "refunds" not in out.columns and "gmv" in out.columns:
        out.insert(out.columns.get_loc("gmv") + 1, "refunds", 0.0)
    for c in ("impressions", "clicks", "orders"):
        if c in out.columns:
            out[c] = out[c].round().astype("int64")
    for name, num, den in _FUNNEL_RATIOS:
        if num in out.columns and den in out.columns:
            out[name] = safe_ratio(out[num], out[den])
    if "gmv" in out.columns:
        out["net_gmv"] = out["gmv"] - out["refunds"]
    notes = _funnel_notes(out, has_site=has_site, pooled=pooled)
    if pooled:
        mixed = (out["currency"] == "mixed").to_numpy()
        money = [c for c in _MONEY if c in out.columns]
        out.loc[mixed, money] = np.nan
    out.attrs["pooled_sites"] = bool(pooled)
    out.attrs["notes"] = notes
    return out


def _currency(site: Any) -> str:
    """The currency of a site code ("unknown" for a site the kit does not know)."""
    return SITES[str(site)].currency if str(site) in SITES else "unknown"


def _funnel_sums(
    src: Any, keys: list[str], sum_cols: list[str], *, has_site: bool, pooled: bool
) -> pd.DataFrame:
    """Sums (as float) per group with ``n_rows``, ``currency`` and (pooled) ``sites``.

    Pooled groups are summed per site on the engine and the sites combined here, so
    that each group knows its sites (and whether their currencies differ)."""
    from helpers.reduce import group_sums

    by_site = [*keys, "site"] if pooled else keys
    out = group_sums(src, by_site, sum_cols, dropna=False)
    out[sum_cols] = out[sum_cols].astype("float64")
    if has_site:
        out.insert(0, "currency", [_currency(s) for s in out["site"]])
    if not pooled:
        return out[[*keys, *(["currency"] if has_site else []), "n_rows", *sum_cols]]
    out["site"] = out["site"].astype(object)
    aggs = {
        "sites": ("site", _joined),
        "currency": ("currency", _one_or_mixed),
        "n_rows": ("n_rows", "sum"),
        **{c: (c, "sum") for c in sum_cols},
    }
    if not keys:
        return out.groupby(lambda _: 0).agg(**aggs).reset_index(drop=True)
    grouped = out.groupby(keys, observed=True, sort=True, dropna=False)
    return grouped.agg(**aggs).reset_index()


def _one_or_mixed(values: pd.Series) -> str:
    u = values.dropna().unique()
    return str(u[0]) if len(u) == 1 else "mixed"


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted(str(v) for v in values.dropna().unique()))


def _funnel_notes(out: pd.DataFrame, *, has_site: bool, pooled: bool) -> list[str]:
    if not has_site:
        return ["No site column: the rows are summarised as one market (one currency)."]
    if not pooled:
        return ["One row per site: sites are not pooled (money is in each site's currency)."]
    notes = ["Sites pooled on request (pool_sites=True): counts, CTR and CVR are pooled."]
    if (out["currency"] == "mixed").any():
        notes.append(
            "Money columns (GMV, refunds, net GMV, AOV, commission, samples, flat fees) are "
            "blank where a row pools sites with different currencies: they cannot be added."
        )
    return notes


def rate_interval(
    successes: Number,
    trials: Number,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a rate (CTR, CVR, ...), vectorised.

    A wrapper of :func:`statsmodels.stats.proportion.proportion_confint`.

    Parameters
    ----------
    successes, trials : scalar, array or Series
        Counts, e.g. clicks and impressions; broadcastable. ``0 <= successes <= trials``.
    alpha : float
        1 - confidence level (0.05 gives a 95 % interval); in (0, 1).
    method : str
        One of :data:`INTERVAL_METHODS` (default ``"wilson"``, good for small counts
        and rates near 0).

    Returns
    -------
    (lower, upper) : tuple of ndarray
        Bounds with the broadcast shape of the inputs; NaN where ``trials`` is 0.

    Raises
    ------
    ValueError
        For an unknown method, alpha outside (0, 1), negative counts or successes
        above trials.
    """
    if method not in INTERVAL_METHODS:
        raise ParameterError(
            f"unknown interval method {method!r}; accepted: {list(INTERVAL_METHODS)}"
        )
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha = {alpha} must be in (0, 1), e.g. 0.05 for a 95 % interval")
    k, n = np.broadcast_arrays(_as_float(successes), _as_float(trials))
    _check_range("trials", n, 0.0, hint="Counts cannot be negative.")
    _check_range("successes", k, 0.0, hint="Counts cannot be negative.")
    if np.any(k > n):
        i = int(np.flatnonzero((k > n).ravel())[0])
        raise ParameterError(
            f"successes ({k.ravel()[i]:g}) exceed trials ({n.ravel()[i]:g}) at position {i}; "
            "pass e.g. clicks and impressions, or orders and clicks, in that order"
        )
    lower = np.full(k.shape, np.nan)
    upper = np.full(k.shape, np.nan)
    ok = (n > 0) & ~np.isnan(k) & ~np.isnan(n)
    if ok.any():
        lo, hi = proportion_confint(k[ok], n[ok], alpha=alpha, method=method)
        lower[ok] = np.clip(lo, 0.0, 1.0)
        upper[ok] = np.clip(hi, 0.0, 1.0)
    return lower, upper


# --------------------------------------------------------------------------- ROI


def commission_on_net(gmv: Number, refunds: Number, rate: Number) -> Any:
    """Commission paid on the net paid amount: ``rate * (gmv - refunds)``.

    No commission is paid on refunded orders; a partial refund gives a partial
    commission. A refund larger than the period's GMV (a refund of earlier orders)
    gives a negative commission: a clawback.

    Parameters
    ----------
    gmv, refunds : scalar, array or Series
        Attributed GMV and refunded amount, >= 0, in site currency.
    rate : scalar, array or Series
        Commission rate as a fraction in [0, 0.8] (0.15 for 15 %).

    Returns
    -------
    float, ndarray or Series
        The commission.

    Examples
    --------
    >>> commission_on_net(1000.0, 200.0, 0.15)
    120.0
    """
    g, r, c = _as_float(gmv), _as_float(refunds), _as_float(rate)
    _check_range("gmv", g, 0.0)
    _check_range("refunds", r, 0.0)
    _check_commission(c)
    return _wrap(c * (g - r), gmv, refunds, rate)


def promotion_cost(
    commission: Number,
    sample_cost: Number = 0.0,
    flat_fee: Number = 0.0,
    ads_spend: Number = 0.0,
) -> Any:
    """Promotion cost = commission + samples + flat fees + ads spend.

    Parameters
    ----------
    commission : scalar, array or Series
        Commission paid (see :func:`commission_on_net`); may be negative only as a
        clawback, so it is not range-checked.
    sample_cost, flat_fee, ads_spend : scalar, array or Series
        Cost of samples shipped, flat fees paid to creators, paid ads spend; >= 0.

    Returns
    -------
    float, ndarray or Series
        The promotion cost.
    """
    s, f, a = _as_float(sample_cost), _as_float(flat_fee), _as_float(ads_spend)
    for name, v in (("sample_cost", s), ("flat_fee", f), ("ads_spend", a)):
        _check_range(name, v, 0.0, hint="Costs cannot be negative; give 0 when there is none.")
    return _wrap(_as_float(commission) + s + f + a, commission, sample_cost, flat_fee, ads_spend)


def gross_roi(gmv: Number, cost: Number) -> Any:
    """Gross ROI = GMV / promotion cost (what sellers quote, also called ROAS).

    "ROI 2.5" means one dollar of promotion cost brings 2.5 dollars of sales.

    Parameters
    ----------
    gmv : scalar, array or Series
        Attributed GMV, >= 0.
    cost : scalar, array or Series
        Promotion cost (see :func:`promotion_cost`).

    Returns
    -------
    float, ndarray or Series
        The ROI, NaN where the cost is 0.

    Examples
    --------
    >>> gross_roi(250.0, 100.0)
    2.5
    """
    _check_range("gmv", _as_float(gmv), 0.0)
    return safe_ratio(gmv, cost)


def net_roi(gmv: Number, refunds: Number, cost: Number) -> Any:
    """Net ROI = (GMV - refunds) / promotion cost.

    Parameters
    ----------
    gmv, refunds : scalar, array or Series
        Attributed GMV and refunded amount, >= 0.
    cost : scalar, array or Series
        Promotion cost.

    Returns
    -------
    float, ndarray or Series
        The ROI net of refunds, NaN where the cost is 0.
    """
    g, r = _as_float(gmv), _as_float(refunds)
    _check_range("gmv", g, 0.0)
    _check_range("refunds", r, 0.0)
    return _wrap(_as_float(safe_ratio(g - r, _as_float(cost))), gmv, refunds, cost)


def contribution(
    gmv: Number,
    refunds: Number,
    product_cost_rate: Number,
    platform_fee_rate: Number,
    refund_recovery: Number = REFUND_RECOVERY,
) -> Any:
    """Contribution margin before promotion costs.

    ``contribution = net GMV - product_cost_rate * (net GMV + (1 - refund_recovery) *
    refunds) - platform_fee_rate * net GMV`` with net GMV = GMV - refunds: the product
    cost of the kept units, the unrecovered cost of the refunded units, and the platform
    referral fee on the paid amount.

    Assumption: with the default ``refund_recovery = 1`` every refunded unit comes back
    resellable (its cost is recovered). Refund-only refunds (the buyer keeps the item,
    common on TikTok Shop) lose the unit's cost: ``refund_recovery = 0``. With a 20 %
    return rate, unit cost 35 % and fee 6 %, contribution is 0.472 x GMV at 1 and
    0.402 x GMV at 0.

    Parameters
    ----------
    gmv, refunds : scalar, array or Series
        Attributed GMV and refunded amount, >= 0.
    product_cost_rate : scalar, array or Series
        Landed unit cost as a fraction of the selling price, in [0, 1] (0.35 when a
        $20 item costs $7).
    platform_fee_rate : scalar, array or Series
        Platform referral fee as a fraction of the paid amount, in [0, 1]
        (US 0.06, UK 0.09; see :data:`helpers.schema.SITES`).
    refund_recovery : scalar, array or Series
        Share of the refunded units' product cost that is recovered, in [0, 1]
        (default 1: every refunded unit is restocked).

    Returns
    -------
    float, ndarray or Series
        The contribution in site currency.
    """
    g, r = _as_float(gmv), _as_float(refunds)
    u, p = _as_float(product_cost_rate), _as_float(platform_fee_rate)
    rec = _as_float(refund_recovery)
    _check_range(
        "refund_recovery",
        rec,
        0.0,
        1.0,
        hint="Give the share of refunded units whose cost comes back (1 all restocked, "
        "0 refund-only).",
    )
    _check_range("gmv", g, 0.0)
    _check_range("refunds", r, 0.0)
    _check_range(
        "product_cost_rate", u, 0.0, 1.0, hint="Give unit cost / selling price, e.g. 0.35."
    )
    _check_range("platform_fee_rate", p, 0.0, 1.0, hint="Give a fraction, e.g. 0.06 for 6 %.")
    net = g - r
    out = net * (1.0 - u - p) - u * (1.0 - rec) * r
    return _wrap(out, gmv, refunds, product_cost_rate, platform_fee_rate, refund_recovery)


def profit_roi(
    gmv: Number,
    refunds: Number,
    cost: Number,
    *,
    product_cost_rate: Number,
    platform_fee_rate: Number,
    refund_recovery: Number = REFUND_RECOVERY,
) -> Any:
    """Profit ROI = contribution / promotion cost (see :func:`contribution`).

    Profit = contribution - promotion cost, so profit ROI < 1 is a loss and 1 is
    break-even.

    Parameters
    ----------
    gmv, refunds : scalar, array or Series
        Attributed GMV and refunded amount, >= 0.
    cost : scalar, array or Series
        Promotion cost.
    product_cost_rate, platform_fee_rate : scalar, array or Series
        Fractions in [0, 1]; see :func:`contribution`.
    refund_recovery : scalar, array or Series
        Share of refunded units' cost recovered, in [0, 1] (default 1); see
        :func:`contribution`.

    Returns
    -------
    float, ndarray or Series
        The profit ROI, NaN where the cost is 0.
    """
    contrib = contribution(gmv, refunds, product_cost_rate, platform_fee_rate, refund_recovery)
    return _wrap(_as_float(safe_ratio(_as_float(contrib), _as_float(cost))), gmv, refunds, cost)


def campaign_summary(
    df: pd.DataFrame,
    *,
    product_cost_rate: float | None = None,
    platform_fee_rate: float | None = None,
    ads_spend: float = 0.0,
    refund_recovery: float = REFUND_RECOVERY,
    missing_commission: str = "fallback",
) -> dict[str, Any]:
    """Funnel, costs and the three ROI variants of a canonical frame (one site).

    Commission is recomputed per row as ``commission_rate * (gmv - refunds)`` (the
    kit's definition); the export's own ``commission_paid`` is reported alongside as
    ``commission_reported`` when present. A row with a missing commission rate never
    counts as zero commission: see ``missing_commission``; the counts are returned and
    ``notes`` says what was done.

    Parameters
    ----------
    df : DataFrame
        A canonical frame of one site (sites are never pooled: different currencies
        and fees). Needs ``site``, ``commission_rate``, ``impressions``, ``clicks``,
        ``orders``, ``gmv``; ``refunds``, ``sample_cost`` and ``flat_fee`` count as 0
        when absent.
    product_cost_rate : float, optional
        Unit cost as a fraction of price in [0, 1]; without it, contribution, profit and
        profit ROI are NaN.
    platform_fee_rate : float, optional
        Referral fee fraction; default: the site's fee in :data:`helpers.schema.SITES`.
    ads_spend : float
        Paid ads spend to add to the promotion cost (>= 0).
    refund_recovery : float
        Share of refunded units' product cost recovered, in [0, 1]; default 1 (every
        refunded unit restocked); see :func:`contribution`.
    missing_commission : str
        One of :data:`MISSING_COMMISSION`. "fallback" (default): a row without a rate
        uses its reported ``commission_paid``; when some row has neither, commission,
        promotion cost and every ROI are NaN. "exclude": such rows are left out of
        every sum. "raise": a ValueError naming the first rows.

    Returns
    -------
    dict
        ``site``, ``currency``, ``n_rows``, funnel sums and ratios (``impressions``,
        ``clicks``, ``orders``, ``gmv``, ``refunds``, ``net_gmv``, ``ctr``, ``cvr``,
        ``aov``, ``return_rate``), ``commission``, ``commission_reported``,
        ``sample_cost``, ``flat_fee``, ``ads_spend``, ``promotion_cost``,
        ``platform_fee_rate``, ``platform_fee``, ``product_cost_rate``,
        ``product_cost``, ``contribution``, ``profit``, ``gross_roi``, ``net_roi``,
        ``profit_roi``, ``refund_recovery``, ``n_missing_commission_rate`` (rows without
        a rate), ``n_commission_from_reported`` (of those, rows whose reported
        commission was used), ``n_commission_unknown`` (rows with neither; excluded
        under "exclude") and ``notes`` (plain sentences); plain Python values.

    Raises
    ------
    ValueError
        When the frame holds several sites (filter to one first, e.g.
        ``df[df.site == "US"]``), a site is unknown and no fee rate is given, or
        costs/rates are out of range.
    """
    site = _one_site(df)
    if missing_commission not in MISSING_COMMISSION:
        raise ParameterError(
            f"missing_commission = {missing_commission!r} is not accepted; accepted: "
            f"{list(MISSING_COMMISSION)}"
        )
    notes: list[str] = []
    df, per_row, counts = _row_commission(df, missing_commission, notes)
    if platform_fee_rate is None:
        if site not in SITES:
            raise ParameterError(
                f"unknown site {site!r} has no default platform fee; pass platform_fee_rate= "
                f"(known sites: {sorted(SITES)})"
            )
        platform_fee_rate = SITES[site].platform_fee_rate
    f = funnel(df)
    row = f.iloc[0]
    # a plain sum (not a NaN-skipping one): an unknown commission makes the total unknown
    commission = float(per_row.sum())
    samples = float(row["sample_cost"]) if "sample_cost" in f.columns else 0.0
    fees = float(row["flat_fee"]) if "flat_fee" in f.columns else 0.0
    cost = float(promotion_cost(commission, samples, fees, ads_spend))
    gmv, refunds = float(row["gmv"]), float(row["refunds"])
    contrib, product_cost, p_roi = _profit_figures(
        gmv, refunds, cost, product_cost_rate, platform_fee_rate, refund_recovery
    )
    n_missing, n_from_reported, n_unknown = counts
    return {
        "site": site,
        "currency": SITES[site].currency if site in SITES else None,
        "n_rows": int(row["n_rows"]),
        "impressions": int(row["impressions"]),
        "clicks": int(row["clicks"]),
        "orders": int(row["orders"]),
        "gmv": gmv,
        "refunds": refunds,
        "net_gmv": gmv - refunds,
        "ctr": float(row["ctr"]),
        "cvr": float(row["cvr"]),
        "aov": float(row["aov"]),
        "return_rate": float(row["return_rate"]),
        "commission": commission,
        "commission_reported": (
            float(row["commission_paid"]) if "commission_paid" in f.columns else float("nan")
        ),
        "sample_cost": samples,
        "flat_fee": fees,
        "ads_spend": float(ads_spend),
        "promotion_cost": cost,
        "platform_fee_rate": float(platform_fee_rate),
        "platform_fee": float(platform_fee_rate) * (gmv - refunds),
        "product_cost_rate": float("nan")
        if product_cost_rate is None
        else float(product_cost_rate),
        "product_cost": product_cost,
        "contribution": contrib,
        "profit": contrib - cost,
        "gross_roi": float(gross_roi(gmv, cost)),
        "net_roi": float(net_roi(gmv, refunds, cost)),
        "profit_roi": p_roi,
        "refund_recovery": float(refund_recovery),
        "n_missing_commission_rate": n_missing,
        "n_commission_from_reported": n_from_reported if missing_commission == "fallback" else 0,
        "n_commission_unknown": n_unknown,
        "notes": notes,
    }


def _one_site(df: pd.DataFrame) -> str:
    """The frame's only site (sites are never pooled: currencies and fees differ)."""
    if "site" not in df.columns or "commission_rate" not in df.columns:
        raise KeyError(
            "campaign_summary() needs the canonical columns 'site' and 'commission_rate'; "
            f"the frame has {list(df.columns)}"
        )
    sites = sorted(pd.Series(df["site"]).dropna().astype(str).unique())
    if len(sites) != 1:
        raise ParameterError(
            f"campaign_summary() works on one site at a time; the frame has sites {sites}. "
            "Filter first, e.g. df[df['site'] == 'US'] (sites are never pooled: currencies and "
            "fees differ)."
        )
    return sites[0]


def _row_commission(
    df: pd.DataFrame, missing_commission: str, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, tuple[int, int, int]]:
    """Each row's commission (``commission_rate * (gmv - refunds)``; a row without a
    rate uses its reported commission, else NaN), after the ``missing_commission``
    policy; and the counts (rows without a rate, of which from reported, unknown)."""
    rate_rows = pd.to_numeric(df["commission_rate"]).astype("float64")
    no_rate = rate_rows.isna().to_numpy()
    n_missing = int(no_rate.sum())
    reported = (
        pd.to_numeric(df["commission_paid"]).astype("float64").to_numpy(na_value=np.nan)
        if "commission_paid" in df.columns
        else np.full(len(df), np.nan)
    )
    n_from_reported = int((no_rate & ~np.isnan(reported)).sum())
    n_unknown = int((no_rate & np.isnan(reported)).sum())
    if n_missing and missing_commission == "raise":
        where = list(df.index[no_rate][:5])
        raise ParameterError(
            f"{n_missing} row(s) have no commission_rate (index {where}"
            f"{' ...' if n_missing > 5 else ''}); fill the rate in the export, or call "
            "campaign_summary(..., missing_commission='fallback' or 'exclude')"
        )
    if n_missing and missing_commission == "exclude":
        df = df[~no_rate]
        notes.append(
            f"{n_missing} row(s) without a commission rate were left out of every sum "
            "(missing_commission='exclude')."
        )
        if df.empty:
            raise ParameterError(
                "every row lacks a commission rate; fill commission_rate in the export"
            )
        rate_rows, reported = rate_rows[~no_rate], reported[~no_rate]
        no_rate = np.zeros(len(df), dtype=bool)
    elif n_missing:
        notes.append(
            f"{n_missing} row(s) have no commission rate: {n_from_reported} use the "
            "export's reported commission"
            + (
                f"; {n_unknown} have no reported commission either, so commission, promotion "
                "cost and ROI are unknown (NaN). Fill the rates, or pass "
                "missing_commission='exclude' to leave those rows out."
                if n_unknown
                else "."
            )
        )
    gmv_rows = df["gmv"].astype("float64").fillna(0.0)
    ref_rows = (
        df["refunds"].astype("float64").fillna(0.0) if "refunds" in df.columns else 0.0 * gmv_rows
    )
    per_row = np.asarray(
        commission_on_net(gmv_rows, ref_rows, rate_rows.fillna(0.0)), dtype="float64"
    )
    return df, np.where(no_rate, reported, per_row), (n_missing, n_from_reported, n_unknown)


def _profit_figures(
    gmv: float,
    refunds: float,
    cost: float,
    product_cost_rate: float | None,
    platform_fee_rate: float,
    refund_recovery: float,
) -> tuple[float, float, float]:
    """Contribution, product cost and profit ROI (NaN without a unit cost)."""
    if product_cost_rate is None:
        return float("nan"), float("nan"), float("nan")
    contrib = float(
        contribution(gmv, refunds, product_cost_rate, platform_fee_rate, refund_recovery)
    )
    product_cost = float(product_cost_rate) * (
        gmv - refunds + (1.0 - float(refund_recovery)) * refunds
    )
    p_roi = float(
        profit_roi(
            gmv,
            refunds,
            cost,
            product_cost_rate=product_cost_rate,
            platform_fee_rate=platform_fee_rate,
            refund_recovery=refund_recovery,
        )
    )
    return contrib, product_cost, p_roi
