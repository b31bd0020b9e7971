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

from helpers.schema import SITES

__all__ = [
    "count",
    "currency_of",
    "human",
    "is_missing",
    "md_money",
    "money",
    "pct",
    "ratio",
    "signed_pct",
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
        Millions and billions as ``576.1M IDR`` / ``1.23B`` (for KPI tiles).
    """
    if is_missing(value):
        return MISSING
    v = float(value)
    prefix, suffix = _symbol(site, currency)
    sign = "-" if v < 0 else ""
    if compact and abs(v) >= 1e6:
        scaled, unit = (abs(v) / 1e9, "B") if abs(v) >= 1e9 else (abs(v) / 1e6, "M")
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
    return f"{float(value) * 100:+,.{digits}f} %"


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


def human(value: Any) -> str:
    """A setting for a table cell: a mapping as ``micro: 15, mid: 3``, a list joined with
    commas, None as an en dash, a fraction-like float as is, never a repr."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, dict):
        return ", ".join(f"{k}: {human(v)}" for k, v in value.items()) or MISSING
    if isinstance(value, list | tuple | set):
        return ", ".join(human(v) for v in value) or MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)
