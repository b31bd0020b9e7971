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
  abbreviations ``K``, ``M``, ``B``, ``万`` (1e4) and ``亿`` (1e8), and ``1e6``;
* refused number cells (each a counted rejection naming the column's header and the
  cell): text (``"<col> not a number"``), booleans (``TRUE``, ``false``, 是/否, or a bool
  column), misplaced separators (``"1,2,3"``, ``"1.2.3,4"``, Indian ``"12,34,567"``: no
  site groups digits that way; thousands separators come every three digits), a
  currency sign in a count or rate, or an unknown one in money (all ``"<col> not a
  number"``); ``inf``, ``NaN``, ``Infinity`` (``"<col> not finite"``; ``"NaN"`` in a text
  column stays missing); magnitudes beyond :data:`MAX_MAGNITUDE` = 1e15 in counts,
  followers and money (``"<col> out of range"``, never a wrapped int64); a money cell
  whose sign contradicts the expected currency (``"currency mismatch"``: ``"£980"`` on a
  US row; the ``currency`` option, else the row's site currency; rows of unknown site
  are not judged; ``"$"`` fits USD, SGD, MXN and other dollars);
* total rows: a creator cell or first text cell reading Total, Grand total, Subtotal,
  Sum, 合计, 总计, 小计 or 汇总 (any case, optional ``:``) rejects the row as ``"total
  row"`` (its only reason), so a footer is never added in;
* rates (:func:`parse_rate`): ``"12.5%"`` is 0.125 (per cell). Plain numbers are read on
  one scale per column (``commission_scale``: ``"fraction"`` 0.15, ``"percent"`` 15,
  ``"api"`` 1500 for 15 %); by default the scale every positive plain value fits, since
  rates are 1-80 % (fractions <= 1, percentage points 1-100, API units >= 100; a column
  of 1s is 1 %). A column mixing scales (``15`` and ``150``; ``0.15`` and ``15``) is an
  :class:`ExportError` naming the rows and the fix (``commission_scale: percent``);
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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import ExportError, ParameterError
from helpers.io import categorical as _cat
from helpers.io.readers import (
    FILE_KINDS,
    RawTable,
    find_header,
    header_score,
    read_head_rows,
    read_source,
    unique_headers,
)
from helpers.io.readers import (
    HEADER_SCAN_ROWS as HEADER_SCAN_ROWS,
)
from helpers.schema import (
    CANONICAL_COLUMNS,
    COUNT_COLUMNS,
    CURRENCY_SIGNS,
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
    "MAX_MAGNITUDE",
    "MISSING_TOKENS",
    "RATE_SCALES",
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

_FILE_KINDS = FILE_KINDS

_CURRENCY_RE = r"(?:[A-Za-z]{1,3}\s?[$£€¥₫฿₱₩₹]?|[$£€¥₫฿₱₩₹])"
_NUMBER_TEXT = re.compile(
    r"^\(?\s*[-−+]?\s*(?:" + _CURRENCY_RE + r"\s*)?[-−+]?\s*"
    r"(?:\d[\d.,'\s\u00a0\u202f]*\d|\d)"
    r"\s*[KkMmBb万亿]?\s*(?:" + _CURRENCY_RE + r")?\s*[-−]?\s*\)?$"
)
_MULTIPLIERS: dict[str, float] = {"k": 1e3, "m": 1e6, "b": 1e9, "万": 1e4, "亿": 1e8}


# --------------------------------------------------------------------------- parsers


def _as_text(values: Any) -> pd.Series:
    """Return values as a pandas ``str`` Series (NaN for missing), keeping the index."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.StringDtype):
        return s.astype("str")
    if _cat.is_categorical(s):  # the categories' text, taken by code (no per-row work)
        return _cat.categorical_text(s)
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

    # utf8_trim_whitespace is what str.strip() runs: trim once, and keep the original
    # (no new column) when no cell got shorter.
    trimmed = pc.utf8_trim_whitespace(arr)
    if pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(arr))).as_py() is not False:
        return t
    return t.str.strip()


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
    if _cat.is_categorical(s):  # judged once per category
        codes, cats = _cat.category_values(s)
        per_cat = np.append(is_missing(cats).to_numpy(bool), True)
        return pd.Series(per_cat[np.where(codes >= 0, codes, len(cats))], index=s.index)
    t = _as_text(s)
    return pd.Series(_token_missing(t.str.strip()), index=s.index)


def _broadcast(value: str | Sequence[str] | pd.Series | np.ndarray, index: pd.Index) -> np.ndarray:
    if isinstance(value, str):
        return np.full(len(index), value, dtype=object)
    arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value, dtype=object)
    if len(arr) != len(index):
        raise ParameterError(f"separator array has {len(arr)} values for {len(index)} cells")
    return arr


#: Largest magnitude accepted for counts, followers and money. Beyond it a value is an
#: overflow or a typo (no video has 10^15 impressions), and float64 soon stops holding
#: every whole number (2^53 is about 9.007e15): the loader rejects it as "out of range".
MAX_MAGNITUDE = 1e15

# Why a number cell was refused: the codes of _NumberCells.problem (0: fine or missing).
(
    _P_OK,
    _P_NOT_NUMBER,
    _P_BOOLEAN,
    _P_SEPARATORS,
    _P_SIGN,
    _P_NOT_FINITE,
    _P_OUT_OF_RANGE,
    _P_CURRENCY,
) = range(8)

#: Words that spell a non-finite number ("NaN" is missing in a text column but, written
#: into a number column, it is the output of a failed computation: rejected).
_NON_FINITE_WORDS = frozenset(
    {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
    | {"∞", "+∞", "-∞", "#div/0!", "#num!"}
)
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "是", "否", "真", "假"})
_WORD_LEN = max(len(w) for w in _NON_FINITE_WORDS | _BOOLEAN_WORDS)
_SIGN_INDEX = pd.Index(list(CURRENCY_SIGNS))
_SIGN_POS = {sig: i for i, sig in enumerate(CURRENCY_SIGNS)}
_UNKNOWN_SIGN = len(_SIGN_INDEX)
#: Every currency code the ``currency`` option accepts.
_CURRENCY_CODES: tuple[str, ...] = tuple(sorted({c for cs in CURRENCY_SIGNS.values() for c in cs}))


@dataclass
class _NumberCells:
    """Parsed number cells: float64 ``values`` (NaN where missing or refused) and int8
    ``problem`` codes (``_P_OK`` where the cell is fine or missing)."""

    values: np.ndarray
    problem: np.ndarray


def _numeric_cells(s: pd.Series, limit: float | None) -> _NumberCells:
    """Cells of a numeric or boolean column (DataFrame / Parquet input)."""
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        # True/False in a count or money column is a flag, not a number.
        problem = np.where(s.notna().to_numpy(bool), _P_BOOLEAN, _P_OK).astype(np.int8)
        return _NumberCells(np.full(n, np.nan), problem)
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    problem = np.zeros(n, dtype=np.int8)
    nan_values = isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and (
        pd.api.types.is_float_dtype(s.dtype)
    )
    if n and not nan_values:
        # The usual column: every value within the limit (so finite), told by two
        # NaN-skipping reductions instead of per-cell masks.
        top, bottom = np.fmax.reduce(v), np.fmin.reduce(v)
        bound = np.inf if limit is None else limit
        if not (top > bound or bottom < -bound or np.isinf(top) or np.isinf(bottom)):
            return _NumberCells(v, problem)
    not_finite = np.isinf(v)
    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
        # Nullable and Arrow floats tell a NaN value (a failed computation: not finite)
        # from a null (missing); numpy float64 holds both as NaN (missing).
        not_finite |= np.isnan(v) & ~s.isna().to_numpy(bool)
    problem[not_finite] = _P_NOT_FINITE
    if limit is not None:
        with np.errstate(invalid="ignore"):
            problem[~not_finite & (np.abs(v) > limit)] = _P_OUT_OF_RANGE
    if problem.any():
        v = np.where(problem == _P_OK, v, np.nan)
    return _NumberCells(v, problem)


def _number_cells(
    values: Any,
    *,
    thousands_sep: Any = ",",
    three_digit_group: str = "convention",
    limit: float | None = None,
    currency: str | pd.Categorical | None = None,
    signs_allowed: bool = True,
) -> _NumberCells:
    """Parse number cells and say, per cell, why one is refused.

    Parameters
    ----------
    values : array-like
        Raw cells (text, numbers or booleans).
    thousands_sep : str, sequence or Categorical
        The site convention per cell (settles ``"1.234"`` for money).
    three_digit_group : {"convention", "thousands"}
        ``"thousands"`` for counts: ``"1.234"`` is always 1234.
    limit : float, optional
        Largest magnitude accepted (:data:`MAX_MAGNITUDE` for counts and money).
    currency : str or Categorical of str, optional
        Expected currency code, one for all cells or one per cell (missing: unknown, not
        judged). A currency sign that cannot stand for it is ``_P_CURRENCY``.
    signs_allowed : bool
        False for counts and rates: any currency sign or unit makes a cell ``_P_SIGN``.
        True for money: an unknown sign makes it ``_P_SIGN``.

    Returns
    -------
    _NumberCells
        Each distinct (text, separator) pair is parsed once, so repeated values cost
        nothing; only the currency comparison runs per row.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return _numeric_cells(s, limit)
    t = _as_text(s)
    codes, uniques = pd.factorize(t)
    uniques = pd.Series(uniques, dtype="str")
    if three_digit_group == "thousands":
        # The separator convention only settles "1.234" for money; counts ignore it.
        thousands_sep = ","
    key, u, th_u = _pair_keys(codes, uniques, thousands_sep, len(t))
    vals_u, problem_u, sign_u = _parse_unique_numbers(u, th_u, three_digit_group)
    if limit is not None:
        with np.errstate(invalid="ignore"):
            problem_u[(problem_u == _P_OK) & (np.abs(vals_u) > limit)] = _P_OUT_OF_RANGE
    has_sign = (sign_u >= 0) & (problem_u == _P_OK)
    if signs_allowed:
        problem_u[has_sign & (sign_u == _UNKNOWN_SIGN)] = _P_SIGN
    else:
        problem_u[has_sign] = _P_SIGN
    # key -1 (missing cell) picks the appended NaN / _P_OK slot.
    problem = np.append(problem_u, _P_OK).astype(np.int8)[key]
    if currency is not None and ((sign_u >= 0) & (problem_u == _P_OK)).any():
        sign = np.append(sign_u, -1)[key]
        problem[_currency_mismatch(sign, problem, currency)] = _P_CURRENCY
    vals_u = np.where(problem_u == _P_OK, vals_u, np.nan)
    vals = np.append(vals_u, np.nan)[key]
    if currency is not None:
        vals[problem == _P_CURRENCY] = np.nan
    return _NumberCells(vals, problem)


def _pair_keys(
    codes: np.ndarray, uniques: pd.Series, thousands_sep: Any, n: int
) -> tuple[np.ndarray, pd.Series, Any]:
    """Per-cell keys into the distinct (text, thousands separator) pairs.

    Returns (key per cell, -1 where missing; distinct texts; their separators: one str
    for all, or an array aligned with the texts)."""
    if isinstance(thousands_sep, pd.Categorical):
        if len(thousands_sep) != n:
            raise ParameterError(f"separator array has {len(thousands_sep)} values for {n} cells")
        th_codes = np.asarray(thousands_sep.codes, dtype=np.int64)
        th_uniques = np.asarray(thousands_sep.categories, dtype=object)
        if (th_codes < 0).any():
            th_uniques = np.append(th_uniques, ",")
            th_codes = np.where(th_codes < 0, len(th_uniques) - 1, th_codes)
        used = np.flatnonzero(np.bincount(th_codes, minlength=len(th_uniques)))
        if len(used) == 1:
            thousands_sep = str(th_uniques[used[0]])
    elif not isinstance(thousands_sep, str):
        th_codes, th_uniques = pd.factorize(_broadcast(thousands_sep, pd.RangeIndex(n)))
        th_uniques = np.asarray(th_uniques, dtype=object)
    if isinstance(thousands_sep, str):
        return codes, uniques, thousands_sep
    combined = np.where(codes >= 0, codes.astype(np.int64) * len(th_uniques) + th_codes, -1)
    key, pairs = pd.factorize(combined)
    keep = pairs >= 0
    # Drop the pair that stands for missing cells (combined == -1).
    remap = np.full(len(pairs), -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    key = np.where(key >= 0, remap[key], -1)
    pairs = pairs[keep]
    u = uniques.iloc[pairs // len(th_uniques)].reset_index(drop=True)
    return key, u, th_uniques[pairs % len(th_uniques)]


def _currency_mismatch(
    sign: np.ndarray, problem: np.ndarray, currency: str | pd.Categorical
) -> np.ndarray:
    """Cells whose currency sign cannot stand for the expected currency (per cell)."""
    if isinstance(currency, str):
        cur_codes = np.zeros(len(sign), dtype=np.int64)
        names: list[Any] = [currency]
    else:
        cur_codes = np.asarray(currency.codes, dtype=np.int64)
        names = list(currency.categories)
    # A small table: sign x expected currency -> contradicts.
    table = np.array(
        [[name not in CURRENCY_SIGNS[sig] for name in names] for sig in _SIGN_INDEX], dtype=bool
    ).reshape(len(_SIGN_INDEX), len(names))
    judged = (sign >= 0) & (sign < _UNKNOWN_SIGN) & (problem == _P_OK) & (cur_codes >= 0)
    out = np.zeros(len(sign), dtype=bool)
    idx = np.flatnonzero(judged)
    if len(idx):
        out[idx] = table[sign[idx], cur_codes[idx]]
    return out


def _parse_number(
    values: Any,
    *,
    thousands_sep: Any = ",",
    decimal_sep: Any = ".",
    three_digit_group: str = "convention",
) -> tuple[pd.Series, pd.Series]:
    """Parse numbers written the way exports write them.

    Returns ``(values, invalid)``: float64 values (NaN when missing or refused) and a
    boolean mask of cells that are present but not a usable number (text, a boolean,
    misplaced separators, a non-finite value, an overflow). See :func:`_number_cells`
    for the reason of each refusal.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    cells = _number_cells(s, thousands_sep=thousands_sep, three_digit_group=three_digit_group)
    return (
        pd.Series(cells.values, index=s.index, dtype="float64"),
        pd.Series(cells.problem != _P_OK, index=s.index),
    )


# RE2-compatible patterns (no \s, \d or $): pandas then runs them in pyarrow, not per cell.
_WS = " \t\u00a0\u202f"
_NUMBER_RE2 = (
    r"\(?["
    + _WS
    + r"]*[-−+]?["
    + _WS
    + r"]*(?:"
    + _CURRENCY_RE.replace(r"\s", "[" + _WS + "]")
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
    + _CURRENCY_RE.replace(r"\s", "[" + _WS + "]")
    + r")?["
    + _WS
    + r"]*[-−]?["
    + _WS
    + r"]*\)?"
)
#: Well-formed digits: no separator, one decimal separator, or thousands separators
#: every three digits (one kind: "," "." space or "'") with an optional decimal part.
#: "1,2,3", "1.2.3,4" and Indian "12,34,567" (no TikTok Shop site groups that way) fail.
_GROUPED_RE = (
    r"[0-9]+(?:[.,][0-9]+)?"
    r"|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
    r"|[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?"
    "|[0-9]{1,3}(?:[ '\u00a0\u202f][0-9]{3})+(?:[.,][0-9]+)?"
)
#: A cell whose digits (first to last, with the separators between) are well formed.
_GROUPED_CELL_RE = r"[^0-9]*(?:" + _GROUPED_RE + r")[^0-9]*"
#: The text before the first digit and after the last one (the sign's two places).
_AROUND_DIGITS_RE = r"^(?P<lead>[^0-9]*)[0-9](?:.*[0-9])?(?P<trail>[^0-9]*)$"
_SCIENTIFIC_RE = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+"
#: Characters around a currency sign that are not part of it.
_NOT_SIGN = re.compile(r"[()\-−+" + _WS + r"]")

_MANY_GROUPS = r"[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}"
_FAST_COUNT_RE = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+"
_FAST_MONEY_RE = (
    r"\$?(?:" + _MANY_GROUPS + r"|[1-9][0-9]{0,2}(?:,[0-9]{3})+\.[0-9]+|[0-9]+\.[0-9]{1,2}|[0-9]+)"
)


def _parse_unique_numbers(
    u: pd.Series, thousands: Any, three_digit_group: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse distinct number texts.

    Returns numpy arrays ``(values, problem, sign)``: the value (NaN when missing or
    refused), the problem code (``_P_OK``, ``_P_NOT_NUMBER``, ``_P_BOOLEAN``, ``_P_SEPARATORS``,
    ``_P_NOT_FINITE``, ``_P_OUT_OF_RANGE`` for an overflow) and the currency sign as a
    position in :data:`helpers.schema.CURRENCY_SIGNS` (``_UNKNOWN_SIGN`` for other
    letters, -1 for none). Limits and sign rules are the caller's.
    """
    n = len(u)
    vals = np.full(n, np.nan)
    problem = np.zeros(n, dtype=np.int8)
    sign = np.full(n, -1, dtype=np.int16)
    if n == 0:
        return vals, problem, sign
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
        ft = t[fast]
        vals[fast] = (
            ft.str.replace("$", "", regex=False)
            .str.replace(",", "", regex=False)
            .astype("float64")
            .to_numpy()
        )
        if three_digit_group != "thousands":
            dollar = ft.str.startswith("$").to_numpy(bool)
            sign[np.flatnonzero(fast)[dollar]] = _SIGN_INDEX.get_loc("$")
    other = ~plain & ~fast
    if other.any():
        _mark_words(t, other, missing, problem)
        sci = other & ~missing & (problem == _P_OK)
        sci[sci] = t[sci].str.fullmatch(_SCIENTIFIC_RE).to_numpy(bool)
        if sci.any():
            vals[sci] = t[sci].astype("float64").to_numpy()
        rest = other & ~missing & (problem == _P_OK) & ~sci
        if rest.any():
            _parse_general(t, rest, thousands, three_digit_group, vals, problem, sign)
    # A number too long for float64 ("1" and 400 zeros) overflows to inf.
    problem[(problem == _P_OK) & np.isinf(vals)] = _P_OUT_OF_RANGE
    vals[problem != _P_OK] = np.nan
    return vals, problem, sign


def _mark_words(t: pd.Series, where: np.ndarray, missing: np.ndarray, problem: np.ndarray) -> None:
    """Flag "inf", "NaN", "TRUE", "是", ... among ``t[where]`` (in place). "NaN" is a
    missing token in text columns; in a number column it is not finite, so it stops
    being missing here."""
    short = where & (t.str.len() <= _WORD_LEN).fillna(False).to_numpy(bool)
    if not short.any():
        return
    low = t[short].str.lower()
    idx = np.flatnonzero(short)
    non_finite = idx[low.isin(list(_NON_FINITE_WORDS)).to_numpy(bool)]
    problem[non_finite] = _P_NOT_FINITE
    missing[non_finite] = False
    problem[idx[low.isin(list(_BOOLEAN_WORDS)).to_numpy(bool)]] = _P_BOOLEAN


def _parse_general(
    t: pd.Series,
    rest: np.ndarray,
    thousands: Any,
    three_digit_group: str,
    vals: np.ndarray,
    problem: np.ndarray,
    sign: np.ndarray,
) -> None:
    """The general separator rules for ``t[rest]`` (see the module docstring); fills
    ``vals``, ``problem`` and ``sign`` in place."""
    r = t[rest]
    valid = r.str.fullmatch(_NUMBER_RE2).to_numpy(bool)
    rest_idx = np.flatnonzero(rest)
    problem[rest_idx[~valid]] = _P_NOT_NUMBER
    idx = rest_idx[valid]
    r = r[valid]
    if r.empty:
        return
    grouped = r.str.fullmatch(_GROUPED_CELL_RE).to_numpy(bool)
    problem[idx[~grouped]] = _P_SEPARATORS
    idx, r = idx[grouped], r[grouped]
    if r.empty:
        return
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
    _find_signs(r, idx, sign)
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
    scaled = ok & (mult != 1)
    if scaled.any():
        from decimal import Decimal

        # "512.3K" is 512300, while 512.3 * 1000 is 512299.99999999994 in floats (then
        # "not a whole number"): scale the decimal text exactly, then round once.
        v[scaled] = [
            float(Decimal(c) * int(m)) for c, m in zip(clean[scaled], mult[scaled], strict=True)
        ]
        mult = np.where(scaled, 1.0, mult)
    v = np.where(negative, -v, v) * mult
    vals[idx] = v
    problem[idx[~ok]] = _P_NOT_NUMBER


def _find_signs(r: pd.Series, idx: np.ndarray, sign: np.ndarray) -> None:
    """The currency sign or code of each text in ``r`` (before or after the digits,
    upper-cased, a K/M/B/万/亿 multiplier excluded) into ``sign[idx]``.

    Arrow splits every text once; the few distinct leads and trails are then read in
    Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(r.array, "_pa_array", None)
    if arr is None:
        arr = pa.array(r.to_numpy(dtype=object), type=pa.large_string())
    parts = pc.extract_regex(arr, _AROUND_DIGITS_RE)
    ids = []
    for name, strip_multiplier in (("lead", False), ("trail", True)):
        enc = pc.dictionary_encode(pc.struct_field(parts, name))
        if isinstance(enc, pa.ChunkedArray):
            enc = (
                enc.combine_chunks()
                if enc.num_chunks
                else pa.array([], pa.dictionary(pa.int32(), pa.string()))
            )
        codes = enc.indices.to_numpy(zero_copy_only=False)
        texts = enc.dictionary.to_pylist()
        ids.append(np.array([_sign_id(x, strip_multiplier) for x in texts] + [-1])[codes])
    found = np.where(ids[0] >= 0, ids[0], ids[1])
    sign[idx] = found


def _sign_id(text: str, strip_multiplier: bool) -> int:
    """Position of a sign in :data:`CURRENCY_SIGNS` (-1: none, ``_UNKNOWN_SIGN``: other)."""
    if strip_multiplier:
        text = text.lstrip(_WS)
        head = text[:1]
        if head in ("万", "亿") or (
            head in "KkMmBb" and head and not (text[1:2].isascii() and text[1:2].isalpha())
        ):
            text = text[1:]
    token = _NOT_SIGN.sub("", text).upper()
    if not token:
        return -1
    return int(_SIGN_POS.get(token, _UNKNOWN_SIGN))


def _site_separators(site: Any, index: pd.Index) -> tuple[Any, Any]:
    """Thousands and decimal separators for a site code or a per-row array of codes."""
    if site is None:
        return ",", "."
    if isinstance(site, str):
        info = SITES.get(normalise_site([site]).iloc[0] or "")
        return (info.thousands_sep, info.decimal_sep) if info else (",", ".")
    codes, uniq = _site_codes(site)
    if len(codes) != len(index):
        raise ParameterError(f"site array has {len(codes)} values for {len(index)} cells")
    # One lookup per distinct code; per-row separators as categorical codes.
    info = [SITES.get(str(u)) for u in uniq]
    th_u = pd.Index([i.thousands_sep if i else "," for i in info] + [","])
    de_u = pd.Index([i.decimal_sep if i else "." for i in info] + ["."])
    codes = np.where(codes >= 0, codes, len(uniq))
    th_cat, th_idx = pd.factorize(th_u)
    de_cat, de_idx = pd.factorize(de_u)
    th = pd.Categorical.from_codes(th_cat[codes], categories=th_idx)
    de = pd.Categorical.from_codes(de_cat[codes], categories=de_idx)
    return th, de


def _site_codes(site: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-row site codes as (positions, distinct codes); a categorical gives its own."""
    if _cat.is_categorical(site):
        return np.asarray(site.codes if isinstance(site, pd.Categorical) else site.cat.codes), (
            np.asarray(site.categories, dtype=object)
        )
    arr = site.to_numpy(object) if isinstance(site, pd.Series) else np.asarray(site, dtype=object)
    codes, uniq = pd.factorize(arr)
    return codes, np.asarray(uniq, dtype=object)


def _check_currency(currency: str, file: str = "<data>") -> str:
    """The ``currency`` option as an upper-case ISO code; ExportError when unknown."""
    code = str(currency).strip().upper()
    if code not in _CURRENCY_CODES:
        raise ExportError(
            f"{file}: currency={currency!r} is not a known currency code; accepted: "
            f'{list(_CURRENCY_CODES)}. Fix: `currency: USD` in data.yaml, or currency="USD" '
            "in Python (the code of the currency the money columns are in)."
        )
    return code


def _expected_currency(
    site: Any, currency: str | None, n: int, file: str = "<data>"
) -> str | pd.Categorical | None:
    """The currency each money cell should be in: the ``currency`` option, else the
    currency of the row's site (per row; unknown sites are not judged)."""
    if currency is not None:
        return _check_currency(currency, file)
    if site is None:
        return None
    if isinstance(site, str):
        info = SITES.get(normalise_site([site]).iloc[0] or "")
        return info.currency if info else None
    codes, uniq = _site_codes(site)
    if len(codes) != n:
        raise ParameterError(f"site array has {len(codes)} values for {n} cells")
    cur = [SITES[str(u)].currency if str(u) in SITES else None for u in uniq]
    names = sorted({c for c in cur if c is not None})
    lookup = np.array([names.index(c) if c is not None else -1 for c in cur] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(
        lookup[np.where(codes >= 0, codes, len(uniq))], categories=names
    )


def parse_money(
    values: Any,
    *,
    site: str | Sequence[str] | None = None,
    thousands_sep: str | None = None,
    decimal_sep: str | None = None,
    currency: str | None = None,
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
        1234 in ID, 1.234 in US), and whose currency a currency sign must match
        (``"£980"`` on a US cell is refused).
    thousands_sep, decimal_sep : str, optional
        Explicit convention; overrides ``site``.
    currency : str, optional
        ISO code every cell should be in (``"USD"``); overrides the site's currency.

    Returns
    -------
    pandas.Series of float64
        NaN where the cell is missing (:func:`is_missing`) or refused: not a number, a
        boolean, misplaced separators (``"1,2,3"``), not finite (``"inf"``, ``"NaN"``),
        beyond :data:`MAX_MAGNITUDE`, or a currency sign that contradicts the expected
        currency. The loader turns each refusal into a rejection with its reason.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    th, _de = _site_separators(site, s.index)
    if thousands_sep is not None:
        th = thousands_sep
    cells = _number_cells(
        s,
        thousands_sep=th,
        limit=MAX_MAGNITUDE,
        currency=_expected_currency(site, currency, len(s)),
    )
    return pd.Series(cells.values, index=s.index, dtype="float64")


def parse_count(values: Any, *, site: str | Sequence[str] | None = None) -> pd.Series:
    """Parse count cells such as ``"12,345"``, ``"1.2K"``, ``"3.4M"``, ``"1.2万"``, ``"1e6"``.

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
        truncated; NaN where missing or refused (not a number, a boolean, misplaced
        separators, a currency sign, not finite, or beyond :data:`MAX_MAGNITUDE`).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    th, _de = _site_separators(site, s.index)
    cells = _number_cells(
        s, thousands_sep=th, three_digit_group="thousands", limit=MAX_MAGNITUDE, signs_allowed=False
    )
    return pd.Series(cells.values, index=s.index, dtype="float64")


#: Commission scales: what a plain (no "%") number means, as the divisor to a fraction.
RATE_SCALES: dict[str, float] = {"fraction": 1.0, "percent": 100.0, "api": 10_000.0}
_SCALE_MEANING = {
    "fraction": "0.15 means 15 %",
    "percent": "15 means 15 %",
    "api": "1500 means 15 %, TikTok API units of 1/10000",
}
_SCALE_WORDS = {
    "fraction": "fractions (0.15 -> 0.15)",
    "percent": "percentage points (15 -> 0.15)",
    "api": "API units of 1/10000 (1500 -> 0.15)",
}


def _rate_core(
    values: Any,
    api_units: bool | None = None,
    *,
    scale: str | None = None,
    file: str = "<data>",
    column: str = "commission_rate",
    rownum: np.ndarray | None = None,
) -> tuple[pd.Series, np.ndarray, str]:
    """Parse rates; returns (fractions, problem codes per cell, note on the scale used).

    Raises ExportError when ``scale`` is unknown or, inferring, when the plain values
    fit different scales (the message names ``file``, ``column`` and rows from ``rownum``).
    """
    if scale is not None and scale not in RATE_SCALES:
        raise ExportError(
            f"{file}: commission_scale={scale!r} is not a scale; accepted: "
            + ", ".join(f"{k!r} ({w})" for k, w in _SCALE_MEANING.items())
            + '. Fix: `commission_scale: percent` in data.yaml or commission_scale="percent".'
        )
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        cells = _numeric_cells(s, None)
        pct = np.zeros(len(s), dtype=bool)
    else:
        t = _as_text(s)
        pct = t.str.contains("%", regex=False).fillna(False).to_numpy(bool)
        body = t.str.replace("%", "", regex=False)
        cells = _number_cells(body, thousands_sep=",", signs_allowed=False)
    num = cells.values
    out = num.copy()
    out[pct] = num[pct] / 100.0
    plain = ~pct & ~np.isnan(num)
    note = ""
    if scale is None and api_units is not None:
        big = plain & (num > 1)
        if big.any():
            scale = "api" if api_units else "percent"
            plain = big
    elif scale is None and (plain & (num > 0)).any():
        scale = _infer_rate_scale(s, num, plain & (num > 0), file, column, rownum)
        if scale != "fraction":
            note = f"plain values read as {_SCALE_WORDS[scale]} (inferred; set commission_scale to override)"
    elif scale is not None:
        note = f"plain values read as {_SCALE_WORDS[scale]} (commission_scale={scale!r})"
    if scale is not None and plain.any():
        out[plain] = num[plain] / RATE_SCALES[scale]
        if api_units is not None:
            note = f"plain values > 1 read as {_SCALE_WORDS[scale]}"
    return pd.Series(out, index=s.index, dtype="float64"), cells.problem, note


def _infer_rate_scale(
    raw: pd.Series,
    num: np.ndarray,
    positive: np.ndarray,
    file: str,
    column: str,
    rownum: np.ndarray | None,
) -> str:
    """The one scale every positive plain rate fits (rates are 1-80 %: a fraction is
    <= 1, percentage points 1-100, API units >= 100), else ExportError."""
    v = num[positive]
    fits = {"fraction": v <= 1, "percent": (v >= 1) & (v < 100), "api": v >= 100}
    common = [k for k, f in fits.items() if f.all()]
    if len(common) == 1:
        return common[0]
    if common == ["fraction", "percent"]:
        return "percent"  # every value is 1: 1 %, since a fraction of 1 is above the 80 % cap
    pos = np.flatnonzero(positive)
    rows = rownum[pos] if rownum is not None else pos + 1
    text = _as_text(raw.iloc[pos]).to_numpy(object)
    labels = {
        "fraction": "fractions (<= 1)",
        "percent": "percentage points (1-100)",
        "api": "API units (>= 100)",
    }
    parts = []
    for k, f in fits.items():
        only = f & ~np.logical_or.reduce([g for j, g in fits.items() if j != k])
        if only.any():
            ex = ", ".join(
                f"row {r} {x!r}" for r, x in zip(rows[only][:3], text[only][:3], strict=True)
            )
            parts.append(f"{int(only.sum())} look like {labels[k]} ({ex})")
    suggest = max(fits, key=lambda k: (int(fits[k].sum()), k == "percent"))
    raise _scale_error(file, column, parts, suggest)


def _scale_error(file: str, column: str, parts: list[str], suggest: str) -> ExportError:
    return ExportError(
        f"{file}: column {column!r} mixes commission rates written on different scales, so "
        f"what they mean cannot be told: {'; '.join(parts)}. Fix: say which scale the column "
        f'uses: `commission_scale: {suggest}` in data.yaml, or commission_scale="{suggest}" '
        "in Python (read_export / assemble / load_dataset). Accepted: "
        + ", ".join(f"{k!r} ({w})" for k, w in _SCALE_MEANING.items())
        + ". Cells with '%' are always percent; values that do not fit the chosen scale "
        "are then rejected as 'commission rate outside 0-80 %'."
    )


def parse_rate(
    values: Any, *, api_units: bool | None = None, scale: str | None = None
) -> pd.Series:
    """Parse rate cells (commission rate, CTR) into fractions.

    Rules: a cell with ``%`` is divided by 100 (``"12.5%"`` -> 0.125, ``"12,5%"`` too).
    Plain numbers are read on one scale per column (:data:`RATE_SCALES`): ``scale``
    when given, else the one scale that every positive plain value fits, knowing that
    commission rates are 1-80 %: fractions are <= 1 (``0.15``), percentage points 1-100
    (``15``), API units of 1/10000 >= 100 (``1500``). A column of 1s is 1 %. A column
    mixing scales (``15`` and ``150``, or ``0.15`` and ``15``) raises ExportError asking
    for the scale. So a column mixing ``"15%"`` and ``0.15`` works.

    Parameters
    ----------
    values : array-like
        Raw cells.
    api_units : bool, optional
        Legacy: force (True) or forbid (False) the API-unit reading of plain values > 1
        (values <= 1 stay fractions).
    scale : {"fraction", "percent", "api"}, optional
        What a plain number means; the loader's ``commission_scale`` option.

    Returns
    -------
    pandas.Series of float64
        Fractions; NaN where missing or refused (not a number, a boolean, not finite).

    Raises
    ------
    ExportError
        Unknown ``scale``, or plain values on different scales (inferring).
    """
    out, problem, _note = _rate_core(values, api_units, scale=scale)
    return out.where(problem == _P_OK)


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
    if _cat.is_categorical(s):  # fn runs once per category, rows keep their codes
        codes, cats = _cat.category_values(s)
        per_cat = _map_uniques(cats, fn).to_numpy(object)
        out = np.append(per_cat, None)[np.where(codes >= 0, codes, len(cats))]
        return pd.Series(out, index=s.index, dtype=object)
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
                # (v % 1 == 0), without the slow fmod: whole and finite (inf % 1 is NaN).
                whole = (np.trunc(v) == v) & np.isfinite(v)
                bad |= ~np.isnan(v) & ~((v >= 0) & whole)
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
# The readers live in helpers.io.readers; the old private names stay for this module.
_Table = RawTable
_header_score = header_score
_find_header = find_header
_unique_headers = unique_headers
_read_source = read_source


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
    """Collects (row position, kind, message) triples, vectorised.

    A row with a reason of a kind in :attr:`SOLE_KINDS` shows that reason only: a total
    row is not also "missing creator_id" or "clicks > impressions"."""

    SOLE_KINDS: frozenset[str] = frozenset({"total row"})

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
        pos = np.concatenate(self.pos)
        kind = np.concatenate(self.kind)
        msg = np.concatenate(self.msg)
        sole_kinds = [k for k in self.kind if len(k) and k[0] in self.SOLE_KINDS]
        if sole_kinds:
            is_sole = np.isin(kind, list(self.SOLE_KINDS))
            sole_row = np.zeros(self.n, dtype=bool)
            sole_row[pos[is_sole]] = True
            keep = is_sole | ~sole_row[pos]
            pos, kind, msg = pos[keep], kind[keep], msg[keep]
        return pd.DataFrame({"pos": pos, "kind": kind, "msg": msg})

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
    currency: str | None = None,
    commission_scale: str | None = None,
    tier_labels: Sequence[str] | None = None,
) -> _Parsed:
    """Map headers and parse every known column of one raw export into typed values.

    ``currency``, ``commission_scale`` and ``tier_labels`` (the ``labels`` of
    ``tiers``) are the options of :func:`read_export`."""
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

    # Categorical sources (Parquet dictionaries, DataFrames) stay categorical: each
    # function below runs once per category (see helpers.io.categorical).
    if "site" in src:
        typed["site"] = _per_value(src["site"], normalise_site)
    for c in ("creator_id", "product_id", "content_id"):
        if c in src:
            typed[c] = _per_value(src[c], _id_text)
    if "category" in src:
        typed["category"] = _per_value(src["category"], _clean_text)
    if "content_type" in src:
        typed["content_type"] = _per_value(src["content_type"], normalise_content_type)
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
    if "site" in typed and _cat.is_categorical(typed["site"]):
        row_sites = _fill_categorical(typed["site"], site or "").array
    elif "site" in typed:
        row_sites = typed["site"].fillna(site or "").to_numpy(object)
    elif site:
        row_sites = site
    _parse_number_columns(
        table,
        src,
        inv,
        typed,
        reasons,
        notes,
        row_sites=row_sites,
        currency=currency,
        commission_scale=commission_scale,
    )
    for header, hit in _total_rows(raw, mapping):
        reasons.add(
            hit,
            "total row",
            lambda idx, header=header: (
                f"total row ({header}: "
                + _quote(raw[header].iloc[idx])
                + " marks a total or subtotal line, not data: excluded so that it is not added in)"
            ),
        )
    extras: dict[str, str] = {}
    if role not in _LOOKUP_COLUMNS:  # extra columns of the content rows are kept
        extras = _extra_names(ignored, renames)
        thousands = _site_separators(row_sites, raw.index)[0]
        typed.update(_parse_extras(raw, extras, thousands))
        ignored = []
    frame = pd.DataFrame(typed, index=raw.index, copy=False)
    if frame.shape[1] > 100:  # a wide export: one block per dtype, not one per column
        frame = frame.copy()
    return _Parsed(table, frame, reasons, mapping, ignored, duplicates, notes, blank, extras)


def _clean_text(values: pd.Series) -> pd.Series:
    """Stripped text, NaN where the cell is a missing token."""
    t = _strip(_as_text(values))
    return t.where(~_token_missing(t))


def _id_text(values: pd.Series) -> pd.Series:
    """Identifier text: as :func:`_clean_text`, whole floats without ``.0`` (Excel)."""
    if pd.api.types.is_float_dtype(values.dtype):
        values = values.map(_cell_text, na_action="ignore")
    return _clean_text(values)


def _per_value(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(values)``; for a categorical, ``fn`` of its categories (the result stays
    categorical, categories that became equal are merged)."""
    if _cat.is_categorical(values):
        return _cat.recode(values, fn)
    return fn(values)


def _fill_categorical(s: pd.Series, value: Any) -> pd.Series:
    """``s.fillna(value)`` for a categorical ``s`` (``value`` added as a category)."""
    if not s.isna().any():
        return s
    if value not in s.cat.categories:
        s = s.cat.add_categories([value])
    return s.fillna(value)


def _text_fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Rows whose text fully matches ``pattern`` (any case); categoricals once per category."""
    if _cat.is_categorical(values):
        codes, cats = _cat.category_values(values)
        per_cat = np.append(_text_fullmatch(cats, pattern), False)
        return per_cat[np.where(codes >= 0, codes, len(cats))]
    hit = _as_text(values).str.fullmatch(pattern, case=False)
    return hit.fillna(False).to_numpy(bool)


_NUMERIC_COLUMNS = frozenset((*COUNT_COLUMNS, *MONEY_COLUMNS, "followers", "commission_rate"))
_SIGN_HINT = {
    "count": " has a currency or unit sign, but a count is a plain number",
    "money": f" has a sign that is not a known currency (known: {', '.join(CURRENCY_SIGNS)})",
    "rate": " has a currency or unit sign, but a rate is a number or a percentage",
}
_PROBLEM_TEXT: dict[int, tuple[str, str]] = {
    _P_NOT_NUMBER: ("not a number", " is not a number"),
    _P_BOOLEAN: ("not a number", " is a yes/no value, not a number"),
    _P_SEPARATORS: (
        "not a number",
        " has misplaced separators (thousands separators come every three digits, e.g. 1,234,567)",
    ),
    _P_NOT_FINITE: ("not finite", " is not a finite number"),
    _P_OUT_OF_RANGE: (
        "out of range",
        f" is beyond {MAX_MAGNITUDE:.0e}, the largest value accepted",
    ),
}


def _number_reasons(
    reasons: _Reasons, problem: np.ndarray, canon: str, header: str, raw: pd.Series, what: str
) -> None:
    """Add one reason per refused cell: ``"<canon> <kind> (<header>: '<cell>' ...)"``.
    Currency mismatches are added by the caller (they need the expected currency)."""
    if not problem.any():
        return
    counts = np.bincount(problem, minlength=_P_CURRENCY + 1)
    for code in np.flatnonzero(counts):
        if code in (_P_OK, _P_CURRENCY):
            continue
        kind, text = _PROBLEM_TEXT.get(int(code), ("not a number", _SIGN_HINT[what]))
        if code == _P_OUT_OF_RANGE and what == "rate":
            text = " is too large to be a number"
        reasons.add(
            problem == code,
            f"{canon} {kind}",
            lambda idx, kind=kind, text=text: (
                f"{canon} {kind} ({header}: " + _quote(raw.iloc[idx]) + text + ")"
            ),
        )


def _currency_reasons(
    reasons: _Reasons,
    problem: np.ndarray,
    header: str,
    raw: pd.Series,
    expected: str | pd.Categorical | None,
    row_sites: Any,
    currency: str | None,
) -> None:
    """Reasons for money cells whose currency sign contradicts the expected currency."""
    mask = problem == _P_CURRENCY
    if expected is None or not mask.any():
        return
    n = len(problem)
    names = np.broadcast_to(np.asarray(expected, dtype=object), (n,))
    if currency is not None:
        whose = np.broadcast_to(np.asarray("the currency= option", dtype=object), (n,))
    else:
        site_codes = (
            normalise_site([row_sites]).to_numpy(object)
            if isinstance(row_sites, str)
            else np.asarray(row_sites, dtype=object)
        )
        whose = "the currency of site " + np.broadcast_to(site_codes, (n,)).astype(object)

    def message(idx: np.ndarray) -> pd.Series:
        quoted = _quote(raw.iloc[idx])
        tail = pd.Series(
            " is not in " + names[idx].astype(object) + ", " + whose[idx] + ")",
            index=quoted.index,
            dtype="str",
        )
        return f"currency mismatch ({header}: " + quoted + tail

    reasons.add(mask, "currency mismatch", message)


def _parse_number_columns(
    table: _Table,
    src: Mapping[str, pd.Series],
    inv: Mapping[str, str],
    typed: dict[str, Any],
    reasons: _Reasons,
    notes: list[str],
    *,
    row_sites: Any,
    currency: str | None,
    commission_scale: str | None,
) -> None:
    """Parse the count, money and rate columns of ``src`` into ``typed``; every refused
    cell becomes a reason naming the column's original header and the cell."""
    index = table.raw.index
    th = _site_separators(row_sites, index)[0]
    expected = None
    if currency is not None or any(c in src for c in MONEY_COLUMNS):
        expected = _expected_currency(row_sites, currency, len(index), table.file)
    for c in (*COUNT_COLUMNS, "followers"):
        if c in src:
            cells = _number_cells(
                src[c],
                thousands_sep=th,
                three_digit_group="thousands",
                limit=MAX_MAGNITUDE,
                signs_allowed=False,
            )
            _number_reasons(reasons, cells.problem, c, inv[c], src[c], "count")
            typed[c] = pd.Series(cells.values, index=index, dtype="float64")
    for c in MONEY_COLUMNS:
        if c in src:
            cells = _number_cells(src[c], thousands_sep=th, limit=MAX_MAGNITUDE, currency=expected)
            _number_reasons(reasons, cells.problem, c, inv[c], src[c], "money")
            _currency_reasons(reasons, cells.problem, inv[c], src[c], expected, row_sites, currency)
            typed[c] = pd.Series(cells.values, index=index, dtype="float64")
    if "commission_rate" in src:
        header = inv["commission_rate"]
        vals, problem, note = _rate_core(
            src["commission_rate"],
            scale=commission_scale,
            file=table.file,
            column=header,
            rownum=table.rownum,
        )
        _number_reasons(reasons, problem, "commission_rate", header, src["commission_rate"], "rate")
        if note:
            notes.append(f"{table.file}: commission_rate {note}")
        typed["commission_rate"] = vals


_TOTAL_WORDS = (
    "grand[ _-]?total|sub[ _-]?total|totals?|sum|合计|合計|总计|總計|小计|小計|汇总|匯總|彙總"
)
_TOTAL_RE = (
    "[" + _WS + "\u3000]*(?:" + _TOTAL_WORDS + ")[" + _WS + "\u3000]*[:：]?[" + _WS + "\u3000]*"
)


def _total_rows(raw: pd.DataFrame, mapping: Mapping[str, str]) -> list[tuple[str, np.ndarray]]:
    """Rows whose creator cell or first text cell reads "Total", "Grand total:",
    "Subtotal", "Sum", 合计, 总计, 小计 or 汇总 (any case): ``[(header, mask), ...]``."""
    headers = [h for h, c in mapping.items() if c == "creator_id"]
    for h in raw.columns:
        dtype = raw[h].dtype
        if mapping.get(h) in _NUMERIC_COLUMNS or (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
        ):
            continue
        headers.append(h)
        break
    out = []
    for h in dict.fromkeys(headers):
        hit = _text_fullmatch(raw[h], _TOTAL_RE)
        if hit.any():
            out.append((h, hit))
    return out


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
    tiers_ = _per_value(values, normalise_tier)
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


#: Cells parsed together when extra text columns are batched (see :func:`_parse_extras`).
_EXTRA_BATCH_CELLS = 1 << 20


def _parse_extras(raw: pd.DataFrame, names: Mapping[str, str], thousands: Any) -> dict[str, Any]:
    """Parse extra columns: numbers when every present cell is one, else text.

    Text that looks like an identifier rather than a quantity (a leading zero, more than
    15 digits) stays text, so "00123" and 19-digit ids are kept exactly. Text columns
    are parsed in batches of about :data:`_EXTRA_BATCH_CELLS` cells (one column of a
    long file; thousands of columns of a wide one), so a 10,000-column export costs a
    few parser calls, not 10,000.
    """
    out: dict[str, Any] = {}
    text_columns: list[tuple[str, str]] = []
    dtypes = raw.dtypes  # one lookup per column, not one Series per column
    for orig, name in names.items():
        dtype = dtypes[orig]
        if isinstance(dtype, pd.StringDtype):
            text_columns.append((orig, name))
        elif name == "source_row":
            out[name] = pd.to_numeric(raw[orig], errors="coerce")
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = raw[orig]
        elif pd.api.types.is_numeric_dtype(dtype):
            out[name] = _whole_as_int(raw[orig].astype("float64"))
        else:
            text_columns.append((orig, name))
    per_batch = max(1, _EXTRA_BATCH_CELLS // max(len(raw), 1))
    for i in range(0, len(text_columns), per_batch):
        out.update(_parse_text_extras(raw, text_columns[i : i + per_batch], thousands))
    return {name: out[name] for name in names.values()}


def _tile_separators(thousands: Any, k: int) -> Any:
    """Per-row thousands separators repeated for ``k`` columns stacked end to end."""
    if k == 1 or isinstance(thousands, str):
        return thousands
    if isinstance(thousands, pd.Categorical):
        return pd.Categorical.from_codes(np.tile(thousands.codes, k), dtype=thousands.dtype)
    return np.tile(np.asarray(thousands, dtype=object), k)


def _stacked_text(raw: pd.DataFrame, headers: Sequence[str]) -> pd.Series:
    """The cells of ``raw[headers]`` as one ``str`` Series, column after column."""
    if len(headers) == 1:
        return _as_text(raw[headers[0]]).reset_index(drop=True)
    sub = raw.iloc[:, raw.columns.get_indexer(headers)]
    if all(isinstance(d, pd.StringDtype) for d in sub.dtypes):
        # One 2-D conversion instead of one Series per column (a CSV's 10,000 columns).
        return pd.Series(sub.to_numpy(object).ravel(order="F"), dtype="str")
    return pd.concat([_as_text(sub[h]).reset_index(drop=True) for h in headers], ignore_index=True)


def _parse_text_extras(
    raw: pd.DataFrame, columns: Sequence[tuple[str, str]], thousands: Any
) -> dict[str, Any]:
    """:func:`_parse_extras` for text columns, stacked into one Series and parsed at once
    (each cell's reading depends on its own text and row only)."""
    n, k = len(raw), len(columns)
    t = _strip(_stacked_text(raw, [orig for orig, _ in columns]))
    missing = _token_missing(t)
    col = np.repeat(np.arange(k), n)
    present_col = col[~missing]
    present = t[~missing]
    id_like = present.str.match(r"[+-]?0[0-9]").to_numpy(bool, copy=True)
    long = (present.str.len() > 15).to_numpy(bool)  # digits are counted in these alone
    if long.any():
        id_like[long] |= (present[long].str.count(r"[0-9]") > 15).to_numpy(bool)
    has_present = np.bincount(present_col, minlength=k) > 0
    numeric = has_present & (np.bincount(present_col[id_like], minlength=k) == 0)
    # A column of percentages ("1.23%") is a column of fractions.
    not_pct = ~present.str.endswith("%").to_numpy(bool)
    percent = has_present & (np.bincount(present_col[not_pct], minlength=k) == 0)
    out: dict[str, Any] = {}
    grid, whole = np.zeros((k, n)), np.zeros(k, dtype=bool)
    if numeric.any():
        body = t
        if percent.all():
            body = t.str.slice(stop=-1)
        elif percent.any():
            body = t.where(~percent[col], t.str.slice(stop=-1))
        vals, invalid = _parse_number(
            body, thousands_sep=_tile_separators(thousands, k), three_digit_group="convention"
        )
        v = vals.to_numpy()
        refused = invalid.to_numpy(bool) | (~missing & ~np.isfinite(v))
        numeric &= np.bincount(col[refused], minlength=k) == 0
        if numeric.any():
            # Whole numbers below 2**53 in a column without gaps become int64 (as
            # _whole_as_int), judged for all numeric columns at once.
            grid = v.reshape(k, n)
            with np.errstate(invalid="ignore"):
                whole = ~percent & (np.abs(grid) < 2**53).all(axis=1) & (grid % 1 == 0).all(axis=1)
    text = t.where(~missing) if not numeric.all() else t
    for j, (_, name) in enumerate(columns):
        if numeric[j]:
            vj = grid[j]
            vj = vj / 100.0 if percent[j] else (vj.astype(np.int64) if whole[j] and n else vj)
            out[name] = pd.Series(vj, index=raw.index, copy=False)
        else:
            out[name] = pd.Series(text.array[j * n : (j + 1) * n], index=raw.index)
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
            typed["site"] = (
                _fill_categorical(col, site_code)
                if _cat.is_categorical(col)
                else col.fillna(site_code)
            )
        else:
            typed["site"] = site_code
            notes.append(f"site {site_code!r} from the site= argument applied to all rows")
    # Tier: an explicit tier wins; followers fill the gaps (not when the tier column
    # holds the user's own labels: follower thresholds give the kit's tier names).
    if "followers" in typed and tiers.labels is None:
        derived = tier_from_followers(typed["followers"], tiers.thresholds)
        if "tier" in typed:
            given = typed["tier"]
            if not given.notna().all():  # (a full column, categorical or not, stays as is)
                derived = derived.astype(object)
                derived = derived.where(pd.notna(derived), None)
                given = given.astype(object)
                typed["tier"] = given.where(given.notna(), derived)
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
    # Every row kept (the usual case): no boolean-mask copy of every column.
    kept_rows = typed if kept.all() else typed[kept].reset_index(drop=True)
    data = _to_canonical(kept_rows, tiers.dtype, list(dict.fromkeys(extras.values())))

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
    # The order of columns does not change the result; a categorical with many categories
    # (a video id) is the one most likely to end the search at once.
    width = {c: len(raw[c].cat.categories) for c in raw.columns if _cat.is_categorical(raw[c])}
    for c in sorted(raw.columns, key=lambda c: -width.get(c, 0)):
        col = raw[c].iloc[cand]
        if _cat.is_categorical(col) and len(cand):
            # Every row a different category (a video id): told by counting codes.
            cc = np.asarray(col.cat.codes.to_numpy())
            if cc.min() >= 0 and np.bincount(cc).max() < 2:
                cand = cand[:0]
                break
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
        return _cat.ordered_categories(s, first)
    if s.dtype == "str":
        cat = _cat.text_categorical(s)
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
            if s.dtype == tier_dtype:
                out[name] = s
            elif _cat.is_categorical(s):  # recoded through the categories, not per row
                out[name] = s.astype(tier_dtype)
            else:
                out[name] = pd.Series(
                    pd.Categorical(s.astype(object), dtype=tier_dtype), index=df.index
                )
        elif col.dtype == "category":
            # Sites as in SITES, content types video/live/showcase first, else sorted.
            first = {"site": list(SITES), "content_type": ["video", "live", "showcase"]}
            out[name] = _as_category(s, first.get(name, ()))
        elif col.dtype == "int64":
            v = s.to_numpy("float64", na_value=np.nan)
            if np.isnan(v).any():  # cannot happen on kept rows; astype says why if it does
                out[name] = s.astype("float64").round().astype("int64")
            else:
                out[name] = pd.Series(np.rint(v).astype(np.int64), index=df.index)
        elif col.dtype == "Int64":
            # Built from the values and the missing mask (astype("Int64") checks every
            # float for being whole again; these are rounded and within 1e15).
            v = s.to_numpy("float64", na_value=np.nan)
            missing = np.isnan(v)
            whole = np.rint(np.where(missing, 0.0, v)).astype(np.int64)
            out[name] = pd.Series(pd.arrays.IntegerArray(whole, missing), index=df.index)
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
    """``source_file`` / ``source_row`` of every row: the file name and its row number as
    Excel shows it. A frame that already carries them (one the loader made) keeps them."""
    # The file's name, not its path: reports are shared and must not show local folders.
    # Built from one code per file, not one string per row.
    names = [Path(p.table.file).name for p in parts]
    categories = list(dict.fromkeys(names))
    codes = np.repeat([categories.index(n) for n in names], [len(p.typed) for p in parts])
    file_s = pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=typed.index)
    rows = np.concatenate([p.table.rownum for p in parts]).astype(np.int64)
    row_s = pd.Series(rows, index=typed.index)
    if "source_file" in typed:
        given = typed["source_file"].astype(object)
        file_s = given.where(given.notna(), file_s.astype(object)).astype("str")
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
    ids = typed["content_id"]
    if _cat.is_categorical(ids) and np.bincount(ids.cat.codes.to_numpy()[cand]).max() < 2:
        return  # every content id once: nothing repeats (checked on codes, no group-by)
    # Only rows whose id occurs twice can repeat: group those few, not every row.
    cand = cand[typed["content_id"].iloc[cand].duplicated(keep=False).to_numpy(bool)]
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
    encoding: str | None = None,
    sheet: str | int | None = None,
    currency: str | None = None,
    commission_scale: str | None = None,
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
    source : str, Path, DataFrame, (path, sheet) or SpecFile
        The export. CSV may be UTF-8 (with or without BOM) or GB18030/GBK; XLSX may have
        title rows above the header (the header row is found among the first 15 rows).
        A ``(path, sheet)`` pair or a :class:`helpers.io.spec.SpecFile` (``.path``,
        ``.sheet``) names the file's own sheet, which wins over ``sheet``.
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
    encoding : str, optional
        Text encoding of a CSV (``"latin-1"``, ``"gb18030"``, ...); default: detected
        (see :func:`helpers.io.readers.decode_export`).
    sheet : str or int, optional
        XLSX sheet name or 0-based index; default: the first sheet.
    currency : str, optional
        ISO code the money columns are in (``"USD"``); default: each row's site currency
        (:data:`helpers.schema.SITES`). A money cell whose currency sign contradicts it
        (``"£980"`` on a US row) is rejected as ``"currency mismatch"``; rows whose site
        is unknown are not judged.
    commission_scale : {"fraction", "percent", "api"}, optional
        What a plain commission rate means: ``0.15``, ``15`` or ``1500`` (API units of
        1/10000) for 15 %. Default: inferred when every plain value fits one scale, else
        ExportError naming the rows and this fix. ``"12.5%"`` cells are always percent.
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
        unknown ``currency``, commission rates on mixed scales, a tier column that is
        mostly not tier names (asks for ``tiers={"labels": [...]}``), an invalid option.
        Each message says how to fix it with a ``data.yaml`` key or a Python keyword.
    """
    tier_option = _tier_option(tiers)
    _check_policy(orders_above_clicks)
    source, sheet = _with_sheet(source, sheet)
    table = _read_source(source, kind, column_map, encoding=encoding, sheet=sheet)
    parsed = _parse_table(
        table,
        role="videos",
        column_map=column_map,
        date_format=date_format,
        site=site,
        currency=currency,
        commission_scale=commission_scale,
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


def _with_sheet(item: Any, sheet: str | int | None) -> tuple[Any, str | int | None]:
    """``(source, sheet)`` of one export given as a source, a ``(path, sheet)`` pair or
    a :class:`helpers.io.spec.SpecFile`-like object (``.path`` and ``.sheet``); the
    per-file sheet wins over ``sheet``, the default of the call."""
    if isinstance(item, pd.DataFrame):
        return item, sheet
    if hasattr(item, "path") and hasattr(item, "sheet") and not hasattr(item, "data"):
        return item.path, sheet if item.sheet is None else item.sheet
    if (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str | Path)
        and isinstance(item[1], str | int)
        and not isinstance(item[1], bool)
    ):
        return item[0], item[1]
    return item, sheet


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
    encoding: str | None = None,
    currency: str | None = None,
    commission_scale: str | None = None,
    tier_labels: Sequence[str] | None = None,
    sheet: str | int | None = None,
) -> _Lookup:
    key = "creator_id" if role == "creators" else "product_id"
    frames = []
    rejected_keys: dict[str, str] = {}
    files = []
    n_rejected = 0
    rownums = []
    for src in sources:
        src, src_sheet = _with_sheet(src, sheet)
        src, _ = _unwrap(src)
        table = _read_source(src, None, column_map, encoding=encoding, sheet=src_sheet)
        files.append(table.file)
        parsed = _parse_table(
            table,
            role=role,
            column_map=column_map,
            date_format=date_format,
            site=None,
            currency=currency,
            commission_scale=commission_scale,
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
    encoding: str | None = None,
    currency: str | None = None,
    commission_scale: str | None = None,
    orders_above_clicks: str = "reject",
    sheet: str | int | None = None,
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
    site, column_map, tiers, date_format, encoding, currency, commission_scale, orders_above_clicks
        As in :func:`read_export` (``commission_scale`` also applies to the products
        export).
    sheet : str or int, optional
        XLSX sheet name or 0-based index of every workbook (default: the first sheet).
        A file's own sheet is given in the lists as a ``(path, sheet)`` pair or a
        :class:`helpers.io.spec.SpecFile` (``.path``, ``.sheet``), e.g.
        ``videos=[("book.xlsx", "Videos")], creators=[("book.xlsx", "Creators")]``;
        it wins over ``sheet``.

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
                    encoding=encoding,
                    currency=currency,
                    commission_scale=commission_scale,
                    tier_labels=tier_option.labels,
                    sheet=sheet,
                )
            )
    provided = {c for lk in lookups for c in lk.frame.columns if not c.startswith("_")}
    parts: list[_Parsed] = []
    carried: list[tuple[pd.DataFrame, LoadSummary]] = []
    video_list = _as_list(videos)
    if not video_list:
        raise ExportError("assemble: no video export given; pass videos=<path or DataFrame>.")
    for v in video_list:
        v, v_sheet = _with_sheet(v, sheet)
        src, prior = _unwrap(v)
        if prior is not None and len(prior.rejected):
            carried.append((prior.rejected, prior.summary))
        table = _read_source(src, None, column_map, encoding=encoding, sheet=v_sheet)
        parsed = _parse_table(
            table,
            role="videos",
            column_map=column_map,
            date_format=date_format,
            site=site,
            currency=currency,
            commission_scale=commission_scale,
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
                    given = typed[c]
                    if _cat.is_categorical(given):  # new values: not among its categories
                        given = given.astype(object)
                    typed[c] = given.where(given.notna(), vals)
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


def _sniff_role(
    path: Path,
    column_map: Mapping[str, str] | None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> str | None:
    """Guess an export's role from its headers (first rows only)."""
    try:
        rows = read_head_rows(path, encoding=encoding, sheet=sheet)
    except ExportError:
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


def export_role(
    path: Path,
    column_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> str | None:
    """Which export a file is: ``"videos"``, ``"creators"``, ``"products"`` or None.

    Decided by the file name (video/视频, creator/达人, product/商品 ...), else by its
    headers (first rows only; of ``sheet`` in a workbook, default the first sheet).
    """
    name = Path(path).stem.casefold()
    role = next((r for r, words in _ROLE_WORDS if any(w in name for w in words)), None)
    return role or _sniff_role(Path(path), column_map, encoding, sheet=sheet)


def load_dataset(path: Any = "data/sample", **options: Any) -> LoadResult:
    """Load the data a notebook analyses; see :func:`helpers.io.dataset.load_dataset`.

    Kept here because it is where the first notebooks imported it from: a folder of
    exports (with an optional ``data.yaml``), one export file, a data spec or a run's
    dataset folder, validated once and cached.
    """
    from helpers.io.dataset import load_dataset as _load_dataset

    return _load_dataset(path, **options)
