"""The reduction layer: group-by sums over content rows, run where the data is.

Every analysis reduces content rows to small tables of sums (per covariate pattern,
per creator x pattern, ...) and does its statistics on those in Python. This package
defines each reduction once, as SQL, and runs it on an engine:

* **DuckDB** (embedded, the default) for a pandas frame (scanned in place; categorical
  columns as their integer codes, numbered in category order),
  a Parquet file or folder (the run's canonical ``dataset.parquet``; only the columns
  a reduction uses are read) and a DuckDB relation given by the user;
* **Spark** for a Spark DataFrame (a table on a cluster, or a local session).

Only the results leave the engine: small tables (patterns), and the creator x pattern
cells the cluster-robust covariance needs (numbers only, creators as integer codes).

Design choice: one SQL text in the common subset of DuckDB and Spark SQL
------------------------------------------------------------------------
The reductions are ``GROUP BY`` sums, ``COUNT``/``CASE`` tallies, ``ROW_NUMBER()``
over an ``ORDER BY`` (to number patterns and clusters the same way on every engine)
and equi-joins. That subset is spelled identically in both dialects, except for two
things the adapters supply (:mod:`helpers.reduce.source`): how an identifier is
quoted (``"name"`` in DuckDB, ```name``` in Spark; column names come from user data,
so every one is quoted and its quote character doubled) and how a text literal is
written (Spark reads backslash escapes). Ibis would give one expression API over both
engines, but it is a large dependency tree for a handful of group-bys whose SQL fits
on a screen, and it hides the SQL a reviewer wants to read; sqlglot would transpile a
dialect we do not need. Plain SQL keeps the dependencies at DuckDB (already pinned)
and pyspark (optional, only for Spark users), and each query is visible in
:mod:`helpers.reduce.totals`. A reduction that needs more than this subset should be
reconsidered (or the choice revisited) rather than special-cased per engine.

Formula terms that learn from rows (splines' knots, centring's mean) cannot be
computed from pattern sums; the callers refuse them on engine sources.
"""

from __future__ import annotations

from helpers.reduce.groups import group_sums
from helpers.reduce.source import Source, as_source, column_names
from helpers.reduce.totals import (
    Accounting,
    CellTotals,
    PatternTotals,
    cluster_pattern_totals,
    distinct_values,
    pattern_totals,
    row_accounting,
)

__all__ = [
    "Accounting",
    "CellTotals",
    "PatternTotals",
    "Source",
    "as_source",
    "cluster_pattern_totals",
    "column_names",
    "distinct_values",
    "group_sums",
    "pattern_totals",
    "row_accounting",
]
