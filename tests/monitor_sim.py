"""Simulations with a known truth for the weekly monitor (helpers/monitor.py).

* :func:`stop_loss_sim`: creators whose true profit ROI is known (above or below the
  stop-loss line) post for 12 weeks; the stop-loss is looked at every week
  (:func:`helpers.monitor.stop_loss` returns the whole weekly path, each week using only
  the weeks up to it). Reported: the share of creators above the line that ever alert
  (false alarms over 12 looks), the share of creators clearly below that alert within
  the horizon, and the median delay in weeks.
* :func:`wow_sim`: two weeks with no real change; the share of (rep, metric) changes
  that :func:`helpers.monitor.compare_periods` flags (stated rate alpha).

Run the full version with ``python -m tests.monitor_sim`` (prints the figures); the
tests in ``tests/test_monitor.py`` run fewer replications, and the full ones under
``@pytest.mark.slow``.

The generator: per creator, videos per week ~ Poisson(1.5); impressions per video
log-normal (median ~1,800, heavy right tail: some videos go viral); clicks and orders
binomial with creator-level CTR and CVR drawn from Beta distributions; order values
log-normal (mean ~30); 10 % of orders refunded; commission 15 % of net sales; product
cost 35 %, platform fee 6 % (US). The sample cost per video is set so that the
creator's true profit ROI (expected contribution / expected promotion cost) is exactly
the target.
"""

from __future__ import annotations

import argparse
import datetime as _dt

import numpy as np
import pandas as pd

from helpers import monitor

__all__ = ["simulate", "stop_loss_sim", "wow_sim"]

_MU_LOG_IMP, _SD_LOG_IMP = 7.5, 1.0
_CTR, _CVR, _AOV, _SD_LOG_AOV, _REFUND = 0.02, 0.04, 30.0, 0.5, 0.10
_COMMISSION, _UNIT_COST, _FEE = 0.15, 0.35, 0.06
_START = _dt.date(2026, 1, 5)  # a Monday


def simulate(
    true_roi: np.ndarray, *, weeks: int = 12, videos_per_week: float = 1.5, seed: int = 0
) -> pd.DataFrame:
    """A canonical US frame of ``len(true_roi)`` creators over ``weeks`` weeks.

    Parameters
    ----------
    true_roi : ndarray
        Each creator's true profit ROI, in (0, 3.9) (above 3.9 no sample cost can reach it).
    weeks : int
        Weeks of posting.
    videos_per_week : float
        Mean videos per creator and week (Poisson).
    seed : int
        Seed.
    """
    rng = np.random.default_rng(seed)
    n = len(true_roi)
    ctr = rng.beta(20, 20 / _CTR - 20, n)
    cvr = rng.beta(10, 10 / _CVR - 10, n)
    e_imp = np.exp(_MU_LOG_IMP + _SD_LOG_IMP**2 / 2)
    e_net = e_imp * ctr * cvr * _AOV * (1 - _REFUND)
    e_contrib = e_net * (1 - _UNIT_COST - _FEE)
    sample = np.maximum(e_contrib / np.asarray(true_roi) - _COMMISSION * e_net, 0.0)
    counts = rng.poisson(videos_per_week, (n, weeks))
    creator = np.repeat(np.repeat(np.arange(n), weeks), counts.ravel())
    week = np.repeat(np.tile(np.arange(weeks), n), counts.ravel())
    m = len(creator)
    imp = np.maximum(np.round(rng.lognormal(_MU_LOG_IMP, _SD_LOG_IMP, m)), 1).astype(np.int64)
    clicks = rng.binomial(imp, ctr[creator])
    orders = rng.binomial(clicks, cvr[creator])
    mu = np.log(_AOV) - _SD_LOG_AOV**2 / 2
    order_idx = np.repeat(np.arange(m), orders)
    values = rng.lognormal(mu, _SD_LOG_AOV, len(order_idx))
    refunded = rng.random(len(order_idx)) < _REFUND
    gmv = np.bincount(order_idx, weights=values, minlength=m)
    refunds = np.bincount(order_idx, weights=values * refunded, minlength=m)
    day = rng.integers(0, 7, m)
    dates = pd.to_datetime(_START) + pd.to_timedelta(week * 7 + day, unit="D")
    return pd.DataFrame(
        {
            "site": "US",
            "date": dates,
            "creator_id": [f"c{i:05d}" for i in creator],
            "tier": "micro",
            "category": "beauty",
            "product_id": "p1",
            "commission_rate": _COMMISSION,
            "impressions": imp,
            "clicks": clicks,
            "orders": orders,
            "gmv": gmv,
            "refunds": refunds,
            "sample_cost": sample[creator],
            "flat_fee": 0.0,
        }
    )


def stop_loss_sim(
    n_above: int = 400,
    n_below: int = 200,
    *,
    weeks: int = 12,
    below: float = 0.5,
    above: tuple[float, float] = (1.0, 2.0),
    alpha: float = 0.05,
    seed: int = 0,
) -> dict:
    """False-alarm share (true ROI in ``above``), detection share and median delay (true ROI ``below``).

    Creators at exactly the line (ROI 1.0, the hardest case) are included at the low end
    of ``above``. Delay is counted in weeks from the first week of data to the first
    alert (1 = after the first week).
    """
    rng = np.random.default_rng(seed)
    roi = np.concatenate([rng.uniform(*above, n_above), np.full(n_below, below)])
    df = simulate(roi, weeks=weeks, seed=seed)
    res = monitor.stop_loss(df, line=1.0, alpha=alpha, unit_cost_rate=_UNIT_COST)
    first = res.paths[res.paths["alert"]].groupby("unit")["week"].min()
    idx = np.array([int(u[1:]) for u in first.index], dtype=int)
    delay = ((first - pd.Timestamp(_START)).dt.days // 7 + 1).to_numpy()
    is_below = idx >= n_above
    at_line = roi[idx[~is_below]] < 1.05
    naive = _naive_weekly(res.paths, alpha)
    naive_idx = np.array([int(u[1:]) for u in naive[naive].index], dtype=int)
    return {
        "n_above": n_above,
        "n_below": n_below,
        "weeks": weeks,
        "alpha": alpha,
        "below_roi": below,
        "false_alarm_share": float((~is_below).sum() / n_above),
        "false_alarms_near_line": int(at_line.sum()),
        "detection_share": float(is_below.sum() / n_below),
        "median_delay_weeks": float(np.median(delay[is_below])) if is_below.any() else float("nan"),
        "naive_weekly_test_false_alarm_share": float((naive_idx < n_above).sum() / n_above),
    }


def _naive_weekly(paths: pd.DataFrame, alpha: float) -> pd.Series:
    """What the kit avoids: a one-sided t-test of the mean weekly x at level alpha, every week.

    True per unit when any week from the second on gives p < alpha.
    """
    g = paths.groupby("unit", sort=False)["x"]
    t = paths["t"].to_numpy(float)
    mean = g.cumsum().to_numpy() / t
    sq = (paths["x"] ** 2).groupby(paths["unit"]).cumsum().to_numpy()
    sd = np.sqrt(np.maximum(sq - t * mean**2, 0) / np.maximum(t - 1, 1))
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = mean / (sd / np.sqrt(t))
    crit = stats.t.ppf(alpha, np.maximum(t - 1, 1))
    hit = (t >= 2) & (tstat < crit)
    return pd.Series(hit, index=paths.index).groupby(paths["unit"]).any()


def wow_sim(reps: int = 100, *, n_creators: int = 300, alpha: float = 0.05, seed: int = 0) -> dict:
    """Share of week-over-week changes flagged when nothing changed (per metric and overall)."""
    flags = []
    for r in range(reps):
        rng = np.random.default_rng([seed, r])
        df = simulate(rng.uniform(0.8, 2.0, n_creators), weeks=2, seed=int(rng.integers(2**31)))
        periods = monitor.resolve_periods(df["date"], last="1w")
        cmp = monitor.compare_periods(df, periods, alpha=alpha, unit_cost_rate=_UNIT_COST)
        flags.append(cmp.set_index("metric")["flag"])
    f = pd.DataFrame(flags)
    return {
        "reps": reps,
        "alpha": alpha,
        "n_creators": n_creators,
        "flag_rate": float(f.to_numpy().mean()),
        "per_metric": {k: float(v) for k, v in f.mean().items()},
    }


def main() -> None:  # pragma: no cover - the printed figures are for the closing note
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--creators", type=int, default=2000)
    a = p.parse_args()
    n = a.creators
    print(
        "stop-loss, true ROI exactly at the line 1.0:",
        stop_loss_sim(n, n // 2, above=(1.0, 1.0), below=0.25, seed=1),
    )
    for below, seed in ((0.25, 2), (0.5, 3), (0.75, 4)):
        print(
            f"stop-loss, true ROI U(1, 2) vs {below}:",
            stop_loss_sim(n, n // 2, below=below, seed=seed),
        )
    print("week-over-week, no change:", wow_sim(a.reps, seed=3))


if __name__ == "__main__":  # pragma: no cover
    main()
