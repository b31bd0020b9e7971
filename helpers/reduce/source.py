"""Where rows live: one adapter per engine, the same small interface for the reductions.

:func:`as_source` accepts a pandas DataFrame, a Parquet file or folder, a DuckDB
relation or a Spark DataFrame and returns a :class:`Source`: the table's name for SQL
(:attr:`Source.table`), its column kinds, the dialect's quoting, and ``query`` /
``materialize`` / ``release`` to run the SQL of :mod:`helpers.reduce.totals`.
Use it as a context manager: temporary views and tables are dropped on exit.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import ExportError, KitError

__all__ = ["SOURCE_KINDS", "Source", "as_source", "column_names"]

SOURCE_KINDS = ("pandas", "parquet", "duckdb", "spark")
"""What :func:`as_source` accepts, as named in messages and :attr:`Source.kind`."""

_INTS = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "BYTE", "SHORT", "INT", "LONG",
}  # fmt: skip


def _kind_of(type_name: str) -> str:
    """``float``, ``decimal``, ``int``, ``bool``, ``text`` or ``other`` for an engine type
    name (DuckDB's ``DOUBLE``/``ENUM(...)``, Spark's ``double``/``string`` ...)."""
    t = type_name.upper()
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t in _INTS:
        return "int"
    if t in ("BOOLEAN", "BOOL"):
        return "bool"
    if t in ("VARCHAR", "STRING") or t.startswith(("ENUM", "VARCHAR", "CHAR")):
        return "text"
    return "other"


class Source:
    """Rows on an engine, with the dialect to query them (see the module docstring).

    Attributes
    ----------
    kind : str
        One of :data:`SOURCE_KINDS`.
    table : str
        The rows' name in SQL (a temporary view, a safe identifier).
    columns : list of str
        Column names, in order.
    frame : pandas.DataFrame or None
        The pandas frame given (``kind == "pandas"``): its dtypes and row labels.
    """

    kind: str
    table: str
    columns: list[str]
    frame: pd.DataFrame | None = None

    def kinds(self) -> dict[str, str]:
        """``{column: kind}`` with kinds as in :func:`_kind_of`."""
        raise NotImplementedError

    def ident(self, name: str) -> str:
        """``name`` as a quoted identifier (any text is safe: quotes are doubled)."""
        raise NotImplementedError

    def literal(self, value: str) -> str:
        """``value`` as a SQL text literal."""
        raise NotImplementedError

    def query(self, sql: str) -> pd.DataFrame:
        """Run a SELECT and return its (small) result as a pandas frame."""
        raise NotImplementedError

    def equals(self, column: str, value: str) -> str:
        """SQL condition: ``column``, read as text, equals ``value``."""
        return f"CAST({self.ident(column)} AS STRING) = {self.literal(value)}"

    def decode(self, column: str, values: pd.Series) -> pd.Series:
        """Values of ``column`` fetched from the engine, as the data holds them."""
        return values

    def materialize(self, sql: str) -> str:
        """Keep the result of a SELECT on the engine; return its table name."""
        raise NotImplementedError

    def release(self, name: str) -> None:
        """Drop a table made by :meth:`materialize`."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop the source's view (and its private connection, if any)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def kept(self, sql: str) -> Iterator[str]:
        """``materialize(sql)`` for the duration of a ``with`` block."""
        name = self.materialize(sql)
        try:
            yield name
        finally:
            self.release(name)


def _temp_name(prefix: str) -> str:
    return f"linkstar_{prefix}_{uuid.uuid4().hex[:12]}"


class _DuckSource(Source):
    """A DuckDB relation (pandas frames and Parquet files become one on a private,
    in-memory connection). Every statement runs through ``relation.query``, on the
    relation's own connection, with the relation visible as :attr:`table`."""

    def __init__(
        self,
        rel: Any,
        kind: str,
        frame: pd.DataFrame | None = None,
        con: Any = None,
        coded: dict[str, pd.CategoricalDtype] | None = None,
    ):
        self.kind, self.frame, self._rel, self._con = kind, frame, rel, con
        self._coded = coded or {}
        self.table = _temp_name("rows")
        self.columns = list(rel.columns)
        self._types = [str(t) for t in rel.types]
        if con is not None:  # our own connection: a view once, statements run directly
            rel.create_view(self.table)

    def kinds(self) -> dict[str, str]:
        return {c: _kind_of(t) for c, t in zip(self.columns, self._types, strict=True)}

    def ident(self, name: str) -> str:
        return '"' + str(name).replace('"', '""') + '"'

    def literal(self, value: str) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    def _run(self, sql: str) -> Any:
        if self._con is not None:
            return self._con.execute(sql)
        return self._rel.query(self.table, sql)

    def query(self, sql: str) -> pd.DataFrame:
        return self._run(sql).df()

    def equals(self, column: str, value: str) -> str:
        if column not in self._coded:
            return super().equals(column, value)
        codes = [i for i, c in enumerate(self._coded[column].categories) if str(c) == value]
        return f"{self.ident(column)} IN ({', '.join(map(str, codes))})" if codes else "FALSE"

    def decode(self, column: str, values: pd.Series) -> pd.Series:
        if column not in self._coded:
            return values
        codes = values.to_numpy(dtype=np.float64, na_value=np.nan)
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=self._coded[column]), index=values.index
        )

    def materialize(self, sql: str) -> str:
        name = _temp_name("t")
        self._run(f"CREATE TEMP TABLE {name} AS {sql}")
        return name

    def release(self, name: str) -> None:
        if self._con is None:  # on our own connection tables go when it closes
            self._rel.query(self.table, f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


class _SparkSource(Source):
    """A Spark DataFrame, registered as a temporary view of its session."""

    def __init__(self, sdf: Any):
        self.kind, self._sdf, self._spark = "spark", sdf, sdf.sparkSession
        self.table = _temp_name("rows")
        sdf.createOrReplaceTempView(self.table)
        self.columns = list(sdf.columns)
        self._types = dict(sdf.dtypes)
        self._kept: dict[str, Any] = {}

    def kinds(self) -> dict[str, str]:
        return {c: _kind_of(self._types[c]) for c in self.columns}

    def ident(self, name: str) -> str:
        return "`" + str(name).replace("`", "``") + "`"

    def literal(self, value: str) -> str:
        # Spark reads backslash escapes in literals (spark.sql.parser.escapedStringLiterals off)
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    def query(self, sql: str) -> pd.DataFrame:
        result = self._spark.sql(sql)
        if hasattr(result, "toArrow"):  # pyspark >= 4: columnar transfer without row objects
            return result.toArrow().to_pandas()
        return result.toPandas()  # pragma: no cover - older pyspark

    def materialize(self, sql: str) -> str:
        name = _temp_name("t")
        kept = self._spark.sql(sql).persist()
        kept.createOrReplaceTempView(name)
        self._kept[name] = kept
        return name

    def release(self, name: str) -> None:
        self._spark.catalog.dropTempView(name)
        kept = self._kept.pop(name, None)
        if kept is not None:
            kept.unpersist()

    def close(self) -> None:
        for name in list(self._kept):
            self.release(name)
        self._spark.catalog.dropTempView(self.table)


_DATABASE: dict[int, Any] = {}


def _duckdb_connection() -> Any:
    """A fresh connection (a cursor) to this process's in-memory DuckDB database.

    Opening a database costs about 35 ms of CPU, a cursor about 1 ms: the funnel of a
    three-row frame should not pay for a database. A cursor has its own temporary
    views and tables, dropped when it closes. Keyed by process id, so that a forked
    child never uses its parent's database.
    """
    import duckdb

    pid = os.getpid()
    if pid not in _DATABASE:
        con = duckdb.connect()
        # A terminal shows a progress bar by default; inside Jupyter it is already off,
        # and setting it there raises unless ipywidgets is installed.
        if con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
            con.execute("SET enable_progress_bar = false")
        _DATABASE.clear()
        _DATABASE[pid] = con
    return _DATABASE[pid].cursor()


def _coded_frame(
    frame: pd.DataFrame,
) -> tuple[dict[str, pd.CategoricalDtype], pd.DataFrame]:
    """The frame DuckDB scans: categorical columns as their integer codes (missing:
    NULL), which DuckDB groups and orders far faster than the ENUMs it would build from
    the categories on every scan; numbered in category order, as pandas sorts them.
    Returns the categorical dtypes (to decode results) and the frame (no data copied
    for other columns)."""
    coded: dict[str, pd.CategoricalDtype] = {}
    columns: dict[str, Any] = {}
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = np.asarray(s.cat.codes, dtype=np.int32)
            columns[name] = pd.arrays.IntegerArray(codes, codes < 0)
            coded[name] = s.dtype
        else:
            columns[name] = s.array
    return coded, pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), copy=False)


def _parquet_files(path: Path) -> list[str]:
    """The Parquet files of a file or folder (a prepared dataset folder: its dataset)."""
    from helpers.io.dataset import DATA_FILE, is_prepared

    if path.is_file():
        return [str(path)]
    if is_prepared(path):
        return [str(path / DATA_FILE)]
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*.parquet") if p.is_file())
        if files:
            return files
        raise ExportError(
            f"{path}: the folder holds no .parquet file. Fix: point to the run's dataset "
            "folder (with dataset.parquet) or to a folder of Parquet files."
        )
    raise ExportError(f"{path}: no such file or folder. Fix: give an existing Parquet path.")


def column_names(data: Any) -> list[str]:
    """The column names of anything :func:`as_source` accepts."""
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    with as_source(data) as src:
        return list(src.columns)


def as_source(data: Any, columns: Sequence[str] | None = None) -> Source:
    """The rows of ``data`` on an engine, ready for :mod:`helpers.reduce.totals`.

    Parameters
    ----------
    data : pandas.DataFrame, str, pathlib.Path, duckdb.DuckDBPyRelation or pyspark DataFrame
        The rows: a frame (DuckDB scans it in place), a Parquet file or folder, a
        DuckDB relation (queried on its own connection) or a Spark DataFrame.
    columns : sequence of str, optional
        For a pandas frame, the columns the reductions use (only these are handed to
        DuckDB, so categorical columns that are not needed cost nothing).

    Returns
    -------
    Source
        Use as a context manager (``with as_source(df) as src:``).

    Raises
    ------
    KitError
        For any other type (the message lists the accepted ones); ExportError for a
        path that is not Parquet.
    """
    if isinstance(data, pd.DataFrame):
        frame = data[list(dict.fromkeys(columns))] if columns is not None else data
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.rename(columns=str)
        coded, scanned = _coded_frame(frame)
        con = _duckdb_connection()
        return _DuckSource(con.from_df(scanned), "pandas", frame=frame, con=con, coded=coded)
    if isinstance(data, str | Path):
        files = _parquet_files(Path(data))
        con = _duckdb_connection()
        try:
            rel = con.read_parquet(files)
        except Exception as exc:  # duckdb raises its own IOException/InvalidInputException
            con.close()
            raise ExportError(
                f"{data}: cannot be read as Parquet ({exc}). Fix: give a Parquet file or a "
                "folder of Parquet files (the report run writes dataset.parquet)."
            ) from exc
        return _DuckSource(rel, "parquet", con=con)
    module = type(data).__module__
    if module.startswith("duckdb") and hasattr(data, "query") and hasattr(data, "types"):
        return _DuckSource(data, "duckdb")
    if module.startswith("pyspark.sql") and hasattr(data, "createOrReplaceTempView"):
        return _SparkSource(data)
    raise KitError(
        f"cannot read rows from a {type(data).__name__}; accepted: a pandas DataFrame, a "
        "Parquet file or folder (str or Path), a DuckDB relation, or a Spark DataFrame"
    )
