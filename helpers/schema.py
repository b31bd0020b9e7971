"""The canonical frame: columns, dtypes, tiers, sites and export header aliases.

One row of the canonical frame is one piece of content (video, LIVE or showcase) by
one creator promoting one product on one site over one period. Every helper works on
this frame; :mod:`helpers.load` turns Seller Center exports into it and
:mod:`helpers.synth` generates it.

Header aliases cover Seller Center / Affiliate Center exports in English (old and new
names: "Affiliate-attributed GMV" became "Creator-attributed GMV" in 2026) and in
Chinese. Matching is tolerant: see :func:`normalise_header`.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.defaults import DEFAULTS
from helpers.errors import ParameterError

__all__ = [
    "CANONICAL_COLUMNS",
    "COUNT_COLUMNS",
    "CURRENCY_SIGNS",
    "DEFAULT_TIER_THRESHOLDS",
    "HEADER_ALIASES",
    "KEY_COLUMNS",
    "MEASURE_COLUMNS",
    "MONEY_COLUMNS",
    "NEEDED_BY",
    "PROVENANCE_COLUMNS",
    "REQUIRED_COLUMNS",
    "VALUE_REQUIRED_COLUMNS",
    "SITES",
    "TIERS",
    "TIER_DTYPE",
    "Column",
    "SiteInfo",
    "canonical_name",
    "identifier_name",
    "normalise_header",
    "tier_from_followers",
]

TIERS: tuple[str, ...] = ("nano", "micro", "mid", "macro", "mega")
"""Creator tiers, smallest first."""

TIER_DTYPE = pd.CategoricalDtype(list(TIERS), ordered=True)

DEFAULT_TIER_THRESHOLDS: dict[str, int] = dict(DEFAULTS.tier_thresholds)
"""Lower follower bound of each tier above nano: nano < 10k <= micro < 100k <= mid
< 500k <= macro < 1M <= mega."""


@dataclass(frozen=True)
class SiteInfo:
    """A TikTok Shop marketplace."""

    code: str
    name: str
    currency: str
    symbol: str
    #: Referral fee on the paid amount (domain.md: US 6 %, UK 9 %; others are
    #: illustrative defaults the user should override from their own contract).
    platform_fee_rate: float
    #: Conventional thousands and decimal separators in that site's exports.
    thousands_sep: str = ","
    decimal_sep: str = "."


SITES: dict[str, SiteInfo] = {
    s.code: s
    for s in [
        SiteInfo("US", "United States", "USD", "$", 0.06),
        SiteInfo("UK", "United Kingdom", "GBP", "£", 0.09),
        SiteInfo("ID", "Indonesia", "IDR", "Rp", 0.05, ".", ","),
        SiteInfo("TH", "Thailand", "THB", "฿", 0.05),
        SiteInfo("VN", "Vietnam", "VND", "₫", 0.05, ".", ","),
        SiteInfo("MY", "Malaysia", "MYR", "RM", 0.05),
        SiteInfo("PH", "Philippines", "PHP", "₱", 0.05),
        SiteInfo("SG", "Singapore", "SGD", "S$", 0.05),
        SiteInfo("MX", "Mexico", "MXN", "MX$", 0.06),
        SiteInfo("ES", "Spain", "EUR", "€", 0.09, ".", ","),
        SiteInfo("DE", "Germany", "EUR", "€", 0.09, ".", ","),
        SiteInfo("FR", "France", "EUR", "€", 0.09, " ", ","),
        SiteInfo("IT", "Italy", "EUR", "€", 0.09, ".", ","),
        SiteInfo("JP", "Japan", "JPY", "¥", 0.08),
        SiteInfo("BR", "Brazil", "BRL", "R$", 0.06, ".", ","),
    ]
}
"""Known site codes. ``GB`` is accepted as an alias of ``UK`` by the loader."""

CURRENCY_SIGNS: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "SGD", "MXN", "AUD", "CAD", "HKD", "NZD", "TWD"}),
    "US$": frozenset({"USD"}),
    "S$": frozenset({"SGD"}),
    "MX$": frozenset({"MXN"}),
    "R$": frozenset({"BRL"}),
    "A$": frozenset({"AUD"}),
    "C$": frozenset({"CAD"}),
    "HK$": frozenset({"HKD"}),
    "NT$": frozenset({"TWD"}),
    "£": frozenset({"GBP"}),
    "€": frozenset({"EUR"}),
    "¥": frozenset({"JPY", "CNY"}),
    "RP": frozenset({"IDR"}),
    "RM": frozenset({"MYR"}),
    "฿": frozenset({"THB"}),
    "₫": frozenset({"VND"}),
    "₱": frozenset({"PHP"}),
    "₩": frozenset({"KRW"}),
    "₹": frozenset({"INR"}),
    "RMB": frozenset({"CNY"}),
    **{
        code: frozenset({code})
        for code in (
            *sorted({s.currency for s in SITES.values()}),
            *("AUD", "CAD", "CNY", "HKD", "INR", "KRW", "NZD", "TWD"),
        )
    },
}
"""Currency signs and ISO codes seen in money cells (upper case) -> the currencies each
can stand for. ``"$"`` is shared by several dollar and peso currencies; a money cell
whose sign cannot stand for the expected currency (the row's site currency, or the
``currency`` option) is rejected by the loader as ``"currency mismatch"``."""


@dataclass(frozen=True)
class Column:
    """A canonical column: name, pandas dtype and meaning.

    ``required`` means the loader refuses a file without it (only ``site``, which the
    ``site`` option can also give); every other column is optional and, when absent
    from the file, absent from the frame. ``needed_by`` names the analyses that use
    the column, for messages that say what a missing column costs.
    """

    name: str
    dtype: str
    required: bool
    meaning: str
    needed_by: tuple[str, ...] = ()


_CONV = "conversion drivers"
_ROI = "ROI estimate"
_LIFT = "CTR lift"
_CARD = "creator scorecard"

CANONICAL_COLUMNS: dict[str, Column] = {
    c.name: c
    for c in [
        Column(
            "site",
            "category",
            True,
            "marketplace code: US, UK, ID, ...",
            (_CONV, _ROI, _LIFT, _CARD),
        ),
        Column("date", "datetime64[s]", False, "start of the period", ("weekly monitor",)),
        Column("creator_id", "category", False, "creator handle or id", (_CONV, _ROI, _CARD)),
        Column(
            "followers",
            "Int64",
            False,
            "follower count (optional when tier is given)",
            ("tiers by followers",),
        ),
        Column("tier", "tier", False, "nano < micro < mid < macro < mega", (_CONV, _ROI, _CARD)),
        Column("category", "category", False, "product category", (_CONV, _ROI, _LIFT)),
        Column("product_id", "category", False, "product id"),
        Column("content_id", "category", False, "video / LIVE id"),
        Column("content_type", "category", False, "video, live, showcase"),
        Column(
            "commission_rate", "float64", False, "fraction, 0.15 for 15 %", (_CONV, _ROI, _CARD)
        ),
        Column("impressions", "int64", False, "product impressions", (_LIFT,)),
        Column("clicks", "int64", False, "product clicks", (_LIFT, _CONV, _ROI)),
        Column("orders", "int64", False, "attributed orders", (_CONV, _ROI, _CARD)),
        Column("items_sold", "Int64", False, "attributed items sold"),
        Column("video_views", "Int64", False, "video views (not clicks!)"),
        Column("gmv", "float64", False, "attributed GMV in site currency", (_ROI, _CARD)),
        Column("refunds", "float64", False, "refunded amount; 0 when absent", (_ROI, _CARD)),
        Column("commission_paid", "float64", False, "estimated or actual commission"),
        Column("sample_cost", "float64", False, "cost of samples shipped", (_ROI,)),
        Column("flat_fee", "float64", False, "flat fees paid to the creator", (_ROI,)),
    ]
}
"""Canonical columns in their canonical order."""

REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c, col in CANONICAL_COLUMNS.items() if col.required)
"""Columns the loader requires (``site``: a column or the ``site`` option)."""

MEASURE_COLUMNS: tuple[str, ...] = ("impressions", "clicks", "orders", "gmv")
"""The loader requires at least one of these: without any, there is nothing to analyse."""

VALUE_REQUIRED_COLUMNS: tuple[str, ...] = (
    "site",
    "creator_id",
    "tier",
    "category",
    "commission_rate",
    "impressions",
    "clicks",
    "orders",
    "gmv",
)
"""Columns whose cells must be filled WHEN the column is present: a row with an empty
cell in one of them is rejected ("missing clicks"); absent columns are not checked."""

KEY_COLUMNS: tuple[str, ...] = (
    "site",
    "creator_id",
    "product_id",
    "content_id",
    "category",
    "content_type",
    "tier",
)
"""Key columns; they come out of the loader as categoricals (tier ordered)."""

PROVENANCE_COLUMNS: tuple[str, ...] = ("source_file", "source_row")
"""Added by the loader to every kept row: the file and its row number as Excel shows
it (1-based, counting title and header rows). No extra column may take these names."""

NEEDED_BY: dict[str, tuple[str, ...]] = {
    name: col.needed_by for name, col in CANONICAL_COLUMNS.items() if col.needed_by
}
"""Canonical column -> the analyses that use it (for "what is missing" messages)."""

COUNT_COLUMNS: tuple[str, ...] = ("impressions", "clicks", "orders", "items_sold", "video_views")
MONEY_COLUMNS: tuple[str, ...] = ("gmv", "refunds", "commission_paid", "sample_cost", "flat_fee")

# Canonical name -> header spellings seen in exports. English first (new, then old
# names), then Chinese. Matching goes through normalise_header, so case, spaces and
# punctuation do not matter. A canonical name always matches itself.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "site": ("Site", "Region", "Marketplace", "Country", "站点", "国家/地区", "地区"),
    "date": (
        "Date",
        "Post date",
        "Post time",
        "Period start",
        "Time Created",
        "发布日期",
        "发布时间",
        "日期",
    ),
    "creator_id": (
        "Creator name",
        "Creator username",
        "Creator Username",
        "Creator ID",
        "Creator handle",
        "Affiliate name",
        "达人名称",
        "达人昵称",
        "达人用户名",
        "达人ID",
    ),
    "followers": ("Followers", "Affiliate followers", "Creator followers", "粉丝数", "达人粉丝数"),
    "tier": ("Tier", "Creator tier", "达人等级", "达人层级"),
    "category": ("Category", "Product category", "类目", "商品类目", "品类"),
    "product_id": ("Product ID", "商品 ID", "商品ID"),
    "content_id": ("Video ID", "Content ID", "LIVE ID", "视频 ID", "视频ID", "内容ID"),
    "content_type": ("Content type", "Content Type", "内容类型"),
    "commission_rate": (
        "Commission rate",
        "Standard commission rate",
        "Commission",
        "佣金率",
        "佣金比例",
        "标准佣金率",
    ),
    "impressions": (
        "Video product impressions",
        "Product impressions",
        "Impressions",
        "视频商品曝光次数",
        "商品曝光次数",
        "曝光次数",
    ),
    "clicks": (
        "Video product clicks",
        "Product clicks",
        "Clicks",
        "视频商品点击量",
        "商品点击量",
        "点击量",
        "点击次数",
    ),
    "orders": (
        "Video-attributed orders",
        "Attributed orders",
        "Orders",
        "归因于视频的订单数",
        "归因订单数",
        "订单数",
    ),
    "items_sold": (
        "Video-attributed items sold",
        "Creator-attributed items sold",
        "Affiliate-attributed items sold",
        "Items sold",
        "视频归因成交件数",
        "成交件数",
    ),
    "video_views": ("Video views", "Views", "视频播放量", "播放量"),
    "gmv": (
        "Creator video-attributed GMV",
        "Affiliate video-attributed GMV",
        "Creator-attributed GMV",
        "Affiliate-attributed GMV",
        "GMV",
        "联盟视频归因GMV",
        "达人归因GMV",
        "视频归因GMV",
        "联盟归因GMV",
    ),
    "refunds": ("Refunds", "Refund amount", "退款金额", "退款"),
    "commission_paid": (
        "Est. commission",
        "Estimated commission",
        "Actual commission payment",
        "Est. commission payment",
        "预计佣金",
        "实际佣金",
    ),
    "sample_cost": ("Sample cost", "Samples cost", "样品成本", "样品费用"),
    "flat_fee": ("Est. flat fee", "Flat fee", "预计固定费用", "固定费用", "坑位费"),
}

_HEADER_STRIP = re.compile(r"[\s._\-/()（）:：·]+")


def normalise_header(header: object) -> str:
    """Return the comparison key of a header: NFKC, casefolded, without spaces or
    punctuation (so ``" Video  ID "``, ``"video_id"`` and ``"视频 ID"`` vs ``"视频ID"``
    compare equal).

    Parameters
    ----------
    header : object
        A column label as read from a file.

    Returns
    -------
    str
        The normalised key.
    """
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    return _HEADER_STRIP.sub("", text)


_ALIAS_INDEX: dict[str, str] = {}
for _canon, _aliases in HEADER_ALIASES.items():
    for _alias in (_canon, *_aliases):
        _ALIAS_INDEX.setdefault(normalise_header(_alias), _canon)


def canonical_name(header: object, column_map: Mapping[str, str] | None = None) -> str | None:
    """Return the canonical column a header stands for, or None.

    Parameters
    ----------
    header : object
        A column label from an export.
    column_map : mapping, optional
        User mapping ``{export header: canonical name}``; it wins over the aliases and
        is matched with the same tolerance.

    Returns
    -------
    str or None
        The canonical name, or None when the header is not known.
    """
    key = normalise_header(header)
    if column_map:
        for src, dst in column_map.items():
            if normalise_header(src) == key:
                return dst
    return _ALIAS_INDEX.get(key)


_NOT_WORD = re.compile(r"[\W_]+")


def identifier_name(header: object, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """Return the name an extra (non-canonical) column is kept under.

    NFKC, lower case, runs of characters that are not letters or digits become ``_``,
    stripped of leading and trailing ``_``; a name starting with a digit (or empty)
    gets a ``col_`` prefix and a Python keyword a trailing ``_``, so that the name
    works in formulas (``C(age) + C(gender)``). A name in ``taken`` (canonical
    columns, provenance columns, names already given) gets a numeric suffix
    (``gmv_2``).

    Parameters
    ----------
    header : object
        The original header.
    taken : set of str, optional
        Names that may not be used.

    Returns
    -------
    str
        A valid Python identifier not in ``taken``.
    """
    text = unicodedata.normalize("NFKC", str(header)).lower()
    name = _NOT_WORD.sub("_", text).strip("_")
    if not name or not name.isidentifier():
        name = f"col_{name}" if name else "col"
    if keyword.iskeyword(name):
        name += "_"
    base, k = name, 2
    while name in taken:
        name = f"{base}_{k}"
        k += 1
    return name


def tier_from_followers(
    followers: pd.Series | Sequence[float] | np.ndarray,
    thresholds: Mapping[str, int] | None = None,
) -> pd.Series:
    """Assign creator tiers from follower counts.

    Parameters
    ----------
    followers : array-like
        Follower counts; missing values give a missing tier.
    thresholds : mapping, optional
        Lower bound of each tier above nano, e.g. ``{"micro": 10_000, "mid": 100_000,
        "macro": 500_000, "mega": 1_000_000}`` (the default). Bounds must increase.

    Returns
    -------
    pandas.Series
        Ordered categorical with categories :data:`TIERS`.

    Raises
    ------
    ValueError
        If a tier name is unknown or the bounds do not increase.
    """
    th = dict(DEFAULT_TIER_THRESHOLDS if thresholds is None else thresholds)
    unknown = set(th) - set(TIERS[1:])
    if unknown:
        raise ParameterError(
            f"unknown tier(s) in thresholds: {sorted(unknown)}; accepted: {list(TIERS[1:])}"
        )
    if set(th) != set(TIERS[1:]):
        missing = [t for t in TIERS[1:] if t not in th]
        raise ParameterError(
            f"thresholds must give a lower bound for every tier above nano; missing {missing}"
        )
    bounds = [th[t] for t in TIERS[1:]]
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
        raise ParameterError(f"tier thresholds must increase: {th}")
    values = pd.to_numeric(pd.Series(followers), errors="coerce").astype("float64")
    codes = np.searchsorted(np.asarray(bounds, dtype="float64"), values.to_numpy(), side="right")
    codes = np.where(np.isnan(values.to_numpy()), -1, codes)
    index = followers.index if isinstance(followers, pd.Series) else None
    return pd.Series(pd.Categorical.from_codes(codes, dtype=TIER_DTYPE), index=index, name="tier")
