"""The scorecard's draw-free ROI summaries (helpers.saddlepoint via
helpers.scorecard._model_summary) against many posterior draws of the same model.

The draws with 4,000 per creator were the scorecard's method; the saddlepoint
replacement must be at least as close to the exact answer (here 100,000 draws) as they
were, on creators from tiny to huge volumes. Coverage on the independent simulator is
checked in tests/test_scorecard_sim.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from helpers.saddlepoint import grid_cdf, grid_partial_exp, grid_quantile, log_sum_grid, trigamma
from helpers.scorecard import _model_draws, _model_summary, _RatePosteriors, _summarise_draws

KW = {"margin": 0.59, "threshold": 1.0, "alpha": 0.05}


def _posteriors(n: int, seed: int) -> tuple[_RatePosteriors, np.ndarray, np.ndarray, np.ndarray]:
    """Creators from 500 to 5M impressions, 0 to 300 orders, weak to strong priors."""
    rng = np.random.default_rng(seed)
    imp = np.exp(rng.uniform(np.log(500), np.log(5e6), n))
    ctr_e = rng.uniform(0.005, 0.05, n)
    ctr_a = 1 + imp * ctr_e * np.exp(rng.uniform(-6, 0, n))
    cvr_e = rng.uniform(0.01, 0.08, n)
    k = rng.choice([0, 1, 3, 20, 300], n).astype(float)
    cvr_a = 1 + k + rng.uniform(0.5, 40, n) * cvr_e
    cvr_b = cvr_a / cvr_e + rng.uniform(0, 1000, n)
    ret_a = rng.uniform(0.05, 50, n)
    ret_b = 1 + ret_a * rng.uniform(2, 15, n)
    mu, var = np.log(rng.uniform(10, 80, n)), rng.uniform(0.001, 0.6, n)
    post = _RatePosteriors(ctr_a, ctr_a / ctr_e, cvr_a, cvr_b, mu, var, ret_a, ret_b)
    theta = ctr_e * cvr_a / (cvr_a + cvr_b) * np.exp(mu) * ret_b / (ret_a + ret_b)
    rate = rng.uniform(0.05, 0.25, n)
    fixed = theta * imp * rng.uniform(0.05, 0.9, n) * rng.choice([0, 1, 1, 1], n)
    return post, imp, rate, fixed


def test_trigamma_matches_scipy() -> None:
    x = np.concatenate([np.geomspace(1e-3, 1e7, 500), [0.5, 1.0, 5.999, 6.0]])
    assert np.allclose(trigamma(x), special.polygamma(1, x), rtol=1e-8, atol=0)


def test_grid_on_a_single_beta_matches_the_exact_distribution() -> None:
    a = np.array([[2.5], [40.0], [1.0]])
    b = np.array([[300.0], [9000.0], [5.0]])
    ell, cdf = log_sum_grid(a, b, np.zeros(3), np.zeros(3))
    for p in (0.025, 0.5, 0.975):
        exact = np.log(stats.beta.ppf(p, a[:, 0], b[:, 0]))
        # within 0.015 on the log scale: under the sd of the median of 4,000 draws (0.024)
        assert np.allclose(grid_quantile(ell, cdf, p), exact, atol=0.015)
    x = np.log(stats.beta.ppf(0.3, a[:, 0], b[:, 0]))
    assert np.allclose(grid_cdf(ell, cdf, x), 0.3, atol=0.004)
    # E[max(0, e^x - X)] by quadrature of the exact beta
    for i in range(3):
        dist, cut = stats.beta(a[i, 0], b[i, 0]), float(np.exp(x[i]))
        exact = dist.expect(lambda t, c=cut: c - t, ub=cut)
        got = grid_partial_exp(ell[i : i + 1], cdf[i : i + 1], x[i : i + 1])[0]
        assert got == pytest.approx(exact, rel=0.02)


def test_summaries_beat_4000_draws() -> None:
    post, imp, rate, fixed = _posteriors(80, seed=3)
    sp = _model_summary(post, imp, rate, fixed, n_draws=4000, rng=np.random.default_rng(0), **KW)
    exact = _summarise_draws(
        _model_draws(
            post, imp, rate, fixed, n_draws=100_000, rng=np.random.default_rng(1), chunk=25
        ),
        len(imp),
        **KW,
    )
    mc = _summarise_draws(
        _model_draws(post, imp, rate, fixed, n_draws=4000, rng=np.random.default_rng(2)),
        len(imp),
        **KW,
    )
    scale = fixed + rate * np.exp(post.log_aov_mean) * imp * 0.01  # money of the order of cost
    for col in ("low", "median", "high"):
        e_sp = np.abs(np.log(sp[col] / exact[col]))
        e_mc = np.abs(np.log(mc[col] / exact[col]))
        assert e_sp.median() < e_mc.median(), col
        assert e_sp.max() < 0.1, (col, e_sp.max())
    e_sp, e_mc = (sp["p_loss"] - exact["p_loss"]).abs(), (mc["p_loss"] - exact["p_loss"]).abs()
    assert e_sp.median() < e_mc.median() and e_sp.max() < 0.01
    for col in ("loss_if_kept", "forgone_if_dropped"):
        e_sp = (sp[col] - exact[col]).abs() / scale
        e_mc = (mc[col] - exact[col]).abs() / scale
        assert e_sp.median() < e_mc.median(), col


def test_skewed_creators_keep_the_draws() -> None:
    """Under one effective order: the draws, reproducible from the generator."""
    post, imp, rate, fixed = _posteriors(20, seed=4)
    post.cvr_a[:5] = 0.3
    a = _model_summary(post, imp, rate, fixed, n_draws=4000, rng=np.random.default_rng(9), **KW)
    b = _model_summary(post, imp, rate, fixed, n_draws=4000, rng=np.random.default_rng(10), **KW)
    assert not np.allclose(a["low"][:5], b["low"][:5])  # drawn
    assert np.array_equal(a["low"][5:], b["low"][5:])  # deterministic
