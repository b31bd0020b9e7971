"""Tests of the weekly monitor (helpers/monitor.py): periods, exact decomposition,
estimate vs actual, and simulations with a known truth (fast versions here, full ones
under ``@pytest.mark.slow``; figures: ``python -m tests.monitor_sim``)."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pytest

from helpers import monitor
from helpers.charts import monitor as mcharts
from helpers.errors import PlanError
from helpers.i18n import missing_keys
from helpers.requirements import unmet
from tests import monitor_sim


@pytest.fixture(scope="module")
def weeks4() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return monitor_sim.simulate(rng.uniform(0.5, 2.0, 150), weeks=4, seed=5)


def test_periods_previous_and_last_year() -> None:
    dates = pd.Series(pd.date_range("2025-01-06", "2026-11-01", freq="D"))
    p = monitor.resolve_periods(dates, last="1w")
    assert (p.start, p.end) == (_dt.date(2026, 10, 26), _dt.date(2026, 11, 1))
    assert (p.cstart, p.cend) == (_dt.date(2026, 10, 19), _dt.date(2026, 10, 25))
    q = monitor.resolve_periods(dates, last="4w", compare="last_year")
    assert (
        q.days == 28
        and (q.start - q.cstart).days == 364
        and q.cstart.weekday() == q.start.weekday()
    )
    r = monitor.resolve_periods(dates, start="2026-10-01", end="2026-10-10")
    assert r.days == 10 and r.cend == _dt.date(2026, 9, 30)
    assert r.next() == (_dt.date(2026, 10, 11), _dt.date(2026, 10, 20))
    assert "2026-10-01" in r.label("zh") and "对比期" in r.label("zh")


def test_periods_errors_name_the_fix() -> None:
    dates = pd.Series(pd.date_range("2026-10-01", "2026-11-01", freq="D"))
    with pytest.raises(PlanError, match="accepted"):
        monitor.resolve_periods(dates, compare="yesterday")
    with pytest.raises(PlanError, match="before the data"):
        monitor.resolve_periods(dates, last="4w", compare="last_year")
    with pytest.raises(PlanError, match="7d"):
        monitor.resolve_periods(dates, last="week")
    with pytest.raises(PlanError, match="no dates"):
        monitor.resolve_periods(pd.Series([pd.NaT, pd.NaT]))


def test_requirement_names_date() -> None:
    cols = [
        "site",
        "creator_id",
        "tier",
        "category",
        "commission_rate",
        "impressions",
        "clicks",
        "orders",
        "gmv",
    ]
    assert "date" in unmet("monitor", cols)
    assert unmet("monitor", [*cols, "date"]) is None


def test_comparison_values_are_the_kit_definitions(weeks4: pd.DataFrame) -> None:
    p = monitor.resolve_periods(weeks4["date"], last="1w")
    cmp = monitor.compare_periods(weeks4, p).set_index("metric")
    cur = weeks4[weeks4["date"] >= pd.Timestamp(p.start)]
    ref = weeks4[
        (weeks4["date"] >= pd.Timestamp(p.cstart)) & (weeks4["date"] <= pd.Timestamp(p.cend))
    ]
    assert cmp.loc["ctr", "current"] == pytest.approx(
        cur["clicks"].sum() / cur["impressions"].sum()
    )
    assert cmp.loc["aov", "comparison"] == pytest.approx(ref["gmv"].sum() / ref["orders"].sum())
    assert cmp.loc["gmv", "change"] == pytest.approx(cur["gmv"].sum() - ref["gmv"].sum())
    assert (cmp["low_pct"] < cmp["change_pct"]).all() and (
        cmp["change_pct"] < cmp["high_pct"]
    ).all()
    assert cmp["flag"].eq((cmp["low_pct"] > 0) | (cmp["high_pct"] < 0)).all()


def test_comparison_flags_a_real_change(weeks4: pd.DataFrame) -> None:
    p = monitor.resolve_periods(weeks4["date"], last="1w")
    boosted = weeks4.copy()
    cur = boosted["date"] >= pd.Timestamp(p.start)
    boosted.loc[cur, "gmv"] *= 2.0  # AOV doubles this week
    boosted.loc[cur, "refunds"] *= 2.0
    cmp = monitor.compare_periods(boosted, p).set_index("metric")
    assert cmp.loc["aov", "flag"] and cmp.loc["aov", "direction"] == "up"


def test_shapley_split_is_exact_with_zeros() -> None:
    f0 = np.array([[100.0, 0.1, 0.0, 20.0], [50.0, 0.2, 0.1, 10.0]])
    f1 = np.array([[200.0, 0.1, 0.05, 25.0], [50.0, 0.2, 0.1, 10.0]])
    eff = monitor.shapley_product(f1, f0)
    np.testing.assert_allclose(eff.sum(axis=1), f1.prod(axis=1) - f0.prod(axis=1))
    np.testing.assert_allclose(eff[1], 0.0)
    one = monitor.shapley_product(np.array([[2.0, 1, 1, 1]]), np.ones((1, 4)))
    np.testing.assert_allclose(one, [[1.0, 0, 0, 0]])


@pytest.mark.parametrize("by", [None, "creator_id", "category", "product_id"])
def test_decomposition_adds_up_to_the_observed_change(weeks4: pd.DataFrame, by: str | None) -> None:
    p = monitor.resolve_periods(weeks4["date"], last="1w")
    dec = monitor.decompose_gmv(weeks4, p, by=by)
    parts = dec[["reach", "ctr", "cvr", "aov", "other"]].sum(axis=1)
    np.testing.assert_allclose(parts, dec["change"], atol=1e-6)
    if by is None:
        np.testing.assert_allclose(dec["other"], 0.0, atol=1e-6)  # complete rows: all explained
    cur = weeks4.loc[weeks4["date"] >= pd.Timestamp(p.start), "gmv"].sum()
    ref = weeks4.loc[
        (weeks4["date"] >= pd.Timestamp(p.cstart)) & (weeks4["date"] <= pd.Timestamp(p.cend)), "gmv"
    ].sum()
    assert dec["change"].sum() == pytest.approx(cur - ref)


def test_churn_lists_new_and_lost() -> None:
    d = pd.DataFrame(
        {
            "site": "US",
            "creator_id": ["a", "b", "b", "c"],
            "gmv": [1.0, 2.0, 3.0, 4.0],
            "date": pd.to_datetime(["2026-10-20", "2026-10-20", "2026-10-27", "2026-10-28"]),
        }
    )
    p = monitor.resolve_periods(d["date"], start="2026-10-26", end="2026-11-01")
    ch = monitor.creator_churn(d, p).set_index("creator_id")
    assert (
        ch.loc["c", "status"] == "new" and ch.loc["a", "status"] == "lost" and "b" not in ch.index
    )


def test_stop_loss_fast_sim() -> None:
    res = monitor_sim.stop_loss_sim(300, 150, below=0.25, seed=11)
    assert res["false_alarm_share"] <= 0.05
    assert res["detection_share"] >= 0.5 and res["median_delay_weeks"] <= 12


def test_stop_loss_at_the_line_where_a_weekly_test_fails() -> None:
    # creators exactly at break-even, looked at every week for 12 weeks
    res = monitor_sim.stop_loss_sim(400, 100, above=(1.0, 1.0), below=0.25, seed=12)
    assert res["false_alarm_share"] <= 0.05
    assert res["naive_weekly_test_false_alarm_share"] >= 0.15  # the problem the CS solves


@pytest.mark.slow
def test_stop_loss_full_sim() -> None:
    res = monitor_sim.stop_loss_sim(2000, 1000, below=0.25, seed=1)
    assert res["false_alarm_share"] <= 0.05
    assert res["detection_share"] >= 0.5


def test_stop_loss_alert_has_the_evidence_and_money() -> None:
    df = monitor_sim.simulate(np.r_[np.full(20, 1.5), np.full(20, 0.15)], weeks=12, seed=4)
    res = monitor.stop_loss(df, unit_cost_rate=0.35)
    assert res.watched == 40 and len(res.alerts) > 0
    bad = res.alerts["unit"].map(lambda u: int(u[1:]) >= 20)
    assert bad.all()
    assert (res.alerts["roi_high"] < 1).all() and (res.alerts["profit_so_far"] < 0).all()
    en, zh = res.sentences("en")[1], res.sentences("zh")[1]
    assert "Stop-loss" in en and "止损" in zh and res.alerts["unit"].iloc[0] in en
    # a unit's alert never depends on later weeks: week t uses only weeks up to t
    cut = monitor.stop_loss(
        df[df["date"] < df["date"].min() + pd.Timedelta(days=42)], unit_cost_rate=0.35
    )
    merged = cut.paths.merge(res.paths, on=["site", "unit", "week"], suffixes=("_cut", ""))
    assert len(merged) == len(cut.paths)


def test_week_over_week_fast_sim() -> None:
    res = monitor_sim.wow_sim(15, n_creators=200, seed=7)
    assert res["flag_rate"] <= 0.12  # 105 flags at a stated 5 %: a loose bound for 15 reps


@pytest.mark.slow
def test_week_over_week_full_sim() -> None:
    res = monitor_sim.wow_sim(300, seed=3)
    assert res["flag_rate"] <= 0.065  # 2,100 (rep, metric) flags, stated 5 %


def test_estimate_vs_actual_from_a_past_run(tmp_path, weeks4: pd.DataFrame) -> None:
    p = monitor.resolve_periods(weeks4["date"], start="2026-01-12", end="2026-01-18")
    target = (p.end + _dt.timedelta(days=1), p.end + _dt.timedelta(days=7))
    draws = np.random.default_rng(0).lognormal(0.5, 0.3, 2000)
    rec = monitor._record("US", "micro", "beauty", target, "net", draws, {"site": "US"}, "fp", p)
    path = tmp_path / "forecast_history.jsonl"
    assert monitor.append_history(path, [rec]) == 1
    assert monitor.append_history(path, [rec]) == 0  # a re-run is not counted twice
    eva = monitor.estimate_vs_actual(monitor.read_history(path), weeks4)
    assert len(eva) == 1
    row = eva.iloc[0]
    wk = monitor.row_values(
        weeks4[
            (weeks4["date"] >= pd.Timestamp(target[0]))
            & (weeks4["date"] <= pd.Timestamp(target[1]))
        ]
    )
    actual = wk["net_gmv"].sum() / wk["cost"].sum()
    assert row["actual_roi"] == pytest.approx(actual)
    assert row["forecast_median"] + row["error"] == pytest.approx(row["actual_roi"])
    assert row["pit"] == pytest.approx(np.mean(draws < actual), abs=0.03)
    cal = monitor.calibration(eva)
    assert cal["n"] == 1 and sum(cal["pit_counts"]) == 1
    # a forecast for a period the data does not reach yet stays pending
    later = monitor._record(
        "US",
        "micro",
        "beauty",
        (target[0] + _dt.timedelta(days=70), target[1] + _dt.timedelta(days=70)),
        "net",
        draws,
        {},
        "fp",
        p,
    )
    assert monitor.estimate_vs_actual([later], weeks4).empty


def test_texts_have_chinese() -> None:
    assert missing_keys(monitor._TEXT) == {"zh": []}
    assert missing_keys(mcharts._TEXT) == {"zh": []}


def test_charts_return_figures(weeks4: pd.DataFrame) -> None:
    p = monitor.resolve_periods(weeks4["date"], last="1w")
    cmp = monitor.compare_periods(weeks4, p)
    dec = monitor.decompose_gmv(weeks4, p)
    eva = monitor._eva_frame([])
    for fig in (
        mcharts.monitor_change_chart(cmp, site="US", lang="zh"),
        mcharts.monitor_decomposition_chart(dec, site="US"),
        mcharts.monitor_pit_chart(eva),
    ):
        assert fig.axes


def test_period_note_states_the_period_or_its_absence(weeks4: pd.DataFrame) -> None:
    note = monitor.period_note(weeks4)
    assert "2026-01-05" in note and "4 weeks" in note
    assert "没有日期" in monitor.period_note(weeks4.drop(columns="date"), "zh")
    assert "one period" in monitor.period_note(weeks4.assign(date=pd.NaT))


def test_alert_sentences_plain_for_the_summary_page() -> None:
    df = monitor_sim.simulate(np.r_[np.full(5, 0.1)], weeks=12, seed=8)
    df["creator_id"] = "<b>c_1</b>"
    res = monitor.stop_loss(df, unit_cost_rate=0.35, jump_scale={("US", "micro"): 1.0})
    assert len(res.alerts) == 1
    assert "<b>c_1</b>" in res.sentences(markdown=False)[1]
    assert "<b>c_1</b>" not in res.sentences()[1]  # Markdown output is escaped


def test_summary_lines_reach_the_index() -> None:
    from helpers.report import _summary_lines

    merged = {"06_weekly_monitor": {"summary": ["Stop-loss: x"]}, "05": {"n": 1}}
    assert _summary_lines(merged) == [{"notebook": "06_weekly_monitor", "text": "Stop-loss: x"}]


def test_most_frequent_matches_mode_with_ties() -> None:
    """The vectorised per-unit mode (stop_loss's tier of a creator) is Series.mode's
    first value, ties to the first in sort order."""
    from helpers.monitor import _most_frequent

    vals = pd.DataFrame(
        {
            "site": ["US"] * 7 + ["UK"] * 3,
            "unit": ["a", "a", "a", "b", "b", "c", "c", "a", "a", "a"],
            "tier": pd.Categorical(
                ["mid", "nano", "nano", "mega", "micro", "mid", "mid", "macro", "mega", "macro"]
            ),
        }
    )
    got = _most_frequent(vals, ["site", "unit"], "tier")
    want = vals.groupby(["site", "unit"])["tier"].agg(lambda c: c.astype(str).mode().iat[0])
    assert got.reindex(want.index).tolist() == want.tolist() == ["macro", "nano", "mega", "mid"]
