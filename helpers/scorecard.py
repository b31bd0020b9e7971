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
    (beta-binomial with ``scipy.special.betaln``, ``scipy.optimize.minimize_scalar``;
    capped so that the prior's relative sd stays >= 5 %, about 10,000 clicks at a 4 %
    CVR, so that intervals never collapse to zero width). A creator's clicks and
    orders enter divided by their design effect (see the ROI interval below: pieces
    of content, ``content_id``, are the independent units, a row without one is its
    own piece). Each
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

    The interval is for what the creator is worth on the exposure they had, with the
    luck of the draw taken out: the profit ROI at the creator's *expected* net sales
    ``theta x impressions``, where ``theta = CTR x CVR x mean order value x (1 - return
    rate)`` is the expected net sales per impression, with the creator's commission
    rate (weighted by expected sales) and their samples and flat fees, which are known
    lump sums. Profit ROI is increasing in ``theta``, so the interval is ``theta``'s
    mapped through it. ``theta`` is the product of four factors with independent
    empirical-Bayes posteriors (below); ``log theta`` is then a sum of three log-beta
    variables and a normal one, whose distribution comes from its exact cumulant
    generating function by the saddlepoint (Lugannani-Rice) approximation
    (:mod:`helpers.saddlepoint`, no random draws; as close to the exact quantiles as
    100,000 draws, tests/test_saddlepoint.py). Creators with a beta shape below 1 (under
    one effective click, order or kept order) get ``n_draws`` posterior draws instead:

    * CTR (clicks / impressions) and CVR (orders / clicks): beta posteriors around the
      expected rate of a binomial GLM (``ctr_formula``, ``formula``), as for the shrunk
      CVR above. Videos are not all alike: one creator's videos have their own CTR and
      CVR (a hit, a dud), so a creator's clicks are not independent trials. The
      variance of these video effects is estimated over all creators (method of
      moments, :func:`_piece_dispersion`) and each creator's counts are divided by
      their design effect ``1 + s2 x N x sum(w^2) x r / (1 - r)`` (``w`` the pieces'
      shares of the trials): a creator whose impressions come from one video has about
      one video's worth of evidence, whatever the impressions.
    * mean order value: orders of one video share a price, so a creator's AOV has the
      uncertainty of a few prices, not of many orders (:func:`_order_value_posterior`:
      spread between pieces and between single orders, creators' price levels shrunk
      towards their categories' AOV on the log scale).
    * return rate: refunded orders (refunds / AOV per piece) out of orders, beta
      posterior around the creator's categories' rate, with the same design effect.

    Why not a bootstrap over the creator's content: with 6 pieces, resampling them
    knows only those 6 prices and click rates, cannot borrow from other creators, and
    treats heavy-tailed impressions as random; on the independent simulator the truth
    lay above its upper bound for 10-25 % of creators with 6 pieces (2.5 % nominal).
    It remains available as ``roi_interval="bootstrap"`` for comparison.

    ``p_loss`` is the posterior probability that profit ROI < ``roi_threshold``.
    The expected cost of each error, in site currency over the period of the data:
    ``expected_loss_if_kept = E[max(0, threshold x cost - contribution)]`` (the money
    lost, at threshold 1, in the cases where keeping is wrong) and
    ``expected_forgone_if_dropped = E[max(0, contribution - threshold x cost)]`` (the
    profit given up in the cases where dropping is wrong); ``expected_error_cost`` is
    the one that applies to the recommendation. :meth:`ScorecardResult.error_costs`
    sums them per site. The interval and the costs describe the creator's rates, not
    future prices, costs or the rates ``u`` and ``p``.
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
3. otherwise **test more**, with the missing evidence and the expected cost of
   deciding now (keeping or dropping) in words.

So nobody is dropped on fewer than ``min_clicks_drop`` clicks (200 by default), and
nobody on conversion alone: a shrunk CVR clearly below ``cvr_drop_ratio`` x the
expected CVR sets ``cvr_flag`` and is said in the reason (a creator with a low CVR
and cheap fees or pricey products can still pay; the old CVR drop rule dropped
creators whose ROI interval straddled 1, 42 % of them profitable).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from helpers import conversion, lift, metrics
from helpers.errors import ModelError, ParameterError
from helpers.i18n import text
from helpers.requirements import ANALYSES
from helpers.schema import SITES

__all__ = [
    "RECOMMENDATIONS",
    "ScorecardResult",
    "ScorecardRules",
    "build_scorecard",
    "recommend",
]

RECOMMENDATIONS: tuple[str, ...] = ("keep", "test more", "drop")
"""The three recommendations, in display order."""

DEFAULT_CTR_FORMULA = "C(tier) + C(category)"
"""Right-hand side of the model of clicks out of impressions (each creator's expected CTR)."""

_REQUIRED = ANALYSES["scorecard"].columns
# An unbounded EB fit can make the prior infinitely strong when creators vary no more
# than chance in a small site, giving zero-width intervals. For every shrunk quantity (CTR,
# CVR, return rate, order value) the prior's relative sd stays >= 5 % (for a 4 % CVR: a
# prior worth at most about 10,000 clicks, +-0.4 points).
_MIN_PRIOR_REL_SD = 0.05
# Below this shape (at the pole of a log-beta factor) the saddlepoint distribution of a
# creator's expected net sales is off by more than 4,000 draws would be; such creators
# keep the draws (see _model_summary).
_SADDLE_MIN_SHAPE = 1.0


# --------------------------------------------------------------------------- rules


# The per-creator reasons and the scorecard's notes in other languages: the module
# writes them in English deep inside the fit; helpers.i18n.translate matches each
# sentence (clause by clause) against these English templates and fills the twin.
NOTE_TEXT = {
    "en": {
        "drop": "{clicks} clicks and profit ROI at most {hi} (upper {conf} bound) < {r}: net sales after "
        "product cost and platform fee do not cover the promotion cost",
        "drop_wrong": "chance that dropping is wrong {p}, expected profit forgone {cost}",
        "keep": "profit ROI at least {lo} (lower {conf} bound) > {r} on {clicks} clicks: net sales after "
        "product cost and platform fee exceed the promotion cost",
        "keep_wrong": "chance that keeping is wrong {p}, expected loss {cost}",
        "risk": "P(profit ROI < {r}) {p}: keeping now risks an expected {kept}, dropping forgoes an "
        "expected {dropped}",
        "cvr": "CVR at most {cvr} (upper {conf} bound, shrunk), below {ratio} of the {expected} expected "
        "for {who}: worth a talk, not a reason to drop on its own",
        "who": "a comparable creator at this commission",
        "who_cat": "a comparable creator mostly in {cat} at this commission",
        "who_tier_cat": "a {tier} creator mostly in {cat} at this commission",
        "who_tier": "a {tier} creator at this commission",
        "few_clicks": "only {clicks} clicks (keeping needs {keep}, dropping {drop})",
        "under_drop": "{clicks} clicks, fewer than the {drop} needed before dropping",
        "unknown": "commission unknown on {n} row(s) with sales (no commission_rate and no "
        "commission_paid), so no ROI: fill them in the export to get one",
        "few_content": "only {n} piece(s) of content, too few for an ROI interval (needs {need})",
        "no_cost": "no ROI interval (no promotion cost recorded)",
        "between": "profit ROI between {lo} and {hi} includes {r}",
        "from_paid": "{n} row(s) without a commission rate: commission taken from commission_paid",
        "no_sales": "{n} row(s) without a commission rate and without net sales: commission 0 "
        "(nothing is due on no sales)",
        "no_lift": "CTR lift not computed: {why}",
        "fees_default": "{site}: profit ROI uses a unit cost of {u} of the selling price and a platform "
        "fee of {p} (site default): break-even is a net ROI of {be}",
        "fees": "{site}: profit ROI uses a unit cost of {u} of the selling price and a platform fee of "
        "{p}: break-even is a net ROI of {be}",
        "errors": "{site}: of {keeps} kept creators, an expected {wk} in truth lose money (expected loss "
        "{lk}); of {drops} dropped, an expected {wd} in truth make money (expected profit forgone {fd}); "
        "site currency, over the period of the data",
        "spread": "{site}: variation between a creator's pieces of content (relative sd): CTR {ctr}, CVR "
        "{cvr}, return rate {ret}, order value {aov} (orders of one video share a price; single orders "
        "vary {single} besides); between creators' price levels {tau}. A creator's rates count their "
        "videos, not their clicks, as the independent units",
        "prior": "{site}: CVR spread around the model worth m = {m} clicks; with the expected CVR's own "
        "uncertainty added, a creator's prior is worth a median {med} clicks (a creator's own CVR gets "
        "weight effective clicks / (effective clicks + prior clicks), effective clicks = clicks / the "
        "creator's design effect)",
    },
    "zh": {
        "drop": "{clicks} 次点击，利润 ROI 最多 {hi}（{conf} 区间上限）< {r}：扣除商品成本和平台佣金后的净销售额"
        "覆盖不了推广成本",
        "drop_wrong": "淘汰判断出错的概率 {p}，预计少赚 {cost}",
        "keep": "利润 ROI 至少 {lo}（{conf} 区间下限）> {r}，基于 {clicks} 次点击：扣除商品成本和平台佣金后的"
        "净销售额超过推广成本",
        "keep_wrong": "保留判断出错的概率 {p}，预计亏损 {cost}",
        "risk": "利润 ROI < {r} 的概率 {p}：现在保留预计要承担 {kept} 的风险，淘汰则预计少赚 {dropped}",
        "cvr": "转化率最多 {cvr}（{conf} 区间上限，收缩后），低于{who}预期转化率 {expected} 的 {ratio}："
        "值得沟通，但单凭这一点不淘汰",
        "who": "在此佣金下可比达人",
        "who_cat": "在此佣金下主做 {cat} 的可比达人",
        "who_tier_cat": "在此佣金下主做 {cat} 的 {tier} 级达人",
        "who_tier": "在此佣金下 {tier} 级达人",
        "few_clicks": "只有 {clicks} 次点击（保留需要 {keep} 次，淘汰需要 {drop} 次）",
        "under_drop": "{clicks} 次点击，少于淘汰前所需的 {drop} 次",
        "unknown": "{n} 行有销售的数据佣金未知（既无 commission_rate 也无 commission_paid），因此没有 ROI："
        "在导出中补上即可",
        "few_content": "只有 {n} 条内容，不足以计算 ROI 区间（需要 {need} 条）",
        "no_cost": "没有 ROI 区间（没有记录推广成本）",
        "between": "利润 ROI 区间 {lo} 至 {hi} 包含 {r}",
        "from_paid": "{n} 行没有佣金率：佣金取自 commission_paid",
        "no_sales": "{n} 行既没有佣金率也没有净销售额：佣金记为 0（没有销售就无需支付）",
        "no_lift": "未计算点击率提升：{why}",
        "fees_default": "{site}：利润 ROI 按商品成本占售价 {u}、平台佣金 {p}（站点默认）计算：净 ROI 达到 {be} "
        "才保本",
        "fees": "{site}：利润 ROI 按商品成本占售价 {u}、平台佣金 {p} 计算：净 ROI 达到 {be} 才保本",
        "errors": "{site}：保留的 {keeps} 位达人中，预计有 {wk} 位实际在亏钱（预计亏损 {lk}）；淘汰的 {drops} 位中，"
        "预计有 {wd} 位实际在赚钱（预计少赚 {fd}）；金额为站点币种，覆盖数据所在期间",
        "spread": "{site}：同一达人不同内容之间的差异（相对标准差）：点击率 {ctr}，转化率 {cvr}，退货率 {ret}，"
        "客单价 {aov}（同一视频的订单价格相同；单个订单另有 {single} 的波动）；达人之间的价格水平差异 {tau}。"
        "达人的各项比率以视频而不是点击作为独立单位",
        "prior": "{site}：转化率围绕模型的离散程度相当于 m = {m} 次点击；加上预期转化率本身的不确定性后，"
        "达人先验的中位数相当于 {med} 次点击（达人自身转化率的权重 = 有效点击 /（有效点击 + 先验点击），"
        "有效点击 = 点击 / 该达人的设计效应）",
    },
}

# The rules in words, per report language (helpers.i18n).
_RULES_TEXT = {
    "en": {
        "drop": "1. drop: at least {drop:,} clicks and the upper {conf} bound of profit ROI is below "
        "{r:g} (even optimistically, net sales after product cost and platform fee do not cover the "
        "promotion cost).",
        "keep": "2. keep: at least {keep:,} clicks and the lower {conf} bound of profit ROI is above "
        "{r:g} (even pessimistically, net sales after product cost and platform fee exceed the "
        "promotion cost).",
        "test": "3. test more: everything else; the reason says which evidence is missing. The ROI "
        "interval needs at least {content} piece(s) of content, and a known commission on every row "
        "with sales.",
        "cvr": "Conversion alone never drops anyone: a CVR whose upper {conf} bound is below "
        "{ratio:.0%} of the CVR expected for the creator's tier, category and commission is flagged "
        "in the reason, to discuss with the creator.",
    },
    "zh": {
        "drop": "1. 淘汰：点击至少 {drop:,} 次，且利润 ROI 的 {conf} 区间上限低于 {r:g}"
        "（即使乐观估计，扣除商品成本和平台佣金后的净销售额也覆盖不了推广成本）。",
        "keep": "2. 保留：点击至少 {keep:,} 次，且利润 ROI 的 {conf} 区间下限高于 {r:g}"
        "（即使悲观估计，扣除商品成本和平台佣金后的净销售额也超过推广成本）。",
        "test": "3. 再测：其余所有达人；理由会说明缺少哪方面的证据。ROI 区间至少需要 {content} 条内容，"
        "且每一行有销售的数据都要有已知的佣金。",
        "cvr": "仅凭转化率绝不会淘汰任何人：若转化率的 {conf} 区间上限低于该达人等级、类目和佣金下预期转化率的 "
        "{ratio:.0%}，会在理由中标出，供你和达人沟通。",
    },
}


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
        Minimum pieces of content for an ROI interval (default 3; at least 2 for the
        bootstrap interval).
    roi_threshold : float
        Profit ROI that separates making money from losing it (default 1: the
        contribution, net sales after product cost and platform fee, equals the
        promotion cost). The unit cost and platform fee rates are arguments of
        :func:`build_scorecard`.
    cvr_drop_ratio : float
        A creator whose shrunk CVR's upper bound is below this share of the expected CVR
        (default 0.7) is flagged as converting clearly worse than comparable creators
        (column ``cvr_flag`` and the reason). The flag never drops anyone: only profit
        ROI does (a low CVR with cheap fees or pricey products can still pay).
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
                raise ParameterError(f"{name} must be a whole number >= 0; got {v!r}")
        if self.min_content < 1:
            raise ParameterError(
                f"min_content must be at least 1 (pieces of content behind an ROI interval); got {self.min_content}"
            )
        if not (isinstance(self.roi_threshold, int | float) and self.roi_threshold > 0):
            raise ParameterError(
                f"roi_threshold must be a positive number such as 1.0 (profit ROI break-even); got {self.roi_threshold!r}"
            )
        if not 0 < self.cvr_drop_ratio <= 1:
            raise ParameterError(
                f"cvr_drop_ratio must be in (0, 1], e.g. 0.5 for 'half the expected CVR'; got {self.cvr_drop_ratio!r}"
            )
        if not 0 < self.alpha < 1:
            raise ParameterError(f"alpha must be in (0, 1), e.g. 0.05; got {self.alpha!r}")

    def describe(self, lang: str = "en") -> list[str]:
        """The rules in words, in the order they are applied, and what the CVR flag means.

        Parameters
        ----------
        lang : {"en", "zh"}
            Report language.
        """
        fields = dict(
            conf=f"{1 - self.alpha:.0%}",
            r=self.roi_threshold,
            drop=self.min_clicks_drop,
            keep=self.min_clicks_keep,
            content=self.min_content,
            ratio=self.cvr_drop_ratio,
        )
        return [text(_RULES_TEXT, key, lang, **fields) for key in ("drop", "keep", "test", "cvr")]

    def to_dict(self) -> dict[str, Any]:
        """The thresholds as a plain dict."""
        return asdict(self)


def recommend(card: pd.DataFrame, rules: ScorecardRules | None = None) -> pd.DataFrame:
    """Apply the keep / test more / drop rules to scorecard rows.

    Parameters
    ----------
    card : pandas.DataFrame
        Rows with ``clicks``, ``n_content``, ``profit_roi_low`` and ``profit_roi_high``
        (missing values mean "no evidence"). Used when present: ``shrunk_cvr_high`` and
        ``expected_cvr`` (the CVR flag), ``p_loss``, ``expected_loss_if_kept`` and
        ``expected_forgone_if_dropped`` (the expected cost of the decision), ``tier``,
        ``main_category`` and ``rows_commission_unknown`` (the reason).
    rules : ScorecardRules, optional
        Thresholds; the defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``card``: ``recommendation`` (one of :data:`RECOMMENDATIONS`),
        ``rule`` (1 drop, 2 keep, 3 test more), ``cvr_flag`` (CVR clearly below
        ``cvr_drop_ratio`` x expected, on at least ``min_clicks_drop`` clicks),
        ``expected_error_cost`` (the expected money lost if a keep is wrong, or forgone
        if a drop is wrong; NaN for test more) and ``reason`` (in words).

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    rules = rules or ScorecardRules()
    needed = ["clicks", "n_content", "profit_roi_low", "profit_roi_high"]
    missing = [c for c in needed if c not in card.columns]
    if missing:
        raise ParameterError(
            f"recommend() needs the columns {missing}; the frame has {list(card.columns)}. "
            "Build the frame with build_scorecard()."
        )

    def col(name: str) -> np.ndarray:
        if name not in card.columns:
            return np.full(len(card), np.nan)
        return pd.to_numeric(card[name], errors="coerce").to_numpy(dtype="float64")

    clicks = col("clicks")
    lo, hi = col("profit_roi_low"), col("profit_roi_high")
    cvr_hi, exp_cvr = col("shrunk_cvr_high"), col("expected_cvr")
    r = rules.roi_threshold
    with np.errstate(invalid="ignore"):
        drop = (clicks >= rules.min_clicks_drop) & (hi < r)
        keep = ~drop & (clicks >= rules.min_clicks_keep) & (lo > r)
        cvr_flag = (clicks >= rules.min_clicks_drop) & (cvr_hi < rules.cvr_drop_ratio * exp_cvr)
    rec = np.where(drop, "drop", np.where(keep, "keep", "test more"))
    cost = np.where(
        drop,
        col("expected_forgone_if_dropped"),
        np.where(keep, col("expected_loss_if_kept"), np.nan),
    )
    reasons = [
        _reason(row, rec[i], bool(cvr_flag[i]), rules)
        for i, row in enumerate(card.itertuples(index=False))
    ]
    return pd.DataFrame(
        {
            "recommendation": rec,
            "rule": np.where(drop, 1, np.where(keep, 2, 3)),
            "cvr_flag": cvr_flag,
            "expected_error_cost": cost,
            "reason": reasons,
        },
        index=card.index,
    )


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _reason(row: Any, rec: str, cvr_flag: bool, rules: ScorecardRules) -> str:
    """The recommendation of one row in words, with its expected cost when known."""
    conf = f"{1 - rules.alpha:.0%}"
    r = rules.roi_threshold
    clicks = int(_f(row.clicks)) if not math.isnan(_f(row.clicks)) else 0
    lo, hi = _f(row.profit_roi_low), _f(row.profit_roi_high)
    p_loss = _f(getattr(row, "p_loss", math.nan))
    kept_cost = _f(getattr(row, "expected_loss_if_kept", math.nan))
    drop_cost = _f(getattr(row, "expected_forgone_if_dropped", math.nan))
    if rec == "drop":
        text = (
            f"{clicks:,} clicks and profit ROI at most {hi:.2f} (upper {conf} bound) < {r:g}: "
            "net sales after product cost and platform fee do not cover the promotion cost"
        )
        if not math.isnan(p_loss):
            text += (
                f"; chance that dropping is wrong {1 - p_loss:.1%}, expected profit forgone "
                f"{drop_cost:,.2f}"
            )
    elif rec == "keep":
        text = (
            f"profit ROI at least {lo:.2f} (lower {conf} bound) > {r:g} on {clicks:,} clicks: "
            "net sales after product cost and platform fee exceed the promotion cost"
        )
        if not math.isnan(p_loss):
            text += f"; chance that keeping is wrong {p_loss:.1%}, expected loss {kept_cost:,.2f}"
    else:
        unknown = _f(getattr(row, "rows_commission_unknown", 0))
        unknown = 0 if math.isnan(unknown) else int(unknown)
        n_content = _f(row.n_content)
        n_content = 0 if math.isnan(n_content) else int(n_content)
        text = _test_more_reason(clicks, n_content, lo, hi, unknown, rules)
        if not math.isnan(p_loss):
            text += (
                f"; P(profit ROI < {r:g}) {p_loss:.0%}: keeping now risks an expected "
                f"{kept_cost:,.2f}, dropping forgoes an expected {drop_cost:,.2f}"
            )
    if cvr_flag:
        text += (
            f"; CVR at most {_f(row.shrunk_cvr_high):.2%} (upper {conf} bound, shrunk), below "
            f"{rules.cvr_drop_ratio:.0%} of the {_f(row.expected_cvr):.2%} expected for "
            f"{_who(row)}: worth a talk, not a reason to drop on its own"
        )
    return text + "."


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
    return "; ".join(parts)


# ------------------------------------------------------------------ statistics


def _piece_dispersion(
    k: np.ndarray, n: np.ndarray, codes: np.ndarray, n_groups: int, expected: np.ndarray
) -> float:
    """Variance ``s2`` of the piece-of-content multipliers of a rate (a video's CTR is
    the creator's CTR times a factor with mean 1 and variance ``s2``), by the method of
    moments pooled over creators.

    For a creator with rate ``r``, trials ``N`` and piece weights ``w = n / N``, the
    residual sum ``D = sum (k - n r_hat)^2`` has expectation
    ``B + r^2 s2 A`` with the binomial part ``B = r (1 - r) N (1 - S2)``,
    ``S2 = sum w^2`` and ``A = sum n^2 (1 - 2 w + S2)``. Each creator's excess
    ``D - B`` over ``q A`` (``q`` an estimate of ``r^2`` free of the binomial part's
    bias) estimates ``s2``; the creators are combined with weights close to the inverse
    of each estimate's variance, ``(J - 1) / (s2 + b)^2`` (``J = 1 / S2`` effective
    pieces, ``b`` the binomial relative variance per effective piece at the expected
    rate), so that a few creators with huge volume do not decide it alone. Two passes,
    started from the unweighted ratio of sums. 0 when no creator has two pieces with
    trials or there is no excess.
    """
    k = k.astype("float64")
    n = n.astype("float64")
    N = np.bincount(codes, weights=n, minlength=n_groups)
    K = np.bincount(codes, weights=k, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(N > 0, K / N, 0.0)
        w = np.where(N[codes] > 0, n / N[codes], 0.0)
        r2 = np.where(N > 0, r**2 - r * (1 - r) / N, 0.0)  # E[K^2 - K] ~ (N r)^2
    S2 = np.bincount(codes, weights=w**2, minlength=n_groups)
    D = np.bincount(codes, weights=(k - n * r[codes]) ** 2, minlength=n_groups)
    A = np.bincount(codes, weights=n**2 * (1 - 2 * w + S2[codes]), minlength=n_groups)
    excess = D - r * (1 - r) * N * (1 - S2)
    e = np.clip(np.nan_to_num(expected, nan=0.5), 1e-6, 1 - 1e-6)
    use = (N > 0) & (S2 < 1 - 1e-9) & (A > 0)
    if not use.any():
        return 0.0
    den = float(np.sum((r2 * A)[use]))
    s2 = max(float(np.sum(excess[use])) / den, 0.0) if den > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        j_eff = np.where(use, 1 / S2, 1.0)
        b = (1 - e) / (e * N / j_eff)
        for _ in range(2):
            s0 = max(s2, 0.01)
            weight = np.where(use, (j_eff - 1) / (s0 + b) ** 2 / (e**2 * A), 0.0)
            den = float(np.sum((weight * r2 / (1 + s0 * S2) * A)[use]))
            if den <= 0:
                break
            s2 = max(float(np.sum((weight * excess)[use])) / den, 0.0)
    return s2


def _design_effect(
    k: np.ndarray, n: np.ndarray, codes: np.ndarray, n_groups: int, e: np.ndarray, s2: float
) -> np.ndarray:
    """Each creator's design effect ``1 + s2 N S2 r / (1 - r)`` of the pooled rate, with
    ``r`` the creator's rate stabilised by ten pseudo-successes at the expected rate."""
    n = n.astype("float64")
    N = np.bincount(codes, weights=n, minlength=n_groups)
    K = np.bincount(codes, weights=k.astype("float64"), minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(N[codes] > 0, n / N[codes], 0.0)
        ee = np.clip(np.nan_to_num(e, nan=0.5), 1e-6, 1 - 1e-6)
        r = np.clip((K + 10.0) / (N + 10.0 / ee), 1e-9, 0.99)
    S2 = np.bincount(codes, weights=w**2, minlength=n_groups)
    return 1.0 + s2 * N * S2 * r / (1 - r)


def _eb_beta(
    k: np.ndarray,
    n: np.ndarray,
    expected: np.ndarray,
    expected_var: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, str]:
    """Empirical-Bayes beta posterior of each creator's rate around its expected rate.

    ``k`` out of ``n`` may be effective (non-integer) counts: the raw counts divided by
    the creator's design effect. The precision ``m`` of the spread of true rates around
    the expectation is fitted by maximum likelihood of the beta-binomial with the
    expectation held fixed (``scipy.special.betaln``; the binomial coefficient does not
    depend on ``m``), bounded so that the prior's relative sd stays >= 5 % (intervals
    never collapse). Each creator's prior variance is ``e (1 - e) / (m + 1)`` plus the
    expectation's own sampling variance, i.e. a prior worth
    ``m_c = e (1 - e) / variance - 1`` trials.

    Returns the posterior parameters ``a``, ``b`` (NaN where ``n`` is 0 or ``e`` is
    missing), the fitted ``m``, the per-creator prior weights ``m_c`` and a note.
    """
    k = np.maximum(k.astype("float64"), 0.0)
    n = n.astype("float64")
    k = np.minimum(k, n)
    e = np.clip(expected.astype("float64"), 1e-9, 1 - 1e-9)
    ok = (n > 0) & np.isfinite(e)
    e_med = float(np.median(e[np.isfinite(e)])) if np.isfinite(e).any() else 0.5
    m_max = max((1 - e_med) / (e_med * _MIN_PRIOR_REL_SD**2), 10.0)
    note = ""
    if ok.sum() >= 5:
        kk, nn, ee = k[ok], n[ok], e[ok]

        def nll(log_m: float) -> float:
            m = math.exp(log_m)
            a0, b0 = m * ee, m * (1 - ee)
            return -float(np.sum(special.betaln(kk + a0, nn - kk + b0) - special.betaln(a0, b0)))

        res = optimize.minimize_scalar(
            nll, bounds=(math.log(0.5), math.log(m_max)), method="bounded"
        )
        m = math.exp(res.x)
        if m > 0.99 * m_max:
            m = m_max
            note = (
                "creators vary no more than chance around the model; the spread is capped at a "
                f"prior worth {m_max:,.0f} trials (relative sd {_MIN_PRIOR_REL_SD:.0%}) so that "
                "intervals never collapse to zero width"
            )
    else:
        # Too few creators to estimate the spread: a weak prior worth two trials.
        m = 2.0
        note = f"only {int(ok.sum())} creator(s) with data: weak prior (worth 2 trials) instead of a fitted one"
    v_e = np.nan_to_num(np.maximum(expected_var.astype("float64"), 0.0), nan=0.0)
    prior_var = e * (1 - e) / (m + 1) + v_e
    # A prior worth less than half a trial adds nothing; the floor keeps beta parameters > 0.
    m_c = np.clip(e * (1 - e) / prior_var - 1, 0.5, m)
    prior_ok = np.isfinite(e) & np.isfinite(expected.astype("float64"))
    a = np.where(prior_ok, k + m_c * e, np.nan)
    b = np.where(prior_ok, n - k + m_c * (1 - e), np.nan)
    return a, b, m, np.where(ok, m_c, np.nan), note


def _eb_cvr(
    orders: np.ndarray,
    clicks: np.ndarray,
    expected: np.ndarray,
    expected_var: np.ndarray,
    alpha: float,
    design_effect: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, str]:
    """Shrunk CVR and its equal-tailed beta interval (see :func:`_eb_beta`); clicks and
    orders are divided by the creator's design effect when one is given. Returns mean,
    lower, upper, the fitted m, the per-creator prior weights and a note."""
    deff = np.ones(len(clicks)) if design_effect is None else design_effect
    a, b, m, m_c, note = _eb_beta(orders / deff, clicks / deff, expected, expected_var)
    ok = clicks > 0
    mean = np.where(ok, a / (a + b), np.nan)
    low = np.where(ok, stats.beta.ppf(alpha / 2, a, b), np.nan)
    high = np.where(ok, stats.beta.ppf(1 - alpha / 2, a, b), np.nan)
    return mean, low, high, m, m_c, note


def _eb_log_mean(
    y: np.ndarray, v: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Normal-normal empirical Bayes on the log scale: ``y ~ N(mu, v)``,
    ``mu ~ N(target, tau2)``. ``tau2`` by Paule-Mandel (``sum (y - t)^2 / (v + tau2)``
    equals the number of creators), floored at a relative sd of 5 %. Rows with missing
    ``y`` get the prior. Returns posterior mean, posterior variance and ``tau2``."""
    ok = np.isfinite(y) & np.isfinite(v) & np.isfinite(target)
    floor = _MIN_PRIOR_REL_SD**2
    tau2 = floor
    if ok.sum() >= 5:
        d2 = (y[ok] - target[ok]) ** 2
        vv = v[ok]

        def excess(t2: float) -> float:
            return float(np.sum(d2 / (vv + t2))) - ok.sum()

        if excess(0.0) > 0:
            hi = max(float(d2.max()), 1.0)
            while excess(hi) > 0:
                hi *= 4
            tau2 = max(optimize.brentq(excess, 0.0, hi), floor)
    else:
        tau2 = 0.25  # too few creators with sales: a vague prior (log-sd 0.5)
    prec = 1 / tau2 + np.where(ok, 1 / np.where(ok, v, 1.0), 0.0)
    mean = (target / tau2 + np.where(ok, np.where(ok, y, 0.0) / np.where(ok, v, 1.0), 0.0)) / prec
    return mean, 1 / prec, tau2


def _order_value_posterior(
    pieces: pd.DataFrame, codes: np.ndarray, n_creators: int, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Posterior (log-normal) of each creator's mean order value, allowing that orders
    of one piece of content share a price.

    A piece's order value ``a = gmv / orders`` is the creator's mean ``mu`` times
    ``1 + e`` with ``Var e = kappa2 + omega2 / orders``: ``kappa2`` the spread between
    pieces (one product, one price per video), ``omega2`` the spread between single
    orders (quantities, variants). Both come from a non-negative least-squares fit of
    the pieces' squared relative deviations from their creator's AOV ``A`` (order
    weighted), whose expectation is ``kappa2 (1 - 2 w + S2) + omega2 ((1 - 2 w) / o +
    1 / O)`` with order weights ``w = o / O`` and ``S2 = sum w^2``
    (``scipy.optimize.nnls``). The creator's AOV then has relative variance
    ``kappa2 S2 + omega2 / O``: when one video carries all orders, one piece's worth,
    not one per order. The creator means are shrunk on the log scale towards ``target``
    (:func:`_eb_log_mean`). Returns posterior mean and variance of ``log mu``,
    ``kappa2``, ``omega2`` and ``tau2``.
    """
    o = pieces["orders"].to_numpy(dtype="float64")
    g = pieces["gmv"].to_numpy(dtype="float64")
    has = (o > 0) & (g > 0)
    tot_o = np.bincount(codes, weights=np.where(has, o, 0.0), minlength=n_creators)
    tot_g = np.bincount(codes, weights=np.where(has, g, 0.0), minlength=n_creators)
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(tot_o > 0, tot_g / tot_o, np.nan)
        w = np.where(has, o / tot_o[codes], 0.0)
        rel = np.where(has, (g / np.where(has, o, 1.0)) / A[codes] - 1, 0.0)
        inv_o = np.where(has, 1 / np.where(has, o, 1.0), 0.0)
    S2 = np.bincount(codes, weights=w**2, minlength=n_creators)
    multi = np.bincount(codes, weights=has.astype("float64"), minlength=n_creators) >= 2
    use = has & multi[codes]
    kappa2, omega2 = 0.25, 0.0  # no creator with two pieces with sales: a vague guess
    if use.sum() >= 3:
        X = np.column_stack(
            [1 - 2 * w + S2[codes], (1 - 2 * w) * inv_o + 1 / np.maximum(tot_o[codes], 1)]
        )[use]
        sw = np.sqrt(o[use])  # order-weighted, as the AOV itself
        (kappa2, omega2), _ = optimize.nnls(X * sw[:, None], rel[use] ** 2 * sw)
    v = kappa2 * S2 + omega2 / np.maximum(tot_o, 1)
    # E log A = log mu - v / 2: add it back so that y is unbiased for log mu.
    y = np.log(A) + v / 2
    mean, var, tau2 = _eb_log_mean(y, np.maximum(v, 1e-12), np.log(target))
    return mean, var, float(kappa2), float(omega2), tau2


@dataclass(frozen=True)
class _RatePosteriors:
    """Per-creator posteriors of the four factors of expected net sales per impression:
    CTR and CVR (beta ``a``, ``b``), log mean order value (normal mean, variance) and
    return rate (beta)."""

    ctr_a: np.ndarray
    ctr_b: np.ndarray
    cvr_a: np.ndarray
    cvr_b: np.ndarray
    log_aov_mean: np.ndarray
    log_aov_var: np.ndarray
    ret_a: np.ndarray
    ret_b: np.ndarray


def _model_draws(
    post: _RatePosteriors,
    impressions: np.ndarray,
    commission_rate: np.ndarray,
    fixed: np.ndarray,
    *,
    n_draws: int,
    rng: np.random.Generator,
    chunk: int = 250,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Posterior draws of each creator's expected net sales and promotion cost on the
    impressions they had: ``net = theta x impressions`` with
    ``theta = CTR x CVR x mean order value x (1 - return rate)`` drawn from independent
    posteriors, ``cost = commission rate x net + fixed``. Yields ``(start, end, net,
    cost)`` for chunks of creators (arrays of shape draws x creators)."""
    n = len(impressions)
    for g in range(0, n, chunk):
        sl = slice(g, min(g + chunk, n))
        size = (n_draws, sl.stop - sl.start)
        with np.errstate(invalid="ignore"):
            ctr = rng.beta(
                np.nan_to_num(post.ctr_a[sl], nan=1.0), np.nan_to_num(post.ctr_b[sl], nan=1.0), size
            )
            cvr = rng.beta(
                np.nan_to_num(post.cvr_a[sl], nan=1.0), np.nan_to_num(post.cvr_b[sl], nan=1.0), size
            )
            ret = rng.beta(
                np.nan_to_num(post.ret_a[sl], nan=1.0), np.nan_to_num(post.ret_b[sl], nan=1.0), size
            )
            aov = np.exp(
                post.log_aov_mean[sl] + np.sqrt(post.log_aov_var[sl]) * rng.standard_normal(size)
            )
        missing = ~(
            np.isfinite(post.ctr_a[sl])
            & np.isfinite(post.cvr_a[sl])
            & np.isfinite(post.ret_a[sl])
            & np.isfinite(post.log_aov_mean[sl])
        )
        net = ctr * cvr * aov * (1 - ret) * impressions[sl]
        net[:, missing] = np.nan
        yield sl.start, sl.stop, net, commission_rate[sl] * net + fixed[sl]


def _model_summary(
    post: _RatePosteriors,
    impressions: np.ndarray,
    commission_rate: np.ndarray,
    fixed: np.ndarray,
    *,
    margin: float,
    threshold: float,
    alpha: float,
    n_draws: int,
    rng: np.random.Generator,
    chunk: int = 4000,
) -> pd.DataFrame:
    """What :func:`_summarise_draws` gives from :func:`_model_draws`, computed without
    draws: ``log theta`` is a sum of three log-beta variables and a normal one, whose
    distribution the saddlepoint approximation gives (:mod:`helpers.saddlepoint`), and
    every summary is a function of ``net = theta x impressions`` alone (profit ROI
    ``margin x net / (c x net + fixed)`` is increasing in ``net`` for ``fixed >= 0``):
    the ROI quantiles are the ROI of net's quantiles, ``p_loss = P(net < x*)`` with
    ``x* = threshold x fixed / (margin - threshold x c)``, and the expected error costs
    follow from ``E[max(0, x* - net)]`` and ``E[net] = impressions x exp(K(1))``.
    Creators outside that case (a beta shape below ``_SADDLE_MIN_SHAPE`` at the pole,
    negative fixed costs or commission, a grid that does not reach the interval's tails)
    get ``n_draws`` draws as before."""
    from helpers.saddlepoint import grid_cdf, grid_partial_exp, grid_quantile, log_sum_grid

    n = len(impressions)
    cols = ("low", "median", "high", "p_loss", "loss_if_kept", "forgone_if_dropped")
    out = {c: np.full(n, np.nan) for c in cols}
    a = np.column_stack([post.ctr_a, post.cvr_a, post.ret_b])  # 1 - return rate ~ Beta(b, a)
    b = np.column_stack([post.ctr_b, post.cvr_b, post.ret_a])
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1) & (a > 0).all(axis=1)
    ok &= (b > 0).all(axis=1) & np.isfinite(post.log_aov_mean) & np.isfinite(post.log_aov_var)
    ok &= (impressions > 0) & (fixed >= 0) & (commission_rate >= 0) & (fixed + commission_rate > 0)
    ok &= np.isfinite(fixed) & np.isfinite(commission_rate)
    # A log-beta term with a shape below 1 at its pole (under one effective click, order
    # or kept order) is too skewed for the approximation's accuracy (tests/test_saddlepoint.py):
    # those creators keep the draws.
    ok &= a.min(axis=1) >= _SADDLE_MIN_SHAPE
    fallback = ~ok & np.isfinite(post.ctr_a) & np.isfinite(post.cvr_a) & np.isfinite(post.ret_a)
    fallback &= np.isfinite(post.log_aov_mean)
    d = margin - threshold * commission_rate  # profit ROI < threshold <=> d net < threshold fixed
    for g in np.flatnonzero(ok)[::chunk]:
        rows = np.flatnonzero(ok[g:])[:chunk] + g
        ell, cdf = log_sum_grid(a[rows], b[rows], post.log_aov_mean[rows], post.log_aov_var[rows])
        reach = (cdf[:, 0] < alpha / 4) & (cdf[:, -1] > 1 - alpha / 4)
        fallback[rows[~reach]] = True
        rows, ell, cdf = rows[reach], ell[reach], cdf[reach]
        log_imp, c, f, dd = np.log(impressions[rows]), commission_rate[rows], fixed[rows], d[rows]
        for col, p in (("low", alpha / 2), ("median", 0.5), ("high", 1 - alpha / 2)):
            net = np.exp(grid_quantile(ell, cdf, p) + log_imp)
            out[col][rows] = margin * net / (c * net + f)
        mean_net = np.exp(_log_mean_theta(post, rows) + log_imp)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_star = np.where(dd > 0, threshold * f / dd, np.inf)  # net where ROI = threshold
        pos = (dd > 0) & (x_star > 0)
        l_star = np.where(pos, np.log(np.where(pos, x_star, 1.0)) - log_imp, 0.0)
        p_below = np.where(pos, grid_cdf(ell, cdf, l_star), np.where(dd > 0, 0.0, 1.0))
        short = np.where(pos, np.exp(log_imp) * grid_partial_exp(ell, cdf, l_star), 0.0)
        loss = np.where(dd > 0, dd * short, threshold * f - dd * mean_net)
        out["p_loss"][rows] = p_below
        # E[max(0, y)] = E[y] + E[max(0, -y)]: when one side is sure, the other is a small
        # difference of large numbers; rounding must not make an expected cost negative.
        out["loss_if_kept"][rows] = np.maximum(loss, 0.0)
        out["forgone_if_dropped"][rows] = np.maximum(loss + dd * mean_net - threshold * f, 0.0)
    if fallback.any():
        idx = np.flatnonzero(fallback)
        sub = _RatePosteriors(**{f.name: getattr(post, f.name)[idx] for f in fields(post)})
        draws = _model_draws(
            sub, impressions[idx], commission_rate[idx], fixed[idx], n_draws=n_draws, rng=rng
        )
        table = _summarise_draws(draws, len(idx), margin=margin, threshold=threshold, alpha=alpha)
        for col in cols:
            out[col][idx] = table[col].to_numpy()
    return pd.DataFrame(out)


def _log_mean_theta(post: _RatePosteriors, rows: np.ndarray) -> np.ndarray:
    """``log E[theta] = K(1)``: beta means and the log-normal mean, exactly."""
    return (
        np.log(post.ctr_a[rows] / (post.ctr_a[rows] + post.ctr_b[rows]))
        + np.log(post.cvr_a[rows] / (post.cvr_a[rows] + post.cvr_b[rows]))
        + np.log(post.ret_b[rows] / (post.ret_a[rows] + post.ret_b[rows]))
        + post.log_aov_mean[rows]
        + post.log_aov_var[rows] / 2
    )


def _bootstrap_draws(
    net: np.ndarray,
    commission: np.ndarray,
    fixed: np.ndarray,
    sizes: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
    chunk_rows: int = 5_000,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Bootstrap replicates of each creator's net sales and promotion cost, resampling
    the creator's pieces of content (net sales and commission together) with
    replacement; ``fixed`` (samples + flat fees) is a constant of every replicate.
    ``net`` and ``commission`` are per piece, sorted by creator, ``sizes`` the pieces
    per creator. Yields ``(start, end, net, cost)`` for chunks of about ``chunk_rows``
    pieces (arrays of shape n_boot x creators)."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int64")
    n_groups = len(sizes)
    g = 0
    while g < n_groups:
        # Take creators until the chunk holds about chunk_rows pieces (at least one).
        end = g + 1
        total = int(sizes[g])
        while end < n_groups and total + int(sizes[end]) <= chunk_rows:
            total += int(sizes[end])
            end += 1
        sz = sizes[g:end].astype("int64")
        if total == 0:
            nan = np.full((n_boot, end - g), np.nan)
            yield g, end, nan, nan
            g = end
            continue
        row_start = np.repeat(starts[g:end], sz)
        row_size = np.repeat(sz, sz)
        u = rng.random((n_boot, total))
        idx = row_start[None, :] + np.floor(u * row_size[None, :]).astype("int64")
        seg = np.concatenate([[0], np.cumsum(sz)[:-1]])
        s_net = np.add.reduceat(net[idx], seg, axis=1)
        s_cost = np.add.reduceat(commission[idx], seg, axis=1) + fixed[None, g:end]
        empty = sz == 0  # reduceat gives the next group's value for empty segments
        s_net[:, empty] = np.nan
        s_cost[:, empty] = np.nan
        yield g, end, s_net, s_cost
        g = end


def _summarise_draws(
    draws: Iterator[tuple[int, int, np.ndarray, np.ndarray]],
    n_creators: int,
    *,
    margin: float,
    threshold: float,
    alpha: float,
) -> pd.DataFrame:
    """Per creator, from draws of net sales and promotion cost: the equal-tailed
    interval and median of profit ROI (``margin x net / cost``), the probability that
    profit ROI is below ``threshold``, and the expected money of each error over the
    period: ``loss_if_kept = E[max(0, threshold x cost - margin x net)]`` (what keeping
    loses in the draws where the creator is below the threshold; with threshold 1, the
    money lost) and ``forgone_if_dropped = E[max(0, margin x net - threshold x cost)]``
    (the profit given up in the draws where the creator is above it)."""
    cols = ("low", "median", "high", "p_loss", "loss_if_kept", "forgone_if_dropped")
    out = {c: np.full(n_creators, np.nan) for c in cols}
    for start, end, net, cost in draws:
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = np.where(cost > 0, margin * net / np.where(cost > 0, cost, 1.0), np.nan)
        excess = margin * net - threshold * cost
        valid = np.isfinite(roi)
        n_valid = valid.sum(axis=0)
        q = _column_quantiles(roi, valid, [alpha / 2, 0.5, 1 - alpha / 2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN creators stay NaN
            with np.errstate(divide="ignore", invalid="ignore"):
                out["p_loss"][start:end] = (valid & (roi < threshold)).sum(axis=0) / n_valid
                out["loss_if_kept"][start:end] = (
                    np.where(valid, np.maximum(-excess, 0.0), 0.0).sum(axis=0) / n_valid
                )
                out["forgone_if_dropped"][start:end] = (
                    np.where(valid, np.maximum(excess, 0.0), 0.0).sum(axis=0) / n_valid
                )
        out["low"][start:end], out["median"][start:end], out["high"][start:end] = q
    return pd.DataFrame(out)


def _column_quantiles(x: np.ndarray, valid: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """``np.nanquantile(x, probs, axis=0)``, fast: numpy's nanquantile works column by
    column in Python, so only columns with some (not all) values missing go through it;
    complete columns take ``np.quantile`` (the same interpolation) and empty ones NaN."""
    out = np.full((len(probs), x.shape[1]), np.nan)
    full = valid.all(axis=0)
    if full.any():
        out[:, full] = np.quantile(x[:, full], probs, axis=0)
    some = ~full & valid.any(axis=0)
    if some.any():
        out[:, some] = np.nanquantile(x[:, some], probs, axis=0)
    return out


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
    """Percentile bootstrap interval of net ROI ``sum(net) / (sum(commission) + fixed)``
    per creator (see :func:`_bootstrap_draws`)."""
    draws = _bootstrap_draws(
        net, commission, fixed, sizes, n_boot=n_boot, rng=rng, chunk_rows=chunk_rows
    )
    table = _summarise_draws(draws, len(sizes), margin=1.0, threshold=1.0, alpha=alpha)
    return table["low"].to_numpy(), table["high"].to_numpy()


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

    def error_costs(self) -> pd.DataFrame:
        """The expected cost of the decisions, per site: for the kept creators the
        expected number that in truth lose money (sum of ``p_loss``) and the expected
        money lost on them (sum of ``expected_loss_if_kept``); for the dropped ones the
        expected number that in truth make money and the expected profit forgone (sum of
        ``expected_forgone_if_dropped``); for *test more*, what deciding now would risk
        (keeping all of them, dropping all of them). Money in site currency, over the
        period of the data."""
        c = self.card
        rows = []
        for s, g in c.groupby(c["site"].astype(str), sort=True):
            rec = g["recommendation"].astype(str)
            k, d, t = g[rec == "keep"], g[rec == "drop"], g[rec == "test more"]
            rows.append(
                {
                    "site": s,
                    "keeps": len(k),
                    "expected_wrong_keeps": float(k["p_loss"].sum()),
                    "expected_loss_wrong_keeps": float(k["expected_loss_if_kept"].sum()),
                    "drops": len(d),
                    "expected_wrong_drops": float((1 - d["p_loss"]).sum()),
                    "expected_forgone_wrong_drops": float(d["expected_forgone_if_dropped"].sum()),
                    "test_more": len(t),
                    "test_more_loss_if_all_kept": float(t["expected_loss_if_kept"].sum()),
                    "test_more_forgone_if_all_dropped": float(
                        t["expected_forgone_if_dropped"].sum()
                    ),
                }
            )
        return pd.DataFrame(rows)

    def site(self, site: str) -> pd.DataFrame:
        """The scorecard of one site."""
        sites = sorted(self.card["site"].astype(str).unique())
        if site not in sites:
            raise ParameterError(f"site {site!r} is not in the scorecard; sites: {sites}")
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
    roi_interval: str = "model",
    n_draws: int = 4000,
    ctr_formula: str = DEFAULT_CTR_FORMULA,
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
        Bootstrap replicates of the ROI interval when ``roi_interval="bootstrap"``
        (>= 100).
    seed : int
        Seed of the posterior draws (or of the bootstrap).
    min_impressions : int
        Passed to :func:`helpers.lift.ctr_lift`.
    unit_cost_rate : float
        Landed product cost as a fraction of the selling price, in [0, 1) (default
        0.35, an illustrative value: give your own). Used for profit ROI.
    platform_fee_rate : float, optional
        Platform referral fee as a fraction of the paid amount; by default each site's
        rate from :data:`helpers.schema.SITES` (US 0.06, UK 0.09, ...). A number
        applies to every scored site.
    roi_interval : {"model", "bootstrap"}
        How the profit-ROI interval is made. "model" (default): posterior draws of the
        creator's expected net sales per impression from empirical-Bayes posteriors
        of CTR, CVR, mean order value and return rate (each allowing for variation
        between the creator's pieces of content), on the creator's impressions, fees and
        commission rate. "bootstrap": the percentile bootstrap over the creator's pieces
        of content, kept for comparison only: its intervals are too narrow with few
        pieces (the truth lies above the upper bound for 10-25 % of creators with 6
        pieces in simulations) and it has nothing to say about a creator's rates beyond
        their own pieces.
    n_draws : int
        Posterior draws per creator for ``roi_interval="model"`` (>= 500).
    ctr_formula : str
        Right-hand side of the binomial model of clicks out of impressions whose
        prediction is each creator's expected CTR (the centre its CTR is shrunk towards).

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
        raise ParameterError(
            f"build_scorecard needs the canonical columns {missing}; the frame has {list(df.columns)}. "
            "Load the data with helpers.load.load_dataset()."
        )
    if not isinstance(n_boot, int | np.integer) or n_boot < 100:
        raise ParameterError(
            f"n_boot must be a whole number >= 100 (400 is a good default); got {n_boot!r}"
        )
    if roi_interval not in ("model", "bootstrap"):
        raise ParameterError(
            f"roi_interval must be 'model' (default) or 'bootstrap'; got {roi_interval!r}"
        )
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 500:
        raise ParameterError(
            f"n_draws must be a whole number >= 500 (4000 is the default); got {n_draws!r}"
        )
    present = sorted(df["site"].dropna().astype(str).unique())
    if site is None or site == "" or (not isinstance(site, str) and len(site) == 0):
        sites = present
    else:
        sites = [site] if isinstance(site, str) else [str(s) for s in site]
        absent = [s for s in sites if s not in present]
        if absent:
            raise ParameterError(
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
        cfg = _Settings(
            formula=formula,
            ctr_formula=ctr_formula,
            rules=rules,
            roi_interval=roi_interval,
            n_boot=int(n_boot),
            n_draws=int(n_draws),
            unit_cost_rate=u,
            platform_fee_rate=p,
        )
        cards.append(_site_card(part, s, cfg, lift_units, np.random.default_rng(ss), notes))
    card = pd.concat(cards, ignore_index=True) if cards else pd.DataFrame()
    if len(card):
        decided = recommend(card, rules)
        card = pd.concat([card, decided], axis=1)
        card["recommendation"] = pd.Categorical(
            card["recommendation"], categories=list(RECOMMENDATIONS)
        )
    result = ScorecardResult(
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
                (
                    "model: posterior of expected net sales per impression = CTR x CVR x mean "
                    "order value x (1 - return rate), each shrunk (empirical Bayes) with pieces of "
                    "content as the independent units, by the saddlepoint approximation "
                    f"({n_draws} posterior draws for creators with a beta shape below 1); on the "
                    "creator's impressions, commission rate and fixed fees"
                )
                if roi_interval == "model"
                else (
                    f"bootstrap: percentile bootstrap over pieces of content, {n_boot} replicates; "
                    "samples and flat fees are fixed per creator"
                )
            ),
            "n_draws": int(n_draws),
            "ctr_formula": ctr_formula,
            "cvr_shrinkage": (
                "beta-binomial empirical Bayes centred on the GLM expected CVR, one precision per "
                "site, prior widened by the expected CVR's standard error, counts divided by the "
                "creator's design effect (variation between pieces of content)"
            ),
            "error_costs": (
                "expected_loss_if_kept = E[max(0, threshold x promotion cost - contribution)], "
                "expected_forgone_if_dropped = E[max(0, contribution - threshold x promotion "
                "cost)], over the posterior, on the creator's volume in the data (site currency)"
            ),
        },
    )
    if len(card):
        for e in result.error_costs().itertuples(index=False):
            notes.append(
                f"{e.site}: of {e.keeps} kept creators, an expected {e.expected_wrong_keeps:.1f} in "
                f"truth lose money (expected loss {e.expected_loss_wrong_keeps:,.2f}); of {e.drops} "
                f"dropped, an expected {e.expected_wrong_drops:.1f} in truth make money (expected "
                f"profit forgone {e.expected_forgone_wrong_drops:,.2f}); site currency, over the "
                "period of the data."
            )
    return result


def _fee_rates(
    sites: Sequence[str], unit_cost_rate: float, platform_fee_rate: float | None
) -> dict[str, tuple[float, float]]:
    """(unit cost rate, platform fee rate) per site, validated."""
    if isinstance(unit_cost_rate, bool) or not isinstance(unit_cost_rate, int | float):
        raise ParameterError(
            f"unit_cost_rate must be a number such as 0.35; got {unit_cost_rate!r}"
        )
    if not 0 <= unit_cost_rate < 1:
        raise ParameterError(
            f"unit_cost_rate is the product cost as a fraction of the selling price, in [0, 1), "
            f"e.g. 0.35 when a $20 item costs $7; got {unit_cost_rate!r}"
        )
    out: dict[str, tuple[float, float]] = {}
    for s in sites:
        if platform_fee_rate is None:
            info = SITES.get(s)
            if info is None:
                raise ParameterError(
                    f"no default platform fee for site {s!r} (known: {sorted(SITES)}); pass "
                    "platform_fee_rate, e.g. 0.05 for 5 %"
                )
            p = float(info.platform_fee_rate)
        else:
            if isinstance(platform_fee_rate, bool) or not isinstance(
                platform_fee_rate, int | float
            ):
                raise ParameterError(
                    f"platform_fee_rate must be a number such as 0.06, or None for each site's "
                    f"default; got {platform_fee_rate!r}"
                )
            p = float(platform_fee_rate)
            if not 0 <= p < 1:
                raise ParameterError(
                    f"platform_fee_rate must be a fraction in [0, 1), e.g. 0.06 for 6 %; got {p!r}"
                )
        if unit_cost_rate + p >= 1:
            raise ParameterError(
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


@dataclass(frozen=True)
class _Settings:
    """What every site's card is built with (the arguments of :func:`build_scorecard`)."""

    formula: str
    ctr_formula: str
    rules: ScorecardRules
    roi_interval: str
    n_boot: int
    n_draws: int
    unit_cost_rate: float
    platform_fee_rate: float

    @property
    def margin(self) -> float:
        """Kept share of a sale after product cost and platform fee."""
        return 1.0 - self.unit_cost_rate - self.platform_fee_rate


def _expected_rate(
    part: pd.DataFrame,
    formula: str,
    successes: str,
    trials: str,
    site: str,
    codes: np.ndarray,
    n_creators: int,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Expected rate of each row under a binomial GLM of ``successes`` out of
    ``trials`` fitted on the site (:func:`helpers.conversion.fit_conversion`), and the
    sampling variance of each creator's expected rate (the trial-weighted mean of the
    row predictions) by the delta method with the fit's cluster-robust covariance.
    Falls back to the site's pooled rate (with a note) when the model cannot be fitted."""
    n = part[trials].to_numpy(dtype="float64")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", conversion.ConversionWarning)
            fit = conversion.fit_conversion(
                part, formula, successes=successes, trials=trials, site=site
            )
            pattern, X_pat, p_pat = _pattern_predictions(fit, part)
        ok = pattern >= 0
        p = np.where(ok, p_pat[np.maximum(pattern, 0)], np.nan)
        w = np.nan_to_num(n * p * (1 - p))
        # Per creator, sum_rows x_row w_row / trials: one bincount per coefficient sums
        # the rows in order (as a row-sized design matrix would), without building it.
        X0 = np.nan_to_num(X_pat)
        grad = np.zeros((n_creators, X0.shape[1]))
        c_ok, pat_ok, w_ok = codes[ok], pattern[ok], w[ok]
        for j in range(X0.shape[1]):
            grad[:, j] = np.bincount(c_ok, weights=X0[pat_ok, j] * w_ok, minlength=n_creators)
        tot = np.bincount(codes, weights=n, minlength=n_creators)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = grad / tot[:, None]
        var = np.einsum("ij,jk,ik->i", grad, fit.cov.to_numpy(), grad)
        return p, var
    except (ModelError, ValueError) as exc:
        pooled = part[successes].sum() / max(part[trials].sum(), 1)
        notes.append(
            f"{site}: model of {successes} / {trials} not fitted ({str(exc).splitlines()[0][:200]}); "
            f"the expected rate is the site's pooled {pooled:.2%} for every creator."
        )
        return np.full(len(n), pooled), np.full(n_creators, pooled * (1 - pooled) / max(n.sum(), 1))


def _pattern_predictions(
    fit: conversion.ConversionFit, part: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fit's design and prediction per distinct covariate pattern of ``part``
    (a few hundred patterns instead of millions of rows: the design is built once per
    pattern). Returns each row's pattern code (-1 when a covariate is missing: no
    prediction), the patterns' design matrix and their predicted rates."""
    pattern, _, first = lift._group(part, fit.columns())
    X_pat = fit.design(part.iloc[first])
    p_pat = fit.predict(part.iloc[first]).to_numpy(dtype="float64")
    return pattern, X_pat, p_pat


def _creator_tier(part: pd.DataFrame, creator_index: pd.Index) -> pd.Categorical:
    """Each creator's tier: the highest one seen when tiers are an ordered categorical
    (a creator can grow during the period), otherwise (plain text, unordered labels such
    as L1-L8 or age bands) the tier of most of the creator's clicks. Labels are kept
    as given; rows without a tier are ignored."""
    tier = part["tier"]
    if isinstance(tier.dtype, pd.CategoricalDtype) and tier.dtype.ordered:
        codes = tier.cat.codes.where(tier.notna())
        top = codes.groupby(part["creator_id"], observed=True, sort=True).max()
        top = top.reindex(creator_index).fillna(-1).astype("int64")
        return pd.Categorical.from_codes(top.to_numpy(), dtype=tier.dtype)
    labels = tier.astype("string")
    by = (
        pd.DataFrame({"creator_id": part["creator_id"], "tier": labels, "clicks": part["clicks"]})
        .dropna(subset=["tier"])
        .groupby(["creator_id", "tier"], observed=True, sort=True)["clicks"]
        .sum()
        .reset_index()
        .sort_values(["creator_id", "clicks", "tier"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("creator_id")
        .set_index("creator_id")["tier"]
    )
    if isinstance(tier.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in tier.cat.categories]
    else:
        categories = sorted(labels.dropna().unique())
    return pd.Categorical(by.reindex(creator_index).to_numpy(), categories=categories)


def _creator_mix(
    part: pd.DataFrame, codes: np.ndarray, n_creators: int, by_category: pd.Series, weight: str
) -> np.ndarray:
    """Each creator's ``weight``-weighted mean of a per-category site value (impressions
    as weights where the creator has no ``weight``; the site value where the category
    has none)."""
    site_value = float(np.nanmean(by_category.to_numpy())) if by_category.notna().any() else np.nan
    v = part["category"].astype("string").map(by_category).astype("float64").fillna(site_value)
    v = v.to_numpy()
    out = np.full(n_creators, np.nan)
    for col in (weight, "impressions"):
        w = part[col].to_numpy(dtype="float64")
        tot = np.bincount(codes, weights=w, minlength=n_creators)
        with np.errstate(divide="ignore", invalid="ignore"):
            mix = np.bincount(codes, weights=w * v, minlength=n_creators) / tot
        out = np.where(np.isnan(out), mix, out)
    return np.where(np.isnan(out), site_value, out)


def _pieces(part: pd.DataFrame) -> pd.DataFrame:
    """Per (creator, piece of content) sums; a row without content_id is its own piece.
    Sorted by creator like the card."""
    idx = pd.Series(np.arange(len(part)), index=part.index)
    if "content_id" in part.columns:
        piece = part["content_id"].astype("string").fillna(idx.map("\0row{}".format))
    else:
        piece = idx.astype("string")
    cols = ["impressions", "clicks", "orders", "gmv", "refunds", "net_gmv", "commission"]
    return (
        part.assign(piece=piece.to_numpy(), commission=part["commission"].fillna(0.0))
        .groupby(["creator_id", "piece"], observed=True, sort=True)[cols]
        .sum()
    )


def _rate_posteriors(
    part: pd.DataFrame,
    pieces: pd.DataFrame,
    piece_codes: np.ndarray,
    codes: np.ndarray,
    n_creators: int,
    expected: dict[str, tuple[np.ndarray, np.ndarray]],
    site: str,
    notes: list[str],
) -> tuple[_RatePosteriors, dict[str, Any]]:
    """Empirical-Bayes posteriors of each creator's CTR, CVR, mean order value and
    return rate, each allowing for variation between the creator's pieces of content
    (a hit video, a pricey product, a batch of refunds). ``expected`` maps "ctr" and
    "cvr" to (expected rate, its variance) per creator. Returns the posteriors and the
    fitted spreads (for the notes and the CVR columns)."""
    fitted: dict[str, Any] = {}
    post: dict[str, np.ndarray] = {}
    refunds = pieces["refunds"].clip(lower=0).to_numpy(dtype="float64")
    gmv = pieces["gmv"].to_numpy(dtype="float64")
    orders = pieces["orders"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        refunded = np.where(gmv > 0, np.minimum(refunds / gmv, 1.0) * orders, 0.0)
    cat = (
        part.assign(refunds=part["refunds"].clip(lower=0))
        .groupby(part["category"].astype("string"), observed=True)[["gmv", "orders", "refunds"]]
        .sum()
    )
    ret_target = _creator_mix(part, codes, n_creators, cat["refunds"] / cat["gmv"], "gmv")
    counts = {
        "ctr": (
            pieces["clicks"].to_numpy(dtype="float64"),
            pieces["impressions"].to_numpy(dtype="float64"),
        ),
        "cvr": (orders, pieces["clicks"].to_numpy(dtype="float64")),
        "ret": (refunded, orders),
    }
    targets = {**expected, "ret": (np.clip(ret_target, 1e-4, 0.99), np.zeros(n_creators))}
    for name, (k, n) in counts.items():
        e, e_var = targets[name]
        s2 = _piece_dispersion(k, n, piece_codes, n_creators, e)
        deff = _design_effect(k, n, piece_codes, n_creators, e, s2)
        K = np.bincount(piece_codes, weights=k, minlength=n_creators)
        N = np.bincount(piece_codes, weights=n, minlength=n_creators)
        a, b, m, m_c, note = _eb_beta(K / deff, N / deff, e, e_var)
        post[f"{name}_a"], post[f"{name}_b"] = a, b
        fitted[name] = {"s2": s2, "m": m, "m_c": m_c, "deff": deff, "note": note}
    aov_target = _creator_mix(part, codes, n_creators, cat["gmv"] / cat["orders"], "orders")
    mean, var, kappa2, omega2, tau2 = _order_value_posterior(
        pieces, piece_codes, n_creators, aov_target
    )
    fitted["aov"] = {"kappa2": kappa2, "omega2": omega2, "tau2": tau2}
    notes.append(
        f"{site}: variation between a creator's pieces of content (relative sd): CTR "
        f"{math.sqrt(fitted['ctr']['s2']):.0%}, CVR {math.sqrt(fitted['cvr']['s2']):.0%}, return "
        f"rate {math.sqrt(fitted['ret']['s2']):.0%}, order value {math.sqrt(kappa2):.0%} (orders of "
        f"one video share a price; single orders vary {math.sqrt(omega2):.0%} besides); between creators' price "
        f"levels {math.sqrt(tau2):.0%}. A "
        "creator's rates count their videos, not their clicks, as the independent units."
    )
    return _RatePosteriors(log_aov_mean=mean, log_aov_var=var, **post), fitted


def _commission_rate(
    part: pd.DataFrame, codes: np.ndarray, n_creators: int, expected_sales: np.ndarray
) -> np.ndarray:
    """Each creator's commission rate weighted by each row's expected orders
    (``expected_sales``: impressions x expected CTR x expected CVR; a rate that raises
    conversion earns its commission on more sales); from commission / net sales where a
    row has no rate, the site's mean where a creator has neither."""
    rate = part["commission_rate"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        paid = part["commission"] / part["net_gmv"].where(part["net_gmv"] != 0)
    rate = rate.fillna(paid).to_numpy(dtype="float64")
    ok = np.isfinite(rate)
    w = np.where(ok, np.nan_to_num(expected_sales), 0.0)
    tot = np.bincount(codes, weights=w, minlength=n_creators)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.bincount(codes, weights=w * np.where(ok, rate, 0.0), minlength=n_creators) / tot
    site_rate = float(np.nanmean(rate)) if ok.any() else 0.0
    return np.where(np.isfinite(out), out, site_rate)


def _roi_columns(
    card: pd.DataFrame,
    pieces: pd.DataFrame,
    post: _RatePosteriors,
    commission_rate: np.ndarray,
    cfg: _Settings,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Profit and net ROI intervals, P(profit ROI < threshold) and the expected money of
    each wrong decision, per creator (model-based by default, see the module docstring)."""
    fixed = (card["sample_cost"] + card["flat_fee"]).to_numpy(dtype="float64")
    n_content = card["n_content"].to_numpy()
    if cfg.roi_interval == "bootstrap":
        draws = _bootstrap_draws(
            pieces["net_gmv"].to_numpy(dtype="float64"),
            pieces["commission"].to_numpy(dtype="float64"),
            fixed,
            n_content,
            n_boot=cfg.n_boot,
            rng=rng,
        )
        min_content = max(cfg.rules.min_content, 2)
        table = _summarise_draws(
            draws,
            len(card),
            margin=cfg.margin,
            threshold=cfg.rules.roi_threshold,
            alpha=cfg.rules.alpha,
        )
    else:
        table = _model_summary(
            post,
            card["impressions"].to_numpy(dtype="float64"),
            commission_rate,
            fixed,
            margin=cfg.margin,
            threshold=cfg.rules.roi_threshold,
            alpha=cfg.rules.alpha,
            n_draws=cfg.n_draws,
            rng=rng,
        )
        min_content = cfg.rules.min_content
    no_interval = (n_content < min_content) | (card["rows_commission_unknown"].to_numpy() > 0)
    table = table.mask(np.repeat(no_interval[:, None], table.shape[1], axis=1))
    return pd.DataFrame(
        {
            "net_roi_low": table["low"] / cfg.margin,
            "net_roi_high": table["high"] / cfg.margin,
            "profit_roi_low": table["low"],
            "profit_roi_median": table["median"],
            "profit_roi_high": table["high"],
            "p_loss": table["p_loss"],
            "expected_loss_if_kept": table["loss_if_kept"],
            "expected_forgone_if_dropped": table["forgone_if_dropped"],
        }
    ).set_index(card.index)


def _lift_columns(card: pd.DataFrame, lift_units: pd.DataFrame | None, site: str) -> pd.DataFrame:
    """CTR lift of each creator: the creator's (category) units combined by indirect
    standardisation (see the module docstring)."""
    cols = ["ctr_lift", "shrunk_ctr", "shrunk_ctr_lift", "lift_coverage"]
    if lift_units is None or not len(lift_units):
        return pd.DataFrame(np.nan, index=card.index, columns=cols)
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
    out = pd.DataFrame({c: joined[c].to_numpy(dtype="float64") for c in cols[:3]}, index=card.index)
    out["lift_coverage"] = metrics.safe_ratio(
        joined["imp"].fillna(0.0).to_numpy(), card["impressions"].to_numpy()
    )
    return out


def _aggregate(part: pd.DataFrame) -> pd.DataFrame:
    """Volume, money and expected orders per creator (sorted by creator)."""
    part = part.assign(commission_unknown=part["commission"].isna().astype("int64"))
    card = (
        part.groupby("creator_id", observed=True, sort=True)
        .agg(
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
            expected_clicks=("expected_clicks", "sum"),
            rows_commission_unknown=("commission_unknown", "sum"),
            n_categories=("category", "nunique"),
        )
        .reset_index()
    )
    # groupby sums skip NaN: a creator with an unknown commission has an unknown cost.
    card["commission"] = card["commission"].mask(card["rows_commission_unknown"] > 0)
    card["promotion_cost"] = card["commission"] + card["sample_cost"] + card["flat_fee"]
    return card


def _site_card(
    part: pd.DataFrame,
    site: str,
    cfg: _Settings,
    lift_units: pd.DataFrame | None,
    rng: np.random.Generator,
    notes: list[str],
) -> pd.DataFrame:
    """The scorecard rows of one site."""
    part = part.sort_values("creator_id", kind="stable")
    codes, creator_index = pd.factorize(part["creator_id"], sort=True)
    n_cr = len(creator_index)
    p_cvr, cvr_var = _expected_rate(part, cfg.formula, "orders", "clicks", site, codes, n_cr, notes)
    p_ctr, ctr_var = _expected_rate(
        part, cfg.ctr_formula, "clicks", "impressions", site, codes, n_cr, notes
    )
    part = part.assign(
        expected_orders=part["clicks"].to_numpy(dtype="float64") * p_cvr,
        expected_clicks=part["impressions"].to_numpy(dtype="float64") * p_ctr,
    )
    card = _aggregate(part)
    pieces = _pieces(part)
    n_pieces = pieces.groupby(level="creator_id", observed=True, sort=True).size()
    card["n_content"] = n_pieces.reindex(card["creator_id"]).to_numpy()
    piece_codes = np.repeat(np.arange(n_cr), card["n_content"].to_numpy())
    card["tier"] = _creator_tier(part, creator_index)
    by_cat = (
        part.groupby(["creator_id", "category"], observed=True, sort=True)["clicks"]
        .sum()
        .reset_index()
        .sort_values(["creator_id", "clicks"], ascending=[True, False], kind="stable")
        .drop_duplicates("creator_id")
    )
    card["main_category"] = card["creator_id"].map(
        by_cat.set_index("creator_id")["category"].astype(str)
    )
    card.insert(0, "site", site)
    card["ctr"] = metrics.safe_ratio(card["clicks"], card["impressions"])
    card["cvr"] = metrics.safe_ratio(card["orders"], card["clicks"])
    card["expected_cvr"] = metrics.safe_ratio(card["expected_orders"], card["clicks"])
    expected = {
        "cvr": (card["expected_cvr"].to_numpy(dtype="float64"), cvr_var),
        "ctr": (
            metrics.safe_ratio(card["expected_clicks"], card["impressions"]).to_numpy(
                dtype="float64"
            ),
            ctr_var,
        ),
    }
    post, fitted = _rate_posteriors(part, pieces, piece_codes, codes, n_cr, expected, site, notes)
    _cvr_columns(card, post, fitted["cvr"], cfg.rules.alpha, site, notes)
    card = card.join(_lift_columns(card, lift_units, site))
    refunds = card["refunds"].clip(lower=0)
    u, p = cfg.unit_cost_rate, cfg.platform_fee_rate
    card["net_roi"] = metrics.net_roi(card["gmv"], refunds, card["promotion_cost"])
    card["contribution"] = metrics.contribution(card["gmv"], refunds, u, p)
    card["profit_roi"] = metrics.profit_roi(
        card["gmv"], refunds, card["promotion_cost"], product_cost_rate=u, platform_fee_rate=p
    )
    expected_sales = part["impressions"].to_numpy(dtype="float64") * p_ctr * p_cvr
    rate = _commission_rate(part, codes, n_cr, expected_sales)
    card = card.join(_roi_columns(card, pieces, post, rate, cfg, rng))
    card = card[_CARD_COLUMNS]
    return card.sort_values("clicks", ascending=False, kind="stable").reset_index(drop=True)


def _cvr_columns(
    card: pd.DataFrame,
    post: _RatePosteriors,
    fitted: dict[str, Any],
    alpha: float,
    site: str,
    notes: list[str],
) -> None:
    """Shrunk CVR, its interval and prior weight (the posterior the ROI uses), in place."""
    ok = card["clicks"].to_numpy() > 0
    a, b = post.cvr_a, post.cvr_b
    card["shrunk_cvr"] = np.where(ok, a / (a + b), np.nan)
    card["shrunk_cvr_low"] = np.where(ok, stats.beta.ppf(alpha / 2, a, b), np.nan)
    card["shrunk_cvr_high"] = np.where(ok, stats.beta.ppf(1 - alpha / 2, a, b), np.nan)
    m_c = fitted["m_c"]
    card["cvr_prior_clicks"] = m_c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no creator with clicks
        med = float(np.nanmedian(m_c)) if np.isfinite(m_c).any() else math.nan
    note = fitted["note"]
    notes.append(
        f"{site}: CVR spread around the model worth m = {fitted['m']:,.0f} clicks; with the expected "
        f"CVR's own uncertainty added, a creator's prior is worth a median {med:,.0f} clicks (a "
        "creator's own CVR gets weight effective clicks / (effective clicks + prior clicks), "
        "effective clicks = clicks / the creator's design effect)" + (f"; {note}" if note else "")
    )


_CARD_COLUMNS = [
    "site", "creator_id", "tier", "main_category", "n_categories", "n_content", "n_rows",
    "impressions", "clicks", "orders", "gmv", "refunds", "net_gmv", "commission",
    "sample_cost", "flat_fee", "promotion_cost", "contribution", "rows_commission_unknown",
    "ctr", "shrunk_ctr", "ctr_lift", "shrunk_ctr_lift", "lift_coverage", "cvr",
    "expected_cvr", "shrunk_cvr", "shrunk_cvr_low", "shrunk_cvr_high", "cvr_prior_clicks",
    "net_roi", "net_roi_low", "net_roi_high", "profit_roi", "profit_roi_low",
    "profit_roi_median", "profit_roi_high", "p_loss", "expected_loss_if_kept",
    "expected_forgone_if_dropped",
]  # fmt: skip
