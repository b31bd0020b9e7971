"""Group totals on the engine (helpers.reduce.groups): the funnel and the data-health
coverage give the same table from a pandas frame, a Parquet file, a DuckDB relation and
a Spark DataFrame holding the same rows, and the same as pandas' own group-by."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from helpers import health, metrics
from helpers.reduce import as_source, group_sums
from helpers.synth import make_affiliate_data

SUMS = ["impressions", "clicks", "orders", "gmv"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """4k rows on two sites, with missing GMV, a missing category and a missing site."""
    d = make_affiliate_data(4_000, seed=11, sites=("US", "UK")).data
    d.loc[d.index[:7], "gmv"] = np.nan
    d.loc[d.index[7:20], "category"] = pd.NA
    d.loc[d.index[20:23], "site"] = pd.NA
    return d


@pytest.fixture(scope="module")
def parquet(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("groups") / "rows.parquet"
    frame.to_parquet(path, index=False)
    return path


def _by_text(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in the text order of their keys (a frame's categoricals sort in category
    order, a Parquet file's text in byte order)."""
    order = table[keys].astype(object).fillna("~").astype(str)
    return table.loc[order.sort_values(keys).index].reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str] | None = None) -> None:
    """Same columns, keys (as text) and numbers (to 1e-12); rows in key text order when
    ``keys`` are given."""
    if keys:
        a, b = _by_text(a, keys), _by_text(b, keys)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if pd.api.types.is_numeric_dtype(a[c]) and not isinstance(a[c].dtype, pd.CategoricalDtype):
            np.testing.assert_allclose(
                a[c].to_numpy(float, na_value=np.nan),
                b[c].to_numpy(float, na_value=np.nan),
                rtol=1e-12,
            )
        else:
            assert a[c].astype(object).fillna("<NA>").astype(str).tolist() == (
                b[c].astype(object).fillna("<NA>").astype(str).tolist()
            ), c


def test_group_sums_match_pandas(frame):
    """Rows, sums (missing as 0) and distinct creators per group, missing keys last."""
    with as_source(frame) as src:
        got = group_sums(src, ["site", "category"], SUMS, distinct=["creator_id"], dropna=False)
    grouped = frame.groupby(["site", "category"], observed=True, sort=True, dropna=False)
    want = grouped[SUMS].sum().reset_index()
    want.insert(2, "n_rows", grouped.size().to_numpy())
    want["creator_id"] = grouped["creator_id"].nunique().to_numpy()
    _same(got, want)
    assert got["site"].isna().to_numpy()[-1] and got["n_rows"].sum() == len(frame)
    assert got["clicks"].dtype == np.int64  # integer columns come back as integers
    with as_source(frame) as src:
        total = group_sums(src, [], SUMS)
    assert total["n_rows"].item() == len(frame)
    assert total["gmv"].item() == pytest.approx(frame["gmv"].sum(), rel=1e-12)


def test_every_source_gives_the_same_funnel_and_coverage(frame, parquet):
    rel = duckdb.connect().read_parquet(str(parquet))
    for source in (parquet, str(parquet), rel):
        by_cat = ["site", "category"]
        _same(metrics.funnel(source, by="category"), metrics.funnel(frame, by="category"), by_cat)
        _same(
            metrics.funnel(source, by="tier", pool_sites=True),
            metrics.funnel(frame, by="tier", pool_sites=True),
            ["tier"],
        )
        _same(
            health.coverage(source, ["site", "tier"]),
            health.coverage(frame, ["site", "tier"]),
            ["site", "tier"],
        )


def test_funnel_sums_are_pandas_sums(frame):
    """The funnel's sums and ratios equal a pandas group-by on the same rows."""
    f = metrics.funnel(frame, by="category")
    sub = frame[(frame["site"] == "US") & (frame["category"] == f["category"].iloc[0])]
    row = f[(f["site"] == "US")].iloc[0]
    assert row["n_rows"] == len(sub)
    assert row["clicks"] == sub["clicks"].sum()
    assert row["gmv"] == pytest.approx(sub["gmv"].sum(), rel=1e-12)
    assert row["cvr"] == pytest.approx(sub["orders"].sum() / sub["clicks"].sum(), rel=1e-12)
    assert f["currency"].tolist().count("USD") == (f["site"] == "US").sum()


def test_text_numbers_in_a_hand_made_frame_are_read_as_numbers():
    hand = pd.DataFrame({"site": ["US", "US"], "clicks": ["10", "30"], "orders": [1, 2]})
    f = metrics.funnel(hand)
    assert f["clicks"].item() == 40 and f["cvr"].item() == pytest.approx(3 / 40)


def test_spark_gives_the_duckdb_group_sums(spark, parquet):
    sdf = spark.read.parquet(str(parquet))
    _same(metrics.funnel(sdf, by="category"), metrics.funnel(parquet, by="category"))
    _same(health.coverage(sdf, ["site", "tier"]), health.coverage(parquet, ["site", "tier"]))
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("linkstar_")]
