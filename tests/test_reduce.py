"""The reduction layer (helpers.reduce): the conversion fit on every source type.

A pandas frame, a Parquet file, a Parquet folder, a DuckDB relation and a Spark
DataFrame holding the same rows give the same fit (estimates and standard errors to
1e-10); column names and site values from data are quoted safely; formula terms that
learn from rows are refused on engine sources.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from helpers.conversion import ConversionWarning, fit_conversion, fit_conversion_by_site
from helpers.errors import ExportError, KitError, ModelError
from helpers.reduce import as_source, cluster_pattern_totals, pattern_totals, row_accounting
from helpers.synth import make_affiliate_data

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """6k US rows with creator effects; a few missing values and zero-click rows."""
    d = make_affiliate_data(6_000, seed=3, sites=("US",), creator_sd=0.5).data
    d.loc[d.index[:5], "commission_rate"] = np.nan
    return d


@pytest.fixture(scope="module")
def parquet(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reduce") / "rows.parquet"
    frame.to_parquet(path, index=False)
    return path


def _fit(source, formula: str = "C(tier) + C(category) + commission_rate", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        return fit_conversion(source, formula, **kw)


def _same(a, b) -> None:
    assert list(a.params.index) == list(b.params.index)
    np.testing.assert_allclose(a.params, b.params, **TIGHT)
    np.testing.assert_allclose(a.bse, b.bse, **TIGHT)
    assert a.pearson_chi2 == pytest.approx(b.pearson_chi2, rel=1e-10)
    for attr in (
        "n_rows",
        "n_rows_missing",
        "n_rows_zero_trials",
        "n_rows_used",
        "n_patterns",
        "n_clusters",
        "successes",
        "trials",
        "cov_type",
    ):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.missing_by_column == b.missing_by_column


@pytest.mark.parametrize("cov_type", ["CR2", "CR1"])
def test_parquet_file_folder_and_duckdb_relation_equal_the_pandas_fit(frame, parquet, cov_type):
    ref = _fit(frame, cov_type=cov_type)
    assert ref.n_rows_missing == 5 and ref.n_rows_zero_trials > 0
    folder = parquet.parent / "parts"
    folder.mkdir(exist_ok=True)
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "a.parquet", index=False)
    frame.iloc[half:].to_parquet(folder / "b.parquet", index=False)
    con = duckdb.connect()
    try:
        relation = con.read_parquet(str(parquet))
        for source in (parquet, str(folder), relation):
            fit = _fit(source, cov_type=cov_type)
            _same(fit, ref)
            if cov_type == "CR2":  # same clusters in the same order: same Monte Carlo
                np.testing.assert_allclose(fit.df_params, ref.df_params, rtol=1e-8)
    finally:
        con.close()
    # model-based errors take the pattern-only reduction
    _same(_fit(parquet, cluster=None), _fit(frame, cluster=None))


def test_stateful_terms_are_refused_on_engine_sources_only(frame, parquet):
    spline = "C(tier) + bs(commission_rate, df=3)"
    with pytest.raises(ModelError, match=r"learns from the rows.*parquet source.*pandas frame"):
        fit_conversion(parquet, spline)
    with pytest.raises(ModelError, match=r"center, standardize"):
        fit_conversion(parquet, "C(tier) + center(commission_rate)")
    assert np.isfinite(_fit(frame, spline).params).all()
    # a fixed transform is fine anywhere
    _same(
        _fit(parquet, "C(tier) + I(commission_rate - 0.15)"),
        _fit(frame, "C(tier) + I(commission_rate - 0.15)"),
    )


def test_hostile_column_names_and_site_values_are_quoted(frame, tmp_path):
    odd = "cat\"e`g'ory x"
    d = frame.rename(columns={"category": odd}).assign(
        site=pd.Categorical(np.where(frame.index % 3 == 0, "U'S\\", 'U"K'))
    )
    path = tmp_path / "odd.parquet"
    d.to_parquet(path, index=False)
    formula = f"C(tier) + C(Q({odd!r})) + commission_rate"
    for site in ("U'S\\", 'U"K'):
        ref = _fit(d, formula, site=site, cov_type="CR1")
        _same(_fit(path, formula, site=site, cov_type="CR1"), ref)
    with pytest.raises(ModelError, match="never pooled silently"):
        fit_conversion(path, formula)


def test_reductions_count_and_sum_like_pandas(frame):
    keys = ["tier", "category"]
    with as_source(frame) as src:
        acct = row_accounting(src, [*keys, "commission_rate", "creator_id"], "orders", "clicks")
        pats = pattern_totals(src, keys, "orders", "clicks", complete=["commission_rate"])
        cells = cluster_pattern_totals(
            src, "creator_id", keys, "orders", "clicks", complete=["commission_rate"]
        )
    usable = frame[frame["commission_rate"].notna() & (frame["clicks"] > 0)]
    assert acct.rows == len(frame) and acct.missing_by == {"commission_rate": 5}
    assert acct.used == len(usable)
    ref = usable.groupby(keys, observed=True)[["orders", "clicks"]].sum()
    got = pats.keys.assign(orders=pats.successes, clicks=pats.trials).set_index(keys)
    pd.testing.assert_frame_equal(
        got.sort_index(),
        ref.astype(float).sort_index(),
        check_names=False,
        check_categorical=False,
        check_index_type=False,
    )
    # patterns are numbered in the order of their values (categories in category order)
    assert got.index.equals(got.sort_index().index)
    assert pats.rows.sum() == len(usable)
    np.testing.assert_allclose(pats.sum_sq.sum(), (usable["orders"] ** 2 / usable["clicks"]).sum())
    # cells: creators numbered in id order, each cell's sums
    creators = np.sort(usable["creator_id"].astype(str).unique())
    assert cells.n_clusters == len(creators)
    cell = pd.DataFrame(
        {
            "creator_id": creators[cells.cluster],
            "tier": cells.patterns.keys["tier"].to_numpy()[cells.pattern].astype(str),
            "orders": cells.successes,
        }
    )
    ref_cells = (
        usable.assign(creator_id=usable["creator_id"].astype(str), tier=usable["tier"].astype(str))
        .groupby(["creator_id", "tier"])["orders"]
        .sum()
    )
    np.testing.assert_array_equal(
        cell.groupby(["creator_id", "tier"])["orders"].sum(), ref_cells.astype(float)
    )


def test_unsupported_sources_list_the_accepted_ones(tmp_path):
    with pytest.raises(KitError, match="accepted: a pandas DataFrame, a Parquet file"):
        fit_conversion([1, 2, 3])
    with pytest.raises(ExportError, match="no such file"):
        fit_conversion(tmp_path / "absent.parquet")
    with pytest.raises(ModelError, match=r"fit each site with fit_conversion\(source"):
        fit_conversion_by_site(tmp_path / "absent.parquet")


def test_spark_gives_the_duckdb_estimates(spark, parquet):
    """Spark in local mode, same Parquet file: same estimates and errors as DuckDB."""
    sdf = spark.read.parquet(str(parquet))
    # CR2 (CR1 reads the same sums); same cells in the same order: same Monte Carlo
    ref, fit = _fit(parquet, cov_type="CR2"), _fit(sdf, cov_type="CR2")
    _same(fit, ref)
    np.testing.assert_allclose(fit.df_params, ref.df_params, rtol=1e-8)
    _same(_fit(sdf, cluster=None), _fit(parquet, cluster=None))
    with pytest.raises(ModelError, match="spark source"):
        fit_conversion(sdf, "C(tier) + bs(commission_rate, df=3)")
    # the source's temporary views are dropped
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("linkstar_")]
