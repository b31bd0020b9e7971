"""An independent simulator of affiliate campaigns for the ROI calibration study.

Not :mod:`helpers.synth`: a separate, small generating model written for
``tests/test_roi_calibration.py``, with the structure the ROI forecast must handle:

- creators with a tier, a CTR effect and a CVR effect (logit scale, normal), a reach
  effect (log impressions), a price effect (a creator's audience buys dearer or
  cheaper variants, gets other vouchers) and a refund effect (logit);
- products per category with a list price (log-normal spread between products, 0 for
  "every product alike") and a return rate (logit-normal spread);
- content rows: one video of one creator promoting one product; impressions
  log-normal, clicks and orders binomial;
- one price per video (video effect on top of product and creator): every order of a
  video is sold at that price; an order buys ``1 + Poisson(0.25)`` items;
- refunds: each order refunded with the video's probability (product x creator x
  video, logit scale), the whole order's value refunded.

:func:`make_history` draws the history a seller would have; :func:`realise` draws
outcomes of a planned campaign from the same truth (new creators of the planned tier,
the planned product, or a random product of the category when none is named).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = ["World", "make_history", "make_world", "realise"]

TIERS = ("nano", "micro", "mid")
TIER_SHARE = np.array([0.5, 0.3, 0.2])
TIER_LOG_IMP = {"nano": np.log(300.0), "micro": np.log(1500.0), "mid": np.log(6000.0)}
TIER_CTR = {"nano": 0.0, "micro": 0.15, "mid": 0.3}
TIER_CVR = {"nano": 0.0, "micro": 0.1, "mid": 0.2}
CATEGORIES = {  # ctr effect, cvr effect, median price, return rate
    "beauty": (0.0, 0.0, 25.0, 0.18),
    "home": (-0.2, -0.3, 40.0, 0.12),
    "health": (0.1, 0.2, 30.0, 0.08),
}


@dataclass
class World:
    """The truth: creators, products and the generating spreads."""

    creators: pd.DataFrame
    products: pd.DataFrame
    spreads: dict[str, float]


def make_world(
    rng: np.random.Generator,
    *,
    n_creators: int = 600,
    products_per_category: int = 8,
    product_price_sd: float = 0.35,
    creator_price_sd: float = 0.25,
    video_price_sd: float = 0.20,
    product_return_sd: float = 0.4,
    creator_return_sd: float = 0.3,
    video_return_sd: float = 0.2,
    creator_ctr_sd: float = 0.4,
    creator_cvr_sd: float = 0.4,
    creator_reach_sd: float = 0.5,
    piece_reach_sd: float = 1.0,
) -> World:
    """Draw a truth. ``product_price_sd = 0`` makes every product of a category alike."""
    spreads = {
        "creator_price_sd": creator_price_sd,
        "video_price_sd": video_price_sd,
        "creator_return_sd": creator_return_sd,
        "video_return_sd": video_return_sd,
        "creator_ctr_sd": creator_ctr_sd,
        "creator_cvr_sd": creator_cvr_sd,
        "creator_reach_sd": creator_reach_sd,
        "piece_reach_sd": piece_reach_sd,
        "product_price_sd": product_price_sd,
        "product_return_sd": product_return_sd,
    }
    rows = []
    for cat, (_, _, price, rr) in CATEGORIES.items():
        for i in range(products_per_category):
            rows.append(
                {
                    "product_id": f"{cat[:2]}{i:02d}",
                    "category": cat,
                    "price": price * np.exp(rng.normal(0.0, product_price_sd)),
                    "return_rate": float(expit(logit(rr) + rng.normal(0.0, product_return_sd))),
                    "commission_rate": float(rng.choice([0.10, 0.12, 0.15, 0.18, 0.20])),
                }
            )
    products = pd.DataFrame(rows)
    creators = pd.DataFrame(
        {
            "creator_id": [f"c{i:04d}" for i in range(n_creators)],
            "tier": rng.choice(TIERS, size=n_creators, p=TIER_SHARE),
        }
    )
    creators = creators.assign(**_creator_effects(rng, n_creators, spreads))
    return World(creators=creators, products=products, spreads=spreads)


def _creator_effects(
    rng: np.random.Generator, n: int, s: dict[str, float]
) -> dict[str, np.ndarray]:
    return {
        "ctr_eff": rng.normal(0.0, s["creator_ctr_sd"], n),
        "cvr_eff": rng.normal(0.0, s["creator_cvr_sd"], n),
        "reach_eff": rng.normal(0.0, s["creator_reach_sd"], n),
        "price_eff": rng.normal(0.0, s["creator_price_sd"], n),
        "return_eff": rng.normal(0.0, s["creator_return_sd"], n),
    }


def _pieces(
    rng: np.random.Generator,
    world: World,
    tier: np.ndarray,
    creator: pd.DataFrame,
    product: pd.DataFrame,
    posted: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Outcomes of pieces; ``creator`` and ``product`` hold one row per piece."""
    s = world.spreads
    n = len(tier)
    cats = product["category"].to_numpy()
    ctr_cat = np.array([CATEGORIES[c][0] for c in cats])
    cvr_cat = np.array([CATEGORIES[c][1] for c in cats])
    log_imp = np.array([TIER_LOG_IMP[t] for t in tier]) + creator["reach_eff"].to_numpy()
    imp = 1 + np.floor(rng.lognormal(log_imp, s["piece_reach_sd"])).astype(np.int64)
    if posted is not None:
        imp = np.where(posted, imp, 0)
    p_ctr = expit(-3.3 + ctr_cat + np.array([TIER_CTR[t] for t in tier]) + creator["ctr_eff"])
    rate = product["commission_rate"].to_numpy()
    p_cvr = expit(
        -3.0 + cvr_cat + np.array([TIER_CVR[t] for t in tier]) + 2.0 * rate + creator["cvr_eff"]
    )
    clicks = rng.binomial(imp, np.asarray(p_ctr))
    orders = rng.binomial(clicks, np.asarray(p_cvr))
    # one price per video: product list price x creator x video
    price = (
        product["price"].to_numpy()
        * np.exp(creator["price_eff"].to_numpy())
        * np.exp(rng.normal(0.0, s["video_price_sd"], n))
    )
    p_ref = expit(
        logit(product["return_rate"].to_numpy())
        + creator["return_eff"].to_numpy()
        + rng.normal(0.0, s["video_return_sd"], n)
    )
    refunded = rng.binomial(orders, p_ref)
    items_ref = refunded + rng.poisson(0.25 * refunded)
    items_kept = (orders - refunded) + rng.poisson(0.25 * (orders - refunded))
    gmv = np.round(price * (items_ref + items_kept), 2)
    refunds = np.round(price * items_ref, 2)
    return {
        "impressions": imp,
        "clicks": clicks,
        "orders": orders,
        "gmv": gmv,
        "refunds": np.minimum(refunds, gmv),
        "commission_rate": rate,
    }


def make_history(
    rng: np.random.Generator, world: World, *, mean_rows: float = 14.0, site: str = "US"
) -> pd.DataFrame:
    """The seller's history: each creator promotes 1-3 products with a few videos each."""
    cr, pr = world.creators, world.products
    reps = 1 + rng.poisson(mean_rows - 1, len(cr))
    c_idx = np.repeat(np.arange(len(cr)), reps)
    # a creator's products: up to three, drawn once; each video picks one of them
    own = rng.integers(0, len(pr), size=(len(cr), 3))
    n_own = rng.integers(1, 4, len(cr))
    pick = own[c_idx, np.floor(rng.random(c_idx.size) * n_own[c_idx]).astype(int)]
    creator = cr.iloc[c_idx].reset_index(drop=True)
    product = pr.iloc[pick].reset_index(drop=True)
    out = _pieces(rng, world, creator["tier"].to_numpy(), creator, product)
    return pd.DataFrame(
        {
            "site": site,
            "creator_id": creator["creator_id"].to_numpy(),
            "tier": creator["tier"].to_numpy(),
            "category": product["category"].to_numpy(),
            "product_id": product["product_id"].to_numpy(),
            **out,
        }
    )


def realise(
    rng: np.random.Generator,
    world: World,
    *,
    tier: str,
    n_creators: int,
    pieces: int,
    category: str,
    product_id: str | None,
    post_rate: float,
    n_sims: int,
) -> pd.DataFrame:
    """``n_sims`` independent runs of a campaign: new creators of ``tier``, each posting
    with ``post_rate`` and making ``pieces`` videos of the product (the named one, else a
    random product of the category per run). Returns GMV, refunds, net GMV, creators who
    posted and the product sold, one row per run (and impressions, clicks, orders)."""
    pr = world.products
    if product_id is None:
        cands = np.flatnonzero(pr["category"].to_numpy() == category)
        prod_idx = rng.choice(cands, size=n_sims)
    else:
        prod_idx = np.full(n_sims, int(np.flatnonzero(pr["product_id"] == product_id)[0]))
    n_cr = n_sims * n_creators
    creators = pd.DataFrame(_creator_effects(rng, n_cr, world.spreads))
    posted = rng.random(n_cr) < post_rate
    c_idx = np.repeat(np.arange(n_cr), pieces)
    product = pr.iloc[np.repeat(prod_idx, n_creators * pieces)].reset_index(drop=True)
    out = _pieces(
        rng,
        world,
        np.full(c_idx.size, tier),
        creators.iloc[c_idx].reset_index(drop=True),
        product,
        posted=posted[c_idx],
    )
    run = np.repeat(np.arange(n_sims), n_creators * pieces)
    totals = {c: np.bincount(run, out[c], n_sims) for c in ("impressions", "clicks", "orders")}
    gmv = np.bincount(run, out["gmv"], n_sims)
    refunds = np.bincount(run, out["refunds"], n_sims)
    return pd.DataFrame(
        {
            **totals,
            "gmv": gmv,
            "refunds": refunds,
            "net_gmv": gmv - refunds,
            "creators_posted": posted.reshape(n_sims, n_creators).sum(axis=1),
            "product_id": pr["product_id"].to_numpy()[prod_idx],
        }
    )
