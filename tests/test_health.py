"""Data-health helpers and charts on small constructed frames."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import charts, health
from helpers.schema import TIER_DTYPE


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": pd.Categorical(["US", "US", "US", "UK", "UK"]),
            "date": pd.to_datetime(["2026-05-04", "2026-05-05", "2026-05-12", "2026-05-04", None]),
            "creator_id": pd.array(["@a", "@a", "@b", "@c", "@d"], dtype="string"),
            "followers": pd.array([5_000, 5_000, 200_000, 50_000, pd.NA], dtype="Int64"),
            "tier": pd.Categorical(["nano", "nano", "mid", "micro", "micro"], dtype=TIER_DTYPE),
            "category": pd.Categorical(["beauty", "beauty", "home", "beauty", "home"]),
            "commission_rate": [0.15, 0.15, 0.10, 0.12, 0.95],
            "impressions": np.array([1000, 0, 5000, 800, 300], dtype="int64"),
            "clicks": np.array([50, 0, 100, 40, 12], dtype="int64"),
            "orders": np.array([5, 0, 3, 2, 1], dtype="int64"),
            "gmv": [100.0, 0.0, 90.0, 0.0, 20.0],
            "refunds": [10.0, 0.0, 0.0, 0.0, 0.0],
        }
    )


def test_rejection_reasons_counts_each_reason_once_per_row() -> None:
    rejected = pd.DataFrame(
        {
            "reason": [
                "orders > clicks (5 > 3); duplicate row",
                "duplicate row",
                "unknown site: 'XX'",
            ]
        }
    )
    counts = health.rejection_reasons(rejected).set_index("reason")["rows"]
    assert counts["duplicate row"] == 2
    assert counts["orders > clicks"] == 1
    assert counts["unknown site"] == 1


def test_row_accounting_adds_up_and_rejects_a_broken_summary() -> None:
    rejected = pd.DataFrame({"reason": ["duplicate row", "orders > clicks (2 > 1)"]})
    loaded = SimpleNamespace(
        summary=SimpleNamespace(rows_read=10, rows_kept=8, rows_rejected=2), rejected=rejected
    )
    table = health.row_accounting(loaded).set_index("stage")["rows"]
    assert table["read"] == table["kept"] + table["rejected"] == 10
    assert table["rejected: duplicate row"] == 1
    broken = SimpleNamespace(
        summary=SimpleNamespace(rows_read=10, rows_kept=8, rows_rejected=1), rejected=rejected
    )
    with pytest.raises(AssertionError, match="read 10"):
        health.row_accounting(broken)


def test_coverage_shares_are_within_site(frame: pd.DataFrame) -> None:
    table = health.coverage(frame, ["site", "category"])
    sums = table.groupby("site", observed=True)["share_of_clicks"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    us_beauty = table[(table["site"] == "US") & (table["category"] == "beauty")].iloc[0]
    assert us_beauty["content"] == 2 and us_beauty["creators"] == 1 and us_beauty["clicks"] == 50
    with pytest.raises(KeyError, match="available"):
        health.coverage(frame, "nope")


def test_coverage_over_time_weekly_and_without_dates(frame: pd.DataFrame) -> None:
    weekly = health.coverage_over_time(frame, freq="W-SUN")
    us = weekly[weekly["site"] == "US"]
    assert us["content"].tolist() == [2, 1]  # 4-5 May in one week, 12 May in the next
    assert weekly["content"].sum() == 4  # the row without a date is not placed in time
    assert health.coverage_over_time(frame.drop(columns="date")).empty


def test_funnel_steps_rates_are_ratios_of_sums(frame: pd.DataFrame) -> None:
    steps = health.funnel_steps(frame, by="site")
    us = steps[steps["site"] == "US"].set_index("step")
    assert us.loc["clicks", "rate_from_previous"] == pytest.approx(150 / 6000)
    assert us.loc["orders", "rate_from_previous"] == pytest.approx(8 / 150)
    assert us.loc["net GMV", "value"] == pytest.approx(180.0)
    assert us.loc["refunds", "rate_from_previous"] == pytest.approx(10 / 190)


def test_rate_distributions_respect_thresholds(frame: pd.DataFrame) -> None:
    dist = health.rate_distributions(frame, min_impressions=500, min_clicks=40)
    ctr = dist[dist["metric"] == "CTR"]
    assert len(ctr) == 3  # 1000, 5000 and 800 impressions
    assert dist.attrs["excluded"]["CTR"] == 2
    assert len(dist[dist["metric"] == "CVR"]) == 3  # 50, 100, 40 clicks


def test_data_issues_finds_samples_commission_and_missing_values(frame: pd.DataFrame) -> None:
    issues = health.data_issues(frame).set_index("issue")
    assert issues.loc["orders with zero GMV (likely free samples)", "rows"] == 1
    assert issues.loc["commission outside 1-80 %", "rows"] == 1
    assert issues.loc["content with zero impressions", "rows"] == 1
    assert issues.loc["missing post date", "rows"] == 1
    assert issues.loc["creators without follower count", "rows"] == 1
    assert (issues["how_to_fix"].str.len() > 20).all()


def test_charts_return_figures(frame: pd.DataFrame) -> None:
    loaded = SimpleNamespace(
        summary=SimpleNamespace(rows_read=6, rows_kept=5, rows_rejected=1),
        rejected=pd.DataFrame({"reason": ["duplicate row"]}),
    )
    figures = [
        charts.row_accounting_chart(health.row_accounting(loaded)),
        charts.coverage_heatmap(health.coverage(frame, ["site", "category", "tier"])),
        charts.coverage_timeline(health.coverage_over_time(frame)),
        charts.coverage_timeline(health.coverage_over_time(frame.drop(columns="date"))),
        charts.funnel_chart(health.funnel_steps(frame)),
        charts.rate_distribution_chart(
            health.rate_distributions(frame, min_impressions=1, min_clicks=1)
        ),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert all(f.axes for f in figures)


def test_health_runs_on_any_subset_of_columns(frame: pd.DataFrame) -> None:
    """A folder without the product list has no category or commission; an ad export
    has no GMV: every health table is built from the columns that are there."""
    bare = frame.drop(columns=["category", "commission_rate", "gmv", "refunds", "followers"])
    cov = health.coverage(bare, ["site", "tier"])
    assert {"content", "creators", "impressions", "clicks", "orders"} <= set(cov.columns)
    assert "gmv" not in cov.columns
    steps = health.funnel_steps(bare)
    assert set(steps["step"]) == {"impressions", "clicks", "orders"}
    us = steps[(steps["site"] == "US") & (steps["step"] == "clicks")].iloc[0]
    assert us["value"] == 150 and us["rate_from_previous"] == pytest.approx(150 / 6000)
    dist = health.rate_distributions(bare, min_impressions=1, min_clicks=1)
    assert set(dist["metric"].astype(str)) == {"CTR", "CVR"}
    issues = health.data_issues(bare)
    assert not issues["issue"].str.contains("commission|AOV|zero GMV").any()
    assert (issues["issue"] == "content with zero impressions").any()
    support = health.analyses_supported(bare).set_index("analysis")
    assert support.loc["CTR lift vs the US benchmark", "supported"]
    assert support.loc["Conversion drivers", "supported"]  # C(tier) is left
    assert not support.loc["ROI estimate", "supported"]
    assert "`category`" in support.loc["ROI estimate", "what_is_missing"]
    assert "product list" in support.loc["ROI estimate", "what_is_missing"]


def test_aov_outliers_are_judged_within_site() -> None:
    """Rupiah orders are not outliers next to dollar orders (sites differ in currency)."""
    n = 40
    df = pd.DataFrame(
        {
            "site": pd.Categorical(["US"] * n + ["ID"] * n),
            "category": pd.Categorical(["beauty"] * (2 * n)),
            "orders": np.ones(2 * n, dtype="int64"),
            "gmv": np.r_[np.full(n, 20.0), np.full(n, 300_000.0)],
        }
    )
    assert not health.data_issues(df)["issue"].str.startswith("AOV").any()
    df.loc[0, "gmv"] = 2_000.0  # one US order 100x the US median
    row = (
        health.data_issues(df)
        .set_index("issue")
        .loc["AOV more than 10x the site and category median"]
    )
    assert row["rows"] == 1
