"""Excel-ready XLSX: typed cells, number formats, widths, a filter and a frozen header.

A CSV is text that a spreadsheet guesses at (so :func:`helpers.outputs.excel_safe`
neutralises text that looks like a formula). An XLSX cell has a type: here text is
written as text (``write_string``), so a handle ``@shop_girl`` keeps its ``@`` and a
creator named ``=HYPERLINK(...)`` shows as those characters and never runs; numbers are
numbers with a display format chosen from the column (percentages for rates and lifts,
thousands separators for counts and money, two decimals for ROI).
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["column_format", "column_kind", "write_xlsx"]

PERCENT = "0.00%"
SIGNED_PERCENT = "+0%;-0%;0%"
COUNT = "#,##0"
MONEY = "#,##0.00"
DECIMAL = "0.00"
_MAX_WIDTH = 48

# Column-name pieces (after splitting on "_") that say what a number is. Checked in
# this order: a "commission_rate" is a rate, "commission" alone is money.
_LIFT = {"lift"}
_RATE = {"ctr", "cvr", "rate", "share", "coverage", "pct", "p", "q"}
_MONEY = {
    "gmv",
    "refunds",
    "aov",
    "cost",
    "profit",
    "fee",
    "commission",
    "contribution",
    "spend",
    "forgone",
    "loss",  # expected losses (P(loss) is a rate: checked before money)
    "value",
}
_ROI = {"roi", "effect", "ratio", "dispersion", "odds"}


def column_kind(name: str, series: pd.Series) -> str | None:
    """What a numeric column holds, from its name and dtype: ``"pvalue"``,
    ``"signed_percent"`` (lifts), ``"percent"`` (rates, shares, P(loss)), ``"decimal"``
    (ROI, design effects), ``"money"``, ``"count"`` (integers) or ``"number"``; None for
    columns that are not numbers. Shared by the XLSX formats and the notebook tables."""
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    parts = set(str(name).lower().replace("-", "_").replace(" ", "_").split("_"))
    if "value" in parts and parts & {"p", "q"}:
        return "pvalue"
    if parts & _LIFT:
        return "signed_percent"
    if ("p" in parts and "loss" in parts) or parts & (_RATE - {"p", "q"}):
        return "percent"
    if parts & _ROI:
        return "decimal"
    if parts & _MONEY or "expected_loss" in str(name):
        return "money"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "count"
    return "number"


_EXCEL = {
    "pvalue": "0.0000",
    "signed_percent": SIGNED_PERCENT,
    "percent": PERCENT,
    "decimal": DECIMAL,
    "money": MONEY,
    "count": COUNT,
}


def column_format(name: str, series: pd.Series) -> str | None:
    """The Excel number format for a numeric column (see :func:`column_kind`).

    Parameters
    ----------
    name : str
        Column name, e.g. ``"shrunk_ctr_lift_low"``, ``"net_gmv"``, ``"clicks"``.
    series : pandas.Series
        The values (integers get a thousands format whatever their name).

    Returns
    -------
    str or None
        An Excel format code, or None for non-numeric columns.
    """
    kind = column_kind(name, series)
    if kind is None:
        return None
    if kind == "number":
        big = series.dropna().abs().max() >= 1000 if series.notna().any() else False
        return "#,##0.####" if big else "0.####"
    return _EXCEL[kind]


def _cell_text(value: Any) -> str:
    """What a cell shows, to size its column."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _write_value(ws: Any, row: int, col: int, value: Any, fmt: Any, plain: Any) -> None:
    """Write one value with its own type; missing values stay blank."""
    if value is None or value is pd.NA or value is pd.NaT:
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        ts = pd.Timestamp(value)
        ws.write_datetime(row, col, ts.tz_localize(None).to_pydatetime(), fmt)
    else:
        _write_text(ws, row, col, str(value), fmt, plain)


def _write_text(ws: Any, row: int, col: int, text: str, fmt: Any, plain: Any) -> None:
    """Write ``text`` as literal text: never a formula, a link or a number.

    xlsxwriter takes any string that starts with ``<r>`` and ends with ``</r>`` for
    ready-made rich-text XML and copies it into the file unescaped (the cell opens blank,
    or as whatever markup the text carries). Such text is written as a rich string of
    two runs in the default font (``plain``) instead, which xlsxwriter escapes like any
    other text; the cell reads back as exactly ``text``.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        args = [plain, text[:1], plain, text[1:]] + ([fmt] if fmt is not None else [])
        ws.write_rich_string(row, col, *args)
    else:
        ws.write_string(row, col, text, fmt)


def write_xlsx(frame: pd.DataFrame, path: str | Path, *, sheet_name: str = "table") -> Path:
    """Write ``frame`` as a typed, filtered XLSX with a frozen header row.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written (reset it first to keep it).
    path : str or Path
        Target ``.xlsx`` file.
    sheet_name : str
        Worksheet name (cut to Excel's 31 characters).

    Returns
    -------
    Path
        The file written.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(str(path), options) as wb:
        ws = wb.add_worksheet(sheet_name[:31] or "table")
        plain = wb.add_format()  # runs of rich-string-shaped text (see _write_text)
        header = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        for col, name in enumerate(frame.columns):
            _write_text(ws, 0, col, str(name), header, plain)
            series = frame[name]
            code = column_format(str(name), series)
            fmt = wb.add_format({"num_format": code}) if code else None
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                fmt = date_fmt
            values = series.astype(object).tolist()
            width = len(str(name))
            for row, value in enumerate(values, start=1):
                if isinstance(value, float) and value.is_integer() and code == COUNT:
                    value = int(value)
                _write_value(ws, row, col, value, fmt, plain)
                if row <= 500:  # enough rows to size the column
                    width = max(width, len(_cell_text(value)))
            ws.set_column(col, col, min(width + 2, _MAX_WIDTH))
        ws.freeze_panes(1, 0)
        if len(frame.columns):
            ws.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
    return path
