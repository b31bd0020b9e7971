"""Numbers for people: percentages, money in the site's currency, counts, ratios.

Every sentence the kit writes about a number goes through these functions, so that a
seller reads "12.3 %", "$1,234" or "£980.50", "1,234 orders" and "ROI 1.78" the same way
in the index, the console and the notebooks. They return plain text; Markdown callers
pass the result through :func:`md_money` (a dollar sign is math in Markdown) or
:func:`helpers.outputs.escape_markdown`.

A missing value (None, NaN) prints as an en dash, never as ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from helpers.i18n import header
from helpers.schema import SITES

__all__ = [
    "count",
    "currency_of",
    "header",
    "human",
    "is_missing",
    "md_money",
    "money",
    "number",
    "pct",
    "pvalue",
    "ratio",
    "signed_pct",
    "show",
]

MISSING = "–"


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA or text that is not a number."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def currency_of(site: str | None) -> str | None:
    """The ISO currency of a site code (``"UK"`` -> ``"GBP"``), None when unknown."""
    info = SITES.get(str(site).upper()) if site else None
    return info.currency if info else None


def _symbol(site: str | None, currency: str | None) -> tuple[str, str]:
    """(prefix, suffix) for money of this site/currency: a symbol when unambiguous."""
    info = SITES.get(str(site).upper()) if site else None
    cur = currency or (info.currency if info else None)
    if info is not None and info.currency == cur and info.symbol in ("$", "£", "€", "¥"):
        return info.symbol, ""
    if cur:
        return "", f" {cur}"
    return "", ""


def _sig(value: float, digits: int = 3) -> int:
    """Decimals that give about ``digits`` significant digits (at least 0, at most 4)."""
    if value == 0:
        return 0
    magnitude = int(math.floor(math.log10(abs(value))))
    return max(0, min(4, digits - 1 - magnitude))


def money(
    value: Any, site: str | None = None, currency: str | None = None, *, compact: bool = False
) -> str:
    """``$1,234`` / ``£980.50`` / ``1,234,567 IDR``: thousands separators, cents only
    below 1,000, the site's symbol (USD, GBP, EUR, JPY) or its currency code.

    Parameters
    ----------
    value : number
        Amount in the site's currency.
    site : str, optional
        Site code; gives the currency when ``currency`` is None.
    currency : str, optional
        ISO code, e.g. ``"GBP"``.
    compact : bool
        Thousands from 100,000 up, millions and billions as ``£477k``, ``576.1M IDR``,
        ``1.23B`` (KPI tiles have room for about seven characters).
    """
    if is_missing(value):
        return MISSING
    v = float(value)
    prefix, suffix = _symbol(site, currency)
    sign = "-" if v < 0 and round(abs(v), 2) > 0 else ""  # never "-$0.00"
    if compact and abs(v) >= 1e5:
        scale, unit = next((s, u) for s, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if abs(v) >= s)
        scaled = abs(v) / scale
        return f"{sign}{prefix}{scaled:,.{_sig(scaled, 4)}f}{unit}{suffix}"
    digits = 2 if abs(v) < 1000 else 0
    return f"{sign}{prefix}{abs(v):,.{digits}f}{suffix}"


def md_money(value: Any, site: str | None = None, currency: str | None = None) -> str:
    """:func:`money` for Markdown: the dollar sign escaped so it never starts math."""
    return money(value, site, currency).replace("$", "\\$")


def pct(value: Any, digits: int | None = None) -> str:
    """A fraction as a percentage: ``0.0593`` -> ``5.93 %`` (3 significant digits by
    default, at most one decimal above 10 %)."""
    if is_missing(value):
        return MISSING
    p = float(value) * 100
    if digits is None:
        digits = min(_sig(p), 1 if abs(p) >= 10 else 2)
        shown = f"{p:,.{digits}f}"
        if "." in shown:  # 15.0 % reads as 15 %
            shown = shown.rstrip("0").rstrip(".")
        return f"{shown} %"
    return f"{p:,.{digits}f} %"


def signed_pct(value: Any, digits: int = 0) -> str:
    """A lift as a signed percentage: ``1.5`` -> ``+150 %``, ``-0.12`` -> ``-12 %``."""
    if is_missing(value):
        return MISSING
    p = float(value) * 100
    shown = f"{p:+,.{digits}f}"
    if round(p, digits) == 0:  # -0.4 % rounds to zero: no sign ("-0 %" reads as a loss)
        shown = shown[1:]
    return f"{shown} %"


def number(value: Any) -> str:
    """A number of no particular kind: thousands separators from 1,000 up (no decimals),
    about three significant digits below; never scientific notation (``1.37e+06``)."""
    if is_missing(value):
        return MISSING
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    shown = f"{v:,.{_sig(v)}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown  # 0.0500 reads 0.05


def pvalue(value: Any) -> str:
    """A p- or q-value: ``0.0123`` -> ``0.012``, anything below 0.001 as ``< 0.001``
    (never ``5.12e-148``: past that point the digits say nothing a reader can use)."""
    if is_missing(value):
        return MISSING
    v = float(value)
    return (
        "< 0.001" if v < 0.001 else f"{v:.2g}" if v < 0.01 else f"{v:.3f}".rstrip("0").rstrip(".")
    )


def count(value: Any) -> str:
    """An integer with thousands separators: ``12345`` -> ``12,345``."""
    if is_missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def ratio(value: Any, digits: int = 2) -> str:
    """A ratio such as an ROI: ``1.7834`` -> ``1.78``."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


_YES_NO = {"en": ("yes", "no"), "zh": ("是", "否")}


def human(value: Any, lang: str = "en") -> str:
    """A setting for a table cell: a mapping as ``micro: 15, mid: 3``, a list joined with
    commas, None as an en dash, yes/no (是/否) for booleans, a fraction-like float as is,
    never a repr."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, dict):
        return ", ".join(f"{k}: {human(v, lang)}" for k, v in value.items()) or MISSING
    if isinstance(value, list | tuple | set):
        return ", ".join(human(v, lang) for v in value) or MISSING
    if isinstance(value, bool | np.bool_):
        yes, no = _YES_NO.get(lang, _YES_NO["en"])
        return yes if value else no
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def show(
    frame: Any,
    *,
    site: str | None = None,
    currency: str | None = None,
    max_rows: int = 20,
    lang: str = "en",
) -> Any:
    """A table for a report: human headers, no index column, numbers for people
    (percentages, money in the site's currency, thousands separators), the first
    ``max_rows`` rows (the full table is in the XLSX next to the CSV). Data text is
    escaped by the kit's Styler hook (:func:`helpers.outputs.escape_styler`).

    Parameters
    ----------
    frame : DataFrame
        The table (its index is dropped: reset it first to keep it as a column).
    site, currency : str, optional
        For money columns; a ``site`` column in the frame is used row by row instead.
    max_rows : int
        Rows shown.
    lang : {"en", "zh"}
        Language of the headers (Chinese headers from :data:`helpers.i18n.LABELS`).
    """
    from helpers.i18n import LABELS, check_lang
    from helpers.xlsx import column_kind

    lang = check_lang(lang)
    words = LABELS.get(lang, {})

    def title(name: Any) -> str:
        return words.get(str(name)) or header(name)

    df = frame.head(max_rows).reset_index(drop=True)
    per_row_site = "site" in df.columns
    shown = df.copy()
    for col in df.columns:
        kind = column_kind(str(col), df[col])
        if kind is None:
            shown[col] = df[col].map(lambda v: human(v, lang)).astype(object)
            continue
        if kind == "money" and per_row_site:
            shown[col] = [money(v, s, None) for v, s in zip(df[col], df["site"], strict=True)]
            continue
        fmt = {
            "percent": pct,
            "signed_percent": signed_pct,
            "decimal": ratio,
            "count": count,
            "pvalue": pvalue,
            "money": lambda v: money(v, site, currency),
            "number": number,
        }[kind]
        shown[col] = df[col].map(fmt).astype(object)
    shown.columns = [title(c) for c in df.columns]
    numeric = [title(c) for c in df.columns if column_kind(str(c), df[c]) is not None]
    return aligned(shown.style.hide(axis="index"), numeric)


def aligned(styler: Any, numeric: list[Any]) -> Any:
    """Numbers right-aligned, text (names, reasons) left-aligned, so that a long reason
    reads from its start and figures line up."""
    text = [c for c in styler.data.columns if c not in set(numeric)]
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
        heads = {c: [{"selector": "th", "props": [("text-align", "left")]}] for c in text}
        styler = styler.set_table_styles(heads, axis=0, overwrite=False)  # headers follow
    return styler
