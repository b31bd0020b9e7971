"""An independent simulator of creator content with a known profit ROI per creator, for
checking :func:`helpers.scorecard.build_scorecard` (it shares nothing with
:mod:`helpers.synth`).

What it draws, for one site
---------------------------
creators
    a tier (nano ... mega: more impressions per video, slightly lower CTR and CVR), a
    main category (its base CTR, CVR, price, return rate and commission rates), and
    true effects on CTR and CVR (logit scale), on the price level of the products they
    promote (log scale) and on the return rate (logit scale).
pieces of content
    ``n_content`` per creator; impressions are heavy-tailed (lognormal, log-sd 1.4:
    one video often carries half a creator's impressions); each video has its own
    CTR and CVR multiplier (mean 1, so the creator's true rates are the averages), one
    product with one price shared by all of its orders, and one commission rate. A
    fifth of the videos are split over two rows (two days) with the same content_id.
orders and refunds
    clicks ~ Binomial(impressions, CTR), orders ~ Binomial(clicks, CVR), refunded
    orders ~ Binomial(orders, return rate); GMV = orders x price, refunds = refunded
    orders x price.
fixed costs
    samples and a flat fee, booked once on the creator's first row, sized as a random
    multiple of the creator's expected net sales so that true profit ROIs spread on
    both sides of break-even.

The truth
---------
A creator's true profit ROI is the ratio of expectations given the impressions they
got: ``margin x E[net] / (E[commission] + fixed)``, with ``E[net] = theta x impressions``
and ``theta = CTR x CVR x mean price x (1 - return rate)`` (the creator's true rates and
the mean price of the products they promote, averaged over video effects), and
``E[commission] = theta x sum(rate x impressions)``: what the creator is worth on this
much exposure, with the luck of the draw (hit videos, pricey products, refunds) taken
out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["CATEGORIES", "TIERS", "SimData", "score_against_truth", "simulate_site", "summarise"]

# base CTR, base CVR, median price, log-sd of video prices, return rate, commission rates
CATEGORIES: dict[str, tuple[float, float, float, float, float, tuple[float, ...]]] = {
    "beauty": (0.025, 0.050, 25.0, 0.35, 0.18, (0.10, 0.15, 0.20)),
    "fashion": (0.020, 0.035, 35.0, 0.40, 0.20, (0.10, 0.14, 0.18)),
    "home": (0.015, 0.040, 40.0, 0.35, 0.12, (0.08, 0.12, 0.15)),
    "electronics": (0.012, 0.025, 80.0, 0.45, 0.08, (0.05, 0.07, 0.10)),
    "health": (0.018, 0.045, 30.0, 0.30, 0.07, (0.12, 0.17, 0.22)),
}
# share of creators, logit CTR effect, logit CVR effect, median impressions per video
TIERS: dict[str, tuple[float, float, float, float]] = {
    "nano": (0.35, 0.20, 0.10, 1_500.0),
    "micro": (0.30, 0.10, 0.05, 6_000.0),
    "mid": (0.20, 0.00, 0.00, 20_000.0),
    "macro": (0.10, -0.10, -0.05, 60_000.0),
    "mega": (0.05, -0.20, -0.10, 200_000.0),
}


@dataclass
class SimData:
    """One simulated site: ``data`` (canonical rows with ``content_id``) and ``truth``
    (one row per creator: true rates, ``theta``, expected net sales, commission,
    fixed costs and ``true_profit_roi``)."""

    data: pd.DataFrame
    truth: pd.DataFrame


def simulate_site(
    n_content: np.ndarray | list[int],
    *,
    seed: int = 0,
    site: str = "US",
    unit_cost_rate: float = 0.35,
    platform_fee_rate: float = 0.06,
    creator_sd: float = 0.4,
    video_sd: float = 0.3,
    price_creator_sd: float = 0.2,
    impressions_log_sd: float = 1.4,
    fee_log_median: float = -0.8,
    fee_log_sd: float = 0.9,
    tier_dtype: str = "category",
) -> SimData:
    """Simulate one site with one creator per entry of ``n_content``.

    Parameters
    ----------
    n_content : sequence of int
        Pieces of content of each creator (>= 1).
    seed : int
    site : str
    unit_cost_rate, platform_fee_rate : float
        The cost rates the truth's margin uses (the scorecard must be given the same).
    creator_sd : float
        Logit-scale sd of creator effects on CTR and CVR (log scale for the return rate).
    video_sd : float
        Log-sd of each video's CTR and CVR multipliers (mean 1).
    price_creator_sd : float
        Log-sd of the creators' price levels (their products' mean price vs the category).
    impressions_log_sd : float
        Log-sd of impressions per video (heavy tail).
    fee_log_median, fee_log_sd : float
        Fixed costs = expected net sales x exp(N(fee_log_median, fee_log_sd)).
    tier_dtype : {"category", "string"}
        Tier as an ordered categorical (canonical) or as plain text.

    Returns
    -------
    SimData
    """
    rng = np.random.default_rng(seed)
    sizes = np.asarray(n_content, dtype=np.int64)
    n_cr = len(sizes)
    cats = list(CATEGORIES)
    tiers = list(TIERS)
    t_idx = rng.choice(len(tiers), size=n_cr, p=[TIERS[t][0] for t in tiers])
    c_idx = rng.integers(0, len(cats), size=n_cr)
    cat_par = [CATEGORIES[cats[i]] for i in c_idx]
    tier_par = [TIERS[tiers[i]] for i in t_idx]
    base_ctr = np.array([p[0] for p in cat_par])
    base_cvr = np.array([p[1] for p in cat_par])
    price_med = np.array([p[2] for p in cat_par])
    price_sd = np.array([p[3] for p in cat_par])
    ret = np.array([p[4] for p in cat_par])
    ctr = special.expit(
        special.logit(base_ctr) + [p[1] for p in tier_par] + rng.normal(0, creator_sd, n_cr)
    )
    cvr = special.expit(
        special.logit(base_cvr) + [p[2] for p in tier_par] + rng.normal(0, creator_sd, n_cr)
    )
    # Mean price of the creator's products; each video's price is lognormal around it.
    price_mean = price_med * np.exp(rng.normal(0, price_creator_sd, n_cr))
    return_rate = special.expit(special.logit(ret) + rng.normal(0, creator_sd, n_cr))

    cr = np.repeat(np.arange(n_cr), sizes)
    n_v = len(cr)
    imp_med = np.array([p[3] for p in tier_par])[cr]
    imps = np.maximum(1, np.round(imp_med * rng.lognormal(0, impressions_log_sd, n_v))).astype(
        np.int64
    )
    mult = np.exp(rng.normal(0, video_sd, (2, n_v)) - video_sd**2 / 2)
    ctr_v = np.minimum(ctr[cr] * mult[0], 0.95)
    cvr_v = np.minimum(cvr[cr] * mult[1], 0.95)
    sd_v = price_sd[cr]
    price_v = np.round(price_mean[cr] * np.exp(rng.normal(0, sd_v) - sd_v**2 / 2), 2)
    rate_v = np.array([rng.choice(cat_par[c][5]) for c in cr])
    clicks = rng.binomial(imps, ctr_v)
    orders = rng.binomial(clicks, cvr_v)
    refunded = rng.binomial(orders, return_rate[cr])

    theta = ctr * cvr * price_mean * (1 - return_rate)
    tot_imps = np.bincount(cr, weights=imps, minlength=n_cr)
    rate_imps = np.bincount(cr, weights=rate_v * imps, minlength=n_cr)
    e_net = theta * tot_imps
    e_comm = theta * rate_imps
    margin = 1 - unit_cost_rate - platform_fee_rate
    fixed = np.round(e_net * np.exp(rng.normal(fee_log_median, fee_log_sd, n_cr)), 2)
    sample_share = rng.uniform(0.1, 0.6, n_cr)

    ids = np.array([f"{site}-cr{i:04d}" for i in range(n_cr)])
    videos = pd.DataFrame(
        {
            "creator": cr,
            "content_id": [f"{site}-v{j:06d}" for j in range(n_v)],
            "impressions": imps,
            "clicks": clicks,
            "orders": orders,
            "refunded": refunded,
            "price": price_v,
            "commission_rate": rate_v,
        }
    )
    rows = _split_days(videos, rng)
    first = ~rows["creator"].duplicated()
    f = fixed[rows["creator"].to_numpy()]
    s = sample_share[rows["creator"].to_numpy()]
    tier_labels = np.array(tiers)[t_idx][rows["creator"].to_numpy()]
    data = pd.DataFrame(
        {
            "site": pd.Categorical([site] * len(rows)),
            "creator_id": pd.array(ids[rows["creator"].to_numpy()], dtype="string"),
            "content_id": pd.array(rows["content_id"].to_numpy(), dtype="string"),
            "tier": (
                pd.Categorical(tier_labels, categories=tiers, ordered=True)
                if tier_dtype == "category"
                else pd.array(tier_labels, dtype="string")
            ),
            "category": pd.Categorical(np.array(cats)[c_idx][rows["creator"].to_numpy()]),
            "commission_rate": rows["commission_rate"].to_numpy(),
            "impressions": rows["impressions"].to_numpy(),
            "clicks": rows["clicks"].to_numpy(),
            "orders": rows["orders"].to_numpy(),
            "gmv": np.round(rows["orders"].to_numpy() * rows["price"].to_numpy(), 2),
            "refunds": np.round(rows["refunded"].to_numpy() * rows["price"].to_numpy(), 2),
            "sample_cost": np.where(first, np.round(f * s, 2), 0.0),
            "flat_fee": np.where(first, np.round(f * (1 - s), 2), 0.0),
        }
    )
    truth = pd.DataFrame(
        {
            "site": site,
            "creator_id": ids,
            "tier": np.array(tiers)[t_idx],
            "category": np.array(cats)[c_idx],
            "n_content": sizes,
            "true_ctr": ctr,
            "true_cvr": cvr,
            "true_price": price_mean,
            "true_return_rate": return_rate,
            "theta": theta,
            "impressions": tot_imps,
            "expected_net": e_net,
            "expected_commission": e_comm,
            "fixed_cost": fixed,
            "true_profit": margin * e_net - e_comm - fixed,
            "true_profit_roi": margin * e_net / (e_comm + fixed),
        }
    )
    return SimData(data=data, truth=truth)


def _split_days(videos: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Split a fifth of the videos over two rows (two days) with the same content_id:
    impressions binomially, then clicks, orders and refunded orders hypergeometrically
    (each day's counts stay nested); price and commission rate are shared."""
    split = rng.random(len(videos)) < 0.2
    a = videos.copy()
    b = videos[split].copy()
    day1 = {"impressions": rng.binomial(b["impressions"].to_numpy(), rng.uniform(0.3, 0.9, len(b)))}
    chain = ("impressions", "clicks", "orders", "refunded")
    for parent, col in zip(chain[:-1], chain[1:], strict=True):
        good = b[col].to_numpy()
        bad = b[parent].to_numpy() - good
        day1[col] = rng.hypergeometric(good, bad, day1[parent]) if len(b) else good
    for col in chain:
        a.loc[split, col] = day1[col]
        b[col] = b[col].to_numpy() - day1[col]
    out = pd.concat([a, b]).sort_values(["creator", "content_id"], kind="stable")
    return out.reset_index(drop=True)


def score_against_truth(card: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Join a scorecard to the truth: per creator, whether the profit-ROI interval
    covers the true profit ROI, whether it misses high or low, and whether the
    recommendation is wrong (a drop of a creator who truly makes money, a keep of one
    who truly loses it)."""
    t = truth.set_index(["site", "creator_id"])
    c = card.assign(site=card["site"].astype(str)).set_index(["site", "creator_id"])
    true = t[["n_content", "true_profit_roi", "true_profit"]].rename(
        columns={"n_content": "n_content_true"}
    )
    j = c.join(true, how="inner")
    roi = j["true_profit_roi"]
    has = j["profit_roi_low"].notna() & j["profit_roi_high"].notna()
    rec = j["recommendation"].astype(str)
    return pd.DataFrame(
        {
            "n_content": j["n_content_true"],
            "has_interval": has,
            "covered": has & (j["profit_roi_low"] <= roi) & (roi <= j["profit_roi_high"]),
            "truth_above": has & (roi > j["profit_roi_high"]),
            "truth_below": has & (roi < j["profit_roi_low"]),
            "recommendation": rec,
            "wrong_drop": (rec == "drop") & (roi > 1),
            "wrong_keep": (rec == "keep") & (roi < 1),
            "true_profit": j["true_profit"],
        },
        index=j.index,
    )


def summarise(scored: pd.DataFrame) -> dict[str, float]:
    """Coverage per content size, and the wrong-drop / wrong-keep shares."""
    out: dict[str, float] = {}
    s = scored[scored["has_interval"]]
    for n, g in s.groupby("n_content"):
        out[f"coverage_{n}"] = float(g["covered"].mean())
        out[f"above_{n}"] = float(g["truth_above"].mean())
        out[f"below_{n}"] = float(g["truth_below"].mean())
        out[f"creators_{n}"] = len(g)
    drops = scored["recommendation"] == "drop"
    keeps = scored["recommendation"] == "keep"
    out["drops"] = int(drops.sum())
    out["keeps"] = int(keeps.sum())
    out["wrong_drop_share"] = float(scored.loc[drops, "wrong_drop"].mean()) if drops.any() else 0.0
    out["wrong_keep_share"] = float(scored.loc[keeps, "wrong_keep"].mean()) if keeps.any() else 0.0
    return out
