"""The metrics primer's material: a bilingual glossary, a toy campaign worked through
every metric, and small simulated demonstrations of the common mistakes.

Everything here is for teaching (notebook ``00_metrics_primer``): no data file is
read. The metric values themselves come from :mod:`helpers.metrics` (the kit's one
set of definitions), the A/B test from :mod:`helpers.abtest`; this module only builds
the examples around them. Demonstrations draw from ``numpy.random.default_rng(seed)``
and are small (a few hundred numbers), so they run in milliseconds.

The common mistakes come from seller-facing writing on TikTok Shop affiliate
marketing (LinkStar): 只看播放量忽略点击率 (judging by views, not clicks), 盲目信任 ROI
预估 (trusting an ROI estimate with no history), 退货率影响净 ROI (refunds and net
ROI), 跨站数据混淆 (mixing sites), 设置过高佣金吸引刷单 (commission so high it invites
fake orders), 未做 A/B 测试 (not testing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from helpers import metrics
from helpers.abtest import (
    SampleSizePlan,
    compare_variants,
    plan_sample_size,
)
from helpers.errors import ParameterError
from helpers.i18n import check_lang

__all__ = [
    "GLOSSARY",
    "Term",
    "ToyCampaign",
    "demo_aa_false_positives",
    "demo_ab_test",
    "demo_ab_videos",
    "demo_commission_fake_orders",
    "demo_mixing_sites",
    "demo_refunds",
    "demo_roi_history",
    "demo_views_vs_clicks",
    "glossary_table",
    "metric_table",
    "toy_campaign",
    "worked_examples",
]


@dataclass(frozen=True)
class Term:
    """One glossary entry."""

    english: str
    chinese: str
    definition: str
    formula: str = ""


GLOSSARY: tuple[Term, ...] = (
    # Funnel
    Term("impressions", "曝光 / 曝光次数", "Times the product card or link was shown to a viewer."),
    Term(
        "video views",
        "播放量 / 视频播放量",
        "Times the video was played. Not clicks: a view does not mean interest in the product.",
    ),
    Term("clicks", "点击 / 点击量", "Times a viewer clicked the product link."),
    Term(
        "CTR (click-through rate)",
        "点击率",
        "Share of impressions that led to a click.",
        "clicks / impressions",
    ),
    Term("orders", "订单 / 订单数", "Orders attributed to the creator's content."),
    Term("items sold", "成交件数", "Units sold in those orders."),
    Term(
        "CVR (conversion rate)",
        "转化率",
        "Share of clicks that led to an order.",
        "orders / clicks",
    ),
    Term(
        "GMV (gross merchandise value)",
        "成交额 / GMV",
        "Value of attributed orders at the paid price, before refunds.",
        "orders x AOV",
    ),
    Term(
        "AOV (average order value)",
        "客单价 / 平均订单金额",
        "Average value of one order.",
        "GMV / orders",
    ),
    Term("refunds", "退款 / 退款金额", "Amount refunded to buyers (returns, cancellations)."),
    Term("return rate", "退货率 / 退款率", "Share of GMV refunded.", "refunds / GMV"),
    Term("net GMV", "净成交额", "GMV after refunds: the money that stays.", "GMV - refunds"),
    # People and places
    Term(
        "creator",
        "达人",
        "A TikTok user who promotes products in videos, LIVEs or a showcase for a commission.",
    ),
    Term("followers", "粉丝数", "Number of accounts following the creator."),
    Term(
        "creator tier",
        "达人等级",
        "Size class by followers: nano < 10k, micro < 100k, mid < 500k, macro < 1M, mega >= 1M (the kit's default).",
    ),
    Term(
        "site",
        "站点",
        "The TikTok Shop marketplace (US, UK, ID, ...). Currencies, fees and buyers differ: never pool sites.",
    ),
    Term("category", "类目", "Product category (beauty, fashion, home, ...)."),
    Term(
        "content",
        "内容 (视频 / 直播 / 橱窗)",
        "A video, a LIVE stream or a showcase listing that carries the product link.",
    ),
    Term(
        "affiliate programme", "联盟营销 / LinkStar", "TikTok Shop's creator-commission programme."
    ),
    # Money
    Term(
        "commission rate",
        "佣金率",
        "Share of the net paid price paid to the creator (1 %-80 %, set per product).",
    ),
    Term(
        "commission",
        "佣金",
        "What the creator earns; none on refunded orders.",
        "commission rate x (GMV - refunds)",
    ),
    Term("sample", "样品", "Free product sent to a creator; its cost is a promotion cost."),
    Term(
        "flat fee", "坑位费 / 固定费用", "Fixed fee paid to a creator per post, whatever the sales."
    ),
    Term(
        "promotion cost",
        "推广成本",
        "Everything paid to get the sales.",
        "commission + samples + flat fees",
    ),
    Term(
        "platform fee",
        "平台佣金 / 技术服务费",
        "TikTok Shop's referral fee on the paid amount (US 6 %, UK 9 %).",
        "platform fee rate x net GMV",
    ),
    Term(
        "product cost",
        "商品成本",
        "Landed cost of the units kept by buyers.",
        "product cost rate x net GMV",
    ),
    Term(
        "contribution",
        "贡献毛利 / 边际贡献",
        "What the net sales leave after product cost and platform fee, before promotion cost.",
        "net GMV - product cost - platform fee",
    ),
    Term(
        "refund recovery",
        "退货回收比例",
        "Share of refunded items whose product cost comes back (restocked and resold). "
        "Refund-only refunds (仅退款, the buyer keeps the item) recover nothing, so the "
        "item's cost is lost too. The kit assumes 1 (all recovered) unless told otherwise.",
        "product cost = unit cost rate x (net GMV + (1 - refund recovery) x refunds)",
    ),
    Term(
        "ROI (return on investment)",
        "投入产出比 / ROI",
        "Sales returned per unit of promotion cost; 'ROI 2.5' = 2.5 dollars of sales per dollar spent.",
    ),
    Term(
        "gross ROI",
        "毛 ROI (未扣退款)",
        "ROI on GMV, what sellers usually quote (also called ROAS).",
        "GMV / promotion cost",
    ),
    Term("net ROI", "净 ROI (扣除退款)", "ROI after refunds.", "(GMV - refunds) / promotion cost"),
    Term(
        "profit ROI",
        "利润 ROI",
        "Contribution per unit of promotion cost; below 1 the campaign loses money.",
        "contribution / promotion cost",
    ),
    Term("profit", "利润", "Contribution minus promotion cost.", "contribution - promotion cost"),
    Term("break-even", "盈亏平衡", "The point where profit is 0 (profit ROI = 1)."),
    Term("ROI estimate", "ROI 预估", "A forecast of ROI; only as good as the history it rests on."),
    Term(
        "fake orders",
        "刷单",
        "Orders placed to farm commission, not by real buyers; very high commission attracts them.",
    ),
    # Comparisons and statistics
    Term(
        "benchmark",
        "基准 / 基准值",
        "A reference rate, e.g. the pooled CTR of US rows of the same category.",
    ),
    Term(
        "lift",
        "提升",
        "Relative change against a reference: +150 % means 2.5 times the reference.",
        "rate / reference - 1",
    ),
    Term(
        "CTR lift vs US",
        "点击率提升对比美区",
        "CTR against the US benchmark CTR of the same category.",
        "CTR / US benchmark CTR - 1",
    ),
    Term(
        "A/B test",
        "A/B 测试",
        "Show two variants (script, thumbnail, price) to comparable audiences at the same time and compare a rate.",
    ),
    Term(
        "variant", "版本 / 变体", "One of the versions compared in a test (A = current, B = new)."
    ),
    Term(
        "confidence interval",
        "置信区间",
        "Range of values compatible with the data; 95 % intervals miss the truth 1 time in 20.",
    ),
    Term(
        "p-value",
        "p 值",
        "Chance of a difference at least this large if the variants were truly equal.",
    ),
    Term("statistical significance", "统计显著性", "p-value below the chosen alpha (often 0.05)."),
    Term(
        "statistical power",
        "统计功效",
        "Chance a test detects a real difference of the planned size (0.8 is usual).",
    ),
    Term(
        "minimum detectable lift",
        "最小可检测提升",
        "Smallest relative change a test is planned to detect.",
    ),
    Term(
        "sample size",
        "样本量",
        "Impressions (CTR test) or clicks (CVR test), and videos or creators, each variant needs.",
    ),
    Term(
        "unit of randomisation",
        "随机分组单位",
        "What each variant is assigned to: a video, a creator, or each single impression. "
        "The test must count evidence in these units.",
    ),
    Term(
        "design effect",
        "设计效应",
        "How many times more traffic a test split by video or creator needs than one split "
        "by impression, because videos differ; about 1 + (m - 1) x ICC.",
        "cluster variance / binomial variance",
    ),
    Term(
        "intra-class correlation (ICC)",
        "组内相关系数",
        "How alike the impressions of one video (or creator) are, from 0 (independent) up to 1.",
    ),
    Term(
        "A/A test",
        "A/A 测试",
        "Comparing two groups that got the same variant: a check that the test does not "
        "find differences that do not exist (it should 'win' only alpha of the time).",
    ),
    Term(
        "shrinkage (empirical Bayes)",
        "收缩估计 (经验贝叶斯)",
        "Pulling a small creator's rate towards the group rate, in proportion to how little data it has.",
    ),
    Term(
        "Simpson's paradox",
        "辛普森悖论",
        "A comparison that reverses when groups (e.g. sites) are pooled.",
    ),
)
"""Every term the kit uses, in English and Chinese, with a definition and formula."""

# Chinese definitions and formulas of the glossary, keyed by the English term; the
# wording follows how sellers talk in the seed articles (达人, 佣金, 点击率, 止损线).
_TERM_ZH: dict[str, tuple[str, str]] = {
    "impressions": ("商品卡或商品链接展示给观众的次数。", ""),
    "video views": ("视频被播放的次数。播放不等于点击：看了视频不代表对商品感兴趣。", ""),
    "clicks": ("观众点击商品链接的次数。", ""),
    "CTR (click-through rate)": ("带来点击的曝光占比。", "点击 / 曝光"),
    "orders": ("归因到达人内容的订单。", ""),
    "items sold": ("这些订单中卖出的件数。", ""),
    "CVR (conversion rate)": ("带来订单的点击占比。", "订单 / 点击"),
    "GMV (gross merchandise value)": ("归因订单按实付价计算的金额，未扣退款。", "订单 × 客单价"),
    "AOV (average order value)": ("一个订单的平均金额。", "GMV / 订单"),
    "refunds": ("退给买家的金额（退货、取消）。", ""),
    "return rate": ("被退款的 GMV 占比。", "退款 / GMV"),
    "net GMV": ("扣除退款后的 GMV：真正留在你手里的钱。", "GMV − 退款"),
    "creator": ("在视频、直播或橱窗中推广商品、赚取佣金的 TikTok 用户。", ""),
    "followers": ("关注该达人的账号数。", ""),
    "creator tier": (
        "按粉丝数分级：纳米 < 1 万，小达人 < 10 万，腰部 < 50 万，头部 < 100 万，超头部 ≥ 100 万（本工具默认）。",
        "",
    ),
    "site": (
        "TikTok Shop 的站点（美国、英国、印尼……）。币种、费用和买家都不同：站点绝不能混在一起算。",
        "",
    ),
    "category": ("商品类目（美妆、服饰、家居……）。", ""),
    "content": ("带有商品链接的一条视频、一场直播或一个橱窗商品。", ""),
    "affiliate programme": ("TikTok Shop 的达人带货分佣计划（联盟营销）。", ""),
    "commission rate": ("按实付净额支付给达人的比例（1%-80%，按商品设置）。", ""),
    "commission": ("达人赚到的钱；退款订单不付佣金。", "佣金率 ×（GMV − 退款）"),
    "sample": ("免费寄给达人的商品；样品成本属于推广成本。", ""),
    "flat fee": ("每条内容付给达人的固定费用（坑位费），与销量无关。", ""),
    "promotion cost": ("为获得销售额而付出的全部费用。", "佣金 + 样品 + 坑位费"),
    "platform fee": (
        "TikTok Shop 按实付金额收取的平台佣金（美区 6%，英国 9%）。",
        "平台佣金率 × 净成交额",
    ),
    "product cost": ("买家留下的商品的到岸成本。", "商品成本率 × 净成交额"),
    "contribution": (
        "净销售额扣除商品成本和平台佣金后、扣推广成本之前剩下的钱。",
        "净成交额 − 商品成本 − 平台佣金",
    ),
    "refund recovery": (
        "退款商品中成本能收回的比例（退回入库并再次售出）。仅退款（买家留下商品）收不回任何东西，商品成本也一并损失。除非另行设置，本工具假设为 1（全部收回）。",
        "商品成本 = 商品成本率 ×（净成交额 +（1 − 退货回收率）× 退款）",
    ),
    "ROI (return on investment)": (
        "每单位推广成本带来的销售额；“ROI 2.5”= 每花 1 美元带来 2.5 美元销售额。",
        "",
    ),
    "gross ROI": ("按 GMV 计算的 ROI，卖家通常说的就是这个（也叫 ROAS）。", "GMV / 推广成本"),
    "net ROI": ("扣除退款后的 ROI。", "（GMV − 退款）/ 推广成本"),
    "profit ROI": ("每单位推广成本带来的贡献毛利；低于 1 活动就亏钱。", "贡献毛利 / 推广成本"),
    "profit": ("贡献毛利减去推广成本。", "贡献毛利 − 推广成本"),
    "break-even": ("利润为 0 的点（利润 ROI = 1），也是设止损线的参考。", ""),
    "ROI estimate": ("对 ROI 的预估（ROI 预估）；准不准取决于它依据的历史数据。", ""),
    "fake orders": ("为了骗佣金而下的单（刷单），不是真实买家；佣金过高会招来刷单。", ""),
    "benchmark": ("参照比率，例如同类目美区行的合并点击率。", ""),
    "lift": ("相对参照的变化：+150% 表示是参照的 2.5 倍。", "比率 / 参照 − 1"),
    "CTR lift vs US": (
        "与同类目美区基准点击率相比的点击率提升（点击率提升对比美区）。",
        "点击率 / 美区基准点击率 − 1",
    ),
    "A/B test": ("同时把两个版本（脚本、封面、价格）展示给可比的受众，比较某个比率。", ""),
    "variant": ("测试中比较的某个版本（A = 现有，B = 新版）。", ""),
    "confidence interval": ("与数据相符的数值范围；95% 区间每 20 次有 1 次没覆盖真值。", ""),
    "p-value": ("如果两个版本其实没有差别，出现至少这么大差异的概率。", ""),
    "statistical significance": ("p 值低于事先选定的 alpha（通常 0.05）。", ""),
    "statistical power": ("测试能检测出预定幅度真实差异的概率（通常取 0.8）。", ""),
    "minimum detectable lift": ("测试计划能检测到的最小相对变化。", ""),
    "sample size": ("每个版本需要的曝光（点击率测试）或点击（转化率测试），以及视频或达人数。", ""),
    "unit of randomisation": (
        "每个版本分配到的对象：一条视频、一位达人或每一次曝光。测试必须按这个单位计算证据。",
        "",
    ),
    "design effect": (
        "因为视频之间差异大，按视频或达人分组的测试比按曝光分组多需要的流量倍数；约为 1 +（m − 1）× ICC。",
        "聚类方差 / 二项方差",
    ),
    "intra-class correlation (ICC)": (
        "同一条视频（或同一达人）的曝光彼此有多相似，从 0（独立）到 1。",
        "",
    ),
    "A/A test": (
        "比较两组拿到相同版本的受众：检查测试不会凭空找出差异（它“胜出”的概率应只有 alpha）。",
        "",
    ),
    "shrinkage (empirical Bayes)": (
        "把小达人的比率按其数据之少、相应地拉向所在组的比率（收缩估计）。",
        "",
    ),
    "Simpson's paradox": ("分组（如站点）合并后比较结论反转的现象（辛普森悖论）。", ""),
}

# Metric names and formulas of the toy campaign's table in Chinese (the numbers are the same).
_METRIC_ZH: dict[str, tuple[str, str]] = {
    "CTR": ("点击率", "点击 / 曝光"),
    "CVR": ("转化率", "订单 / 点击"),
    "AOV": ("客单价", "GMV / 订单"),
    "GMV": ("成交额（GMV）", "订单 × 客单价"),
    "return rate": ("退货率", "退款 / GMV"),
    "net GMV": ("净成交额", "GMV − 退款"),
    "commission": ("佣金", "佣金率 × 净成交额"),
    "promotion cost": ("推广成本", "佣金 + 样品 + 坑位费"),
    "gross ROI": ("毛 ROI", "GMV / 推广成本"),
    "net ROI": ("净 ROI", "（GMV − 退款）/ 推广成本"),
    "contribution": (
        "贡献毛利",
        "净成交额 − 平台佣金率 × 净成交额 − 商品成本率 ×（净成交额 +（1 − 退货回收率）× 退款）",
    ),
    "profit ROI": ("利润 ROI", "贡献毛利 / 推广成本"),
    "profit": ("利润", "贡献毛利 − 推广成本"),
    "CTR lift vs US": ("点击率提升对比美区", "点击率 / 美区基准点击率 − 1"),
}


def glossary_table(lang: str = "en") -> pd.DataFrame:
    """The glossary as a table, in the reader's language.

    Parameters
    ----------
    lang : {"en", "zh"}
        ``"en"``: columns ``english``, ``中文``, ``definition``, ``formula``.
        ``"zh"``: columns ``中文``, ``English``, ``释义``, ``公式`` (definitions in Chinese).

    Returns
    -------
    pandas.DataFrame
        One row per :data:`GLOSSARY` term, in the glossary's order.
    """
    if check_lang(lang) == "zh":
        return pd.DataFrame(
            {
                "中文": [t.chinese for t in GLOSSARY],
                "English": [t.english for t in GLOSSARY],
                "释义": [_TERM_ZH[t.english][0] for t in GLOSSARY],
                "公式": [_TERM_ZH[t.english][1] for t in GLOSSARY],
            }
        )
    return pd.DataFrame(
        {
            "english": [t.english for t in GLOSSARY],
            "中文": [t.chinese for t in GLOSSARY],
            "definition": [t.definition for t in GLOSSARY],
            "formula": [t.formula for t in GLOSSARY],
        }
    )


# --------------------------------------------------------------------- toy campaign


def _check_fraction(name: str, value: float, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a number between {lo:g} and {hi:g}; got {value!r}")
    if not lo <= float(value) <= hi:
        raise ParameterError(
            f"{name} = {value!r} is outside [{lo:g}, {hi:g}]; give fractions, e.g. 0.02 for 2 %."
        )
    return float(value)


def _check_nonneg(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ParameterError(f"{name} must be a non-negative number; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ToyCampaign:
    """A campaign computed from a handful of rates (see :func:`toy_campaign`).

    Counts are whole numbers (rounded from the rates), so the rates recomputed from
    them by :func:`helpers.metrics.funnel` may differ slightly from the inputs.
    """

    site: str
    impressions: int
    clicks: int
    orders: int
    gmv: float
    refunds: float
    net_gmv: float
    ctr: float
    cvr: float
    aov: float
    return_rate: float
    commission_rate: float
    commission: float
    sample_cost: float
    flat_fee: float
    promotion_cost: float
    platform_fee_rate: float
    platform_fee: float
    product_cost_rate: float
    product_cost: float
    contribution: float
    profit: float
    gross_roi: float
    net_roi: float
    profit_roi: float
    us_benchmark_ctr: float
    ctr_lift_vs_us: float
    refund_recovery: float = metrics.REFUND_RECOVERY

    def to_dict(self) -> dict[str, float | int | str]:
        """All fields as a plain dict."""
        return dict(self.__dict__)


def toy_campaign(
    *,
    impressions: int = 100_000,
    ctr: float = 0.02,
    cvr: float = 0.03,
    aov: float = 25.0,
    return_rate: float = 0.15,
    commission_rate: float = 0.15,
    sample_cost: float = 150.0,
    flat_fee: float = 100.0,
    platform_fee_rate: float = 0.06,
    product_cost_rate: float = 0.35,
    us_benchmark_ctr: float = 0.015,
    site: str = "US",
    refund_recovery: float = metrics.REFUND_RECOVERY,
) -> ToyCampaign:
    """Work a campaign through every metric with :mod:`helpers.metrics`.

    Parameters
    ----------
    impressions : int
        Product impressions (>= 1).
    ctr, cvr : float
        Click-through rate and conversion rate, fractions in [0, 1].
    aov : float
        Average order value in site currency (>= 0).
    return_rate : float
        Refunded share of GMV in [0, 1].
    commission_rate : float
        Commission as a fraction of the net paid price, in [0, 0.8].
    sample_cost, flat_fee : float
        Total cost of samples and flat fees (>= 0).
    platform_fee_rate, product_cost_rate : float
        Platform referral fee and unit cost as fractions of the net paid price.
    us_benchmark_ctr : float
        The US benchmark CTR of the same category, in (0, 1].
    site : str
        Label only.
    refund_recovery : float
        Share of the refunded units' product cost that is recovered, in [0, 1]
        (:func:`helpers.metrics.contribution`). 1 (the kit's default) assumes every
        refunded unit comes back resellable; refund-only refunds (the buyer keeps the
        item, common on TikTok Shop) lose it: 0.

    Returns
    -------
    ToyCampaign

    Raises
    ------
    ValueError
        If a value is out of its range (the message names the parameter).
    """
    if isinstance(impressions, bool) or not isinstance(impressions, Real) or impressions < 1:
        raise ParameterError(f"impressions must be a positive whole number; got {impressions!r}")
    ctr = _check_fraction("ctr", ctr)
    cvr = _check_fraction("cvr", cvr)
    return_rate = _check_fraction("return_rate", return_rate)
    commission_rate = _check_fraction("commission_rate", commission_rate, 0.0, 0.8)
    platform_fee_rate = _check_fraction("platform_fee_rate", platform_fee_rate)
    product_cost_rate = _check_fraction("product_cost_rate", product_cost_rate)
    refund_recovery = _check_fraction("refund_recovery", refund_recovery)
    us_benchmark_ctr = _check_fraction("us_benchmark_ctr", us_benchmark_ctr)
    if us_benchmark_ctr == 0:
        raise ParameterError("us_benchmark_ctr must be above 0 (lift divides by it)")
    aov = _check_nonneg("aov", aov)
    sample_cost = _check_nonneg("sample_cost", sample_cost)
    flat_fee = _check_nonneg("flat_fee", flat_fee)

    n_impr = int(round(impressions))
    clicks = int(round(n_impr * ctr))
    orders = int(round(clicks * cvr))
    gmv = orders * aov
    refunds = gmv * return_rate
    row = pd.DataFrame(
        {
            "impressions": [n_impr],
            "clicks": [clicks],
            "orders": [orders],
            "gmv": [gmv],
            "refunds": [refunds],
        }
    )
    f = metrics.funnel(row).iloc[0]
    commission = float(metrics.commission_on_net(gmv, refunds, commission_rate))
    cost = float(metrics.promotion_cost(commission, sample_cost, flat_fee))
    contrib = float(
        metrics.contribution(gmv, refunds, product_cost_rate, platform_fee_rate, refund_recovery)
    )
    net = gmv - refunds
    return ToyCampaign(
        site=site,
        impressions=n_impr,
        clicks=clicks,
        orders=orders,
        gmv=gmv,
        refunds=refunds,
        net_gmv=net,
        ctr=float(f["ctr"]),
        cvr=float(f["cvr"]),
        aov=float(f["aov"]),
        return_rate=float(f["return_rate"]),
        commission_rate=commission_rate,
        commission=commission,
        sample_cost=sample_cost,
        flat_fee=flat_fee,
        promotion_cost=cost,
        platform_fee_rate=platform_fee_rate,
        platform_fee=platform_fee_rate * net,
        product_cost_rate=product_cost_rate,
        # Kept units plus the refunded units whose cost is not recovered.
        product_cost=product_cost_rate * (net + (1.0 - refund_recovery) * refunds),
        contribution=contrib,
        profit=contrib - cost,
        gross_roi=float(metrics.gross_roi(gmv, cost)),
        net_roi=float(metrics.net_roi(gmv, refunds, cost)),
        profit_roi=float(
            metrics.profit_roi(
                gmv,
                refunds,
                cost,
                product_cost_rate=product_cost_rate,
                platform_fee_rate=platform_fee_rate,
                refund_recovery=refund_recovery,
            )
        ),
        us_benchmark_ctr=us_benchmark_ctr,
        ctr_lift_vs_us=float(f["ctr"]) / us_benchmark_ctr - 1.0,
        refund_recovery=refund_recovery,
    )


def metric_table(c: ToyCampaign, lang: str = "en") -> pd.DataFrame:
    """Each metric with its Chinese name, formula, worked example and value.

    Parameters
    ----------
    c : ToyCampaign
        From :func:`toy_campaign`.
    lang : {"en", "zh"}
        ``"zh"`` gives Chinese metric names and formulas first (columns ``指标``,
        ``English``, ``公式``, ``计算示例``, ``数值``); the numbers are the same.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``中文``, ``formula``, ``worked example``, ``value`` (float).
    """

    def m(x: float) -> str:
        return f"{x:,.2f}"

    rows = [
        (
            "CTR",
            "点击率",
            "clicks / impressions",
            f"{c.clicks:,} / {c.impressions:,} = {c.ctr:.2%}",
            c.ctr,
        ),
        ("CVR", "转化率", "orders / clicks", f"{c.orders:,} / {c.clicks:,} = {c.cvr:.2%}", c.cvr),
        ("AOV", "客单价", "GMV / orders", f"{m(c.gmv)} / {c.orders:,} = {m(c.aov)}", c.aov),
        ("GMV", "成交额", "orders x AOV", f"{c.orders:,} x {m(c.aov)} = {m(c.gmv)}", c.gmv),
        (
            "return rate",
            "退货率",
            "refunds / GMV",
            f"{m(c.refunds)} / {m(c.gmv)} = {c.return_rate:.1%}",
            c.return_rate,
        ),
        (
            "net GMV",
            "净成交额",
            "GMV - refunds",
            f"{m(c.gmv)} - {m(c.refunds)} = {m(c.net_gmv)}",
            c.net_gmv,
        ),
        (
            "commission",
            "佣金",
            "commission rate x net GMV",
            f"{c.commission_rate:.0%} x {m(c.net_gmv)} = {m(c.commission)}",
            c.commission,
        ),
        (
            "promotion cost",
            "推广成本",
            "commission + samples + flat fees",
            f"{m(c.commission)} + {m(c.sample_cost)} + {m(c.flat_fee)} = {m(c.promotion_cost)}",
            c.promotion_cost,
        ),
        (
            "gross ROI",
            "毛 ROI",
            "GMV / promotion cost",
            f"{m(c.gmv)} / {m(c.promotion_cost)} = {c.gross_roi:.2f}",
            c.gross_roi,
        ),
        (
            "net ROI",
            "净 ROI",
            "(GMV - refunds) / promotion cost",
            f"{m(c.net_gmv)} / {m(c.promotion_cost)} = {c.net_roi:.2f}",
            c.net_roi,
        ),
        (
            "contribution",
            "贡献毛利",
            "net GMV - platform fee rate x net GMV - product cost rate x (net GMV + "
            "(1 - refund recovery) x refunds)",
            f"{m(c.net_gmv)} - {c.platform_fee_rate:.0%} x {m(c.net_gmv)} - "
            f"{c.product_cost_rate:.0%} x ({m(c.net_gmv)} + {1 - c.refund_recovery:.0%} x "
            f"{m(c.refunds)}) = {m(c.contribution)}",
            c.contribution,
        ),
        (
            "profit ROI",
            "利润 ROI",
            "contribution / promotion cost",
            f"{m(c.contribution)} / {m(c.promotion_cost)} = {c.profit_roi:.2f}",
            c.profit_roi,
        ),
        (
            "profit",
            "利润",
            "contribution - promotion cost",
            f"{m(c.contribution)} - {m(c.promotion_cost)} = {m(c.profit)}",
            c.profit,
        ),
        (
            "CTR lift vs US",
            "点击率提升对比美区",
            "CTR / US benchmark CTR - 1",
            f"{c.ctr:.2%} / {c.us_benchmark_ctr:.2%} - 1 = {c.ctr_lift_vs_us:+.0%}",
            c.ctr_lift_vs_us,
        ),
    ]
    table = pd.DataFrame(rows, columns=["metric", "中文", "formula", "worked example", "value"])
    if check_lang(lang) == "zh":
        return pd.DataFrame(
            {
                "指标": table["中文"],
                "English": table["metric"],
                "公式": [_METRIC_ZH[m][1] for m in table["metric"]],
                "计算示例": table["worked example"].str.replace(" x ", " × "),
                "数值": table["value"],
            }
        )
    return table


def worked_examples(
    c: ToyCampaign, names: list[str] | tuple[str, ...] | None = None, lang: str = "en"
) -> str:
    """Markdown bullets "**metric** (中文) = formula = worked example" for some metrics.

    Parameters
    ----------
    c : ToyCampaign
        From :func:`toy_campaign`.
    names : list of str, optional
        Metric names as in :func:`metric_table` (``"CTR"``, ``"net ROI"``, ...); all
        when omitted.
    lang : {"en", "zh"}
        ``"zh"``: "**中文** (English) = 中文公式 = worked example".

    Returns
    -------
    str
        Markdown text.

    Raises
    ------
    ValueError
        For an unknown metric name (the message lists the accepted ones).
    """
    table = metric_table(c).set_index("metric")
    names = list(table.index) if names is None else list(names)
    unknown = [n for n in names if n not in table.index]
    if unknown:
        raise ParameterError(f"unknown metric(s) {unknown}; accepted: {list(table.index)}")
    if check_lang(lang) == "zh":
        lines = [
            f"- **{_METRIC_ZH[n][0]}**（{n}）= {_METRIC_ZH[n][1]} = "
            f"{table.at[n, 'worked example'].replace(' x ', ' × ')}"
            for n in names
        ]
    else:
        lines = [
            f"- **{n}** ({table.at[n, '中文']}) = {table.at[n, 'formula']} = {table.at[n, 'worked example']}"
            for n in names
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------ demonstrations


def demo_views_vs_clicks(seed: int = 0, n_creators: int = 12) -> pd.DataFrame:
    """Creators whose video views say little about their clicks and orders.

    Views and product CTR are drawn independently (views log-normal, CTR from a beta
    with mean 2 %), as they largely are: a viral video can carry a product nobody
    clicks. Impressions are a fixed share of views.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``.
    n_creators : int
        Number of creators (3 to 200).

    Returns
    -------
    pandas.DataFrame
        ``creator``, ``video_views``, ``impressions``, ``clicks``, ``ctr``, ``orders``,
        ``rank_by_views``, ``rank_by_orders``; ``.attrs["spearman_views_orders"]`` holds
        the rank correlation of views and orders (scipy.stats.spearmanr).
    """
    if not 3 <= n_creators <= 200:
        raise ParameterError(f"n_creators must be between 3 and 200; got {n_creators}")
    rng = np.random.default_rng(seed)
    views = np.round(rng.lognormal(mean=11.0, sigma=0.9, size=n_creators)).astype("int64")
    impressions = np.round(views * 0.3).astype("int64")
    ctr = rng.beta(2.0, 98.0, size=n_creators)
    clicks = rng.binomial(impressions, ctr)
    orders = rng.binomial(clicks, 0.03)
    df = pd.DataFrame(
        {
            "creator": [f"creator_{i + 1:02d}" for i in range(n_creators)],
            "video_views": views,
            "impressions": impressions,
            "clicks": clicks,
            "ctr": clicks / np.maximum(impressions, 1),
            "orders": orders,
        }
    )
    df["rank_by_views"] = df["video_views"].rank(ascending=False, method="min").astype("int64")
    df["rank_by_orders"] = df["orders"].rank(ascending=False, method="min").astype("int64")
    rho = stats.spearmanr(df["video_views"], df["orders"]).statistic
    df.attrs["spearman_views_orders"] = float(rho)
    return df.sort_values("video_views", ascending=False, ignore_index=True)


def demo_roi_history(
    c: ToyCampaign,
    *,
    history_clicks: tuple[int, ...] = (30, 100, 300, 1_000, 3_000, 10_000),
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """How wide an ROI estimate is when it rests on little history.

    For each history size, a history of that many clicks is simulated at the toy
    campaign's true CVR; the CVR estimate and its Wilson interval
    (:func:`helpers.metrics.rate_interval`) are carried through the campaign's
    economics (same clicks, AOV, return rate and costs), which turns them into a net
    ROI estimate and interval. Only the CVR is uncertain here, so the intervals are, if
    anything, too narrow.

    Parameters
    ----------
    c : ToyCampaign
        The planned campaign; its CVR is the truth being estimated.
    history_clicks : tuple of int
        Clicks of history behind each estimate.
    alpha : float
        1 - confidence level.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``history_clicks``, ``history_orders``, ``cvr_hat``, ``cvr_low``, ``cvr_high``,
        ``net_roi_hat``, ``net_roi_low``, ``net_roi_high``, ``true_net_roi``.
    """
    if any(int(n) < 1 for n in history_clicks):
        raise ParameterError(f"history_clicks must be positive; got {history_clicks}")
    rng = np.random.default_rng(seed)
    n = np.asarray(history_clicks, dtype="int64")
    k = rng.binomial(n, c.cvr)
    low, high = metrics.rate_interval(k, n, alpha=alpha)

    def roi_at(cvr: np.ndarray) -> np.ndarray:
        gmv = c.clicks * cvr * c.aov
        refunds = gmv * c.return_rate
        commission = metrics.commission_on_net(gmv, refunds, c.commission_rate)
        cost = metrics.promotion_cost(commission, c.sample_cost, c.flat_fee)
        return np.asarray(metrics.net_roi(gmv, refunds, cost), dtype="float64")

    hat = k / n
    return pd.DataFrame(
        {
            "history_clicks": n,
            "history_orders": k,
            "cvr_hat": hat,
            "cvr_low": low,
            "cvr_high": high,
            # Net ROI increases with CVR (fixed costs get spread), so the bounds map.
            "net_roi_hat": roi_at(hat),
            "net_roi_low": roi_at(np.asarray(low)),
            "net_roi_high": roi_at(np.asarray(high)),
            "true_net_roi": c.net_roi,
        }
    )


def demo_refunds(
    c: ToyCampaign,
    return_rates: tuple[float, ...] = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40),
) -> pd.DataFrame:
    """Gross, net and profit ROI of the toy campaign at several return rates.

    Gross ROI ignores refunds, so it does not move; net and profit ROI fall. Commission
    is paid on net sales, so it falls too, which softens (but does not cancel) the
    drop. No randomness: the point is the arithmetic.

    ``profit_roi`` uses the campaign's ``refund_recovery``; ``profit_roi_refund_only``
    assumes no refunded unit comes back (refund-only refunds, recovery 0), where the
    product cost of refunded units is lost too.

    Returns
    -------
    pandas.DataFrame
        ``return_rate``, ``gross_roi``, ``net_roi``, ``profit_roi``,
        ``profit_roi_refund_only``, ``profit``.
    """
    rows = []
    for rr in return_rates:
        t = toy_campaign(
            impressions=c.impressions,
            ctr=c.ctr,
            cvr=c.cvr,
            aov=c.aov,
            return_rate=rr,
            commission_rate=c.commission_rate,
            sample_cost=c.sample_cost,
            flat_fee=c.flat_fee,
            platform_fee_rate=c.platform_fee_rate,
            product_cost_rate=c.product_cost_rate,
            us_benchmark_ctr=c.us_benchmark_ctr,
            site=c.site,
            refund_recovery=c.refund_recovery,
        )
        refund_only = float(
            metrics.profit_roi(
                t.gmv,
                t.refunds,
                t.promotion_cost,
                product_cost_rate=c.product_cost_rate,
                platform_fee_rate=c.platform_fee_rate,
                refund_recovery=0.0,
            )
        )
        rows.append((rr, t.gross_roi, t.net_roi, t.profit_roi, refund_only, t.profit))
    return pd.DataFrame(
        rows,
        columns=[
            "return_rate",
            "gross_roi",
            "net_roi",
            "profit_roi",
            "profit_roi_refund_only",
            "profit",
        ],
    )


def demo_mixing_sites(seed: int = 0, scale: int = 10_000) -> pd.DataFrame:
    """Two creators compared on CVR per site and pooled: pooling reverses the ranking.

    Creator A converts better than B on each site, but most of A's clicks come from
    the low-converting UK site and most of B's from the US site, so B looks better
    when the sites are pooled (Simpson's paradox). Orders are binomial draws around
    fixed rates (A: US 6 %, UK 2.5 %; B: US 5 %, UK 2 %).

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``.
    scale : int
        Clicks of the small arm; the large arm has four times as many. Large enough
        (default 10,000) that noise does not blur the example.

    Returns
    -------
    pandas.DataFrame
        ``creator``, ``site`` (``US``, ``UK`` and ``pooled``), ``clicks``, ``orders``,
        ``cvr``.
    """
    rng = np.random.default_rng(seed)
    design = [
        ("A", "US", scale, 0.06),
        ("A", "UK", 4 * scale, 0.025),
        ("B", "US", 4 * scale, 0.05),
        ("B", "UK", scale, 0.02),
    ]
    rows = [(cr, site, n, int(rng.binomial(n, p))) for cr, site, n, p in design]
    df = pd.DataFrame(rows, columns=["creator", "site", "clicks", "orders"])
    pooled = df.groupby("creator", as_index=False)[["clicks", "orders"]].sum().assign(site="pooled")
    df = pd.concat([df, pooled[df.columns]], ignore_index=True)
    df["cvr"] = df["orders"] / df["clicks"]
    return df


def demo_commission_fake_orders(
    c: ToyCampaign,
    *,
    commission_rates: tuple[float, ...] = tuple(np.round(np.arange(0.05, 0.81, 0.05), 2)),
    elasticity: float = 0.35,
    fake_share_max: float = 0.5,
    fake_midpoint: float = 0.35,
    seed: int = 0,
) -> pd.DataFrame:
    """Profit against the commission rate when high commission attracts fake orders.

    An illustrative model, not an estimate: real orders grow with commission as
    ``(rate / base rate) ** elasticity`` (more creators take the product), and a share
    of extra, fake orders (刷单) appears as the rate rises (a logistic curve reaching
    ``fake_share_max`` of real orders, half-way at ``fake_midpoint``). Fake orders earn
    commission and platform fees but leave no margin. Real orders get Poisson noise
    from ``default_rng(seed)``.

    Returns
    -------
    pandas.DataFrame
        ``commission_rate``, ``expected_profit`` (without noise), ``real_orders``,
        ``fake_orders``, ``net_gmv`` (real), ``commission``, ``contribution``,
        ``profit``, ``profit_roi``.
    """
    if c.commission_rate <= 0:
        raise ParameterError("the toy campaign needs a commission rate above 0 as its base")
    rng = np.random.default_rng(seed)
    rates = np.asarray(commission_rates, dtype="float64")
    lo, hi = metrics.COMMISSION_RANGE
    if np.any((rates <= lo) | (rates > hi)):
        raise ParameterError(
            f"commission_rates must lie in ({lo:g}, {hi:g}] as fractions; got {rates}"
        )
    expected = c.orders * (rates / c.commission_rate) ** elasticity
    real = rng.poisson(expected)
    fake_share = fake_share_max / (1.0 + np.exp(-(rates - fake_midpoint) / 0.05))
    fake = np.round(real * fake_share).astype("int64")
    keep = 1.0 - c.return_rate
    real_net = real * c.aov * keep
    fake_net = fake * c.aov
    commission = np.asarray(metrics.commission_on_net(real_net + fake_net, 0.0, rates))
    cost = np.asarray(metrics.promotion_cost(commission, c.sample_cost, c.flat_fee))
    contrib = (
        np.asarray(metrics.contribution(real_net, 0.0, c.product_cost_rate, c.platform_fee_rate))
        - c.platform_fee_rate * fake_net
    )
    # The same economics without the Poisson noise: the curve the points scatter around.
    exp_real_net = expected * c.aov * keep
    exp_fake_net = expected * fake_share * c.aov
    exp_cost = np.asarray(
        metrics.promotion_cost(
            np.asarray(metrics.commission_on_net(exp_real_net + exp_fake_net, 0.0, rates)),
            c.sample_cost,
            c.flat_fee,
        )
    )
    exp_contrib = (
        np.asarray(
            metrics.contribution(exp_real_net, 0.0, c.product_cost_rate, c.platform_fee_rate)
        )
        - c.platform_fee_rate * exp_fake_net
    )
    return pd.DataFrame(
        {
            "commission_rate": rates,
            "expected_profit": exp_contrib - exp_cost,
            "real_orders": real,
            "fake_orders": fake,
            "net_gmv": real_net,
            "commission": commission,
            "contribution": contrib,
            "profit": contrib - cost,
            "profit_roi": np.asarray(metrics.safe_ratio(contrib, cost)),
        }
    )


def _video_ctrs(rng: np.random.Generator, n: int, mean_ctr: float, ctr_spread: float) -> np.ndarray:
    """Per-video true CTRs ~ Beta with the given mean and coefficient of variation."""
    if ctr_spread <= 0:
        return np.full(n, mean_ctr)
    kappa = (1 - mean_ctr) / (ctr_spread**2 * mean_ctr) - 1
    if kappa <= 0:
        raise ParameterError(
            f"ctr_spread {ctr_spread} is too large for a mean CTR of {mean_ctr:.2%}; use a "
            "coefficient of variation below about 1 (0.5 means video CTRs typically differ by "
            "half the mean)."
        )
    return rng.beta(mean_ctr * kappa, (1 - mean_ctr) * kappa, size=n)


def _video_impressions(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    # Lognormal traffic (sigma 0.8) scaled to the requested mean: a few videos get most.
    sigma = 0.8
    draws = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, size=n)
    return np.maximum(1, np.round(draws)).astype("int64")


def demo_ab_videos(
    *,
    baseline_ctr: float = 0.02,
    true_lift: float = 0.2,
    daily_impressions: int = 4_000,
    videos_per_day: int = 10,
    ctr_spread: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    seed: int = 0,
    max_days: int | None = None,
    history_videos: int = 300,
) -> tuple[pd.DataFrame, SampleSizePlan]:
    """Simulated videos of a thumbnail test assigned per video, and its plan.

    Model (stated assumptions, for teaching): each day ``videos_per_day`` new videos
    are posted, half with thumbnail A and half with B (order drawn at random). Each
    video has its own true CTR, drawn from a Beta distribution with mean
    ``baseline_ctr`` (B: ``baseline_ctr * (1 + true_lift)``) and coefficient of
    variation ``ctr_spread`` (real exports show about 0.5 between videos), and gets
    its impressions on the day it is posted (lognormal, mean ``daily_impressions /
    videos_per_day``) with binomial clicks.

    The plan comes from :func:`helpers.abtest.plan_sample_size` with ``unit="video"``
    and a design effect estimated on a simulated history of ``history_videos`` videos
    of the same kind (thumbnail A only), as a seller would do with past exports.

    Returns
    -------
    (pandas.DataFrame, SampleSizePlan)
        One row per video: ``day``, ``content_id``, ``thumbnail`` ("A" / "B"),
        ``true_ctr``, ``impressions``, ``clicks``; and the plan.
    """
    baseline_ctr = _check_fraction("baseline_ctr", baseline_ctr)
    if isinstance(videos_per_day, bool) or not isinstance(videos_per_day, int | np.integer):
        raise ParameterError(f"videos_per_day must be a whole number >= 2; got {videos_per_day!r}")
    if videos_per_day < 2:
        raise ParameterError(
            f"videos_per_day must be at least 2 (one per thumbnail); got {videos_per_day}"
        )
    if daily_impressions < videos_per_day:
        raise ParameterError(
            f"daily_impressions ({daily_impressions}) must be at least videos_per_day "
            f"({videos_per_day}): every video needs impressions."
        )
    ctr_spread = _check_nonneg("ctr_spread", ctr_spread)
    rng = np.random.default_rng(seed)
    per_video = daily_impressions / videos_per_day
    hist_impr = _video_impressions(rng, history_videos, per_video)
    history = pd.DataFrame(
        {
            "content_id": [f"h{i}" for i in range(history_videos)],
            "impressions": hist_impr,
            "clicks": rng.binomial(
                hist_impr, _video_ctrs(rng, history_videos, baseline_ctr, ctr_spread)
            ),
        }
    )
    plan = plan_sample_size(
        baseline_ctr,
        true_lift,
        metric="ctr",
        alpha=alpha,
        power=power,
        daily_traffic=daily_impressions,
        unit="video",
        history=history,
        trials_per_unit=per_video,
        daily_units=videos_per_day,
    )
    days = max_days if max_days is not None else max(plan.days or 1, 1) + 2
    n = days * videos_per_day
    arms = np.concatenate(
        [rng.permutation(np.resize(["A", "B"], videos_per_day)) for _ in range(days)]
    )
    mean_ctr = np.where(arms == "B", baseline_ctr * (1 + true_lift), baseline_ctr)
    if not (mean_ctr < 1).all():
        raise ParameterError("baseline_ctr * (1 + true_lift) must stay below 1.")
    true_ctr = np.empty(n)
    for arm, mean in (("A", baseline_ctr), ("B", baseline_ctr * (1 + true_lift))):
        mask = arms == arm
        true_ctr[mask] = _video_ctrs(rng, int(mask.sum()), mean, ctr_spread)
    impressions = _video_impressions(rng, n, per_video)
    videos = pd.DataFrame(
        {
            "day": np.repeat(np.arange(1, days + 1), videos_per_day),
            "content_id": [f"v{i}" for i in range(n)],
            "thumbnail": arms,
            "true_ctr": true_ctr,
            "impressions": impressions,
            "clicks": rng.binomial(impressions, true_ctr),
        }
    )
    return videos, plan


def demo_ab_test(
    *,
    baseline_ctr: float = 0.02,
    true_lift: float = 0.2,
    daily_impressions: int = 4_000,
    alpha: float = 0.05,
    power: float = 0.8,
    seed: int = 0,
    max_days: int | None = None,
    videos_per_day: int = 10,
    ctr_spread: float = 0.5,
) -> tuple[pd.DataFrame, SampleSizePlan]:
    """Two thumbnails assigned per video, compared day by day, with the planned duration.

    The videos and the plan come from :func:`demo_ab_videos` (same arguments, same
    seed: same draw). After each day the videos posted so far are compared twice:
    with :func:`helpers.abtest.compare_variants` at the unit of randomisation
    (``unit="video"``: the right test) and as if every impression had been randomised
    on its own (``unit="impression"``: the common mistake, whose interval is far too
    narrow). Early days show how noisy a small test is; stopping the first time
    p < alpha ("peeking") inflates false positives, which is why the duration is
    fixed in advance.

    Returns
    -------
    (pandas.DataFrame, SampleSizePlan)
        Per day: ``day``, ``videos_a``, ``impressions_a``, ``clicks_a``, ``videos_b``,
        ``impressions_b``, ``clicks_b``, ``lift``, ``lift_low``, ``lift_high``,
        ``pvalue`` (video-level test), ``lift_low_naive``, ``lift_high_naive``,
        ``pvalue_naive`` (impression-level test); and the plan.
    """
    videos, plan = demo_ab_videos(
        baseline_ctr=baseline_ctr,
        true_lift=true_lift,
        daily_impressions=daily_impressions,
        videos_per_day=videos_per_day,
        ctr_spread=ctr_spread,
        alpha=alpha,
        power=power,
        seed=seed,
        max_days=max_days,
    )
    rows = []
    for day in range(1, int(videos["day"].max()) + 1):
        sofar = videos[videos["day"] <= day]
        sums = sofar.groupby("thumbnail")[["impressions", "clicks"]].sum()
        counts = sofar["thumbnail"].value_counts()
        row: dict[str, float] = {
            "day": day,
            "videos_a": int(counts.get("A", 0)),
            "impressions_a": int(sums.at["A", "impressions"]),
            "clicks_a": int(sums.at["A", "clicks"]),
            "videos_b": int(counts.get("B", 0)),
            "impressions_b": int(sums.at["B", "impressions"]),
            "clicks_b": int(sums.at["B", "clicks"]),
        }
        for suffix, unit in (("", "video"), ("_naive", "impression")):
            try:
                r = compare_variants(
                    sofar, "thumbnail", metric="ctr", a="A", b="B", alpha=alpha, unit=unit
                )
                lift, low, high, p = r.lift, r.ratio_low - 1, r.ratio_high - 1, r.pvalue
            except ValueError:
                # Too few videos or no clicks yet: nothing can be said on this day.
                lift = low = high = p = np.nan
            if not suffix:
                row["lift"] = lift
            row[f"lift_low{suffix}"] = low
            row[f"lift_high{suffix}"] = high
            row[f"pvalue{suffix}"] = p
        rows.append(row)
    return pd.DataFrame(rows), plan


def demo_aa_false_positives(
    *,
    baseline_ctr: float = 0.02,
    n_videos: int = 60,
    impressions_per_video: float = 400.0,
    ctr_spread: float = 0.5,
    alpha: float = 0.05,
    sims: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """How often a test "finds" a winner when both groups got the same thumbnail.

    ``sims`` A/A tests: ``n_videos`` videos with per-video CTRs as in
    :func:`demo_ab_videos` (no real difference) are split by coin flip and compared
    with the impression-level test and with the video-level test of
    :func:`helpers.abtest.compare_variants`. A correct test is "significant" in about
    ``alpha`` of them.

    Returns
    -------
    pandas.DataFrame
        One row per test: ``test``, ``false_positive_rate``, ``sims``, ``alpha``.
    """
    if sims < 1 or n_videos < 4:
        raise ParameterError(
            f"need sims >= 1 and n_videos >= 4; got sims={sims}, n_videos={n_videos}"
        )
    rng = np.random.default_rng(seed)
    hits = {"impression": 0, "video": 0}
    done = 0
    for _ in range(sims):
        impressions = _video_impressions(rng, n_videos, impressions_per_video)
        clicks = rng.binomial(impressions, _video_ctrs(rng, n_videos, baseline_ctr, ctr_spread))
        arms = rng.permutation(np.resize(["A", "B"], n_videos))
        df = pd.DataFrame(
            {
                "content_id": np.arange(n_videos).astype(str),
                "thumbnail": arms,
                "impressions": impressions,
                "clicks": clicks,
            }
        )
        try:
            results = {
                u: compare_variants(df, "thumbnail", a="A", b="B", alpha=alpha, unit=u)
                for u in hits
            }
        except ValueError:
            continue  # no clicks at all in this draw: no test possible, not counted
        done += 1
        for u, r in results.items():
            hits[u] += r.pvalue < alpha
    return pd.DataFrame(
        {
            "test": [
                "impression-level (as if each impression were randomised)",
                "video-level (the unit that was randomised)",
            ],
            "false_positive_rate": [hits["impression"] / done, hits["video"] / done],
            "sims": done,
            "alpha": alpha,
        }
    )
