"""Group totals: rows, sums and distinct counts per group, in one pass on the engine.

The data-health coverage tables and the funnel (:func:`helpers.metrics.funnel`,
:func:`helpers.health.coverage`) are sums per site and group; they are computed here,
in the same SQL subset as :mod:`helpers.reduce.totals`, so that they run over a pandas
frame, the run's Parquet dataset or a Spark table alike.

A missing value (NULL, or NaN for a floating column) counts as 0 in a sum, as in
pandas; a distinct count ignores missing values. Groups come back in the order of
their key values (a pandas categorical in its categories' order, text in byte order,
numbers ascending), missing keys last.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.reduce.source import Source

__all__ = ["group_sums"]


def _value(src: Source, column: str) -> str:
    """``column`` as DOUBLE with missing values as 0 (SUM skips NULL but not NaN)."""
    q = f"CAST({src.ident(column)} AS DOUBLE)"
    return f"CASE WHEN {q} IS NULL OR isnan({q}) THEN 0 ELSE {q} END"


def _group_sql(
    src: Source, keys: Sequence[str], sums: Sequence[str], distinct: Sequence[str], dropna: bool
) -> str:
    key_sql = [src.ident(k) for k in keys]
    select = [f"{e} AS k{i}" for i, e in enumerate(key_sql)]
    select.append("COUNT(*) AS n_rows")
    select += [f"SUM({_value(src, c)}) AS s{i}" for i, c in enumerate(sums)]
    select += [f"COUNT(DISTINCT {src.ident(c)}) AS d{i}" for i, c in enumerate(distinct)]
    sql = f"SELECT {', '.join(select)} FROM {src.table}"
    if dropna and keys:
        sql += " WHERE " + " AND ".join(f"{e} IS NOT NULL" for e in key_sql)
    if keys:
        sql += f" GROUP BY {', '.join(key_sql)}"
        sql += " ORDER BY " + ", ".join(f"k{i} ASC NULLS LAST" for i in range(len(keys)))
    return sql


def group_sums(
    src: Source,
    keys: Sequence[str],
    sums: Sequence[str],
    *,
    distinct: Sequence[str] = (),
    dropna: bool = True,
) -> pd.DataFrame:
    """Rows, sums and distinct counts per combination of ``keys``.

    Parameters
    ----------
    src : Source
        The rows (:func:`helpers.reduce.as_source`).
    keys : sequence of str
        Grouping columns; empty for one row of grand totals.
    sums : sequence of str
        Numeric columns to add up (missing values count as 0).
    distinct : sequence of str
        Columns whose distinct non-missing values are counted per group.
    dropna : bool
        Leave out rows with a missing key (pandas' ``groupby`` default); False keeps
        them as their own groups, last.

    Returns
    -------
    DataFrame
        The key columns (as the data holds them), ``n_rows``, each column of ``sums``
        (float64; int64 for an integer column) and of ``distinct`` (int64), one row per
        group present in the data.
    """
    keys, sums, distinct = list(keys), list(sums), list(distinct)
    result = src.query(_group_sql(src, keys, sums, distinct, dropna))
    kinds = src.kinds()
    out = {k: src.decode(k, result[f"k{i}"]) for i, k in enumerate(keys)}
    out["n_rows"] = result["n_rows"].to_numpy(dtype=np.int64)
    for i, c in enumerate(sums):
        values = result[f"s{i}"].to_numpy(dtype=np.float64, na_value=0.0)
        # Integer counts are summed as DOUBLE, exact below 2^53.
        out[c] = np.rint(values).astype(np.int64) if kinds[c] == "int" else values
    for i, c in enumerate(distinct):
        out[c] = result[f"d{i}"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(result)))
    return frame
