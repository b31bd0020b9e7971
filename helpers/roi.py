"""ROI forecast of a planned campaign, as a distribution; break-even commission; backtest.

A :class:`CampaignPlan` says what the seller intends (site, category, commission rate,
creators by tier or by id, pieces of content per creator, costs). :func:`forecast_roi`
turns it into a distribution of GMV, costs, profit and ROI (definitions in
:mod:`helpers.metrics`) by Monte Carlo over

1. parameter uncertainty: the coefficients of a binomial GLM of CTR (clicks /
   impressions ~ tier + category) and of CVR (orders / clicks ~ tier + category +
   commission rate), both fitted with :func:`helpers.conversion.fit_conversion` on the
   plan's site history, drawn from a multivariate normal with the cluster-robust
   (by creator) covariance; the tier's mean reach by a Bayesian bootstrap over its
   creators; the base order value and return rate with their clustered uncertainty;
2. creator heterogeneity: each planned creator is a history creator of the same tier
   (or the named creator), with that creator's own impressions per piece (resampled)
   and a gamma-Poisson posterior draw of their CTR and CVR multipliers, and a price and
   refund level of their own;
3. posting: each creator slot posts with probability ``post_rate`` (default 0.35:
   domain.md says about 30-40 % of gifted samples lead to a post); samples are paid
   for every slot, flat fees and sales only for creators who post;
4. count noise, per piece: clicks and orders binomial; the piece's price and refund
   propensity around its creator's (orders of one video share them); each order's
   value gamma around the piece's price, each order refunded or not.

Order value and return rate: a nested random-effects model (category > product >
creator > video > order) fitted by moments on the site's history (log order value, and
the refunded share of GMV with binomial order noise): each level's variance is a
DerSimonian-Laird estimate from the inverse-variance means of the level below, so the
clustering of a video's orders is not read as spread between products, nor as
independent order noise. A plan's product with at least ``min_orders`` orders uses its
own mean, shrunk towards its category by the between-product variance, with an
uncertainty that counts its creators and videos; otherwise the category's mean, and
the campaign's product is a new draw from the between-product spread (a plan usually
promotes one product, not the category average). The source is always stated in
``inputs`` and ``notes``.

Profit counts the product cost of refunded units that are not recovered
(``refund_recovery``, default :data:`helpers.metrics.REFUND_RECOVERY`, the kit-wide
1: refunded units are resold; 0 for refund-only refunds; see
:func:`helpers.metrics.contribution`).

Cold start: when the plan's category has fewer than ``min_clicks`` clicks or
``min_orders`` orders on the site, its category effect is partially pooled towards the
mean category effect with the between-category variance (an absent category gets a
draw from the between-category distribution), its order value and return rate are
shrunk towards the site's (an absent category: the site's, plus the spread between
categories), and the result says so in ``notes``. The
category effect is drawn jointly with the other coefficients (normal-normal pooling:
the mean category effect is computed from the same coefficient draw).

Everything is seeded and vectorised over draws.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from helpers.defaults import DEFAULTS
from helpers.errors import ModelError, PlanError
from helpers.metrics import COMMISSION_RANGE
from helpers.metrics import REFUND_RECOVERY as _KIT_REFUND_RECOVERY
from helpers.schema import SITES, TIERS

__all__ = [
    "CTR_FORMULA",
    "CVR_FORMULA",
    "MIN_CLICKS",
    "MIN_ORDERS",
    "POST_RATE",
    "REFUND_RECOVERY",
    "ROI_KINDS",
    "BacktestResult",
    "CampaignPlan",
    "RoiForecast",
    "backtest_roi",
    "forecast_roi",
]


# The forecast's notes in other languages: written in English deep inside the
# simulation; helpers.i18n.translate matches each against these English templates.
NOTE_TEXT = {
    "en": {
        "aov_rr": "Order value (AOV) and return rate: {src}",
        "aov_and_rr": "AOV: {aov}; return rate: {rr}",
        "plan": "plan",
        "product": "product {product}'s own history ({orders} orders on {site}; its uncertainty counts "
        "the creators and videos it sold through, not its orders)",
        "average": "{where}, average over products ({why}), widened by the spread between products (SD "
        "{sd} on the log scale, from {n} products of {site})",
        "cold": "whole-site history of {site} (cold start)",
        "history": "history of {category} on {site}",
        "no_product": "no product named in the plan",
        "thin_product": "product {product} has {orders} orders of history, fewer than {need}",
        "video_spread": "Orders of one video share a price and a refund propensity, and a creator's videos "
        "resemble each other: order value and refunds vary by creator (SD {c} log order value) and by "
        "video (SD {v}) on top of each order's own spread (SD {o}), estimated from the history",
        "post": "Assumed {p} of the {n} creators post (post_rate; domain.md: about 30-40 % of gifted "
        "samples lead to a post): samples are paid for every creator, flat fees and sales come only "
        "from those who post",
        "recovery": "Profit assumes {p} of the refunded units' product cost is recovered (refund_recovery; "
        "0 means refund-only: the buyer keeps the item)",
        "no_unit_cost": "No unit_cost_rate in the plan: the break-even commission ignores product cost (it "
        "is the commission at which net sales after platform fee no longer cover commission and fixed "
        "costs), so it is an upper bound",
        "never_profitable": "In {p} of parameter draws no commission rate makes the plan profitable in "
        "expectation: the fixed costs (samples, flat fees, ads) are too high for the expected sales",
        "association": "The commission response comes from how conversion varied with commission in the "
        "history: an association, not a controlled experiment (better creators or products may go with "
        "higher rates)",
        "association_outside": "The commission response comes from how conversion varied with commission "
        "in the history: an association, not a controlled experiment (better creators or products may go "
        "with higher rates). The {which} commission lies outside the history's range {lo}-{hi}: that "
        "part is an extrapolation",
        "sparse": "Too few categories to leave the sparse one out; it stays in the fit",
        "break_even": "break-even",
        "best": "profit-maximising",
        "planned": "planned",
        # several commissions outside the history, as association_outside lists them
        "be_best": "break-even, profit-maximising",
        "be_planned": "break-even, planned",
        "best_planned": "profit-maximising, planned",
        "all_three": "break-even, profit-maximising, planned",
    },
    "zh": {
        "aov_rr": "客单价和退货率：{src}",
        "aov_and_rr": "客单价：{aov}；退货率：{rr}",
        "plan": "计划设定",
        "product": "商品 {product} 自身的历史（在 {site} 有 {orders} 个订单；其不确定性按它带货的达人和视频计，"
        "而不是按订单数）",
        "average": "{where}，各商品平均（{why}），并按商品间差异放宽（对数尺度标准差 {sd}，来自 {site} 的 {n} "
        "个商品）",
        "cold": "{site} 全站历史（冷启动）",
        "history": "{site} 上 {category} 类目的历史",
        "no_product": "计划未指定商品",
        "thin_product": "商品 {product} 只有 {orders} 个历史订单，少于 {need} 个",
        "video_spread": "同一视频的订单价格和退款倾向相同，同一达人的视频也彼此相似：客单价和退款在达人之间"
        "（对数客单价标准差 {c}）和视频之间（标准差 {v}）有差异，此外每个订单自身还有波动（标准差 {o}），"
        "均由历史数据估计",
        "post": "假设 {n} 位达人中有 {p} 会发布（post_rate；domain.md：寄样后约 30-40% 会发视频）："
        "每位达人的样品都要付费，坑位费和销售额只来自发布的达人",
        "recovery": "利润假设退款商品成本有 {p} 能收回（refund_recovery；0 表示仅退款：买家留下商品）",
        "no_unit_cost": "计划中没有 unit_cost_rate：保本佣金没有考虑商品成本（即扣除平台佣金后的净销售额"
        "不再覆盖佣金和固定成本时的佣金率），因此只是上限",
        "never_profitable": "在 {p} 的参数抽样中，没有任何佣金率能让计划预期盈利：固定成本（样品、坑位费、广告）"
        "相对预期销售额太高",
        "association": "佣金响应来自历史中转化率随佣金的变化：这是相关关系，不是对照实验"
        "（更好的达人或商品可能恰好配了更高的佣金）",
        "association_outside": "佣金响应来自历史中转化率随佣金的变化：这是相关关系，不是对照实验"
        "（更好的达人或商品可能恰好配了更高的佣金）。{which}佣金超出了历史范围 {lo}-{hi}：这部分属于外推",
        "sparse": "类目太少，无法把数据稀少的类目排除；它仍留在拟合中",
        "break_even": "保本",
        "best": "利润最高的",
        "planned": "计划",
        "be_best": "保本和利润最高的",
        "be_planned": "保本和计划",
        "best_planned": "利润最高的和计划",
        "all_three": "保本、利润最高的和计划",
    },
}

CVR_FORMULA = "C(tier) + C(category) + commission_rate"
"""Right-hand side of the conversion (orders / clicks) model."""

CTR_FORMULA = "C(tier) + C(category)"
"""Right-hand side of the CTR (clicks / impressions) model."""

MIN_CLICKS = DEFAULTS.cold_start_min_clicks
"""Cold-start threshold: a category with fewer clicks on the site is 'little history'."""

MIN_ORDERS = DEFAULTS.cold_start_min_orders
"""Cold-start threshold: a category with fewer orders on the site is 'little history'.
Also the orders a product needs for its own AOV and return rate."""

POST_RATE = DEFAULTS.post_rate
"""Default share of sampled creators who post (domain.md: about 30-40 % of gifted
samples lead to a post)."""

REFUND_RECOVERY = _KIT_REFUND_RECOVERY
"""Default share of refunded units' product cost recovered in a plan: the kit's one
default, :data:`helpers.metrics.REFUND_RECOVERY` (1: restocked and resold), stated in
the report's answer. Use 0 for refund-only refunds (the buyer keeps the item)."""

ROI_KINDS: tuple[str, ...] = ("gross", "net", "profit")

_NON_PLAN_KEYS = frozenset(
    {
        "data",
        "seed",
        "n_draws",
        "output_dir",
        "notebooks",
        "roi",
        "roi_kind",
        "backtest",
        "backtest_draws",
        "backtest_max_cells",
        "backtest_min_pieces",
        "split_date",
    }
)


# --------------------------------------------------------------------------- the plan


@dataclass
class CampaignPlan:
    """A planned affiliate campaign on one site.

    Attributes
    ----------
    site : str
        Site code, a key of :data:`helpers.schema.SITES` ("US", "UK", ...).
    category : str
        Product category, as in the history (e.g. "beauty").
    commission_rate : float
        Commission as a fraction, in (0, 0.8] (0.15 for 15 %).
    creators_per_tier : dict
        Number of creators per tier, e.g. ``{"micro": 20}``; tiers from
        :data:`helpers.schema.TIERS`. Give this or ``creators`` (or both).
    creators : list of str
        Creator ids from the history (their tier and past videos are used).
    pieces_per_creator : int
        Pieces of content (videos, LIVEs) each creator posts (>= 1).
    impressions_per_piece : float, optional
        Expected product impressions per piece; default: the history of the tier on
        the site (the shape of the history distribution is kept, rescaled to this mean).
    aov : float, optional
        Average order value in site currency; default from history.
    return_rate : float, optional
        Share of GMV refunded, in [0, 1); default from history.
    unit_cost_rate : float, optional
        Landed product cost as a fraction of the selling price, in [0, 1]; needed for
        profit, profit ROI and the break-even commission.
    sample_cost : float
        Cost of the samples sent to each creator (site currency, >= 0).
    flat_fee : float
        Flat fee paid to each creator (site currency, >= 0).
    ads_spend : float
        Paid ads spend of the whole campaign (>= 0).
    platform_fee_rate : float, optional
        Platform referral fee on the paid amount; default: the site's (US 6 %, UK 9 %).
    currency : str, optional
        Currency code; default: the site's.
    product_id : str, optional
        The product promoted. With at least ``min_orders`` orders of history on the
        site, its own AOV and return rate are used; otherwise the category's, with the
        spread between products added.
    post_rate : float
        Share of creator slots that post, in (0, 1]; default :data:`POST_RATE` (0.35).
        Samples are paid for every slot; flat fees and sales come only from posters.
        Use 1 for creators under contract to post.
    refund_recovery : float
        Share of the refunded units' product cost recovered (restocked), in [0, 1];
        default :data:`REFUND_RECOVERY` (the kit-wide 1: resold; 0: refund-only).
    new_category : bool
        True when the category is deliberately absent from the history (a new product
        line): then the forecast is a cold start. False makes an unknown category an
        error (most often a typo).
    name : str
        A label for reports.
    """

    site: str
    category: str
    commission_rate: float
    creators_per_tier: dict[str, int] = field(default_factory=dict)
    creators: list[str] = field(default_factory=list)
    pieces_per_creator: int = 1
    impressions_per_piece: float | None = None
    aov: float | None = None
    return_rate: float | None = None
    unit_cost_rate: float | None = None
    sample_cost: float = 0.0
    flat_fee: float = 0.0
    ads_spend: float = 0.0
    platform_fee_rate: float | None = None
    currency: str | None = None
    product_id: str | None = None
    post_rate: float = POST_RATE
    refund_recovery: float = REFUND_RECOVERY
    new_category: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        self._check_where()
        self._check_commission()
        self._check_creators()
        self._check_amounts()
        self._check_shares()
        if self.platform_fee_rate is None:
            self.platform_fee_rate = SITES[self.site].platform_fee_rate
        if self.currency is None:
            self.currency = SITES[self.site].currency
        self.new_category = bool(self.new_category)
        self.product_id = None if self.product_id in (None, "") else str(self.product_id)

    def _check_where(self) -> None:
        self.site = str(self.site).strip().upper()
        if self.site == "GB":
            self.site = "UK"
        if self.site not in SITES:
            raise PlanError(f"unknown site {self.site!r}; accepted site codes: {sorted(SITES)}")
        self.category = str(self.category).strip()
        if not self.category:
            raise PlanError("the plan needs a category, e.g. category: beauty")

    def _check_commission(self) -> None:
        lo, hi = COMMISSION_RANGE
        rate = _as_number("commission_rate", self.commission_rate)
        if rate > 1.0 and rate <= 80.0:
            raise PlanError(
                f"commission_rate = {rate:g} looks like a percentage; give a fraction in "
                f"(0, {hi:g}], e.g. {rate / 100:g} for {rate:g} %"
            )
        if not lo < rate <= hi:
            raise PlanError(
                f"commission_rate = {rate:g} is outside the accepted range (0, {hi:g}] "
                "(TikTok Shop allows 1 %-80 %); give a fraction, 0.15 for 15 %"
            )
        self.commission_rate = rate

    def _check_creators(self) -> None:
        cpt = dict(self.creators_per_tier or {})
        unknown = [t for t in cpt if t not in TIERS]
        if unknown:
            raise PlanError(
                f"unknown tier(s) {unknown} in creators_per_tier; accepted: {list(TIERS)}"
            )
        for t, n in cpt.items():
            n_ = _as_number(f"creators_per_tier[{t!r}]", n)
            if n_ < 0 or n_ != int(n_):
                raise PlanError(
                    f"creators_per_tier[{t!r}] = {n!r} must be a whole number >= 0 of creators"
                )
            cpt[t] = int(n_)
        self.creators_per_tier = {t: cpt[t] for t in TIERS if cpt.get(t, 0) > 0}
        self.creators = [str(c) for c in (self.creators or [])]
        if not self.creators_per_tier and not self.creators:
            raise PlanError(
                "the plan has no creators; give creators_per_tier (e.g. {micro: 20}) or a list "
                "of creator ids from the history in creators"
            )
        pieces = _as_number("pieces_per_creator", self.pieces_per_creator)
        if pieces < 1 or pieces != int(pieces):
            raise PlanError(f"pieces_per_creator = {pieces:g} must be a whole number >= 1")
        self.pieces_per_creator = int(pieces)

    def _check_amounts(self) -> None:
        for name in ("sample_cost", "flat_fee", "ads_spend"):
            v = _as_number(name, getattr(self, name))
            if v < 0:
                raise PlanError(
                    f"{name} = {v:g} is negative; accepted: >= 0 (site currency, 0 when none)"
                )
            setattr(self, name, v)
        if self.impressions_per_piece is not None:
            v = _as_number("impressions_per_piece", self.impressions_per_piece)
            if v <= 0:
                raise PlanError(f"impressions_per_piece = {v:g} must be > 0 (or omitted)")
            self.impressions_per_piece = v
        if self.aov is not None:
            v = _as_number("aov", self.aov)
            if v <= 0:
                raise PlanError(
                    f"aov = {v:g} must be > 0 (site currency), or omitted to use history"
                )
            self.aov = v

    def _check_shares(self) -> None:
        for name, upper, closed in (
            ("return_rate", 1.0, False),
            ("unit_cost_rate", 1.0, True),
            ("platform_fee_rate", 1.0, False),
        ):
            val = getattr(self, name)
            if val is None:
                continue
            v = _as_number(name, val)
            if v < 0 or v > upper or (v == upper and not closed):
                bracket = "]" if closed else ")"
                raise PlanError(
                    f"{name} = {v:g} is outside the accepted range [0, {upper:g}{bracket}; give a "
                    "fraction (0.2 for 20 %)"
                )
            setattr(self, name, v)
        pr = _as_number("post_rate", self.post_rate)
        if not 0.0 < pr <= 1.0:
            raise PlanError(
                f"post_rate = {pr:g} is outside the accepted range (0, 1]; give the share of "
                "creators who post, e.g. 0.35 (domain.md: 30-40 % of gifted samples are posted)"
            )
        self.post_rate = pr
        rec = _as_number("refund_recovery", self.refund_recovery)
        if not 0.0 <= rec <= 1.0:
            raise PlanError(
                f"refund_recovery = {rec:g} is outside the accepted range [0, 1]; give the share "
                "of refunded units restocked (0 refund-only, 1 all returned and resold)"
            )
        self.refund_recovery = rec

    # -- construction ------------------------------------------------------------

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, ignore_extra: bool = False) -> CampaignPlan:
        """Build a plan from a mapping (e.g. notebook parameters or YAML).

        Besides the field names, ``tier`` + ``n_creators`` is accepted as a shorthand
        for ``creators_per_tier={tier: n_creators}``. Keys that are run settings
        (``data``, ``seed``, ``n_draws``, ``output_dir``, ``notebooks``, ...) are ignored.

        Parameters
        ----------
        spec : mapping
            The plan's keys.
        ignore_extra : bool
            Ignore any unknown key instead of raising.

        Raises
        ------
        PlanError
            For unknown keys (listing the accepted ones) or invalid values.
        """
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in dict(spec).items() if k not in _NON_PLAN_KEYS}
        if "plan_name" in d:  # the notebook's name for the label
            d.setdefault("name", d.pop("plan_name"))
            d.pop("plan_name", None)
        tier = d.pop("tier", None)
        n_creators = d.pop("n_creators", None)
        if tier not in (None, "") or n_creators not in (None, 0):
            if tier in (None, "") or n_creators is None:
                raise PlanError("give both tier and n_creators (e.g. tier: micro, n_creators: 20)")
            cpt = dict(d.get("creators_per_tier") or {})
            cpt[str(tier)] = cpt.get(str(tier), 0) + int(_as_number("n_creators", n_creators))
            d["creators_per_tier"] = cpt
        extra = sorted(set(d) - names)
        if extra and not ignore_extra:
            raise PlanError(
                f"unknown plan key(s) {extra}; accepted: {sorted(names | {'tier', 'n_creators'})}"
            )
        missing = [k for k in ("site", "category", "commission_rate") if d.get(k) in (None, "")]
        if missing:
            raise PlanError(
                f"the plan needs {missing} (e.g. site: US, category: beauty, commission_rate: 0.15)"
            )
        return cls(**{k: v for k, v in d.items() if k in names and v is not None})

    @classmethod
    def from_yaml(cls, path: str | Path) -> CampaignPlan:
        """Read a plan from a YAML file of top-level keys (a params/plans/*.yaml file)."""
        import yaml

        p = Path(path)
        try:
            spec = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise PlanError(f"cannot read plan file {p}: {exc}") from exc
        if not isinstance(spec, Mapping):
            raise PlanError(f"plan file {p} must hold a mapping of keys (site: US, ...)")
        try:
            return cls.from_dict(spec)
        except PlanError as exc:
            raise PlanError(f"{p}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain values."""
        return asdict(self)

    @property
    def n_creators(self) -> int:
        """Total creators in the plan."""
        return int(sum(self.creators_per_tier.values())) + len(self.creators)

    def validate(self, history: pd.DataFrame) -> None:
        """Check the plan against a canonical history frame.

        Raises
        ------
        PlanError
            If the site has no history, the category is unknown (and ``new_category`` is
            False), a named creator is absent, or a tier has no history on the site.
        """
        sites = _str_levels(history["site"])
        if self.site not in sites:
            raise PlanError(f"site {self.site!r} has no history; sites in the history: {sites}")
        hs = history[_is(history["site"], self.site)]
        cats = _str_levels(hs["category"])
        all_cats = _str_levels(history["category"])
        if self.category not in cats and not self.new_category:
            raise PlanError(
                f"category {self.category!r} has no history on site {self.site}; categories in "
                f"the history of {self.site}: {cats}"
                + (
                    f" (other sites also have {sorted(set(all_cats) - set(cats))})"
                    if set(all_cats) - set(cats)
                    else ""
                )
                + ". Fix a typo, or set new_category: true for a new product line (cold start)."
            )
        if self.creators:
            known = set(_str_levels(hs["creator_id"]))
            absent = [c for c in self.creators if c not in known]
            if absent:
                raise PlanError(
                    f"{len(absent)} creator id(s) have no history on site {self.site}: "
                    f"{absent[:5]}{' ...' if len(absent) > 5 else ''}; give them as counts per tier "
                    "in creators_per_tier instead"
                )
        tiers_present = set(_str_levels(hs["tier"]))
        no_hist = [t for t in self.creators_per_tier if t not in tiers_present]
        if no_hist:
            raise PlanError(
                f"tier(s) {no_hist} have no history on site {self.site}; tiers with history: "
                f"{[t for t in TIERS if t in tiers_present]}"
            )


def _str_levels(values: pd.Series) -> list[str]:
    """The distinct non-missing values as sorted strings (from the codes of a
    categorical column: no string copy of every row)."""
    return sorted({str(v) for v in pd.unique(values.dropna())})


def _is(values: pd.Series, value: str) -> np.ndarray:
    """Rows whose value, as a string, is ``value`` (on a categorical, by its codes)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        hit = [i for i, c in enumerate(values.cat.categories) if str(c) == value]
        return np.isin(values.cat.codes.to_numpy(), hit)
    return (values.astype(str) == value).to_numpy(dtype=bool)


def _factor(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (first appearance order) and the distinct values as strings; a
    missing value is a level of its own ("nan", as ``astype(str)`` names it)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), np.array([str(u) for u in uniques], dtype=object)


def _as_number(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"{name} = {value!r} is not a number") from None
    if not math.isfinite(v):
        raise PlanError(f"{name} = {value!r} must be a finite number")
    return v


# --------------------------------------------------------------------------- models


class _Linear:
    """A :class:`helpers.conversion.ConversionFit` seen through what the forecast needs:
    coefficients, their (cluster-robust) covariance and the design of new rows."""

    def __init__(self, fit: Any, frame: pd.DataFrame, formula: str) -> None:
        self.fit = fit
        self.formula = formula
        self.params = pd.Series(fit.params, dtype="float64")
        self.cov = fit.cov.loc[self.params.index, self.params.index].to_numpy(dtype="float64")
        self.levels = {
            c: sorted(frame[c].dropna().astype(str).unique())
            for c in ("tier", "category")
            if c in frame
        }

    def design(self, newdata: pd.DataFrame) -> np.ndarray:
        """Design matrix of ``newdata`` with columns in the order of ``params``."""
        return self.fit.design(newdata)

    def linear_predictor(self, newdata: pd.DataFrame) -> np.ndarray:
        return self.design(newdata) @ self.params.to_numpy()

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n coefficient vectors from the normal approximation (rows = draws)."""
        return rng.multivariate_normal(self.params.to_numpy(), self.cov, size=n, method="eigh")


def _fit_binomial(
    frame: pd.DataFrame, formula: str, successes: str, trials: str, notes: list[str]
) -> _Linear:
    """Fit with :func:`helpers.conversion.fit_conversion` (the kit's GLM, cluster-robust by
    creator); rare levels are merged into "other" rather than failing, and the fit's
    warnings become notes."""
    from helpers.conversion import fit_conversion

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_conversion(
            frame,
            formula,
            successes=successes,
            trials=trials,
            cluster="creator_id",
            merge_rare_levels=True,
        )
    what = "CTR" if successes == "clicks" else "conversion"
    for w in caught:
        if issubclass(w.category, UserWarning) and "helpers" in str(getattr(w, "filename", "")):
            notes.append(f"{what} model: {w.message}")
    return _Linear(fit, frame, formula)


# --------------------------------------------------------------------------- history


@dataclass
class _TierPool:
    """History creators of one tier on the site, with their pieces and multiplier
    posteriors (gamma-Poisson: shape = observed + a, rate = expected + a)."""

    creator_ids: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    impressions: np.ndarray  # per row, grouped by creator
    ctr_shape: np.ndarray
    ctr_rate: np.ndarray
    cvr_shape: np.ndarray
    cvr_rate: np.ndarray
    mean_impressions: float


def _dispersion(observed: np.ndarray, expected: np.ndarray) -> float:
    """Moment estimate of the between-creator variance of a rate multiplier
    (gamma-Poisson / NB2): sum((O - E)^2 - E) / sum(E^2), floored at 0."""
    ok = expected > 0
    if ok.sum() < 3:
        return 0.0
    o, e = observed[ok], expected[ok]
    return float(max(0.0, np.sum((o - e) ** 2 - e) / np.sum(e**2)))


def _pattern_predictor(work: pd.DataFrame, model: _Linear) -> np.ndarray:
    """The model's linear predictor of every row, built once per distinct (tier,
    category, commission rate) pattern: the design of a few hundred rows, not of all."""
    code = _codes(*(_factor(work[c])[0] for c in ("tier", "category", "commission_rate")))
    first = np.unique(code, return_index=True)[1]
    return model.linear_predictor(work.iloc[first])[code]


def _creator_pools(
    hs: pd.DataFrame, ctr_model: _Linear, cvr_model: _Linear
) -> tuple[dict[str, _TierPool], dict[str, float]]:
    work = hs[
        ["creator_id", "tier", "category", "commission_rate", "impressions", "clicks", "orders"]
    ]
    imp = work["impressions"].to_numpy(dtype="float64")
    e_clicks = imp * expit(_pattern_predictor(work, ctr_model))
    e_orders = work["clicks"].to_numpy(dtype="float64") * expit(_pattern_predictor(work, cvr_model))
    # creators numbered in the sorted order of their ids (as a sort by id would)
    codes, names = _factor(work["creator_id"])
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names.astype(str), kind="stable")] = np.arange(len(names))
    cre = rank[codes]
    names = np.sort(names.astype(str))
    tier = work["tier"].astype(str).to_numpy(dtype=object)
    sums = (
        pd.DataFrame(
            {
                "clicks": work["clicks"].to_numpy(),
                "e_clicks": e_clicks,
                "orders": work["orders"].to_numpy(),
                "e_orders": e_orders,
            }
        )
        .groupby(cre, sort=True)
        .sum()
    )
    per = {c: sums[c].to_numpy(float) for c in sums.columns}
    tau_ctr = _dispersion(per["clicks"], per["e_clicks"])
    tau_cvr = _dispersion(per["orders"], per["e_orders"])
    a_ctr = 1.0 / tau_ctr if tau_ctr > 0 else np.inf
    a_cvr = 1.0 / tau_cvr if tau_cvr > 0 else np.inf
    order = np.argsort(cre, kind="stable")
    cre, tier, imp = cre[order], tier[order], imp[order]
    pools: dict[str, _TierPool] = {}
    for t in pd.unique(tier):
        rows = tier == t
        ids, starts, counts = np.unique(cre[rows], return_index=True, return_counts=True)
        sub_imp = imp[rows]
        pools[str(t)] = _TierPool(
            creator_ids=names[ids],
            offsets=starts.astype(np.int64),
            counts=counts.astype(np.int64),
            impressions=sub_imp,
            ctr_shape=per["clicks"][ids] + a_ctr,
            ctr_rate=per["e_clicks"][ids] + a_ctr,
            cvr_shape=per["orders"][ids] + a_cvr,
            cvr_rate=per["e_orders"][ids] + a_cvr,
            # creator-weighted (mean of each creator's mean), as the simulation draws a
            # creator uniformly and then one of their pieces
            mean_impressions=float(np.mean(np.add.reduceat(sub_imp, starts) / counts)),
        )
    return pools, {"ctr_creator_var": tau_ctr, "cvr_creator_var": tau_cvr}


def _reach_uncertainty(pool: _TierPool, rng: np.random.Generator, n: int) -> np.ndarray:
    """Per draw, the tier's mean impressions per piece relative to the history's: a
    Bayesian bootstrap over the tier's creators (Dirichlet weights on their mean
    impressions), so a tier that rests on few creators has an uncertain reach. The
    rates carry their own uncertainty (the GLM covariance): only reach is resampled."""
    means = np.add.reduceat(pool.impressions, pool.offsets) / pool.counts
    if means.size < 2 or means.mean() <= 0:
        return np.ones(n)
    out = np.empty(n)
    step = max(1, 2_000_000 // means.size)  # bounded memory for big tiers
    for start in range(0, n, step):
        w = rng.standard_exponential((min(step, n - start), means.size))
        out[start : start + w.shape[0]] = (w @ means) / w.sum(axis=1)
    return out / means.mean()


# --------------------------------------------------------------------------- order value, refunds


@dataclass
class _Components:
    """Nested random-effects fit of one per-order quantity (log order value, or the
    refunded share of GMV) on the site's history: category > product > creator > video
    (row) > order. ``*_var`` are variances on the working scale; ``cat_mean`` /
    ``cat_var`` the category means and their estimation variances; ``prod_mean`` /
    ``prod_var`` the same per product (for a named product)."""

    order_var: float
    video_var: float
    creator_var: float
    product_var: float
    category_var: float
    site_mean: float
    site_var: float
    cat_mean: dict[str, float]
    cat_var: dict[str, float]
    prod_mean: dict[str, float]
    prod_var: dict[str, float]
    n_products: int
    n_creator_cells: int
    n_rows: int
    notes: list[str]


def _codes(*keys: np.ndarray) -> np.ndarray:
    """One integer code per distinct combination of the keys (first appearance order).
    Each key is factorised, then the codes are combined into one integer: no tuples."""
    code = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        k, names = _factor(key)
        code = code * max(len(names), 1) + k
        code = pd.factorize(code)[0].astype(np.int64)  # keep the product of sizes small
    return code


def _pool(y: np.ndarray, v: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Inverse-variance means of ``y`` per group (variance ``v`` each), their variances,
    and the DerSimonian-Laird between-unit variance within groups, pooled over groups:
    (sum Q - sum (J - 1)) / sum (S1 - S2 / S1), floored at 0."""
    w = 1.0 / np.maximum(v, 1e-12)
    s1 = np.bincount(groups, w)
    s2 = np.bincount(groups, w**2)
    mean = np.bincount(groups, w * y) / s1
    q = float(np.sum(w * (y - mean[groups]) ** 2))
    df = float(np.sum(np.bincount(groups) - 1))
    c = float(np.sum(s1 - s2 / s1))
    tau2 = max((q - df) / c, 0.0) if c > 0 else 0.0
    return mean, 1.0 / s1, tau2


def _within_cells(
    y: np.ndarray, m: np.ndarray, cells: np.ndarray, order_var: np.ndarray | None
) -> tuple[float, float, int]:
    """Video (row) and per-order variance from rows that share a creator-product cell.

    E[sum (y - mean)^2] over a cell of n rows is (1 - 1/n) sum (video + order / m). With
    ``order_var`` known (per row, e.g. binomial), the video variance is a moment estimate;
    otherwise both come from a non-negative least squares over cells (rows with few and
    many orders tell them apart). Returns (video var, order var, cells used)."""
    from scipy.optimize import nnls

    n = np.bincount(cells).astype(float)
    mean = np.bincount(cells, y) / n
    ss = np.bincount(cells, (y - mean[cells]) ** 2)
    keep = n >= 2
    a = (n - 1.0)[keep]
    if keep.sum() < 5:
        return 0.0, float("nan"), int(keep.sum())
    if order_var is not None:
        known = ((1.0 - 1.0 / n) * np.bincount(cells, order_var / m))[keep]
        return max(float((ss[keep].sum() - known.sum()) / a.sum()), 0.0), 0.0, int(keep.sum())
    b = ((1.0 - 1.0 / n) * np.bincount(cells, 1.0 / m))[keep]
    w = 1.0 / np.sqrt(a)  # Var(SS) grows with the cell's degrees of freedom
    (video, order), _ = nnls(np.column_stack([a, b]) * w[:, None], ss[keep] * w)
    return float(video), float(order), int(keep.sum())


def _components(
    frame: pd.DataFrame, y: np.ndarray, m: np.ndarray, order_var: np.ndarray | None, what: str
) -> _Components:
    """Fit the nested random-effects model bottom-up by moments (see :class:`_Components`).

    Rows are videos; ``m`` the orders behind each row's value ``y``. Each level's
    between-unit variance is a DerSimonian-Laird estimate from the inverse-variance means
    of the level below, so the order noise, the video, creator and product effects are
    separated rather than all read as spread between products (or all as order noise)."""
    notes: list[str] = []
    cat_c, cat_u = _factor(frame["category"])
    has_pid = "product_id" in frame.columns and frame["product_id"].notna().all()
    prod_c, prod_u = _factor(frame["product_id"]) if has_pid else (cat_c, cat_u)
    cells = _codes(cat_c, prod_c, _factor(frame["creator_id"])[0])
    video, order, n_cells = _within_cells(y, m, cells, order_var)
    if math.isnan(order):  # no creator made several videos of one product: order noise only
        order = float(np.var(y) * np.mean(m)) if order_var is None else 0.0
        notes.append(
            f"{what}: too few creators with several pieces of one product to tell videos from "
            "orders; all of a video's spread is treated as order noise."
        )
    ov = np.full(len(y), order) if order_var is None else order_var
    cm, cv, _ = _pool(y, video + ov / m, cells)
    cell_first = np.unique(cells, return_index=True)[1]
    c_prod = _codes(cat_c[cell_first], prod_c[cell_first])
    creator = _pool(cm, cv, c_prod)[2]
    pm, pv, _ = _pool(cm, creator + cv, c_prod)
    p_first = np.unique(c_prod, return_index=True)[1]
    p_cat = cat_u[cat_c[cell_first][p_first]]
    p_id = prod_u[prod_c[cell_first][p_first]]
    cat_codes, cat_names = pd.factorize(p_cat)
    product = _pool(pm, pv, cat_codes)[2] if has_pid else 0.3**2
    if not has_pid:
        notes.append(f"{what}: no product ids in the history: an assumed between-product SD 0.3.")
    km, kv, category = _pool(pm, product + pv, cat_codes)
    sm, sv, _ = _pool(km, category + kv, np.zeros(len(km), dtype=np.int64))
    return _Components(
        order_var=float(order),
        video_var=video,
        creator_var=creator,
        product_var=float(product),
        category_var=category,
        site_mean=float(sm[0]),
        site_var=float(sv[0]),
        cat_mean=dict(zip(cat_names, km.tolist(), strict=True)),
        cat_var=dict(zip(cat_names, kv.tolist(), strict=True)),
        prod_mean=dict(zip(p_id, pm.tolist(), strict=True)) if has_pid else {},
        prod_var=dict(zip(p_id, pv.tolist(), strict=True)) if has_pid else {},
        n_products=int(len(pm)) if has_pid else 0,
        n_creator_cells=n_cells,
        n_rows=int(len(y)),
        notes=notes,
    )


def _order_value_components(hs: pd.DataFrame) -> _Components:
    """Components of log order value. A row's log AOV averages ``orders`` order values,
    so it is biased low by about order_var / (2 orders): corrected after a first pass."""
    r = hs[(hs["orders"] > 0) & (hs["gmv"] > 0)]
    m = r["orders"].to_numpy(dtype="float64")
    y = np.log(r["gmv"].to_numpy(dtype="float64") / m)
    first = _components(r, y, m, None, "Order value")
    return _components(r, y + first.order_var / (2.0 * m), m, None, "Order value")


def _refund_components(hs: pd.DataFrame) -> _Components:
    """Components of the refunded share of GMV; each order is refunded or not, so a row's
    share has binomial noise p (1 - p) / orders around its video's rate (p: the product's)."""
    r = hs[(hs["orders"] > 0) & (hs["gmv"] > 0)]
    m = r["orders"].to_numpy(dtype="float64")
    y = np.clip(r["_ref"].to_numpy(dtype="float64") / r["gmv"].to_numpy(dtype="float64"), 0, 1)
    key = _factor(r["product_id"] if "product_id" in r.columns else r["category"])[0]
    g = r["gmv"].groupby(key).transform("sum").to_numpy(dtype="float64")
    p = np.clip(r["_ref"].groupby(key).transform("sum").to_numpy(dtype="float64") / g, 0.005, 0.995)
    return _components(r, y, m, p * (1.0 - p), "Return rate")


@dataclass
class _Level:
    """What the simulation draws for one quantity: a base per parameter draw (log order
    value or return rate) and the variances of the product, creator and video effects
    around it; ``order_var`` is the per-order variance of the order value."""

    base: np.ndarray
    product_var: float
    creator_var: float
    video_var: float
    order_var: float = 0.0


def _plan_center(
    comp: _Components, category: str, product: str | None, cold: bool
) -> tuple[float, float, float, str]:
    """Mean and estimation variance of the plan's base, and the product variance still to
    draw: a named product's own (shrunk) mean, else its category's, where a cold-start
    category is shrunk to the site (an absent one gets a draw from the categories)."""
    if category in comp.cat_mean and not cold:
        c, v = comp.cat_mean[category], comp.cat_var[category]
    else:
        prior_v = comp.category_var + comp.site_var
        if category in comp.cat_mean:
            own, own_v = comp.cat_mean[category], comp.cat_var[category]
            v = 1.0 / (1.0 / own_v + 1.0 / prior_v) if prior_v > 0 else 0.0
            c = v * (own / own_v + comp.site_mean / prior_v) if prior_v > 0 else comp.site_mean
        else:
            c, v = comp.site_mean, prior_v
    if product is None or product not in comp.prod_mean:
        return c, v, comp.product_var, "category"
    pm, pv, tau = comp.prod_mean[product], comp.prod_var[product], comp.product_var
    if tau <= 0:  # products are alike: the product is the category
        return c, v, 0.0, "product"
    post_v = 1.0 / (1.0 / pv + 1.0 / tau)
    return post_v * (pm / pv + c / tau), post_v + (post_v / tau) ** 2 * v, 0.0, "product"


def _beta_around(rng: np.random.Generator, mean: np.ndarray, var: float) -> np.ndarray:
    """Beta draws with the given mean and variance (capped at half the Bernoulli
    variance); the mean itself when ``var`` is 0."""
    mean = np.clip(mean, 1e-6, 1 - 1e-6)
    if var <= 0:
        return mean
    nu = np.maximum(mean * (1.0 - mean) / var - 1.0, 1.0)
    return rng.beta(mean * nu, (1.0 - mean) * nu)


def _value_and_refund_levels(
    comps: tuple[_Components, _Components],
    plan: CampaignPlan,
    *,
    cold: bool,
    use_product: bool,
    n_draws: int,
    rng: np.random.Generator,
) -> tuple[_Level, _Level, dict[str, np.ndarray]]:
    """Per parameter draw: the base of log order value and of the return rate (a named
    product's shrunk own mean, else its category's, with their estimation uncertainty;
    the plan's value when it states one) and the spreads the simulation draws around it.
    Also the expected order value and return rate per draw (over products when none is
    named) for the expected-ROI and break-even figures."""
    vc, rc = comps
    product = plan.product_id if use_product else None
    if plan.aov is not None:  # the stated mean order value of the plan's product
        v_base = np.full(n_draws, math.log(plan.aov) - (vc.creator_var + vc.video_var) / 2)
        v_prod = 0.0
    else:
        c, var, v_prod, _ = _plan_center(vc, plan.category, product, cold)
        v_base = rng.normal(c, math.sqrt(var), n_draws)
    value = _Level(v_base, v_prod, vc.creator_var, vc.video_var, vc.order_var)
    aov = np.exp(v_base + (v_prod + vc.creator_var + vc.video_var) / 2)
    if plan.return_rate is not None:
        r_base, r_prod = np.full(n_draws, plan.return_rate), 0.0
    else:
        c, var, r_prod, _ = _plan_center(rc, plan.category, product, cold)
        r_base = _beta_around(rng, np.full(n_draws, min(max(c, 1e-4), 1 - 1e-4)), var)
    refund = _Level(r_base, r_prod, rc.creator_var, rc.video_var)
    return value, refund, {"aov": aov, "return_rate": r_base}


def _sds(comp: _Components, scale: str) -> dict[str, Any]:
    """The fitted spreads as standard deviations, for ``inputs``."""
    return {
        "scale": scale,
        "order": math.sqrt(comp.order_var),
        "video": math.sqrt(comp.video_var),
        "creator": math.sqrt(comp.creator_var),
        "product": math.sqrt(comp.product_var),
        "category": math.sqrt(comp.category_var),
        "n_products": comp.n_products,
        "n_rows": comp.n_rows,
    }


def _logit_sd(var: float, rate: np.ndarray) -> float:
    """A spread of a proportion as an SD on the logit scale (delta method at the median)."""
    p = float(np.clip(np.median(rate), 1e-4, 1 - 1e-4))
    return math.sqrt(var) / (p * (1.0 - p))


# --------------------------------------------------------------------------- result


@dataclass
class RoiForecast:
    """What :func:`forecast_roi` returns.

    Attributes
    ----------
    plan : CampaignPlan
    draws : DataFrame
        One row per Monte Carlo draw: impressions, clicks, orders, gmv, refunds,
        net_gmv, commission, promotion_cost, contribution, profit, gross_roi, net_roi,
        profit_roi, and the expected (noise-free, per parameter draw) ``exp_*`` values.
    summary : DataFrame
        Per quantity: mean, median, 2.5/10/90/97.5 % quantiles and P(< 1) for ROIs.
    roi : str
        The headline ROI kind ("gross", "net" or "profit").
    headline : dict
        median, q10, q90, q025, q975, p_below_1 of the headline ROI, expected profit,
        P(loss), and ``expected_roi_*``: the pooled ROI of many such campaigns (their
        total sales over their total cost, E[sales] / E[cost] per parameter draw: a ratio
        of expectations, not the mean of campaign ROIs), with its interval over
        parameter uncertainty only.
    break_even : dict
        Break-even and profit-maximising commission (median and intervals), the
        history's commission range, and whether they extrapolate.
    commission_curve : DataFrame
        Expected profit by commission (median and 80 % band over parameter draws).
    sensitivity : DataFrame
        Median headline ROI with each driver at -20 % and +20 %.
    inputs : dict
        The rates, AOV, return rate and impressions the forecast used.
    notes : list of str
        Plain sentences: cold start, extrapolation, approximations.
    """

    plan: CampaignPlan
    draws: pd.DataFrame
    summary: pd.DataFrame
    roi: str
    headline: dict[str, Any]
    break_even: dict[str, Any]
    commission_curve: pd.DataFrame
    sensitivity: pd.DataFrame
    inputs: dict[str, Any]
    notes: list[str]

    def results(self) -> dict[str, Any]:
        """Key figures as plain values (for results.json)."""
        return {
            "plan": self.plan.to_dict(),
            "roi_kind": self.roi,
            **{f"roi_{k}": v for k, v in self.headline.items()},
            "break_even": self.break_even,
            "inputs": self.inputs,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- simulation


@dataclass
class _Setup:
    """Everything the simulation needs, computed once from plan + history."""

    slots_tier: np.ndarray  # tier name per creator slot
    slots_pieces: np.ndarray  # pieces per slot
    slots_creator: np.ndarray  # index in the tier pool, or -1 (random creator)
    tiers: list[str]
    eta_ctr: np.ndarray  # draws x tiers
    eta_cvr: np.ndarray  # draws x tiers (at the plan's commission)
    cvr_grid_eta: np.ndarray  # draws x tiers x grid (used for the commission curve)
    aov: np.ndarray  # draws: expected order value (over products unless one is named)
    return_rate: np.ndarray  # draws: expected refunded share of GMV
    value: _Level  # log order value: base per draw and product/creator/video/order spread
    refund: _Level  # return rate: base per draw and product/creator/video spread
    one_product: bool  # the whole campaign sells one product (else one per creator)
    imp_scale: dict[str, float]
    pools: dict[str, _TierPool]
    reach: dict[str, np.ndarray]  # per tier, draws: uncertainty of the tier's mean reach


_NO_SCALE = {
    "ctr": 1.0,
    "cvr": 1.0,
    "aov": 1.0,
    "return_rate": 1.0,
    "commission": 1.0,
    "sample_cost": 1.0,
    "post_rate": 1.0,
}


def _draw_creators(
    st: _Setup, rng: np.random.Generator, s: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw and slot: the history creator (index in the tier's pool) and the click
    and order probabilities (model rate x the creator's gamma-Poisson multiplier)."""
    D, n = st.eta_ctr.shape[0], len(st.slots_tier)
    who = np.zeros((D, n), dtype=np.int64)
    p_click = np.zeros((D, n))
    p_order = np.zeros((D, n))
    for j, tier in enumerate(st.tiers):
        cols = np.flatnonzero(st.slots_tier == tier)
        if cols.size == 0:
            continue
        pool = st.pools[tier]
        fixed = st.slots_creator[cols]
        h = rng.integers(0, len(pool.creator_ids), size=(D, cols.size))
        who[:, cols] = np.where(fixed[None, :] >= 0, fixed[None, :], h)
        h = who[:, cols]
        ctr_mult = (
            rng.gamma(pool.ctr_shape[h], 1.0 / pool.ctr_rate[h])
            if np.all(np.isfinite(pool.ctr_shape))
            else 1.0
        )
        cvr_mult = (
            rng.gamma(pool.cvr_shape[h], 1.0 / pool.cvr_rate[h])
            if np.all(np.isfinite(pool.cvr_shape))
            else 1.0
        )
        p_click[:, cols] = np.clip(expit(st.eta_ctr[:, [j]]) * s["ctr"] * ctr_mult, 0.0, 1.0)
        p_order[:, cols] = np.clip(expit(st.eta_cvr[:, [j]]) * s["cvr"] * cvr_mult, 0.0, 1.0)
    return who, p_click, p_order


def _slot_levels(
    st: _Setup, rng: np.random.Generator, s: Mapping[str, float], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw and slot: log price level and return rate of the slot's product and
    creator (one product for the campaign, or one per slot for a category mix)."""
    D, n = shape
    width = 1 if st.one_product else n
    v, r = st.value, st.refund
    log_price = (
        st.value.base[:, None]
        + math.log(s["aov"])
        + rng.normal(0.0, math.sqrt(v.product_var), (D, width))
        + rng.normal(0.0, math.sqrt(v.creator_var), (D, n))
    )
    base_rr = np.clip(r.base * s["return_rate"], 0.0, 1.0)[:, None]
    product_rr = _beta_around(rng, np.broadcast_to(base_rr, (D, width)), r.product_var)
    slot_rr = _beta_around(rng, np.broadcast_to(product_rr, (D, n)), r.creator_var)
    return log_price, slot_rr


_EXACT_SLOTS = 400
"""Above this many creator slots (a backtest cell of a big export: every random history
creator alike, one product each), the campaign total is simulated from a stratified
subsample of this many slots; see :func:`_simulate`."""

_TOTALS = ("impressions", "clicks", "orders", "gmv", "refunds")


def _simulate(
    st: _Setup,
    plan: CampaignPlan,
    rng: np.random.Generator,
    *,
    scale: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Monte Carlo of the plan's outcome; ``scale`` multiplies ctr, cvr, aov,
    return_rate, commission, sample_cost or post_rate (sensitivity). Every slot's
    samples are paid; a slot posts with probability ``post_rate`` and only posters
    bring impressions and are paid their flat fee. Each piece has its own price and
    return rate around its creator's (orders of one video share them); each order's
    value is gamma around the piece's price, each order refunded or not.

    Many exchangeable slots (more than :data:`_EXACT_SLOTS` random creators, one product
    each: a backtest cell of a big export) are independent given the parameter draw, so
    their total is its exact conditional mean (:func:`_slot_means`) plus the deviation
    of a stratified subsample of slots from theirs, scaled by sqrt(slots / subsample):
    mean and variance of the total are kept, and the cost does not grow with the
    number of slots."""
    s = {**_NO_SCALE, **(scale or {})}
    n = len(st.slots_tier)
    if n <= _EXACT_SLOTS or st.one_product or np.any(st.slots_creator >= 0):
        tot, n_posted = _simulate_slots(st, plan, rng, s, per_slot=False)
        return _outcome_frame(st, plan, s, tot, n_posted)
    order = np.lexsort((st.slots_pieces, st.slots_tier))  # strata: tier, then pieces
    sub = order[np.floor((np.arange(_EXACT_SLOTS) + 0.5) * n / _EXACT_SLOTS).astype(np.int64)]
    st_sub = replace(
        st,
        slots_tier=st.slots_tier[sub],
        slots_pieces=st.slots_pieces[sub],
        slots_creator=st.slots_creator[sub],
    )
    x, posted = _simulate_slots(st_sub, plan, rng, s, per_slot=True)
    mu_all, mu_sub = _slot_means(st, plan, s), _slot_means(st_sub, plan, s)
    f = math.sqrt(n / _EXACT_SLOTS)
    tot = {c: np.maximum(mu_all[c] + f * (x[c].sum(axis=1) - mu_sub[c]), 0.0) for c in _TOTALS}
    p = min(plan.post_rate * s["post_rate"], 1.0)
    n_posted = np.clip(n * p + f * (posted.sum(axis=1) - _EXACT_SLOTS * p), 0.0, n)
    return _outcome_frame(st, plan, s, tot, n_posted)


def _simulate_slots(
    st: _Setup,
    plan: CampaignPlan,
    rng: np.random.Generator,
    s: Mapping[str, float],
    *,
    per_slot: bool,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The simulation proper: totals per draw (``per_slot=False``: the campaign's, and
    the number of posting slots) or per draw and slot (and the posting indicators)."""
    D, n = st.eta_ctr.shape[0], len(st.slots_tier)
    who, p_click, p_order = _draw_creators(st, rng, s)
    # drawn after the creators so a scaled post rate keeps common random numbers
    posted = rng.random((D, n)) < min(plan.post_rate * s["post_rate"], 1.0)
    log_price, slot_rr = _slot_levels(st, rng, s, (D, n))
    k = 1.0 / max(st.value.order_var, 1e-6)
    tot = {c: np.zeros((D, n) if per_slot else D) for c in _TOTALS}
    for piece in range(int(st.slots_pieces.max())):
        imp = np.zeros((D, n))
        for tier in st.tiers:
            cols = np.flatnonzero((st.slots_tier == tier) & (st.slots_pieces > piece))
            if cols.size == 0:
                continue
            pool, h = st.pools[tier], who[:, cols]
            row = pool.offsets[h] + np.floor(rng.random(h.shape) * pool.counts[h]).astype(np.int64)
            reach = st.imp_scale[tier] * st.reach[tier][:, None]
            imp[:, cols] = np.round(pool.impressions[row] * reach)
        imp = np.where(posted, imp, 0.0).astype(np.int64)
        clicks = rng.binomial(imp, p_click)
        orders = rng.binomial(clicks, p_order)
        price = np.exp(log_price + rng.normal(0.0, math.sqrt(st.value.video_var), (D, n)))
        gmv = np.where(orders > 0, price * rng.gamma(np.maximum(orders * k, 1e-12), 1.0 / k), 0.0)
        refunded = rng.binomial(orders, _beta_around(rng, slot_rr, st.refund.video_var))
        refunds = np.where(orders > 0, gmv * refunded / np.maximum(orders, 1), 0.0)
        for c, val in zip(_TOTALS, (imp, clicks, orders, gmv, refunds), strict=True):
            tot[c] += val if per_slot else val.sum(axis=1)
    if per_slot:
        return tot, posted
    return tot, posted.sum(axis=1).astype("float64")


def _slot_means(st: _Setup, plan: CampaignPlan, s: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Per draw, the expected totals of the setup's slots (all random creators, one
    product each) given the parameter draw: a random creator of the tier brings their
    mean impressions per piece times their CTR and CVR multipliers' means (pool averages
    of the products, as creator, reach and multipliers are drawn together); price and
    refund propensity are independent of the counts, with means exp(base + half the
    product, creator and video variances) and the base return rate. Only the clipping
    of a probability at 1 and the rounding of impressions are not followed (both rare
    and tiny)."""
    D = st.eta_ctr.shape[0]
    post = min(plan.post_rate * s["post_rate"], 1.0)
    v = st.value
    price = np.exp(
        v.base + math.log(s["aov"]) + (v.product_var + v.creator_var + v.video_var) / 2.0
    )
    rr = np.clip(np.clip(st.refund.base * s["return_rate"], 0.0, 1.0), 1e-6, 1 - 1e-6)
    out = {c: np.zeros(D) for c in _TOTALS}
    for j, tier in enumerate(st.tiers):
        pieces = float(st.slots_pieces[st.slots_tier == tier].sum())
        if pieces == 0:
            continue
        imp_h, m_ctr, m_cvr = _pool_means(st.pools[tier])
        reach = post * pieces * st.imp_scale[tier] * st.reach[tier]
        p_ctr = np.minimum(expit(st.eta_ctr[:, j]) * s["ctr"], 1.0)
        p_cvr = np.minimum(expit(st.eta_cvr[:, j]) * s["cvr"], 1.0)
        orders = reach * p_ctr * p_cvr * float(np.mean(imp_h * m_ctr * m_cvr))
        out["impressions"] += reach * float(np.mean(imp_h))
        out["clicks"] += reach * p_ctr * float(np.mean(imp_h * m_ctr))
        out["orders"] += orders
        out["gmv"] += orders * price
        out["refunds"] += orders * price * rr
    return out


def _pool_means(pool: _TierPool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pool creator: mean impressions per piece and the means of the CTR and CVR
    multipliers (1 without between-creator variance)."""
    imp = np.add.reduceat(pool.impressions, pool.offsets) / pool.counts
    finite = np.all(np.isfinite(pool.ctr_shape)), np.all(np.isfinite(pool.cvr_shape))
    m_ctr = pool.ctr_shape / pool.ctr_rate if finite[0] else np.ones_like(imp)
    m_cvr = pool.cvr_shape / pool.cvr_rate if finite[1] else np.ones_like(imp)
    return imp, m_ctr, m_cvr


def _outcome_frame(
    st: _Setup,
    plan: CampaignPlan,
    s: Mapping[str, float],
    tot: Mapping[str, np.ndarray],
    n_posted: np.ndarray,
) -> pd.DataFrame:
    """Costs, contribution and the three ROIs of simulated campaign totals."""
    gmv, refunds = tot["gmv"], tot["refunds"]
    net = gmv - refunds
    rate = min(plan.commission_rate * s["commission"], COMMISSION_RANGE[1])
    commission = rate * net
    n = len(st.slots_tier)
    fixed_cost = n * plan.sample_cost * s["sample_cost"] + n_posted * plan.flat_fee + plan.ads_spend
    cost = commission + fixed_cost
    u = plan.unit_cost_rate
    contrib = (
        net * (1.0 - u - plan.platform_fee_rate) - u * (1.0 - plan.refund_recovery) * refunds
        if u is not None
        else np.full(len(gmv), np.nan)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "creators_posted": n_posted,
                "impressions": tot["impressions"].astype("float64"),
                "clicks": tot["clicks"].astype("float64"),
                "orders": tot["orders"].astype("float64"),
                "gmv": gmv,
                "refunds": refunds,
                "net_gmv": net,
                "commission": commission,
                "promotion_cost": cost,
                "contribution": contrib,
                "profit": contrib - cost,
                "gross_roi": np.where(cost > 0, gmv / cost, np.nan),
                "net_roi": np.where(cost > 0, net / cost, np.nan),
                "profit_roi": np.where(cost > 0, contrib / cost, np.nan),
            }
        )


def _expected(st: _Setup, plan: CampaignPlan, eta_cvr: np.ndarray) -> dict[str, np.ndarray]:
    """Noise-free expectation per parameter draw (creator multipliers have mean ~1;
    a share ``post_rate`` of the slots posts)."""
    D = st.eta_ctr.shape[0]
    net = np.zeros(eta_cvr.shape[:1] + eta_cvr.shape[2:]) if eta_cvr.ndim == 3 else np.zeros(D)
    gmv = np.zeros_like(net)
    for j, tier in enumerate(st.tiers):
        mask = st.slots_tier == tier
        exp_imp = (
            float(np.sum(st.slots_pieces[mask]))
            * st.pools[tier].mean_impressions
            * st.imp_scale[tier]
            * st.reach[tier]
            * plan.post_rate
        )
        ctr = expit(st.eta_ctr[:, j])
        cvr = expit(eta_cvr[:, j])
        if eta_cvr.ndim == 3:
            g = exp_imp[:, None] * ctr[:, None] * cvr * st.aov[:, None]
        else:
            g = exp_imp * ctr * cvr * st.aov
        gmv = gmv + g
    rr = st.return_rate if eta_cvr.ndim == 2 else st.return_rate[:, None]
    net = gmv * (1.0 - rr)
    return {"gmv": gmv, "net_gmv": net, "refunds": gmv * rr}


# --------------------------------------------------------------------------- forecast


def _pooled_category_draw(
    model: _Linear, category: str, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, float, float]:
    """Draws of the plan category's effect (vs the reference level) by normal-normal
    partial pooling, jointly with the coefficient draws ``b`` (draws x coefficients).

    Category effects theta_c ~ N(mu, tau^2); the category's estimate y has SE s; the
    posterior is N(w y + (1 - w) mu, w s^2) with w = tau^2 / (tau^2 + s^2). Per draw,
    y and the mean effect mu come from the same coefficient vector as the intercept and
    tier effects (so their correlations are kept); the extra variance ``w (1 - w) s^2``
    makes the total ``w s^2``, and ``tau^2 / k`` is the uncertainty of mu as the mean of
    k sampled categories. An absent category (w = 0) is a new draw from N(mu, tau^2).
    Returns the draws, tau and w.
    """
    n = b.shape[0]
    idx = [i for i, nm in enumerate(model.params.index) if str(nm).startswith("C(category)")]
    names = [str(model.params.index[i]) for i in idx]
    k = len(idx) + 1  # with the reference level (effect 0)
    if k < 2:
        return np.zeros(n), 0.0, 0.0
    eff = np.concatenate([[0.0], model.params.to_numpy()[idx]])
    se = np.sqrt(np.diag(model.cov)[idx])
    # between-category variance: spread of the estimates minus their sampling noise
    between = float(max(np.var(eff, ddof=1) - np.mean(se**2), 0.0))
    mu_b = b[:, idx].sum(axis=1) / k + rng.normal(0.0, math.sqrt(between / k), n)
    name = next((nm for nm in names if nm.endswith(f"[T.{category}]")), None)
    ref = model.levels.get("category", [None])[0]
    if name is None and category != ref:
        return mu_b + rng.normal(0.0, math.sqrt(between), n), math.sqrt(between), 0.0
    if name is None:  # the reference level: its uncertainty sits in the intercept
        y_b, own_var = np.zeros(n), 0.0
    else:
        pos = names.index(name)
        y_b, own_var = b[:, idx[pos]], float(se[pos] ** 2)
    if between == 0.0:
        w = 0.0
    elif own_var == 0.0:
        w = 1.0
    else:
        w = between / (between + own_var)
    extra = math.sqrt(max(w * (1.0 - w) * own_var, 0.0))
    return w * y_b + (1.0 - w) * mu_b + rng.normal(0.0, extra, n), math.sqrt(between), w


def _site_history(
    history: pd.DataFrame, site: str, cache: dict[Any, Any] | None
) -> tuple[pd.DataFrame, int]:
    """The site's rows with impressions and a commission rate, tier and category as
    strings and the refunds as ``_ref``; and how many rows lacked the rate. Kept in
    ``cache`` (the backtest forecasts every cell from one history)."""
    key = ("site_history", site, id(history))
    if cache is not None and key in cache and cache[key][0] is history:
        return cache[key][1], cache[key][2]
    hs = history[_is(history["site"], site)]
    hs = hs[(hs["impressions"] > 0).to_numpy(dtype=bool)]
    no_rate = hs["commission_rate"].isna().to_numpy(dtype=bool)
    hs = hs[~no_rate] if no_rate.any() else hs.copy()
    ref = hs["refunds"].astype(float) if "refunds" in hs.columns else 0.0
    hs = hs.assign(_ref=ref, tier=hs["tier"].astype(str), category=hs["category"].astype(str))
    if cache is not None:
        cache[key] = (history, hs, int(no_rate.sum()))
    return hs, int(no_rate.sum())


def forecast_roi(
    plan: CampaignPlan | Mapping[str, Any],
    history: pd.DataFrame,
    *,
    n_draws: int = 4000,
    seed: int = 0,
    roi: str = "net",
    min_clicks: int = MIN_CLICKS,
    min_orders: int = MIN_ORDERS,
    commission_grid: Sequence[float] | None = None,
    sensitivity: bool = True,
) -> RoiForecast:
    """Forecast a campaign's ROI as a distribution.

    Parameters
    ----------
    plan : CampaignPlan or mapping
        The plan (a mapping goes through :meth:`CampaignPlan.from_dict`).
    history : DataFrame
        Canonical frame of past content (any sites; only the plan's site is used).
    n_draws : int
        Monte Carlo draws (>= 200).
    seed : int
        Seed of the random generator.
    roi : str
        Headline ROI kind: "gross" (GMV / cost), "net" (net of refunds) or "profit"
        (contribution / cost, needs ``unit_cost_rate``).
    min_clicks, min_orders : int
        Cold-start thresholds for the plan's category on the site.
    commission_grid : sequence of float, optional
        Commission rates for the break-even search (default 0.5 % steps to 80 %).
    sensitivity : bool
        Compute the +/-20 % sensitivity table (13 extra simulations).

    Returns
    -------
    RoiForecast

    Raises
    ------
    PlanError
        For an invalid plan, or one that does not fit the history.
    ModelError
        When the models cannot be fitted on the site's history.
    """
    request = _Request.checked(plan, roi, n_draws, min_clicks, min_orders, commission_grid)
    return _forecast(history, request, seed=seed, sensitivity=sensitivity)


@dataclass(frozen=True)
class _Request:
    """A checked forecast request: the plan and the options of :func:`forecast_roi`."""

    plan: CampaignPlan
    roi: str
    n_draws: int
    min_clicks: int = MIN_CLICKS
    min_orders: int = MIN_ORDERS
    commission_grid: Sequence[float] | None = None

    @classmethod
    def checked(
        cls,
        plan: CampaignPlan | Mapping[str, Any],
        roi: str,
        n_draws: int,
        min_clicks: int = MIN_CLICKS,
        min_orders: int = MIN_ORDERS,
        commission_grid: Sequence[float] | None = None,
    ) -> _Request:
        if not isinstance(plan, CampaignPlan):
            plan = CampaignPlan.from_dict(plan)
        if roi not in ROI_KINDS:
            raise PlanError(f"unknown roi kind {roi!r}; accepted: {list(ROI_KINDS)}")
        if roi == "profit" and plan.unit_cost_rate is None:
            raise PlanError(
                "roi='profit' needs unit_cost_rate in the plan (unit cost / price, e.g. 0.35)"
            )
        if int(n_draws) < 200:
            raise PlanError(
                f"n_draws = {n_draws} is too few for stable intervals; accepted: >= 200"
            )
        return cls(plan, roi, int(n_draws), min_clicks, min_orders, commission_grid)


def _forecast(
    history: pd.DataFrame,
    request: _Request,
    *,
    seed: int = 0,
    sensitivity: bool = True,
    slots: pd.DataFrame | None = None,
    cache: dict[Any, Any] | None = None,
    one_product: bool = True,
) -> RoiForecast:
    """:func:`forecast_roi` in named steps, with the hooks the backtest and the weekly
    monitor need: fixed creator ``slots``, a ``cache`` of fits shared across many
    forecasts from one history, and ``one_product=False`` (each creator sells its own
    product, as the cells of a backtest do)."""
    plan, n_draws = request.plan, request.n_draws
    plan.validate(history)
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    ev = _evidence(history, request, cache, notes)
    models = _site_models(ev, plan, cache, notes)
    slots, tiers = _creator_slots(plan, ev.hs, models.pools, slots)
    eta = _linear_predictors(models, plan, tiers, ev.cold, request, rng, notes)
    comps = _components_of(ev.hs, plan.site, cache)
    value, refund, vr = _value_and_refund_levels(
        comps, plan, cold=ev.cold, use_product=ev.use_product, n_draws=n_draws, rng=rng
    )
    notes += [n for c in comps for n in c.notes]
    sources = _value_sources(ev, plan, comps, request.min_orders, notes)
    _assumption_notes(plan, comps, notes)
    imp_scale, reach = _reach(plan, tiers, models.pools, n_draws, rng)
    st = _Setup(
        slots_tier=slots["tier"].to_numpy(dtype=object).astype(str),
        slots_pieces=slots["pieces"].to_numpy(dtype=np.int64),
        slots_creator=slots["creator"].to_numpy(dtype=np.int64),
        tiers=tiers,
        eta_ctr=eta["ctr"],
        eta_cvr=eta["cvr"],
        cvr_grid_eta=eta["grid"],
        aov=vr["aov"],
        return_rate=vr["return_rate"],
        value=value,
        refund=refund,
        one_product=one_product,
        imp_scale=imp_scale,
        pools=models.pools,
        reach=reach,
    )
    sim_seed = int(rng.integers(2**32))
    draws = _simulate(st, plan, np.random.default_rng(sim_seed))
    # expected fixed cost: samples for every slot, flat fees for the expected posters
    fixed_cost = len(slots) * (plan.sample_cost + plan.post_rate * plan.flat_fee) + plan.ads_spend
    _add_expected(draws, st, plan, fixed_cost)
    headline = _headline(draws, plan, request.roi, n_draws, notes)
    commission_range = (
        float(ev.hs["commission_rate"].min()),
        float(ev.hs["commission_rate"].max()),
    )
    be, curve = _break_even(st, plan, eta["commission_grid"], fixed_cost, commission_range)
    notes += be.pop("_notes")
    col = f"{request.roi}_roi"
    sens = _sensitivity(st, plan, sim_seed, col) if sensitivity else pd.DataFrame()
    inputs = _forecast_inputs(ev, models, st, eta, comps, sources, slots, fixed_cost, plan)
    return RoiForecast(
        plan=plan,
        draws=draws,
        summary=_summarise(draws),
        roi=request.roi,
        headline=headline,
        break_even=be,
        commission_curve=curve,
        sensitivity=sens,
        inputs=inputs,
        notes=notes,
    )


@dataclass
class _Evidence:
    """What the site's history holds for the plan's category and product."""

    hs: pd.DataFrame  # the site's usable rows (see _site_history)
    cat_rows: pd.DataFrame
    cat_clicks: int
    cat_orders: int
    cold: bool  # too little category history: lean on the site's other categories
    prod_orders: int
    use_product: bool  # the named product has enough orders to stand on its own


def _evidence(
    history: pd.DataFrame, request: _Request, cache: dict[Any, Any] | None, notes: list[str]
) -> _Evidence:
    plan = request.plan
    hs, no_rate = _site_history(history, plan.site, cache)
    if no_rate:
        # never read as zero commission: such rows cannot inform the commission response
        notes.append(
            f"{no_rate:,} history row(s) of {plan.site} have no commission rate; "
            "they are left out of the models (the conversion model needs the rate)."
        )
    cat_rows = hs[hs["category"] == plan.category]
    cat_clicks, cat_orders = int(cat_rows["clicks"].sum()), int(cat_rows["orders"].sum())
    cold = cat_clicks < request.min_clicks or cat_orders < request.min_orders
    if plan.new_category and len(cat_rows) == 0:
        notes.append(
            f"Cold start: category '{plan.category}' has no history on {plan.site}. CTR, "
            "conversion, AOV and return rate lean on the site's other categories, and the "
            "interval includes how much categories differ from each other."
        )
    elif cold:
        notes.append(
            f"Cold start: category '{plan.category}' has little history on {plan.site} "
            f"({cat_clicks:,} clicks, {cat_orders:,} orders; the kit's threshold is "
            f"{request.min_clicks:,} clicks and {request.min_orders:,} orders). Its estimates "
            "are pulled towards the site's average category and the interval is wider."
        )
    prod_rows = hs.iloc[:0]
    if plan.product_id is not None and "product_id" in hs.columns:
        prod_rows = hs[_is(hs["product_id"], plan.product_id)]
    prod_orders = int(prod_rows["orders"].sum())
    return _Evidence(
        hs, cat_rows, cat_clicks, cat_orders, cold, prod_orders, prod_orders >= request.min_orders
    )


@dataclass
class _Models:
    """The site's CTR and conversion fits, the creator pools and their dispersion."""

    ctr: _Linear
    cvr: _Linear
    pools: dict[str, _TierPool]
    disp: dict[str, Any]
    ctr_formula: str
    cvr_formula: str


def _site_models(
    ev: _Evidence, plan: CampaignPlan, cache: dict[Any, Any] | None, notes: list[str]
) -> _Models:
    """Per-site fits (sites are never pooled)."""
    hs, cold = ev.hs, ev.cold
    if hs["category"].nunique() < 1 or hs["tier"].nunique() < 1:
        raise ModelError(f"site {plan.site} has too little history to fit a model")
    ctr_formula = CTR_FORMULA if hs["category"].nunique() > 1 else "C(tier)"
    cvr_formula = CVR_FORMULA if hs["category"].nunique() > 1 else "C(tier) + commission_rate"
    if hs["tier"].nunique() < 2:
        ctr_formula = ctr_formula.replace("C(tier) + ", "").replace("C(tier)", "1")
        cvr_formula = cvr_formula.replace("C(tier) + ", "")
    # A sparse category is left out of the fit (its few clicks would give a wild or
    # inestimable coefficient); its effect is then drawn from the between-category spread.
    fit_rows = hs[hs["category"] != plan.category] if cold and hs["category"].nunique() > 2 else hs
    if cold and fit_rows is hs and len(ev.cat_rows):
        notes.append("Too few categories to leave the sparse one out; it stays in the fit.")
    key = (
        plan.site,
        len(fit_rows),
        ctr_formula,
        cvr_formula,
        plan.category if fit_rows is not hs else None,
    )
    if cache is not None and key in cache:
        ctr_model, cvr_model, pools, disp = cache[key]
    else:
        ctr_model = _fit_binomial(fit_rows, ctr_formula, "clicks", "impressions", notes)
        cvr_model = _fit_binomial(fit_rows, cvr_formula, "orders", "clicks", notes)
        pools, disp = _creator_pools(fit_rows, ctr_model, cvr_model)
        if cache is not None:
            cache[key] = (ctr_model, cvr_model, pools, disp)
    return _Models(ctr_model, cvr_model, pools, disp, ctr_formula, cvr_formula)


def _creator_slots(
    plan: CampaignPlan,
    hs: pd.DataFrame,
    pools: dict[str, _TierPool],
    slots: pd.DataFrame | None,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per creator the plan books (tier, pieces, index of a named creator in its
    tier's pool or -1), and the plan's tiers in the kit's order."""
    if slots is None:
        rows = []
        for t, n_t in plan.creators_per_tier.items():
            rows += [(t, plan.pieces_per_creator, -1)] * n_t
        if plan.creators:
            tier_of = hs.groupby("creator_id", sort=False)["tier"].first()
            for cid in plan.creators:
                t = str(tier_of[cid])
                at = int(np.flatnonzero(pools[t].creator_ids == cid)[0])
                rows.append((t, plan.pieces_per_creator, at))
        slots = pd.DataFrame(rows, columns=["tier", "pieces", "creator"])
    tiers = [t for t in TIERS if t in set(slots["tier"])]
    missing_pool = [t for t in tiers if t not in pools]
    if missing_pool:
        raise PlanError(f"tier(s) {missing_pool} have no history on {plan.site}")
    return slots, tiers


def _linear_predictors(
    models: _Models,
    plan: CampaignPlan,
    tiers: list[str],
    cold: bool,
    request: _Request,
    rng: np.random.Generator,
    notes: list[str],
) -> dict[str, Any]:
    """Draws of the CTR and conversion linear predictors per tier (and over the
    commission grid), with the between-category spread added for a cold start."""
    ctr_model, cvr_model, n_draws = models.ctr, models.cvr, request.n_draws
    ref_cat = (
        plan.category
        if (not cold and plan.category in ctr_model.levels.get("category", []))
        else None
    )
    base_cat = ref_cat or ctr_model.levels.get("category", [plan.category])[0]
    new = pd.DataFrame(
        {"tier": tiers, "category": base_cat, "commission_rate": plan.commission_rate}
    )
    b_ctr = ctr_model.draw(rng, n_draws)
    b_cvr = cvr_model.draw(rng, n_draws)
    eta_ctr = b_ctr @ ctr_model.design(new).T
    eta_cvr = b_cvr @ cvr_model.design(new).T
    grid = np.asarray(
        request.commission_grid
        if request.commission_grid is not None
        else np.round(np.arange(0.005, 0.8001, 0.005), 4),
        dtype="float64",
    )
    grid_rows = pd.DataFrame(
        {
            "tier": np.repeat(tiers, len(grid)),
            "category": base_cat,
            "commission_rate": np.tile(grid, len(tiers)),
        }
    )
    eta_grid = (b_cvr @ cvr_model.design(grid_rows).T).reshape(n_draws, len(tiers), len(grid))
    if ref_cat is None and "category" in ctr_model.levels:
        d_ctr, sd_ctr, w_ctr = _pooled_category_draw(ctr_model, plan.category, b_ctr, rng)
        d_cvr, sd_cvr, w_cvr = _pooled_category_draw(cvr_model, plan.category, b_cvr, rng)
        eta_ctr = eta_ctr + d_ctr[:, None]
        eta_cvr = eta_cvr + d_cvr[:, None]
        eta_grid = eta_grid + d_cvr[:, None, None]
        notes.append(
            f"Between-category spread used for the cold start: SD {sd_ctr:.2f} (CTR) and "
            f"{sd_cvr:.2f} (conversion) on the logit scale; weight of the category's own "
            f"history: {w_ctr:.0%} (CTR), {w_cvr:.0%} (conversion)."
        )
    return {
        "new": new,
        "ctr": eta_ctr,
        "cvr": eta_cvr,
        "grid": eta_grid,
        "commission_grid": grid,
    }


def _components_of(
    hs: pd.DataFrame, site: str, cache: dict[Any, Any] | None
) -> tuple[_Components, _Components]:
    """Order-value and refund variance components of the site's history (cached)."""
    if float(hs["orders"].sum()) <= 0:
        raise ModelError(f"site {site} has no orders in the history; cannot estimate AOV")
    ckey = ("components", site, len(hs))
    if cache is not None and ckey in cache:
        return cache[ckey]
    comps = (_order_value_components(hs), _refund_components(hs))
    if cache is not None:
        cache[ckey] = comps
    return comps


def _value_sources(
    ev: _Evidence,
    plan: CampaignPlan,
    comps: tuple[_Components, _Components],
    min_orders: int,
    notes: list[str],
) -> dict[str, str]:
    """Where the order value and return rate come from, said in a note and returned."""
    if ev.use_product:
        src = (
            f"product {plan.product_id}'s own history ({ev.prod_orders:,} orders on "
            f"{plan.site}; its uncertainty counts the creators and videos it sold through, "
            "not its orders)"
        )
    else:
        why = (
            "no product named in the plan"
            if plan.product_id is None
            else f"product {plan.product_id} has {ev.prod_orders:,} orders of history, fewer "
            f"than {min_orders}"
        )
        where = (
            f"whole-site history of {plan.site} (cold start)"
            if ev.cold
            else (f"history of {plan.category} on {plan.site}")
        )
        src = (
            f"{where}, average over products ({why}), widened by the spread between "
            f"products (SD {math.sqrt(comps[0].product_var):.2f} on the log scale, from "
            f"{comps[0].n_products} products of {plan.site})"
        )
    aov_src = "plan" if plan.aov is not None else src
    rr_src = "plan" if plan.return_rate is not None else src
    notes.append(
        f"Order value (AOV) and return rate: {src}."
        if plan.aov is None and plan.return_rate is None
        else f"AOV: {aov_src}; return rate: {rr_src}."
    )
    return {"aov": aov_src, "return_rate": rr_src}


def _assumption_notes(
    plan: CampaignPlan, comps: tuple[_Components, _Components], notes: list[str]
) -> None:
    """The modelling assumptions a reader should know, in the order the report shows them."""
    notes.append(
        "Orders of one video share a price and a refund propensity, and a creator's videos "
        "resemble each other: order value and refunds vary by creator "
        f"(SD {math.sqrt(comps[0].creator_var):.2f} log order value) and by video "
        f"(SD {math.sqrt(comps[0].video_var):.2f}) on top of each order's own spread "
        f"(SD {math.sqrt(comps[0].order_var):.2f}), estimated from the history."
    )
    notes.append(
        f"Assumed {plan.post_rate:.0%} of the {plan.n_creators} creators post (post_rate; "
        "domain.md: about 30-40 % of gifted samples lead to a post): samples are paid for "
        "every creator, flat fees and sales come only from those who post."
    )
    if plan.unit_cost_rate is not None:
        notes.append(
            f"Profit assumes {plan.refund_recovery:.0%} of the refunded units' product cost is "
            "recovered (refund_recovery; 0 means refund-only: the buyer keeps the item)."
        )


def _reach(
    plan: CampaignPlan,
    tiers: list[str],
    pools: dict[str, _TierPool],
    n_draws: int,
    rng: np.random.Generator,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Per tier, the impressions scale and draws of the uncertainty of its mean reach
    (none when the plan states its reach)."""
    imp_scale = {t: 1.0 for t in tiers}
    reach = {t: _reach_uncertainty(pools[t], rng, n_draws) for t in tiers}
    if plan.impressions_per_piece is not None:  # stated reach: no uncertainty about it
        imp_scale = {t: plan.impressions_per_piece / pools[t].mean_impressions for t in tiers}
        reach = {t: np.ones(n_draws) for t in tiers}
    return imp_scale, reach


def _add_expected(draws: pd.DataFrame, st: _Setup, plan: CampaignPlan, fixed_cost: float) -> None:
    """Add the expected outcome of each draw (``exp_*``: the mean over campaigns that the
    draw's rates imply, without the luck of one campaign)."""
    exp = _expected(st, plan, st.eta_cvr)
    exp_cost = plan.commission_rate * exp["net_gmv"] + fixed_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        draws["exp_gmv"] = exp["gmv"]
        draws["exp_net_gmv"] = exp["net_gmv"]
        draws["exp_promotion_cost"] = exp_cost
        draws["exp_gross_roi"] = exp["gmv"] / exp_cost
        draws["exp_net_roi"] = exp["net_gmv"] / exp_cost
        if plan.unit_cost_rate is not None:
            c = (
                exp["net_gmv"] * (1 - plan.unit_cost_rate - plan.platform_fee_rate)
                - plan.unit_cost_rate * (1 - plan.refund_recovery) * exp["refunds"]
            )
            draws["exp_profit"] = c - exp_cost
            draws["exp_profit_roi"] = c / exp_cost
        else:
            draws["exp_profit"] = np.nan
            draws["exp_profit_roi"] = np.nan


def _headline(
    draws: pd.DataFrame, plan: CampaignPlan, roi: str, n_draws: int, notes: list[str]
) -> dict[str, Any]:
    """The headline ROI's quantiles, P(ROI < 1), P(loss) and expectations."""
    col = f"{roi}_roi"
    v = draws[col].dropna()
    ev = draws[f"exp_{col}"].dropna()
    profit = plan.unit_cost_rate is not None
    headline = {
        "median": float(v.median()),
        "mean": float(v.mean()),
        "q025": float(v.quantile(0.025)),
        "q10": float(v.quantile(0.10)),
        "q90": float(v.quantile(0.90)),
        "q975": float(v.quantile(0.975)),
        "p_below_1": float((v < 1).mean()),
        "expected_roi_median": float(ev.median()),
        "expected_roi_q025": float(ev.quantile(0.025)),
        "expected_roi_q975": float(ev.quantile(0.975)),
        "expected_profit": float(draws["profit"].mean()) if profit else float("nan"),
        "p_loss": float((draws["profit"] < 0).mean()) if profit else float("nan"),
        "expected_gmv": float(draws["gmv"].mean()),
        "expected_cost": float(draws["promotion_cost"].mean()),
        "n_draws": n_draws,
    }
    no_order = (draws["orders"] == 0).mean()
    if no_order > 0.05:
        notes.append(
            f"In {no_order:.0%} of the simulated campaigns no order came in: "
            "the plan is small for this funnel, so its ROI is very uncertain."
        )
    return headline


def _forecast_inputs(
    ev: _Evidence,
    models: _Models,
    st: _Setup,
    eta: dict[str, Any],
    comps: tuple[_Components, _Components],
    sources: dict[str, str],
    slots: pd.DataFrame,
    fixed_cost: float,
    plan: CampaignPlan,
) -> dict[str, Any]:
    """The inputs the forecast used, for the report's assumptions table."""
    tiers, hs, n_slots = st.tiers, ev.hs, len(slots)
    return {
        "ctr_by_tier": {
            t: float(expit(models.ctr.linear_predictor(eta["new"])[i])) for i, t in enumerate(tiers)
        },
        "cvr_by_tier": {t: float(np.median(expit(st.eta_cvr[:, i]))) for i, t in enumerate(tiers)},
        "ctr_by_tier_median": {
            t: float(np.median(expit(st.eta_ctr[:, i]))) for i, t in enumerate(tiers)
        },
        "aov": float(np.median(st.aov)),
        "aov_source": sources["aov"],
        "return_rate": float(np.median(st.return_rate)),
        "return_rate_source": sources["return_rate"],
        "impressions_per_piece": {
            t: float(st.pools[t].mean_impressions * st.imp_scale[t]) for t in tiers
        },
        "n_creators": int(n_slots),
        "post_rate": float(plan.post_rate),
        "expected_posting_creators": float(plan.post_rate * n_slots),
        "refund_recovery": float(plan.refund_recovery),
        "product_orders": ev.prod_orders,
        "product_history_used": bool(ev.use_product and plan.aov is None),
        "between_product_sd_log_aov": math.sqrt(comps[0].product_var),
        "between_product_sd_logit_return": _logit_sd(comps[1].product_var, st.return_rate),
        "order_value_sd": _sds(comps[0], "log order value"),
        "return_rate_sd": _sds(comps[1], "refunded share of GMV"),
        "n_pieces": int(slots["pieces"].sum()),
        "fixed_cost": float(fixed_cost),
        "platform_fee_rate": float(plan.platform_fee_rate),
        "category_clicks": ev.cat_clicks,
        "category_orders": ev.cat_orders,
        "cold_start": bool(ev.cold),
        "history_rows": int(len(hs)),
        "history_commission_range": [
            float(hs["commission_rate"].min()),
            float(hs["commission_rate"].max()),
        ],
        "creator_variance": models.disp,
        "order_value_shape": 1.0 / max(comps[0].order_var, 1e-6),
        "ctr_formula": models.ctr_formula,
        "cvr_formula": models.cvr_formula,
    }


def _summarise(draws: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "impressions", "clicks", "orders", "gmv", "refunds", "net_gmv", "commission",
        "promotion_cost", "contribution", "profit", "gross_roi", "net_roi", "profit_roi",
    ]  # fmt: skip
    rows = []
    for c in cols:
        v = draws[c].dropna()
        if v.empty:
            continue
        rows.append(
            {
                "quantity": c,
                "mean": v.mean(),
                "median": v.median(),
                "q025": v.quantile(0.025),
                "q10": v.quantile(0.10),
                "q90": v.quantile(0.90),
                "q975": v.quantile(0.975),
                "p_below_1": float((v < 1).mean()) if c.endswith("_roi") else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _break_even(
    st: _Setup,
    plan: CampaignPlan,
    grid: np.ndarray,
    fixed_cost: float,
    hist_range: tuple[float, float],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per parameter draw: expected profit over the commission grid (conversion
    responds to commission through the fitted coefficient); break-even = highest
    commission with expected profit >= 0, best = argmax."""
    notes: list[str] = []
    exp = _expected(st, plan, st.cvr_grid_eta)  # draws x grid
    u = plan.unit_cost_rate
    margin = 1.0 - (u if u is not None else 0.0) - plan.platform_fee_rate
    lost = (u * (1.0 - plan.refund_recovery)) if u is not None else 0.0
    profit = exp["net_gmv"] * (margin - grid[None, :]) - lost * exp["refunds"] - fixed_cost
    kind = "profit" if u is not None else "net-of-fees (no unit cost given)"
    if u is None:
        notes.append(
            "No unit_cost_rate in the plan: the break-even commission ignores product cost "
            "(it is the commission at which net sales after platform fee no longer cover "
            "commission and fixed costs), so it is an upper bound."
        )
    ok = profit >= 0
    any_ok = ok.any(axis=1)
    last = np.where(any_ok, len(grid) - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
    be = np.where(any_ok, grid[np.clip(last, 0, None)], np.nan)
    best = grid[np.argmax(profit, axis=1)]
    share_none = float(1 - any_ok.mean())
    lo_h, hi_h = hist_range
    q = _commission_quantile
    res = {
        "basis": kind,
        "break_even_median": q(be, 0.5),
        "break_even_q10": q(be, 0.10),
        "break_even_q90": q(be, 0.90),
        "break_even_q025": q(be, 0.025),
        "break_even_q975": q(be, 0.975),
        "p_no_break_even": share_none,
        "best_commission_median": q(best, 0.5),
        "best_commission_q10": q(best, 0.10),
        "best_commission_q90": q(best, 0.90),
        "plan_commission": plan.commission_rate,
        "history_commission_min": lo_h,
        "history_commission_max": hi_h,
    }
    notes += _break_even_notes(res, plan, share_none)
    curve = pd.DataFrame(
        {
            "commission_rate": grid,
            "profit_median": np.median(profit, axis=0),
            "profit_q10": np.quantile(profit, 0.10, axis=0),
            "profit_q90": np.quantile(profit, 0.90, axis=0),
        }
    )
    res["_notes"] = notes
    return res, curve


def _commission_quantile(a: np.ndarray, p: float) -> float:
    """Quantile of commission draws where a missing break-even counts as below every
    commission: NaN when the quantile lands there."""
    with np.errstate(invalid="ignore"):
        v = float(np.quantile(np.where(np.isnan(a), -np.inf, a), p, method="inverted_cdf"))
    return v if math.isfinite(v) else float("nan")


def _break_even_notes(res: dict[str, Any], plan: CampaignPlan, share_none: float) -> list[str]:
    """What a reader must know about the break-even: draws with none, and extrapolation
    beyond the history's commission range."""
    notes: list[str] = []
    lo_h, hi_h = res["history_commission_min"], res["history_commission_max"]
    if share_none > 0.05:
        notes.append(
            f"In {share_none:.0%} of parameter draws no commission rate makes the plan profitable "
            "in expectation: the fixed costs (samples, flat fees, ads) are too high for the "
            "expected sales."
        )
    outside = [
        name
        for name, val in (
            ("break-even", res["break_even_median"]),
            ("profit-maximising", res["best_commission_median"]),
            ("planned", plan.commission_rate),
        )
        if not math.isnan(val) and not (lo_h <= val <= hi_h)
    ]
    notes.append(
        "The commission response comes from how conversion varied with commission in the "
        "history: an association, not a controlled experiment (better creators or products "
        "may go with higher rates)."
        + (
            f" The {', '.join(outside)} commission lies outside the history's range "
            f"{lo_h:.0%}-{hi_h:.0%}: that part is an extrapolation."
            if outside
            else ""
        )
    )
    return notes


def _sensitivity(st: _Setup, plan: CampaignPlan, sim_seed: int, col: str) -> pd.DataFrame:
    """Median headline ROI with each driver scaled by 0.8 and 1.2 (common random numbers)."""
    base = float(np.nanmedian(_simulate(st, plan, np.random.default_rng(sim_seed))[col]))
    rows = []
    for driver in ("ctr", "cvr", "aov", "return_rate", "commission", "sample_cost", "post_rate"):
        vals = {}
        for f in (0.8, 1.2):
            d = _simulate(st, plan, np.random.default_rng(sim_seed), scale={driver: f})
            vals[f] = float(np.nanmedian(d[col]))
        rows.append({"driver": driver, "low": vals[0.8], "high": vals[1.2], "base": base})
    out = pd.DataFrame(rows)
    out["swing"] = (out["high"] - out["low"]).abs()
    return out.sort_values("swing", ascending=False, ignore_index=True)


# --------------------------------------------------------------------------- backtest


@dataclass
class BacktestResult:
    """What :func:`backtest_roi` returns.

    Attributes
    ----------
    cells : DataFrame
        Per (site, tier, category) cell of the later window: creators, pieces, actual
        ROI, forecast median and 80 %/95 % bounds, PIT and whether each interval covers.
    coverage : dict
        Share of cells inside the 80 % and 95 % intervals, number of cells, split date.
    skipped : DataFrame
        Cells not backtested and why (counted, never dropped silently).
    roi : str
    """

    cells: pd.DataFrame
    coverage: dict[str, Any]
    skipped: pd.DataFrame
    roi: str


def backtest_roi(
    history: pd.DataFrame,
    *,
    site: str | None = None,
    split_date: str | None = None,
    split_frac: float = 0.7,
    roi: str = "net",
    n_draws: int = 1000,
    seed: int = 0,
    min_pieces: int = 20,
    max_cells: int | None = None,
) -> BacktestResult:
    """Estimate vs actual: fit on an earlier window, forecast each later cell.

    Each (tier, category) cell of the later window becomes a plan with its actual
    creators (as counts of that tier) and pieces per creator, its effective commission
    rate and its actual samples and flat fees; AOV and return rate come from the earlier
    window. Where the actual ROI falls in the forecast distribution (PIT, randomised
    for ties) and the share of cells inside the 80 % and 95 % intervals tell whether
    the uncertainty of the *sales model* is honest.

    What it does not validate: the plans use oracle inputs a seller does not know in
    advance (the realised effective commission, realised samples and fees, realised
    pieces per creator), the creators in the later window are posters only (so
    ``post_rate`` is 1 and the posting assumption is untested), and one fit of the
    earlier window serves every cell. It checks CTR, conversion, reach, AOV and return
    rate given the campaign's realised shape, not a whole plan's forecast.

    Rows without a commission rate use the export's ``commission_paid``; a cell with
    rows that have neither is skipped (counted, with the reason).

    Parameters
    ----------
    history : DataFrame
        Canonical frame with a ``date`` column.
    site : str, optional
        Site to backtest (default: the site with most rows).
    split_date : str, optional
        First date of the later window; default: the ``split_frac`` quantile of dates.
    split_frac : float
        Share of the period used for fitting when ``split_date`` is not given.
    roi : str
        "gross" or "net" (profit needs unit costs the export does not have).
    n_draws : int
        Draws per cell.
    seed : int
        Seed.
    min_pieces : int
        Cells with fewer pieces of content in the later window are skipped (counted).
    max_cells : int, optional
        Backtest only the largest cells (by pieces), for speed.

    Returns
    -------
    BacktestResult
    """
    if roi not in ("gross", "net"):
        raise PlanError(
            f"backtest roi must be 'gross' or 'net' (no unit costs in exports); got {roi!r}"
        )
    site, early, late, cut = _backtest_windows(history, site, split_date, split_frac)
    late, todo, skipped = _backtest_cells(early, late, min_pieces, max_cells)
    rng = np.random.default_rng(seed)
    cache: dict[Any, Any] = {}  # one fit of the earlier window serves every cell
    out_rows = [
        _backtest_cell(cell, early, late, site, roi, n_draws, rng, cache)
        for cell in todo.itertuples(index=False)
    ]
    res = pd.DataFrame(out_rows)
    if not res.empty and (res["skip"] != "").any():
        extra = res[res["skip"] != ""].rename(columns={"skip": "reason"})
        skipped = pd.concat([skipped, extra[["tier", "category", "reason"]]], ignore_index=True)
    res = (
        res[res["skip"] == ""].drop(columns="skip").reset_index(drop=True) if not res.empty else res
    )
    coverage = {
        "site": site,
        "split_date": str(cut.date()),
        "roi": roi,
        "n_cells": int(len(res)),
        "n_skipped": int(len(skipped)),
        "coverage_80": float(res["in_80"].mean()) if len(res) else float("nan"),
        "coverage_95": float(res["in_95"].mean()) if len(res) else float("nan"),
        "mean_pit": float(res["pit"].mean()) if len(res) else float("nan"),
    }
    return BacktestResult(
        cells=res, coverage=coverage, skipped=skipped.reset_index(drop=True), roi=roi
    )


def _backtest_windows(
    history: pd.DataFrame, site: str | None, split_date: str | None, split_frac: float
) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The site (default: most rows) and its earlier and later windows."""
    if "date" not in history.columns or history["date"].isna().all():
        raise PlanError("the backtest needs a date column to split the history into two windows")
    if site is None:
        site = str(history["site"].value_counts().idxmax())
    h = history[_is(history["site"], site)]
    if h.empty:
        raise PlanError(f"site {site!r} has no history; sites: {_str_levels(history['site'])}")
    dates = pd.to_datetime(h["date"])
    cut = (
        pd.Timestamp(split_date)
        if split_date is not None
        else dates.quantile(split_frac).normalize()
    )
    early, late = h[dates < cut], h[dates >= cut]
    if early.empty or late.empty:
        raise PlanError(
            f"split date {cut.date()} leaves an empty window; dates run "
            f"{dates.min().date()} to {dates.max().date()}"
        )
    return site, early, late, cut


def _backtest_cells(
    early: pd.DataFrame, late: pd.DataFrame, min_pieces: int, max_cells: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The later window's (tier, category) cells to forecast, largest first, and the
    ones skipped with their reason; the later rows come back with their commission."""
    for c in ("tier", "category"):
        late[c] = late[c].astype(str)
    for c in ("refunds", "sample_cost", "flat_fee"):
        if c not in late.columns:
            late[c] = 0.0
    cells = (
        late.groupby(["tier", "category"], sort=True)
        .agg(
            creators=("creator_id", "nunique"),
            pieces=("creator_id", "size"),
            commission_rate=("commission_rate", "mean"),
            gmv=("gmv", "sum"),
            refunds=("refunds", "sum"),
            sample_cost=("sample_cost", "sum"),
            flat_fee=("flat_fee", "sum"),
        )
        .reset_index()
    )
    late_net = late["gmv"].astype(float) - late["refunds"].astype(float).fillna(0.0)
    comm = late["commission_rate"].astype(float) * late_net
    if "commission_paid" in late.columns:
        # a missing rate is never zero commission: the export's own figure, else unknown
        comm = comm.fillna(late["commission_paid"].astype(float))
    late = late.assign(_comm=comm, _unknown=comm.isna())
    g2 = late.groupby(["tier", "category"], sort=True)
    cells["commission"] = g2["_comm"].sum().to_numpy()
    cells["n_unknown_commission"] = g2["_unknown"].sum().to_numpy().astype(int)
    absent = ~cells["tier"].isin(set(_str_levels(early["tier"]))) | ~cells["category"].isin(
        set(_str_levels(early["category"]))
    )
    reason = np.select(
        [cells["pieces"] < min_pieces, absent, cells["n_unknown_commission"] > 0],
        [
            f"fewer than {min_pieces} pieces in the later window",
            "tier or category absent from the earlier window",
            "rows without commission rate or reported commission",
        ],
        default="",
    )
    skipped = cells[reason != ""].assign(reason=reason[reason != ""])
    todo = cells[reason == ""].sort_values("pieces", ascending=False)
    if max_cells is not None and len(todo) > max_cells:
        skipped = pd.concat([skipped, todo.iloc[max_cells:].assign(reason="beyond max_cells")])
        todo = todo.iloc[:max_cells]
    return late, todo, skipped


def _backtest_cell(
    cell: Any,
    early: pd.DataFrame,
    late: pd.DataFrame,
    site: str,
    roi: str,
    n_draws: int,
    rng: np.random.Generator,
    cache: dict[Any, Any],
) -> dict[str, Any]:
    """Forecast one later cell from the earlier window; where its actual ROI fell."""
    cell_rows = late[(late["tier"] == cell.tier) & (late["category"] == cell.category)]
    pieces_per = cell_rows.groupby("creator_id").size().to_numpy()
    slots = pd.DataFrame({"tier": cell.tier, "pieces": pieces_per, "creator": -1})
    # the rate actually in effect (commission / net GMV): a cell mixes products with
    # different rates, and the seller's plan would state the rate it pays
    net_cell = cell.gmv - cell.refunds
    rate = cell.commission / net_cell if net_cell > 0 else cell.commission_rate
    plan = CampaignPlan(
        site=site,
        category=cell.category,
        commission_rate=float(np.clip(rate, 1e-4, COMMISSION_RANGE[1])),
        creators_per_tier={cell.tier: int(cell.creators)},
        pieces_per_creator=1,
        sample_cost=float(cell.sample_cost) / cell.creators,
        flat_fee=float(cell.flat_fee) / cell.creators,
        post_rate=1.0,  # the later window's creators all posted (oracle)
    )
    fc = _forecast(
        early,
        _Request.checked(plan, roi, n_draws),
        seed=int(rng.integers(2**31)),
        sensitivity=False,
        slots=slots,
        cache=cache,
        one_product=False,
    )
    cost = cell.commission + cell.sample_cost + cell.flat_fee
    actual = (
        (cell.gmv if roi == "gross" else cell.gmv - cell.refunds) / cost if cost > 0 else np.nan
    )
    v = fc.draws[f"{roi}_roi"].to_numpy()
    v = v[~np.isnan(v)]
    if np.isnan(actual) or v.size == 0:
        return {"tier": cell.tier, "category": cell.category, "skip": "no cost or no forecast"}
    pit = np.mean(v < actual) + rng.random() * np.mean(v == actual)
    q = np.quantile(v, [0.025, 0.1, 0.5, 0.9, 0.975])
    return {
        "tier": cell.tier,
        "category": cell.category,
        "creators": int(cell.creators),
        "pieces": int(cell.pieces),
        "commission_rate": float(plan.commission_rate),
        "actual_roi": float(actual),
        "forecast_median": q[2],
        "q025": q[0],
        "q10": q[1],
        "q90": q[3],
        "q975": q[4],
        "pit": float(pit),
        "in_80": bool(q[1] <= actual <= q[3]),
        "in_95": bool(q[0] <= actual <= q[4]),
        "cold_start": bool(fc.inputs["cold_start"]),
        "skip": "",
    }
