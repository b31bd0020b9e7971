"""The reductions, written once in the SQL subset DuckDB and Spark share.

* :func:`row_accounting`: rows, rows with a missing value (per column), rows with
  invalid counts and rows with zero trials, in one pass;
* :func:`pattern_totals`: successes, trials, ``sum(successes^2 / trials)`` (for the
  Pearson chi-square) and rows per distinct combination of the key columns (a
  covariate *pattern*);
* :func:`cluster_pattern_totals`: the same per pattern, plus successes and trials per
  (cluster x pattern) cell with clusters and patterns numbered on the engine, so no
  cluster id leaves it;
* :func:`distinct_values`: the values present in a column.

Patterns are numbered in the order of their key values (``ORDER BY`` the keys: text
in byte order, a pandas categorical in its categories' order, numbers ascending) and
clusters in the order of their ids, the same on every engine, so that results do not
depend on row order or engine. Counts are summed as DOUBLE (exact below 2^53).

Rows are *usable* when no column in ``complete`` is missing (NULL, or NaN/infinite
for floating columns) and trials > 0; rows without trials carry no information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.reduce.source import Source

__all__ = [
    "Accounting",
    "CellTotals",
    "PatternTotals",
    "cluster_pattern_totals",
    "distinct_values",
    "missing",
    "pattern_totals",
    "row_accounting",
    "site_filter",
]


@dataclass
class Accounting:
    """Row counts of :func:`row_accounting` (``missing_by`` only lists columns with
    missing values; ``invalid`` and ``zero_trials`` count complete rows)."""

    rows: int
    missing: int
    missing_by: dict[str, int]
    invalid: int
    zero_trials: int

    @property
    def used(self) -> int:
        """Complete rows with trials > 0 (when there are no invalid rows)."""
        return self.rows - self.missing - self.zero_trials


@dataclass
class PatternTotals:
    """Per pattern (row ``p`` of ``keys``): ``successes``, ``trials``, ``sum_sq``
    (``sum successes^2 / trials`` over its rows) and ``rows``."""

    keys: pd.DataFrame
    successes: np.ndarray
    trials: np.ndarray
    sum_sq: np.ndarray
    rows: np.ndarray


@dataclass
class CellTotals:
    """Patterns and their (cluster x pattern) cells: ``cluster`` codes 0..n_clusters-1
    and ``pattern`` codes (rows of ``patterns.keys``) of each cell, with its
    ``successes`` and ``trials``."""

    patterns: PatternTotals
    cluster: np.ndarray
    pattern: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    n_clusters: int


# ------------------------------------------------------------------------ SQL pieces
def missing(src: Source, column: str) -> str:
    """SQL condition: ``column`` is missing (NULL; also NaN or infinite when floating)."""
    q = src.ident(column)
    if src.kinds()[column] == "float":
        return f"({q} IS NULL OR isnan({q}) OR abs({q}) = CAST('Infinity' AS DOUBLE))"
    return f"({q} IS NULL)"


def site_filter(src: Source, column: str, value: str) -> str:
    """SQL condition: the row is of site ``value``, or has no site (so that a fit counts
    it as missing instead of losing it)."""
    return f"({src.equals(column, value)} OR {src.ident(column)} IS NULL)"


def _count(src: Source, column: str) -> str:
    return f"CAST({src.ident(column)} AS DOUBLE)"


def _and(*conditions: str | None) -> str:
    parts = [c for c in conditions if c]
    return " AND ".join(f"({c})" for c in parts) if parts else "TRUE"


def _usable(src: Source, complete: Sequence[str], trials: str, where: str | None) -> str:
    none_missing = " AND ".join(f"NOT {missing(src, c)}" for c in complete) or None
    return _and(where, none_missing, f"{_count(src, trials)} > 0")


def _sums(src: Source, successes: str, trials: str) -> str:
    y, n = _count(src, successes), _count(src, trials)
    return f"SUM({y}) AS y, SUM({n}) AS n, SUM({y} * {y} / {n}) AS q, COUNT(*) AS r"


# ------------------------------------------------------------------------ reductions
def row_accounting(
    src: Source,
    check: Sequence[str],
    successes: str,
    trials: str,
    *,
    where: str | None = None,
) -> Accounting:
    """Count rows, missing values (per column of ``check`` and in the counts), complete
    rows with negative counts or successes > trials, and complete rows with zero
    trials, over the rows matching ``where`` (one pass)."""
    cols = list(dict.fromkeys([*check, successes, trials]))
    miss = [missing(src, c) for c in cols]
    any_miss = " OR ".join(miss)
    y, n = _count(src, successes), _count(src, trials)
    tallies = [f"SUM(CASE WHEN {m} THEN 1 ELSE 0 END) AS m{i}" for i, m in enumerate(miss)]
    sql = (
        f"SELECT COUNT(*) AS rows_, {', '.join(tallies)}, "
        f"SUM(CASE WHEN {any_miss} THEN 1 ELSE 0 END) AS missing_, "
        f"SUM(CASE WHEN NOT ({any_miss}) AND ({y} < 0 OR {n} < 0 OR {y} > {n}) "
        "THEN 1 ELSE 0 END) AS invalid_, "
        f"SUM(CASE WHEN NOT ({any_miss}) AND {n} = 0 THEN 1 ELSE 0 END) AS zero_ "
        f"FROM {src.table} WHERE {_and(where)}"
    )
    row = src.query(sql).iloc[0].fillna(0)
    by = {c: int(row[f"m{i}"]) for i, c in enumerate(cols) if int(row[f"m{i}"])}
    return Accounting(
        rows=int(row["rows_"]),
        missing=int(row["missing_"]),
        missing_by=by,
        invalid=int(row["invalid_"]),
        zero_trials=int(row["zero_"]),
    )


def _pattern_frame(src: Source, result: pd.DataFrame, keys: Sequence[str]) -> PatternTotals:
    result = result.sort_values("p", kind="stable").reset_index(drop=True)
    key_frame = pd.DataFrame(
        {k: src.decode(k, result[f"k{i}"]) for i, k in enumerate(keys)},
        index=pd.RangeIndex(len(result)),
    )
    return PatternTotals(
        keys=key_frame,
        successes=result["y"].to_numpy(dtype=np.float64),
        trials=result["n"].to_numpy(dtype=np.float64),
        sum_sq=result["q"].to_numpy(dtype=np.float64),
        rows=result["r"].to_numpy(dtype=np.int64),
    )


def _patterns_sql(table: str, keys: Sequence[str], key_sql: Sequence[str], sums: str) -> str:
    """Group ``table`` by the keys (``key_sql``, aliased k0, k1 ...) with pattern numbers."""
    if not keys:
        return f"SELECT {sums}, 0 AS p FROM {table}"
    aliases = [f"k{i}" for i in range(len(keys))]
    select = ", ".join(f"{e} AS {a}" for e, a in zip(key_sql, aliases, strict=True))
    return (
        f"SELECT {select}, {sums}, ROW_NUMBER() OVER (ORDER BY {', '.join(key_sql)}) - 1 AS p "
        f"FROM {table} GROUP BY {', '.join(key_sql)}"
    )


def pattern_totals(
    src: Source,
    keys: Sequence[str],
    successes: str,
    trials: str,
    *,
    complete: Sequence[str] = (),
    where: str | None = None,
) -> PatternTotals:
    """Totals per distinct combination of ``keys`` over the usable rows (see the module
    docstring; ``keys`` and the counts are always required to be complete)."""
    need = list(dict.fromkeys([*complete, *keys, successes, trials]))
    table = f"(SELECT * FROM {src.table} WHERE {_usable(src, need, trials, where)}) AS u"
    sql = _patterns_sql(table, keys, [src.ident(k) for k in keys], _sums(src, successes, trials))
    return _pattern_frame(src, src.query(sql), keys)


def cluster_pattern_totals(
    src: Source,
    cluster: str,
    keys: Sequence[str],
    successes: str,
    trials: str,
    *,
    complete: Sequence[str] = (),
    where: str | None = None,
) -> CellTotals:
    """:func:`pattern_totals` plus the (cluster x pattern) cells, in one pass over the
    rows: the cells are kept on the engine, patterns and clusters are numbered there,
    and only the cells' codes and sums are fetched."""
    need = list(dict.fromkeys([*complete, cluster, *keys, successes, trials]))
    group = list(dict.fromkeys([cluster, *keys]))
    key_select = "".join(f", {src.ident(k)} AS k{i}" for i, k in enumerate(keys))
    cells_sql = (
        f"SELECT {src.ident(cluster)} AS g{key_select}, {_sums(src, successes, trials)} "
        f"FROM {src.table} WHERE {_usable(src, need, trials, where)} "
        f"GROUP BY {', '.join(src.ident(c) for c in group)}"
    )
    aliases = [f"k{i}" for i in range(len(keys))]
    sums = "SUM(y) AS y, SUM(n) AS n, SUM(q) AS q, SUM(r) AS r"
    with src.kept(cells_sql) as cells:
        clusters_sql = (
            f"SELECT g, ROW_NUMBER() OVER (ORDER BY g) - 1 AS c "
            f"FROM (SELECT DISTINCT g FROM {cells}) AS d"
        )
        with (
            src.kept(_patterns_sql(cells, keys, aliases, sums)) as pats,
            src.kept(clusters_sql) as clus,
        ):
            patterns = _pattern_frame(src, src.query(f"SELECT * FROM {pats}"), keys)
            on = " AND ".join(f"x.{a} = p.{a}" for a in aliases)
            join_p = f"JOIN {pats} AS p ON {on}" if keys else ""
            p_col = "p.p" if keys else "0"
            cell = src.query(
                f"SELECT c.c AS c, {p_col} AS p, x.y AS y, x.n AS n FROM {cells} AS x "
                f"JOIN {clus} AS c ON x.g = c.g {join_p}"
            )
    codes = cell["c"].to_numpy(dtype=np.int64)
    return CellTotals(
        patterns=patterns,
        cluster=codes,
        pattern=cell["p"].to_numpy(dtype=np.int64),
        successes=cell["y"].to_numpy(dtype=np.float64),
        trials=cell["n"].to_numpy(dtype=np.float64),
        n_clusters=int(codes.max()) + 1 if len(codes) else 0,
    )


def distinct_values(src: Source, column: str) -> list[object]:
    """The non-missing values present in ``column`` (any order)."""
    q = src.ident(column)
    values = src.query(
        f"SELECT DISTINCT {q} AS v FROM {src.table} WHERE NOT {missing(src, column)}"
    )
    return list(src.decode(column, values["v"]).tolist())
