"""An independent simulator of affiliate conversion data with a known population-averaged
truth (not helpers.synth): few creators per tier, heavy-tailed clicks, creator effects.

Each creator has a tier (a fixed number of creators per tier, some tiers resting on
6-12 creators), a total of clicks drawn from a heavy-tailed law (lognormal or Pareto,
larger on average for higher tiers), a random effect ``u ~ N(0, sigma)`` on the logit
scale, and a handful of videos; each video promotes a product of a random category at a
random commission and receives a share of the creator's clicks. Orders are binomial
with ``logit p = x' beta + u``.

The truth is what the marginal (population-averaged) GLM ``logit E[y / n | x] = x' b``
estimates with clicks as weights: ``b*`` solves the population score equation
``sum_p w_p x_p (m(x_p' beta) - expit(x_p' b)) = 0`` with ``m(eta) = E_u expit(eta + u)``
(Gauss-Hermite, 80 nodes) and ``w_p`` the expected click share of pattern ``p`` (tier
share of clicks times uniform category and commission shares). Clicks, covariates and
creator effects are independent, so this is the large-sample limit of the fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit

__all__ = ["Scenario", "simulate", "true_coefficients", "true_cvr"]

TIERS = ("nano", "micro", "mid", "macro", "mega")
CATEGORIES = ("beauty", "fashion", "home", "toys")
COMMISSIONS = (0.05, 0.10, 0.15, 0.20)


@dataclass(frozen=True)
class Scenario:
    """Parameters of one simulated world (defaults: the hard case of issue 11)."""

    creators_per_tier: tuple[int, ...] = (62, 45, 25, 12, 6)  # 150 creators
    # conditional (creator-specific) log-odds: intercept, tiers, categories, commission
    intercept: float = -3.4
    tier_effects: tuple[float, ...] = (0.0, 0.15, 0.3, 0.4, 0.55)
    category_effects: tuple[float, ...] = (0.0, -0.3, 0.2, 0.35)
    commission_slope: float = 3.0
    creator_sd: float = 0.6
    traffic: str = "lognormal"  # or "pareto"
    log_clicks_mean: float = 6.0  # lognormal: median clicks of a nano creator exp(6) = 403
    log_clicks_sd: float = 1.5
    pareto_shape: float = 1.3  # pareto: tail index (infinite variance below 2)
    tier_clicks_factor: tuple[float, ...] = (1.0, 1.5, 2.5, 4.0, 6.0)
    mean_videos: float = 8.0
    name: str = field(default="", compare=False)

    def mean_clicks(self) -> np.ndarray:
        """Expected clicks of one creator of each tier."""
        f = np.asarray(self.tier_clicks_factor)
        if self.traffic == "lognormal":
            return f * np.exp(self.log_clicks_mean + self.log_clicks_sd**2 / 2)
        a = self.pareto_shape
        return f * np.exp(self.log_clicks_mean) * a / (a - 1)

    @cached_property
    def truth(self) -> pd.Series:
        return true_coefficients(self)


def _linear_predictor(s: Scenario, tier: np.ndarray, cat: np.ndarray, comm: np.ndarray):
    return (
        s.intercept
        + np.asarray(s.tier_effects)[tier]
        + np.asarray(s.category_effects)[cat]
        + s.commission_slope * comm
    )


def _marginal_mean(eta: np.ndarray, sd: float) -> np.ndarray:
    """``E expit(eta + u)``, ``u ~ N(0, sd)``, by 80-node Gauss-Hermite."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    return expit(eta[:, None] + sd * z[None, :]) @ w


def _population_patterns(s: Scenario) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product(
        [range(len(TIERS)), range(len(CATEGORIES)), COMMISSIONS],
        names=["t", "c", "commission_rate"],
    )
    pat = idx.to_frame(index=False)
    share = np.asarray(s.creators_per_tier) * s.mean_clicks()
    pat["weight"] = share[pat["t"]] / share.sum() / (len(CATEGORIES) * len(COMMISSIONS))
    eta = _linear_predictor(s, pat["t"].to_numpy(), pat["c"].to_numpy(), pat["commission_rate"])
    pat["m"] = _marginal_mean(np.asarray(eta, dtype=float), s.creator_sd)
    pat["tier"] = pd.Categorical(np.asarray(TIERS)[pat["t"]], categories=TIERS, ordered=True)
    pat["category"] = pd.Categorical(np.asarray(CATEGORIES)[pat["c"]], categories=CATEGORIES)
    return pat


def true_coefficients(s: Scenario) -> pd.Series:
    """Population-averaged coefficients of ``C(tier) + C(category) + commission_rate``
    (the GLM's large-sample target), named as :func:`helpers.conversion.fit_conversion`
    names them."""
    pat = _population_patterns(s)
    X = pd.get_dummies(pat[["tier", "category"]], drop_first=True, dtype=float)
    X.insert(0, "Intercept", 1.0)
    X["commission_rate"] = pat["commission_rate"]
    # fractional response m with weights w: the score equation above
    res = sm.GLM(
        pat["m"].to_numpy(), X.to_numpy(), family=sm.families.Binomial(), var_weights=pat["weight"]
    ).fit(tol=1e-14, tol_criterion="params", maxiter=200)
    names = (
        ["Intercept"]
        + [f"C(tier)[T.{t}]" for t in TIERS[1:]]
        + [f"C(category)[T.{c}]" for c in CATEGORIES[1:]]
        + ["commission_rate"]
    )
    return pd.Series(np.asarray(res.params), index=names)


def true_cvr(s: Scenario, grid: pd.DataFrame) -> np.ndarray:
    """The GLM's target CVR ``expit(x' b*)`` at rows of ``grid`` (tier, category,
    commission_rate)."""
    b = s.truth
    t = grid["tier"].map({k: i for i, k in enumerate(TIERS)}).to_numpy(dtype=int)
    c = grid["category"].map({k: i for i, k in enumerate(CATEGORIES)}).to_numpy(dtype=int)
    tier_b = np.concatenate([[0.0], b[[f"C(tier)[T.{x}]" for x in TIERS[1:]]].to_numpy()])
    cat_b = np.concatenate([[0.0], b[[f"C(category)[T.{x}]" for x in CATEGORIES[1:]]].to_numpy()])
    eta = b["Intercept"] + tier_b[t] + cat_b[c] + b["commission_rate"] * grid["commission_rate"]
    return expit(np.asarray(eta, dtype=float))


def simulate(s: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """One export: one row per video (creator_id, tier, category, commission_rate,
    clicks, orders)."""
    tier = np.repeat(np.arange(len(TIERS)), s.creators_per_tier)
    G = tier.size
    factor = np.asarray(s.tier_clicks_factor)[tier]
    if s.traffic == "lognormal":
        total = factor * rng.lognormal(s.log_clicks_mean, s.log_clicks_sd, size=G)
    elif s.traffic == "pareto":
        total = factor * np.exp(s.log_clicks_mean) * (1.0 + rng.pareto(s.pareto_shape, size=G))
    else:
        raise ValueError(f"traffic must be 'lognormal' or 'pareto'; got {s.traffic!r}")
    total = np.maximum(np.round(total), 1).astype(np.int64)
    u = rng.normal(0.0, s.creator_sd, size=G)
    n_videos = 1 + rng.poisson(s.mean_videos - 1, size=G)
    creator = np.repeat(np.arange(G), n_videos)
    # each creator's clicks split over its videos (Dirichlet shares, multinomial counts)
    clicks = np.empty(creator.size, dtype=np.int64)
    start = 0
    for g in range(G):
        k = n_videos[g]
        clicks[start : start + k] = rng.multinomial(total[g], rng.dirichlet(np.ones(k)))
        start += k
    cat = rng.integers(0, len(CATEGORIES), size=creator.size)
    comm = np.asarray(COMMISSIONS)[rng.integers(0, len(COMMISSIONS), size=creator.size)]
    eta = _linear_predictor(s, tier[creator], cat, comm) + u[creator]
    orders = rng.binomial(clicks, expit(eta))
    return pd.DataFrame(
        {
            "creator_id": pd.array([f"c{g:03d}" for g in creator], dtype="string"),
            "tier": pd.Categorical(
                np.asarray(TIERS)[tier[creator]], categories=TIERS, ordered=True
            ),
            "category": pd.Categorical(np.asarray(CATEGORIES)[cat], categories=CATEGORIES),
            "commission_rate": comm,
            "clicks": clicks,
            "orders": orders,
        }
    )


def coverage(
    s: Scenario, reps: int, *, seed: int = 0, alpha: float = 0.05, cov_types=("auto", "CR1")
) -> dict[str, pd.DataFrame]:
    """Coverage of the fit's intervals over ``reps`` simulated exports.

    Returns ``{"coef": ..., "cvr": ...}``: per coefficient (and per tier x category
    predicted CVR at 10 % commission) the share of replications whose interval covers
    the truth, one column per ``cov_type``; plus ``"df"``, the median df per coefficient,
    and ``"tau2"``, the estimated creator-effect variances of the working model (with
    CR2 as the first ``cov_type``).
    """
    import warnings

    from helpers.conversion import ConversionWarning, fit_conversion

    grid = pd.MultiIndex.from_product(
        [TIERS, CATEGORIES, [0.10]], names=["tier", "category", "commission_rate"]
    ).to_frame(index=False)
    grid["tier"] = pd.Categorical(grid["tier"], categories=TIERS, ordered=True)
    grid["category"] = pd.Categorical(grid["category"], categories=CATEGORIES)
    truth, cvr_truth = s.truth, true_cvr(s, grid)
    hits = {c: [] for c in cov_types}
    hits_cvr = {c: [] for c in cov_types}
    dfs, tau2 = [], []
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        df = simulate(s, rng)
        for ct in cov_types:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConversionWarning)
                fit = fit_conversion(df, cov_type=ct)
            ci = fit.conf_int(alpha).loc[truth.index]
            hits[ct].append(((ci["lower"] <= truth) & (truth <= ci["upper"])).to_numpy())
            pi = fit.predict_interval(grid, alpha=alpha)
            hits_cvr[ct].append(
                ((pi["lower"] <= cvr_truth) & (cvr_truth <= pi["upper"])).to_numpy()
            )
            if ct == cov_types[0] and fit.df_params is not None:
                dfs.append(fit.df_params.loc[truth.index].to_numpy())
            if ct == cov_types[0] and fit.info()["cluster_effect_var"] is not None:
                tau2.append(fit.info()["cluster_effect_var"])
    coef = pd.DataFrame({c: np.mean(h, axis=0) for c, h in hits.items()}, index=truth.index)
    labels = [f"{t}/{c}" for t, c in zip(grid["tier"], grid["category"], strict=True)]
    cvr = pd.DataFrame({c: np.mean(h, axis=0) for c, h in hits_cvr.items()}, index=labels)
    out = {"coef": coef, "cvr": cvr}
    if dfs:
        out["df"] = pd.Series(np.median(dfs, axis=0), index=truth.index, name="median_df")
    if tau2:
        out["tau2"] = np.asarray(tau2)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the coverage tables: ``python -m tests.sim.conversion_sim --reps 1000``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--traffic", choices=["lognormal", "pareto"], default="lognormal")
    args = parser.parse_args(argv)
    s = Scenario(traffic=args.traffic)
    res = coverage(s, args.reps, seed=args.seed)
    pd.set_option("display.width", 160)
    print(f"scenario: {s}\nreps: {args.reps}, seed {args.seed}")
    print("truth (population-averaged):\n", s.truth.round(4))
    print("coverage of 95 % intervals, coefficients:\n", res["coef"].round(3))
    if "df" in res:
        print("median df of the t reference (95 %):\n", res["df"].round(1))
    if "tau2" in res:
        q = np.quantile(res["tau2"], [0.1, 0.5, 0.9]).round(3)
        print(f"creator-effect variance of the working model: median {q[1]}, 10-90 % {q[0]}-{q[2]}")
    print("predicted CVR (tier/category at 10 %):\n", res["cvr"].round(3))
    print("means:\n", res["coef"].mean().round(3), "\n", res["cvr"].mean().round(3))


if __name__ == "__main__":
    main()
