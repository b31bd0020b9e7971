"""An independent simulator of two-arm content tests (not helpers.synth, not helpers.abtest)
with variants assigned per video or per creator, heterogeneous units and heavy-tailed
traffic, for the A/A (size) and A/B (power) studies of tests/test_abtest_sim.py.

World: ``n_creators`` creators, each with ``1 + Poisson(mean_videos - 1)`` videos. A
video's impressions are ``exp(log_impressions + c + v)`` (lognormal: creator part ``c``
and video part ``v``) or, with ``traffic="pareto"``, a creator's Pareto(``pareto_shape``)
reach times a lognormal video factor: a few units carry most of the traffic. CTR and
CVR are ``expit(logit(base) + creator effect + video effect)`` (normal effects on the
logit scale); clicks and orders are binomial. All orders of a video share one price
(lognormal: creator and video parts); an order's value is that price times a
Gamma(``order_shape``) factor with mean 1, so a video's GMV is its price times a
Gamma(``orders * order_shape``) / ``order_shape`` draw. Spend is a 15 % commission on GMV
plus a flat fee for some videos. Each video can be split into ``rows_per_video`` rows
(days) with consistent counts, as exports list them.

Variant B multiplies CTR, CVR (both on the probability scale) and price by
``1 + lift_ctr`` etc.; with every lift 0 the test is an A/A test. Units (videos or
creators, ``level``) get a variant by a fair coin flip (redrawn until each arm has two
units), the way sellers assign them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = ["Scenario", "simulate"]


@dataclass(frozen=True)
class Scenario:
    """Parameters of one simulated test (defaults: heavy-tailed video-level test)."""

    level: str = "video"  # unit the variant is assigned to: "video" or "creator"
    n_creators: int = 30
    mean_videos: float = 2.7  # about 80 videos with 30 creators
    traffic: str = "lognormal"  # or "pareto"
    log_impressions: float = 7.0  # median impressions of a video: exp(7) = 1,100
    creator_traffic_sd: float = 1.2
    video_traffic_sd: float = 0.8
    pareto_shape: float = 1.5
    ctr: float = 0.02
    cvr: float = 0.04
    creator_rate_sd: float = 0.5  # logit scale, for CTR and CVR alike
    video_rate_sd: float = 0.4
    price: float = 20.0  # median price
    creator_price_sd: float = 0.5
    video_price_sd: float = 0.3
    order_shape: float = 4.0  # order-value factor Gamma(shape, 1 / shape): CV 0.5
    flat_fee_share: float = 0.3  # share of videos with a flat fee
    rows_per_video: int = 1
    lift_ctr: float = 0.0
    lift_cvr: float = 0.0
    lift_price: float = 0.0
    name: str = field(default="", compare=False)

    def with_(self, **changes: object) -> Scenario:
        """A copy with some parameters changed."""
        return replace(self, **changes)


def _assign(rng: np.random.Generator, n_units: int) -> np.ndarray:
    """Coin flip per unit, redrawn until each arm has at least two units."""
    while True:
        b = rng.random(n_units) < 0.5
        if 2 <= b.sum() <= n_units - 2:
            return b


def _impressions(sc: Scenario, rng: np.random.Generator, creator: np.ndarray) -> np.ndarray:
    n_c, n_v = sc.n_creators, len(creator)
    video = rng.normal(0.0, sc.video_traffic_sd, n_v)
    if sc.traffic == "lognormal":
        reach = rng.normal(0.0, sc.creator_traffic_sd, n_c)
        mean = np.exp(sc.log_impressions + reach[creator] + video)
    elif sc.traffic == "pareto":
        reach = rng.pareto(sc.pareto_shape, n_c) + 1.0  # Pareto with minimum 1
        mean = np.exp(sc.log_impressions - 1.0 + video) * reach[creator]
    else:
        raise ValueError(f"traffic must be 'lognormal' or 'pareto'; got {sc.traffic!r}")
    return np.maximum(1, rng.poisson(mean))


def _rate(
    sc: Scenario,
    rng: np.random.Generator,
    base: float,
    creator: np.ndarray,
    b: np.ndarray,
    lift: float,
) -> np.ndarray:
    eta = (
        logit(base)
        + rng.normal(0.0, sc.creator_rate_sd, sc.n_creators)[creator]
        + rng.normal(0.0, sc.video_rate_sd, len(creator))
    )
    return np.minimum(expit(eta) * np.where(b, 1.0 + lift, 1.0), 1.0)


def _split_rows(df: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """Split every video into ``k`` rows (days) with consistent counts."""
    if k == 1:
        return df
    parts = []
    rest = df.copy()
    for day in range(k - 1):
        share = 1.0 / (k - day)
        imp = rng.binomial(rest["impressions"].to_numpy(), share)
        clk = _hyper(rng, rest["clicks"].to_numpy(), rest["impressions"].to_numpy(), imp)
        ords = _hyper(rng, rest["orders"].to_numpy(), rest["clicks"].to_numpy(), clk)
        frac = np.divide(
            ords,
            rest["orders"].to_numpy(),
            out=np.zeros(len(rest)),
            where=rest["orders"].to_numpy() > 0,
        )
        part = rest.assign(day=day, impressions=imp, clicks=clk, orders=ords)
        for col in ("gmv", "commission_paid"):
            part[col] = rest[col] * frac
        part["flat_fee"] = rest["flat_fee"] if day == 0 else 0.0
        parts.append(part)
        rest = rest.assign(
            impressions=rest["impressions"] - imp,
            clicks=rest["clicks"] - clk,
            orders=rest["orders"] - ords,
            gmv=rest["gmv"] - part["gmv"],
            commission_paid=rest["commission_paid"] - part["commission_paid"],
            flat_fee=0.0,
        )
    parts.append(rest.assign(day=k - 1))
    return pd.concat(parts, ignore_index=True)


def _hyper(
    rng: np.random.Generator, good: np.ndarray, total: np.ndarray, draw: np.ndarray
) -> np.ndarray:
    """Successes among ``draw`` of ``total`` items of which ``good`` are successes."""
    out = np.zeros(len(good), dtype=int)
    ok = (draw > 0) & (total > 0)
    out[ok] = rng.hypergeometric(good[ok], total[ok] - good[ok], draw[ok])
    return out


def simulate(sc: Scenario, seed: int | np.random.Generator) -> pd.DataFrame:
    """One simulated test: a canonical-style frame with ``variant`` ("A" / "B").

    Columns: site, creator_id, content_id, variant, impressions, clicks, orders, gmv,
    commission_paid, flat_fee (and ``day`` when ``rows_per_video > 1``).
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_videos = 1 + rng.poisson(sc.mean_videos - 1.0, sc.n_creators)
    creator = np.repeat(np.arange(sc.n_creators), n_videos)
    if sc.level == "creator":
        b = _assign(rng, sc.n_creators)[creator]
    elif sc.level == "video":
        b = _assign(rng, len(creator))
    else:
        raise ValueError(f"level must be 'video' or 'creator'; got {sc.level!r}")
    impressions = _impressions(sc, rng, creator)
    clicks = rng.binomial(impressions, _rate(sc, rng, sc.ctr, creator, b, sc.lift_ctr))
    orders = rng.binomial(clicks, _rate(sc, rng, sc.cvr, creator, b, sc.lift_cvr))
    log_price = (
        np.log(sc.price)
        + rng.normal(0.0, sc.creator_price_sd, sc.n_creators)[creator]
        + rng.normal(0.0, sc.video_price_sd, len(creator))
    )
    price = np.exp(log_price) * np.where(b, 1.0 + sc.lift_price, 1.0)
    value = np.zeros(len(creator))
    has = orders > 0
    value[has] = rng.gamma(orders[has] * sc.order_shape, 1.0 / sc.order_shape)
    gmv = np.round(price * value, 2)
    fee = np.where(
        rng.random(len(creator)) < sc.flat_fee_share, rng.uniform(20, 60, len(creator)), 0.0
    )
    df = pd.DataFrame(
        {
            "site": "US",
            "creator_id": [f"c{i}" for i in creator],
            "content_id": [f"v{i}" for i in range(len(creator))],
            "variant": np.where(b, "B", "A"),
            "impressions": impressions,
            "clicks": clicks,
            "orders": orders,
            "gmv": gmv,
            "commission_paid": np.round(0.15 * gmv, 2),
            "flat_fee": np.round(fee, 2),
        }
    )
    return _split_rows(df, sc.rows_per_video, rng)
