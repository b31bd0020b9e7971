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

from helpers.i18n import label, text, translate
from helpers.metrics import funnel

__all__ = [
    "FUNNEL_STEPS",
    "coverage",
    "coverage_over_time",
    "analyses_supported",
    "data_issues",
    "funnel_steps",
    "rate_distributions",
    "rejection_reasons",
    "row_accounting",
]

FUNNEL_STEPS: tuple[str, ...] = ("impressions", "clicks", "orders")
_COVERAGE_SUMS: tuple[str, ...] = ("impressions", "clicks", "orders", "gmv")
"""Count steps of the affiliate funnel; money steps (GMV, refunds, net GMV) follow."""


# The loader's rejection reasons (their kinds, without the row's values) in other
# languages, through helpers.i18n.translate; column names are translated inside them.
REASON_TEXT = {
    "en": {
        "duplicate": "duplicate row",
        "greater": "{a} > {b}",
        "not_number": "{column} not a number",
        "missing": "missing {column}",
        "unknown_site": "unknown site",
        "no_creator": "creator not in creators export",
        "no_product": "product not in products export",
        "negative": "negative {column}",
        "impressions": "impressions",
        "clicks": "clicks",
        "orders": "orders",
        "gmv": "gmv",
        "refunds": "refunds",
        "creator_id": "creator_id",
        "commission_rate": "commission_rate",
        "date": "date",
        "site": "site",
    },
    "zh": {
        "duplicate": "重复行",
        "greater": "{a} > {b}",
        "not_number": "{column}不是数字",
        "missing": "缺少{column}",
        "unknown_site": "未知站点",
        "no_creator": "达人不在达人表中",
        "no_product": "商品不在商品表中",
        "negative": "{column}为负数",
        "impressions": "曝光",
        "clicks": "点击",
        "orders": "订单",
        "gmv": "GMV",
        "refunds": "退款",
        "creator_id": "达人 ID",
        "commission_rate": "佣金率",
        "date": "日期",
        "site": "站点",
    },
}


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


def coverage(data: Any, by: str | Sequence[str]) -> pd.DataFrame:
    """How much data each group has: content rows, creators, impressions, clicks,
    orders, GMV and each group's share of the site's clicks.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or Spark DataFrame
        Canonical rows (summed on the engine, :mod:`helpers.reduce`).
    by : str or sequence of str
        Grouping columns, e.g. ``["site", "category"]``. When ``site`` is among them,
        shares are within site (sites are never pooled). Rows with a missing key are
        left out.

    Returns
    -------
    DataFrame
        One row per group.
    """
    from helpers.reduce import as_source, column_names, group_sums

    keys = [by] if isinstance(by, str) else list(by)
    columns = column_names(data)
    missing = [k for k in keys if k not in columns]
    if missing:
        raise KeyError(f"coverage: column(s) {missing} not in the data; available: {columns}")
    distinct = ["creator_id"] if "creator_id" in columns else []
    sums = [c for c in _COVERAGE_SUMS if c in columns]
    with as_source(data, [*keys, *distinct, *sums]) as src:
        table = group_sums(src, keys, sums, distinct=distinct)
    table = table.rename(columns={"n_rows": "content", "creator_id": "creators"})
    table = table[[*keys, "content", *(["creators"] if distinct else []), *sums]]
    share_of = next(c for c in ("clicks", "impressions", "content") if c in table.columns)
    if "site" in keys and keys != ["site"]:
        site_total = table.groupby("site", observed=True)[share_of].transform("sum")
    else:
        site_total = table[share_of].sum()
    table[f"share_of_{share_of}"] = table[share_of] / site_total
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
    sums = [c for c in ("clicks", "orders") if c in df.columns]
    if "date" not in df.columns or df["date"].isna().all():
        return pd.DataFrame(columns=["site", "period", "content", *sums])
    dated = df.loc[df["date"].notna(), ["site", "date", *sums]]
    period = dated["date"].dt.to_period(freq).dt.start_time.rename("period")
    aggs = {"content": ("site", "size"), **{c: (c, "sum") for c in sums}}
    return dated.groupby(["site", period], observed=True).agg(**aggs).reset_index()


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
        for step, column, kind, rate in _FUNNEL_CHART_STEPS:
            if column in table.columns:
                value = float(r[column])
                rate_value = float(r[rate]) if rate in table.columns else np.nan
                rows.append((r[by], step, value, kind, rate_value))
    return pd.DataFrame(rows, columns=[by, "step", "value", "kind", "rate_from_previous"])


_FUNNEL_CHART_STEPS: tuple[tuple[str, str, str, str | None], ...] = (
    ("impressions", "impressions", "count", None),
    ("clicks", "clicks", "count", "ctr"),
    ("orders", "orders", "count", "cvr"),
    ("GMV", "gmv", "money", None),
    ("refunds", "refunds", "money", "return_rate"),
    ("net GMV", "net_gmv", "money", None),
)


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
        if num not in df.columns or den not in df.columns:
            continue
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
    columns = {"site": pd.Series(dtype="category"), "metric": [], "value": []}
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns)
    out["metric"] = pd.Categorical(out["metric"], categories=["CTR", "CVR", "AOV"])
    out.attrs["excluded"] = excluded
    out.attrs["thresholds"] = {"CTR": min_impressions, "CVR": min_clicks, "AOV": 1}
    return out


def data_issues(df: pd.DataFrame, loaded: Any | None = None, *, lang: str = "en") -> pd.DataFrame:
    """What a seller should fix in their data, with how many rows each issue touches.

    Checks: rejected rows (by reason), orders with no GMV (samples shipped as 100 %
    discount orders distort AOV and order counts), content with no impressions, missing
    dates, creators without follower counts, sites or categories with very little data,
    AOV outliers within site and category, commission rates outside the usual 1-80 %
    band. Each check runs only when the data has the columns it needs.

    Parameters
    ----------
    df : DataFrame
        Canonical frame (the kept rows).
    loaded : LoadResult, optional
        The load result, for the rejected rows.
    lang : {"en", "zh"}
        Language of the ``issue`` and ``how_to_fix`` texts.

    Returns
    -------
    DataFrame
        ``site`` (empty for rejected rows, which may have no readable site), ``issue``,
        ``rows``, ``share`` of the site's kept rows and ``how_to_fix``; only issues that
        occur, most rows first. Every check runs within one site.
    """
    issues: list[tuple[str, str, int, str]] = []
    if loaded is not None:
        for reason, count in rejection_reasons(loaded.rejected).itertuples(index=False):
            issues.append(
                (
                    "",  # a rejected row may have no readable site
                    text(_TEXT, "rejected", lang, reason=translate(reason, REASON_TEXT, lang)),
                    int(count),
                    text(_TEXT, "rejected_fix", lang),
                )
            )
    # Every check runs within one site: sites differ in currency, prices and volume, so
    # an outlier or a thin category is judged against its own site only.
    if "site" in df.columns and len(df):
        parts = list(df.groupby(df["site"].astype(str), sort=True, observed=True))
    else:
        parts = [("", df)]
    sizes: dict[str, int] = {}
    for site, part in parts:
        sizes[site] = len(part)
        for check in _CHECKS:
            issues.extend((site, *issue) for issue in check(part, lang))
    table = pd.DataFrame(issues, columns=["site", "issue", "rows", "how_to_fix"])
    # share of the kept rows of the issue's site (of all kept rows for rejections)
    base = table["site"].map(sizes).fillna(len(df)).clip(lower=1)
    table.insert(3, "share", table["rows"] / base)
    return table.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


_Issue = tuple[str, int, str]

# The issues and their fixes, per report language (helpers.i18n).
_TEXT = {
    "en": {
        "rejected": "rejected: {reason}",
        "rejected_fix": "Open the rejected rows table (file and row numbers) and correct them in the "
        "export, or re-export from Seller Center; they are left out of every report.",
        "zero_gmv": "orders with zero GMV (likely free samples)",
        "zero_gmv_fix": "Samples appear as orders at a 100 % discount: remove them from the export or "
        "mark them, otherwise AOV is understated and CVR overstated.",
        "no_impressions": "content with zero impressions",
        "no_impressions_fix": "Videos that never showed the product carry no CTR information; check the "
        "export's date window (posted after it ended?) or the product link on the video.",
        "no_date_column": "no date column",
        "no_date_column_fix": "Export with 'Post date' so that trends and backtests are possible.",
        "missing_date": "missing post date",
        "missing_date_fix": "Trends and backtests need a date: export with 'Post date' included.",
        "followers": "creators without follower count",
        "followers_fix": "Tier cannot be derived without followers: add the creator export or a tier column.",
        "small": "little data for {col} {name} ({clicks} clicks)",
        "small_fix": "Estimates for this group rest on too few clicks; treat them as anecdotes, "
        "or pool it deliberately with a similar group.",
        "aov": "AOV more than 10x the {where} median",
        "aov_fix": "Check for bulk or B2B orders, currency mix-ups or GMV in cents; they swing ROI.",
        "and": " and ",
        "data": "data",
        "commission": "commission outside 1-80 %",
        "commission_fix": "TikTok Shop commission rates lie between 1 % and 80 %: check the rate's unit "
        "(15 means 15 %, 1500 is the API's 1/10000 unit; set commission_scale in data.yaml).",
    },
    "zh": {
        "rejected": "被剔除：{reason}",
        "rejected_fix": "打开“被剔除的行”表（含文件名和行号），在导出文件里改正，或从商家后台重新导出；"
        "这些行不会进入任何报告。",
        "zero_gmv": "GMV 为 0 的订单（多半是免费样品）",
        "zero_gmv_fix": "样品会以 100% 折扣的订单出现：从导出中删除或单独标记，否则客单价被低估、转化率被高估。",
        "no_impressions": "曝光为 0 的内容",
        "no_impressions_fix": "从没展示过商品的视频没有任何点击率信息；检查导出的日期范围（是否在结束后才发布？）"
        "或视频上的商品链接。",
        "no_date_column": "没有日期列",
        "no_date_column_fix": "导出时勾选“发布日期”，才能看趋势、做回测。",
        "missing_date": "缺少发布日期",
        "missing_date_fix": "趋势和回测都需要日期：导出时请包含“发布日期”。",
        "followers": "缺少粉丝数的达人",
        "followers_fix": "没有粉丝数就无法划分达人等级：补上达人导出表，或加一列达人等级。",
        "small": "{col} {name} 数据太少（{clicks} 次点击）",
        "small_fix": "这一组的估计只靠很少的点击，只能当个案参考；或有意识地与相近的组合并分析。",
        "aov": "客单价超过{where}中位数的 10 倍",
        "aov_fix": "检查是否有批发/B2B 订单、币种混用或 GMV 以“分”为单位；这些会大幅拉动 ROI。",
        "and": "和",
        "data": "整体",
        "commission": "佣金率不在 1%-80% 之间",
        "commission_fix": "TikTok Shop 的佣金率在 1% 到 80% 之间：检查佣金率的单位（15 表示 15%，"
        "1500 是 API 的万分之一单位；在 data.yaml 中设置 commission_scale）。",
    },
}


def _has(df: pd.DataFrame, *columns: str) -> bool:
    return all(c in df.columns for c in columns)


def _zero_gmv_orders(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "orders", "gmv"):
        return []
    rows = int(((df["orders"] > 0) & (df["gmv"] <= 0)).sum())
    return (
        [(text(_TEXT, "zero_gmv", lang), rows, text(_TEXT, "zero_gmv_fix", lang))] if rows else []
    )


def _no_impressions(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "impressions"):
        return []
    rows = int((df["impressions"] == 0).sum())
    issue = (text(_TEXT, "no_impressions", lang), rows, text(_TEXT, "no_impressions_fix", lang))
    return [issue] if rows else []


def _dates(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "date"):
        return [
            (text(_TEXT, "no_date_column", lang), len(df), text(_TEXT, "no_date_column_fix", lang))
        ]
    rows = int(df["date"].isna().sum())
    return (
        [(text(_TEXT, "missing_date", lang), rows, text(_TEXT, "missing_date_fix", lang))]
        if rows
        else []
    )


def _followers(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "followers"):
        return []
    rows = int(df["followers"].isna().sum())
    return (
        [(text(_TEXT, "followers", lang), rows, text(_TEXT, "followers_fix", lang))] if rows else []
    )


def _small_groups(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "clicks"):
        return []
    out: list[_Issue] = []
    for col in ("site", "category"):
        if col not in df.columns:
            continue
        sizes = df.groupby(col, observed=True)["clicks"].sum()
        for name, clicks in sizes[sizes < 200].items():
            out.append(
                (
                    text(_TEXT, "small", lang, col=label(col, lang), name=name, clicks=int(clicks)),
                    int((df[col] == name).sum()),
                    text(_TEXT, "small_fix", lang),
                )
            )
    return out


def _aov_outliers(df: pd.DataFrame, lang: str) -> list[_Issue]:
    """AOV far above its own site's (and category's) median: sites differ in currency."""
    if not _has(df, "orders", "gmv"):
        return []
    with_orders = df["orders"] > 0
    if not with_orders.any():
        return []
    keys = [c for c in ("site", "category") if c in df.columns]
    aov = df.loc[with_orders, "gmv"] / df.loc[with_orders, "orders"]
    groups = [df.loc[with_orders, k] for k in keys]
    med = aov.groupby(groups, observed=True).transform("median") if groups else aov.median()
    rows = int((aov > 10 * med).sum())
    where = text(_TEXT, "and", lang).join(label(k, lang) for k in keys) or text(_TEXT, "data", lang)
    return (
        [(text(_TEXT, "aov", lang, where=where), rows, text(_TEXT, "aov_fix", lang))]
        if rows
        else []
    )


def _odd_commission(df: pd.DataFrame, lang: str) -> list[_Issue]:
    if not _has(df, "commission_rate"):
        return []
    rate = df["commission_rate"]
    rows = int(((rate < 0.01) | (rate > 0.8)).sum())
    return (
        [(text(_TEXT, "commission", lang), rows, text(_TEXT, "commission_fix", lang))]
        if rows
        else []
    )


_CHECKS = (
    _zero_gmv_orders,
    _no_impressions,
    _dates,
    _followers,
    _small_groups,
    _aov_outliers,
    _odd_commission,
)


def analyses_supported(df: pd.DataFrame, *, lang: str = "en", **params: Any) -> pd.DataFrame:
    """Which analyses the data supports, and for the others what to add.

    Parameters
    ----------
    df : DataFrame
        Canonical frame.
    lang : {"en", "zh"}
        Language of ``what_is_missing``.
    **params
        Analysis parameters (``formula`` for conversion).

    Returns
    -------
    DataFrame
        ``analysis``, ``supported`` (bool) and ``what_is_missing`` (how to supply it).
    """
    from helpers.requirements import ANALYSES, unmet

    rows = []
    for key, need in ANALYSES.items():
        if key in ("primer", "health"):
            continue
        message = unmet(key, df.columns, lang=lang, **params)
        rows.append((need.title, message is None, message or ""))
    return pd.DataFrame(rows, columns=["analysis", "supported", "what_is_missing"])
