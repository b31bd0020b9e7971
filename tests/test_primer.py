"""Tests for the metrics primer: helpers.glossary, helpers.charts.primer and notebook 00."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import glossary, metrics
from helpers.charts import primer as charts

REQUIRED_TERMS = {
    # English -> Chinese as the issue lists them (each must appear in the glossary)
    "CTR": "点击率",
    "CVR": "转化率",
    "AOV": "客单价",
    "GMV": "成交额",
    "ROI": "投入产出比",
    "lift": "提升",
    "creator": "达人",
    "commission rate": "佣金率",
    "sample": "样品",
    "flat fee": "坑位费",
    "refunds": "退款",
    "impressions": "曝光",
    "clicks": "点击",
    "site": "站点",
    "category": "类目",
    "creator tier": "达人等级",
}


def test_glossary_covers_the_issue_terms() -> None:
    table = glossary.glossary_table()
    assert list(table.columns) == ["english", "中文", "definition", "formula"]
    assert table["english"].is_unique
    assert (table["english"].str.len() > 0).all() and (table["中文"].str.len() > 0).all()
    assert (table["definition"].str.len() > 10).all()
    for en, zh in REQUIRED_TERMS.items():
        rows = table[table["english"].str.split(" [(]").str[0].str.fullmatch(en, case=False)]
        if rows.empty:  # e.g. "CTR (click-through rate)"
            rows = table[table["english"].str.startswith(en)]
        assert not rows.empty, f"glossary lacks {en!r}"
        assert rows["中文"].str.contains(zh).any(), f"{en!r} should be translated as {zh}"
    assert "客单价/平均订单金额" in "".join(table["中文"]).replace(" ", "")


def test_toy_campaign_follows_the_metrics_module() -> None:
    c = glossary.toy_campaign(impressions=50_000, ctr=0.03, cvr=0.04, aov=20.0, return_rate=0.2)
    assert (c.clicks, c.orders) == (1500, 60)
    assert c.gmv == pytest.approx(1200.0)
    assert c.refunds == pytest.approx(240.0)
    assert c.commission == pytest.approx(metrics.commission_on_net(1200.0, 240.0, 0.15))
    assert c.promotion_cost == pytest.approx(c.commission + c.sample_cost + c.flat_fee)
    assert c.gross_roi == pytest.approx(1200.0 / c.promotion_cost)
    assert c.net_roi == pytest.approx(960.0 / c.promotion_cost)
    assert c.profit_roi == pytest.approx(960.0 * (1 - 0.35 - 0.06) / c.promotion_cost)
    assert c.profit == pytest.approx(c.contribution - c.promotion_cost)
    assert c.ctr_lift_vs_us == pytest.approx(0.03 / 0.015 - 1)


def test_every_metric_moves_with_its_parameter() -> None:
    base = glossary.toy_campaign()
    assert glossary.toy_campaign(ctr=0.04).orders > base.orders
    assert glossary.toy_campaign(cvr=0.06).gmv > base.gmv
    assert glossary.toy_campaign(return_rate=0.3).net_roi < base.net_roi
    assert glossary.toy_campaign(sample_cost=1000.0).profit_roi < base.profit_roi
    assert glossary.toy_campaign(product_cost_rate=0.6).profit < base.profit
    assert glossary.toy_campaign(us_benchmark_ctr=0.04).ctr_lift_vs_us < 0
    assert glossary.toy_campaign(refund_recovery=0.0).profit_roi < base.profit_roi


def test_refund_recovery_follows_the_metrics_module() -> None:
    # Review finding 9's example: return rate 20 %, unit cost 35 %, fee 6 %: contribution
    # 0.472 x GMV when refunded items are restocked, 0.402 x GMV when none comes back.
    kept = glossary.toy_campaign(return_rate=0.2, product_cost_rate=0.35, platform_fee_rate=0.06)
    lost = glossary.toy_campaign(
        return_rate=0.2, product_cost_rate=0.35, platform_fee_rate=0.06, refund_recovery=0.0
    )
    assert kept.contribution == pytest.approx(0.472 * kept.gmv)
    assert lost.contribution == pytest.approx(0.402 * lost.gmv)
    assert lost.contribution == pytest.approx(
        metrics.contribution(lost.gmv, lost.refunds, 0.35, 0.06, refund_recovery=0.0)
    )
    # The waterfall still adds up: net GMV - fee - product cost = contribution.
    assert lost.net_gmv - lost.platform_fee - lost.product_cost == pytest.approx(lost.contribution)
    assert "(1 - refund recovery)" in glossary.worked_examples(lost, ["contribution"])
    ref = glossary.demo_refunds(kept)
    assert (ref["profit_roi_refund_only"].iloc[1:] < ref["profit_roi"].iloc[1:]).all()
    with pytest.raises(ValueError, match="refund_recovery"):
        glossary.toy_campaign(refund_recovery=1.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ctr": 2.0}, "ctr"),
        ({"cvr": -0.1}, "cvr"),
        ({"commission_rate": 0.9}, "commission_rate"),
        ({"impressions": 0}, "impressions"),
        ({"aov": -5.0}, "aov"),
        ({"us_benchmark_ctr": 0.0}, "us_benchmark_ctr"),
    ],
)
def test_toy_campaign_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        glossary.toy_campaign(**kwargs)


def test_metric_table_and_worked_examples() -> None:
    c = glossary.toy_campaign()
    table = glossary.metric_table(c)
    expected = {
        "CTR",
        "CVR",
        "AOV",
        "GMV",
        "return rate",
        "commission",
        "gross ROI",
        "net ROI",
        "profit ROI",
        "CTR lift vs US",
    }
    assert expected <= set(table["metric"])
    assert table.set_index("metric").at["net ROI", "value"] == pytest.approx(c.net_roi)
    text = glossary.worked_examples(c, ["CTR"])
    assert "2,000 / 100,000 = 2.00%" in text
    with pytest.raises(ValueError, match="accepted"):
        glossary.worked_examples(c, ["ROAS"])


def test_demos_are_seeded_and_show_their_point() -> None:
    c = glossary.toy_campaign()
    a = glossary.demo_views_vs_clicks(seed=3)
    b = glossary.demo_views_vs_clicks(seed=3)
    assert a.equals(b)
    assert (a["clicks"] <= a["impressions"]).all() and (a["orders"] <= a["clicks"]).all()

    hist = glossary.demo_roi_history(c, seed=1)
    width = (hist["net_roi_high"] - hist["net_roi_low"]).to_numpy()
    assert width[0] > 3 * width[-1]  # 30 vs 10,000 clicks of history
    assert (hist["net_roi_low"] <= hist["net_roi_hat"]).all()
    assert (hist["net_roi_hat"] <= hist["net_roi_high"]).all()

    ref = glossary.demo_refunds(c)
    assert np.all(np.diff(ref["net_roi"]) < 0) and np.all(np.diff(ref["profit_roi"]) < 0)
    assert np.all(np.diff(ref["gross_roi"]) >= 0)  # commission on net: gross ROI cannot see refunds

    fake = glossary.demo_commission_fake_orders(c, seed=0)
    assert fake["expected_profit"].iloc[-1] < fake["expected_profit"].max()
    assert fake["fake_orders"].iloc[-1] > fake["fake_orders"].iloc[0]


@pytest.mark.parametrize("seed", range(10))
def test_mixing_sites_reverses_when_pooled(seed: int) -> None:
    df = glossary.demo_mixing_sites(seed=seed).set_index(["creator", "site"])["cvr"]
    for site in ("US", "UK"):
        assert df[("A", site)] > df[("B", site)]
    assert df[("B", "pooled")] > df[("A", "pooled")]


def test_ab_demo_uses_the_video_level_planner() -> None:
    days, plan = glossary.demo_ab_test(
        baseline_ctr=0.02, true_lift=0.2, daily_impressions=4000, videos_per_day=10, seed=0
    )
    assert plan.randomised_by == "video" and plan.design_effect > 1.5
    assert plan.units_a is not None and plan.units_a > 10
    assert plan.days == pytest.approx(plan.n_total / 4000, abs=1)
    assert len(days) == plan.days + 2
    assert (days["videos_a"] + days["videos_b"]).diff().dropna().eq(10).all()
    # The impression-level interval is the too-narrow one.
    width = days["lift_high"] - days["lift_low"]
    naive_width = days["lift_high_naive"] - days["lift_low_naive"]
    assert (width.iloc[-5:] > naive_width.iloc[-5:]).all()
    videos, plan2 = glossary.demo_ab_videos(
        baseline_ctr=0.02, true_lift=0.2, daily_impressions=4000, videos_per_day=10, seed=0
    )
    assert plan2 == plan
    assert videos.groupby("content_id")["thumbnail"].nunique().eq(1).all()
    assert int(videos.loc[videos["thumbnail"] == "A", "clicks"].sum()) == days["clicks_a"].iloc[-1]
    with pytest.raises(ValueError, match="videos_per_day"):
        glossary.demo_ab_videos(videos_per_day=1)


def test_aa_demo_shows_the_naive_test_overconfident() -> None:
    table = glossary.demo_aa_false_positives(sims=100, impressions_per_video=1000, seed=0)
    naive, video = table["false_positive_rate"].tolist()
    assert table["sims"].iloc[0] == 100
    # 3 binomial SD of 100 simulations around 5 %: +-6.5 points.
    assert abs(video - 0.05) <= 0.066
    assert naive > 0.2


def test_primer_charts_return_figures() -> None:
    c = glossary.toy_campaign()
    days, plan = glossary.demo_ab_test(seed=0)
    figs = [
        charts.primer_funnel_chart(c),
        charts.primer_cost_breakdown_chart(c),
        charts.primer_views_vs_orders_chart(glossary.demo_views_vs_clicks()),
        charts.primer_roi_history_chart(glossary.demo_roi_history(c)),
        charts.primer_refunds_roi_chart(glossary.demo_refunds(c)),
        charts.primer_simpson_chart(glossary.demo_mixing_sites()),
        charts.primer_commission_profit_chart(glossary.demo_commission_fake_orders(c)),
        charts.primer_ab_test_chart(days, plan),
    ]
    try:
        for fig in figs:
            assert isinstance(fig, Figure)
            assert fig.axes
    finally:
        for fig in figs:
            plt.close(fig)
    _, ax = plt.subplots()
    try:
        assert charts.primer_refunds_roi_chart(glossary.demo_refunds(c), ax=ax) is ax.figure
    finally:
        plt.close(ax.figure)


@pytest.mark.notebook
def test_primer_notebook_runs(run_notebook) -> None:
    folder = run_notebook("00_metrics_primer", {"ctr": 0.03, "seed": 2})
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))["00_metrics_primer"]
    # The parameter reached the notebook and every metric followed it.
    assert results["ctr"] == pytest.approx(0.03)
    assert results["clicks"] == 3000
    assert results["net_roi"] == pytest.approx(glossary.toy_campaign(ctr=0.03).net_roi)
    assert results["ab_plan"]["n_a"] > 0
    figures = sorted(p.name for p in (folder / "figures").glob("00_metrics_primer__*.png"))
    assert len(figures) == 8, figures
    assert (folder / "tables" / "00_metrics_primer__glossary.csv").exists()
