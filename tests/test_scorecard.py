"""Tests for helpers.scorecard (rules, scorecard build, Excel-safe exports),
helpers.charts.scorecard and notebook 05."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import charts
from helpers.errors import ReportError
from helpers.outputs import excel_safe, export_table
from helpers.schema import SITES
from helpers.scorecard import (
    RECOMMENDATIONS,
    ScorecardRules,
    _bootstrap_roi,
    build_scorecard,
    recommend,
)
from helpers.synth import make_affiliate_data

# Kept share of a US sale at the default unit cost (0.35) and US platform fee (0.06).
MARGIN_US = 1 - 0.35 - SITES["US"].platform_fee_rate


def margin_of_site(card: pd.DataFrame) -> pd.Series:
    """Kept share of a sale per row's site at the default unit cost."""
    return 1 - 0.35 - card["site"].astype(str).map(lambda s: SITES[s].platform_fee_rate)


NASTY = [
    '=HYPERLINK("http://evil.example","click me")',
    "@SUM(1)",
    "+1+1",
    "-2+3",
    "\tcmd",
    "\rx",
    "  =1+1",
]


def creator(**kw: float) -> dict:
    """A constructed scorecard row; unspecified evidence is missing."""
    row = {
        "creator_id": "c",
        "tier": "mid",
        "main_category": "beauty",
        "clicks": 1000,
        "n_content": 10,
        "profit_roi_low": math.nan,
        "profit_roi_high": math.nan,
        "shrunk_cvr_high": math.nan,
        "expected_cvr": 0.04,
    }
    row.update(kw)
    return row


# ----------------------------------------------------------------------- rules


def test_thirty_clicks_are_never_dropped() -> None:
    cards = pd.DataFrame(
        [
            creator(
                clicks=30,
                n_content=5,
                profit_roi_low=0.01,
                profit_roi_high=0.05,
                shrunk_cvr_high=0.001,
            ),
            creator(clicks=30, n_content=1),
            creator(clicks=0, n_content=0),
        ]
    )
    out = recommend(cards)
    assert (out["recommendation"] == "test more").all()
    assert out["reason"].str.contains("only 30 clicks").sum() == 2


def test_clearly_bad_high_volume_creator_is_dropped() -> None:
    out = recommend(pd.DataFrame([creator(clicks=5000, profit_roi_low=0.3, profit_roi_high=0.6)]))
    assert out.loc[0, "recommendation"] == "drop"
    assert out.loc[0, "rule"] == 1
    assert "0.60" in out.loc[0, "reason"] and "5,000 clicks" in out.loc[0, "reason"]


def test_poor_converter_is_flagged_never_dropped_on_cvr_alone() -> None:
    """Issue 11: the old CVR rule dropped creators whose profit-ROI interval includes 1
    (42 % of its drops were profitable). Conversion now only flags."""
    row = creator(
        clicks=4000,
        profit_roi_low=0.8,
        profit_roi_high=1.5,
        shrunk_cvr_high=0.02,
        expected_cvr=0.04,
    )
    out = recommend(pd.DataFrame([row]))
    assert (out.loc[0, "recommendation"], out.loc[0, "rule"]) == ("test more", 3)
    assert bool(out.loc[0, "cvr_flag"])
    reason = out.loc[0, "reason"]
    assert "mid creator" in reason and "4.00%" in reason and "not a reason to drop" in reason
    assert "between 0.80 and 1.50 includes 1" in reason
    # The same CVR with a profit-ROI interval wholly below 1 is dropped, on ROI.
    losing = recommend(pd.DataFrame([{**row, "profit_roi_high": 0.9}]))
    assert (losing.loc[0, "recommendation"], losing.loc[0, "rule"]) == ("drop", 1)


def test_reason_states_the_expected_cost_of_the_decision() -> None:
    rows = pd.DataFrame(
        [
            creator(profit_roi_low=1.2, profit_roi_high=2.0, p_loss=0.01,
                    expected_loss_if_kept=3.5, expected_forgone_if_dropped=900.0),
            creator(profit_roi_low=0.2, profit_roi_high=0.8, p_loss=0.99,
                    expected_loss_if_kept=700.0, expected_forgone_if_dropped=1.25),
            creator(profit_roi_low=0.7, profit_roi_high=1.4, p_loss=0.4,
                    expected_loss_if_kept=50.0, expected_forgone_if_dropped=80.0),
        ]
    )  # fmt: skip
    out = recommend(rows)
    assert list(out["recommendation"]) == ["keep", "drop", "test more"]
    np.testing.assert_array_equal(out["expected_error_cost"].to_numpy()[:2], [3.5, 1.25])
    assert math.isnan(out.loc[2, "expected_error_cost"])
    assert "keeping is wrong 1.0%, expected loss 3.50" in out.loc[0, "reason"]
    assert "dropping is wrong 1.0%, expected profit forgone 1.25" in out.loc[1, "reason"]
    assert "risks an expected 50.00" in out.loc[2, "reason"]
    assert "forgoes an expected 80.00" in out.loc[2, "reason"]


def test_clearly_good_creator_is_kept_even_with_low_cvr() -> None:
    row = creator(clicks=2000, profit_roi_low=2.5, profit_roi_high=4.0, shrunk_cvr_high=0.01)
    out = recommend(pd.DataFrame([row]))
    assert (out.loc[0, "recommendation"], out.loc[0, "rule"]) == ("keep", 2)


def test_inconclusive_creator_gets_test_more_with_the_missing_evidence() -> None:
    out = recommend(
        pd.DataFrame([creator(clicks=150, n_content=8, profit_roi_low=0.7, profit_roi_high=1.9)])
    )
    assert out.loc[0, "recommendation"] == "test more"
    assert "fewer than the 200 needed before dropping" in out.loc[0, "reason"]
    assert "includes 1" in out.loc[0, "reason"]


def test_rules_are_parameters() -> None:
    row = pd.DataFrame([creator(clicks=150, profit_roi_low=0.2, profit_roi_high=0.5)])
    assert recommend(row).loc[0, "recommendation"] == "test more"
    assert recommend(row, ScorecardRules(min_clicks_drop=100)).loc[0, "recommendation"] == "drop"
    strict = ScorecardRules(roi_threshold=3.0)
    assert (
        recommend(pd.DataFrame([creator(profit_roi_low=2.5, profit_roi_high=4.0)]), strict).loc[
            0, "recommendation"
        ]
        == "test more"
    )
    assert len(ScorecardRules().describe()) == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_clicks_drop": -1}, "min_clicks_drop"),
        ({"min_content": 0}, "min_content"),
        ({"roi_threshold": 0}, "roi_threshold"),
        ({"cvr_drop_ratio": 1.5}, "cvr_drop_ratio"),
        ({"alpha": 1.0}, "alpha"),
    ],
)
def test_rules_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ScorecardRules(**kwargs)


def test_recommend_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="profit_roi_low"):
        recommend(pd.DataFrame({"clicks": [1]}))


@settings(max_examples=200, deadline=None)
@given(
    clicks=st.integers(0, 10_000),
    n_content=st.integers(0, 50),
    lo=st.one_of(st.floats(0, 5), st.just(math.nan)),
    width=st.floats(0, 5),
    cvr_hi=st.one_of(st.floats(0, 0.2), st.just(math.nan)),
    min_drop=st.integers(50, 2000),
)
def test_no_drop_below_the_minimum_and_keep_needs_roi_above_threshold(
    clicks: int, n_content: int, lo: float, width: float, cvr_hi: float, min_drop: int
) -> None:
    rules = ScorecardRules(min_clicks_drop=min_drop)
    row = creator(
        clicks=clicks,
        n_content=n_content,
        profit_roi_low=lo,
        profit_roi_high=lo + width,
        shrunk_cvr_high=cvr_hi,
    )
    out = recommend(pd.DataFrame([row]), rules).iloc[0]
    assert out["recommendation"] in RECOMMENDATIONS
    if clicks < min_drop:
        assert out["recommendation"] != "drop"
    if out["recommendation"] == "keep":
        assert lo > rules.roi_threshold and clicks >= rules.min_clicks_keep
    assert out["reason"]


# ------------------------------------------------------------------- scorecard


@pytest.fixture(scope="module")
def synth() -> object:
    return make_affiliate_data(4000, seed=3)


@pytest.fixture(scope="module")
def planted(synth: object) -> tuple[pd.DataFrame, dict[str, str]]:
    """Synthetic data with four planted US creators: a big loser (huge flat fees on
    every row), a loser whose cost is ONE lump-sum flat fee (how real exports book it),
    a poor converter (orders cut to a fifth) and one with 30 clicks and no orders."""
    df = synth.data.copy()
    us = df[df["site"] == "US"]
    per = us.groupby("creator_id", observed=True)["clicks"].sum().sort_values(ascending=False)
    loser, poor, lump = per.index[0], per.index[1], per.index[2]
    small = per[(per > 0) & (per < 60)].index[0]
    m_loser = (df["creator_id"] == loser) & (df["site"] == "US")
    df.loc[m_loser, "flat_fee"] = df.loc[m_loser, "gmv"] * 3 + 100.0
    # One fee on the creator's first row, worth twice their net sales: net ROI < 0.5.
    m_lump = (df["creator_id"] == lump) & (df["site"] == "US")
    net_lump = float((df.loc[m_lump, "gmv"] - df.loc[m_lump, "refunds"]).sum())
    df.loc[m_lump, ["flat_fee", "sample_cost"]] = 0.0
    df.loc[df.index[m_lump.to_numpy()][0], "flat_fee"] = 2.0 * net_lump
    m_poor = (df["creator_id"] == poor) & (df["site"] == "US")
    df.loc[m_poor, "orders"] = (df.loc[m_poor, "orders"] // 5).astype("int64")
    df.loc[m_poor, "gmv"] = df.loc[m_poor, "gmv"] / 5
    df.loc[m_poor, "refunds"] = df.loc[m_poor, "refunds"] / 5
    # Costs equal to the contribution (net sales after product cost and platform fee) on
    # every piece of content: profit ROI is exactly 1, so ROI cannot decide and the CVR
    # rule must.
    net = df.loc[m_poor, "gmv"] - df.loc[m_poor, "refunds"]
    df.loc[m_poor, "sample_cost"] = 0.0
    df.loc[m_poor, "flat_fee"] = net * (MARGIN_US - df.loc[m_poor, "commission_rate"])
    m_small = (df["creator_id"] == small) & (df["site"] == "US")
    df.loc[m_small, "orders"] = 0
    df.loc[m_small, ["gmv", "refunds"]] = 0.0
    df.loc[m_small, "sample_cost"] = 500.0
    return df, {"loser": loser, "poor": poor, "lump": lump, "small": small}


@pytest.fixture(scope="module")
def scored(planted: tuple[pd.DataFrame, dict[str, str]]):
    df, _ = planted
    return build_scorecard(df, n_boot=200, seed=0)


def test_one_row_per_creator_and_site_with_volumes_kept(planted, scored) -> None:
    df, _ = planted
    card = scored.card
    assert not card.duplicated(["site", "creator_id"]).any()
    by_site = df.groupby("site", observed=True)[["clicks", "orders", "impressions"]].sum()
    got = card.groupby("site", observed=True)[["clicks", "orders", "impressions"]].sum()
    by_site.index = by_site.index.astype(str)
    got.index = got.index.astype(str)
    pd.testing.assert_frame_equal(got.sort_index(), by_site.sort_index(), check_dtype=False)
    assert len(card) == df.groupby(["site", "creator_id"], observed=True).ngroups
    assert set(card["recommendation"].astype(str)) <= set(RECOMMENDATIONS)
    assert card["reason"].str.len().gt(0).all()
    assert scored.excluded.empty
    assert scored.params["rows_in"] == scored.params["rows_scored"] == len(df)
    assert scored.params["rows_commission_unknown"] == 0


def test_planted_creators_get_the_expected_verdicts(planted, scored) -> None:
    _, who = planted
    us = scored.site("US").set_index("creator_id")
    assert us.loc[who["loser"], "recommendation"] == "drop", us.loc[who["loser"]].to_dict()
    assert us.loc[who["loser"], "profit_roi_high"] < 1
    # Profit ROI exactly 1 and a CVR a fifth of expected: flagged, not dropped on CVR.
    assert us.loc[who["poor"], "profit_roi"] == pytest.approx(1.0)
    assert us.loc[who["poor"], "recommendation"] == "test more", us.loc[who["poor"]].to_dict()
    assert us.loc[who["poor"], "cvr_flag"]
    assert "not a reason to drop" in us.loc[who["poor"], "reason"]
    assert us.loc[who["small"], "recommendation"] == "test more"
    assert us.loc[who["small"], "clicks"] < 60


def test_a_single_lump_sum_fee_counts_in_every_bootstrap_replicate(planted, scored) -> None:
    """Review finding 1 / 20a: a flat fee booked on one row must not drop out of ~37 % of
    the replicates (which made the upper bound 'ROI without the fee' and rule 1 never
    fire)."""
    df, who = planted
    row = scored.site("US").set_index("creator_id").loc[who["lump"]]
    assert (df.loc[df["creator_id"] == who["lump"], "flat_fee"] > 0).sum() == 1
    assert row["net_roi"] < 0.5
    # Without the fee the creator's net ROI would be several times higher; the upper
    # bound must stay below 1 all the same.
    assert row["net_gmv"] / row["commission"] > 3
    assert row["net_roi_high"] < 1 and row["profit_roi_high"] < 1, row.to_dict()
    assert (row["recommendation"], row["rule"]) == ("drop", 1), row["reason"]
    assert "profit ROI at most" in row["reason"]


def test_bootstrap_keeps_fixed_costs_in_every_replicate() -> None:
    # 50 identical pieces: every replicate has the same sales, so with the fee held fixed
    # the interval is a point; had the fee been resampled, it would stretch to 500 / 50.
    net = np.full(50, 10.0)
    commission = np.full(50, 1.0)
    low, high = _bootstrap_roi(
        net, commission, np.array([1000.0]), np.array([50]),
        n_boot=200, alpha=0.05, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert low[0] == pytest.approx(500 / 1050) and high[0] == pytest.approx(500 / 1050)
    # Two groups, one with varied sales: the interval holds the point estimate.
    net2 = np.concatenate([net, [0.0, 0.0, 30.0, 50.0, 20.0]])
    comm2 = net2 / 10
    low, high = _bootstrap_roi(
        net2, comm2, np.array([1000.0, 20.0]), np.array([50, 5]),
        n_boot=400, alpha=0.05, rng=np.random.default_rng(1),
    )  # fmt: skip
    point = 100 / (10 + 20)
    assert low[1] < point < high[1] and high[1] <= 250 / (25 + 20) + 1e-12


def test_profit_roi_is_the_decision_and_uses_the_site_fee(planted, scored) -> None:
    """Review finding 6: keep means net sales after product cost and platform fee exceed
    the promotion cost, not net ROI > 1."""
    c = scored.card
    for s, fee in scored.params["platform_fee_rate"].items():
        assert fee == SITES[s].platform_fee_rate
        sc = c[c["site"] == s]
        margin = 1 - 0.35 - fee
        ok = sc["net_roi"].notna()
        np.testing.assert_allclose(sc.loc[ok, "profit_roi"], margin * sc.loc[ok, "net_roi"])
        np.testing.assert_allclose(
            sc["profit_roi_low"].dropna(), margin * sc["net_roi_low"].dropna()
        )
    kept = c[c["recommendation"] == "keep"]
    assert len(kept) and (kept["profit_roi_low"] > 1).all()
    # Kept creators clear the break-even net ROI 1 / (1 - u - p), not just 1.
    be = 1 / (1 - 0.35 - kept["site"].astype(str).map(lambda s: SITES[s].platform_fee_rate))
    assert (kept["net_roi_low"] > be).all()
    # With no product cost and no fee, profit ROI is net ROI: more creators are kept.
    df, _ = planted
    loose = build_scorecard(df, site="US", n_boot=200, unit_cost_rate=0.0, platform_fee_rate=0.0)
    us = c[c["site"] == "US"]
    assert (loose.card["recommendation"] == "keep").sum() > (us["recommendation"] == "keep").sum()
    assert loose.params["platform_fee_rate"] == {"US": 0.0}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit_cost_rate": 35}, "unit_cost_rate"),
        ({"unit_cost_rate": -0.1}, "unit_cost_rate"),
        ({"platform_fee_rate": 1.5}, "platform_fee_rate"),
        ({"unit_cost_rate": 0.7, "platform_fee_rate": 0.3}, "nothing"),
    ],
)
def test_cost_rate_validation(synth, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_scorecard(synth.data, site="US", n_boot=100, **kwargs)


def test_missing_commission_rate_is_filled_or_counted_never_zero(synth) -> None:
    """Review finding 7: a missing commission rate must not silently become 0."""
    df = synth.data[synth.data["site"] == "US"].copy()
    base = build_scorecard(df, n_boot=100, seed=0).card.set_index("creator_id")
    sales = (df["gmv"] - df["refunds"]) > 0
    per = df[sales].groupby("creator_id", observed=True).size().sort_values(ascending=False)
    a, b = per.index[0], per.index[1]
    df["commission_rate"] = df["commission_rate"].astype("float64")
    rows_a = df["creator_id"] == a
    rows_b = (df["creator_id"] == b) & sales
    no_sales = (df["creator_id"] == per.index[2]) & ~sales
    # a: rate missing but commission_paid recorded -> the recorded commission is used.
    df.loc[rows_a, "commission_rate"] = np.nan
    # b: rate and commission_paid missing on rows with sales -> unknown, no ROI.
    df.loc[rows_b, "commission_rate"] = np.nan
    df.loc[rows_b, "commission_paid"] = np.nan
    # rows without sales owe no commission whatever the rate (even with no commission_paid).
    df.loc[no_sales, "commission_rate"] = np.nan
    df.loc[no_sales, "commission_paid"] = np.nan
    assert no_sales.sum() > 0
    res = build_scorecard(df, n_boot=100, seed=0)
    card = res.card.set_index("creator_id")
    paid = df.loc[rows_a, "commission_paid"].sum()
    assert card.loc[a, "commission"] == pytest.approx(paid, rel=1e-6)
    assert card.loc[a, "commission"] == pytest.approx(base.loc[a, "commission"], rel=1e-3)
    assert res.params["rows_commission_from_paid"] == int(rows_a.sum())
    assert card.loc[b, "rows_commission_unknown"] == int(rows_b.sum())
    for col in ("commission", "promotion_cost", "net_roi", "profit_roi", "profit_roi_low"):
        assert math.isnan(card.loc[b, col]), col
    assert card.loc[b, "recommendation"] != "keep"
    assert "commission unknown" in card.loc[b, "reason"]
    assert res.params["rows_commission_unknown"] == int(rows_b.sum())
    assert res.excluded["reason"].str.contains("commission unknown").any()
    assert int(res.excluded["rows"].sum()) == int(rows_b.sum())
    assert any("without net sales" in n for n in res.notes)
    others = card.drop(index=[a, b])
    pd.testing.assert_series_equal(
        others["commission"], base.loc[others.index, "commission"], check_exact=False
    )


def test_shrunk_cvr_lies_between_raw_and_expected(scored) -> None:
    c = scored.card[scored.card["clicks"] > 0]
    lo = np.minimum(c["cvr"], c["expected_cvr"]) - 1e-12
    hi = np.maximum(c["cvr"], c["expected_cvr"]) + 1e-12
    assert ((c["shrunk_cvr"] >= lo) & (c["shrunk_cvr"] <= hi)).all()
    assert (c["shrunk_cvr_low"] <= c["shrunk_cvr"]).all() and (
        c["shrunk_cvr"] <= c["shrunk_cvr_high"]
    ).all()


def test_net_roi_interval_and_lift(scored) -> None:
    c = scored.card.dropna(subset=["net_roi_low", "net_roi_high"])
    assert len(c) > 50
    assert (c["net_roi_low"] <= c["net_roi_high"]).all()
    # The interval is for the creator's expected ROI (luck taken out), so it holds the
    # posterior median, not always the realised ROI of a creator with a few lucky orders.
    assert (c["profit_roi_low"] <= c["profit_roi_median"]).all()
    assert (c["profit_roi_median"] <= c["profit_roi_high"]).all()
    np.testing.assert_allclose(c["profit_roi_low"], c["net_roi_low"] * margin_of_site(c))
    assert c["p_loss"].between(0, 1).all()
    assert (c["expected_loss_if_kept"] >= 0).all() and (c["expected_forgone_if_dropped"] >= 0).all()
    # A creator surely above break-even has no expected loss from being kept.
    sure = c[c["profit_roi_low"] > 1.5]
    assert len(sure) and (sure["p_loss"] < 0.025).all()
    few = scored.card["n_content"] < scored.rules.min_content
    assert scored.card.loc[few, "net_roi_low"].isna().all()
    us = scored.site("US")
    # Lift is against the US benchmark: US creators' lifts centre near 0 (click-weighted).
    w = us["impressions"] * us["ctr_lift"].notna()
    assert abs(float(np.average(us["ctr_lift"].fillna(0), weights=w))) < 0.05


def test_scorecard_follows_the_true_creator_effect(synth) -> None:
    """Creators with many clicks: the shrunk CVR relative to expectation tracks the
    generating creator effect (rank correlation clearly positive)."""
    card = build_scorecard(synth.data, site="US", n_boot=100).card
    truth = synth.creators[synth.creators["site"] == "US"].set_index("creator_id")["cvr_effect"]
    big = card[card["clicks"] >= 300].set_index("creator_id")
    ratio = np.log(big["shrunk_cvr"] / big["expected_cvr"])
    rho = ratio.corr(truth.reindex(ratio.index), method="spearman")
    assert rho > 0.3


def test_shrunk_cvr_intervals_cover_the_true_creator_cvr() -> None:
    """Review 20e: the 95 % shrunk-CVR intervals hold each creator's true CVR (the
    click-weighted generating CVR of their rows) about 95 % of the time, also for big
    creators, where a prior that ignored the expected CVR's own error would be too
    sure."""
    s = make_affiliate_data(20_000, seed=1)
    d = s.data.assign(true_orders=s.data["clicks"] * s.latent["true_cvr"].to_numpy())
    truth = d.groupby(["site", "creator_id"], observed=True)[["true_orders", "clicks"]].sum()
    true_cvr = truth["true_orders"] / truth["clicks"]
    card = build_scorecard(s.data, n_boot=100).card
    card = card[card["clicks"] > 0].set_index(["site", "creator_id"])
    t = true_cvr.reindex(card.index)
    covered = (card["shrunk_cvr_low"] <= t) & (t <= card["shrunk_cvr_high"])
    assert len(card) > 1000
    assert 0.90 <= covered.mean() <= 0.985, covered.mean()
    big = card["clicks"] >= 200
    assert big.sum() > 300
    assert covered[big].mean() >= 0.88, covered[big].mean()


def test_sites_are_scored_separately(synth) -> None:
    df = synth.data
    both = build_scorecard(df, site=["US", "UK"], n_boot=100, seed=1).card
    uk_only = build_scorecard(df, site="UK", n_boot=100, seed=1).card
    assert set(both["site"].astype(str)) == {"US", "UK"}
    cols = ["creator_id", "clicks", "expected_cvr", "shrunk_cvr", "ctr_lift"]
    a = both[both["site"] == "UK"][cols].sort_values("creator_id").reset_index(drop=True)
    b = uk_only[cols].sort_values("creator_id").reset_index(drop=True)
    # Models are fitted per site: scoring US alongside does not change UK's numbers.
    pd.testing.assert_frame_equal(a, b)


def test_build_scorecard_validation(synth) -> None:
    with pytest.raises(ValueError, match="clicks"):
        build_scorecard(synth.data.drop(columns=["clicks"]))
    with pytest.raises(ValueError, match="not in the data"):
        build_scorecard(synth.data, site="FR")
    with pytest.raises(ValueError, match="n_boot"):
        build_scorecard(synth.data, n_boot=10)


def test_scorecard_is_reproducible(synth) -> None:
    a = build_scorecard(synth.data, site="TH", n_boot=100, seed=5).card
    b = build_scorecard(synth.data, site="TH", n_boot=100, seed=5).card
    pd.testing.assert_frame_equal(a, b)


def test_scorecard_charts(scored) -> None:
    us = scored.site("US")
    figs = [
        charts.scorecard_roi_chart(us, min_clicks_drop=200),
        charts.scorecard_roi_chart(us, metric="net", roi_threshold=1.69),
        charts.scorecard_counts_chart(us),
        charts.scorecard_cvr_chart(us, cvr_drop_ratio=0.7),
    ]
    try:
        assert all(f.axes for f in figs)
    finally:
        for f in figs:
            plt.close(f)
    with pytest.raises(ValueError, match="one site"):
        charts.scorecard_counts_chart(scored.card)
    with pytest.raises(ValueError, match="'profit' or 'net'"):
        charts.scorecard_roi_chart(us, metric="gross")


# ---------------------------------------------------------------------- export


def test_excel_safe_neutralises_text_and_keeps_numbers() -> None:
    df = pd.DataFrame(
        {
            "creator_id": pd.array([*NASTY, "normal", None], dtype="string"),
            "note": [*NASTY, "ok", 5],
            "net_roi": [-1.5, 2.0, -3.0, 0.0, 1.0, 2.0, 3.0, 4.0, np.nan],
            "clicks": range(9),
            "tier": pd.Categorical(["=x", "mid", "mid", "mid", "mid", "mid", "mid", "mid", "mid"]),
        }
    )
    safe = excel_safe(df)
    for col in ("creator_id", "note"):
        for v in safe[col].iloc[: len(NASTY)]:
            assert v.startswith("'")
    assert safe["creator_id"].iloc[len(NASTY)] == "normal"
    assert pd.isna(safe["creator_id"].iloc[-1])
    assert safe["note"].iloc[-1] == 5
    assert safe["tier"].iloc[0] == "'=x"
    pd.testing.assert_series_equal(safe["net_roi"], df["net_roi"])
    assert safe["clicks"].dtype == df["clicks"].dtype
    assert df["creator_id"].iloc[0].startswith("=")  # the input is not modified


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value.lstrip()[:1] in ("=", "+", "-", "@")


def test_exports_open_without_live_formulas(planted, tmp_path: Path) -> None:
    df, _ = planted
    df = df.copy()
    ids = df["creator_id"].astype("string")
    first = ids[df["site"] == "US"].unique()[: len(NASTY)]
    mapping = dict(zip(first, NASTY, strict=True))
    df["creator_id"] = ids.map(lambda v: mapping.get(v, v)).astype("string")
    card = build_scorecard(df, site="US", n_boot=100).card
    assert set(NASTY) <= set(card["creator_id"])
    files = export_table(card, tmp_path / "scorecard_US")
    assert [p.suffix for p in files] == [".csv", ".xlsx"]

    wb = openpyxl.load_workbook(files[1])
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:2] == ["site", "creator_id"]
    names = []
    numeric_seen = 0
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            # typed cells: text is a string cell (never a formula), so it needs no quote
            assert cell.data_type != "f", f"live formula in {cell.coordinate}: {cell.value!r}"
            if isinstance(cell.value, str):
                assert cell.data_type == "s", cell.coordinate
            if isinstance(cell.value, int | float):
                numeric_seen += 1
        names.append(row[1].value)
    # handles keep their "@" and formula-like names show as typed, as text
    assert NASTY[0] in names and "@SUM(1)" in names and "+1+1" in names
    assert numeric_seen > len(card) * 10  # numbers stay numbers
    clicks_col = header.index("clicks")
    assert all(isinstance(r[clicks_col].value, int | float) for r in ws.iter_rows(min_row=2))

    with files[0].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["site", "creator_id"]
    assert len(rows) == len(card) + 1
    for r in rows[1:]:
        for v in r:
            if v and not _is_number(v):
                assert not _formula_like(v), v
    assert "'" + NASTY[0] in {r[1] for r in rows[1:]}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_export_suffixes(tmp_path: Path) -> None:
    df = pd.DataFrame({"creator_id": ["=1"], "clicks": [3]})
    assert export_table(df, tmp_path / "a.csv") == [tmp_path / "a.csv"]
    assert export_table(df, tmp_path / "a.xlsx") == [tmp_path / "a.xlsx"]
    with pytest.raises(ReportError, match=".csv or .xlsx"):
        export_table(df, tmp_path / "a.json")


# -------------------------------------------------------------------- notebook


@pytest.mark.notebook
def test_scorecard_notebook_runs(run_notebook) -> None:
    folder = run_notebook("05_creator_scorecard")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))[
        "05_creator_scorecard"
    ]
    assert results["n_creators"] > 0
    assert results["rules"]["min_clicks_drop"] >= 30
    sites = set(results["recommendations"])
    assert sites
    for s in sites:
        xlsx = folder / "tables" / f"05_creator_scorecard__scorecard_{s}.xlsx"
        assert (
            xlsx.exists()
            and (folder / "tables" / f"05_creator_scorecard__scorecard_{s}.csv").exists()
        )
        ws = openpyxl.load_workbook(xlsx).active
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        assert (folder / "figures" / f"05_creator_scorecard__net_roi_{s}.png").exists()


# ------------------------------------------------------------------------ tiers


@pytest.mark.parametrize("kind", ["string", "object", "unordered", "labels"])
def test_any_tier_labels_work(kind: str) -> None:
    """Issue 11: build_scorecard crashed with AttributeError when tier was plain text.
    Text, object, unordered categorical and arbitrary labels (TikTok's L1-L8 levels) all
    work and give the same scores as the ordered categorical."""
    from scorecard_sim import simulate_site

    sim = simulate_site([5] * 40 + [12] * 40, seed=4, platform_fee_rate=0.06)
    base = build_scorecard(sim.data, platform_fee_rate=0.06, n_draws=1000).card
    df = sim.data.copy()
    text = df["tier"].astype(str)
    if kind == "string":
        df["tier"] = text.astype("string")
    elif kind == "object":
        df["tier"] = text.astype(object)
    elif kind == "unordered":
        df["tier"] = pd.Categorical(text)
    else:
        levels = {"nano": "L1", "micro": "L2", "mid": "L3", "macro": "L4", "mega": "L5"}
        df["tier"] = text.map(levels).astype("string")
    card = build_scorecard(df, platform_fee_rate=0.06, n_draws=1000).card
    assert len(card) == 80 and card["tier"].notna().all()
    got = card.set_index("creator_id")
    want = base.set_index("creator_id").loc[got.index]
    if kind == "labels":
        assert set(got["tier"].astype(str)) <= {"L1", "L2", "L3", "L4", "L5"}
    else:
        assert (got["tier"].astype(str) == want["tier"].astype(str)).all()
    cols = ["expected_cvr", "shrunk_cvr", "profit_roi_low", "profit_roi_high"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_exact=False, rtol=1e-6)
    assert (got["recommendation"] == want["recommendation"]).all()
