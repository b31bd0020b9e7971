"""Simulation study of the A/B tests against an independent simulator (tests/sim/ab_sim.py,
not helpers.synth): A/A size and A/B power of :func:`helpers.abtest.compare_variants`
(CTR, CVR) and :func:`helpers.abtest.compare_means` (GMV per unit, AOV) with the unit of
randomisation inferred from the data, as a seller would call them.

Issue 11, done when: A/A at video and creator level, size within 3-7 % for rates and
means. Worlds: about 80 videos of 30 creators assigned per video (each video split into
two daily rows), and 40 creators with about 3 videos each assigned per creator with
Pareto(1.5) reach; creator and video effects on CTR, CVR and price (orders of a video
share a price). The full study is marked slow (``AB_SIM_REPS`` tests per world, 2000 by
default: a binomial sd of 0.5 points around 5 %); a reduced version with 100 tests per
world runs in the normal suite: wide enough for its sampling error, tight enough to
catch a test counted per impression (37-83 % false positives here) or a size of 12 %+.

Measured (AB_SIM_REPS=2000, 18 min on a shared 2-core machine), share of A/A tests
rejected at alpha 0.05, default (randomisation) test / t approximation / impression-level:

    video level:   CTR 5.0 / 3.6 / 83.3 %, CVR 5.0 / 4.5 / 40.8 %, GMV per video 5.3 / 3.3 %,
                   AOV 5.6 / 4.5 %
    creator level: CTR 4.4 / 4.2 / 80.6 %, CVR 4.5 / 5.0 / 37.0 %, GMV per creator
                   4.4 / 2.9 %, AOV 4.8 / 4.8 %

Power with +50 % CTR, CVR and price for B (500 tests): video level CTR 35.6 %, CVR
30.0 %, GMV 56.4 %, AOV 31.2 % (t: 27.6, 24.0, 43.0, 26.6 %); creator level 31.4, 25.2,
48.0, 23.6 % (t: 24.2, 22.6, 29.6, 20.2 %).

Run the full study and print its table::

    AB_SIM_REPS=2000 PYTHONPATH=$PWD python -m pytest tests/test_abtest_sim.py -m slow -s -q
"""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest
from sim.ab_sim import Scenario, simulate

from helpers.abtest import compare_means, compare_variants

WORLDS = {
    "video": Scenario(level="video", n_creators=30, mean_videos=2.7, rows_per_video=2),
    "creator": Scenario(level="creator", n_creators=40, mean_videos=3.0, traffic="pareto"),
}
METRICS = ("ctr", "cvr", "gmv", "aov")
LIFTS = {"lift_ctr": 0.5, "lift_cvr": 0.5, "lift_price": 0.5}


def _pvalues(df: pd.DataFrame, level: str, permutations: int, seed: int) -> dict[str, float]:
    """p-values of every metric on one simulated test: the default (randomisation) test,
    the t approximation and, for rates, the impression-level score test."""
    out: dict[str, float] = {}
    for metric in METRICS:
        try:
            if metric in ("ctr", "cvr"):
                r = compare_variants(
                    df, "variant", metric=metric, permutations=permutations, seed=seed
                )
                naive = compare_variants(df, "variant", metric=metric, unit="impression")
                out[f"{metric} impression"] = naive.pvalue
            else:
                r = compare_means(df, "variant", metric, permutations=permutations, seed=seed)
        except ValueError:
            continue  # e.g. an arm with fewer than 2 videos with orders: no test, not counted
        assert r.unit == level, (r.unit, level)  # the unit is inferred from the data
        out[f"{metric} {level}"] = r.pvalue
        out[f"{metric} {level} t"] = r.pvalue_t
    return out


def study(
    level: str, reps: int, *, seed0: int = 0, permutations: int = 999, lift: bool = False
) -> pd.DataFrame:
    """Rejection rates at alpha 0.05 over ``reps`` simulated tests of one world."""
    sc = WORLDS[level].with_(**LIFTS) if lift else WORLDS[level]
    rows = [_pvalues(simulate(sc, seed0 + rep), level, permutations, rep) for rep in range(reps)]
    p = pd.DataFrame(rows)
    return pd.DataFrame({"rejection": (p < 0.05).mean(), "tests": p.notna().sum()})


def _show(label: str, table: pd.DataFrame) -> None:
    print(f"\n{label}\n{table.to_string(float_format=lambda v: f'{v:.3f}')}")


@pytest.mark.parametrize("level", list(WORLDS))
def test_aa_size_reduced(level: str) -> None:
    reps = 100
    t = study(level, reps, seed0=10_000, permutations=199)
    _show(f"A/A, {level} level, {reps} tests", t)
    for metric in METRICS:
        rate = t.loc[f"{metric} {level}", "rejection"]
        assert t.loc[f"{metric} {level}", "tests"] >= 0.95 * reps
        # 3 sd of 100 tests around 5 %: up to 11.5 %.
        assert rate <= 0.115, (metric, rate)
    for metric in ("ctr", "cvr"):
        assert t.loc[f"{metric} impression", "rejection"] >= 0.25, metric


@pytest.mark.slow
@pytest.mark.parametrize("level", list(WORLDS))
def test_aa_size_full(level: str) -> None:
    reps = int(os.environ.get("AB_SIM_REPS", "2000"))
    t = study(level, reps, seed0=1_000_000)
    _show(f"A/A, {level} level, {reps} tests (alpha 0.05)", t)
    for metric in METRICS:
        row = t.loc[f"{metric} {level}"]
        assert 0.03 <= row["rejection"] <= 0.07, (metric, row.to_dict())
        assert row["tests"] >= 0.95 * reps


@pytest.mark.slow
@pytest.mark.parametrize("level", list(WORLDS))
def test_power_under_a_lift(level: str) -> None:
    """+50 % CTR, CVR and price for variant B: the tests detect it far more often than
    alpha, and the randomisation test loses no power to the t approximation."""
    reps = max(200, int(os.environ.get("AB_SIM_REPS", "2000")) // 4)
    t = study(level, reps, seed0=2_000_000, lift=True)
    _show(f"A/B with +50 % CTR, CVR and price, {level} level, {reps} tests", t)
    se = math.sqrt(0.25 / reps)
    for metric in METRICS:
        power = t.loc[f"{metric} {level}", "rejection"]
        assert power > 0.15, (metric, power)
        assert power >= t.loc[f"{metric} {level} t", "rejection"] - 3 * se, metric


def test_simulator_truth() -> None:
    """The simulator itself: B's lift shows in the pooled data of a large world."""
    sc = WORLDS["video"].with_(n_creators=3000, **LIFTS)
    df = simulate(sc, 1)
    g = df.groupby("variant")[["impressions", "clicks", "orders", "gmv"]].sum()
    ctr = g["clicks"] / g["impressions"]
    aov = g["gmv"] / g["orders"]
    assert ctr["B"] / ctr["A"] == pytest.approx(1.5, rel=0.15)
    assert aov["B"] / aov["A"] == pytest.approx(1.5, rel=0.15)
    per_video = df.groupby("content_id")["variant"].nunique()
    assert (per_video == 1).all() and df.groupby("creator_id")["variant"].nunique().max() == 2
    assert (df["clicks"] <= df["impressions"]).all() and (df["orders"] <= df["clicks"]).all()
