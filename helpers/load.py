"""Read Seller Center / Affiliate Center exports into the canonical frame.

Three entry points, from the most to the least convenient:

* :func:`load_dataset` - what notebooks call: one export file, or a folder holding a
  video export (one or several files) and optionally a creator and a product export.
* :func:`assemble` - join a video export to a creator export (followers, tier) and a
  product export (category, commission rate).
* :func:`read_export` - one self-contained export (CSV, XLSX, Parquet or a DataFrame).

Each returns a :class:`LoadResult`: ``.data`` (the canonical frame of
:mod:`helpers.schema`), ``.rejected`` (the offending ORIGINAL input rows, with ``file``,
``row`` - the 1-based row number as Excel shows it, counting title and header rows - and
``reason``) and ``.summary`` (row accounting, encoding, header row, column mapping,
ignored columns). Nothing is dropped silently: ``rows_read == rows_kept + rows_rejected``
always holds (checked when the summary is built). Input files are only read.

Parsing rules (each one is a public, separately tested function):

* missing tokens: ``""``, ``"--"``, ``"-"``, ``"N/A"``, ``"null"``, ... (see
  :data:`MISSING_TOKENS`) and whitespace are missing (:func:`is_missing`);
* money and counts (:func:`parse_money`, :func:`parse_count`): currency symbols and
  codes (``$``, ``£``, ``Rp``, ``€``, ``RM``, ...) and spaces are ignored; when a value
  has both ``,`` and ``.`` the last one is the decimal separator; a separator that occurs
  more than once is a thousands separator; a single separator followed by exactly three
  digits (``"1.234"``) is read with the site's convention
  (:data:`helpers.schema.SITES`: ``.`` is the thousands separator in ID, VN and the EU
  sites) for money, and always as a thousands separator for counts (counts are whole);
  any other single separator is the decimal one. Counts and followers accept the
  abbreviations ``K``, ``M``, ``B``, ``万`` (1e4) and ``亿`` (1e8);
* rates (:func:`parse_rate`): ``"12.5%"`` is 0.125 (per cell); a plain number <= 1 is a
  fraction; plain numbers > 1 in a column are API units of 1/10000 when the largest of
  them is at least 100 (TikTok's API gives 100-8000 for 1-80 %), otherwise percentage points
  (``15`` -> 0.15, because an API value below 100 would be a rate under the 1 % minimum);
* dates (:func:`parse_dates`): ``date_format`` wins; ISO and year-first dates
  (``2024-01-31``, ``2024/1/31``, ``2024年1月31日``) are parsed; day-first or month-first
  slash dates are inferred only when some value proves the order (a first field > 12
  means DD/MM, a second field > 12 means MM/DD), else :class:`ExportError` asks for
  ``date_format``; Excel serial day numbers are accepted in XLSX files.

Each rejection reason reads ``"<kind> (<detail>)"``, e.g. ``"clicks > impressions (120 >
100)"`` or ``"clicks not a number (Video product clicks: 'abc' is not a number)"``; a row
with several problems has them joined with ``"; "``, and ``summary.rejected_by_reason``
counts rows per kind.

Validation uses a pandera ``DataFrameSchema`` (:func:`validation_schema`, run with
``lazy=True``; its failure cases become per-row reasons): counts non-negative whole
numbers, clicks <= impressions, orders <= clicks, commission rate in [0, 0.8], money
non-negative, site codes known. For speed a vectorised pre-check with the same row-wise
predicates (``_validation_precheck``, tested to flag exactly the rows the schema fails)
picks the rows that can fail, and pandera runs on those rows only: a clean file skips
pandera (and its ~0.5-1 s first import) entirely. Parse failures (text in a number column, bad dates,
unknown tiers, missing required values) and exact duplicate input rows are found by
vectorised masks before that. Missing ``refunds`` (column or cell) is 0.0; a missing
``flat_fee`` or ``sample_cost`` cell is 0.0 (exports write "--" for a fee that was not
paid); a missing ``gmv`` on a row with zero orders is 0.0; all are counted in
``.summary.notes``. Other optional values stay missing (NaN / <NA>).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import ExportError
from helpers.schema import (
    CANONICAL_COLUMNS,
    COUNT_COLUMNS,
    HEADER_ALIASES,
    MEASURE_COLUMNS,
    MONEY_COLUMNS,
    NEEDED_BY,
    PROVENANCE_COLUMNS,
    SITES,
    TIER_DTYPE,
    TIERS,
    VALUE_REQUIRED_COLUMNS,
    canonical_name,
    identifier_name,
    normalise_header,
    tier_from_followers,
)

__all__ = [
    "MISSING_TOKENS",
    "LoadResult",
    "LoadSummary",
    "assemble",
    "is_missing",
    "load_dataset",
    "normalise_content_type",
    "normalise_site",
    "normalise_tier",
    "parse_count",
    "parse_dates",
    "parse_money",
    "parse_rate",
    "read_export",
    "validation_schema",
]

MISSING_TOKENS: frozenset[str] = frozenset(
    {
        "",
        "-",
        "--",
        "---",
        "—",
        "–",
        "n/a",
        "na",
        "#n/a",
        "null",
        "none",
        "nan",
        "nat",
        "无",
        "暂无",
    }
)
"""Cell values (after stripping, case-insensitive) that mean "no value"."""

#: How many leading rows of a file are searched for the header row.
HEADER_SCAN_ROWS = 15

_FILE_KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_CURRENCY = r"(?:[A-Za-z]{1,3}\s?[$£€¥₫฿₱₩₹]?|[$£€¥₫฿₱₩₹])"
_NUMBER_TEXT = re.compile(
    r"^\(?\s*[-−+]?\s*(?:" + _CURRENCY + r"\s*)?[-−+]?\s*"
    r"(?:\d[\d.,'\s\u00a0\u202f]*\d|\d)"
    r"\s*[KkMmBb万亿]?\s*(?:" + _CURRENCY + r")?\s*[-−]?\s*\)?$"
)
_MULTIPLIERS: dict[str, float] = {"k": 1e3, "m": 1e6, "b": 1e9, "万": 1e4, "亿": 1e8}


# --------------------------------------------------------------------------- parsers


def _as_text(values: Any) -> pd.Series:
    """Return values as a pandas ``str`` Series (NaN for missing), keeping the index."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.StringDtype):
        return s.astype("str")
    if s.dtype == object:
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            return s.astype("str")
        return s.map(_cell_text, na_action="ignore").astype("str")
    if pd.api.types.is_float_dtype(s.dtype):
        return s.map(_cell_text, na_action="ignore").astype("str")
    return s.astype("str").where(s.notna())


def _cell_text(value: Any) -> Any:
    """Text of one spreadsheet cell: integral floats without ``.0``, dates as ISO."""
    if isinstance(value, float):
        if np.isnan(value):
            return np.nan
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "isoformat"):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")
    return str(value)


_MAX_TOKEN_LEN = max(len(t) for t in MISSING_TOKENS)


def _token_missing(t: pd.Series) -> np.ndarray:
    """True where stripped text ``t`` (``str`` dtype) is a missing token or NaN.

    Only cells as short as the longest token can be one, so lower-casing and the set
    lookup run on those alone (ids and money rarely are)."""
    out = t.isna().to_numpy(bool, copy=True)
    short = (t.str.len() <= _MAX_TOKEN_LEN).to_numpy(bool)
    if short.any():
        out[short] = t[short].str.lower().isin(list(MISSING_TOKENS)).to_numpy(bool)
    return out


def _strip(t: pd.Series) -> pd.Series:
    """``t.str.strip()``, without copying a column that has nothing to strip."""
    arr = getattr(t.array, "_pa_array", None)
    if arr is None:
        return t.str.strip()
    import pyarrow.compute as pc

    # The same whitespace test as utf8_trim_whitespace (what str.strip() runs), on the
    # first and last character only.
    edge = pc.or_(
        pc.utf8_is_space(pc.utf8_slice_codeunits(arr, 0, 1)),
        pc.utf8_is_space(pc.utf8_slice_codeunits(arr, -1)),
    )
    return t.str.strip() if pc.any(edge).as_py() else t


def is_missing(values: Any) -> pd.Series:
    """Return True where a value means "no value".

    Parameters
    ----------
    values : array-like
        Raw cells (text or numbers).

    Returns
    -------
    pandas.Series of bool
        True for NaN/None and for :data:`MISSING_TOKENS` after stripping whitespace,
        compared case-insensitively.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.isna()
    t = _as_text(s)
    return pd.Series(_token_missing(t.str.strip()), index=s.index)


def _broadcast(value: str | Sequence[str] | pd.Series | np.ndarray, index: pd.Index) -> np.ndarray:
    if isinstance(value, str):
        return np.full(len(index), value, dtype=object)
    arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value, dtype=object)
    if len(arr) != len(index):
        raise ValueError(f"separator array has {len(arr)} values for {len(index)} cells")
    return arr


def _parse_number(
    values: Any,
    *,
    thousands_sep: Any = ",",
    decimal_sep: Any = ".",
    three_digit_group: str = "convention",
) -> tuple[pd.Series, pd.Series]:
    """Parse numbers written the way exports write them.

    Returns ``(values, invalid)``: float64 values (NaN when missing or invalid) and a
    boolean mask of cells that are present but not a number. Each distinct (text,
    thousands separator) pair is parsed once, so repeated values cost nothing.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = s.astype("float64")
        return out, pd.Series(False, index=s.index)
    t = _as_text(s)
    codes, uniques = pd.factorize(t)
    uniques = pd.Series(uniques, dtype="str")
    if three_digit_group == "thousands":
        # The separator convention only settles "1.234" for money; counts ignore it.
        thousands_sep = ","
    if isinstance(thousands_sep, pd.Categorical):
        if len(thousands_sep) != len(t):
            raise ValueError(f"separator array has {len(thousands_sep)} values for {len(t)} cells")
        th_codes = np.asarray(thousands_sep.codes, dtype=np.int64)
        th_uniques = np.asarray(thousands_sep.categories, dtype=object)
        if (th_codes < 0).any():
            th_uniques = np.append(th_uniques, ",")
            th_codes = np.where(th_codes < 0, len(th_uniques) - 1, th_codes)
        used = np.flatnonzero(np.bincount(th_codes, minlength=len(th_uniques)))
        if len(used) == 1:
            thousands_sep = str(th_uniques[used[0]])
    elif not isinstance(thousands_sep, str):
        th_codes, th_uniques = pd.factorize(_broadcast(thousands_sep, t.index))
        th_uniques = np.asarray(th_uniques, dtype=object)
    if isinstance(thousands_sep, str):
        th_u = thousands_sep
        key = codes
        u = uniques
    else:
        combined = np.where(codes >= 0, codes.astype(np.int64) * len(th_uniques) + th_codes, -1)
        key, pairs = pd.factorize(combined)
        keep = pairs >= 0
        # Drop the pair that stands for missing cells (combined == -1).
        remap = np.full(len(pairs), -1, dtype=np.int64)
        remap[keep] = np.arange(int(keep.sum()))
        key = np.where(key >= 0, remap[key], -1)
        pairs = pairs[keep]
        u_pos = pairs // len(th_uniques)
        th_u = th_uniques[pairs % len(th_uniques)]
        u = uniques.iloc[u_pos].reset_index(drop=True)
    vals_u, invalid_u = _parse_unique_numbers(u, th_u, three_digit_group)
    # key -1 (missing cell) picks the appended NaN / False slot.
    vals = np.append(vals_u, np.nan)[key]
    inv = np.append(invalid_u, False)[key]
    return pd.Series(vals, index=s.index, dtype="float64"), pd.Series(inv, index=s.index)


# RE2-compatible patterns (no \s, \d or $): pandas then runs them in pyarrow, not per cell.
_WS = " \t\u00a0\u202f"
_NUMBER_RE2 = (
    r"\(?["
    + _WS
    + r"]*[-−+]?["
    + _WS
    + r"]*(?:"
    + _CURRENCY.replace(r"\s", "[" + _WS + "]")
    + r"["
    + _WS
    + r"]*)?[-−+]?["
    + _WS
    + r"]*(?:[0-9][0-9.,'"
    + _WS
    + r"]*[0-9]|[0-9])["
    + _WS
    + r"]*[KkMmBb万亿]?["
    + _WS
    + r"]*(?:"
    + _CURRENCY.replace(r"\s", "[" + _WS + "]")
    + r")?["
    + _WS
    + r"]*[-−]?["
    + _WS
    + r"]*\)?"
)


_MANY_GROUPS = r"[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}"
_FAST_COUNT_RE = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+"
_FAST_MONEY_RE = (
    r"\$?(?:" + _MANY_GROUPS + r"|[1-9][0-9]{0,2}(?:,[0-9]{3})+\.[0-9]+|[0-9]+\.[0-9]{1,2}|[0-9]+)"
)


def _parse_unique_numbers(
    u: pd.Series, thousands: Any, three_digit_group: str
) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct number texts; returns (values, invalid) numpy arrays."""
    n = len(u)
    vals = np.full(n, np.nan)
    invalid = np.zeros(n, dtype=bool)
    if n == 0:
        return vals, invalid
    t = u.str.strip(_WS)
    missing = _token_missing(t)
    plain = ~missing & t.str.fullmatch(r"[0-9]+|[0-9]*\.[0-9]+").to_numpy(bool)
    plain &= ~t.str.fullmatch(r"[1-9][0-9]{0,2}\.[0-9]{3}").to_numpy(bool)
    if plain.any():
        vals[plain] = t[plain].astype("float64").to_numpy()
    # The usual export forms whose reading does not depend on the site convention
    # ("1,234,567", "$1,234.56", "$0.50", and for counts "12,345") skip the general
    # rules below: commas are thousands separators and a dot is the decimal one.
    fast_re = _FAST_COUNT_RE if three_digit_group == "thousands" else _FAST_MONEY_RE
    fast = ~missing & ~plain & t.str.fullmatch(fast_re).to_numpy(bool)
    if fast.any():
        vals[fast] = (
            t[fast]
            .str.replace("$", "", regex=False)
            .str.replace(",", "", regex=False)
            .astype("float64")
            .to_numpy()
        )
    rest = ~missing & ~plain & ~fast
    if not rest.any():
        return vals, invalid
    r = t[rest]
    valid = r.str.fullmatch(_NUMBER_RE2).to_numpy(bool)
    rest_idx = np.flatnonzero(rest)
    invalid[rest_idx[~valid]] = True
    idx = rest_idx[valid]
    r = r[valid]
    if r.empty:
        return vals, invalid
    negative = r.str.contains(r"^[" + _WS + r"]*\(|[-−]").to_numpy(bool)
    mult = np.ones(len(r))
    suffix = r.str.contains(r"[0-9][" + _WS + r"]*[KkMmBb万亿]").to_numpy(bool)
    if suffix.any():
        suffix = np.zeros(len(r), dtype=bool)
        for char, factor in _MULTIPLIERS.items():
            tail = "(?:[^A-Za-z]|\\Z)" if char.isascii() else ""
            hit = r.str.contains(
                r"[0-9][" + _WS + r"]*[" + char + char.upper() + r"]" + tail
            ).to_numpy(bool)
            mult[hit] = factor
            suffix |= hit
    num = r.str.replace(r"[^0-9.,]", "", regex=True)
    has_c = num.str.contains(",", regex=False).to_numpy(bool)
    has_d = num.str.contains(".", regex=False).to_numpy(bool)
    single = has_c ^ has_d
    both = has_c & has_d
    dec = np.full(len(r), "", dtype=object)
    if both.any():
        comma_last = num.str.contains(r",[0-9]*\Z").to_numpy(bool)
        dec[both] = np.where(comma_last[both], ",", ".")
    if single.any():
        once = num.str.fullmatch(r"[0-9]*[.,][0-9]*").to_numpy(bool)
        amb = num.str.fullmatch(r"[1-9][0-9]{0,2}[.,][0-9]{3}").to_numpy(bool) & ~suffix
        sep_char = np.where(has_c, ",", ".")
        if three_digit_group == "thousands":
            amb_is_thousands = np.ones(len(r), dtype=bool)
        else:
            th = (
                thousands
                if isinstance(thousands, str)
                else np.asarray(thousands, dtype=object)[idx]
            )
            amb_is_thousands = sep_char == th
        one_decimal = single & once & ~(amb & amb_is_thousands)
        dec[one_decimal] = sep_char[one_decimal]
    dec_c = dec == ","
    dec_d = dec == "."
    clean = num.str.replace(",", "", regex=False).str.replace(".", "", regex=False)
    if dec_d.any():
        clean[dec_d] = num[dec_d].str.replace(",", "", regex=False)
    if dec_c.any():
        clean[dec_c] = (
            num[dec_c].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        )
    ok = clean.str.fullmatch(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+").to_numpy(bool)
    v = np.full(len(r), np.nan)
    v[ok] = clean[ok].astype("float64").to_numpy()
    v = np.where(negative, -v, v) * mult
    vals[idx] = v
    invalid[idx[~ok]] = True
    return vals, invalid


def _site_separators(site: Any, index: pd.Index) -> tuple[Any, Any]:
    """Thousands and decimal separators for a site code or a per-row array of codes."""
    if site is None:
        return ",", "."
    if isinstance(site, str):
        info = SITES.get(normalise_site([site]).iloc[0] or "")
        return (info.thousands_sep, info.decimal_sep) if info else (",", ".")
    arr = site.to_numpy(object) if isinstance(site, pd.Series) else np.asarray(site, dtype=object)
    if len(arr) != len(index):
        raise ValueError(f"site array has {len(arr)} values for {len(index)} cells")
    # One lookup per distinct code; per-row separators as categorical codes.
    codes, uniq = pd.factorize(arr)
    info = [SITES.get(str(u)) for u in uniq]
    th_u = pd.Index([i.thousands_sep if i else "," for i in info] + [","])
    de_u = pd.Index([i.decimal_sep if i else "." for i in info] + ["."])
    codes = np.where(codes >= 0, codes, len(uniq))
    th_cat, th_idx = pd.factorize(th_u)
    de_cat, de_idx = pd.factorize(de_u)
    th = pd.Categorical.from_codes(th_cat[codes], categories=th_idx)
    de = pd.Categorical.from_codes(de_cat[codes], categories=de_idx)
    return th, de


def parse_money(
    values: Any,
    *,
    site: str | Sequence[str] | None = None,
    thousands_sep: str | None = None,
    decimal_sep: str | None = None,
) -> pd.Series:
    """Parse money cells such as ``"$1,234.56"``, ``"£980"``, ``"Rp 1.234.567"``,
    ``"1.234,56 €"``.

    Parameters
    ----------
    values : array-like
        Raw cells; numbers pass through.
    site : str or sequence of str, optional
        Site code (or one code per cell) whose separator convention settles the only
        ambiguous form, a single separator followed by three digits (``"1.234"`` is
        1234 in ID, 1.234 in US).
    thousands_sep, decimal_sep : str, optional
        Explicit convention; overrides ``site``.

    Returns
    -------
    pandas.Series of float64
        NaN where the cell is missing (:func:`is_missing`) or not a number.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    th, _de = _site_separators(site, s.index)
    if thousands_sep is not None:
        th = thousands_sep
    return _parse_number(s, thousands_sep=th)[0]


def parse_count(values: Any, *, site: str | Sequence[str] | None = None) -> pd.Series:
    """Parse count cells such as ``"12,345"``, ``"1.2K"``, ``"3.4M"``, ``"1.2万"``.

    A single separator followed by exactly three digits is a thousands separator
    (``"1.234"`` is 1234 everywhere), since counts are whole numbers.

    Parameters
    ----------
    values : array-like
        Raw cells; numbers pass through.
    site : str or sequence of str, optional
        Site code(s); kept for symmetry with :func:`parse_money`.

    Returns
    -------
    pandas.Series of float64
        Float so that a non-whole value (``"12.5"``) can be reported rather than
        truncated; NaN where missing or not a number.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    th, _de = _site_separators(site, s.index)
    return _parse_number(s, thousands_sep=th, three_digit_group="thousands")[0]


def _rate_core(values: Any, api_units: bool | None = None) -> tuple[pd.Series, pd.Series, str]:
    """Parse rates; returns (fractions, invalid mask, note on the unit rule applied)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        invalid = pd.Series(False, index=s.index)
        pct = pd.Series(False, index=s.index)
    else:
        t = _as_text(s)
        pct = t.str.contains("%", regex=False).fillna(False).astype(bool)
        body = t.str.replace("%", "", regex=False)
        num, invalid = _parse_number(body, thousands_sep=",", three_digit_group="convention")
    out = num.copy()
    out[pct] = num[pct] / 100.0
    plain = ~pct & num.notna()
    big = plain & (num > 1)
    note = ""
    if big.any():
        if api_units is None:
            api = bool(num[big].max() >= 100)
        else:
            api = api_units
        out[big] = num[big] / (10_000.0 if api else 100.0)
        note = (
            "plain values > 1 read as API units of 1/10000 (1500 -> 0.15)"
            if api
            else "plain values > 1 read as percentage points (15 -> 0.15)"
        )
    return out, invalid, note


def parse_rate(values: Any, *, api_units: bool | None = None) -> pd.Series:
    """Parse rate cells (commission rate, CTR) into fractions.

    Rules: a cell with ``%`` is divided by 100 (``"12.5%"`` -> 0.125, ``"12,5%"`` too);
    a plain number <= 1 is already a fraction; plain numbers > 1 are API units of
    1/10000 when the largest of them is at least 100 (``1500`` -> 0.15; 100 percentage
    points would be a 100 % commission, above the 80 % cap), else percentage points
    (``15`` -> 0.15). The rule is applied per column for the plain cells > 1 and
    per cell for the rest, so a column mixing ``"15%"`` and ``0.15`` works.

    Parameters
    ----------
    values : array-like
        Raw cells.
    api_units : bool, optional
        Force (True) or forbid (False) the API-unit reading of plain values > 1.

    Returns
    -------
    pandas.Series of float64
        Fractions; NaN where missing or not a number.
    """
    return _rate_core(values, api_units)[0]


_ISO = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_SLASH = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$"
)


def parse_dates(
    values: Any,
    *,
    date_format: str | None = None,
    column: str = "date",
    file: str = "<data>",
) -> pd.Series:
    """Parse date cells into ``datetime64[s]``.

    Parameters
    ----------
    values : array-like
        Raw cells: text, datetimes, or Excel serial day numbers.
    date_format : str, optional
        An explicit ``strftime`` format, e.g. ``"%d/%m/%Y"``; it wins over inference.
    column, file : str
        Used in the error message.

    Returns
    -------
    pandas.Series of datetime64[s]
        NaT where the cell is missing or cannot be parsed (see :func:`is_missing` to
        tell them apart).

    Raises
    ------
    ExportError
        When slash dates are all ambiguous (every field <= 12) or contradict each
        other, asking for ``date_format``.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return (
            s.dt.tz_localize(None).astype("datetime64[s]")
            if getattr(s.dt, "tz", None)
            else s.astype("datetime64[s]")
        )
    t = _as_text(s).str.strip()
    missing = t.isna() | t.str.lower().isin(list(MISSING_TOKENS))
    codes, uniques = pd.factorize(t.where(~missing))
    u = (
        pd.Series(np.asarray(uniques, dtype=object), dtype="str")
        .str.replace("年", "-")
        .str.replace("月", "-")
        .str.replace("日", "")
    )
    parsed = pd.Series(pd.NaT, index=range(len(u)), dtype="datetime64[s]")
    if len(u):
        if date_format is not None:
            parsed = pd.to_datetime(u, format=date_format, errors="coerce")
        else:
            iso = u.str.fullmatch(_ISO.pattern[1:-1]).fillna(False).to_numpy(bool)
            if iso.any():
                norm = u[iso].str.replace(r"[/.]", "-", regex=True)
                parsed[iso] = pd.to_datetime(
                    norm, format="ISO8601", errors="coerce", utc=True
                ).dt.tz_localize(None)
            slash = ~iso & u.str.fullmatch(_SLASH.pattern[1:-1]).fillna(False).to_numpy(bool)
            if slash.any():
                parts = u[slash].str.extract(_SLASH.pattern)
                a = parts[0].astype(int)
                b = parts[1].astype(int)
                day_first = bool((a > 12).any())
                month_first = bool((b > 12).any())
                if day_first and month_first:
                    raise ExportError(
                        f"{file}: column {column!r} mixes day-first and month-first dates "
                        f"(e.g. {u[slash][a > 12].iloc[0]!r} and {u[slash][b > 12].iloc[0]!r}). "
                        'Fix the file, or pass date_format="%m/%d/%Y" or date_format="%d/%m/%Y" '
                        "(cells that do not match become rejected rows)."
                    )
                if not (day_first or month_first):
                    raise ExportError(
                        f"{file}: column {column!r} has dates like {u[slash].iloc[0]!r} where day and "
                        "month cannot be told apart (no field above 12). Pass "
                        'date_format="%m/%d/%Y" (month first, US) or date_format="%d/%m/%Y" '
                        "(day first) to read_export / load_dataset."
                    )
                year = parts[2].astype(int)
                year = year.where(year >= 100, year + 2000)
                day, month = (a, b) if day_first else (b, a)
                ymd = pd.DataFrame({"year": year, "month": month, "day": day})
                dates = pd.to_datetime(ymd, errors="coerce")
                has_time = parts[3].notna()
                if has_time.any():
                    dates[has_time] = dates[has_time] + pd.to_timedelta(
                        parts[3][has_time].where(
                            parts[3][has_time].str.count(":") == 2, parts[3][has_time] + ":00"
                        )
                    )
                parsed[slash] = dates.to_numpy()
            serial = (
                ~iso & ~slash & u.str.fullmatch(r"[0-9]{5}(\.[0-9]+)?").fillna(False).to_numpy(bool)
            )
            if serial.any():
                days = u[serial].astype("float64")
                ok = (days > 20000) & (days < 80000)
                conv = pd.to_datetime(
                    days.where(ok), unit="D", origin="1899-12-30", errors="coerce"
                )
                parsed[serial] = conv.to_numpy()
    values_out = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]")
    has = codes >= 0
    values_out[has] = parsed.astype("datetime64[s]").to_numpy()[codes[has]]
    return pd.Series(values_out, index=s.index, name=s.name)


_SITE_NAMES: dict[str, str] = {
    "GB": "UK",
    "UNITED STATES": "US",
    "USA": "US",
    "UNITED KINGDOM": "UK",
    "GREAT BRITAIN": "UK",
    "BRITAIN": "UK",
    "美国": "US",
    "英国": "UK",
    "印度尼西亚": "ID",
    "印尼": "ID",
    "泰国": "TH",
    "越南": "VN",
    "马来西亚": "MY",
    "菲律宾": "PH",
    "新加坡": "SG",
    "墨西哥": "MX",
    "西班牙": "ES",
    "德国": "DE",
    "法国": "FR",
    "意大利": "IT",
    "日本": "JP",
    "巴西": "BR",
}
_SITE_NAMES.update({info.name.upper(): code for code, info in SITES.items()})


def _map_uniques(values: Any, fn: Callable[[str], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct non-missing text value (vectorised over rows)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    t = _as_text(s).str.strip()
    t = t.where(~t.str.lower().isin(list(MISSING_TOKENS)))
    codes, uniques = pd.factorize(t)
    mapped = np.array([fn(str(u)) for u in uniques] + [None], dtype=object)
    out = mapped[np.where(codes >= 0, codes, len(uniques))]
    return pd.Series(out, index=s.index, dtype=object)


def normalise_site(values: Any) -> pd.Series:
    """Normalise site codes: upper case, ``GB`` -> ``UK``, country names (English or
    Chinese) -> code.

    Unknown codes are returned upper-cased (so that validation can reject them with the
    list of accepted codes); missing cells are None.
    """

    def one(v: str) -> str:
        key = v.strip().upper()
        return _SITE_NAMES.get(key, key)

    return _map_uniques(values, one)


_TIER_NAMES: dict[str, str] = {t: t for t in TIERS}
_TIER_NAMES.update(
    {
        "纳米": "nano",
        "素人": "nano",
        "微型": "micro",
        "小型": "micro",
        "中腰部": "mid",
        "腰部": "mid",
        "中型": "mid",
        "头部": "macro",
        "大型": "macro",
        "超头部": "mega",
        "顶级": "mega",
    }
)


def normalise_tier(values: Any) -> pd.Series:
    """Normalise tier labels (``"Nano"``, ``"micro influencer"``, 纳米/微型/中腰部/头部/超头部).

    Returns
    -------
    pandas.Series of object
        A tier name from :data:`helpers.schema.TIERS`, None when missing, or the
        original text prefixed with ``"?"`` when unknown (the loader rejects it).
    """

    def one(v: str) -> str:
        key = normalise_header(v)
        for suffix in ("influencers", "influencer", "creators", "creator", "达人", "tier"):
            if key.endswith(suffix) and key != suffix:
                key = key[: -len(suffix)]
        return _TIER_NAMES.get(key, "?" + v)

    return _map_uniques(values, one)


_CONTENT_TYPES: dict[str, str] = {
    "video": "video",
    "videos": "video",
    "shortvideo": "video",
    "视频": "video",
    "短视频": "video",
    "live": "live",
    "lives": "live",
    "livestream": "live",
    "livestreams": "live",
    "直播": "live",
    "showcase": "showcase",
    "productcard": "showcase",
    "橱窗": "showcase",
    "商品橱窗": "showcase",
    "商品卡": "showcase",
}


def normalise_content_type(values: Any) -> pd.Series:
    """Normalise content types to ``video``, ``live``, ``showcase``; other labels are
    kept lower-cased (the column is optional and informative)."""
    return _map_uniques(
        values, lambda v: _CONTENT_TYPES.get(normalise_header(v), v.strip().lower())
    )


# ----------------------------------------------------------------------- validation


def validation_schema(orders_above_clicks: str = "reject") -> Any:
    """The pandera schema the loader validates parsed rows with.

    Columns are optional (exports differ); counts are checked as floats so that a
    non-whole value is reported, not truncated. Used with ``lazy=True``; each failure
    case becomes a rejection reason on its row.

    Parameters
    ----------
    orders_above_clicks : {"reject", "keep"}
        With ``"keep"`` the orders <= clicks check is left out (view-through
        attribution).

    Returns
    -------
    pandera.pandas.DataFrameSchema
    """
    import pandera.pandas as pa

    # Custom checks (not Check.ge etc.) so that failure cases carry our reason names.
    whole = pa.Check(lambda s: (s % 1) == 0, name="not a whole number", ignore_na=True)
    nonneg = pa.Check(lambda s: s >= 0, name="negative", ignore_na=True)
    cols: dict[str, Any] = {}
    for c in COUNT_COLUMNS + ("followers",):
        cols[c] = pa.Column("float64", [nonneg, whole], nullable=True, required=False)
    for c in MONEY_COLUMNS:
        cols[c] = pa.Column("float64", [nonneg], nullable=True, required=False)
    cols["commission_rate"] = pa.Column(
        "float64",
        [
            pa.Check(
                lambda s: (s >= 0) & (s <= 0.8),
                name="commission rate outside 0-80 %",
                ignore_na=True,
            )
        ],
        nullable=True,
        required=False,
    )
    known = set(SITES)
    cols["site"] = pa.Column(
        checks=[pa.Check(lambda s: s.isin(known), name="unknown site", ignore_na=True)],
        nullable=True,
        required=False,
    )

    def le(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
        def check(df: pd.DataFrame) -> pd.Series:
            if a not in df or b not in df:
                return pd.Series(True, index=df.index)
            return ~(df[a] > df[b]).fillna(False).astype(bool)

        return check

    frame_checks = [pa.Check(le("clicks", "impressions"), name="clicks > impressions")]
    if orders_above_clicks != "keep":
        frame_checks.append(pa.Check(le("orders", "clicks"), name="orders > clicks"))
    return pa.DataFrameSchema(cols, checks=frame_checks, strict=False)


def _validation_precheck(typed: pd.DataFrame, orders_above_clicks: str = "reject") -> np.ndarray:
    """Rows that may fail :func:`validation_schema`: the same row-wise predicates,
    vectorised (NaN passes, as with ``ignore_na=True``). Must stay in step with it."""
    n = len(typed)
    bad = np.zeros(n, dtype=bool)

    def col(c: str) -> np.ndarray | None:
        if c not in typed:
            return None
        try:
            return typed[c].to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):  # not numeric: let pandera look at every row
            return np.full(n, -1.0)

    with np.errstate(invalid="ignore"):
        for c in (*COUNT_COLUMNS, "followers"):
            v = col(c)
            if v is not None:
                present = ~np.isnan(v)
                bad |= present & ~((v >= 0) & (v % 1 == 0))
        for c in MONEY_COLUMNS:
            v = col(c)
            if v is not None:
                bad |= ~np.isnan(v) & ~(v >= 0)
        v = col("commission_rate")
        if v is not None:
            bad |= ~np.isnan(v) & ~((v >= 0) & (v <= 0.8))
        pairs = [("clicks", "impressions"), ("orders", "clicks")]
        for a, b in pairs[: 1 if orders_above_clicks == "keep" else 2]:
            va, vb = col(a), col(b)
            if va is not None and vb is not None:
                bad |= va > vb
    if "site" in typed:
        s = typed["site"]
        bad |= (s.notna() & ~s.isin(list(SITES))).to_numpy(bool)
    return bad


# ------------------------------------------------------------------- result objects


@dataclass
class LoadSummary:
    """Row accounting and provenance of a load.

    ``rows_read == rows_kept + rows_rejected`` is asserted on construction. A row with
    several problems counts once in ``rows_rejected`` and once per reason in
    ``rejected_by_reason``. Blank lines are not rows: they are counted in
    ``blank_rows``. Supports ``summary["rows_kept"]`` and :meth:`to_dict`.
    """

    file: str
    encoding: str | None
    header_row: int | None
    rows_read: int
    rows_kept: int
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    column_mapping: dict[str, str] = field(default_factory=dict)
    duplicate_columns: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0
    notes: list[str] = field(default_factory=list)
    parts: list[LoadSummary] = field(default_factory=list)
    #: Extra (non-canonical) columns kept: original header -> name in ``.data``.
    extra_columns: dict[str, str] = field(default_factory=dict)
    #: Rows kept with orders above clicks (``orders_above_clicks="keep"``).
    orders_above_clicks_kept: int = 0

    def __post_init__(self) -> None:
        assert self.rows_read == self.rows_kept + self.rows_rejected, (
            f"row accounting broken for {self.file}: read {self.rows_read} != kept "
            f"{self.rows_kept} + rejected {self.rows_rejected}"
        )

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def keys(self) -> list[str]:
        """Field names, so that ``dict(summary)`` works."""
        return list(self.__dataclass_fields__)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (parts included)."""
        d = {k: getattr(self, k) for k in self.keys()}
        d["parts"] = [p.to_dict() for p in self.parts]
        return d

    def report(self) -> str:
        """Human-readable multi-line text."""
        lines = [
            f"file: {self.file}",
            f"encoding: {self.encoding}   header row: {self.header_row}",
            f"rows read {self.rows_read:,} = kept {self.rows_kept:,} + rejected {self.rows_rejected:,}",
        ]
        if self.blank_rows:
            lines.append(f"blank rows skipped: {self.blank_rows}")
        for reason, n in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"  rejected {n:,}: {reason}")
        if self.column_mapping:
            lines.append(
                "columns: " + ", ".join(f"{k!r}->{v}" for k, v in self.column_mapping.items())
            )
        if self.extra_columns:
            lines.append(
                "extra columns kept: "
                + ", ".join(f"{k!r}->{v}" for k, v in self.extra_columns.items())
            )
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(repr(c) for c in self.ignored_columns))
        for k, v in self.duplicate_columns.items():
            lines.append(f"duplicate column {k!r} ignored ({v})")
        lines.extend(f"note: {n}" for n in self.notes)
        for p in self.parts:
            lines.append("  part: " + p.report().replace("\n", "\n    "))
        return "\n".join(lines)


@dataclass
class LoadResult:
    """What the loader returns: ``data`` (canonical frame), ``rejected`` (offending
    input rows with ``file``, ``row``, ``reason``) and ``summary`` (:class:`LoadSummary`)."""

    data: pd.DataFrame
    rejected: pd.DataFrame
    summary: LoadSummary

    def report(self) -> str:
        """The summary as text, plus the first rejected rows."""
        text = self.summary.report()
        if len(self.rejected):
            head = self.rejected[["file", "row", "reason"]].head(10).to_string(index=False)
            text += "\nfirst rejected rows:\n" + head
        return text

    def __repr__(self) -> str:
        return (
            f"LoadResult({len(self.data):,} rows kept, {len(self.rejected):,} rejected)\n"
            + self.report()
        )

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(repr(self)) + "</pre>"


# ------------------------------------------------------------------------- reading


@dataclass
class _Table:
    """A raw export: original headers and values, plus provenance."""

    raw: pd.DataFrame
    file: str
    encoding: str | None
    header_row: int | None
    rownum: np.ndarray
    malformed: list[tuple[int, str]] = field(default_factory=list)
    blank_rows: int = 0


def _header_score(cells: Sequence[Any], column_map: Mapping[str, str] | None) -> int:
    names = {canonical_name(c, column_map) for c in cells if c is not None and str(c).strip()}
    names.discard(None)
    return len(names)


def _find_header(rows: Sequence[Sequence[Any]], column_map: Mapping[str, str] | None) -> int:
    """Index of the row (among the first :data:`HEADER_SCAN_ROWS`) matching most known headers."""
    best, best_score = 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(row, column_map)
        if score > best_score:
            best, best_score = i, score
    return best


def _unique_headers(cells: Sequence[Any]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cells):
        name = "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip()
        if not name:
            name = f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _decode(data: bytes, file: str) -> tuple[str, str]:
    """Decode bytes: strict UTF-8 (with or without BOM), else GB18030."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise ExportError(
        f"{file}: cannot decode the file as UTF-8 or GB18030/GBK. Re-save it from Excel as "
        "'CSV UTF-8 (comma delimited)'."
    )


def _read_csv(path: Path, column_map: Mapping[str, str] | None) -> _Table:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    file = str(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(4 * 65536)
    if not head.strip() and not path.read_bytes().strip():
        raise ExportError(f"{file}: the file is empty; export the data again from Seller Center.")
    # UTF-8 is checked on the head here and on the body by Arrow while it reads (its
    # string conversion validates UTF-8), so a UTF-8 file is neither decoded in Python
    # nor held in memory whole; anything else falls back to decoding it all.
    text: str | None = None
    try:
        import codecs

        head_text = codecs.getincrementaldecoder("utf-8-sig")("strict").decode(
            head, final=len(head) >= size
        )
        encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        text, encoding = _decode(path.read_bytes(), file)
        head_text = text

    def layout(head_text: str) -> tuple[str, int, list[str]]:
        """Delimiter, header row index and header names from the first lines."""
        head_text = head_text[:65536]
        first_lines = head_text.splitlines()[:HEADER_SCAN_ROWS]
        delim = ","
        sample = "\n".join(first_lines)
        counts = {d: sample.count(d) for d in (",", ";", "\t")}
        if counts["\t"] > counts[","] or counts[";"] > counts[","]:
            delim = max(counts, key=lambda d: counts[d])
        rows = list(csv.reader(io.StringIO(head_text), delimiter=delim))[:HEADER_SCAN_ROWS]
        if not rows:
            raise ExportError(
                f"{file}: the file has no rows; export the data again from Seller Center."
            )
        hi = _find_header(rows, column_map)
        return delim, hi, _unique_headers(rows[hi])

    delim, hi, names = layout(head_text)
    # Arrow skips a UTF-8 byte order mark itself; the file is read in blocks.
    body: bytes | None = None if text is None else text.encode("utf-8")
    malformed: list[tuple[int | None, str]] = []

    def handler(row: Any) -> str:
        malformed.append((row.number, row.text))
        return "skip"

    def read(threads: bool) -> Any:
        malformed.clear()
        return pcsv.read_csv(
            str(path) if body is None else pa.BufferReader(body),
            read_options=pcsv.ReadOptions(
                skip_rows=hi + 1, column_names=names, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delim,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=handler,
            ),
            convert_options=pcsv.ConvertOptions(
                # large_string is what pandas' str dtype holds: no cast in to_pandas.
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        try:
            table = read(True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if body is not None or not (
                isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in str(exc)
            ):
                raise
            # Not UTF-8 after all (past the head): decode the whole file as before.
            text, encoding = _decode(path.read_bytes(), file)
            body = text.encode("utf-8")
            delim, hi, names = layout(text)
            table = read(True)
        if any(num is None for num, _ in malformed):
            table = read(False)
    except pa.ArrowInvalid as exc:
        raise ExportError(
            f"{file}: not a readable CSV file ({exc}). Re-save it as CSV from Excel."
        ) from exc
    raw = table.to_pandas()
    raw.columns = names
    header_line = hi + 1
    bad_numbers = sorted(int(n) for n, _ in malformed if n is not None)
    total = len(raw) + len(malformed)
    all_numbers = np.arange(header_line + 1, header_line + 1 + total)
    rownum = np.setdiff1d(all_numbers, np.asarray(bad_numbers, dtype=np.int64), assume_unique=True)
    if len(rownum) != len(raw):  # numbering unknown (should not happen): fall back to order
        rownum = all_numbers[: len(raw)]
    table_ = _Table(raw, file, encoding, header_line, rownum.astype(np.int64))
    table_.malformed = [(int(n) if n is not None else -1, t) for n, t in malformed]
    return table_


_XL_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_XL_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _xlsx_col(ref: str) -> int:
    """0-based column index of a cell reference such as ``"AB12"``."""
    col = 0
    for ch in ref:
        if ch.isdigit():
            break
        col = col * 26 + (ord(ch.upper()) - 64)
    return col - 1


def _xlsx_text(elem: Any) -> str:
    """Text of a shared or inline string (plain ``<t>`` or rich-text runs)."""
    return "".join(t.text or "" for t in elem.iter(_XL_NS + "t"))


def _xlsx_read(
    path: Path, max_rows: int | None = None
) -> dict[str, tuple[list[list[Any]], list[int]]]:
    """Read the sheets of an .xlsx file as rows of cell text (None for empty cells).

    A small streaming reader (zip + ElementTree.iterparse) that is several times faster
    than openpyxl on large exports. Numbers keep the text Excel stored; booleans become
    TRUE/FALSE; row numbers are Excel's own (so blank rows above the data count).
    Returns ``{sheet name: (rows, row numbers)}`` in workbook order.
    """
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            with zf.open("xl/sharedStrings.xml") as fh:
                for _, el in ET.iterparse(fh):
                    if el.tag == _XL_NS + "si":
                        shared.append(_xlsx_text(el))
                        el.clear()
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        out: dict[str, tuple[list[list[Any]], list[int]]] = {}
        col_cache: dict[str, int] = {}
        for sheet in wb.iter(_XL_NS + "sheet"):
            target = targets.get(sheet.get(_XL_REL_NS + "id"), "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if member not in names:
                continue
            rows: list[list[Any]] = []
            numbers: list[int] = []
            with zf.open(member) as fh:
                row: list[Any] = []
                for _, el in ET.iterparse(fh):
                    tag = el.tag
                    if tag == _XL_NS + "c":
                        ref = el.get("r")
                        if ref:
                            letters = ref.rstrip("0123456789")
                            col = col_cache.get(letters)
                            if col is None:
                                col = col_cache[letters] = _xlsx_col(letters)
                        else:
                            col = len(row)
                        kind = el.get("t")
                        value: Any = None
                        if kind == "inlineStr":
                            is_ = el.find(_XL_NS + "is")
                            value = _xlsx_text(is_) if is_ is not None else None
                        else:
                            v = el.find(_XL_NS + "v")
                            text = v.text if v is not None else None
                            if text is not None:
                                if kind == "s":
                                    value = shared[int(text)]
                                elif kind == "b":
                                    value = "TRUE" if text == "1" else "FALSE"
                                elif kind in ("str", "e"):
                                    value = text
                                elif "E" in text or "e" in text:
                                    value = _cell_text(float(text))
                                else:
                                    value = text
                        if col >= len(row):
                            row.extend([None] * (col - len(row) + 1))
                        row[col] = value
                        el.clear()
                    elif tag == _XL_NS + "row":
                        rnum = el.get("r")
                        numbers.append(int(rnum) if rnum else (numbers[-1] + 1 if numbers else 1))
                        rows.append(row)
                        row = []
                        el.clear()
                        if max_rows is not None and len(rows) >= max_rows:
                            break
            out[sheet.get("name", member)] = (rows, numbers)
        return out


def _read_excel(path: Path, column_map: Mapping[str, str] | None) -> _Table:
    file = str(path)
    if path.suffix.lower() == ".xls":
        raise ExportError(
            f"{file}: old binary .xls workbooks are not supported; open it in Excel and save "
            "it as .xlsx (or CSV UTF-8)."
        )
    try:
        sheets = _xlsx_read(path)
    except Exception as exc:  # zip/XML errors take many forms for a broken file
        raise ExportError(
            f"{file}: cannot read the workbook ({exc}). Open and re-save it in Excel as .xlsx."
        ) from exc
    best: tuple[int, str, int] | None = None
    for name, (rows, _numbers) in sheets.items():
        if not rows:
            continue
        hi = _find_header(rows, column_map)
        score = _header_score(rows[hi], column_map)
        if best is None or score > best[2]:
            best = (hi, name, score)
    if best is None:
        raise ExportError(
            f"{file}: the workbook has no data; export the data again from Seller Center."
        )
    hi, sheet, _ = best
    rows, numbers = sheets[sheet]
    names = _unique_headers(rows[hi])
    width = len(names)
    body = [r[:width] + [None] * (width - len(r)) for r in rows[hi + 1 :]]
    if any(len(r) > width and any(v is not None for v in r[width:]) for r in rows[hi + 1 :]):
        extra = [
            n
            for r, n in zip(rows[hi + 1 :], numbers[hi + 1 :], strict=False)
            if len(r) > width and any(v is not None for v in r[width:])
        ]
        raise ExportError(
            f"{file}: rows {extra[:10]} have values to the right of the last header column "
            f"({names[-1]!r}). Add a header to that column or delete the stray cells."
        )
    raw = pd.DataFrame(body, columns=names, dtype=object)
    raw = raw.apply(lambda c: _as_text(c)) if len(raw) else raw.astype("str")
    header_row = numbers[hi]
    encoding = f"xlsx (sheet {sheet!r})"
    return _Table(raw, file, encoding, header_row, np.asarray(numbers[hi + 1 :], dtype=np.int64))


def _read_source(source: Any, kind: str | None, column_map: Mapping[str, str] | None) -> _Table:
    if isinstance(source, pd.DataFrame):
        raw = source.reset_index(drop=True)
        raw.columns = _unique_headers(list(raw.columns))
        return _Table(raw, "<DataFrame>", None, None, np.arange(1, len(raw) + 1, dtype=np.int64))
    path = paths.resolve(source)
    file = str(path)
    if not path.exists():
        raise ExportError(
            f"{source}: file not found (looked at {file}). Check the path; relative paths are "
            "taken from the current folder, then from the repo root."
        )
    if path.is_dir():
        raise ExportError(f"{file}: is a folder; use load_dataset() for a folder of exports.")
    kind = kind or _FILE_KINDS.get(path.suffix.lower())
    if kind in ("xlsx", "xls"):
        kind = "excel"
    if kind not in ("csv", "excel", "parquet"):
        raise ExportError(
            f"{file}: unknown file type {path.suffix!r}; accepted: {sorted(_FILE_KINDS)} "
            "(or pass kind='csv' / 'excel' / 'parquet')."
        )
    if path.stat().st_size == 0:
        raise ExportError(f"{file}: the file is empty; export the data again from Seller Center.")
    if kind == "csv":
        return _read_csv(path, column_map)
    if kind == "excel":
        return _read_excel(path, column_map)
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:
        raise ExportError(f"{file}: cannot read the Parquet file ({exc}).") from exc
    raw = raw.reset_index(drop=True)
    return _Table(raw, file, "parquet", None, np.arange(1, len(raw) + 1, dtype=np.int64))


def _alias_rank(canon: str, header: str, column_map: Mapping[str, str] | None) -> int:
    if column_map and any(normalise_header(k) == normalise_header(header) for k in column_map):
        return -1
    key = normalise_header(header)
    for i, alias in enumerate((*HEADER_ALIASES.get(canon, ()), canon)):
        if normalise_header(alias) == key:
            return i
    return 10_000


def _check_column_map(column_map: Mapping[str, str] | None, file: str) -> None:
    """Each target is a canonical column, or a new identifier for an extra column.

    A target that is a near-spelling of a canonical name (``"klicks"``) is refused
    rather than silently kept as an extra column.
    """
    import difflib
    import keyword

    for header, target in (column_map or {}).items():
        if target in CANONICAL_COLUMNS:
            continue
        where = f"{file}: column_map entry {{{header!r}: {target!r}}}"
        text = str(target)
        close = [
            c
            for c in difflib.get_close_matches(text.lower(), list(CANONICAL_COLUMNS), 3, 0.8)
            if abs(len(c) - len(text)) <= 1
        ]
        if close:
            raise ExportError(
                f"{where}: {text!r} is not a canonical column. Did you mean {close[0]!r}? Fix: "
                f"`column_map: {{{_yaml_scalar(header)}: {close[0]}}}` in data.yaml, or "
                f"column_map={{{header!r}: {close[0]!r}}} in Python. Accepted targets: "
                f"{list(CANONICAL_COLUMNS)}, or a new lowercase name (not a near-spelling of "
                "one of them) to keep the column as an extra column under that name."
            )
        if text in PROVENANCE_COLUMNS or not text.isidentifier() or keyword.iskeyword(text):
            name = identifier_name(header, set(CANONICAL_COLUMNS) | set(PROVENANCE_COLUMNS))
            raise ExportError(
                f"{where}: {text!r} is neither a canonical column nor a usable name for an "
                f"extra column (letters, digits and _, not starting with a digit; not "
                f"{' or '.join(PROVENANCE_COLUMNS)}, which the loader adds). Accepted targets: "
                f"{list(CANONICAL_COLUMNS)} or a new name, e.g. column_map={{{header!r}: "
                f"{name!r}}}."
            )


def _map_columns(
    columns: Sequence[str], column_map: Mapping[str, str] | None, file: str
) -> tuple[dict[str, str], list[str], dict[str, str], dict[str, str]]:
    """Map original headers to canonical names.

    Returns (mapping original->canonical, other headers, duplicates ignored->reason,
    renames original->extra column name given in ``column_map``).
    """
    _check_column_map(column_map, file)
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    ignored: list[str] = []
    renames: dict[str, str] = {}
    for pos, col in enumerate(columns):
        canon = canonical_name(col, column_map)
        if canon is None:
            ignored.append(str(col))
            continue
        if canon not in CANONICAL_COLUMNS:  # column_map names an extra column
            if canon in renames.values():
                raise ExportError(
                    f"{file}: column_map gives the name {canon!r} to two columns "
                    f"({[k for k, v in renames.items() if v == canon][0]!r} and {col!r}); "
                    "give each its own name."
                )
            renames[str(col)] = canon
            ignored.append(str(col))
            continue
        candidates.setdefault(canon, []).append(
            (_alias_rank(canon, str(col), column_map), pos, str(col))
        )
    mapping: dict[str, str] = {}
    duplicates: dict[str, str] = {}
    for canon, cands in candidates.items():
        cands.sort()
        keep = cands[0][2]
        mapping[keep] = canon
        for _, _, other in cands[1:]:
            duplicates[other] = f"also maps to {canon!r}; kept {keep!r} (higher alias priority)"
    ordered = {c: mapping[c] for c in columns if c in mapping}
    return ordered, ignored, duplicates, renames


_YAML_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]*[A-Za-z0-9_]|[A-Za-z_]")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _yaml_scalar(text: Any) -> str:
    """``text`` as a YAML flow scalar: plain when safe, else double-quoted."""
    import json

    t = str(text)
    if _YAML_PLAIN.fullmatch(t) and t.lower() not in _YAML_WORDS:
        return t
    return json.dumps(t, ensure_ascii=False)


# ------------------------------------------------------------------------- parsing


class _Reasons:
    """Collects (row position, kind, message) triples, vectorised."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pos: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.msg: list[np.ndarray] = []

    def add(self, mask: Any, kind: str, message: Any) -> None:
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        idx = np.flatnonzero(m)
        if callable(message):
            # Built for the flagged rows only: formatting a million messages that are
            # then thrown away was a large share of a clean load.
            message = message(idx)
        if isinstance(message, str):
            msgs = np.full(len(idx), message, dtype=object)
        else:
            arr = np.asarray(
                message.to_numpy() if isinstance(message, pd.Series) else message, dtype=object
            )
            msgs = arr[idx] if len(arr) == self.n else arr
        self.pos.append(idx)
        self.kind.append(np.full(len(idx), kind, dtype=object))
        self.msg.append(msgs)

    def extend(self, other: _Reasons, offset: int) -> None:
        self.pos.extend(p + offset for p in other.pos)
        self.kind.extend(other.kind)
        self.msg.extend(other.msg)

    def frame(self) -> pd.DataFrame:
        if not self.pos:
            return pd.DataFrame({"pos": np.array([], dtype=np.int64), "kind": [], "msg": []})
        return pd.DataFrame(
            {
                "pos": np.concatenate(self.pos),
                "kind": np.concatenate(self.kind),
                "msg": np.concatenate(self.msg),
            }
        )

    def mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for p in self.pos:
            m[p] = True
        return m


def _quote(values: pd.Series) -> pd.Series:
    return "'" + _as_text(values).fillna("").astype("str") + "'"


@dataclass
class _Parsed:
    table: _Table
    typed: pd.DataFrame
    reasons: _Reasons
    mapping: dict[str, str]
    ignored: list[str]
    duplicates: dict[str, str]
    notes: list[str]
    blank: np.ndarray
    #: Extra columns kept: original header -> column name in ``typed``.
    extras: dict[str, str] = field(default_factory=dict)


_LOOKUP_COLUMNS = {
    "creators": ("creator_id", "site", "followers", "tier"),
    "products": ("product_id", "site", "category", "commission_rate"),
}


def _parse_table(
    table: _Table,
    *,
    role: str,
    column_map: Mapping[str, str] | None,
    date_format: str | None,
    site: str | None,
    tier_labels: Sequence[str] | None = None,
) -> _Parsed:
    """Map headers and parse every known column of one raw export into typed values."""
    mapping, ignored, duplicates, renames = _map_columns(
        list(table.raw.columns), column_map, table.file
    )
    if role in _LOOKUP_COLUMNS:
        keep = _LOOKUP_COLUMNS[role]
        for orig, canon in list(mapping.items()):
            if canon not in keep:
                del mapping[orig]
                ignored.append(orig)
    raw = table.raw
    n = len(raw)
    reasons = _Reasons(n)
    notes: list[str] = []
    src = {canon: raw[orig] for orig, canon in mapping.items()}
    inv = {canon: orig for orig, canon in mapping.items()}
    typed: dict[str, Any] = {}
    # Blank rows (every cell missing) are not data: counted apart, never silently kept.
    blank = np.zeros(n, dtype=bool)
    if n and table.raw.shape[1]:
        # Narrow the candidates column by column: cheap when (as usual) none is blank.
        cand = np.arange(n)
        for c in raw.columns:
            cand = cand[is_missing(raw[c].iloc[cand]).to_numpy(bool)]
            if len(cand) == 0:
                break
        blank[cand] = True

    def bad_number(canon: str, invalid: pd.Series) -> None:
        if invalid.any():
            reasons.add(
                invalid.to_numpy(),
                f"{canon} not a number",
                lambda idx: (
                    f"{canon} not a number ({inv[canon]}: "
                    + _quote(src[canon].iloc[idx])
                    + " is not a number)"
                ),
            )

    if "site" in src:
        sites = normalise_site(src["site"])
        typed["site"] = sites
    for c in ("creator_id", "product_id", "content_id"):
        if c in src:
            s = src[c]
            if pd.api.types.is_float_dtype(s.dtype):
                s = s.map(_cell_text, na_action="ignore")
            t = _strip(_as_text(s))
            typed[c] = t.where(~_token_missing(t))
    if "category" in src:
        t = _strip(_as_text(src["category"]))
        typed["category"] = t.where(~_token_missing(t))
    if "content_type" in src:
        typed["content_type"] = normalise_content_type(src["content_type"])
    if "tier" in src:
        typed["tier"] = _parse_tier(
            src["tier"], inv["tier"], table.file, reasons, tier_labels, column_map
        )
    if "date" in src:
        dates = parse_dates(
            src["date"], date_format=date_format, column=inv["date"], file=table.file
        )
        bad = dates.isna() & ~is_missing(src["date"])
        reasons.add(
            bad.to_numpy(),
            "unparseable date",
            lambda idx: (
                f"unparseable date ({inv['date']}: "
                + _quote(src["date"].iloc[idx])
                + " is not a date"
                + (f" in format {date_format!r}" if date_format else "")
                + ")"
            ),
        )
        typed["date"] = dates
    row_sites = None
    if "site" in typed:
        row_sites = typed["site"].fillna(site or "").to_numpy(object)
    elif site:
        row_sites = site
    th = (
        _site_separators(row_sites, raw.index)[0]
        if not isinstance(row_sites, str)
        else _site_separators(row_sites, raw.index)[0]
    )
    for c in (*COUNT_COLUMNS, "followers"):
        if c in src:
            vals, invalid = _parse_number(src[c], thousands_sep=th, three_digit_group="thousands")
            bad_number(c, invalid)
            typed[c] = vals
    for c in MONEY_COLUMNS:
        if c in src:
            vals, invalid = _parse_number(src[c], thousands_sep=th, three_digit_group="convention")
            bad_number(c, invalid)
            typed[c] = vals
    if "commission_rate" in src:
        vals, invalid, note = _rate_core(src["commission_rate"])
        bad_number("commission_rate", invalid)
        if note:
            notes.append(f"{table.file}: commission_rate {note}")
        typed["commission_rate"] = vals
    extras: dict[str, str] = {}
    if role not in _LOOKUP_COLUMNS:  # extra columns of the content rows are kept
        extras = _extra_names(ignored, renames)
        typed.update(_parse_extras(raw, extras, th))
        ignored = []
    frame = pd.DataFrame(typed, index=raw.index, copy=False)
    return _Parsed(table, frame, reasons, mapping, ignored, duplicates, notes, blank, extras)


def _natural_key(text: str) -> list[Any]:
    """Sort key that orders numbers inside labels numerically ("5-9" before "10-14")."""
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", text)]


def _labels_fix(values: pd.Series) -> tuple[str, str]:
    """The ``tiers`` labels fix for a tier-like column, as (data.yaml, Python) text."""
    t = _strip(_as_text(values))
    labels = sorted({str(v) for v in t[~_token_missing(t)]}, key=_natural_key)
    if len(labels) > 40:
        shown = ", ".join(labels[:5])
        return (
            f"`tiers: {{labels: [{shown}, ...]}}` (all {len(labels)} labels, in order)",
            f"the same list of all {len(labels)} labels as tiers' labels",
        )
    yaml = ", ".join(_yaml_scalar(v) for v in labels)
    return f"`tiers: {{labels: [{yaml}]}}`", f"tiers={{'labels': {labels!r}}}"


def _parse_tier(
    values: pd.Series,
    header: str,
    file: str,
    reasons: _Reasons,
    labels: Sequence[str] | None,
    column_map: Mapping[str, str] | None,
) -> pd.Series:
    """Tier cells -> tier names (object; None when missing or rejected).

    Without ``labels``: the kit's tier names (English or Chinese); an unknown name is a
    rejection, and a column that is mostly not tier names at all (an age band mapped to
    ``tier``) is an :class:`ExportError` that gives the ``tiers`` labels fix. With
    ``labels``: each cell must be one of them (compared without case, spaces or
    punctuation when that is unambiguous); others are rejected "unknown tier label".
    """
    if labels is not None:
        lookup = {str(lb): str(lb) for lb in labels}
        loose = {normalise_header(lb): str(lb) for lb in labels}
        if len(loose) == len(lookup):
            lookup.update(loose)
        mapped = _map_uniques(values, lambda v: lookup.get(v, lookup.get(normalise_header(v))))
        t = _strip(_as_text(values))
        unknown = (
            (mapped.isna().to_numpy(bool) & ~_token_missing(t)) if len(t) else np.zeros(0, bool)
        )
        accepted = ", ".join(str(lb) for lb in labels)
        reasons.add(
            unknown,
            "unknown tier label",
            lambda idx: (
                f"unknown tier label ({header}: "
                + _quote(values.iloc[idx])
                + f" is not one of the labels given in tiers: {accepted})"
            ),
        )
        return mapped
    tiers_ = normalise_tier(values)
    unknown = (
        tiers_.str.startswith("?", na=False).to_numpy(bool) if len(tiers_) else np.zeros(0, bool)
    )
    present = int(tiers_.notna().sum())
    if present and unknown.sum() * 2 > present:
        examples = list(dict.fromkeys(values[unknown].astype(str).str.strip()))[:5]
        yaml_fix, py_fix = _labels_fix(values)
        mapped_by_user = column_map and any(
            normalise_header(k) == normalise_header(header) for k in column_map
        )
        other = (
            f" Or, if it is not a tier, remove {{{header!r}: 'tier'}} from column_map: the "
            f"column is then kept as the extra column {identifier_name(header)!r}."
            if mapped_by_user
            else ""
        )
        raise ExportError(
            f"{file}: column {header!r} is read as the creator tier, but {int(unknown.sum()):,} of "
            f"{present:,} values are not tier names (e.g. {examples}); tier names are "
            f"{', '.join(TIERS)} (or 纳米/微型/中腰部/头部/超头部). If the column holds other "
            f"ordered groups (an age band, a segment), list its labels in order: {yaml_fix} in "
            f"data.yaml, or {py_fix} in Python (reorder them if needed).{other}"
        )
    reasons.add(
        unknown,
        "unknown tier",
        lambda idx: (
            f"unknown tier ({header}: "
            + _quote(values.iloc[idx])
            + f" is not a tier, accepted: {', '.join(TIERS)} or 纳米/微型/中腰部/头部/超头部)"
        ),
    )
    return tiers_.where(~unknown)


def _extra_names(headers: Sequence[str], renames: Mapping[str, str]) -> dict[str, str]:
    """Original header -> column name for every extra column (see
    :func:`helpers.schema.identifier_name`); names given in ``column_map`` win. A
    header that already is ``source_file`` / ``source_row`` (a frame the loader made)
    keeps that name: it is the row's provenance."""
    taken = set(CANONICAL_COLUMNS) | set(PROVENANCE_COLUMNS) | set(renames.values())
    names: dict[str, str] = {}
    for h in headers:
        if h in renames:
            names[h] = renames[h]
            continue
        if h in PROVENANCE_COLUMNS and h not in names.values():
            names[h] = h
            continue
        names[h] = identifier_name(h, taken)
        taken.add(names[h])
    return names


def _parse_extras(raw: pd.DataFrame, names: Mapping[str, str], thousands: Any) -> dict[str, Any]:
    """Parse extra columns: numbers when every present cell is one, else text.

    Text that looks like an identifier rather than a quantity (a leading zero, more than
    15 digits) stays text, so "00123" and 19-digit ids are kept exactly.
    """
    out: dict[str, Any] = {}
    for orig, name in names.items():
        s = raw[orig]
        if name == "source_row":
            out[name] = pd.to_numeric(s, errors="coerce")
            continue
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[name] = s
            continue
        if pd.api.types.is_numeric_dtype(s.dtype):
            out[name] = _whole_as_int(s.astype("float64"))
            continue
        t = _strip(_as_text(s))
        missing = _token_missing(t)
        text = t.where(~missing)
        present = t[~missing]
        id_like = present.str.match(r"[+-]?0[0-9]") | (present.str.count(r"[0-9]") > 15)
        if len(present) and not id_like.any():
            # A column of percentages ("1.23%") is a column of fractions.
            percent = bool(present.str.endswith("%").all())
            body = t.str.slice(stop=-1) if percent else t
            vals, invalid = _parse_number(
                body, thousands_sep=thousands, three_digit_group="convention"
            )
            finite = np.isfinite(vals.to_numpy()[~missing]).all()
            if not invalid.any() and finite:
                out[name] = vals / 100.0 if percent else _whole_as_int(vals)
                continue
        out[name] = text
    return out


def _whole_as_int(values: pd.Series) -> pd.Series:
    """int64 when every value is a whole number below 2**53 and none is missing."""
    v = values.to_numpy(dtype="float64")
    if len(v) and not np.isnan(v).any() and (np.abs(v) < 2**53).all() and (v % 1 == 0).all():
        return pd.Series(v.astype(np.int64), index=values.index)
    return values


_MEASURE_WORDS: dict[str, tuple[str, ...]] = {
    "impressions": ("impression", "imps", "曝光", "展示"),
    "clicks": ("click", "点击"),
    "orders": ("order", "conversion", "purchase", "订单", "转化"),
    "gmv": ("gmv", "revenue", "sales", "salesamount", "销售额", "成交金额"),
}
_SITE_WORDS = ("site", "country", "market", "region", "站点", "国家", "地区")


def _number_like(values: pd.Series) -> bool:
    """True when most present cells of a column are numbers (so it can be a count)."""
    sample = values.iloc[:2000]
    present = ~is_missing(sample).to_numpy(bool)
    if not present.any():
        return False
    vals, invalid = _parse_number(sample[present])
    return bool((~invalid.to_numpy(bool)).mean() >= 0.9)


def _name_hint(header: str, words: Sequence[str], aliases: Sequence[str]) -> bool:
    """A header plausibly names a column: it contains one of ``words``, or is a close
    spelling of an accepted header."""
    import difflib

    key = normalise_header(header)
    if any(w in key for w in words):
        return True
    keys = [normalise_header(a) for a in aliases]
    return bool(difflib.get_close_matches(key, keys, n=1, cutoff=0.8))


def _suggest_columns(raw: pd.DataFrame, headers: Sequence[str], canon: str) -> list[str]:
    """Headers that plausibly hold ``canon``: the name fits AND the values do (numbers
    for a measure, site codes or names for site). No fit, no suggestion."""
    aliases = (canon, *HEADER_ALIASES.get(canon, ()))
    out = []
    for h in headers:
        if canon == "site":
            col = raw[h].iloc[:2000]
            codes = normalise_site(col).dropna()
            known = len(codes) and codes.isin(list(SITES)).mean() >= 0.9
            if known or (_name_hint(h, _SITE_WORDS, aliases) and len(codes)):
                out.append(h)
        elif _name_hint(h, _MEASURE_WORDS.get(canon, (canon,)), aliases) and _number_like(raw[h]):
            out.append(h)
    return out


def _mapping_fix(header: str, canon: str) -> str:
    return (
        f"`column_map: {{{_yaml_scalar(header)}: {canon}}}` in data.yaml / "
        f"column_map={{{header!r}: {canon!r}}} in Python"
    )


def _missing_required_error(
    table: _Table, mapping: Mapping[str, str], missing_site: bool, missing_measure: bool
) -> ExportError:
    """Say what is missing and give only fixes a user can pass as they are: a mapping
    is suggested only for a header whose name and values fit."""
    found = list(table.raw.columns)
    unmapped = [h for h in found if h not in mapping]
    parts = []
    if missing_site:
        fixes = [_mapping_fix(h, "site") for h in _suggest_columns(table.raw, unmapped, "site")]
        fixes.append(
            "the marketplace of every row: `site: US` in data.yaml / site='US' in Python "
            f"(use your code; accepted: {', '.join(SITES)}; GB means UK)"
        )
        parts.append(
            "no site column (accepted headers: "
            f"{list(HEADER_ALIASES['site'])}). Fix: " + "; or ".join(fixes)
        )
    if missing_measure:
        fixes = [
            _mapping_fix(h, canon)
            for canon in MEASURE_COLUMNS
            for h in _suggest_columns(table.raw, unmapped, canon)
        ]
        accepted = {c: list(HEADER_ALIASES[c])[:4] for c in MEASURE_COLUMNS}
        text = (
            f"none of the measures {list(MEASURE_COLUMNS)} (at least one is needed; headers "
            f"accepted include {accepted})."
        )
        if fixes:
            text += " Fix: " + "; or ".join(fixes)
        else:
            text += (
                " No header looks like one of them: rename the header in the file, or map it "
                "under column_map in data.yaml / column_map= in Python."
            )
        parts.append(text)
    optional = ", ".join(c for c in NEEDED_BY if c not in (*MEASURE_COLUMNS, "site"))
    return ExportError(
        f"{table.file}: cannot read this export: "
        + " Also: ".join(parts)
        + f" Found columns: {found} (recognised: {dict(mapping)}). Other columns ({optional}, "
        "...) are optional: an analysis that needs one says so."
    )


# ---------------------------------------------------------------------- finalising


@dataclass(frozen=True)
class _TierOption:
    """The ``tiers`` option, checked: follower thresholds or the user's own labels."""

    thresholds: Mapping[str, float] | None = None
    labels: tuple[str, ...] | None = None

    @property
    def dtype(self) -> pd.CategoricalDtype:
        if self.labels is None:
            return TIER_DTYPE
        return pd.CategoricalDtype(list(self.labels), ordered=True)


_TIERS_FORMS = (
    "None (default follower thresholds), {'thresholds': [10000, 100000, 500000, 1000000]} "
    "(lower follower bounds of micro, mid, macro, mega), {'thresholds': {'micro': 10000, "
    "'mid': 100000, 'macro': 500000, 'mega': 1000000}}, or {'labels': ['18-24', '25-34', ...]} "
    "(the ordered labels of the column mapped to tier); in data.yaml "
    "`tiers: {thresholds: [10000, 100000, 500000, 1000000]}` or `tiers: {labels: [18-24, 25-34]}`"
)


def _tier_option(tiers: Any) -> _TierOption:
    """Check the ``tiers`` option; accepted forms in :data:`_TIERS_FORMS`."""
    if tiers is None:
        return _TierOption()
    if not isinstance(tiers, Mapping):
        raise ExportError(f"tiers={tiers!r} is not understood; accepted: {_TIERS_FORMS}.")
    keys = set(tiers)
    if keys <= set(TIERS[1:]):  # the old plain mapping {"micro": 10000, ...}
        tiers = {"thresholds": dict(tiers)}
        keys = {"thresholds"}
    if len(keys) != 1 or not keys <= {"thresholds", "labels"}:
        raise ExportError(
            f"tiers={dict(tiers)!r}: give either 'thresholds' or 'labels' (one of them); "
            f"accepted: {_TIERS_FORMS}."
        )
    if "labels" in tiers:
        labels = tiers["labels"]
        if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
            raise ExportError(
                f"tiers={dict(tiers)!r}: labels must be a non-empty list; accepted: {_TIERS_FORMS}."
            )
        text = tuple(str(lb).strip() for lb in labels)
        if len(set(text)) != len(text) or not all(text):
            raise ExportError(f"tiers={dict(tiers)!r}: labels must be distinct and not empty.")
        return _TierOption(labels=text)
    th = tiers["thresholds"]
    if isinstance(th, Mapping):
        th = dict(th)
    elif isinstance(th, Sequence) and not isinstance(th, str) and len(th) == len(TIERS) - 1:
        th = dict(zip(TIERS[1:], th, strict=True))
    else:
        raise ExportError(
            f"tiers={dict(tiers)!r}: thresholds must be {len(TIERS) - 1} increasing follower "
            f"counts (lower bounds of {', '.join(TIERS[1:])}); accepted: {_TIERS_FORMS}."
        )
    try:
        tier_from_followers([0.0], th)
    except (ValueError, TypeError) as exc:
        raise ExportError(f"tiers={dict(tiers)!r}: {exc}; accepted: {_TIERS_FORMS}.") from exc
    return _TierOption(thresholds=th)


def _check_policy(orders_above_clicks: str) -> None:
    if orders_above_clicks not in ("reject", "keep"):
        raise ExportError(
            f"orders_above_clicks={orders_above_clicks!r} is not understood; accepted: 'reject' "
            "(default: such rows are rejected, counted) or 'keep' (view-through attribution: "
            "kept, counted); in data.yaml `orders_above_clicks: keep`."
        )


def _check_tier_column(parsed: _Parsed, tiers: _TierOption, provided: Sequence[str] = ()) -> None:
    """``tiers={'labels': ...}`` needs a column mapped to tier; suggest the columns
    whose values are all among the labels."""
    if tiers.labels is None or "tier" in parsed.typed or "tier" in provided:
        return
    labels = set(tiers.labels)
    fits = []
    for h in parsed.table.raw.columns:
        t = _strip(_as_text(parsed.table.raw[h]))
        present = t[~_token_missing(t)]
        if len(present) and present.isin(list(labels)).all():
            fits.append(h)
    fix = "; or ".join(_mapping_fix(h, "tier") for h in fits) or (
        "map the column that holds these labels to tier under column_map"
    )
    raise ExportError(
        f"{parsed.table.file}: tiers gives labels {list(tiers.labels)} but no column is read as "
        f"the tier. Found columns: {list(parsed.table.raw.columns)}. Fix: {fix}."
    )


def _finalise(
    parts: list[_Parsed],
    *,
    site: str | None,
    tiers: _TierOption,
    file_label: str,
    extra_notes: Sequence[str] = (),
    extra_reasons: Callable[[pd.DataFrame, _Reasons], None] | None = None,
    carried: Sequence[tuple[pd.DataFrame, LoadSummary]] = (),
    derived_columns: Sequence[str] = ("tier",),
    orders_above_clicks: str = "reject",
) -> LoadResult:
    """Combine parsed video parts, derive site/tier/refunds, validate, build the result."""
    offsets = np.cumsum([0] + [len(p.typed) for p in parts])
    n = int(offsets[-1])
    typed = pd.concat([p.typed for p in parts], ignore_index=True) if parts else pd.DataFrame()
    reasons = _Reasons(n)
    for p, off in zip(parts, offsets[:-1], strict=False):
        reasons.extend(p.reasons, int(off))
    blank = np.concatenate([p.blank for p in parts]) if parts else np.zeros(0, bool)
    notes: list[str] = [x for p in parts for x in p.notes] + list(extra_notes)
    site_code = None
    if site is not None:
        site_code = normalise_site([site]).iloc[0]
        if site_code not in SITES:
            raise ExportError(
                f"site={site!r} is not a known site code; accepted: {list(SITES)} (GB means UK)."
            )

    parsed_columns = list(typed.columns)
    if extra_reasons is not None:
        extra_reasons(typed, reasons)

    # Site: column wins per row; the argument fills gaps and must agree where both exist.
    if site_code is not None:
        if "site" in typed:
            col = typed["site"]
            disagree = col.notna() & (col != site_code)
            reasons.add(
                disagree.to_numpy(bool),
                "site disagrees with site= argument",
                lambda idx: (
                    "site disagrees with site= argument (file says "
                    + _quote(col.iloc[idx])
                    + f", site={site_code!r})"
                ),
            )
            typed["site"] = col.fillna(site_code)
        else:
            typed["site"] = site_code
            notes.append(f"site {site_code!r} from the site= argument applied to all rows")
    # Tier: an explicit tier wins; followers fill the gaps (not when the tier column
    # holds the user's own labels: follower thresholds give the kit's tier names).
    if "followers" in typed and tiers.labels is None:
        derived = tier_from_followers(typed["followers"], tiers.thresholds)
        if "tier" in typed:
            derived = derived.astype(object)
            derived = derived.where(pd.notna(derived), None)
            typed["tier"] = typed["tier"].where(typed["tier"].notna(), derived)
        else:
            typed["tier"] = derived  # already TIER_DTYPE: no per-row objects
            notes.append(
                "tier derived from followers (thresholds "
                f"{dict(tiers.thresholds) if tiers.thresholds else 'default'})"
            )
    if "refunds" not in typed:
        typed["refunds"] = 0.0
        notes.append("refunds column absent: refunds set to 0.0")
    # Exports write "--" for a refund or fee that did not happen: read it as 0.
    for c in ("refunds", "flat_fee", "sample_cost"):
        if c in typed and typed[c].isna().any():
            k = int((typed[c].isna().to_numpy(bool) & ~blank).sum())
            typed[c] = typed[c].fillna(0.0)
            if k:
                notes.append(f"{k} missing {c} cell(s) read as 0.0")
    if "gmv" in typed and "orders" in typed:
        fill = typed["gmv"].isna() & (typed["orders"] == 0)
        if fill.any():
            typed.loc[fill, "gmv"] = 0.0
            notes.append(f"{int(fill.sum())} missing gmv cell(s) on rows with 0 orders read as 0.0")

    # Missing values in columns that must be filled when present.
    not_blank = ~blank
    for c in VALUE_REQUIRED_COLUMNS:
        if c in typed:
            miss = typed[c].isna().to_numpy(bool) & not_blank
            # Values that come from a join or a derivation are only "missing" when nothing
            # else already explains it (e.g. "creator 'x' not in creators export").
            if c in derived_columns:
                miss &= ~reasons.mask()
            reasons.add(miss, f"missing {c}", f"missing {c}")

    # pandera: value checks on the parsed values. A vectorised pre-check with the same
    # row-wise predicates finds the rows that can fail; pandera (lazy=True) then runs on
    # those rows only (index labels are row positions), so its failure cases still
    # produce the reasons, and a clean file costs neither the schema nor the import.
    suspect = _validation_precheck(typed, orders_above_clicks)
    if suspect.any():
        import pandera.pandas as pa

        schema = validation_schema(orders_above_clicks)
        cols = [c for c in typed.columns if c in schema.columns]
        check_frame = typed[cols].iloc[np.flatnonzero(suspect)]
        if "site" in check_frame:
            check_frame = check_frame.assign(site=check_frame["site"].astype(object))
        try:
            schema.validate(check_frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            _failures_to_reasons(exc.failure_cases, typed, reasons)

    # Exact duplicate input rows within a file: keep the first.
    for p, off in zip(parts, offsets[:-1], strict=False):
        raw = p.table.raw
        if len(raw) < 2 or raw.shape[1] == 0:
            continue
        dup, first_pos = _duplicate_rows(raw)
        dup &= ~p.blank
        if dup.any():
            first_row = p.table.rownum[first_pos[dup]]
            full = np.zeros(n, dtype=bool)
            full[off : off + len(raw)] = dup
            msgs = np.array([f"duplicate row (same as row {r})" for r in first_row], dtype=object)
            reasons.add(full, "duplicate row", msgs)
    # The same row in two files (overlapping weekly exports) would be counted twice:
    # compare the parsed values, keep the copy in the earlier file.
    if len(parts) > 1 and parsed_columns:
        dup, first_pos = _duplicate_rows(typed[parsed_columns])
        part_of = np.searchsorted(offsets, np.arange(n), side="right") - 1
        across = dup & (part_of[first_pos] != part_of) & ~blank
        if across.any():
            idx = np.flatnonzero(across)
            fp = first_pos[idx]
            msgs = np.array(
                [
                    f"duplicate row (same values as row {parts[part_of[f]].table.rownum[f - offsets[part_of[f]]]} "
                    f"in {parts[part_of[f]].table.file})"
                    for f in fp
                ],
                dtype=object,
            )
            reasons.add(across, "duplicate row", msgs)
    _repeated_content(typed, reasons, blank, parts, offsets)

    bad = reasons.mask() & ~blank
    kept = ~bad & ~blank
    _add_provenance(typed, parts)
    above_kept = 0
    if orders_above_clicks == "keep" and "orders" in typed and "clicks" in typed:
        above = (typed["orders"] > typed["clicks"]).fillna(False).to_numpy(bool)
        above_kept = int((above & kept).sum())
        if above_kept:
            notes.append(
                f"{above_kept} row(s) with orders above clicks kept "
                "(orders_above_clicks='keep': view-through attribution)"
            )
    extras = {k: v for p in parts for k, v in p.extras.items()}
    data = _to_canonical(
        typed[kept].reset_index(drop=True), tiers.dtype, list(dict.fromkeys(extras.values()))
    )

    # Rejected rows: original values + file, row, reason.
    rf = reasons.frame()
    rf = rf[~blank[rf["pos"].to_numpy()]] if len(rf) else rf
    joined = (
        rf.groupby("pos", sort=True)["msg"].agg("; ".join) if len(rf) else pd.Series(dtype=object)
    )
    by_reason = (
        rf.drop_duplicates(["pos", "kind"])["kind"].value_counts().to_dict() if len(rf) else {}
    )
    rejected_parts = []
    for p, off in zip(parts, offsets[:-1], strict=False):
        sel = np.flatnonzero(bad[off : off + len(p.typed)])
        if len(sel) == 0:
            continue
        r = p.table.raw.iloc[sel].reset_index(drop=True)
        r.insert(0, "reason", joined.loc[sel + off].to_numpy())
        r.insert(0, "row", p.table.rownum[sel])
        r.insert(0, "file", p.table.file)
        rejected_parts.append(r)
    # Lines the CSV reader could not split into the header's columns.
    malformed_n = 0
    for p in parts:
        for num, text in p.table.malformed:
            fields = next(csv.reader([text]), [])
            row = dict(zip(p.table.raw.columns, fields, strict=False))
            rec = {
                "file": p.table.file,
                "row": num,
                "reason": f"malformed line ({len(fields)} field(s), the header has {p.table.raw.shape[1]})",
                **row,
            }
            rejected_parts.append(pd.DataFrame([rec]))
            malformed_n += 1
    if malformed_n:
        by_reason["malformed line"] = by_reason.get("malformed line", 0) + malformed_n
    carried_n = 0
    for rej, summ in carried:
        rejected_parts.append(rej)
        carried_n += len(rej)
        for k, v in summ.rejected_by_reason.items():
            by_reason[k] = by_reason.get(k, 0) + v
    if rejected_parts:
        rejected = pd.concat(rejected_parts, ignore_index=True)
    else:
        cols = ["file", "row", "reason"] + [c for p in parts for c in p.table.raw.columns]
        rejected = pd.DataFrame(columns=list(dict.fromkeys(cols)))
    rejected["row"] = rejected["row"].astype("int64")

    part_summaries = []
    for p, off in zip(parts, offsets[:-1], strict=False):
        seg_bad = bad[off : off + len(p.typed)]
        seg_blank = blank[off : off + len(p.typed)]
        part_summaries.append(
            LoadSummary(
                file=p.table.file,
                encoding=p.table.encoding,
                header_row=p.table.header_row,
                rows_read=int((~seg_blank).sum()) + len(p.table.malformed),
                rows_kept=int((~seg_bad & ~seg_blank).sum()),
                rows_rejected=int(seg_bad.sum()) + len(p.table.malformed),
                extra_columns={k: v for k, v in p.extras.items() if v not in PROVENANCE_COLUMNS},
                ignored_columns=p.ignored,
                column_mapping=p.mapping,
                duplicate_columns=p.duplicates,
                blank_rows=int(seg_blank.sum()),
            )
        )
    rows_rejected = int(bad.sum()) + malformed_n + carried_n
    rows_kept = len(data)
    summary = LoadSummary(
        file=file_label,
        encoding=", ".join(dict.fromkeys(str(p.table.encoding) for p in parts)) if parts else None,
        header_row=parts[0].table.header_row if len(parts) == 1 else None,
        rows_read=rows_kept + rows_rejected,
        rows_kept=rows_kept,
        rows_rejected=rows_rejected,
        rejected_by_reason=dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        ignored_columns=list(dict.fromkeys(c for p in parts for c in p.ignored)),
        column_mapping={k: v for p in parts for k, v in p.mapping.items()},
        duplicate_columns={k: v for p in parts for k, v in p.duplicates.items()},
        blank_rows=int(blank.sum()),
        notes=notes,
        parts=part_summaries if len(parts) > 1 else [],
        extra_columns={k: v for k, v in extras.items() if v not in PROVENANCE_COLUMNS},
        orders_above_clicks_kept=above_kept,
    )
    assert len(rejected) == rows_rejected, (len(rejected), rows_rejected)
    return LoadResult(data=data, rejected=rejected, summary=summary)


def _duplicate_rows(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exact duplicate rows: (mask of later copies, position of each row's first copy).

    Exact (no hashing collisions): rows get integer keys by factorizing one column at a
    time, and only rows still tied with another row are carried to the next column, so
    a file with a unique id column costs one factorize.
    """
    n = len(raw)
    cand = np.arange(n)
    key = np.zeros(n, dtype=np.int64)
    for c in raw.columns:
        col = raw[c].iloc[cand]
        codes, uniq = pd.factorize(col, use_na_sentinel=False)
        if len(uniq) == len(cand):  # every candidate distinct (e.g. a video id): no duplicates
            cand = cand[:0]
            break
        k, _ = pd.factorize(key[cand] * (len(uniq) + 1) + codes)
        key_c = k.astype(np.int64)
        tied = pd.Series(key_c).duplicated(keep=False).to_numpy()
        cand = cand[tied]
        key = np.zeros(n, dtype=np.int64)
        key[cand] = key_c[tied]
        if len(cand) == 0:
            break
    dup = np.zeros(n, dtype=bool)
    first = np.arange(n)
    if len(cand):
        ks = pd.Series(key[cand], index=cand)
        later = ks.duplicated(keep="first")
        dup[cand[later.to_numpy()]] = True
        first_of = ks.index.to_series().groupby(ks.to_numpy()).transform("min")
        first[cand] = first_of.to_numpy()
    return dup, first


def _fmt(values: pd.Series) -> pd.Series:
    """Numbers as text, whole floats without ``.0``."""
    v = values.astype("float64")
    whole = (v % 1 == 0).fillna(False).to_numpy(bool)
    txt = v.astype("str").to_numpy(object)
    txt[whole] = v[whole].astype("int64").astype("str").to_numpy(object)
    return pd.Series(txt, index=values.index, dtype="str")


def _failures_to_reasons(fc: pd.DataFrame, typed: pd.DataFrame, reasons: _Reasons) -> None:
    """Turn pandera failure cases into per-row reasons."""
    fc = fc[fc["index"].notna()].copy()
    n = len(typed)
    # Frame-wide checks report one failure case per column: keep one per row.
    wide = fc["schema_context"] == "DataFrameSchema"
    fc.loc[wide, "column"] = ""
    for (column, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        pos = np.unique(grp["index"].astype("int64").to_numpy())
        mask = np.zeros(n, dtype=bool)
        mask[pos] = True
        # Messages for the failing rows only (pos is sorted, as reasons.add expects).
        sub = typed.iloc[pos]
        check = str(check)
        if check in ("clicks > impressions", "orders > clicks"):
            a, b = check.split(" > ")
            msg = f"{check} (" + _fmt(sub[a]) + " > " + _fmt(sub[b]) + ")"
            reasons.add(mask, check, msg.to_numpy(object))
            continue
        col = str(column)
        if col not in sub:
            values = pd.Series("", index=sub.index, dtype="str")
        elif pd.api.types.is_numeric_dtype(sub[col].dtype):
            values = _fmt(sub[col])
        else:
            values = sub[col].astype("str")
        if check == "unknown site":
            kind = "unknown site"
            msg = "unknown site ('" + values + f"' is not one of {', '.join(SITES)}, GB means UK)"
        elif check.startswith("commission"):
            kind = "commission rate outside 0-80 %"
            msg = kind + " (" + values + ")"
        else:
            kind = f"{col} {check}"
            msg = kind + " (" + values + ")"
        reasons.add(mask, kind, msg.to_numpy(object))


def _as_category(s: pd.Series, first: Sequence[str] = ()) -> pd.Series:
    """Categorical with a stable order: ``first`` (those present), then sorted."""
    # Text columns are factorized by Arrow; the categories come out the same (str) as
    # through Python objects, without a million of them.
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat = s.cat.remove_unused_categories()
    elif s.dtype == "str":
        cat = s.astype("category")
    else:
        cat = s.astype("str").where(s.notna()).astype("category")
    cats = cat.cat.categories
    if not first and cats.is_monotonic_increasing:  # astype sorts already: skip the work
        return cat
    present = set(cats)
    order = [c for c in first if c in present] + sorted(present - set(first), key=str)
    return cat.cat.reorder_categories(order)


def _to_canonical(
    df: pd.DataFrame, tier_dtype: pd.CategoricalDtype = TIER_DTYPE, extras: Sequence[str] = ()
) -> pd.DataFrame:
    """Cast parsed columns to the canonical dtypes, in canonical order, then the extra
    columns (numbers as parsed, text as categoricals), then ``source_file`` and
    ``source_row``."""
    out: dict[str, Any] = {}
    for name, col in CANONICAL_COLUMNS.items():
        if name not in df:
            continue
        s = df[name]
        if col.dtype == "tier":
            out[name] = (
                s
                if s.dtype == tier_dtype
                else pd.Series(pd.Categorical(s.astype(object), dtype=tier_dtype), index=df.index)
            )
        elif col.dtype == "category":
            # Sites as in SITES, content types video/live/showcase first, else sorted.
            first = {"site": list(SITES), "content_type": ["video", "live", "showcase"]}
            out[name] = _as_category(s, first.get(name, ()))
        elif col.dtype == "int64":
            out[name] = s.astype("float64").round().astype("int64")
        elif col.dtype == "Int64":
            out[name] = s.astype("float64").round().astype("Int64")
        elif col.dtype == "string":
            out[name] = s.astype("string")
        elif col.dtype.startswith("datetime64"):
            out[name] = s.astype(col.dtype)
        else:
            out[name] = s.astype(col.dtype)
    for name in extras:
        if name in df and name not in PROVENANCE_COLUMNS:
            s = df[name]
            numeric = pd.api.types.is_numeric_dtype(
                s.dtype
            ) or pd.api.types.is_datetime64_any_dtype(s.dtype)
            out[name] = s if numeric else _as_category(s)
    if "source_file" in df:
        out["source_file"] = _as_category(df["source_file"])
        out["source_row"] = df["source_row"].astype("int64")
    return pd.DataFrame(out, index=df.index, copy=False)


def _add_provenance(typed: pd.DataFrame, parts: Sequence[_Parsed]) -> None:
    """``source_file`` / ``source_row`` of every row: the file and its row number as
    Excel shows it. A frame that already carries them (one the loader made) keeps them."""
    files = np.concatenate([np.full(len(p.typed), p.table.file, dtype=object) for p in parts])
    rows = np.concatenate([p.table.rownum for p in parts]).astype(np.int64)
    file_s = pd.Series(files, index=typed.index, dtype="str")
    row_s = pd.Series(rows, index=typed.index)
    if "source_file" in typed:
        given = typed["source_file"].astype(object)
        file_s = given.where(given.notna(), file_s).astype("str")
    if "source_row" in typed:
        given_row = pd.to_numeric(typed["source_row"], errors="coerce")
        row_s = given_row.where(given_row.notna(), row_s).astype("int64")
    typed["source_file"] = file_s
    typed["source_row"] = row_s


def _repeated_content(
    typed: pd.DataFrame,
    reasons: _Reasons,
    blank: np.ndarray,
    parts: Sequence[_Parsed],
    offsets: np.ndarray,
) -> None:
    """Rows repeating a content id (same site, content_id, and product_id and date when
    present) that are not exact duplicates: keep the one with most impressions (then
    clicks, then the first), reject the others naming the kept row. Rows already
    rejected take no part, so a broken copy never displaces a good one."""
    if "content_id" not in typed or len(typed) < 2:
        return
    keys = [c for c in ("site", "content_id", "product_id", "date") if c in typed]
    cand = np.flatnonzero(~reasons.mask() & ~blank & typed["content_id"].notna().to_numpy(bool))
    if len(cand) < 2:
        return
    sub = typed.iloc[cand]
    group = sub.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    counts = np.bincount(group)
    rep = counts[group] > 1
    if not rep.any():
        return
    cand, group, sub = cand[rep], group[rep], sub[rep]
    order_keys = [np.arange(len(cand))]
    for c in ("clicks", "impressions"):  # lexsort: last key is the primary one
        if c in sub:
            order_keys.append(-sub[c].to_numpy(dtype="float64", na_value=-1.0))
    order_keys.append(group)
    order = np.lexsort(order_keys)
    first_in_group = np.ones(len(order), dtype=bool)
    first_in_group[1:] = group[order][1:] != group[order][:-1]
    winner_of_group = dict(
        zip(group[order][first_in_group], cand[order][first_in_group], strict=True)
    )
    losers = cand[order][~first_in_group]
    part_of = np.searchsorted(offsets, losers, side="right") - 1
    winners = np.array([winner_of_group[g] for g in group[order][~first_in_group]])
    win_part = np.searchsorted(offsets, winners, side="right") - 1
    by = "/".join(keys)
    msgs = [
        f"repeated content id (same {by} as row "
        f"{parts[wp].table.rownum[w - offsets[wp]]}"
        + (f" in {parts[wp].table.file}" if wp != lp else "")
        + ", which is kept: most impressions, then clicks, then first)"
        for w, wp, lp in zip(winners, win_part, part_of, strict=True)
    ]
    mask = np.zeros(len(typed), dtype=bool)
    mask[losers] = True
    order_l = np.argsort(losers)
    reasons.add(mask, "repeated content id", np.asarray(msgs, dtype=object)[order_l])


# ---------------------------------------------------------------------- public API


def _check_required(parsed: _Parsed, *, site: str | None) -> None:
    """The loader needs a site (column or option) and at least one measure."""
    have = set(parsed.mapping.values())
    missing_site = "site" not in have and site is None
    missing_measure = not have & set(MEASURE_COLUMNS)
    if missing_site or missing_measure:
        raise _missing_required_error(parsed.table, parsed.mapping, missing_site, missing_measure)


def read_export(
    source: str | Path | pd.DataFrame,
    *,
    site: str | None = None,
    column_map: Mapping[str, str] | None = None,
    tiers: Mapping[str, Any] | None = None,
    date_format: str | None = None,
    kind: str | None = None,
    orders_above_clicks: str = "reject",
) -> LoadResult:
    """Read one self-contained export (CSV, XLSX, Parquet or DataFrame) into the
    canonical frame.

    The loader requires only a site (a column, or the ``site`` option) and at least one
    of impressions, clicks, orders and GMV. Other canonical columns are optional: absent
    from the file means absent from ``.data`` (except ``refunds``: 0.0, with a note),
    and a row check runs only when its columns are present. Columns the kit does not
    know are kept as extra columns under identifier names (``"Age Band"`` ->
    ``age_band``; ``summary.extra_columns``), as numbers when every present cell is one,
    else as categoricals. Every kept row carries ``source_file`` and ``source_row`` (its
    row number as Excel shows it). Key columns (site, creator_id, product_id,
    content_id, category, content_type, tier, source_file) are categoricals. A content
    id repeated with different values (same site, content_id, and product_id and date
    when present) keeps the row with the most impressions (then clicks, then the
    first); the others are rejected "repeated content id".

    Parameters
    ----------
    source : str, Path or DataFrame
        The export. CSV may be UTF-8 (with or without BOM) or GB18030/GBK; XLSX may have
        title rows above the header (the header row is found among the first 15 rows).
    site : str, optional
        Site code for every row (``"US"``, ``"GB"``/``"UK"``, ...). Rows whose own site
        column disagrees are rejected.
    column_map : mapping, optional
        ``{your header: canonical name}`` for headers the kit does not know, or
        ``{your header: new_name}`` to keep an extra column under a name of your choice
        (a lowercase identifier that is not a near-spelling of a canonical name).
    tiers : mapping, optional
        ``None`` (default follower thresholds: :data:`helpers.schema.DEFAULT_TIER_THRESHOLDS`),
        ``{"thresholds": [10000, 100000, 500000, 1000000]}`` (lower follower bounds of
        micro, mid, macro, mega), ``{"thresholds": {"micro": 10000, ...}}`` or the plain
        mapping ``{"micro": 10000, ...}``, or ``{"labels": ["18-24", "25-34", ...]}``:
        the column mapped to ``tier`` becomes an ordered categorical with exactly these
        labels (a row with another value is rejected "unknown tier label"; followers do
        not fill tiers then).
    date_format : str, optional
        ``strftime`` format of the date column, e.g. ``"%d/%m/%Y"``.
    kind : {"csv", "excel", "parquet"}, optional
        File type when the extension does not tell.
    orders_above_clicks : {"reject", "keep"}
        ``"reject"`` (default): a row with more orders than clicks is rejected (counted).
        ``"keep"``: such rows are kept (view-through attribution), counted in
        ``summary.notes`` and ``summary.orders_above_clicks_kept``.

    Returns
    -------
    LoadResult

    Raises
    ------
    ExportError
        Unreadable file, no site or no measure column, ambiguous dates, unknown ``site``,
        a tier column that is mostly not tier names (asks for ``tiers={"labels": [...]}``),
        an invalid option. Each message says how to fix it with a ``data.yaml`` key or
        a Python keyword.
    """
    tier_option = _tier_option(tiers)
    _check_policy(orders_above_clicks)
    table = _read_source(source, kind, column_map)
    parsed = _parse_table(
        table,
        role="videos",
        column_map=column_map,
        date_format=date_format,
        site=site,
        tier_labels=tier_option.labels,
    )
    _check_required(parsed, site=site)
    _check_tier_column(parsed, tier_option)
    return _finalise(
        [parsed],
        site=site,
        tiers=tier_option,
        file_label=table.file,
        orders_above_clicks=orders_above_clicks,
    )


def _unwrap(source: Any) -> tuple[Any, LoadResult | None]:
    """A LoadResult-like input becomes its ``.data`` (and is remembered for its rejects)."""
    data = getattr(source, "data", None)
    if not isinstance(source, pd.DataFrame) and isinstance(data, pd.DataFrame):
        return data, source if isinstance(getattr(source, "summary", None), LoadSummary) else None
    return source, None


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    return list(x) if isinstance(x, list | tuple) else [x]


@dataclass
class _Lookup:
    role: str
    key: str
    keys: list[str]
    frame: pd.DataFrame
    files: str
    rejected_keys: dict[str, str]
    rows_rejected: int


def _read_lookup(
    sources: list[Any],
    role: str,
    *,
    column_map: Mapping[str, str] | None,
    date_format: str | None,
    tier_labels: Sequence[str] | None = None,
) -> _Lookup:
    key = "creator_id" if role == "creators" else "product_id"
    frames = []
    rejected_keys: dict[str, str] = {}
    files = []
    n_rejected = 0
    rownums = []
    for src in sources:
        src, _ = _unwrap(src)
        table = _read_source(src, None, column_map)
        files.append(table.file)
        parsed = _parse_table(
            table,
            role=role,
            column_map=column_map,
            date_format=date_format,
            site=None,
            tier_labels=tier_labels,
        )
        typed = parsed.typed
        if key not in typed:
            raise _no_key_error(table, role, key, parsed.mapping, f"the {role} export")
        useful = [c for c in _LOOKUP_COLUMNS[role] if c in typed and c != key]
        if not useful or useful == ["site"]:
            wanted = [c for c in _LOOKUP_COLUMNS[role] if c not in (key, "site")]
            accepted = {c: list(HEADER_ALIASES[c])[:4] for c in wanted}
            raise ExportError(
                f"{table.file}: the {role} export has none of the columns it is needed for "
                f"({wanted}; headers accepted include {accepted}). Found columns: "
                f"{list(table.raw.columns)}. Fix: rename the headers in the file or map them "
                "under column_map (data.yaml) / column_map= (Python); or leave the export out."
            )
        bad = parsed.reasons.mask() | (typed[key].isna().to_numpy(bool) & ~parsed.blank)
        rf = parsed.reasons.frame()
        joined = rf.groupby("pos")["msg"].agg("; ".join) if len(rf) else pd.Series(dtype=object)
        for pos in np.flatnonzero(bad):
            k = typed[key].iloc[pos]
            if isinstance(k, str):
                why = str(joined.get(pos, "missing values")).replace("; ", " / ")
                rejected_keys[k] = (
                    f"its row {table.rownum[pos]} in {table.file} was rejected: {why}"
                )
        n_rejected += int(bad.sum())
        good = ~bad & ~parsed.blank
        frames.append(typed[good].assign(_file=table.file, _row=table.rownum[good]))
        rownums.append(table.rownum[good])
    frame = pd.concat(frames, ignore_index=True)
    keys = [key]
    if "site" in frame and frame["site"].notna().all() and len(frame):
        keys.append("site")
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        d = frame[dup]
        groups = d.groupby(keys, sort=False)
        examples = []
        for k, g in list(groups)[:10]:
            where = ", ".join(f"{f} row {r}" for f, r in zip(g["_file"], g["_row"], strict=False))
            examples.append(f"{k!r} at {where}")
        raise ExportError(
            f"{', '.join(files)}: the {role} export lists the same {'/'.join(keys)} more than once "
            f"({int(groups.ngroups)} key(s)), so the join would be ambiguous: "
            + "; ".join(examples)
            + ". Fix: keep one row per key (or add a site column when the same key exists on several sites)."
        )
    return _Lookup(role, key, keys, frame, ", ".join(files), rejected_keys, n_rejected)


def _no_key_error(
    table: _Table, role: str, key: str, mapping: Mapping[str, str], what: str
) -> ExportError:
    """A join key is missing: suggest a mapping only for a header whose name fits."""
    unmapped = [h for h in table.raw.columns if h not in mapping]
    aliases = (key, *HEADER_ALIASES[key])
    words = {"creator_id": ("creator", "达人", "influencer"), "product_id": ("product", "商品")}[
        key
    ]
    fits = [h for h in unmapped if _name_hint(h, words, aliases)]
    fix = "; or ".join(_mapping_fix(h, key) for h in fits) or (
        "rename the header in the file to one of the accepted headers"
    )
    return ExportError(
        f"{table.file}: {what} has no {key} column to join the {role} export on. Found "
        f"columns: {list(table.raw.columns)}; accepted headers: {list(HEADER_ALIASES[key])}. "
        f"Fix: {fix}; or leave the {role} export out."
    )


def assemble(
    videos: Any,
    creators: Any = None,
    products: Any = None,
    *,
    site: str | None = None,
    column_map: Mapping[str, str] | None = None,
    tiers: Mapping[str, Any] | None = None,
    date_format: str | None = None,
    orders_above_clicks: str = "reject",
) -> LoadResult:
    """Join a video export to a creator export and a product export.

    Parameters
    ----------
    videos : path, DataFrame, LoadResult, or a list of them
        The content rows (creator, product, impressions, clicks, orders, GMV, ...).
        Several files (e.g. one per week) are concatenated; row numbers stay per file.
    creators : path, DataFrame, LoadResult, or a list of them, optional
        Creator name -> followers (and/or tier). Joined on ``creator_id`` (and ``site``
        when the creator export has a site on every row).
    products : path, DataFrame, LoadResult, or a list of them, optional
        Product ID -> category and commission rate. Joined on ``product_id`` (and
        ``site`` likewise).
    site, column_map, tiers, date_format, orders_above_clicks
        As in :func:`read_export`.

    Returns
    -------
    LoadResult
        Every video row is kept or rejected with a reason; a video whose creator or
        product is not in the lookup export is rejected ("creator 'x' not in creators
        export"). Values in the video export win; lookup values fill what is missing.
        Extra columns, ``source_file`` and ``source_row`` come from the video export.

    Raises
    ------
    ExportError
        Missing columns, a lookup export with duplicated keys (naming the rows).
    """
    tier_option = _tier_option(tiers)
    _check_policy(orders_above_clicks)
    lookups = []
    for role, src in (("creators", creators), ("products", products)):
        if _as_list(src):
            lookups.append(
                _read_lookup(
                    _as_list(src),
                    role,
                    column_map=column_map,
                    date_format=date_format,
                    tier_labels=tier_option.labels,
                )
            )
    provided = {c for lk in lookups for c in lk.frame.columns if not c.startswith("_")}
    parts: list[_Parsed] = []
    carried: list[tuple[pd.DataFrame, LoadSummary]] = []
    video_list = _as_list(videos)
    if not video_list:
        raise ExportError("assemble: no video export given; pass videos=<path or DataFrame>.")
    for v in video_list:
        src, prior = _unwrap(v)
        if prior is not None and len(prior.rejected):
            carried.append((prior.rejected, prior.summary))
        table = _read_source(src, None, column_map)
        parsed = _parse_table(
            table,
            role="videos",
            column_map=column_map,
            date_format=date_format,
            site=site,
            tier_labels=tier_option.labels,
        )
        _check_required(parsed, site=site)
        _check_tier_column(parsed, tier_option, sorted(provided))
        for lk in lookups:
            if lk.key not in parsed.typed:
                raise _no_key_error(
                    table, lk.role, lk.key, parsed.mapping, f"the video export ({lk.files})"
                )
        parts.append(parsed)
    site_code = normalise_site([site]).iloc[0] if site is not None else None

    def join(typed: pd.DataFrame, reasons: _Reasons) -> None:
        for lk in lookups:
            right_cols = [c for c in lk.frame.columns if not c.startswith("_")]
            right = lk.frame[right_cols]
            left_keys = {lk.key: typed[lk.key]}
            if "site" in lk.keys:
                vs = (
                    typed["site"]
                    if "site" in typed
                    else pd.Series(None, index=typed.index, dtype=object)
                )
                left_keys["site"] = vs.astype(object).where(vs.notna(), site_code)
            # Integer keys from a joint factorize, then a hash lookup (much faster than
            # DataFrame.merge on strings for a million rows).
            lkey = np.zeros(len(typed), dtype=np.int64)
            rkey = np.zeros(len(right), dtype=np.int64)
            for k in lk.keys:
                both = pd.concat([_as_text(left_keys[k]), _as_text(right[k])], ignore_index=True)
                codes, uniq = pd.factorize(both)
                lc, rc = codes[: len(typed)], codes[len(typed) :]
                lkey = np.where((lkey >= 0) & (lc >= 0), lkey * (len(uniq) + 1) + lc, -1)
                rkey = rkey * (len(uniq) + 1) + rc
            pos = pd.Index(rkey).get_indexer(lkey)
            pos = np.where(lkey >= 0, pos, -1)
            found = pos >= 0
            unmatched = ~found & typed[lk.key].notna().to_numpy(bool)
            if unmatched.any():
                who = lk.role[:-1]
                sub = pd.Series(left_keys[lk.key][unmatched].astype(object).to_numpy())
                keys_txt = sub.astype("str")
                if "site" in lk.keys:
                    site_txt = pd.Series(left_keys["site"][unmatched].to_numpy()).astype("str")
                    keys_txt = keys_txt + "' on site '" + site_txt
                mapped = sub.map(lk.rejected_keys).astype(object)
                extra = (" (" + mapped.where(mapped.notna(), "").astype("str") + ")").where(
                    mapped.notna(), ""
                )
                msg = (
                    f"{who} not in {lk.role} export ({who} '"
                    + keys_txt
                    + f"' not in {lk.files})"
                    + extra.astype("str")
                )
                reasons.add(unmatched, f"{who} not in {lk.role} export", msg.to_numpy(object))
            take = np.where(found, pos, 0)
            for c in right_cols:
                if c in lk.keys:
                    continue
                vals = (
                    right[c].iloc[take].reset_index(drop=True)
                    if len(right)
                    else pd.Series([None] * len(typed), dtype=object)
                )
                vals.index = typed.index
                vals = vals.where(pd.Series(found, index=typed.index))
                if c in typed:
                    typed[c] = typed[c].where(typed[c].notna(), vals)
                else:
                    typed[c] = vals

    notes = [f"joined {lk.role} export {lk.files} on {lk.keys}" for lk in lookups]
    notes += [
        f"{lk.role} export {lk.files}: {lk.rows_rejected} row(s) unusable (videos joining them are rejected)"
        for lk in lookups
        if lk.rows_rejected
    ]
    label = ", ".join(p.table.file for p in parts)
    return _finalise(
        parts,
        site=site,
        tiers=tier_option,
        file_label=label,
        extra_notes=notes,
        extra_reasons=join if lookups else None,
        carried=carried,
        derived_columns=("tier", *sorted(provided)),
        orders_above_clicks=orders_above_clicks,
    )


_ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("videos", ("video", "视频", "content", "内容")),
    ("creators", ("creator", "达人", "influencer", "kol")),
    ("products", ("product", "商品", "item")),
)


def _sniff_role(path: Path, column_map: Mapping[str, str] | None) -> str | None:
    """Guess an export's role from its headers (first rows only)."""
    try:
        kind = _FILE_KINDS.get(path.suffix.lower())
        if kind == "parquet":
            import pyarrow.parquet as pq

            rows = [pq.read_schema(path).names]
        elif kind == "excel":
            rows = pd.read_excel(
                path, header=None, nrows=HEADER_SCAN_ROWS, dtype=object
            ).values.tolist()
        else:
            with path.open("rb") as fh:
                head = fh.read(65536)
            text = _decode(head, str(path))[0] if head else ""
            rows = list(csv.reader(io.StringIO(text)))[:HEADER_SCAN_ROWS]
    except (ExportError, OSError, ValueError):
        return None
    if not rows:
        return None
    hi = _find_header(rows, column_map)
    cols = {canonical_name(c, column_map) for c in rows[hi]} - {None}
    if len(cols & {"impressions", "clicks", "orders"}) >= 2:
        return "videos"
    if "product_id" in cols and cols & {"category", "commission_rate"}:
        return "products"
    if "creator_id" in cols and cols & {"followers", "tier"}:
        return "creators"
    return None


def load_dataset(
    path: str | Path,
    *,
    site: str | None = None,
    column_map: Mapping[str, str] | None = None,
    tiers: Mapping[str, int] | None = None,
    date_format: str | None = None,
) -> LoadResult:
    """Load the data a notebook analyses: one export file or a folder of exports.

    Parameters
    ----------
    path : str or Path
        A file (read with :func:`read_export`) or a folder. In a folder, files are
        recognised by name (video/videos/视频, creator/creators/达人, product/products/
        商品), otherwise by their headers; all video files are concatenated, then joined
        to the creator and product exports with :func:`assemble`. Sub-folders are not
        searched. Relative paths are resolved with :func:`helpers.paths.resolve`.
    site, column_map, tiers, date_format
        As in :func:`read_export`.

    Returns
    -------
    LoadResult

    Raises
    ------
    ExportError
        Path not found, or a folder without a video export (the message lists the files).
    """
    p = paths.resolve(path)
    if p.is_file():
        return read_export(
            p, site=site, column_map=column_map, tiers=tiers, date_format=date_format
        )
    if not p.is_dir():
        raise ExportError(
            f"{path}: no such file or folder (looked at {p}). Pass a folder of exports or one export "
            "file; relative paths are taken from the current folder, then from the repo root."
        )
    files = sorted(
        f
        for f in p.iterdir()
        if f.is_file() and f.suffix.lower() in _FILE_KINDS and not f.name.startswith(("~$", "."))
    )
    roles: dict[str, list[Path]] = {"videos": [], "creators": [], "products": []}
    unknown: list[str] = []
    for f in files:
        name = f.stem.casefold()
        role = next((r for r, words in _ROLE_WORDS if any(w in name for w in words)), None)
        role = role or _sniff_role(f, column_map)
        if role is None:
            unknown.append(f.name)
        else:
            roles[role].append(f)
    if not roles["videos"]:
        listing = [f.name for f in sorted(p.iterdir())]
        raise ExportError(
            f"{p}: no video export found. Files in the folder: {listing}. A video export is a CSV/XLSX/"
            "Parquet file whose name contains 'video' (or 视频) or whose headers include impressions, "
            "clicks and orders. Fix: rename the file (e.g. videos.csv) or pass the file path itself."
        )
    if not roles["creators"] and not roles["products"] and len(roles["videos"]) == 1:
        result = read_export(
            roles["videos"][0],
            site=site,
            column_map=column_map,
            tiers=tiers,
            date_format=date_format,
        )
    else:
        result = assemble(
            roles["videos"],
            roles["creators"] or None,
            roles["products"] or None,
            site=site,
            column_map=column_map,
            tiers=tiers,
            date_format=date_format,
        )
    if unknown:
        result.summary.notes.append(f"files not recognised as exports and not read: {unknown}")
    return result
