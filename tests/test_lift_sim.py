"""Creator-level CTR lift against the independent simulator of tests/lift_sim.py.

Creators with several videos whose CTRs vary around the creator's (logit-normal or
beta), heavy-tailed impressions, each test site one Benjamini-Hochberg family. The
reduced runs (normal suite) catch a test that ignores the between-video spread (it
flags in nearly every run); the full runs (``-m slow``, or ``python -m tests.lift_sim``)
give the figures of the closing note.
"""

from __future__ import annotations

import math

import lift_sim
import numpy as np
import pandas as pd
import pytest

from helpers import lift


def _bound(rate_target: float, runs: int, k: float) -> float:
    return rate_target + k * math.sqrt(rate_target * (1 - rate_target) / runs)


@pytest.mark.parametrize("dist", ["logitnormal", "beta"])
def test_creator_flags_hold_under_the_null_reduced(dist):
    """Reduced version (150 runs): any-false-flag rate near 5 %, where the test that
    treats every impression as independent flags in almost every run."""
    r = lift_sim.run_study(lift_sim.SimSettings(n_runs=150, video_dist=dist), seed=3)
    print(f"\n{lift_sim._fmt(r)}")
    assert r["naive_any_false_flag"] > 0.5  # the simulation shows the problem
    assert r["any_false_flag"] <= _bound(0.05, r["runs"], 2.0)
    assert 0.85 <= r["coverage"] <= 0.99
    assert r["median_design_effect"] > 2  # the videos really differ
    assert abs(r["video_dispersion"] / r["true_video_dispersion"] - 1) < 0.3


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["logitnormal", "beta"])
def test_creator_flags_hold_under_the_null(dist):
    """Done-when of issue 11 item 5: any-false-flag rate <= 5 % per site at creator
    level with heterogeneous videos (2000 runs, FDR 0.05, BH per site)."""
    r = lift_sim.run_study(lift_sim.SimSettings(n_runs=2000, video_dist=dist), seed=0)
    print(f"\n{lift_sim._fmt(r)}")
    assert r["any_false_flag"] <= 0.05
    assert r["coverage"] >= 0.90


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["logitnormal", "beta"])
def test_creator_flags_under_an_alternative(dist):
    """20 % of creators at 2x or 1/2x the benchmark: the false-discovery proportion
    stays below the FDR level and some true differences are found."""
    settings = lift_sim.SimSettings(n_runs=2000, video_dist=dist, share_different=0.2, effect=2.0)
    r = lift_sim.run_study(settings, seed=1)
    print(f"\n{lift_sim._fmt(r)}")
    assert r["fdr_mean"] <= 0.05
    assert r["power"] > 0.05
    assert r["coverage"] >= 0.88


def test_content_level_is_unchanged_by_the_design_effect():
    """One unit = one video: design effect 1 and the exact binomial test as before,
    even on data whose creators have many heterogeneous videos."""
    from scipy import stats

    frame, _ = lift_sim.simulate(lift_sim.SimSettings(n_runs=3), seed=5)
    p_cat = {c: 0.02 for c in frame["category"].cat.categories}
    res = lift.ctr_lift(frame, p_cat, level="content", min_impressions=0)
    u = res.units
    assert (u["design_effect"] == 1).all()
    k, n = u["clicks"].to_numpy(), u["impressions"].to_numpy()
    upper = k >= n * 0.02
    tail = np.where(upper, stats.binom.sf(k - 1, n, 0.02), stats.binom.cdf(k, n, 0.02))
    assert np.allclose(u["p_value"], np.minimum(1, 2 * tail), rtol=1e-12, atol=0)
    assert "video_dispersion" not in res.priors.columns


def test_creator_level_design_effect_and_dispersion_columns():
    frame, _ = lift_sim.simulate(lift_sim.SimSettings(n_runs=20), seed=6)
    res = lift.ctr_lift(frame, lift.benchmark(frame), level="creator")
    u, pr = res.units, res.priors
    assert {"video_dispersion", "dispersion_units", "dispersion_source"} <= set(pr.columns)
    assert (pr["video_dispersion"] >= 0).all()
    # a unit's design effect grows with its biggest video's share of impressions
    assert (u["design_effect"] >= 1).all() and u["design_effect"].max() > 10
    one = u.loc[u["n_rows"] == 1]
    assert (one["design_effect"] > 1).any()  # one video still says little about the creator


def test_no_multi_video_units_means_binomial():
    """Creators with one row each carry no information on between-video spread: the
    dispersion is 0, the design effect 1 and the source says why."""
    rng = np.random.default_rng(2)
    imp = rng.integers(100, 5000, 40)
    df = pd.DataFrame(
        {
            "site": pd.Categorical(["UK"] * 40),
            "category": pd.Categorical(["home"] * 40),
            "creator_id": pd.array([f"c{i}" for i in range(40)], dtype="string"),
            "impressions": imp,
            "clicks": rng.binomial(imp, 0.02),
        }
    )
    res = lift.ctr_lift(df, {"home": 0.02}, level="creator")
    assert (res.units["design_effect"] == 1).all()
    assert res.priors["dispersion_source"].iloc[0].startswith("none")
