"""Categorical key columns (Parquet dictionaries, DataFrame categoricals) are read in
category space (helpers.io.categorical): the result must be exactly what the same values
as plain text give, rejections and row accounting included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.io.categorical import (
    categorical_text,
    ordered_categories,
    recode,
    table_to_frame,
    text_categorical,
)
from helpers.load import read_export

TEXT = ["Site", "Creator name", "Product ID", "Video ID", "Category", "Content type", "Tier"]


def _frame() -> pd.DataFrame:
    """Key columns with the awkward cases: spaces to strip (merging categories), missing
    tokens, a total row, an unknown site, an unknown tier, a repeated video id."""
    n = 12
    return pd.DataFrame(
        {
            "Site": [
                "US",
                "us ",
                "UK",
                "US",
                "United States",
                "US",
                "XX",
                "US",
                "US",
                "GB",
                "US",
                "US",
            ],
            "Creator name": [
                "@a",
                " @a",
                "@b",
                "--",
                "@c",
                "Total",
                "@d",
                "@e",
                "@f",
                "@g",
                "@h",
                "@i",
            ],
            "Product ID": ["p1", "p1", "p2", "p3", "p1", "p1", "p2", "p2", "N/A", "p4", "p5", "p5"],
            "Video ID": [f"v{i}" for i in range(n - 1)] + ["v10"],
            "Category": [
                "Beauty",
                "Beauty ",
                "Home",
                "Home",
                "-",
                "Home",
                "Toys",
                "Toys",
                "Home",
                "Home",
                "Home",
                "Home",
            ],
            "Content type": [
                "Video",
                "video",
                "LIVE",
                "直播",
                "showcase",
                "Video",
                "Video",
                "Video",
                "Video",
                "Video",
                "Video",
                "Video",
            ],
            "Tier": [
                "Nano",
                "nano",
                "中腰部",
                "giant",
                "Mega",
                "mid",
                "mid",
                "mid",
                "micro",
                "mid",
                "mid",
                "mid",
            ],
            "Video product impressions": np.arange(1000, 1000 + 100 * n, 100),
            "Video product clicks": [50, 60, 70, 80, 90, 100, 110, 120, 130, 2000, 150, 140],
            "Video-attributed orders": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "Creator video-attributed GMV": np.linspace(10.0, 120.0, n),
        }
    )


def _as_categorical(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(**{c: df[c].astype("category") for c in TEXT})


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(
        a.rejected.astype("str"), b.rejected.astype("str"), check_dtype=False
    )
    assert a.summary.to_dict() == b.summary.to_dict()


def test_categorical_dataframe_reads_as_its_text() -> None:
    text = read_export(_frame())
    assert text.summary.rows_rejected >= 4  # total row, unknown site/tier, clicks > imps ...
    _same(read_export(_as_categorical(_frame())), text)


def test_categorical_parquet_reads_as_its_text(tmp_path: Path) -> None:
    p = tmp_path / "cat.parquet"
    _as_categorical(_frame()).to_parquet(p)
    text = read_export(_frame())
    got = read_export(p)
    pd.testing.assert_frame_equal(
        got.data.drop(columns="source_file"), text.data.drop(columns="source_file")
    )
    assert got.summary.rows_kept == text.summary.rows_kept
    assert got.summary.rejected_by_reason == text.summary.rejected_by_reason


@pytest.mark.parametrize("site", [None, "US"])
def test_categorical_with_site_option(site: str | None) -> None:
    df = _frame().assign(Site=[None, "US"] * 6)
    _same(read_export(_as_categorical(df), site=site), read_export(df, site=site))


def test_table_to_frame_matches_to_pandas_on_many_chunks() -> None:
    cats = pd.Series(pd.Categorical(["b", "a", None, "c"] * 5))
    unsorted = pd.Series(pd.Categorical(["z", "y"] * 10, categories=["z", "y"]))
    table = pa.Table.from_pandas(pd.DataFrame({"k": cats, "u": unsorted, "x": np.arange(20)}))
    chunked = pa.concat_tables([table.slice(0, 7), table.slice(7, 6), table.slice(13)])
    assert chunked.column("k").num_chunks == 3
    got = table_to_frame(chunked)
    pd.testing.assert_frame_equal(got, chunked.to_pandas())
    assert got["k"].cat.categories.tolist() == ["a", "b", "c"]


def test_table_to_frame_on_parquet_with_row_groups(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": pd.Categorical([f"v{i:04d}" for i in range(3000)]), "n": 1})
    p = tmp_path / "rg.parquet"
    df.to_parquet(p, row_group_size=500)
    table = pq.read_table(p)
    pd.testing.assert_frame_equal(table_to_frame(table), table.to_pandas())


def test_recode_merges_categories_and_keeps_missing() -> None:
    s = pd.Series(pd.Categorical(["a ", "a", None, "--", "b"]))
    out = recode(s, lambda c: c.str.strip().where(~c.str.strip().isin(["--"])))
    assert out.tolist()[:2] == ["a", "a"] and pd.isna(out.iloc[2]) and pd.isna(out.iloc[3])
    assert list(out.cat.categories) == ["a", "b"]
    assert recode(s, lambda c: c) is s  # nothing changed: the same codes


def test_categorical_text_and_order() -> None:
    s = pd.Series(pd.Categorical(["b", None, "a"], categories=["b", "a"]))
    assert categorical_text(s).tolist()[::2] == ["b", "a"] and pd.isna(categorical_text(s)[1])
    ordered = ordered_categories(s)
    assert list(ordered.cat.categories) == ["a", "b"] and ordered.tolist()[::2] == ["b", "a"]
    first = ordered_categories(s, first=["b"])
    assert list(first.cat.categories) == ["b", "a"]
    ints = pd.Series(pd.Categorical([10, 2, 2]))
    assert list(ordered_categories(ints).cat.categories) == [2, 10]


def test_table_to_frame_builds_numbers_and_times_from_buffers(tmp_path: Path) -> None:
    """Numbers, nullable integers and timestamps come straight from the Arrow buffers:
    the same frame as to_pandas(), and columns that can be written to."""
    n = 40
    df = pd.DataFrame(
        {
            "i": np.arange(n),
            "f": np.where(np.arange(n) % 3 == 0, np.nan, 1.5),
            "I": pd.array([1, None] * (n // 2), dtype="Int64"),
            "u": np.arange(n, dtype=np.uint64) + 2**63,
            "d": pd.date_range("2026-01-01", periods=n, freq="D").astype("datetime64[s]"),
            "k": pd.Categorical(["b", "a"] * (n // 2)),
        },
        index=pd.RangeIndex(3, 3 + n),
    )
    p = tmp_path / "nums.parquet"
    df.to_parquet(p, row_group_size=16)
    table = pq.read_table(p)
    got = table_to_frame(table)
    pd.testing.assert_frame_equal(got, table.to_pandas())
    got.loc[got.index[0], ["i", "f", "I"]] = [7, 7.0, 7]  # writable, not Arrow's memory
    assert got["i"].iloc[0] == 7
    bare = pa.table({"x": pa.array([1, None, 3]), "t": pa.array([1, 2, None], pa.timestamp("ms"))})
    pd.testing.assert_frame_equal(table_to_frame(bare), bare.to_pandas())


@pytest.mark.parametrize(
    "values", [["b", "a", None, "b"], [], [None], ["é", "e", "Z", "中", "😀", "Ä", "e"]]
)
def test_text_categorical_is_astype_category(values: list[str | None]) -> None:
    s = pd.Series(values, dtype="str", index=np.arange(len(values)) * 2, name="n")
    pd.testing.assert_series_equal(text_categorical(s), s.astype("category"))
