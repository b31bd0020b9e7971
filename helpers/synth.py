"""Seeded synthetic TikTok Shop affiliate data with a known truth, and export writers.

:func:`make_affiliate_data` draws a canonical frame (see :mod:`helpers.schema`) from a
stated generating model; :func:`write_exports` turns it into Seller Center style files
(English or Chinese headers, "12.5%" rates, "--" blanks, currency symbols, thousands
separators, title rows in XLSX) so the loader is exercised the way real files exercise
it. ``python -m helpers.synth --rows 30000 --seed 0 --out data/sample`` writes both
languages plus ``truth.json``.

Generating model
----------------
All numbers below are defaults; every one actually used is stored in ``.truth``.

Sites
    Each site has a share of creators (US the largest), a conversion logit offset, a
    CTR logit offset and a currency scale for money (site currency per USD: GBP 0.8,
    IDR 15,000, THB 35, ...). Money is rounded to cents, or to whole units for
    currencies without minor units (IDR, VND, JPY).
Creators
    ``n_creators`` (default ``n_rows // 12``, so a creator has about a dozen content
    rows; activity per creator is lognormal, every creator has at least one row).
    Each creator belongs to one site. Followers are ``1000 * 10**X`` with ``X`` the
    absolute value of a two-component normal mixture (a body near 1k-30k followers
    and a tail of big accounts), so every creator has at least 1,000 followers (the
    affiliate minimum). The tier comes from
    :func:`helpers.schema.tier_from_followers` with ``tier_thresholds``. Each creator
    has a latent conversion effect ``b ~ N(0, creator_sd)`` and a latent CTR effect
    ``c ~ N(0, ctr_creator_sd)``, independent of each other and of the tier.
Products
    ``products_per_group`` products per (site, category); each has a commission rate
    drawn uniformly among the whole percents of its category range (domain.md), a
    price (lognormal around the category's median price, site currency) and a unit
    sample cost of 30-60 % of the price. A row picks its category by the category
    shares, then a product of that site and category uniformly.
Content
    ``content_type`` is video (85 %), live (10 %) or showcase (5 %); it shifts the
    CTR logit (live +0.25, showcase -0.30) and nothing else. Showcase rows have no
    video views (missing). Dates are uniform over ``n_days`` from ``start_date``.
CTR
    ``logit(p_ctr) = ctr_intercept + site_ctr_offset[site] + ctr_category[category]
    + ctr_tier[tier] + ctr_content[content_type] + c_creator + e_row`` with per-row
    noise ``e_row ~ N(0, ctr_video_sd)`` (videos of one creator differ).
Conversion (CVR = orders / clicks)
    ``logit(p_cvr) = intercept + site_offset[site] + tier[tier] + category[category]
    + commission_rate_coef * commission_rate + b_creator``; nano is the reference
    tier and the first category alphabetically (beauty) the reference category
    (effects 0). A GLM fitted without the creator effect estimates the
    population-averaged coefficients, which are attenuated; ``truth
    ["conversion_marginal"]`` holds them, computed by Gauss-Hermite integration over
    ``b`` and a weighted logit projection (weights = expected clicks of each
    covariate pattern), per site and pooled with site offsets.
Counts
    ``impressions = 1 + floor(lognormal(mu[tier], sigma))`` (medians 120 for nano to
    20,000 for mega: many videos under 500, a few over 100k);
    ``clicks ~ Binomial(impressions, p_ctr)``; ``orders ~ Binomial(clicks, p_cvr)``;
    ``items_sold = orders + Poisson(0.25 * orders)``; ``video_views = impressions *
    Uniform(3, 20)`` (views are not clicks); ``gmv = price * items_sold * G`` with
    ``G ~ Gamma(k * items, 1 / (k * items))`` (mean 1: discounts and vouchers);
    ``refunds = Binomial(orders, return_rate[category]) * gmv / orders`` (whole
    orders refunded, so ``refunds <= gmv`` and E[refunds / gmv] = return rate);
    ``commission_paid = commission_rate * (gmv - refunds)`` (commission only on the
    net paid amount). ``sample_cost`` = the product's unit sample cost on the first
    row of each creator-product pair, else 0; ``flat_fee`` on the first row of 30 %
    of mid, macro and mega creators (USD 50-200, 200-800, 500-3,000, site currency),
    else 0.

Expected rates: :func:`expected_rates` gives the model's pooled CTR and CVR (sum of
clicks / sum of impressions, sum of orders / sum of clicks in expectation) for any
grouping of site, tier, category, content_type.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats
from scipy.special import expit

from helpers.errors import ParameterError
from helpers.schema import (
    CANONICAL_COLUMNS,
    DEFAULT_TIER_THRESHOLDS,
    SITES,
    TIER_DTYPE,
    TIERS,
    tier_from_followers,
)

__all__ = [
    "CATEGORY_DEFAULTS",
    "CURRENCY_DECIMALS",
    "CURRENCY_SCALE",
    "EXPORT_FILES",
    "FLAWED_ROWS",
    "GENERATOR_VERSION",
    "SITE_DEFAULTS",
    "CategorySpec",
    "SiteSpec",
    "SynthResult",
    "expected_rates",
    "write_exports",
    "main",
    "make_affiliate_data",
]

GENERATOR_VERSION = "1.0"
"""Bumped whenever the same seed would give a different frame."""


@dataclass(frozen=True)
class CategorySpec:
    """Generating parameters of one product category.

    Attributes
    ----------
    share : float
        Relative share of content rows.
    ctr_effect, cvr_effect : float
        Logit effects on CTR and CVR (relative to the reference category, the first
        alphabetically; they are re-centred if that one is not 0).
    price_usd : float
        Median product price in USD (converted with the site's currency scale).
    return_rate : float
        Expected refunds / GMV.
    commission : tuple of int
        Commission range in whole percent, inclusive.
    """

    share: float
    ctr_effect: float
    cvr_effect: float
    price_usd: float
    return_rate: float
    commission: tuple[int, int]


CATEGORY_DEFAULTS: dict[str, CategorySpec] = {
    # Commission and return-rate ranges from domain.md; CTR/CVR effects are invented.
    "beauty": CategorySpec(0.30, 0.00, 0.00, 22.0, 0.20, (10, 20)),
    "electronics": CategorySpec(0.10, -0.40, -0.30, 45.0, 0.08, (5, 10)),
    "fashion": CategorySpec(0.25, 0.20, -0.25, 28.0, 0.18, (10, 18)),
    "health": CategorySpec(0.15, -0.10, 0.30, 25.0, 0.07, (12, 22)),
    "home": CategorySpec(0.20, -0.20, 0.10, 30.0, 0.12, (8, 15)),
}
"""Default categories (domain.md table)."""


@dataclass(frozen=True)
class SiteSpec:
    """Generating parameters of one site: creator share and logit offsets vs the US."""

    share: float
    cvr_offset: float
    ctr_offset: float


SITE_DEFAULTS: dict[str, SiteSpec] = {
    "US": SiteSpec(0.45, 0.00, 0.00),
    "UK": SiteSpec(0.20, -0.10, -0.15),
    "ID": SiteSpec(0.20, 0.30, 0.35),
    "TH": SiteSpec(0.15, 0.15, 0.25),
    "VN": SiteSpec(0.10, 0.25, 0.30),
    "MY": SiteSpec(0.10, 0.10, 0.20),
    "PH": SiteSpec(0.10, 0.20, 0.30),
    "SG": SiteSpec(0.05, -0.05, 0.05),
    "MX": SiteSpec(0.10, 0.05, 0.10),
    "ES": SiteSpec(0.08, -0.15, -0.20),
    "DE": SiteSpec(0.08, -0.15, -0.20),
    "FR": SiteSpec(0.08, -0.15, -0.20),
    "IT": SiteSpec(0.08, -0.15, -0.20),
    "JP": SiteSpec(0.08, -0.20, -0.30),
    "BR": SiteSpec(0.10, 0.05, 0.15),
}
"""Default site parameters (illustrative, not measured)."""

CURRENCY_SCALE: dict[str, float] = {
    "USD": 1.0,
    "GBP": 0.8,
    "IDR": 15_000.0,
    "THB": 35.0,
    "VND": 25_000.0,
    "MYR": 4.5,
    "PHP": 56.0,
    "SGD": 1.35,
    "MXN": 17.0,
    "EUR": 0.92,
    "JPY": 150.0,
    "BRL": 5.0,
}
"""Units of site currency per USD (rough, for plausible magnitudes only)."""

CURRENCY_DECIMALS: dict[str, int] = {"IDR": 0, "VND": 0, "JPY": 0}
"""Decimals money is rounded to; 2 for any currency not listed."""

TIER_CVR_EFFECT: dict[str, float] = {
    "nano": 0.0,
    "micro": 0.10,
    "mid": 0.20,
    "macro": 0.15,
    "mega": 0.05,
}
TIER_CTR_EFFECT: dict[str, float] = {
    "nano": 0.0,
    "micro": 0.05,
    "mid": 0.10,
    "macro": 0.0,
    "mega": -0.10,
}
IMPRESSIONS_MEDIAN: dict[str, float] = {
    "nano": 120.0,
    "micro": 500.0,
    "mid": 2_000.0,
    "macro": 6_000.0,
    "mega": 20_000.0,
}
IMPRESSIONS_SIGMA = 1.2
CONTENT_MIX: dict[str, float] = {"video": 0.85, "live": 0.10, "showcase": 0.05}
CONTENT_CTR_EFFECT: dict[str, float] = {"video": 0.0, "live": 0.25, "showcase": -0.30}
# |N(mu, sd)| components of log10(followers / 1000), with weights.
FOLLOWER_MIXTURE: tuple[tuple[float, float, float], ...] = ((0.76, 0.0, 1.05), (0.24, 2.5, 0.62))
FLAT_FEE_USD: dict[str, tuple[float, float]] = {
    "mid": (50.0, 200.0),
    "macro": (200.0, 800.0),
    "mega": (500.0, 3_000.0),
}
FLAT_FEE_SHARE = 0.30
ITEMS_PER_ORDER_EXTRA = 0.25
GMV_GAMMA_K = 25.0
VIEWS_PER_IMPRESSION = (3.0, 20.0)
SAMPLE_COST_SHARE = (0.30, 0.60)
PRICE_SIGMA = 0.35
_GH_POINTS = 40


@dataclass
class SynthResult:
    """Synthetic data and the truth behind it.

    Attributes
    ----------
    data : pandas.DataFrame
        The canonical frame (columns and dtypes of
        :data:`helpers.schema.CANONICAL_COLUMNS`, in that order).
    truth : dict
        Every generating parameter, JSON-serialisable (see the module docstring).
    creators : pandas.DataFrame
        One row per creator: creator_id, site, followers, tier, cvr_effect,
        ctr_effect, flat_fee_creator, n_rows.
    products : pandas.DataFrame
        One row per product: product_id, site, category, commission_rate, price,
        unit_sample_cost.
    latent : pandas.DataFrame
        Aligned with ``data``: true_ctr and true_cvr, the row's probabilities.
    """

    data: pd.DataFrame
    truth: dict[str, Any]
    creators: pd.DataFrame
    products: pd.DataFrame
    latent: pd.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- helpers


def _resolve_sites(
    sites: Sequence[str], site_weights: Mapping[str, float] | None
) -> dict[str, SiteSpec]:
    if isinstance(sites, str):
        sites = [s.strip() for s in sites.split(",") if s.strip()]
    codes = [str(s).upper() for s in sites]
    if not codes:
        raise ParameterError(f"sites must not be empty; accepted codes: {sorted(SITE_DEFAULTS)}")
    unknown = [s for s in codes if s not in SITE_DEFAULTS or s not in SITES]
    if unknown:
        raise ParameterError(f"unknown site(s) {unknown}; accepted codes: {sorted(SITE_DEFAULTS)}")
    if len(set(codes)) != len(codes):
        raise ParameterError(f"sites must be distinct, got {codes}")
    out = {}
    for code in codes:
        spec = SITE_DEFAULTS[code]
        if site_weights is not None:
            if code not in site_weights:
                raise ParameterError(
                    f"site_weights has no weight for {code!r}; give one per site in {codes}"
                )
            spec = SiteSpec(float(site_weights[code]), spec.cvr_offset, spec.ctr_offset)
        if not spec.share > 0:
            raise ParameterError(f"site weight of {code} must be > 0, got {spec.share}")
        out[code] = spec
    return out


def _resolve_categories(
    categories: Sequence[str] | Mapping[str, CategorySpec | Mapping[str, Any]] | None,
) -> dict[str, CategorySpec]:
    if categories is None:
        cats = dict(CATEGORY_DEFAULTS)
    elif isinstance(categories, Mapping):
        cats = {}
        for name, spec in categories.items():
            if isinstance(spec, CategorySpec):
                cats[str(name)] = spec
            else:
                base = asdict(CATEGORY_DEFAULTS.get(str(name), CATEGORY_DEFAULTS["home"]))
                unknown = set(spec) - set(base)
                if unknown:
                    raise ParameterError(
                        f"unknown CategorySpec field(s) {sorted(unknown)} for {name!r}; accepted: {sorted(base)}"
                    )
                base.update(spec)
                base["commission"] = tuple(int(v) for v in base["commission"])
                cats[str(name)] = CategorySpec(**base)
    else:
        names = [str(c) for c in categories]
        unknown = [c for c in names if c not in CATEGORY_DEFAULTS]
        if unknown:
            raise ParameterError(
                f"unknown categories {unknown}; accepted names: {sorted(CATEGORY_DEFAULTS)}, "
                "or pass a mapping {name: CategorySpec(...)} for new ones"
            )
        cats = {c: CATEGORY_DEFAULTS[c] for c in names}
    if not cats:
        raise ParameterError(
            f"categories must not be empty; accepted names: {sorted(CATEGORY_DEFAULTS)}"
        )
    for name, spec in cats.items():
        lo, hi = spec.commission
        if not (1 <= lo <= hi <= 80):
            raise ParameterError(
                f"commission range of {name!r} must satisfy 1 <= lo <= hi <= 80 (percent), got {spec.commission}"
            )
        if not (0 <= spec.return_rate < 1) or spec.share <= 0 or spec.price_usd <= 0:
            raise ParameterError(
                f"category {name!r}: need share > 0, price_usd > 0, 0 <= return_rate < 1; got {spec}"
            )
    # Reference category = first alphabetically, effect 0 (the intercept absorbs it).
    return dict(sorted(cats.items()))


def _gh_nodes(sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(Z)], Z ~ N(0, sd), by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite.hermgauss(_GH_POINTS)
    return np.sqrt(2.0) * sd * x, w / np.sqrt(np.pi)


def _mean_expit(eta: np.ndarray, sd: float) -> np.ndarray:
    """E[expit(eta + Z)], Z ~ N(0, sd), elementwise."""
    nodes, weights = _gh_nodes(sd)
    eta = np.asarray(eta, dtype="float64")
    return (expit(eta[..., None] + nodes) * weights).sum(axis=-1)


def _tier_shares(thresholds: Mapping[str, int]) -> dict[str, float]:
    """Expected tier shares of creators under the follower mixture."""
    bounds = np.log10(np.array([thresholds[t] for t in TIERS[1:]], dtype="float64") / 1000.0)
    bounds = np.clip(bounds, 0.0, None)

    def cdf(x: np.ndarray) -> np.ndarray:
        return sum(
            w * (stats.norm.cdf((x - m) / s) - stats.norm.cdf((-x - m) / s))
            for w, m, s in FOLLOWER_MIXTURE
        )

    c = np.concatenate([[0.0], cdf(bounds), [1.0]])
    return dict(zip(TIERS, np.diff(c).tolist(), strict=True))


def _round_money(x: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    scale = 10.0**decimals
    return np.round(x * scale) / scale


def _category_take(labels: Sequence[str], codes: np.ndarray) -> pd.Categorical:
    """Categorical of many rows from few labels (as the loader gives key columns: str
    categories, sorted)."""
    cats = pd.Index(list(labels), dtype="str")
    order = np.argsort(cats.to_numpy(dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return pd.Categorical.from_codes(rank[codes], categories=cats[order])


def _int_strings(values: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Decimal strings of int64 ids, converted in Arrow (no Python str per value)."""
    return pd.array(pa.array(values, type=pa.int64()).cast(pa.large_string()), dtype="string")


def _unique_ids(rng: np.random.Generator, n: int, base: int, span: int) -> np.ndarray:
    """n increasing distinct int64 ids in [base, base + span): one per stride."""
    stride = max(span // max(n, 1), 1)
    return base + np.arange(n, dtype="int64") * stride + rng.integers(0, stride, n)


# --------------------------------------------------------------------------- truth


def _pattern_table(truth: Mapping[str, Any]) -> pd.DataFrame:
    """Every covariate pattern (site, tier, category, content_type, commission) with its
    expected share of impressions, expected CTR and expected CVR (marginal over the
    creator effects and row noise)."""
    ctr = truth["ctr"]
    conv = truth["conversion"]
    tier_share = truth["creators"]["tier_share"]
    imp_med = truth["impressions"]["median_by_tier"]
    sigma = truth["impressions"]["sigma"]
    cats = truth["categories"]
    rows = []
    for site, sspec in truth["sites"].items():
        for tier in TIERS:
            imp_mean = imp_med[tier] * math.exp(sigma**2 / 2)
            for cat, cspec in cats.items():
                lo, hi = cspec["commission"]
                pcts = np.arange(lo, hi + 1)
                for ctype, cshare in truth["content_mix"].items():
                    for pct in pcts:
                        w = sspec["share"] * tier_share[tier] * cspec["share"] * cshare / len(pcts)
                        rows.append((site, tier, cat, ctype, pct / 100.0, w * imp_mean))
    pat = pd.DataFrame(
        rows, columns=["site", "tier", "category", "content_type", "commission_rate", "imp_weight"]
    )
    eta_ctr = (
        ctr["intercept"]
        + pat["site"].map(ctr["site_offset"])
        + pat["category"].map(ctr["category"])
        + pat["tier"].map(ctr["tier"])
        + pat["content_type"].map(ctr["content_type"])
    ).to_numpy(dtype="float64")
    ctr_sd = math.hypot(ctr["creator_sd"], ctr["video_sd"])
    pat["ctr"] = _mean_expit(eta_ctr, ctr_sd)
    eta_cvr = (
        conv["intercept"]
        + pat["site"].map(conv["site_offset"])
        + pat["tier"].map(conv["tier"])
        + pat["category"].map(conv["category"])
        + conv["commission_rate"] * pat["commission_rate"]
    ).to_numpy(dtype="float64")
    pat["cvr"] = _mean_expit(eta_cvr, conv["creator_sd"])
    pat["cvr_conditional"] = expit(eta_cvr)
    pat["click_weight"] = pat["imp_weight"] * pat["ctr"]
    return pat


def expected_rates(
    truth: Mapping[str, Any], by: str | Sequence[str] = ("site", "category")
) -> pd.DataFrame:
    """Expected pooled CTR and CVR of the generating model, by group.

    ``ctr`` = E[sum clicks] / E[sum impressions] and ``cvr`` = E[sum orders] /
    E[sum clicks] in each group, integrating over tiers, categories, content types,
    commission rates, creator effects and row noise with the model's own weights.
    Observed pooled rates of a large synthetic frame converge to these.

    Parameters
    ----------
    truth : mapping
        ``SynthResult.truth`` (or ``truth.json`` read back).
    by : str or sequence of str
        Any of "site", "tier", "category", "content_type".

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``by + ["ctr", "cvr", "impression_share",
        "click_share"]``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    accepted = ["site", "tier", "category", "content_type"]
    bad = [k for k in keys if k not in accepted]
    if bad or not keys:
        raise ParameterError(f"by must name one or more of {accepted}, got {by!r}")
    pat = _pattern_table(truth)
    pat["clicks_x"] = pat["imp_weight"] * pat["ctr"]
    pat["orders_x"] = pat["clicks_x"] * pat["cvr"]
    g = pat.groupby(keys, observed=True, sort=False)[["imp_weight", "clicks_x", "orders_x"]].sum()
    out = pd.DataFrame(
        {
            "ctr": g["clicks_x"] / g["imp_weight"],
            "cvr": g["orders_x"] / g["clicks_x"],
            "impression_share": g["imp_weight"] / g["imp_weight"].sum(),
            "click_share": g["clicks_x"] / g["clicks_x"].sum(),
        }
    )
    return out.reset_index()


def _fit_marginal(pat: pd.DataFrame, with_site: bool) -> dict[str, Any]:
    """Logit projection of the marginal CVR onto the fixed-effect design, weighted by
    expected clicks: what a binomial GLM without the creator effect converges to."""
    import statsmodels.api as sm

    tiers = list(TIERS)
    cats = sorted(pat["category"].unique())
    sites = list(dict.fromkeys(pat["site"]))
    cols = {"Intercept": np.ones(len(pat))}
    if with_site:
        for s in sites[1:]:
            cols[f"site[{s}]"] = (pat["site"] == s).to_numpy(dtype="float64")
    for t in tiers[1:]:
        cols[f"tier[{t}]"] = (pat["tier"] == t).to_numpy(dtype="float64")
    for c in cats[1:]:
        cols[f"category[{c}]"] = (pat["category"] == c).to_numpy(dtype="float64")
    cols["commission_rate"] = pat["commission_rate"].to_numpy(dtype="float64")
    X = pd.DataFrame(cols)
    w = pat["click_weight"].to_numpy(dtype="float64")
    model = sm.GLM(
        pat["cvr"].to_numpy(), X, family=sm.families.Binomial(), var_weights=w / w.mean()
    )
    res = model.fit(method="newton", tol=1e-12, maxiter=100)
    p = res.params
    out: dict[str, Any] = {"intercept": float(p["Intercept"])}
    if with_site:
        out["site_offset"] = {sites[0]: 0.0, **{s: float(p[f"site[{s}]"]) for s in sites[1:]}}
    out["tier"] = {tiers[0]: 0.0, **{t: float(p[f"tier[{t}]"]) for t in tiers[1:]}}
    out["category"] = {cats[0]: 0.0, **{c: float(p[f"category[{c}]"]) for c in cats[1:]}}
    out["commission_rate"] = float(p["commission_rate"])
    return out


def _conversion_marginal(truth: Mapping[str, Any]) -> dict[str, Any]:
    pat = _pattern_table(truth)
    # Content types share the same CVR: collapse them (same projection, fewer rows).
    pat = (
        pat.groupby(["site", "tier", "category", "commission_rate"], sort=False)
        .agg(cvr=("cvr", "first"), click_weight=("click_weight", "sum"))
        .reset_index()
    )
    sd = truth["conversion"]["creator_sd"]
    # Only tier (present in every site with positive weight) is needed per site.
    by_site = {}
    for site in truth["sites"]:
        sub = pat[pat["site"] == site].reset_index(drop=True)
        by_site[site] = _fit_marginal(sub, with_site=False)
    pooled = _fit_marginal(pat, with_site=len(truth["sites"]) > 1)
    return {
        "note": (
            "Population-averaged (marginal) logit coefficients: what a binomial GLM of "
            "orders/clicks on C(tier) + C(category) + commission_rate without the creator "
            "effect converges to (per site, and pooled with site offsets relative to the "
            "first site). Computed by "
            "Gauss-Hermite integration over the creator effect and a click-weighted logit "
            "projection."
        ),
        # Zeger et al.'s rule of thumb; for rare outcomes (CVR of a few %) the real
        # attenuation is weaker (closer to 1), which the fitted values above reflect.
        "approx_attenuation": 1.0 / math.sqrt(1.0 + 0.346 * sd**2),
        "by_site": by_site,
        "pooled": pooled,
    }


_DERIVED_FROM = (
    "sites",
    "categories",
    "conversion",
    "ctr",
    "creators",
    "impressions",
    "content_mix",
)


@functools.lru_cache(maxsize=64)
def _derived_truth(key: str) -> str:
    """Marginal coefficients and expected rates, as JSON (cached: they depend on the
    parameters only, not on n_rows or seed, and the GLM projections take a moment)."""
    truth = json.loads(key)
    site_codes = list(truth["sites"])
    cat_names = list(truth["categories"])
    derived: dict[str, Any] = {"conversion_marginal": _conversion_marginal(truth)}
    exp_sc = expected_rates(truth, ["site", "category"])
    derived["ctr_expected"] = {
        s: {r.category: float(r.ctr) for r in exp_sc[exp_sc["site"] == s].itertuples()}
        for s in site_codes
    }
    derived["cvr_expected"] = {
        s: {r.category: float(r.cvr) for r in exp_sc[exp_sc["site"] == s].itertuples()}
        for s in site_codes
    }
    if "US" in site_codes:
        ctr = derived["ctr_expected"]
        derived["ctr_lift_vs_US_expected"] = {
            s: {c: ctr[s][c] / ctr["US"][c] - 1.0 for c in cat_names} for s in site_codes
        }
    return json.dumps(derived)


# --------------------------------------------------------------------------- generator


def make_affiliate_data(
    n_rows: int,
    *,
    seed: int = 0,
    sites: Sequence[str] = ("US", "UK", "ID", "TH"),
    categories: Sequence[str] | Mapping[str, CategorySpec | Mapping[str, Any]] | None = None,
    n_creators: int | None = None,
    tier_thresholds: Mapping[str, int] | None = None,
    start_date: str = "2026-05-04",
    n_days: int = 182,
    creator_sd: float = 0.25,
    ctr_creator_sd: float = 0.35,
    ctr_video_sd: float = 0.15,
    cvr_intercept: float = -3.7,
    ctr_intercept: float = -3.9,
    commission_coef: float = 3.0,
    site_weights: Mapping[str, float] | None = None,
    products_per_group: int | None = None,
) -> SynthResult:
    """Draw a synthetic canonical frame of affiliate content with a known truth.

    The generating model is described in the module docstring; every parameter used
    is returned in ``.truth``. Vectorised numpy, seeded: the same arguments give the
    same frame, bit for bit.

    Parameters
    ----------
    n_rows : int
        Number of content rows (>= 1).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    sites : sequence of str
        Site codes (keys of :data:`SITE_DEFAULTS`). ``truth["conversion"]`` and
        ``truth["ctr"]`` give site offsets relative to the US (offset 0, whether or not
        it is generated); ``truth["conversion_marginal"]["pooled"]`` is relative to the
        first site listed, as a GLM with treatment coding would be.
    categories : sequence of str or mapping, optional
        Category names from :data:`CATEGORY_DEFAULTS`, or a mapping ``{name:
        CategorySpec or dict of fields}``. Default: the five of domain.md.
    n_creators : int, optional
        Number of creators (default ``max(1, n_rows // 12)``, capped at ``n_rows``).
    tier_thresholds : mapping, optional
        Lower follower bound of each tier above nano (see
        :func:`helpers.schema.tier_from_followers`).
    start_date : str
        First day of the period (ISO).
    n_days : int
        Length of the period in days.
    creator_sd : float
        SD of the creator effect on the CVR logit.
    ctr_creator_sd : float
        SD of the creator effect on the CTR logit.
    ctr_video_sd : float
        SD of the per-row noise on the CTR logit.
    cvr_intercept, ctr_intercept : float
        Logit intercepts (US, nano, reference category; CVR also at commission 0).
    commission_coef : float
        Effect of the commission rate (as a fraction) on the CVR logit: 3.0 means +1
        percentage point of commission multiplies the odds by exp(0.03).
    site_weights : mapping, optional
        Share of creators per site (default from :data:`SITE_DEFAULTS`).
    products_per_group : int, optional
        Products per (site, category); default grows slowly with ``n_rows``.

    Returns
    -------
    SynthResult
        ``.data``, ``.truth``, ``.creators``, ``.products``, ``.latent``.

    Raises
    ------
    ValueError
        On an unknown site or category, or parameters out of range.
    """
    n_rows, n_creators, start = _checked_sizes(
        n_rows, n_days, n_creators, start_date, creator_sd, ctr_creator_sd, ctr_video_sd
    )
    thresholds = dict(DEFAULT_TIER_THRESHOLDS if tier_thresholds is None else tier_thresholds)
    tier_from_followers([1000], thresholds)  # validates the thresholds
    world = _World.build(
        _resolve_sites(sites, site_weights),
        _resolve_categories(categories),
        cvr_intercept=cvr_intercept,
        ctr_intercept=ctr_intercept,
        commission_coef=commission_coef,
        creator_sd=creator_sd,
        ctr_creator_sd=ctr_creator_sd,
        ctr_video_sd=ctr_video_sd,
        thresholds=thresholds,
    )
    rng = np.random.default_rng(seed)
    creators = _draw_creators(rng, world, n_creators)
    products = _draw_products(rng, world, n_rows, products_per_group)
    rows = _draw_rows(rng, world, creators, products, n_rows, n_days)
    data, latent = _content_frame(world, creators, products, rows, start)
    truth = _truth(world, n_rows=n_rows, seed=seed, n_creators=n_creators, n_days=n_days)
    truth.update(n_products=products["n"], start_date=str(pd.Timestamp(start_date).date()))
    return SynthResult(
        data=data,
        truth=_with_derived(truth),
        creators=_creator_table(world, creators, rows),
        products=_product_table(world, products),
        latent=latent,
    )


def _checked_sizes(
    n_rows: int,
    n_days: int,
    n_creators: int | None,
    start_date: str,
    *sds: float,
) -> tuple[int, int, np.datetime64]:
    """Validated row and creator counts and the first day as datetime64[s]."""
    n_rows = int(n_rows)
    if n_rows < 1:
        raise ParameterError(f"n_rows must be >= 1, got {n_rows}")
    if n_days < 1:
        raise ParameterError(f"n_days must be >= 1, got {n_days}")
    for name, val in zip(("creator_sd", "ctr_creator_sd", "ctr_video_sd"), sds, strict=True):
        if not val >= 0:
            raise ParameterError(f"{name} must be >= 0, got {val}")
    n_creators = int(max(1, n_rows // 12) if n_creators is None else n_creators)
    if not 1 <= n_creators:
        raise ParameterError(f"n_creators must be >= 1, got {n_creators}")
    try:
        start = np.datetime64(pd.Timestamp(start_date).date(), "s")
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"start_date must be an ISO date like '2026-05-04', got {start_date!r}"
        ) from exc
    return n_rows, min(n_creators, n_rows), start


@dataclass
class _World:
    """The generating model's constants: levels, their effects and shares."""

    site_specs: dict[str, SiteSpec]
    cat_specs: dict[str, CategorySpec]
    thresholds: dict[str, int]
    sd: dict[str, float]  # creator_sd, ctr_creator_sd, ctr_video_sd
    commission_coef: float
    site_codes: list[str]
    cat_names: list[str]
    currencies: list[str]
    scale_site: np.ndarray
    dec_site: np.ndarray
    cvr_intercept: float  # reference category's offset moved in
    ctr_intercept: float
    cat_cvr: np.ndarray
    cat_ctr: np.ndarray
    cat_share: np.ndarray
    site_share: np.ndarray
    site_cvr: np.ndarray
    site_ctr: np.ndarray
    tier_cvr: np.ndarray
    tier_ctr: np.ndarray
    ctype_names: list[str]
    ctype_share: np.ndarray
    ctype_ctr: np.ndarray
    imp_mu: np.ndarray

    @classmethod
    def build(
        cls,
        site_specs: dict[str, SiteSpec],
        cat_specs: dict[str, CategorySpec],
        *,
        cvr_intercept: float,
        ctr_intercept: float,
        commission_coef: float,
        creator_sd: float,
        ctr_creator_sd: float,
        ctr_video_sd: float,
        thresholds: dict[str, int],
    ) -> _World:
        site_codes, cat_names = list(site_specs), list(cat_specs)
        currencies = [SITES[s].currency for s in site_codes]
        # Reference category effects are 0: move any offset into the intercepts.
        ref = cat_specs[cat_names[0]]
        cat_share = np.array([cat_specs[c].share for c in cat_names])
        site_share = np.array([site_specs[s].share for s in site_codes])
        ctype_names = list(CONTENT_MIX)
        return cls(
            site_specs=site_specs,
            cat_specs=cat_specs,
            thresholds=thresholds,
            sd={
                "creator_sd": creator_sd,
                "ctr_creator_sd": ctr_creator_sd,
                "ctr_video_sd": ctr_video_sd,
            },
            commission_coef=commission_coef,
            site_codes=site_codes,
            cat_names=cat_names,
            currencies=currencies,
            scale_site=np.array([CURRENCY_SCALE[c] for c in currencies]),
            dec_site=np.array([CURRENCY_DECIMALS.get(c, 2) for c in currencies], dtype="float64"),
            cvr_intercept=cvr_intercept + ref.cvr_effect,
            ctr_intercept=ctr_intercept + ref.ctr_effect,
            cat_cvr=np.array([cat_specs[c].cvr_effect - ref.cvr_effect for c in cat_names]),
            cat_ctr=np.array([cat_specs[c].ctr_effect - ref.ctr_effect for c in cat_names]),
            cat_share=cat_share / cat_share.sum(),
            site_share=site_share / site_share.sum(),
            site_cvr=np.array([site_specs[s].cvr_offset for s in site_codes]),
            site_ctr=np.array([site_specs[s].ctr_offset for s in site_codes]),
            tier_cvr=np.array([TIER_CVR_EFFECT[t] for t in TIERS]),
            tier_ctr=np.array([TIER_CTR_EFFECT[t] for t in TIERS]),
            ctype_names=ctype_names,
            ctype_share=np.array([CONTENT_MIX[c] for c in ctype_names]),
            ctype_ctr=np.array([CONTENT_CTR_EFFECT[c] for c in ctype_names]),
            imp_mu=np.log(np.array([IMPRESSIONS_MEDIAN[t] for t in TIERS])),
        )


def _draw_creators(rng: np.random.Generator, w: _World, n_creators: int) -> dict[str, Any]:
    """Each creator's site, followers, tier, CVR and CTR effects, activity and flat fee."""
    # Exact allocation of creators to sites (largest remainder), then shuffled.
    raw = w.site_share * n_creators
    counts = np.floor(raw).astype("int64")
    counts[np.argsort(-(raw - counts), kind="stable")[: n_creators - counts.sum()]] += 1
    site = rng.permutation(np.repeat(np.arange(len(w.site_codes)), counts))
    comp_w = np.array([wt for wt, _, _ in FOLLOWER_MIXTURE])
    comp = rng.choice(len(FOLLOWER_MIXTURE), size=n_creators, p=comp_w / comp_w.sum())
    mu = np.array([m for _, m, _ in FOLLOWER_MIXTURE])[comp]
    sd = np.array([s for _, _, s in FOLLOWER_MIXTURE])[comp]
    log10_f = np.abs(rng.normal(mu, sd))
    followers = np.floor(1000.0 * 10.0**log10_f).astype("int64")
    tier = tier_from_followers(followers, w.thresholds).cat.codes.to_numpy().astype("int64")
    cvr = rng.normal(0.0, w.sd["creator_sd"], n_creators)
    ctr = rng.normal(0.0, w.sd["ctr_creator_sd"], n_creators)
    activity = rng.lognormal(0.0, 0.6, n_creators)
    flat = (tier >= TIERS.index("mid")) & (rng.random(n_creators) < FLAT_FEE_SHARE)
    fee_lo = np.array([FLAT_FEE_USD.get(t, (0.0, 0.0))[0] for t in TIERS])[tier]
    fee_hi = np.array([FLAT_FEE_USD.get(t, (0.0, 0.0))[1] for t in TIERS])[tier]
    fee = np.where(flat, np.round(rng.uniform(fee_lo, fee_hi) * w.scale_site[site]), 0.0)
    width = max(5, len(str(n_creators - 1)))
    return {
        "n": n_creators,
        "site": site,
        "followers": followers,
        "tier": tier,
        "cvr": cvr,
        "ctr": ctr,
        "activity": activity,
        "fee": fee,
        "names": [f"@creator_{i:0{width}d}" for i in range(n_creators)],
    }


def _draw_products(
    rng: np.random.Generator, w: _World, n_rows: int, products_per_group: int | None
) -> dict[str, Any]:
    """Products per (site, category): commission rate, price, sample cost and id."""
    n_sites, n_cats = len(w.site_codes), len(w.cat_names)
    if products_per_group is None:
        products_per_group = int(np.clip(round(n_rows / (150 * n_sites * n_cats)), 4, 60))
    ppg = int(products_per_group)
    if ppg < 1:
        raise ParameterError(f"products_per_group must be >= 1, got {products_per_group}")
    n_products = n_sites * n_cats * ppg
    group = np.repeat(np.arange(n_sites * n_cats), ppg)
    site, cat = group // n_cats, group % n_cats
    lo = np.array([w.cat_specs[c].commission[0] for c in w.cat_names])[cat]
    hi = np.array([w.cat_specs[c].commission[1] for c in w.cat_names])[cat]
    rate = rng.integers(lo, hi + 1) / 100.0
    price_usd = np.array([w.cat_specs[c].price_usd for c in w.cat_names])[cat]
    dec = w.dec_site[site]
    price = _round_money(
        price_usd * rng.lognormal(0.0, PRICE_SIGMA, n_products) * w.scale_site[site], dec
    )
    price = np.maximum(price, 10.0**-dec)
    sample = _round_money(price * rng.uniform(*SAMPLE_COST_SHARE, n_products), dec)
    ids = _unique_ids(rng, n_products, 1_729_000_000_000_000_000, 10**15)
    return {
        "n": n_products,
        "per_group": ppg,
        "site": site,
        "cat": cat,
        "rate": rate,
        "price": price,
        "sample": sample,
        "ids": ids,
    }


def _draw_rows(
    rng: np.random.Generator,
    w: _World,
    c: dict[str, Any],
    p: dict[str, Any],
    n_rows: int,
    n_days: int,
) -> dict[str, Any]:
    """The content rows: who posted what when, the true rates and the counts drawn."""
    n_cats, ppg = len(w.cat_names), p["per_group"]
    act = c["activity"] / c["activity"].sum()
    creator = np.concatenate([np.arange(c["n"]), rng.choice(c["n"], size=n_rows - c["n"], p=act)])
    day = rng.integers(0, n_days, n_rows)
    # Stable sort by day; 16-bit keys let numpy use its radix sort (same permutation).
    order = np.argsort(day.astype("int16") if n_days < 2**15 else day, kind="stable")
    creator, day = creator[order], day[order]
    del order
    site, tier = c["site"][creator], c["tier"][creator]
    cat = rng.choice(n_cats, size=n_rows, p=w.cat_share)
    prod = (site * n_cats + cat) * ppg + rng.integers(0, ppg, n_rows)
    ctype = rng.choice(len(w.ctype_names), size=n_rows, p=w.ctype_share)
    rate = p["rate"][prod]
    true_ctr = expit(
        w.ctr_intercept
        + w.site_ctr[site]
        + w.cat_ctr[cat]
        + w.tier_ctr[tier]
        + w.ctype_ctr[ctype]
        + c["ctr"][creator]
        + rng.normal(0.0, w.sd["ctr_video_sd"], n_rows)
    )
    true_cvr = expit(
        w.cvr_intercept
        + w.site_cvr[site]
        + w.tier_cvr[tier]
        + w.cat_cvr[cat]
        + w.commission_coef * rate
        + c["cvr"][creator]
    )
    rows = {
        "creator": creator,
        "day": day,
        "site": site,
        "tier": tier,
        "cat": cat,
        "prod": prod,
        "ctype": ctype,
        "rate": rate,
        "true_ctr": true_ctr,
        "true_cvr": true_cvr,
    }
    rows.update(_draw_counts(rng, w, p, rows))
    rows.update(_first_costs(c, p, rows))
    rows["content_ids"] = _unique_ids(rng, n_rows, 7_300_000_000_000_000_000, 10**18)
    return rows


def _draw_counts(
    rng: np.random.Generator, w: _World, p: dict[str, Any], r: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Impressions, clicks, orders, items, views and the money of each row."""
    n_rows = len(r["creator"])
    impressions = 1 + np.floor(rng.lognormal(w.imp_mu[r["tier"]], IMPRESSIONS_SIGMA)).astype(
        "int64"
    )
    clicks = rng.binomial(impressions, r["true_ctr"])
    orders = rng.binomial(clicks, r["true_cvr"])
    items = orders + rng.poisson(ITEMS_PER_ORDER_EXTRA * orders)
    views = np.round(impressions * rng.uniform(*VIEWS_PER_IMPRESSION, n_rows)).astype("int64")
    shape = GMV_GAMMA_K * np.maximum(items, 1)
    dec = w.dec_site[r["site"]]
    gmv = np.where(items > 0, p["price"][r["prod"]] * items * rng.gamma(shape, 1.0 / shape), 0.0)
    del shape
    gmv = _round_money(gmv, dec)
    ret_rate = np.array([w.cat_specs[c].return_rate for c in w.cat_names])[r["cat"]]
    n_ref = rng.binomial(orders, ret_rate)
    refunds = _round_money(np.where(orders > 0, n_ref * gmv / np.maximum(orders, 1), 0.0), dec)
    refunds = np.minimum(refunds, gmv)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "orders": orders,
        "items": items,
        "views": views,
        "gmv": gmv,
        "refunds": refunds,
        "commission": _round_money(r["rate"] * (gmv - refunds), dec),
    }


def _first_costs(c: dict[str, Any], p: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """The first row (in date order) of each creator-product pair carries the sample
    cost, the first row of each creator the flat fee."""
    creator, prod = r["creator"], r["prod"]
    _, first_pair = np.unique(creator * p["n"] + prod, return_index=True)
    sample_cost = np.zeros(len(creator))
    sample_cost[first_pair] = p["sample"][prod[first_pair]]
    _, first_creator = np.unique(creator, return_index=True)
    flat_fee = np.zeros(len(creator))
    flat_fee[first_creator] = c["fee"][creator[first_creator]]
    return {"sample_cost": sample_cost, "flat_fee": flat_fee}


def _content_frame(
    w: _World,
    c: dict[str, Any],
    p: dict[str, Any],
    r: dict[str, Any],
    start: np.datetime64,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical frame and the latent true rates of each row."""
    dates = start + r["day"].astype("timedelta64[D]").astype("timedelta64[s]")
    showcase = r["ctype"] == w.ctype_names.index("showcase")
    creator = r["creator"]
    data = pd.DataFrame(
        {
            "site": pd.Categorical.from_codes(r["site"], categories=w.site_codes),
            "date": pd.array(dates),
            "creator_id": _category_take(c["names"], creator),
            "followers": pd.array(c["followers"][creator], dtype="Int64"),
            "tier": pd.Categorical.from_codes(r["tier"], dtype=TIER_DTYPE),
            "category": pd.Categorical.from_codes(r["cat"], categories=w.cat_names),
            "product_id": _category_take(_int_strings(p["ids"]).tolist(), r["prod"]),
            "content_id": pd.Series(_int_strings(r["content_ids"]))
            .astype("str")
            .astype("category"),
            "content_type": pd.Categorical.from_codes(r["ctype"], categories=w.ctype_names),
            "commission_rate": r["rate"],
            "impressions": r["impressions"],
            "clicks": r["clicks"],
            "orders": r["orders"],
            "items_sold": pd.array(r["items"], dtype="Int64"),
            "video_views": pd.arrays.IntegerArray(r["views"], mask=showcase),
            "gmv": r["gmv"],
            "refunds": r["refunds"],
            "commission_paid": r["commission"],
            "sample_cost": r["sample_cost"],
            "flat_fee": r["flat_fee"],
        },
        copy=False,
    )
    assert list(data.columns) == list(CANONICAL_COLUMNS)
    latent = pd.DataFrame({"true_ctr": r["true_ctr"], "true_cvr": r["true_cvr"]}, copy=False)
    return data, latent


def _creator_table(w: _World, c: dict[str, Any], r: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": pd.array(c["names"], dtype="string"),
            "site": pd.Categorical.from_codes(c["site"], categories=w.site_codes),
            "followers": pd.array(c["followers"], dtype="Int64"),
            "tier": pd.Categorical.from_codes(c["tier"], dtype=TIER_DTYPE),
            "cvr_effect": c["cvr"],
            "ctr_effect": c["ctr"],
            "flat_fee": c["fee"],
            "n_rows": np.bincount(r["creator"], minlength=c["n"]),
        }
    )


def _product_table(w: _World, p: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": _int_strings(p["ids"]),
            "site": pd.Categorical.from_codes(p["site"], categories=w.site_codes),
            "category": pd.Categorical.from_codes(p["cat"], categories=w.cat_names),
            "commission_rate": p["rate"],
            "price": p["price"],
            "unit_sample_cost": p["sample"],
        }
    )


def _truth(w: _World, *, n_rows: int, seed: int, n_creators: int, n_days: int) -> dict[str, Any]:
    """Every parameter of the generating model (``SynthResult.truth``)."""
    cat = w.cat_specs
    return {
        "generator_version": GENERATOR_VERSION,
        "n_rows": n_rows,
        "seed": int(seed),
        "n_creators": n_creators,
        "n_products": None,
        "start_date": None,
        "n_days": int(n_days),
        "sites": {
            s: {
                "share": float(w.site_share[i]),
                "currency": w.currencies[i],
                "currency_per_usd": float(w.scale_site[i]),
                "money_decimals": int(w.dec_site[i]),
                "cvr_offset": float(w.site_cvr[i]),
                "ctr_offset": float(w.site_ctr[i]),
            }
            for i, s in enumerate(w.site_codes)
        },
        "categories": {
            c: {
                "share": float(w.cat_share[j]),
                "commission": list(cat[c].commission),
                "return_rate": cat[c].return_rate,
                "price_usd_median": cat[c].price_usd,
                "baseline_ctr": float(expit(w.ctr_intercept + w.cat_ctr[j])),
                "baseline_cvr": float(
                    expit(
                        w.cvr_intercept
                        + w.cat_cvr[j]
                        + w.commission_coef * np.mean(cat[c].commission) / 100
                    )
                ),
            }
            for j, c in enumerate(w.cat_names)
        },
        "conversion": _conversion_truth(w),
        "ctr": _ctr_truth(w),
        "creators": {
            "followers": "1000 * 10**|N(mu, sd)| from a mixture of (weight, mu, sd)",
            "follower_mixture": [list(m) for m in FOLLOWER_MIXTURE],
            "tier_thresholds": {k: int(v) for k, v in w.thresholds.items()},
            "tier_share": _tier_shares(w.thresholds),
            "activity_lognormal_sd": 0.6,
            "flat_fee_share": FLAT_FEE_SHARE,
            "flat_fee_usd": {k: list(v) for k, v in FLAT_FEE_USD.items()},
        },
        "impressions": {
            "model": "1 + floor(lognormal(log(median[tier]), sigma))",
            "median_by_tier": dict(IMPRESSIONS_MEDIAN),
            "sigma": IMPRESSIONS_SIGMA,
        },
        "content_mix": dict(CONTENT_MIX),
        "counts": dict(_COUNT_MODELS),
    }


_COUNT_MODELS = {
    "items_sold": f"orders + Poisson({ITEMS_PER_ORDER_EXTRA} * orders)",
    "video_views": f"round(impressions * Uniform{VIEWS_PER_IMPRESSION}); missing for showcase",
    "gmv": f"price * items_sold * Gamma(k*items, 1/(k*items)), k={GMV_GAMMA_K}",
    "refunds": "Binomial(orders, return_rate) * gmv / orders",
    "commission_paid": "commission_rate * (gmv - refunds)",
    "sample_cost": f"first row of each creator-product pair: price * Uniform{SAMPLE_COST_SHARE}",
    "flat_fee": "first row of flat-fee creators (mid and above)",
    "price": f"price_usd_median * lognormal(0, {PRICE_SIGMA}) * currency_per_usd",
}


def _conversion_truth(w: _World) -> dict[str, Any]:
    return {
        "formula": "logit(p) = intercept + site_offset + tier + category + commission_rate * rate + b, b ~ N(0, creator_sd)",
        "intercept": float(w.cvr_intercept),
        "site_offset": {s: float(w.site_cvr[i]) for i, s in enumerate(w.site_codes)},
        "tier": {t: float(w.tier_cvr[k]) for k, t in enumerate(TIERS)},
        "category": {c: float(w.cat_cvr[j]) for j, c in enumerate(w.cat_names)},
        "commission_rate": float(w.commission_coef),
        "creator_sd": float(w.sd["creator_sd"]),
    }


def _ctr_truth(w: _World) -> dict[str, Any]:
    return {
        "formula": (
            "logit(p) = intercept + site_offset + category + tier + content_type + c + e, "
            "c ~ N(0, creator_sd) per creator, e ~ N(0, video_sd) per row"
        ),
        "intercept": float(w.ctr_intercept),
        "site_offset": {s: float(w.site_ctr[i]) for i, s in enumerate(w.site_codes)},
        "category": {c: float(w.cat_ctr[j]) for j, c in enumerate(w.cat_names)},
        "tier": {t: float(w.tier_ctr[k]) for k, t in enumerate(TIERS)},
        "content_type": {c: float(w.ctype_ctr[k]) for k, c in enumerate(w.ctype_names)},
        "creator_sd": float(w.sd["ctr_creator_sd"]),
        "video_sd": float(w.sd["ctr_video_sd"]),
    }


def _with_derived(truth: dict[str, Any]) -> dict[str, Any]:
    """``truth`` plus what follows from it (pattern rates, marginal coefficients)."""
    key = json.dumps({k: truth[k] for k in _DERIVED_FROM}, sort_keys=True)
    truth.update(json.loads(_derived_truth(key)))
    return truth


# --------------------------------------------------------------------------- writer

# Canonical column -> (English header, Chinese header) of the videos export; every
# spelling is one of helpers.schema.HEADER_ALIASES except the informative CTR.
VIDEO_HEADERS: dict[str, tuple[str, str]] = {
    "content_id": ("Video ID", "视频 ID"),
    "date": ("Post date", "发布日期"),
    "creator_id": ("Creator name", "达人名称"),
    "product_id": ("Product ID", "商品 ID"),
    "site": ("Site", "站点"),
    "content_type": ("Content type", "内容类型"),
    "gmv": ("Creator video-attributed GMV", "联盟视频归因GMV"),
    "orders": ("Video-attributed orders", "归因于视频的订单数"),
    "items_sold": ("Video-attributed items sold", "视频归因成交件数"),
    "refunds": ("Refunds", "退款金额"),
    "commission_paid": ("Est. commission", "预计佣金"),
    "flat_fee": ("Est. flat fee", "预计固定费用"),
    "video_views": ("Video views", "视频播放量"),
    "impressions": ("Video product impressions", "视频商品曝光次数"),
    "clicks": ("Video product clicks", "视频商品点击量"),
    "ctr": ("CTR", "商品点击率"),
    "sample_cost": ("Sample cost", "样品成本"),
}
CREATOR_HEADERS: dict[str, tuple[str, str]] = {
    "creator_id": ("Creator name", "达人名称"),
    "site": ("Site", "站点"),
    "followers": ("Followers", "粉丝数"),
}
PRODUCT_HEADERS: dict[str, tuple[str, str]] = {
    "product_id": ("Product ID", "商品 ID"),
    "product_name": ("Product name", "商品名称"),
    "category": ("Category", "类目"),
    "commission_rate": ("Commission rate", "佣金率"),
    "site": ("Site", "站点"),
}
OLD_HEADERS: dict[str, str] = {
    "Creator video-attributed GMV": "Affiliate video-attributed GMV",
    "Followers": "Affiliate followers",
}
"""English headers as spelled in exports before the 2026 rename."""

EXPORT_FILES: dict[str, str] = {
    "videos": "affiliate_videos",
    "creators": "affiliate_creators",
    "products": "affiliate_products",
}
"""Stem of each export file (the suffix is the format)."""

EXPORT_TITLES: dict[str, tuple[str, str]] = {
    "videos": ("Affiliate video performance", "联盟视频表现"),
    "creators": ("Affiliate creators", "联盟达人"),
    "products": ("Affiliate products", "联盟商品"),
}
_LANGUAGES = ("en", "zh")
_FORMATS = ("csv", "xlsx")
_NA = "--"


def _money_strings(values: np.ndarray, site: np.ndarray, *, symbols: bool) -> list[str]:
    """Format money per site: "$1,234.56", "£980.00", "Rp 1.234.567", "฿1,234.00"
    (symbols=True) or plain "1234.56" (symbols=False; decimals per currency)."""
    out = []
    for v, s in zip(values.tolist(), site.tolist(), strict=True):
        info = SITES[s]
        d = CURRENCY_DECIMALS.get(info.currency, 2)
        if math.isnan(v):
            out.append(_NA if symbols else "")
            continue
        if not symbols:
            out.append(f"{v:.{d}f}")
            continue
        text = f"{v:,.{d}f}"
        if (info.thousands_sep, info.decimal_sep) != (",", "."):
            text = (
                text.replace(",", "\0")
                .replace(".", info.decimal_sep)
                .replace("\0", info.thousands_sep)
            )
        sym = info.symbol + (" " if info.symbol[-1].isalpha() else "")
        out.append(sym + text)
    return out


def _count_strings(
    values: Sequence[Any], site: np.ndarray, *, separators: bool, numeric: bool = False
) -> list[str | int]:
    """Counts with "," thousands separators; sites whose separator is "." get none, so
    "1.234" never has to be guessed. Missing values are "--" (quirks) or "". With
    ``numeric`` counts stay ints (XLSX number cells)."""
    out: list[str | int] = []
    for v, s in zip(values, site.tolist(), strict=True):
        if v is None or v is pd.NA:
            out.append(_NA if separators else "")
        elif numeric:
            out.append(int(v))
        elif separators and SITES[s].thousands_sep == ",":
            out.append(f"{int(v):,}")
        else:
            out.append(str(int(v)))
    return out


def _as_frame(result_or_frame: SynthResult | pd.DataFrame) -> pd.DataFrame:
    df = result_or_frame.data if isinstance(result_or_frame, SynthResult) else result_or_frame
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"write_exports needs a SynthResult or a canonical DataFrame, got {type(df).__name__}"
        )
    missing = [c for c in CANONICAL_COLUMNS if c not in df.columns]
    if missing:
        raise ParameterError(
            f"the frame lacks canonical column(s) {missing}; write_exports needs every column of "
            "helpers.schema.CANONICAL_COLUMNS (make_affiliate_data produces them all)"
        )
    unknown_sites = sorted(set(df["site"].astype(str)) - set(SITES))
    if unknown_sites:
        raise ParameterError(
            f"unknown site(s) {unknown_sites} in column 'site'; accepted: {sorted(SITES)}"
        )
    return df


def _tables(
    df: pd.DataFrame,
    *,
    language: str,
    quirks: bool,
    rng: np.random.Generator,
    numeric_counts: bool = False,
) -> dict[str, pd.DataFrame]:
    """The three exports as frames of display strings (headers in ``language``)."""
    return {
        "videos": _video_table(
            df, language=language, quirks=quirks, rng=rng, numeric_counts=numeric_counts
        ),
        "creators": _creator_export(df, language, quirks=quirks, numeric_counts=numeric_counts),
        "products": _product_export(df, language),
    }


def _video_table(
    df: pd.DataFrame,
    *,
    language: str,
    quirks: bool,
    rng: np.random.Generator,
    numeric_counts: bool = False,
) -> pd.DataFrame:
    """The videos export as a frame of display strings (headers in ``language``)."""
    lang = _LANGUAGES.index(language)
    site = df["site"].astype(str).to_numpy()
    n = len(df)

    def na_some(texts: list[str], zero: np.ndarray, share: float) -> list[str]:
        # "--" only where the canonical value is 0, so the file still reads back exactly.
        if not quirks:
            return texts
        flip = zero & (rng.random(n) < share)
        return [_NA if f else t for t, f in zip(texts, flip.tolist(), strict=True)]

    date_fmt = "%m/%d/%Y" if language == "en" else "%Y-%m-%d"
    dates = pd.to_datetime(df["date"])
    date_txt = [("" if pd.isna(d) else d.strftime(date_fmt)) for d in dates]
    imp = df["impressions"].to_numpy(dtype="int64")
    clk = df["clicks"].to_numpy(dtype="int64")
    ctr = np.divide(clk, imp, out=np.full(n, np.nan), where=imp > 0) * 100
    ctr_txt = [_NA if np.isnan(v) else f"{v:.2f}%" for v in ctr.tolist()]
    money = {
        c: _money_strings(df[c].to_numpy(dtype="float64"), site, symbols=quirks)
        for c in ("gmv", "refunds", "commission_paid", "flat_fee", "sample_cost")
    }
    money["refunds"] = na_some(money["refunds"], df["refunds"].to_numpy() == 0, 0.6)
    money["flat_fee"] = na_some(money["flat_fee"], df["flat_fee"].to_numpy() == 0, 0.8)
    counts = {
        c: _count_strings(
            df[c].astype("object").where(df[c].notna(), None).tolist(),
            site,
            separators=quirks,
            numeric=numeric_counts,
        )
        for c in ("orders", "items_sold", "video_views", "impressions", "clicks")
    }
    ctype = df["content_type"].astype("object")
    ctype_txt = ctype.map({"video": "Video", "live": "LIVE", "showcase": "Showcase"}).where(
        ctype.notna(), ""
    )
    values = {
        "content_id": df["content_id"].astype("object").fillna("").tolist(),
        "date": date_txt,
        "creator_id": df["creator_id"].astype("object").tolist(),
        "product_id": df["product_id"].astype("object").fillna("").tolist(),
        "site": site.tolist(),
        "content_type": ctype_txt.tolist(),
        "ctr": ctr_txt,
        **money,
        **counts,
    }
    videos = pd.DataFrame(
        {VIDEO_HEADERS[c][lang]: values[c] for c in VIDEO_HEADERS}, dtype="object"
    )
    return videos


def _creator_export(
    df: pd.DataFrame, language: str, *, quirks: bool, numeric_counts: bool
) -> pd.DataFrame:
    """The creators export: one row per creator and site with its followers."""
    lang = _LANGUAGES.index(language)
    cre = df[["creator_id", "site", "followers"]].drop_duplicates(["creator_id", "site"])
    fol = cre.groupby(["creator_id", "site"], observed=True)["followers"].nunique(dropna=False)
    if (fol > 1).any():
        bad = fol[fol > 1].index[0]
        raise ParameterError(
            f"creator {bad[0]!r} on site {bad[1]} has several follower counts; the creators export "
            "holds one per creator and site: make followers constant per creator before writing"
        )
    cre_site = cre["site"].astype(str).to_numpy()
    creators = pd.DataFrame(
        {
            CREATOR_HEADERS["creator_id"][lang]: cre["creator_id"].astype("object").tolist(),
            CREATOR_HEADERS["site"][lang]: cre_site.tolist(),
            CREATOR_HEADERS["followers"][lang]: _count_strings(
                cre["followers"].astype("object").where(cre["followers"].notna(), None).tolist(),
                cre_site,
                separators=quirks,
                numeric=numeric_counts,
            ),
        },
        dtype="object",
    )
    return creators


def _product_export(df: pd.DataFrame, language: str) -> pd.DataFrame:
    """The products export: one row per product and site (name, category, rate)."""
    lang = _LANGUAGES.index(language)
    prod = df[["product_id", "site", "category", "commission_rate"]].drop_duplicates()
    dup = prod.duplicated(["product_id", "site"], keep=False)
    if dup.any():
        bad = prod.loc[dup].iloc[0]
        raise ParameterError(
            f"product {bad['product_id']!r} on site {bad['site']} has several categories or commission "
            "rates; the products export holds one of each per product and site"
        )
    prod = prod.sort_values(["site", "category", "product_id"], kind="stable")
    k = prod.groupby(["site", "category"], observed=True).cumcount() + 1
    cat = prod["category"].astype(str)
    name = (
        cat.str.capitalize() + " item " + k.astype(str).str.zfill(3)
        if language == "en"
        else cat + " 商品 " + k.astype(str).str.zfill(3)
    )
    rate = prod["commission_rate"].to_numpy(dtype="float64") * 100
    rate_txt = [f"{v:.10g}%" for v in np.round(rate, 4).tolist()]
    products = pd.DataFrame(
        {
            PRODUCT_HEADERS["product_id"][lang]: prod["product_id"].astype("object").tolist(),
            PRODUCT_HEADERS["product_name"][lang]: name.tolist(),
            PRODUCT_HEADERS["category"][lang]: cat.tolist(),
            PRODUCT_HEADERS["commission_rate"][lang]: rate_txt,
            PRODUCT_HEADERS["site"][lang]: prod["site"].astype(str).tolist(),
        },
        dtype="object",
    )
    return products


def _write_xlsx(table: pd.DataFrame, path: Path, title_rows: Sequence[str]) -> None:
    import xlsxwriter

    # Strings stay strings: 19-digit ids must not become floats.
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # A fixed creation time keeps regenerated files byte-identical.
    wb.set_properties({"created": datetime.datetime(2026, 1, 1)})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True})
    r = 0
    for t in title_rows:
        ws.write_string(r, 0, t, bold)
        r += 1
    for j, h in enumerate(table.columns):
        ws.write_string(r, j, str(h), bold)
    r += 1
    for row in table.itertuples(index=False, name=None):
        for j, v in enumerate(row):
            ws.write_string(r, j, v) if isinstance(v, str) else ws.write(r, j, v)
        r += 1
    wb.close()


FLAWED_ROWS: dict[str, int] = {
    "duplicate row": 3,
    "orders > clicks": 2,
    "clicks > impressions": 1,
    "unknown site": 1,
    "not a number": 1,
}
"""Faults :func:`write_exports` adds with ``flawed_rows=True``, and how many rows of each."""


def _with_flawed_rows(videos: pd.DataFrame, *, lang: int) -> pd.DataFrame:
    """The videos table with the rows of :data:`FLAWED_ROWS` inserted after their source."""

    def col(name: str) -> str:
        return VIDEO_HEADERS[name][lang]

    # Independent of the quirks seed, so English and Chinese files get the same faults.
    rng = np.random.default_rng(len(videos))
    clicks = pd.to_numeric(videos[col("clicks")].astype(str).str.replace(",", ""), errors="coerce")
    orders = pd.to_numeric(videos[col("orders")].astype(str).str.replace(",", ""), errors="coerce")
    with_clicks = np.flatnonzero((clicks >= 2).to_numpy() & (orders >= 1).to_numpy())
    sources = rng.choice(with_clicks, size=sum(FLAWED_ROWS.values()), replace=False)
    extra: list[tuple[int, pd.Series]] = []
    it = iter(sources.tolist())
    for fault, count in FLAWED_ROWS.items():
        for k in range(count):
            i = next(it)
            row = videos.iloc[i].copy()
            if fault != "duplicate row":  # a new video id, so only the fault is wrong
                row[col("content_id")] = f"{row[col('content_id')]}{k + 1}"
            if fault == "orders > clicks":
                row[col("orders")] = clicks.iloc[i] + 3
                row[col("items_sold")] = clicks.iloc[i] + 3
            elif fault == "clicks > impressions":
                row[col("impressions")] = 1
            elif fault == "unknown site":
                row[col("site")] = "XX"
            elif fault == "not a number":
                row[col("impressions")] = "n/a?"
            extra.append((i, row))
    extra.sort(key=lambda pair: pair[0])
    pieces, start = [], 0
    for i, row in extra:
        pieces += [videos.iloc[start : i + 1], row.to_frame().T]
        start = i + 1
    pieces.append(videos.iloc[start:])
    return pd.concat(pieces, ignore_index=True)


def write_exports(
    result_or_frame: SynthResult | pd.DataFrame,
    out_dir: str | Path,
    *,
    language: str = "en",
    fmt: str = "csv",
    encoding: str | None = None,
    quirks: bool = True,
    seed: int = 0,
    old_names: bool = False,
    flawed_rows: bool = False,
) -> dict[str, Path]:
    """Write a canonical frame as Seller Center style exports.

    Three files: a videos export (one row per content row: Video ID, Post date,
    Creator name, Product ID, Site, Content type, GMV, orders, items sold, Refunds,
    Est. commission, Est. flat fee, Video views, impressions, clicks, CTR, Sample
    cost), a creators export (Creator name, Site, Followers) and a products export
    (Product ID, Product name, Category, Commission rate, Site). Tier, category and
    commission rate are therefore only recoverable by joining the three on creator and
    site / product and site, as with real exports.

    With ``quirks=True`` the files look like real ones: money with currency symbols and
    the site's separators ("$1,234.56", "£980.00", "Rp 1.234.567", "฿1,234.00"), counts
    with thousands separators (none on sites whose separator is "."), rates as "15%",
    "--" for a missing video views count and for some refunds and flat fees that are 0
    (never for a value that is not 0), one header with a trailing space. Without quirks
    money and counts are plain numbers. Dates are MM/DD/YYYY in English and YYYY-MM-DD
    in Chinese. XLSX files have two title rows above the header.

    Parameters
    ----------
    result_or_frame : SynthResult or pandas.DataFrame
        Output of :func:`make_affiliate_data`, or a frame with every canonical column.
    out_dir : str or Path
        Folder to write into (created if needed).
    language : {"en", "zh"}
        Header language.
    fmt : {"csv", "xlsx"}
        File format.
    encoding : str, optional
        CSV encoding; default "utf-8-sig" (UTF-8 with BOM, as Excel writes it) for
        English and "gb18030" (Chinese Excel) for Chinese.
    quirks : bool
        Imitate the quirks of real exports (see above).
    seed : int
        Seed for which zero cells become "--".
    old_names : bool
        Use the pre-2026 English names ("Affiliate video-attributed GMV",
        "Affiliate followers").
    flawed_rows : bool
        Add the faults real exports have, as :data:`FLAWED_ROWS` extra rows of the
        videos export (a row exported twice, more orders than clicks, more clicks
        than impressions, an unknown site code, text in a count column). The loader
        rejects every one of them with a reason, so the kept rows still equal the
        frame. The same rows are added in every language.

    Returns
    -------
    dict of str to Path
        ``{"videos": ..., "creators": ..., "products": ...}``.

    Raises
    ------
    ValueError
        On an unknown language or format, a frame without the canonical columns, or a
        creator / product whose attributes are not constant.
    """
    if language not in _LANGUAGES:
        raise ParameterError(f"language must be one of {list(_LANGUAGES)}, got {language!r}")
    if fmt not in _FORMATS:
        raise ParameterError(f"fmt must be one of {list(_FORMATS)}, got {fmt!r}")
    df = _as_frame(result_or_frame)
    rng = np.random.default_rng(seed)
    tables = _tables(df, language=language, quirks=quirks, rng=rng, numeric_counts=fmt == "xlsx")
    if old_names and language == "en":
        tables = {k: t.rename(columns=OLD_HEADERS) for k, t in tables.items()}
    if flawed_rows:
        tables["videos"] = _with_flawed_rows(tables["videos"], lang=_LANGUAGES.index(language))
    if quirks:
        # A stray trailing space, as in real headers ("视频 ID" has one inside already).
        v = tables["videos"]
        tables["videos"] = v.rename(columns={v.columns[10]: v.columns[10] + " "})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    enc = encoding or ("utf-8-sig" if language == "en" else "gb18030")
    dates = pd.to_datetime(df["date"]).dropna()
    if len(dates):
        fmt_d = "%m/%d/%Y" if language == "en" else "%Y-%m-%d"
        span = f"{dates.min().strftime(fmt_d)} - {dates.max().strftime(fmt_d)}"
    else:
        span = "--"
    paths: dict[str, Path] = {}
    lang = _LANGUAGES.index(language)
    for kind, table in tables.items():
        path = out / f"{EXPORT_FILES[kind]}.{fmt}"
        if fmt == "csv":
            table.to_csv(path, index=False, encoding=enc)
        else:
            date_label = "Date range: " if language == "en" else "日期范围："
            _write_xlsx(table, path, [EXPORT_TITLES[kind][lang], date_label + span])
        paths[kind] = path
    return paths


README_TEXT = """\
# Synthetic affiliate exports ({n_rows} rows, seed {seed})

**This data is synthetic.** It was generated by `helpers/synth.py` (generator version
{version}) with a known truth, so the kit's estimates can be checked against it. It
describes no real shop, creator or product.

Regenerate with `python -m helpers.synth --rows {n_rows} --seed {seed} --out {out}`
(or `make sample-data`).

| file | what |
|---|---|
| `affiliate_videos.csv` | videos export: one row per video/LIVE/showcase and product (English headers, UTF-8 with BOM, dates MM/DD/YYYY) |
| `affiliate_creators.csv` | creators export: Creator name, Site, Followers |
| `affiliate_products.csv` | products export: Product ID, Product name, Category, Commission rate, Site |
| `zh/` | the same data with Chinese headers as {zh_desc} (dates YYYY-MM-DD) |
| `truth.json` | every generating parameter: conversion and CTR logit coefficients, marginal (population-averaged) coefficients, expected pooled CTR/CVR by site and category, tier shares, ... |

Files imitate Seller Center quirks: currency symbols and thousands separators per
site ("$1,234.56", "Rp 1.234.567"), rates as "15%", "--" for empty or zero cells.
The videos export also holds {n_flawed} faulty rows, as real exports do (a row exported
twice, more orders than clicks, more clicks than impressions, an unknown site code,
text in a count column): the loader rejects each with its reason and the data-health
report counts them, so the kept rows are exactly the {n_rows} generated ones.
Money is in each site's own currency (sites: {sites}); never add it up across sites.
Tier, category and commission rate come from joining the videos export with the
creators export (Creator name + Site) and the products export (Product ID + Site).
"""


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate a synthetic data folder (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.synth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=30_000, help="content rows (default 30000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--sites", default="US,UK,ID,TH", help="comma-separated site codes")
    parser.add_argument(
        "--zh-format",
        choices=_FORMATS,
        default="xlsx",
        help="format of the Chinese exports in OUT/zh",
    )
    parser.add_argument(
        "--no-flaws",
        action="store_true",
        help="do not add the few faulty rows (duplicates, orders > clicks, ...) that the "
        "loader rejects",
    )
    args = parser.parse_args(argv)
    res = make_affiliate_data(args.rows, seed=args.seed, sites=args.sites)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    flawed = not args.no_flaws
    written = write_exports(res, out, language="en", fmt="csv", seed=args.seed, flawed_rows=flawed)
    written_zh = write_exports(
        res, out / "zh", language="zh", fmt=args.zh_format, seed=args.seed + 1, flawed_rows=flawed
    )
    (out / "truth.json").write_text(
        json.dumps(res.truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(
        README_TEXT.format(
            n_rows=args.rows,
            seed=args.seed,
            version=GENERATOR_VERSION,
            out=out.as_posix(),
            sites=", ".join(res.truth["sites"]),
            n_flawed=sum(FLAWED_ROWS.values()) if flawed else 0,
            zh_desc=(
                "XLSX with two title rows"
                if args.zh_format == "xlsx"
                else "CSV encoded GB18030 (Chinese Excel)"
            ),
        ),
        encoding="utf-8",
    )
    for p in [*written.values(), *written_zh.values(), out / "truth.json", out / "README.md"]:
        print(f"wrote {p} ({p.stat().st_size / 1024:,.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
