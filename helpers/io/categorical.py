"""Categoricals without per-row work: Arrow dictionaries in, category-space text ops.

A typed export (Parquet, a DataFrame) holds its key columns as dictionaries or
categoricals: a million rows, a few (or a million) distinct values. Everything the loader
does to such a column (strip, missing tokens, site and tier names, total-row words) is a
function of the value, so it runs once per category and the row codes are carried
through; nothing is turned into a million strings and factorized again.

* :func:`table_to_frame` - a pyarrow Table -> DataFrame like ``Table.to_pandas()``, but
  dictionary columns whose chunks share one dictionary (what Parquet gives) become
  categoricals directly (pyarrow unifies the chunks' dictionaries by hashing every value).
* :func:`categorical_text` - a categorical's values as text (``str``), by taking the
  categories' text.
* :func:`recode` - a categorical whose categories went through a per-value function
  (merging categories that became equal).
* :func:`ordered_categories` - categories in a stable order (``first``, then sorted)
  without hashing a million categories again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "categorical_text",
    "category_values",
    "is_categorical",
    "ordered_categories",
    "recode",
    "table_to_frame",
    "text_categorical",
]


def is_categorical(s: Any) -> bool:
    """True for a pandas Series (or array) of categorical dtype."""
    return isinstance(getattr(s, "dtype", None), pd.CategoricalDtype)


def _dtype_unchecked(categories: pd.Index, ordered: bool) -> pd.CategoricalDtype:
    """A CategoricalDtype for categories the caller KNOWS to be unique and non-missing.

    pandas checks uniqueness by hashing every category through Python objects (0.5 s for
    a million ids); callers here have proved it already (strictly increasing values, or
    distinct codes of a factorization). Falls back to the checked constructor."""
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is None:  # pragma: no cover - older/newer pandas without the private helper
        return pd.CategoricalDtype(categories, ordered=ordered)
    return fast(categories, ordered)


def _strictly_increasing(values: Any) -> bool:
    """True when ``values`` (an Arrow array or pandas Index of text) is sorted without ties."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) < 2:
        return True
    if arr.null_count:
        return False
    return bool(pc.all(pc.less(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


# ----------------------------------------------------------------------- Arrow -> pandas


def _dictionary_column(col: Any, trusted: bool = False) -> pd.Categorical | None:
    """A dictionary ChunkedArray whose chunks share one dictionary of unique text ->
    Categorical (codes copied, categories zero-copy); None when that does not hold.

    ``trusted``: the dictionary is taken as the categories, in its order, without the
    check that it is sorted (a file this kit wrote from categoricals: Arrow writes and
    reads the categories back as they were, unique and in order)."""
    import pyarrow as pa

    if col.num_chunks == 0:
        return None
    first = col.chunk(0).dictionary
    if not pa.types.is_string(first.type) and not pa.types.is_large_string(first.type):
        return None
    if any(not ch.dictionary.equals(first) for ch in col.chunks[1:]):
        return None
    # Unique AND already in the order the loader wants: no hashing needed. A dictionary
    # in another order (or with ties) goes the ordinary way.
    if not trusted and not _strictly_increasing(first):
        return None
    if trusted and first.null_count:
        return None
    codes = np.concatenate(
        [ch.indices.fill_null(-1).to_numpy(zero_copy_only=False) for ch in col.chunks]
    )
    cats = pd.Index(first.to_pandas(), dtype="str")
    dtype = _dtype_unchecked(cats, bool(col.type.ordered))
    return pd.Categorical.from_codes(codes.astype(_code_dtype(len(cats))), dtype=dtype)


def _code_dtype(n: int) -> type:
    return np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32


def _numpy_column(col: Any, numpy_type: str | None) -> Any:
    """A plain Arrow column -> the array ``to_pandas()`` gives, built from the buffers in
    one (writable) copy; None for the types left to ``to_pandas()``.

    Covered: integers without nulls, floats (nulls as NaN), integers pandas wrote as a
    nullable ``Int64`` etc., and timestamps without a time zone. ``numpy_type`` is the
    pandas metadata's; without metadata, the type ``to_pandas()`` would choose."""
    import pyarrow as pa

    t = col.type
    plain = pa.types.is_integer(t) or pa.types.is_floating(t)
    if col.num_chunks == 0 or not (plain or (pa.types.is_timestamp(t) and t.tz is None)):
        return None
    native = np.dtype(t.to_pandas_dtype()).name
    numpy_type = numpy_type or native
    if pa.types.is_integer(t) and numpy_type == native.capitalize():  # Int64 from int64
        values = np.concatenate([ch.fill_null(0).to_numpy() for ch in col.chunks])
        mask = np.concatenate([ch.is_null().to_numpy(zero_copy_only=False) for ch in col.chunks])
        return pd.arrays.IntegerArray(values, mask)
    if numpy_type != native and not (
        pa.types.is_timestamp(t) and numpy_type.startswith("datetime64")
    ):
        return None
    if pa.types.is_integer(t) and col.null_count:
        return None  # to_pandas() turns them into floats: its own way
    return np.concatenate([ch.to_numpy(zero_copy_only=False) for ch in col.chunks])


def table_to_frame(table: Any, *, trusted: bool = False) -> pd.DataFrame:
    """``table.to_pandas()``, with fast categoricals for shared sorted dictionaries.

    Parameters
    ----------
    table : pyarrow.Table
    trusted : bool
        The table comes from a file this kit wrote (a run's dataset): dictionaries are
        the categories as they are (see :func:`_dictionary_column`).

    Returns
    -------
    pandas.DataFrame
        The same frame ``to_pandas()`` gives (RangeIndex; pandas metadata applied),
        except that categorical columns are built from the dictionary directly, and
        numeric and timestamp columns from the Arrow buffers (no block consolidation).
    """
    import pyarrow as pa

    if len(set(table.column_names)) != len(table.column_names):
        return table.to_pandas()
    meta = table.schema.pandas_metadata or {}
    if any(not isinstance(i, dict) for i in meta.get("index_columns", [])):
        return table.to_pandas()  # an index stored as columns: pyarrow restores it
    types = {c.get("field_name"): c.get("numpy_type") for c in meta.get("columns", [])}
    fast: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(col.type):
            arr = _dictionary_column(col, trusted)
        else:
            arr = _numpy_column(col, types.get(name))
        if arr is not None:
            fast[name] = arr
    return _assemble(table, fast)


def _assemble(table: Any, fast: dict[str, Any]) -> pd.DataFrame:
    """The frame of ``table`` with the columns in ``fast`` already converted."""
    if not fast:
        return table.to_pandas()
    rest = table.drop_columns(list(fast))
    if rest.num_columns:
        frame = rest.to_pandas()
    else:
        frame = pd.DataFrame(index=_range_index(table.schema.pandas_metadata, table.num_rows))
    if len(frame) != table.num_rows:  # pragma: no cover - index metadata changed the frame
        return table.to_pandas()
    cols = {name: fast[name] if name in fast else frame[name] for name in table.column_names}
    # Keep the pandas metadata's index (usually a RangeIndex) and column order.
    out = pd.DataFrame(cols, index=frame.index, copy=False)
    out.columns.name = frame.columns.name
    return out


def _range_index(meta: dict[str, Any] | None, n: int) -> pd.RangeIndex:
    """The RangeIndex ``to_pandas()`` restores from the pandas metadata (0..n-1 unless
    the metadata names one of length ``n``)."""
    index = (meta or {}).get("index_columns", [])
    if len(index) == 1 and isinstance(index[0], dict) and index[0].get("kind") == "range":
        i = index[0]
        r = pd.RangeIndex(i.get("start", 0), i.get("stop", n), i.get("step", 1), name=i.get("name"))
        if len(r) == n:
            return r
    return pd.RangeIndex(n)


# -------------------------------------------------------------------- category space


def category_values(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, categories as a Series)`` of a categorical Series (codes -1: missing)."""
    return np.asarray(s.cat.codes.to_numpy()), pd.Series(s.cat.categories)


def _take(values: Any, codes: np.ndarray) -> Any:
    return pd.api.extensions.take(values, codes, allow_fill=True)


def text_categorical(s: pd.Series) -> pd.Series:
    """``s.astype("category")`` for Arrow-backed text: categories sorted, missing -> NaN.

    Arrow encodes the text and sorts the distinct values (UTF-8 byte order is code point
    order, the order pandas sorts ``str`` in); the codes are remapped in numpy. pandas
    would hash the categories again to check them (a million video ids: a second)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(s.array, "_pa_array", None)
    if arr is None:
        return s.astype("category")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr)
    order = pc.array_sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    codes = np.where(idx >= 0, rank[np.maximum(idx, 0)] if len(rank) else -1, -1)
    cats = pd.Index(enc.dictionary.take(pa.array(order)).to_pandas(), dtype="str")
    cat = pd.Categorical.from_codes(
        codes.astype(_code_dtype(len(cats))), dtype=_dtype_unchecked(cats, False)
    )
    return pd.Series(cat, index=s.index, name=s.name)


def categorical_text(s: pd.Series) -> pd.Series:
    """The values of a categorical Series as ``str`` text (NaN where missing), as
    ``s.astype("str").where(s.notna())`` gives, by taking the categories' text."""
    codes, cats = category_values(s)
    text = cats if cats.dtype == "str" else cats.astype("str")
    return pd.Series(_take(text.array, codes), index=s.index, dtype="str")


def recode(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """A categorical Series whose categories went through ``fn``.

    ``fn`` takes the categories (a Series, positionally indexed) and returns one value per
    category (missing values mean "no value"). Categories that ``fn`` maps to the same
    value are merged, so the result's categories are unique; when ``fn`` changes nothing
    the codes are reused as they are.
    """
    codes, cats = category_values(s)
    arg = cats.reset_index(drop=True)
    new = fn(arg)
    text = getattr(getattr(new, "array", None), "_pa_array", None)
    if text is not None and text is getattr(arg.array, "_pa_array", None):
        return s  # fn handed the very same Arrow text back: nothing changed, no compare
    new = new.reset_index(drop=True) if isinstance(new, pd.Series) else pd.Series(new)
    if new.dtype == object and pd.api.types.infer_dtype(new, skipna=True) in ("string", "empty"):
        new = new.astype("str")  # text categories as the text dtype, as astype("category") gives
    missing = new.isna().to_numpy(bool)
    if not missing.any() and new.dtype == cats.dtype and bool((new.array == cats.array).all()):
        return s
    ucodes, uniques = pd.factorize(new)  # -1 where fn says missing
    lookup = np.append(ucodes, -1).astype(np.int64)
    out_codes = lookup[np.where(codes >= 0, codes, len(ucodes))]
    cat = pd.Categorical.from_codes(
        out_codes.astype(_code_dtype(len(uniques))),
        dtype=_dtype_unchecked(pd.Index(uniques), False),
    )
    return pd.Series(cat, index=s.index, name=s.name)


def ordered_categories(s: pd.Series, first: Sequence[Any] = ()) -> pd.Series:
    """Drop unused categories and order the rest: ``first`` (those present), then the
    others sorted (as ``str``). Sorting and the unused check run on codes and the
    categories once; a million categories are never hashed again."""
    codes = np.asarray(s.cat.codes.to_numpy())
    cats = s.cat.categories
    used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
    if not used.all():
        s = s.cat.remove_unused_categories()
        codes = np.asarray(s.cat.codes.to_numpy())
        cats = s.cat.categories
    if not first:
        # The check on Arrow text is vectorised; pandas' own goes through Python objects.
        sorted_ = (
            _strictly_increasing(cats.array)
            if cats.dtype == "str"
            else cats.is_monotonic_increasing
        )
        if sorted_:
            return s
    text = pd.Series(cats).astype("str").to_numpy(object)
    first_pos = {str(v): i for i, v in enumerate(first)}
    rank_first = np.array([first_pos.get(t, np.inf) for t in text], dtype="float64")
    # Categories named in ``first`` by their position there, then the others by text.
    by_text = np.empty(len(text), dtype=np.int64)
    by_text[np.argsort(text, kind="stable")] = np.arange(len(text))
    order = np.lexsort((by_text, rank_first))
    if (order == np.arange(len(order))).all():
        return s
    new_pos = np.empty(len(order), dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    new_codes = np.where(codes >= 0, new_pos[np.where(codes >= 0, codes, 0)], -1)
    dtype = _dtype_unchecked(cats.take(order), bool(s.cat.ordered))
    cat = pd.Categorical.from_codes(new_codes.astype(codes.dtype), dtype=dtype)
    return pd.Series(cat, index=s.index, name=s.name)
