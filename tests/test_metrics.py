"""Every metric and ROI definition of helpers.metrics on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from helpers import metrics as m
from helpers.schema import TIER_DTYPE


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": pd.Categorical(["US", "US", "US", "US"]),
            "creator_id": pd.array(["a", "b", "c", "a"], dtype="string"),
            "tier": pd.Series(["nano", "micro", "nano", "nano"], dtype=TIER_DTYPE),
            "category": pd.Categorical(["beauty", "beauty", "home", "beauty"]),
            "commission_rate": [0.10, 0.20, 0.10, 0.15],
            "impressions": [1000, 2000, 0, 1000],
            "clicks": [50, 100, 0, 30],
            "orders": [5, 4, 0, 0],
            "gmv": [100.0, 200.0, 0.0, 0.0],
            "refunds": [20.0, 0.0, 0.0, 0.0],
            "video_views": pd.array([10, None, 5, 1], dtype="Int64"),
            "sample_cost": [10.0, 30.0, 0.0, 0.0],
            "flat_fee": [0.0, 50.0, 0.0, 0.0],
        }
    )


def test_funnel_overall_is_ratio_of_sums(frame: pd.DataFrame) -> None:
    f = m.funnel(frame)
    assert len(f) == 1
    r = f.iloc[0]
    assert r["n_rows"] == 4
    assert r["impressions"] == 4000 and r["clicks"] == 180 and r["orders"] == 9
    assert r["gmv"] == 300.0 and r["refunds"] == 20.0
    assert r["ctr"] == pytest.approx(180 / 4000)
    assert r["cvr"] == pytest.approx(9 / 180)
    assert r["aov"] == pytest.approx(300 / 9)
    assert r["return_rate"] == pytest.approx(20 / 300)
    assert r["net_gmv"] == pytest.approx(280.0)
    # missing video views count as 0 in a sum; optional columns are carried
    assert r["video_views"] == 16
    assert r["sample_cost"] == 40.0 and r["flat_fee"] == 50.0
    # ratio of sums differs from the mean of per-row ratios here
    mean_ctr = np.mean([50 / 1000, 100 / 2000, 30 / 1000])
    assert r["ctr"] != pytest.approx(mean_ctr)


def test_funnel_by_group_observed_levels_and_zero_denominators(frame: pd.DataFrame) -> None:
    f = m.funnel(frame, by="tier")
    # 'mid', 'macro', 'mega' are categories but not observed
    assert list(f["tier"].astype(str)) == ["nano", "micro"]
    nano = f.set_index(f["tier"].astype(str)).loc["nano"]
    assert nano["clicks"] == 80 and nano["impressions"] == 2000
    assert nano["ctr"] == pytest.approx(0.04)
    g = m.funnel(frame, by=["category", "tier"])
    home = g[g["category"] == "home"].iloc[0]
    assert math.isnan(home["ctr"]) and math.isnan(home["cvr"])
    assert math.isnan(home["aov"]) and math.isnan(home["return_rate"])
    assert home["net_gmv"] == 0.0


def test_funnel_refunds_absent_and_missing_columns(frame: pd.DataFrame) -> None:
    f = m.funnel(frame.drop(columns=["refunds"]))
    assert f.iloc[0]["refunds"] == 0.0 and f.iloc[0]["return_rate"] == 0.0
    no_clicks = m.funnel(frame.drop(columns=["clicks"]))
    assert "clicks" not in no_clicks and "ctr" not in no_clicks and "cvr" not in no_clicks
    assert no_clicks.iloc[0]["orders"] == frame["orders"].sum()
    assert no_clicks.iloc[0]["aov"] == pytest.approx(frame["gmv"].sum() / frame["orders"].sum())
    with pytest.raises(KeyError, match="at least one of"):
        m.funnel(frame[["site"]])
    with pytest.raises(KeyError, match="nonexistent"):
        m.funnel(frame, by="nonexistent")


def test_rate_interval_matches_statsmodels_and_is_vectorised() -> None:
    k = np.array([1, 0, 5, 30])
    n = np.array([10, 0, 5, 1000])
    lo, hi = m.rate_interval(k, n)
    assert lo.shape == (4,) and np.isnan(lo[1]) and np.isnan(hi[1])
    for i in (0, 2, 3):
        elo, ehi = proportion_confint(k[i], n[i], alpha=0.05, method="wilson")
        assert lo[i] == pytest.approx(elo) and hi[i] == pytest.approx(ehi)
    # Wilson for 1/10 at 95 %: textbook value (0.0179, 0.4042)
    assert lo[0] == pytest.approx(0.01788, abs=1e-4) and hi[0] == pytest.approx(0.40415, abs=1e-4)
    lo80, hi80 = m.rate_interval(k, n, alpha=0.2, method="beta")
    assert lo80[3] > lo[3] - 0.01 and hi80[3] - lo80[3] < hi[3] - lo[3]


def test_rate_interval_errors() -> None:
    with pytest.raises(ValueError, match="wilson"):
        m.rate_interval(1, 10, method="bogus")
    with pytest.raises(ValueError, match="exceed trials"):
        m.rate_interval([5], [3])
    with pytest.raises(ValueError, match="accepted range"):
        m.rate_interval(-1, 3)
    with pytest.raises(ValueError, match="alpha"):
        m.rate_interval(1, 3, alpha=1.5)


def test_roi_seed_example_one_dollar_brings_two_fifty() -> None:
    # The seed's example: ROI 2.5 means $1 of promotion cost brings $2.50 of sales.
    assert m.gross_roi(2.5, 1.0) == pytest.approx(2.5)
    cost = m.promotion_cost(commission=60.0, sample_cost=25.0, flat_fee=15.0)
    assert cost == 100.0
    assert m.gross_roi(250.0, cost) == pytest.approx(2.5)


def test_commission_is_paid_on_net() -> None:
    assert m.commission_on_net(1000.0, 200.0, 0.15) == pytest.approx(120.0)
    assert m.commission_on_net(1000.0, 0.0, 0.15) == pytest.approx(150.0)
    # fully refunded: no commission
    assert m.commission_on_net(100.0, 100.0, 0.2) == 0.0
    out = m.commission_on_net(np.array([100.0, 50.0]), np.array([0.0, 10.0]), 0.1)
    np.testing.assert_allclose(out, [10.0, 4.0])
    s = m.commission_on_net(pd.Series([100.0], index=["x"]), 0.0, 0.1)
    assert isinstance(s, pd.Series) and s.loc["x"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: m.commission_on_net(100.0, 0.0, 0.85), r"\[0, 0.8\]"),
        (lambda: m.commission_on_net(100.0, 0.0, -0.1), "commission rate"),
        (lambda: m.commission_on_net(-1.0, 0.0, 0.1), "gmv"),
        (lambda: m.commission_on_net(100.0, -5.0, 0.1), "refunds"),
        (lambda: m.promotion_cost(10.0, sample_cost=-1.0), "sample_cost.*no upper bound"),
        (lambda: m.promotion_cost(10.0, flat_fee=[0.0, -2.0]), "flat_fee = -2 at position 1"),
        (lambda: m.promotion_cost(10.0, ads_spend=-3.0), "ads_spend"),
        (lambda: m.contribution(100.0, 0.0, 1.2, 0.06), "product_cost_rate"),
        (lambda: m.contribution(100.0, 0.0, 0.3, -0.06), "platform_fee_rate"),
    ],
)
def test_bad_values_raise_with_accepted_range(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()


def test_roi_variants_hand_computed() -> None:
    gmv, refunds = 1000.0, 200.0
    commission = m.commission_on_net(gmv, refunds, 0.15)  # 120
    cost = m.promotion_cost(commission, sample_cost=50.0, flat_fee=30.0, ads_spend=0.0)  # 200
    assert cost == pytest.approx(200.0)
    assert m.gross_roi(gmv, cost) == pytest.approx(5.0)
    assert m.net_roi(gmv, refunds, cost) == pytest.approx(4.0)
    # contribution = 800 - 0.4*800 - 0.06*800 = 432
    assert m.contribution(gmv, refunds, 0.4, 0.06) == pytest.approx(432.0)
    assert m.profit_roi(gmv, refunds, cost, product_cost_rate=0.4, platform_fee_rate=0.06) == (
        pytest.approx(2.16)
    )
    # zero cost gives NaN, not inf
    assert math.isnan(m.gross_roi(100.0, 0.0))
    assert math.isnan(m.net_roi(100.0, 0.0, 0.0))


def test_roi_vectorised_broadcast() -> None:
    out = m.net_roi(np.array([100.0, 200.0]), 0.0, np.array([50.0, 0.0]))
    assert out[0] == pytest.approx(2.0) and np.isnan(out[1])
    pr = m.profit_roi(
        np.array([100.0, 100.0]),
        np.array([0.0, 50.0]),
        10.0,
        product_cost_rate=np.array([0.5, 0.5]),
        platform_fee_rate=0.1,
    )
    np.testing.assert_allclose(pr, [4.0, 2.0])


def test_campaign_summary_hand_computed(frame: pd.DataFrame) -> None:
    s = m.campaign_summary(frame, product_cost_rate=0.3)
    # commission: 0.1*(100-20) + 0.2*200 + 0 + 0 = 8 + 40 = 48
    assert s["commission"] == pytest.approx(48.0)
    # cost = 48 + samples 40 + flat fees 50 = 138
    assert s["promotion_cost"] == pytest.approx(138.0)
    assert s["gross_roi"] == pytest.approx(300 / 138)
    assert s["net_roi"] == pytest.approx(280 / 138)
    assert s["platform_fee_rate"] == pytest.approx(0.06)  # US default from SITES
    assert s["platform_fee"] == pytest.approx(0.06 * 280)
    assert s["product_cost"] == pytest.approx(0.3 * 280)
    assert s["contribution"] == pytest.approx(280 * (1 - 0.3 - 0.06))
    assert s["profit"] == pytest.approx(280 * 0.64 - 138)
    assert s["profit_roi"] == pytest.approx(280 * 0.64 / 138)
    assert s["currency"] == "USD"
    assert math.isnan(s["commission_reported"])
    s2 = m.campaign_summary(frame, platform_fee_rate=0.1, ads_spend=12.0)
    assert s2["promotion_cost"] == pytest.approx(150.0)
    assert math.isnan(s2["profit_roi"]) and math.isnan(s2["contribution"])
    assert s2["platform_fee"] == pytest.approx(28.0)


def test_campaign_summary_refuses_to_pool_sites(frame: pd.DataFrame) -> None:
    two = frame.copy()
    two["site"] = pd.Categorical(["US", "UK", "US", "US"])
    with pytest.raises(ValueError, match=r"one site.*\['UK', 'US'\]"):
        m.campaign_summary(two)
    odd = frame.copy()
    odd["site"] = "ZZ"
    with pytest.raises(ValueError, match="platform_fee_rate"):
        m.campaign_summary(odd)
    assert m.campaign_summary(odd, platform_fee_rate=0.05)["currency"] is None


# --------------------------------------------------------------------------- review fixes


def test_refund_recovery_hand_computed() -> None:
    # GMV 1, return rate 0.2, unit cost 0.35, fee 0.06 (the review's example)
    full = m.contribution(1.0, 0.2, 0.35, 0.06)
    none = m.contribution(1.0, 0.2, 0.35, 0.06, refund_recovery=0.0)
    half = m.contribution(1.0, 0.2, 0.35, 0.06, refund_recovery=0.5)
    assert full == pytest.approx(0.8 * (1 - 0.35 - 0.06))  # 0.472
    assert none == pytest.approx(0.8 - 0.35 * 1.0 - 0.06 * 0.8)  # 0.402: all units' cost lost
    assert half == pytest.approx((full + none) / 2)
    assert m.profit_roi(1.0, 0.2, 0.1, product_cost_rate=0.35, platform_fee_rate=0.06,
                        refund_recovery=0.0) == pytest.approx(4.02)  # fmt: skip
    with pytest.raises(ValueError, match=r"refund_recovery = 1.5 .*\[0, 1\]"):
        m.contribution(1.0, 0.2, 0.35, 0.06, refund_recovery=1.5)


@pytest.fixture
def missing_rate() -> pd.DataFrame:
    # the review's example: rates [0.1, NaN, 0.2], GMV [100, 1000, 100]
    return pd.DataFrame(
        {
            "site": ["US"] * 3,
            "commission_rate": [0.1, np.nan, 0.2],
            "impressions": [100] * 3,
            "clicks": [10] * 3,
            "orders": [1] * 3,
            "gmv": [100.0, 1000.0, 100.0],
            "refunds": [0.0] * 3,
        }
    )


def test_missing_commission_rate_is_never_zero_commission(missing_rate: pd.DataFrame) -> None:
    s = m.campaign_summary(missing_rate)
    assert s["n_missing_commission_rate"] == 1 and s["n_commission_unknown"] == 1
    assert math.isnan(s["commission"]) and math.isnan(s["gross_roi"])  # not 30 and 40
    assert any("no commission rate" in n for n in s["notes"])
    # the export's own commission fills the gap
    s = m.campaign_summary(missing_rate.assign(commission_paid=[10.0, 150.0, 20.0]))
    assert s["commission"] == pytest.approx(10 + 150 + 20)
    assert s["n_commission_from_reported"] == 1 and s["n_commission_unknown"] == 0
    assert s["gross_roi"] == pytest.approx(1200 / 180)
    # or the rows are excluded from every sum, counted
    s = m.campaign_summary(missing_rate, missing_commission="exclude")
    assert s["n_rows"] == 2 and s["gmv"] == 200.0 and s["commission"] == pytest.approx(30.0)
    assert s["gross_roi"] == pytest.approx(200 / 30)
    assert any("left out" in n for n in s["notes"])
    with pytest.raises(ValueError, match=r"1 row\(s\) have no commission_rate \(index \[1\]"):
        m.campaign_summary(missing_rate, missing_commission="raise")
    with pytest.raises(ValueError, match="accepted: \\['fallback'"):
        m.campaign_summary(missing_rate, missing_commission="zero")


# --------------------------------------------------------------------------- sites


def test_funnel_is_per_site_unless_pooling_is_asked(frame: pd.DataFrame) -> None:
    two = frame.assign(site=pd.Categorical(["US", "UK", "US", "US"]))
    f = m.funnel(two)
    # one row per site, in its own currency: never one row that adds USD to GBP
    assert list(f["site"].astype(str)) == ["UK", "US"]
    assert list(f["currency"]) == ["GBP", "USD"]
    uk, us = f.iloc[0], f.iloc[1]
    assert uk["gmv"] == 200.0 and us["gmv"] == 100.0 and us["refunds"] == 20.0
    assert us["ctr"] == pytest.approx(80 / 2000) and not f.attrs["pooled_sites"]
    # by a column: within each site
    g = m.funnel(two, by="tier")
    assert list(zip(g["site"].astype(str), g["tier"].astype(str), strict=True)) == [
        ("UK", "micro"),
        ("US", "nano"),
    ]
    # pooling on request: counts and count ratios pooled, money blank across currencies
    p = m.funnel(two, pool_sites=True)
    assert len(p) == 1 and p.attrs["pooled_sites"]
    r = p.iloc[0]
    assert r["sites"] == "UK, US" and r["currency"] == "mixed"
    assert r["clicks"] == 180 and r["ctr"] == pytest.approx(180 / 4000)
    for c in ("gmv", "refunds", "net_gmv", "aov", "sample_cost", "flat_fee"):
        assert math.isnan(r[c]), c
    assert any("different currencies" in n for n in p.attrs["notes"])


def test_funnel_pooling_one_currency_keeps_money(frame: pd.DataFrame) -> None:
    # pooled rows of one currency keep their money; the note says sites were pooled
    p = m.funnel(frame, pool_sites=True, by="category").set_index("category")
    assert p.loc["beauty", "gmv"] == 300.0 and p.loc["beauty", "currency"] == "USD"
    assert p.loc["beauty", "sites"] == "US" and p.attrs["pooled_sites"]
    assert any("pooled on request" in n for n in p.attrs["notes"])
    assert not any("different currencies" in n for n in p.attrs["notes"])


def test_funnel_without_site_column_says_so(frame: pd.DataFrame) -> None:
    f = m.funnel(frame.drop(columns=["site"]))
    assert len(f) == 1 and "site" not in f.columns and "currency" not in f.columns
    assert any("No site column" in n for n in f.attrs["notes"])
