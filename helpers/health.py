"""Data health: is an export complete and clean enough to trust the other reports?

Used by ``notebooks/01_data_health.ipynb``. Every function takes the canonical frame
(and, where rows were rejected, the load result) and returns a small table; the charts
live in :mod:`helpers.charts.health`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.metrics import funnel

__all__ = [
    "FUNNEL_STEPS",
    "coverage",
    "coverage_over_time",
    "data_issues",
    "funnel_steps",
    "rate_distributions",
    "rejection_reasons",
    "row_accounting",
]

FUNNEL_STEPS: tuple[str, ...] = ("impressions", "clicks", "orders")
"""Count steps of the affiliate funnel; money steps (GMV, refunds, net GMV) follow."""


def rejection_reasons(rejected: pd.DataFrame) -> pd.DataFrame:
    """Count rejected rows by reason.

    A row rejected for several reasons (``"orders > clicks; duplicate row"``) counts
    once under each, so the counts may add up to more than the rejected rows.

    Parameters
    ----------
    rejected : DataFrame
        The load result's ``.rejected`` frame, with a ``reason`` column.

    Returns
    -------
    DataFrame
        Columns ``reason`` and ``rows``, most frequent first.
    """
    if rejected is None or len(rejected) == 0 or "reason" not in rejected:
        return pd.DataFrame({"reason": pd.Series(dtype="string"), "rows": pd.Series(dtype="int64")})
    reasons = rejected["reason"].astype("string").str.split(";").explode().str.strip()
    # Reasons carry the offending value ("clicks > impressions (52 > 40)"): count by kind.
    kinds = reasons.str.replace(r"\s*[\(:].*$", "", regex=True)
    counts = kinds.value_counts().rename_axis("reason").reset_index(name="rows")
    counts["rows"] = counts["rows"].astype("int64")
    return counts


def row_accounting(loaded: Any) -> pd.DataFrame:
    """Rows read, kept and rejected (by reason) for a load result.

    Parameters
    ----------
    loaded : LoadResult
        What :func:`helpers.load.load_dataset` returned.

    Returns
    -------
    DataFrame
        ``stage`` and ``rows``: read, kept, rejected, then one line per reason
        (``rejected: <reason>``). Raises if read != kept + rejected.
    """
    summary = loaded.summary
    read, kept, rejected = (
        int(summary.rows_read),
        int(summary.rows_kept),
        int(summary.rows_rejected),
    )
    if read != kept + rejected:
        raise AssertionError(
            f"row accounting broken: read {read} != kept {kept} + rejected {rejected}"
        )
    rows = [("read", read), ("kept", kept), ("rejected", rejected)]
    reasons = rejection_reasons(loaded.rejected)
    rows += [(f"rejected: {r}", int(n)) for r, n in reasons.itertuples(index=False)]
    return pd.DataFrame(rows, columns=["stage", "rows"])


def coverage(df: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """How much data each group has: content rows, creators, impressions, clicks,
    orders, GMV and each group's share of the site's clicks.

    Parameters
    ----------
    df : DataFrame
        Canonical frame.
    by : str or sequence of str
        Grouping columns, e.g. ``["site", "category"]``. When ``site`` is among them,
        shares are within site (sites are never pooled).

    Returns
    -------
    DataFrame
        One row per group.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise KeyError(
            f"coverage: column(s) {missing} not in the data; available: {list(df.columns)}"
        )
    grouped = df.groupby(keys, observed=True, sort=True)
    table = grouped.agg(
        content=("clicks", "size"),
        creators=("creator_id", "nunique"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        orders=("orders", "sum"),
        gmv=("gmv", "sum"),
    ).reset_index()
    if "site" in keys and keys != ["site"]:
        site_clicks = table.groupby("site", observed=True)["clicks"].transform("sum")
    else:
        site_clicks = table["clicks"].sum()
    table["share_of_clicks"] = table["clicks"] / site_clicks
    return table


def coverage_over_time(df: pd.DataFrame, *, freq: str = "W-SUN") -> pd.DataFrame:
    """Content rows and clicks per period and site.

    Parameters
    ----------
    df : DataFrame
        Canonical frame with a ``date`` column.
    freq : str
        pandas period alias: ``"D"``, ``"W-SUN"`` (weeks Monday to Sunday), ``"M"`` (months).

    Returns
    -------
    DataFrame
        ``site``, ``period`` (start date), ``content``, ``clicks``, ``orders``; empty
        when the export has no dates.
    """
    if "date" not in df.columns or df["date"].isna().all():
        return pd.DataFrame(columns=["site", "period", "content", "clicks", "orders"])
    dated = df.loc[df["date"].notna(), ["site", "date", "clicks", "orders"]]
    period = dated["date"].dt.to_period(freq).dt.start_time.rename("period")
    out = (
        dated.groupby(["site", period], observed=True)
        .agg(content=("clicks", "size"), clicks=("clicks", "sum"), orders=("orders", "sum"))
        .reset_index()
    )
    return out


def funnel_steps(df: pd.DataFrame, *, by: str = "site") -> pd.DataFrame:
    """The funnel impressions -> clicks -> orders -> GMV -> refunds -> net GMV, per group,
    in long form for charts, with each step's rate from the previous one.

    Parameters
    ----------
    df : DataFrame
        Canonical frame.
    by : str
        Grouping column (``site`` by default: money is in site currency).

    Returns
    -------
    DataFrame
        ``by``, ``step``, ``value``, ``kind`` (count or money) and ``rate_from_previous``
        (CTR for clicks, CVR for orders, return rate for refunds).
    """
    table = funnel(df, by=by)
    rows = []
    for _, r in table.iterrows():
        steps = [
            ("impressions", r["impressions"], "count", np.nan),
            ("clicks", r["clicks"], "count", r["ctr"]),
            ("orders", r["orders"], "count", r["cvr"]),
            ("GMV", r["gmv"], "money", np.nan),
            ("refunds", r["refunds"], "money", r["return_rate"]),
            ("net GMV", r["gmv"] - r["refunds"], "money", np.nan),
        ]
        rows += [(r[by], s, float(v), k, float(rate)) for s, v, k, rate in steps]
    return pd.DataFrame(rows, columns=[by, "step", "value", "kind", "rate_from_previous"])


def rate_distributions(
    df: pd.DataFrame, *, min_impressions: int = 100, min_clicks: int = 20
) -> pd.DataFrame:
    """Content-level CTR, CVR and AOV in long form, each only where its denominator is
    large enough to mean something.

    Parameters
    ----------
    df : DataFrame
        Canonical frame.
    min_impressions : int
        CTR is shown for content with at least this many impressions.
    min_clicks : int
        CVR is shown for content with at least this many clicks (AOV: at least one order).

    Returns
    -------
    DataFrame
        ``site``, ``metric`` (CTR, CVR, AOV) and ``value``; ``.attrs["excluded"]`` counts
        the content left out of each metric for a small denominator.
    """
    parts = []
    excluded = {}
    specs = [
        ("CTR", "clicks", "impressions", min_impressions),
        ("CVR", "orders", "clicks", min_clicks),
        ("AOV", "gmv", "orders", 1),
    ]
    for metric, num, den, minimum in specs:
        keep = df[den] >= minimum
        excluded[metric] = int((~keep).sum())
        part = pd.DataFrame(
            {
                "site": df.loc[keep, "site"],
                "metric": metric,
                "value": df.loc[keep, num].to_numpy(dtype="float64")
                / df.loc[keep, den].to_numpy(dtype="float64"),
            }
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["metric"] = pd.Categorical(out["metric"], categories=["CTR", "CVR", "AOV"])
    out.attrs["excluded"] = excluded
    out.attrs["thresholds"] = {"CTR": min_impressions, "CVR": min_clicks, "AOV": 1}
    return out


def data_issues(df: pd.DataFrame, loaded: Any | None = None) -> pd.DataFrame:
    """What a seller should fix in their data, with how many rows each issue touches.

    Checks: rejected rows (by reason), orders with no GMV (samples shipped as 100 %
    discount orders distort AOV and order counts), content with no impressions, missing
    dates, creators without follower counts, sites or categories with very little data,
    AOV outliers, commission rates outside the usual 1-80 % band.

    Parameters
    ----------
    df : DataFrame
        Canonical frame (the kept rows).
    loaded : LoadResult, optional
        The load result, for the rejected rows.

    Returns
    -------
    DataFrame
        ``issue``, ``rows``, ``share`` of the kept rows and ``how_to_fix``; only issues
        that occur, most rows first.
    """
    n = max(len(df), 1)
    issues: list[tuple[str, int, str]] = []
    if loaded is not None:
        for reason, count in rejection_reasons(loaded.rejected).itertuples(index=False):
            issues.append(
                (
                    f"rejected: {reason}",
                    int(count),
                    "Open the rejected rows table (file and row numbers) and correct them in the "
                    "export, or re-export from Seller Center; they are left out of every report.",
                )
            )
    zero_gmv_orders = int(((df["orders"] > 0) & (df["gmv"] <= 0)).sum())
    if zero_gmv_orders:
        issues.append(
            (
                "orders with zero GMV (likely free samples)",
                zero_gmv_orders,
                "Samples appear as orders at a 100 % discount: remove them from the export or mark "
                "them, otherwise AOV is understated and CVR overstated.",
            )
        )
    no_impressions = int((df["impressions"] == 0).sum())
    if no_impressions:
        issues.append(
            (
                "content with zero impressions",
                no_impressions,
                "Videos that never showed the product carry no CTR information; check the export's "
                "date window (posted after it ended?) or the product link on the video.",
            )
        )
    if "date" in df.columns:
        missing_dates = int(df["date"].isna().sum())
        if missing_dates:
            issues.append(
                (
                    "missing post date",
                    missing_dates,
                    "Trends and backtests need a date: export with 'Post date' included.",
                )
            )
    else:
        issues.append(
            (
                "no date column",
                len(df),
                "Export with 'Post date' so that trends and backtests are possible.",
            )
        )
    if "followers" in df.columns:
        no_followers = int(df["followers"].isna().sum())
        if no_followers:
            issues.append(
                (
                    "creators without follower count",
                    no_followers,
                    "Tier cannot be derived without followers: add the creator export or a tier column.",
                )
            )
    for col, label in (("site", "site"), ("category", "category")):
        sizes = df.groupby(col, observed=True)["clicks"].sum()
        small = sizes[sizes < 200]
        for name, clicks in small.items():
            rows = int((df[col] == name).sum())
            issues.append(
                (
                    f"little data for {label} {name} ({int(clicks)} clicks)",
                    rows,
                    "Estimates for this group rest on too few clicks; treat them as anecdotes, "
                    "or pool it deliberately with a similar group.",
                )
            )
    with_orders = df["orders"] > 0
    if with_orders.any():
        aov = df.loc[with_orders, "gmv"] / df.loc[with_orders, "orders"]
        med = aov.groupby(df.loc[with_orders, "category"], observed=True).transform("median")
        outliers = int((aov > 10 * med).sum())
        if outliers:
            issues.append(
                (
                    "AOV more than 10x the category median",
                    outliers,
                    "Check for bulk or B2B orders, currency mix-ups or GMV in cents; they swing ROI.",
                )
            )
    odd_commission = int(((df["commission_rate"] < 0.01) | (df["commission_rate"] > 0.8)).sum())
    if odd_commission:
        issues.append(
            (
                "commission outside 1-80 %",
                odd_commission,
                "TikTok Shop commission rates lie between 1 % and 80 %: check the rate's unit "
                "(15 means 15 %, 1500 is the API's 1/10000 unit).",
            )
        )
    table = pd.DataFrame(issues, columns=["issue", "rows", "how_to_fix"])
    table.insert(2, "share", table["rows"] / n)
    return table.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)
