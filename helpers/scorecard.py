"""Creator scorecard: one row per creator and site, with a keep / test more / drop
recommendation from stated rules, and Excel-safe exports.

The question a seller asks: which creators should I keep working with, which need
more evidence, and which should I stop paying for (定期淘汰低转化达人), without
dropping anyone on 30 clicks?

What a row holds (per site: sites are never pooled, every model is fitted per site)
------------------------------------------------------------------------------------
volume
    pieces of content, impressions, clicks, orders, GMV, refunds, net GMV, the
    promotion cost (commission on net sales + samples + flat fees, the definitions of
    :mod:`helpers.metrics`).
CTR and lift vs the US benchmark
    from :func:`helpers.lift.ctr_lift` at ``level="creator"``, whose units are
    (site, category, creator): each is shrunk (empirical Bayes) towards its category.
    A creator's row combines its categories by indirect standardisation: the lift is
    ``clicks / expected clicks - 1`` where expected clicks = sum over the creator's
    categories of impressions x benchmark CTR, and the shrunk lift uses the shrunk
    clicks (shrunk CTR x impressions) in the numerator.
expected and shrunk CVR
    the expected CVR is the creator's click-weighted prediction from a binomial GLM of
    orders / clicks on tier, category and commission rate fitted on the site
    (:func:`helpers.conversion.fit_conversion`; a creator's own rows are part of the
    fit, a mild double use that matters little with many creators). The shrunk CVR is
    the empirical-Bayes posterior mean of a beta-binomial model whose prior for each
    creator is centred on that expected CVR. The spread of true CVRs around the
    expectation is one precision ``m`` per site fitted by maximum likelihood
    (``scipy.stats.betabinom``, ``scipy.optimize.minimize_scalar``; capped at a prior
    worth 10,000 clicks so that intervals never collapse to zero width). Each
    creator's prior variance is that spread, ``e (1 - e) / (m + 1)``, plus the
    sampling variance of the expected CVR ``e`` itself (delta method with the
    conversion model's cluster-robust covariance), so a poorly estimated expectation
    gives a wider prior. The prior is the beta distribution with that mean and
    variance; the interval is the beta posterior's equal-tailed interval
    (``scipy.stats.beta.ppf``).
net and profit ROI with an interval
    net ROI = (GMV - refunds) / promotion cost. Profit ROI = contribution / promotion
    cost, contribution = net GMV x (1 - unit cost rate - platform fee rate)
    (:func:`helpers.metrics.profit_roi`): profit ROI 1 is break-even, below 1 a loss.
    With one unit cost rate ``u`` and one platform fee rate ``p`` per site, profit ROI
    = (1 - u - p) x net ROI, so break-even is a net ROI of 1 / (1 - u - p)
    (1.69 at u = 0.35, p = 0.06).

    The interval is a percentile bootstrap over the creator's pieces of content
    (``content_id``; a row without one is its own piece): each replicate resamples the
    pieces with replacement and recomputes ``net* / (commission* + F)``, where net*
    and commission* are sums over the resampled pieces and ``F`` = the creator's
    samples + flat fees. Samples and flat fees are lump sums booked on one row per
    creator (or creator and product), not per-piece random costs, so they are known
    constants of every replicate (resampling them would leave the fee out of about
    37 % of replicates and inflate the upper bound). ``n_boot`` replicates, seeded;
    at least ``rules.min_content`` pieces are needed, otherwise the interval is left
    empty. It describes the uncertainty of the creator's sales per piece of content,
    not of future prices, costs or the rates ``u`` and ``p``.
missing commission rates
    a row without ``commission_rate`` gets its commission from ``commission_paid``
    when that is present, and commission 0 when it has no net sales (no commission is
    due whatever the rate). Otherwise its commission is unknown: the row still counts
    for volume, CTR and CVR, but its creator gets no ROI (promotion cost unknown) and
    cannot be kept or dropped on ROI; the rows are counted in ``excluded`` and in the
    column ``rows_commission_unknown``, and the reason says so.

Recommendation rules (:func:`recommend`, parameters in :class:`ScorecardRules`),
applied in this order:

1. **drop** when clicks >= ``min_clicks_drop`` and the upper bound of the profit ROI
   interval < ``roi_threshold`` (1): even optimistically, the creator's net sales
   after product cost and platform fee do not cover the promotion cost.
2. **keep** when clicks >= ``min_clicks_keep`` and the lower bound of the profit ROI
   interval > ``roi_threshold``: even pessimistically, net sales after product cost
   and platform fee exceed the promotion cost (at the stated unit cost and fee rates).
3. **drop** when clicks >= ``min_clicks_drop`` and the upper bound of the shrunk CVR
   < ``cvr_drop_ratio`` x the expected CVR for the creator's tier, category and
   commission: converts clearly worse than comparable creators.
4. otherwise **test more**, with the missing evidence in words.

So nobody is dropped on fewer than ``min_clicks_drop`` clicks (200 by default), and
ROI decides before CVR: a creator who is clearly profitable is kept even with a low CVR.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from helpers import conversion, lift, metrics
from helpers.errors import ModelError
from helpers.outputs import excel_safe
from helpers.schema import SITES

__all__ = [
    "RECOMMENDATIONS",
    "ScorecardResult",
    "ScorecardRules",
    "build_scorecard",
    "excel_safe",
    "export_scorecard",
    "recommend",
]

RECOMMENDATIONS: tuple[str, ...] = ("keep", "test more", "drop")
"""The three recommendations, in display order."""

_REQUIRED = (
    "site",
    "creator_id",
    "tier",
    "category",
    "commission_rate",
    "impressions",
    "clicks",
    "orders",
    "gmv",
)
# An unbounded EB fit can make the prior infinitely strong when creators vary no more
# than chance in a small site, giving zero-width CVR intervals; the cap keeps a prior
# worth at most this many clicks (about +-0.4 points around a 4 % CVR).
_MAX_PRIOR_CLICKS = 10_000


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class ScorecardRules:
    """Thresholds of the keep / test more / drop rules (see the module docstring).

    Parameters
    ----------
    min_clicks_drop : int
        Minimum clicks before anyone can be dropped (default 200: about 8 orders at a 4 %
        CVR; never 30 clicks).
    min_clicks_keep : int
        Minimum clicks before anyone can be kept (default 100).
    min_content : int
        Minimum pieces of content for an ROI interval (default 3).
    roi_threshold : float
        Profit ROI that separates making money from losing it (default 1: the
        contribution, net sales after product cost and platform fee, equals the
        promotion cost). The unit cost and platform fee rates are arguments of
        :func:`build_scorecard`.
    cvr_drop_ratio : float
        Drop when the shrunk CVR's upper bound is below this share of the expected CVR
        (default 0.7: even the optimistic bound converts less than 70 % as well as
        comparable creators).
    alpha : float
        1 - confidence level of the intervals (default 0.05).
    """

    min_clicks_drop: int = 200
    min_clicks_keep: int = 100
    min_content: int = 3
    roi_threshold: float = 1.0
    cvr_drop_ratio: float = 0.7
    alpha: float = 0.05

    def __post_init__(self) -> None:
        for name in ("min_clicks_drop", "min_clicks_keep", "min_content"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                raise ValueError(f"{name} must be a whole number >= 0; got {v!r}")
        if self.min_content < 2:
            raise ValueError(
                f"min_content must be at least 2 (a bootstrap of one piece has no spread); got {self.min_content}"
            )
        if not (isinstance(self.roi_threshold, int | float) and self.roi_threshold > 0):
            raise ValueError(
                f"roi_threshold must be a positive number such as 1.0 (profit ROI break-even); got {self.roi_threshold!r}"
            )
        if not 0 < self.cvr_drop_ratio <= 1:
            raise ValueError(
                f"cvr_drop_ratio must be in (0, 1], e.g. 0.5 for 'half the expected CVR'; got {self.cvr_drop_ratio!r}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), e.g. 0.05; got {self.alpha!r}")

    def describe(self) -> list[str]:
        """The rules in words, in the order they are applied."""
        conf = f"{1 - self.alpha:.0%}"
        r = self.roi_threshold
        return [
            f"1. drop: at least {self.min_clicks_drop:,} clicks and the upper {conf} bound of profit ROI "
            f"is below {r:g} (even optimistically, net sales after product cost and platform fee "
            "do not cover the promotion cost).",
            f"2. keep: at least {self.min_clicks_keep:,} clicks and the lower {conf} bound of profit ROI "
            f"is above {r:g} (even pessimistically, net sales after product cost and platform fee "
            "exceed the promotion cost).",
            f"3. drop: at least {self.min_clicks_drop:,} clicks and the upper {conf} bound of the shrunk "
            f"CVR is below {self.cvr_drop_ratio:.0%} of the CVR expected for the creator's tier, "
            "category and commission.",
            "4. test more: everything else; the reason says which evidence is missing. "
            f"The ROI interval needs at least {self.min_content} pieces of content, and a known "
            "commission on every row with sales.",
        ]

    def to_dict(self) -> dict[str, Any]:
        """The thresholds as a plain dict."""
        return asdict(self)


def recommend(card: pd.DataFrame, rules: ScorecardRules | None = None) -> pd.DataFrame:
    """Apply the keep / test more / drop rules to scorecard rows.

    Parameters
    ----------
    card : pandas.DataFrame
        Rows with ``clicks``, ``n_content``, ``profit_roi_low``, ``profit_roi_high``,
        ``shrunk_cvr_high`` and ``expected_cvr`` (missing values mean "no evidence");
        ``tier``, ``main_category`` and ``rows_commission_unknown`` are used in the
        reason when present.
    rules : ScorecardRules, optional
        Thresholds; the defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``card``: ``recommendation`` (one of :data:`RECOMMENDATIONS`),
        ``rule`` (1-4, the rule that decided) and ``reason`` (in words).

    Raises
    ------
    ValueError
        If a column is missing.
    """
    rules = rules or ScorecardRules()
    needed = [
        "clicks",
        "n_content",
        "profit_roi_low",
        "profit_roi_high",
        "shrunk_cvr_high",
        "expected_cvr",
    ]
    missing = [c for c in needed if c not in card.columns]
    if missing:
        raise ValueError(
            f"recommend() needs the columns {missing}; the frame has {list(card.columns)}. "
            "Build the frame with build_scorecard()."
        )
    conf = f"{1 - rules.alpha:.0%}"
    r = rules.roi_threshold
    recs: list[str] = []
    rule_no: list[int] = []
    reasons: list[str] = []
    for row in card.itertuples(index=False):
        clicks = int(row.clicks)
        n_content = int(row.n_content)
        lo, hi = _f(row.profit_roi_low), _f(row.profit_roi_high)
        cvr_hi, exp_cvr = _f(row.shrunk_cvr_high), _f(row.expected_cvr)
        unknown = _f(getattr(row, "rows_commission_unknown", 0))
        unknown = 0 if math.isnan(unknown) else int(unknown)
        enough_drop = clicks >= rules.min_clicks_drop
        enough_keep = clicks >= rules.min_clicks_keep
        if enough_drop and not math.isnan(hi) and hi < r:
            recs.append("drop")
            rule_no.append(1)
            reasons.append(
                f"{clicks:,} clicks and profit ROI at most {hi:.2f} (upper {conf} bound) < {r:g}: "
                "net sales after product cost and platform fee do not cover the promotion cost."
            )
        elif enough_keep and not math.isnan(lo) and lo > r:
            recs.append("keep")
            rule_no.append(2)
            reasons.append(
                f"profit ROI at least {lo:.2f} (lower {conf} bound) > {r:g} on {clicks:,} clicks: "
                "net sales after product cost and platform fee exceed the promotion cost."
            )
        elif (
            enough_drop
            and not math.isnan(cvr_hi)
            and not math.isnan(exp_cvr)
            and cvr_hi < rules.cvr_drop_ratio * exp_cvr
        ):
            who = _who(row)
            recs.append("drop")
            rule_no.append(3)
            reasons.append(
                f"{clicks:,} clicks and CVR at most {cvr_hi:.2%} (upper {conf} bound, shrunk), below "
                f"{rules.cvr_drop_ratio:.0%} of the {exp_cvr:.2%} expected for {who}."
            )
        else:
            recs.append("test more")
            rule_no.append(4)
            reasons.append(
                _test_more_reason(clicks, n_content, lo, hi, cvr_hi, exp_cvr, unknown, rules)
            )
    return pd.DataFrame(
        {"recommendation": recs, "rule": rule_no, "reason": reasons},
        index=card.index,
    )


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _who(row: Any) -> str:
    tier = getattr(row, "tier", None)
    cat = getattr(row, "main_category", None)
    parts = []
    if tier is not None and not pd.isna(tier):
        parts.append(f"a {tier} creator")
    else:
        parts.append("a comparable creator")
    if cat is not None and not pd.isna(cat):
        parts.append(f"mostly in {cat}")
    return " ".join(parts) + " at this commission"


def _test_more_reason(
    clicks: int,
    n_content: int,
    lo: float,
    hi: float,
    cvr_hi: float,
    exp_cvr: float,
    unknown: int,
    rules: ScorecardRules,
) -> str:
    parts = []
    if clicks < rules.min_clicks_keep:
        parts.append(
            f"only {clicks:,} clicks (keeping needs {rules.min_clicks_keep:,}, dropping {rules.min_clicks_drop:,})"
        )
    elif clicks < rules.min_clicks_drop:
        parts.append(
            f"{clicks:,} clicks, fewer than the {rules.min_clicks_drop:,} needed before dropping"
        )
    if unknown > 0:
        parts.append(
            f"commission unknown on {unknown} row(s) with sales (no commission_rate and no "
            "commission_paid), so no ROI: fill them in the export to get one"
        )
    elif n_content < rules.min_content:
        parts.append(
            f"only {n_content} piece(s) of content, too few for an ROI interval (needs {rules.min_content})"
        )
    elif math.isnan(lo) or math.isnan(hi):
        parts.append("no ROI interval (no promotion cost recorded)")
    else:
        parts.append(f"profit ROI between {lo:.2f} and {hi:.2f} includes {rules.roi_threshold:g}")
    if not math.isnan(cvr_hi) and not math.isnan(exp_cvr) and clicks >= rules.min_clicks_drop:
        parts.append(
            f"CVR not clearly below {rules.cvr_drop_ratio:.0%} of the expected {exp_cvr:.2%}"
        )
    return "; ".join(parts) + "."


# ------------------------------------------------------------------ statistics


def _eb_cvr(
    orders: np.ndarray,
    clicks: np.ndarray,
    expected: np.ndarray,
    expected_var: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, str]:
    """Empirical-Bayes shrunk CVR around each creator's expected CVR.

    The precision ``m`` of the spread of true CVRs around the expectation is fitted by
    maximum likelihood with the expectation held fixed; each creator's prior variance
    is then ``e (1 - e) / (m + 1) + expected_var`` (the expectation's own sampling
    variance), i.e. a prior worth ``m_c = e (1 - e) / variance - 1`` clicks.

    Returns shrunk mean, lower, upper, the fitted m, the per-creator prior weights m_c
    and a note.
    """
    k = orders.astype("float64")
    n = clicks.astype("float64")
    e = np.clip(expected.astype("float64"), 1e-9, 1 - 1e-9)
    ok = (n > 0) & np.isfinite(e)
    note = ""
    if ok.sum() >= 5:

        def nll(log_m: float) -> float:
            m = math.exp(log_m)
            return -float(np.sum(stats.betabinom.logpmf(k[ok], n[ok], m * e[ok], m * (1 - e[ok]))))

        res = optimize.minimize_scalar(
            nll, bounds=(math.log(0.5), math.log(_MAX_PRIOR_CLICKS)), method="bounded"
        )
        m = math.exp(res.x)
        if m > 0.99 * _MAX_PRIOR_CLICKS:
            m = float(_MAX_PRIOR_CLICKS)
            note = (
                "creators vary no more than chance around the model; the spread is capped at a "
                f"prior worth {_MAX_PRIOR_CLICKS:,} clicks so that intervals never collapse to zero width"
            )
    else:
        # Too few creators to estimate the spread: a weak prior worth two clicks.
        m = 2.0
        note = f"only {int(ok.sum())} creator(s) with clicks: weak prior (worth 2 clicks) instead of a fitted one"
    v_e = np.nan_to_num(np.maximum(expected_var.astype("float64"), 0.0), nan=0.0)
    prior_var = e * (1 - e) / (m + 1) + v_e
    # A prior worth less than half a click adds nothing; the floor keeps beta parameters > 0.
    m_c = np.clip(e * (1 - e) / prior_var - 1, 0.5, m)
    a = k + m_c * e
    b = n - k + m_c * (1 - e)
    mean = np.where(ok, a / (a + b), np.nan)
    low = np.where(ok, stats.beta.ppf(alpha / 2, a, b), np.nan)
    high = np.where(ok, stats.beta.ppf(1 - alpha / 2, a, b), np.nan)
    return mean, low, high, m, np.where(ok, m_c, np.nan), note


def _bootstrap_roi(
    net: np.ndarray,
    commission: np.ndarray,
    fixed: np.ndarray,
    sizes: np.ndarray,
    *,
    n_boot: int,
    alpha: float,
    rng: np.random.Generator,
    chunk_rows: int = 5_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of ``sum(net) / (sum(commission) + fixed)`` per group.

    ``net`` and ``commission`` are per piece of content, sorted by group; ``sizes`` are
    the group sizes in that order and ``fixed`` the group's lump-sum costs (samples +
    flat fees), a constant of every replicate. Each replicate resamples every group's
    pieces with replacement (net sales and commission together), vectorised over a
    chunk of groups at a time to bound memory (n_boot x chunk_rows values).
    """
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int64")
    n_groups = len(sizes)
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    g = 0
    while g < n_groups:
        # Take groups until the chunk holds about chunk_rows pieces (at least one group).
        end = g + 1
        total = int(sizes[g])
        while end < n_groups and total + int(sizes[end]) <= chunk_rows:
            total += int(sizes[end])
            end += 1
        sz = sizes[g:end].astype("int64")
        st = starts[g:end]
        row_group_start = np.repeat(st, sz)
        row_group_size = np.repeat(sz, sz)
        u = rng.random((n_boot, total))
        idx = row_group_start[None, :] + np.floor(u * row_group_size[None, :]).astype("int64")
        seg = np.concatenate([[0], np.cumsum(sz)[:-1]])
        s_net = np.add.reduceat(net[idx], seg, axis=1)
        s_cost = np.add.reduceat(commission[idx], seg, axis=1) + fixed[None, g:end]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(s_cost > 0, s_net / np.where(s_cost > 0, s_cost, 1.0), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups stay NaN
            q = np.nanquantile(ratio, [alpha / 2, 1 - alpha / 2], axis=0)
        low[g:end], high[g:end] = q[0], q[1]
        g = end
    return low, high


# ------------------------------------------------------------------- scorecard


@dataclass
class ScorecardResult:
    """What :func:`build_scorecard` returns.

    Attributes
    ----------
    card : pandas.DataFrame
        One row per (site, creator), sorted by site then clicks (most first).
    excluded : pandas.DataFrame
        Rows left out, one line per reason: ``reason``, ``rows``.
    notes : list of str
        Per-site notes on the models (fallbacks, shrinkage strength).
    rules : ScorecardRules
    params : dict
        Settings used (sites, benchmark site, formula, n_boot, seed, unit cost and
        platform fee rates, counts of rows with a missing commission rate, method text).
    """

    card: pd.DataFrame
    excluded: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rules: ScorecardRules = field(default_factory=ScorecardRules)
    params: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> pd.DataFrame:
        """Recommendation counts per site and tier (all three recommendations shown)."""
        c = self.card
        out = (
            c.groupby(["site", "tier", "recommendation"], observed=True)
            .size()
            .unstack("recommendation", fill_value=0)
            .reindex(columns=list(RECOMMENDATIONS), fill_value=0)
        )
        return out.reset_index()

    def site(self, site: str) -> pd.DataFrame:
        """The scorecard of one site."""
        sites = sorted(self.card["site"].astype(str).unique())
        if site not in sites:
            raise ValueError(f"site {site!r} is not in the scorecard; sites: {sites}")
        return self.card[self.card["site"].astype(str) == site].reset_index(drop=True)


def build_scorecard(
    df: pd.DataFrame,
    *,
    site: str | Sequence[str] | None = None,
    rules: ScorecardRules | None = None,
    benchmark: pd.DataFrame | None = None,
    benchmark_site: str = "US",
    formula: str = conversion.DEFAULT_FORMULA,
    n_boot: int = 400,
    seed: int = 0,
    min_impressions: int = 200,
    unit_cost_rate: float = 0.35,
    platform_fee_rate: float | None = None,
) -> ScorecardResult:
    """Build the creator scorecard of one or several sites (each on its own).

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical frame (``helpers.load.load_dataset(...).data``). Needs site,
        creator_id, tier, category, commission_rate, impressions, clicks, orders, gmv;
        refunds, sample_cost and flat_fee count as 0 when absent; content_id, when
        present, identifies pieces of content (else each row is one);
        commission_paid, when present, fills a missing commission_rate.
    site : str or list of str, optional
        The site(s) to score; all sites in ``df`` when omitted. Each site gets its own
        models and its own rows: nothing is pooled across sites.
    rules : ScorecardRules, optional
        Recommendation thresholds.
    benchmark : pandas.DataFrame, optional
        Benchmark CTR table (from :func:`helpers.lift.benchmark` or
        :func:`helpers.lift.benchmark_from_file`); by default the pooled CTR of
        ``benchmark_site`` rows per category of ``df`` (all of ``df``, not only the
        scored sites).
    benchmark_site : str
        Site of the default benchmark ("US": lift vs US).
    formula : str
        Right-hand side of the conversion model (expected CVR).
    n_boot : int
        Bootstrap replicates of the ROI interval (>= 100).
    seed : int
        Seed of the bootstrap.
    min_impressions : int
        Passed to :func:`helpers.lift.ctr_lift`.
    unit_cost_rate : float
        Landed product cost as a fraction of the selling price, in [0, 1) (default
        0.35, an illustrative value: give your own). Used for profit ROI.
    platform_fee_rate : float, optional
        Platform referral fee as a fraction of the paid amount; by default each site's
        rate from :data:`helpers.schema.SITES` (US 0.06, UK 0.09, ...). A number
        applies to every scored site.

    Returns
    -------
    ScorecardResult

    Raises
    ------
    ValueError
        A required column is missing, a requested site is absent, a site has no known
        platform fee, or parameters are out of range.
    """
    rules = rules or ScorecardRules()
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(
            f"build_scorecard needs the canonical columns {missing}; the frame has {list(df.columns)}. "
            "Load the data with helpers.load.load_dataset()."
        )
    if not isinstance(n_boot, int | np.integer) or n_boot < 100:
        raise ValueError(
            f"n_boot must be a whole number >= 100 (400 is a good default); got {n_boot!r}"
        )
    present = sorted(df["site"].dropna().astype(str).unique())
    if site is None or site == "" or (not isinstance(site, str) and len(site) == 0):
        sites = present
    else:
        sites = [site] if isinstance(site, str) else [str(s) for s in site]
        absent = [s for s in sites if s not in present]
        if absent:
            raise ValueError(
                f"site(s) {absent} not in the data; sites present: {present}. Pass one of them or ''."
            )
    fees = _fee_rates(sites, unit_cost_rate, platform_fee_rate)

    excluded: list[dict[str, Any]] = []
    site_col = df["site"].astype("string")
    in_sites = site_col.isin(sites).fillna(False).to_numpy(dtype=bool)
    if (~in_sites).any():
        excluded.append(
            {
                "reason": f"site not selected (scored: {', '.join(sites)})",
                "rows": int((~in_sites).sum()),
            }
        )
    no_creator = df["creator_id"].isna().to_numpy(dtype=bool) & in_sites
    if no_creator.any():
        excluded.append({"reason": "missing creator_id", "rows": int(no_creator.sum())})
    work = df.loc[in_sites & ~no_creator].copy()
    for col in ("refunds", "sample_cost", "flat_fee"):
        if col not in work.columns:
            work[col] = 0.0
        work[col] = work[col].astype("float64").fillna(0.0)
    work["gmv"] = work["gmv"].astype("float64").fillna(0.0)
    work["net_gmv"] = work["gmv"] - work["refunds"]

    notes: list[str] = []
    work["commission"], n_from_paid, n_no_sales, n_unknown = _row_commission(work)
    if n_from_paid:
        notes.append(
            f"{n_from_paid:,} row(s) without a commission rate: commission taken from commission_paid."
        )
    if n_no_sales:
        notes.append(
            f"{n_no_sales:,} row(s) without a commission rate and without net sales: commission 0 "
            "(nothing is due on no sales)."
        )
    if n_unknown:
        excluded.append(
            {
                "reason": "commission unknown (no commission_rate, no commission_paid, net sales > 0): "
                "row kept for volume, CTR and CVR; its creator gets no ROI",
                "rows": n_unknown,
            }
        )
    # Unknown commissions stay NaN so that the creator's promotion cost is NaN too.
    work["promotion_cost"] = work["commission"] + work["sample_cost"] + work["flat_fee"]

    # CTR lift vs the benchmark site, shrunk per (site, category, creator) unit.
    lift_units = None
    try:
        bench = benchmark if benchmark is not None else lift.benchmark(df, site=benchmark_site)
        lift_units = lift.ctr_lift(
            work, bench, level="creator", sites=sites, min_impressions=min_impressions, seed=seed
        ).units
    except ValueError as exc:
        notes.append(f"CTR lift not computed: {exc}")

    seeds = np.random.SeedSequence(seed).spawn(len(sites))
    cards = []
    for s, ss in zip(sites, seeds, strict=True):
        part = work[work["site"].astype(str) == s]
        if part.empty:
            continue
        u, p = fees[s]
        notes.append(
            f"{s}: profit ROI uses a unit cost of {u:.0%} of the selling price and a platform fee of "
            f"{p:.0%}{'' if platform_fee_rate is not None else ' (site default)'}: break-even is a "
            f"net ROI of {1 / (1 - u - p):.2f}."
        )
        cards.append(
            _site_card(
                part, s, formula, rules, lift_units, n_boot, np.random.default_rng(ss), notes, u, p
            )
        )
    card = pd.concat(cards, ignore_index=True) if cards else pd.DataFrame()
    if len(card):
        decided = recommend(card, rules)
        card = pd.concat([card, decided], axis=1)
        card["recommendation"] = pd.Categorical(
            card["recommendation"], categories=list(RECOMMENDATIONS)
        )
    return ScorecardResult(
        card=card,
        excluded=pd.DataFrame(excluded, columns=["reason", "rows"]),
        notes=notes,
        rules=rules,
        params={
            "sites": sites,
            "benchmark_site": benchmark_site,
            "formula": formula,
            "n_boot": int(n_boot),
            "seed": int(seed),
            "min_impressions": int(min_impressions),
            "unit_cost_rate": float(unit_cost_rate),
            "platform_fee_rate": {s: fees[s][1] for s in sites},
            "rows_in": len(df),
            "rows_scored": len(work),
            "rows_commission_from_paid": int(n_from_paid),
            "rows_commission_unknown": int(n_unknown),
            "roi_decision": "profit ROI = net GMV x (1 - unit cost rate - platform fee rate) / promotion cost",
            "roi_interval": (
                f"percentile bootstrap over pieces of content, {n_boot} replicates; samples and "
                "flat fees are fixed per creator"
            ),
            "cvr_shrinkage": (
                "beta-binomial empirical Bayes centred on the GLM expected CVR, one precision per "
                "site, prior widened by the expected CVR's standard error"
            ),
        },
    )


def _fee_rates(
    sites: Sequence[str], unit_cost_rate: float, platform_fee_rate: float | None
) -> dict[str, tuple[float, float]]:
    """(unit cost rate, platform fee rate) per site, validated."""
    if isinstance(unit_cost_rate, bool) or not isinstance(unit_cost_rate, int | float):
        raise ValueError(f"unit_cost_rate must be a number such as 0.35; got {unit_cost_rate!r}")
    if not 0 <= unit_cost_rate < 1:
        raise ValueError(
            f"unit_cost_rate is the product cost as a fraction of the selling price, in [0, 1), "
            f"e.g. 0.35 when a $20 item costs $7; got {unit_cost_rate!r}"
        )
    out: dict[str, tuple[float, float]] = {}
    for s in sites:
        if platform_fee_rate is None:
            info = SITES.get(s)
            if info is None:
                raise ValueError(
                    f"no default platform fee for site {s!r} (known: {sorted(SITES)}); pass "
                    "platform_fee_rate, e.g. 0.05 for 5 %"
                )
            p = float(info.platform_fee_rate)
        else:
            if isinstance(platform_fee_rate, bool) or not isinstance(
                platform_fee_rate, int | float
            ):
                raise ValueError(
                    f"platform_fee_rate must be a number such as 0.06, or None for each site's "
                    f"default; got {platform_fee_rate!r}"
                )
            p = float(platform_fee_rate)
            if not 0 <= p < 1:
                raise ValueError(
                    f"platform_fee_rate must be a fraction in [0, 1), e.g. 0.06 for 6 %; got {p!r}"
                )
        if unit_cost_rate + p >= 1:
            raise ValueError(
                f"unit_cost_rate + platform_fee_rate = {unit_cost_rate + p:.2f} for {s}: nothing "
                "would be left of a sale, so no creator could be profitable. Check both rates "
                "(fractions: 0.35, not 35)."
            )
        out[s] = (float(unit_cost_rate), p)
    return out


def _row_commission(work: pd.DataFrame) -> tuple[pd.Series, int, int, int]:
    """Commission of each row: rate x net sales; where the rate is missing, the
    recorded commission_paid, or 0 when the row has no net sales; else NaN (unknown).

    Returns the commission and the counts of rows filled from commission_paid, set to 0
    for lack of sales, and left unknown.
    """
    rate = work["commission_rate"].astype("float64")
    no_rate = rate.isna()
    # Missing rates are handled here, explicitly, whatever commission_on_net does with NaN.
    commission = metrics.commission_on_net(work["gmv"], work["refunds"], rate.fillna(0.0))
    commission = commission.mask(no_rate)
    if not no_rate.any():
        return commission, 0, 0, 0
    if "commission_paid" in work.columns:
        paid = work["commission_paid"].astype("float64")
    else:
        paid = pd.Series(np.nan, index=work.index)
    from_paid = no_rate & paid.notna()
    no_sales = no_rate & ~from_paid & (work["net_gmv"] == 0)
    unknown = no_rate & ~from_paid & ~no_sales
    commission = commission.mask(from_paid, paid).mask(no_sales, 0.0)
    return commission, int(from_paid.sum()), int(no_sales.sum()), int(unknown.sum())


def _expected_cvr_var(
    fit: conversion.ConversionFit,
    part: pd.DataFrame,
    p: np.ndarray,
    creator_codes: np.ndarray,
    n_creators: int,
) -> np.ndarray:
    """Sampling variance of each creator's expected CVR (click-weighted mean of the row
    predictions), by the delta method with the fit's covariance."""
    X = fit.design(part)
    clicks = part["clicks"].to_numpy(dtype="float64")
    w = np.nan_to_num(clicks * p * (1 - p))
    grad = np.zeros((n_creators, X.shape[1]))
    np.add.at(grad, creator_codes, np.nan_to_num(X) * w[:, None])
    tot = np.bincount(creator_codes, weights=clicks, minlength=n_creators)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = grad / tot[:, None]
    return np.einsum("ij,jk,ik->i", grad, fit.cov.to_numpy(), grad)


def _site_card(
    part: pd.DataFrame,
    site: str,
    formula: str,
    rules: ScorecardRules,
    lift_units: pd.DataFrame | None,
    n_boot: int,
    rng: np.random.Generator,
    notes: list[str],
    unit_cost_rate: float,
    platform_fee_rate: float,
) -> pd.DataFrame:
    """The scorecard rows of one site."""
    part = part.sort_values("creator_id", kind="stable")
    creator_codes, creator_index = pd.factorize(part["creator_id"], sort=True)
    n_creators = len(creator_index)
    # Expected orders of each row under the site's conversion model.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", conversion.ConversionWarning)
            fit = conversion.fit_conversion(part, formula, site=site)
            p = fit.predict(part).to_numpy(dtype="float64")
            expected_var = _expected_cvr_var(fit, part, p, creator_codes, n_creators)
        expected_orders = part["clicks"].to_numpy(dtype="float64") * p
    except (ModelError, ValueError) as exc:
        pooled = part["orders"].sum() / max(part["clicks"].sum(), 1)
        expected_orders = part["clicks"].to_numpy(dtype="float64") * pooled
        expected_var = np.full(n_creators, pooled * (1 - pooled) / max(part["clicks"].sum(), 1))
        notes.append(
            f"{site}: conversion model not fitted ({str(exc).splitlines()[0][:200]}); expected CVR is the "
            f"site's pooled CVR {pooled:.2%} for every creator."
        )
    part = part.assign(
        expected_orders=expected_orders,
        commission_unknown=part["commission"].isna().astype("int64"),
    )
    g = part.groupby("creator_id", observed=True, sort=True)
    card = g.agg(
        n_rows=("clicks", "size"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        orders=("orders", "sum"),
        gmv=("gmv", "sum"),
        refunds=("refunds", "sum"),
        net_gmv=("net_gmv", "sum"),
        commission=("commission", "sum"),
        sample_cost=("sample_cost", "sum"),
        flat_fee=("flat_fee", "sum"),
        expected_orders=("expected_orders", "sum"),
        rows_commission_unknown=("commission_unknown", "sum"),
        n_categories=("category", "nunique"),
    ).reset_index()
    unknown = card["rows_commission_unknown"].to_numpy() > 0
    # groupby sums skip NaN: a creator with an unknown commission has an unknown cost.
    card["commission"] = card["commission"].mask(unknown)
    card["promotion_cost"] = card["commission"] + card["sample_cost"] + card["flat_fee"]

    # Pieces of content: the bootstrap unit (a row without content_id is its own piece).
    if "content_id" in part.columns:
        cid = part["content_id"].astype("string")
        piece = cid.fillna(pd.Series(np.arange(len(part)), index=part.index).map("\0row{}".format))
    else:
        piece = pd.Series(np.arange(len(part)), index=part.index).astype("string")
    pieces = (
        part.assign(piece=piece.to_numpy(), commission=part["commission"].fillna(0.0))
        .groupby(["creator_id", "piece"], observed=True, sort=True)[["net_gmv", "commission"]]
        .sum()
    )
    n_pieces = pieces.groupby(level="creator_id", observed=True, sort=True).size()
    card["n_content"] = n_pieces.reindex(card["creator_id"]).to_numpy()

    # Highest tier seen (a creator can grow during the period), main category by clicks.
    tier_codes = part["tier"].cat.codes.groupby(part["creator_id"], observed=True, sort=True).max()
    card["tier"] = pd.Categorical.from_codes(tier_codes.to_numpy(), dtype=part["tier"].dtype)
    by_cat = (
        part.groupby(["creator_id", "category"], observed=True, sort=True)["clicks"]
        .sum()
        .reset_index()
    )
    main = by_cat.sort_values(["creator_id", "clicks"], ascending=[True, False]).drop_duplicates(
        "creator_id"
    )
    card["main_category"] = card["creator_id"].map(
        main.set_index("creator_id")["category"].astype(str)
    )
    card.insert(0, "site", site)

    card["ctr"] = metrics.safe_ratio(card["clicks"], card["impressions"])
    card["cvr"] = metrics.safe_ratio(card["orders"], card["clicks"])
    card["expected_cvr"] = metrics.safe_ratio(card["expected_orders"], card["clicks"])
    shrunk, low, high, m, m_c, note = _eb_cvr(
        card["orders"].to_numpy(),
        card["clicks"].to_numpy(),
        card["expected_cvr"].to_numpy(),
        expected_var,
        rules.alpha,
    )
    card["shrunk_cvr"], card["shrunk_cvr_low"], card["shrunk_cvr_high"] = shrunk, low, high
    card["cvr_prior_clicks"] = m_c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no creator with clicks
        med = float(np.nanmedian(m_c)) if np.isfinite(m_c).any() else math.nan
    notes.append(
        f"{site}: CVR spread around the model worth m = {m:,.0f} clicks; with the expected CVR's "
        f"own uncertainty added, a creator's prior is worth a median {med:,.0f} clicks (a creator's "
        "own CVR gets weight clicks / (clicks + prior clicks))" + (f"; {note}" if note else "")
    )

    # Lift: combine the creator's (category) units by indirect standardisation.
    cols = ["ctr_lift", "shrunk_ctr", "shrunk_ctr_lift", "lift_coverage"]
    if lift_units is not None and len(lift_units):
        u = lift_units[lift_units["site"].astype(str) == site]
        imp = u["impressions"].astype("float64")
        agg = (
            pd.DataFrame(
                {
                    "creator_id": u["creator_id"].to_numpy(),
                    "imp": imp.to_numpy(),
                    "clicks": u["clicks"].astype("float64").to_numpy(),
                    "bench_clicks": (u["benchmark_ctr"] * imp).to_numpy(),
                    "shrunk_clicks": (u["shrunk_ctr"] * imp).to_numpy(),
                }
            )
            .groupby("creator_id", sort=True)
            .sum()
        )
        agg["ctr_lift"] = metrics.safe_ratio(agg["clicks"], agg["bench_clicks"]) - 1
        agg["shrunk_ctr"] = metrics.safe_ratio(agg["shrunk_clicks"], agg["imp"])
        agg["shrunk_ctr_lift"] = metrics.safe_ratio(agg["shrunk_clicks"], agg["bench_clicks"]) - 1
        joined = card[["creator_id"]].join(agg, on="creator_id")
        for c in ("ctr_lift", "shrunk_ctr", "shrunk_ctr_lift"):
            card[c] = joined[c].to_numpy(dtype="float64")
        card["lift_coverage"] = metrics.safe_ratio(
            joined["imp"].fillna(0.0).to_numpy(), card["impressions"].to_numpy()
        )
    else:
        for c in cols:
            card[c] = np.nan

    refunds = card["refunds"].clip(lower=0)
    card["net_roi"] = metrics.net_roi(card["gmv"], refunds, card["promotion_cost"])
    card["contribution"] = metrics.contribution(
        card["gmv"], refunds, unit_cost_rate, platform_fee_rate
    )
    card["profit_roi"] = metrics.profit_roi(
        card["gmv"],
        refunds,
        card["promotion_cost"],
        product_cost_rate=unit_cost_rate,
        platform_fee_rate=platform_fee_rate,
    )
    roi_low, roi_high = _bootstrap_roi(
        pieces["net_gmv"].to_numpy(dtype="float64"),
        pieces["commission"].to_numpy(dtype="float64"),
        (card["sample_cost"] + card["flat_fee"]).to_numpy(dtype="float64"),
        card["n_content"].to_numpy(),
        n_boot=n_boot,
        alpha=rules.alpha,
        rng=rng,
    )
    no_interval = (card["n_content"].to_numpy() < rules.min_content) | unknown
    card["net_roi_low"] = np.where(no_interval, np.nan, roi_low)
    card["net_roi_high"] = np.where(no_interval, np.nan, roi_high)
    # With one unit cost and fee rate, profit ROI is net ROI times the kept share of a sale.
    margin = 1.0 - unit_cost_rate - platform_fee_rate
    card["profit_roi_low"] = card["net_roi_low"] * margin
    card["profit_roi_high"] = card["net_roi_high"] * margin
    order = [
        "site", "creator_id", "tier", "main_category", "n_categories", "n_content", "n_rows",
        "impressions", "clicks", "orders", "gmv", "refunds", "net_gmv", "commission",
        "sample_cost", "flat_fee", "promotion_cost", "contribution", "rows_commission_unknown",
        "ctr", "shrunk_ctr", "ctr_lift", "shrunk_ctr_lift", "lift_coverage", "cvr",
        "expected_cvr", "shrunk_cvr", "shrunk_cvr_low", "shrunk_cvr_high", "cvr_prior_clicks",
        "net_roi", "net_roi_low", "net_roi_high", "profit_roi", "profit_roi_low",
        "profit_roi_high",
    ]  # fmt: skip
    card = card[order].sort_values("clicks", ascending=False, kind="stable").reset_index(drop=True)
    return card


# ---------------------------------------------------------------------- export


def export_scorecard(
    df: pd.DataFrame, path: str | Path, *, sheet_name: str = "scorecard"
) -> list[Path]:
    """Write a scorecard as CSV and/or XLSX, made safe with :func:`excel_safe`.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (e.g. ``ScorecardResult.card``).
    path : str or Path
        ``*.csv`` writes CSV (UTF-8 with BOM so Excel shows Chinese), ``*.xlsx``
        writes an Excel workbook, a path without suffix writes both.
    sheet_name : str
        Worksheet name of the XLSX.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        For another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ("", ".csv", ".xlsx"):
        raise ValueError(
            f"export_scorecard writes .csv or .xlsx (or both with no suffix); got {path.name!r}"
        )
    safe = excel_safe(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if suffix in ("", ".csv"):
        p = path if suffix else path.with_suffix(".csv")
        # CRLF line ends: Excel's own, and the csv writer then quotes any field holding
        # a carriage return (with "\n" alone a lone "\r" would split the row).
        safe.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        written.append(p)
    if suffix in ("", ".xlsx"):
        p = path if suffix else path.with_suffix(".xlsx")
        # Belt and braces: xlsxwriter would otherwise turn "=..." text into formulas and
        # "http..." into links.
        with pd.ExcelWriter(
            p,
            engine="xlsxwriter",
            engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
        ) as xw:
            safe.to_excel(xw, sheet_name=sheet_name, index=False)
        written.append(p)
    return written
