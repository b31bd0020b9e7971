"""Sentences the notebooks write from code (numbers filled in), in every report language.

The notebooks' prose lives in their Markdown cells (an English cell tagged ``lang-en``
followed by its Chinese twin tagged ``lang-zh``); the sentences a code cell builds
around computed numbers live here, keyed ``"<notebook number>.<name>"``, so that the
notebooks stay thin and a test checks that every sentence exists in every language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.i18n import check_lang, text, translate

__all__ = [
    "aa_view",
    "accounting_view",
    "analyses_view",
    "coefficient_view",
    "comparison_view",
    "fit_info_view",
    "forecast_summary_view",
    "rates_view",
    "sensitivity_view",
    "table_view",
    "term_name",
    "warning_text",
    "figure_caption",
    "notebook_title",
    "reason_text",
    "rejected_view",
    "say",
    "short_paths",
]

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        # 00 metrics primer
        "00.views": "The creator with the most views ({top.creator}, {top.video_views:,} views, CTR "
        "{top.ctr:.1%}) ranks #{top.rank_by_orders} on orders; the best seller is {best.creator} with "
        "{best.orders} orders from {best.video_views:,} views (CTR {best.ctr:.1%}). Rank correlation of "
        "views and orders: {rho:.2f}.",
        "00.commission": "In this model expected profit peaks at a commission rate of {best:.0%} and is "
        "negative from {negative:.0%}.",
        "00.plan": "**Plan:** ",
        "00.day1": "**Day 1:** estimated lift {lift:+.0%} (p = {p:.2f}).  \n",
        "00.planned_end": "**Day {days} (planned end), video-level test:** ",
        "00.naive": "**The same data counted per impression** (the mistake): lift interval {low:+.1%} to "
        "{high:+.1%}, p = {p:.2g}: about {deff:.0f} times too little variance.",
        # 01 data health
        "01.kept": "{rows:,} content rows kept for site(s) {sites}",
        "01.coverage_title": "{site}: clicks by category and creator tier",
        "01.no_rejected": "No row was rejected.",
        "01.no_issues": "No issues found.",
        # 02 conversion drivers
        "02.view_through": "{n:,} rows with more orders than clicks (view-through attribution, kept by "
        "`orders_above_clicks: keep`) are left out of this model of orders per click.",
        "02.no_cluster": "The data have no `{cluster}` column: errors are ",
        "02.cluster_fallback": "clustered by `{fallback}` instead.",
        "02.model_based": "model-based (no cluster column).",
        "02.warning": "warning:",
        "02.no_site_rows": "rows without a site (in no fit): {msg}",
        "02.not_fitted": "site {site}: not fitted: {msg}",
        "02.info_n_rows": "content rows",
        "02.info_n_rows_missing": "rows with a missing value",
        "02.info_n_rows_zero_trials": "rows with zero clicks",
        "02.info_n_rows_used": "rows the model uses",
        "02.info_n_clusters": "creators (clusters)",
        "02.info_n_patterns": "distinct combinations",
        "02.info_trials": "clicks",
        "02.info_successes": "orders",
        "02.info_dispersion": "dispersion",
        "02.site": "## Site {site}",
        "02.fit_rows": "{fit.n_rows_used:,} content rows with clicks ({fit.trials:,} clicks, {fit.successes:,} "
        "orders, overall CVR {cvr:.2%}) from {fit.n_clusters:,} creators; {fit.n_rows_zero_trials:,} rows "
        "without clicks and {fit.n_rows_missing:,} rows with missing values left out. Dispersion "
        "{fit.dispersion:.2f} (row level). Errors: {fit.cov_type}",
        "02.clustered": " by {cluster}: {ratio:.1f} times the model-based standard errors (median over "
        "coefficients)",
        "02.model_errors": " (model-based)",
        "02.smallest_df": "; smallest degrees of freedom {df:.1f} ({term}).",
        "02.normal": "; normal critical values.",
        "02.plus_1pp": "**+1 percentage point of commission** goes with {ame:+.3f} percentage points of CVR "
        "on average (from {base:.2%}; {level} interval {lower:+.3f} to {upper:+.3f} pp).",
        # 03 ROI estimate
        "03.col_ctr": "CTR (model)",
        "03.col_cvr": "conversion at planned commission",
        "03.col_impressions": "impressions per piece",
        "03.history": "History used: **{rows:,} content rows** of {site}; the category has {clicks:,} clicks "
        "and {orders:,} orders. AOV {aov:,.2f} {currency} ({aov_source}), return rate {return_rate:.1%} "
        "({return_source}), {n_creators} creators x {pieces} pieces, of whom {post_rate:.0%} are assumed "
        "to post (about {posting:.1f}), expected fixed costs {fixed:,.2f} {currency}.",
        "03.notes": "**Notes on this estimate**",
        "03.kind_gross": "Gross",
        "03.kind_net": "Net",
        "03.kind_profit": "Profit",
        "03.headline": "**{kind} ROI: median {h[median]:.2f}**, 80 % interval {h[q10]:.2f} to {h[q90]:.2f}, "
        "95 % interval {h[q025]:.2f} to {h[q975]:.2f}; P(ROI < 1) = {h[p_below_1]:.0%}. Expected profit "
        "{h[expected_profit]:,.2f} {currency}, P(loss) = {h[p_loss]:.0%}. The ROI of many such campaigns "
        "pooled (their total sales over their total cost) is {h[expected_roi_median]:.2f}, known to within "
        "{h[expected_roi_q025]:.2f} to {h[expected_roi_q975]:.2f} given the history.",
        "03.break_even": "break-even commission",
        "03.best": "most profitable commission",
        "03.median": "median",
        "03.none": "none",
        "03.commission_line": "Planned commission {plan:.1%}; history's range {be[history_commission_min]:.1%}-"
        "{be[history_commission_max]:.1%}; share of parameter draws with no profitable commission at all: "
        "{be[p_no_break_even]:.0%} ({be[basis]} basis).",
        "03.backtest": "Split at **{c[split_date]}**: {c[n_cells]} cells backtested, {c[n_skipped]} skipped "
        "(too little data; listed in the skipped table). Inside the 80 % interval: **{c[coverage_80]:.0%}**; "
        "inside the 95 % interval: **{c[coverage_95]:.0%}**. With few cells these shares are themselves noisy.",
        # 04 CTR lift
        "04.no_category": "*The data have no product category: the benchmark is the pooled CTR of all "
        "{site} rows, shown as the single category “all”.*",
        "04.bench_exact": "*Benchmark treated as exact: it came without a standard error (user file or "
        "mapping), so intervals and flags hold only if it is exact.*",
        "04.bench_included": "*Benchmark uncertainty included: its cluster-robust standard error (log "
        "scale) is combined with each estimate's own.*",
        "04.loaded": "Loaded **{rows:,} rows** ({rejected:,} rejected by the loader, see notebook 01). "
        "Unit of analysis: **{level}** → **{units:,} units**, of which **{eligible:,}** have at least "
        "{min_impressions:,} impressions.",
        "04.level_content": "content",
        "04.level_creator": "creator",
        "04.rows": "Rows in: **{rows_in:,}**; used: **{used:,}**; excluded: **{excluded:,}**. ",
        "04.no_data_strata": "Benchmark categories without data: {strata}.",
        "04.none_excluded": "*No row excluded.*",
        "04.by": "**By {group}**",
        "04.creators_above": "**Creators that beat the benchmark with confidence** "
        "(top {top_n} per site by shrunk lift; {n:,} in all)",
        "04.creators_below": "**Creators that trail the benchmark with confidence** "
        "(top {top_n} per site by shrunk lift; {n:,} in all)",
        "04.videos_above": "**Videos that beat the benchmark with confidence** "
        "(top {top_n} per site by shrunk lift; {n:,} in all)",
        "04.videos_below": "**Videos that trail the benchmark with confidence** "
        "(top {top_n} per site by shrunk lift; {n:,} in all)",
        "04.none": "*none*",
        "04.no_views": "*The data have no video views column; chart skipped.*",
        "04.creator_spread": "Creator-level flags and intervals allow for the spread between a creator's "
        "videos (median design effect {deff:.1f}): a creator must beat the benchmark across its videos, "
        "not on one lucky video.",
        # 05 creator scorecard
        "05.loaded": "Loaded **{rows:,} rows** ({rejected:,} rejected by the loader, see report 01) from "
        "{data}; sites: {sites}.",
        "05.creator_rows": "**{n:,} creator rows** from {scored:,} of {rows_in:,} rows. ",
        "05.left_out": "Rows left out or limited: ",
        "05.none_left_out": "No row was left out, and every row's commission is known.",
        "05.site": "### Site {site}",
        "05.drop": "**drop** ({n} creators; up to {top_n} per site shown)",
        "05.keep": "**keep** ({n} creators; up to {top_n} per site shown)",
    },
    "zh": {
        "05.loaded": "从 {data} 读入 **{rows:,} 行**（读取时剔除 {rejected:,} 行，见报告 01）；站点：{sites}。",
        "05.creator_rows": "共 **{n:,} 行达人记录**，来自 {rows_in:,} 行中参与评分的 {scored:,} 行。",
        "05.left_out": "被排除或受限的行：",
        "05.none_left_out": "没有排除任何行，每一行的佣金都已知。",
        "05.site": "### 站点 {site}",
        "05.drop": "**淘汰**（{n} 位达人；每个站点最多显示 {top_n} 位）",
        "05.keep": "**保留**（{n} 位达人；每个站点最多显示 {top_n} 位）",
        "00.views": "播放量最高的达人（{top.creator}，{top.video_views:,} 次播放，点击率 {top.ctr:.1%}）"
        "按订单只排第 {top.rank_by_orders} 名；卖得最好的是 {best.creator}，{best.video_views:,} 次播放带来 "
        "{best.orders} 个订单（点击率 {best.ctr:.1%}）。播放量与订单的秩相关：{rho:.2f}。",
        "00.commission": "在这个模型里，预期利润在佣金率 {best:.0%} 时最高，从 {negative:.0%} 起变为负数。",
        "00.plan": "**测试计划：** ",
        "00.day1": "**第 1 天：** 提升估计 {lift:+.0%}（p = {p:.2f}）。  \n",
        "00.planned_end": "**第 {days} 天（计划结束），按视频检验：** ",
        "00.naive": "**同样的数据按曝光计算**（错误做法）：提升区间 {low:+.1%} 至 {high:+.1%}，p = {p:.2g}："
        "方差少算了约 {deff:.0f} 倍。",
        "01.kept": "保留 {rows:,} 行内容数据，站点：{sites}",
        "01.coverage_title": "{site}：按类目和达人等级的点击量",
        "01.no_rejected": "没有被剔除的行。",
        "01.no_issues": "没有发现问题。",
        "02.view_through": "{n:,} 行订单多于点击（浏览归因，按 `orders_above_clicks: keep` 保留），"
        "不纳入这个“每次点击出单”的模型。",
        "02.no_cluster": "数据中没有 `{cluster}` 列：误差",
        "02.cluster_fallback": "改为按 `{fallback}` 聚类。",
        "02.model_based": "基于模型计算（没有聚类列）。",
        "02.warning": "警告：",
        "02.no_site_rows": "没有站点的行（不进入任何模型）：{msg}",
        "02.not_fitted": "站点 {site}：未拟合：{msg}",
        "02.info_n_rows": "内容行数",
        "02.info_n_rows_missing": "有缺失值的行",
        "02.info_n_rows_zero_trials": "点击为 0 的行",
        "02.info_n_rows_used": "模型使用的行",
        "02.info_n_clusters": "达人数（聚类数）",
        "02.info_n_patterns": "不同组合数",
        "02.info_trials": "点击",
        "02.info_successes": "订单",
        "02.info_dispersion": "离散度",
        "02.site": "## 站点 {site}",
        "02.fit_rows": "{fit.n_rows_used:,} 行有点击的内容（{fit.trials:,} 次点击，{fit.successes:,} 个订单，"
        "整体转化率 {cvr:.2%}），来自 {fit.n_clusters:,} 位达人；排除了 {fit.n_rows_zero_trials:,} 行无点击的内容"
        "和 {fit.n_rows_missing:,} 行有缺失值的内容。离散度 {fit.dispersion:.2f}（行级）。误差：{fit.cov_type}",
        "02.clustered": "，按 {cluster} 聚类：是基于模型的标准误的 {ratio:.1f} 倍（各系数的中位数）",
        "02.model_errors": "（基于模型）",
        "02.smallest_df": "；最小自由度 {df:.1f}（{term}）。",
        "02.normal": "；使用正态临界值。",
        "02.plus_1pp": "**佣金每提高 1 个百分点**，转化率平均变化 {ame:+.3f} 个百分点（基准 {base:.2%}；"
        "{level} 区间 {lower:+.3f} 至 {upper:+.3f} 个百分点）。",
        "03.col_ctr": "点击率（模型）",
        "03.col_cvr": "计划佣金下的转化率",
        "03.col_impressions": "每条内容曝光",
        "03.history": "使用的历史数据：{site} 的 **{rows:,} 行内容**；该类目有 {clicks:,} 次点击、{orders:,} 个订单。"
        "客单价 {aov:,.2f} {currency}（{aov_source}），退货率 {return_rate:.1%}（{return_source}），"
        "{n_creators} 位达人 × 每人 {pieces} 条内容，假设其中 {post_rate:.0%} 会发布（约 {posting:.1f} 位），"
        "预期固定成本 {fixed:,.2f} {currency}。",
        "03.notes": "**关于本次预估的说明**",
        "03.kind_gross": "毛",
        "03.kind_net": "净",
        "03.kind_profit": "利润",
        "03.headline": "**{kind} ROI：中位数 {h[median]:.2f}**，80% 区间 {h[q10]:.2f} 至 {h[q90]:.2f}，"
        "95% 区间 {h[q025]:.2f} 至 {h[q975]:.2f}；ROI 低于 1 的概率 = {h[p_below_1]:.0%}。预期利润 "
        "{h[expected_profit]:,.2f} {currency}，亏损概率 = {h[p_loss]:.0%}。许多同类活动合并计算的 ROI"
        "（总销售额 / 总成本）为 {h[expected_roi_median]:.2f}，按现有历史数据，其范围在 "
        "{h[expected_roi_q025]:.2f} 至 {h[expected_roi_q975]:.2f} 之间。",
        "03.break_even": "保本佣金",
        "03.best": "利润最高的佣金",
        "03.median": "中位数",
        "03.none": "无",
        "03.commission_line": "计划佣金 {plan:.1%}；历史佣金范围 {be[history_commission_min]:.1%}-"
        "{be[history_commission_max]:.1%}；完全没有可盈利佣金的参数抽样占比：{be[p_no_break_even]:.0%}"
        "（{be[basis]} 口径）。",
        "03.backtest": "以 **{c[split_date]}** 为切分点：回测 {c[n_cells]} 个单元，跳过 {c[n_skipped]} 个"
        "（数据太少，见“跳过的单元”表）。落在 80% 区间内：**{c[coverage_80]:.0%}**；落在 95% 区间内："
        "**{c[coverage_95]:.0%}**。单元少时，这些比例本身也有波动。",
        "04.no_category": "*数据中没有商品类目：基准是所有 {site} 行的合并点击率，显示为单一类目“all”。*",
        "04.bench_exact": "*基准被当作精确值：它没有标准误（来自用户文件或映射），所以只有在基准确实精确时，"
        "区间和标记才成立。*",
        "04.bench_included": "*已计入基准的不确定性：它的聚类稳健标准误（对数尺度）与每个估计自身的标准误合并。*",
        "04.loaded": "读入 **{rows:,} 行**（读取时剔除 {rejected:,} 行，见笔记本 01）。分析单元：**{level}** → "
        "**{units:,} 个单元**，其中 **{eligible:,}** 个曝光不少于 {min_impressions:,} 次。",
        "04.level_content": "单条内容",
        "04.level_creator": "达人",
        "04.rows": "输入 **{rows_in:,}** 行；使用 **{used:,}** 行；排除 **{excluded:,}** 行。",
        "04.no_data_strata": "没有数据的基准类目：{strata}。",
        "04.none_excluded": "*没有排除任何行。*",
        "04.by": "**按{group}**",
        "04.creators_above": "**有把握跑赢基准的达人**（每个站点按收缩后提升取前 {top_n} 名；共 {n:,} 位）",
        "04.creators_below": "**有把握落后于基准的达人**（每个站点按收缩后提升取前 {top_n} 名；共 {n:,} 位）",
        "04.videos_above": "**有把握跑赢基准的视频**（每个站点按收缩后提升取前 {top_n} 条；共 {n:,} 条）",
        "04.videos_below": "**有把握落后于基准的视频**（每个站点按收缩后提升取前 {top_n} 条；共 {n:,} 条）",
        "04.none": "*无*",
        "04.no_views": "*数据中没有视频播放量列；跳过此图。*",
        "04.creator_spread": "达人层面的标记和区间考虑了同一达人不同视频之间的差异（设计效应中位数 {deff:.1f}）："
        "达人必须在多条视频上整体跑赢基准，而不是靠一条爆款。",
    },
}


def say(key: str, lang: str = "en", **fields: Any) -> str:
    """The notebook sentence ``key`` in ``lang`` with ``fields`` filled in (Markdown).

    Parameters
    ----------
    key : str
        ``"<notebook number>.<name>"``, e.g. ``"04.loaded"``.
    lang : {"en", "zh"}
        Report language.
    **fields
        Values for the sentence's ``{name}`` fields; strings from data must already be
        escaped (:func:`helpers.outputs.escape_markdown`).
    """
    return text(_TEXT, key, lang, **fields)


# ----------------------------------------------------------------- rejected rows, shown
# The loader writes each rejection as "<kind> (<detail>)" in English, clauses joined by
# "; " (helpers.load). The data keep that text (tables/ and results.json are the same in
# every language); the report shows it in its language, through these templates: kinds
# beyond those of helpers.health.REASON_TEXT, then the details' wording. A clause whose
# wording is not listed is shown as the loader wrote it (never a wrong translation).
REASON_KINDS: dict[str, dict[str, str]] = {
    "en": {
        "negative_after": "{column} negative",
        "not_whole": "{column} not a whole number",
        "not_finite": "{column} not finite",
        "out_of_range": "{column} out of range",
        "unparseable_date": "unparseable date",
        "total_row": "total row",
        "currency_mismatch": "currency mismatch",
        "repeated_content": "repeated content id",
        "unknown_tier": "unknown tier",
        "unknown_tier_label": "unknown tier label",
        "commission_range": "commission rate outside 0-80 %",
        "site_disagrees": "site disagrees with site= argument",
        "malformed": "malformed line",
        "followers": "followers",
        "video_views": "video_views",
        "items_sold": "items_sold",
        "net_gmv": "net_gmv",
        "product_id": "product_id",
        "content_id": "content_id",
    },
    "zh": {
        "negative_after": "{column}为负数",
        "not_whole": "{column}不是整数",
        "not_finite": "{column}不是有限数值",
        "out_of_range": "{column}超出范围",
        "unparseable_date": "日期无法识别",
        "total_row": "合计行",
        "currency_mismatch": "币种不符",
        "repeated_content": "内容 ID 重复",
        "unknown_tier": "未知达人等级",
        "unknown_tier_label": "未知等级标签",
        "commission_range": "佣金率超出 0-80 %",
        "site_disagrees": "站点与 site= 参数不一致",
        "malformed": "格式错误的行",
        "followers": "粉丝数",
        "video_views": "播放量",
        "items_sold": "成交件数",
        "net_gmv": "净成交额",
        "product_id": "商品 ID",
        "content_id": "内容 ID",
    },
}

REASON_DETAILS: dict[str, dict[str, str]] = {
    "en": {
        "same_row": "same as row {row}",
        "same_values": "same values as row {row} in {file}",
        "not_number": "{header}: {cell} is not a number",
        "yes_no": "{header}: {cell} is a yes/no value, not a number",
        "separators": "{header}: {cell} has misplaced separators (thousands separators come "
        "every three digits, e.g. 1,234,567)",
        "not_finite": "{header}: {cell} is not a finite number",
        "beyond": "{header}: {cell} is beyond {limit}, the largest value accepted",
        "too_large": "{header}: {cell} is too large to be a number",
        "count_sign": "{header}: {cell} has a currency or unit sign, but a count is a plain number",
        "rate_sign": "{header}: {cell} has a currency or unit sign, but a rate is a number or a "
        "percentage",
        "money_sign": "{header}: {cell} has a sign that is not a known currency (known: {known})",
        "not_in_export": "{who} {key} on site {site} not in {files}",
        "not_in_export_nosite": "{who} {key} not in {files}",
        "creator": "creator",
        "product": "product",
        "unknown_site": "{cell} is not one of {sites}, GB means UK",
        "not_date": "{header}: {cell} is not a date",
        "not_date_format": "{header}: {cell} is not a date in format {format}",
        "currency_site": "{header}: {cell} is not in {currency}, the currency of site {site}",
        "currency_option": "{header}: {cell} is not in {currency}, the currency= option",
        "total_row": "{header}: {cell} marks a total or subtotal line, not data: excluded so "
        "that it is not added in",
        "repeated": "same {by} as row {row}, which is kept: most impressions, then clicks, then first",
        "repeated_file": "same {by} as row {row} in {file}, which is kept: most impressions, then "
        "clicks, then first",
        "not_tier": "{header}: {cell} is not a tier, accepted: {accepted}",
        "not_label": "{header}: {cell} is not one of the labels given in tiers: {accepted}",
        "malformed": "{n} field(s), the header has {m}",
    },
    "zh": {
        "same_row": "与第 {row} 行相同",
        "same_values": "与 {file} 第 {row} 行的数值相同",
        "not_number": "{header}：{cell} 不是数字",
        "yes_no": "{header}：{cell} 是“是/否”值，不是数字",
        "separators": "{header}：{cell} 的分隔符位置不对（千位分隔符每三位一个，如 1,234,567）",
        "not_finite": "{header}：{cell} 不是有限数值",
        "beyond": "{header}：{cell} 超过可接受的最大值 {limit}",
        "too_large": "{header}：{cell} 太大，不可能是这个数",
        "count_sign": "{header}：{cell} 带有货币或单位符号，但计数应是纯数字",
        "rate_sign": "{header}：{cell} 带有货币或单位符号，但比率应是数字或百分比",
        "money_sign": "{header}：{cell} 的符号不是已知币种（已知：{known}）",
        "not_in_export": "{site} 站点的{who} {key} 不在 {files} 中",
        "not_in_export_nosite": "{who} {key} 不在 {files} 中",
        "creator": "达人",
        "product": "商品",
        "unknown_site": "{cell} 不是已知站点（{sites}；GB 即 UK）",
        "not_date": "{header}：{cell} 不是日期",
        "not_date_format": "{header}：{cell} 不是格式为 {format} 的日期",
        "currency_site": "{header}：{cell} 不是 {currency}（{site} 站点的币种）",
        "currency_option": "{header}：{cell} 不是 {currency}（currency= 参数指定的币种）",
        "total_row": "{header}：{cell} 是合计或小计行，不是数据：已排除，以免重复计入",
        "repeated": "与第 {row} 行的 {by} 相同，保留那一行（曝光最多，其次点击最多，再其次最先出现）",
        "repeated_file": "与 {file} 第 {row} 行的 {by} 相同，保留那一行（曝光最多，其次点击最多，再其次最先出现）",
        "not_tier": "{header}：{cell} 不是达人等级，可用：{accepted}",
        "not_label": "{header}：{cell} 不在 tiers 给出的标签中：{accepted}",
        "malformed": "{n} 个字段，表头有 {m} 个",
    },
}

# A local path inside a reason (the export's folder): only its file name is shown.
_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/](?:[^\s,;()'\"\\/]+[\\/])+([^\s,;()'\"\\/]+)")
_CLAUSE = re.compile(r"(?P<kind>[^()]+?)(?: \((?P<detail>.*)\))?", re.S)


def short_paths(value: str) -> str:
    """``value`` with every local path cut to its file name (a report is shared: the
    reader needs the file, not the folders of the machine that ran it)."""
    return _PATH.sub(lambda m: m.group(1), value)


def reason_text(reason: Any, lang: str = "en") -> str:
    """A rejection reason from :mod:`helpers.load` as a reader sees it in ``lang``: each
    clause's kind and detail translated, local paths cut to file names.

    Parameters
    ----------
    reason : str
        The loader's reason, e.g. ``"duplicate row (same as row 12); orders > clicks (9 > 6)"``.
    lang : {"en", "zh"}
        Report language.
    """
    from helpers.health import REASON_TEXT

    if not isinstance(reason, str):
        return "" if reason is None else str(reason)
    code = check_lang(lang)
    kinds = {c: {**REASON_TEXT.get(c, {}), **REASON_KINDS[c]} for c in REASON_KINDS}
    clauses = []
    for clause in short_paths(reason).split("; "):
        m = _CLAUSE.fullmatch(clause.strip())
        if code == "en" or m is None:
            clauses.append(clause)
            continue
        kind = translate(m.group("kind"), kinds, code)
        detail = m.group("detail")
        if kind == m.group("kind"):  # a kind the tables do not know: as the loader wrote it
            clauses.append(clause)
            continue
        if detail is not None:
            detail = translate(detail, REASON_DETAILS, code, sep="\0")
            kind += f"（{detail}）"
        clauses.append(kind)
    return ("；" if code == "zh" else "; ").join(clauses)


def rejected_view(rejected: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The rejected rows for a report page: ``file`` (as a file name), ``row`` and
    ``reason`` in the report's language (:func:`reason_text`). The table written to
    ``tables/`` keeps every column and the loader's text."""
    # file, row and reason: the row's own cells (twenty columns of the export) would run
    # far past the page; they are in the XLSX next to the table.
    view = rejected[[c for c in ("file", "row", "reason") if c in rejected.columns]].copy()
    if "file" in view:
        view["file"] = view["file"].map(lambda f: short_paths(str(f)) if isinstance(f, str) else f)
    if "reason" in view:
        view["reason"] = view["reason"].map(lambda r: reason_text(r, lang)).astype(object)
    return view


_STAGES = {
    "en": {
        "read": "read",
        "kept": "kept",
        "rejected": "rejected",
        "rejected_kind": "rejected: {kind}",
    },
    "zh": {"read": "读取", "kept": "保留", "rejected": "剔除", "rejected_kind": "剔除：{kind}"},
}


def accounting_view(accounting: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`helpers.health.row_accounting` for a report page: its ``stage`` labels
    (read, kept, rejected: <reason>) in the report's language."""
    code = check_lang(lang)
    if code == "en" or "stage" not in accounting:
        return accounting

    def stage(value: Any) -> str:
        s = str(value)
        if s in _STAGES[code]:
            return _STAGES[code][s]
        if s.startswith("rejected: "):
            return _STAGES[code]["rejected_kind"].format(kind=reason_text(s[10:], code))
        return s

    view = accounting.copy()
    view["stage"] = view["stage"].map(stage).astype(object)
    return view


# ------------------------------------------------------------ notebook titles, figures
NOTEBOOK_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "00": "Metrics primer",
        "01": "Data health",
        "02": "Conversion drivers",
        "03": "ROI estimate",
        "04": "CTR lift vs the US benchmark",
        "05": "Creator scorecard",
        "06": "Weekly monitor",
    },
    "zh": {
        "00": "指标入门",
        "01": "数据体检",
        "02": "转化驱动因素",
        "03": "ROI 预估",
        "04": "点击率提升对比美区",
        "05": "达人记分卡",
        "06": "每周监控",
    },
}


def notebook_title(notebook: str, lang: str = "en") -> str:
    """``"04 · CTR lift vs the US benchmark"`` for ``"04_ctr_lift"``; a notebook the kit
    does not ship keeps its file name."""
    number = str(notebook).split("_", 1)[0]
    title = NOTEBOOK_TITLES[check_lang(lang)].get(number)
    return f"{number} · {title}" if title else str(notebook)


def analyses_view(supported: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`helpers.health.analyses_supported` for a report page: each analysis by
    its notebook's title in the report's language."""
    code = check_lang(lang)
    english = {v: k for k, v in NOTEBOOK_TITLES["en"].items()}
    view = supported.copy()
    if "analysis" in view:
        view["analysis"] = (
            view["analysis"]
            .map(lambda a: NOTEBOOK_TITLES[code].get(english.get(str(a), ""), a))
            .astype(object)
        )
    return view


# Captions of the figures the notebooks save (``figures/<notebook>__<name>.png``), keyed
# "<notebook number>.<name>"; a name ending in a site code ("coverage_US") is captioned
# by its stem's entry with the site filled in.
FIGURE_CAPTIONS: dict[str, dict[str, str]] = {
    "en": {
        "00.funnel": "The affiliate funnel of a sample campaign",
        "00.cost_breakdown": "From GMV to profit: where the money goes",
        "00.mistake_views_vs_clicks": "Most views is not most orders",
        "00.mistake_roi_no_history": "ROI from little history is a wide guess",
        "00.mistake_refunds": "Refunds: gross ROI hides them",
        "00.mistake_mixing_sites": "Mixing sites reverses the comparison",
        "00.mistake_high_commission": "Higher commission is not more profit",
        "00.mistake_no_ab_test": "Stopping an A/B test early",
        "01.row_accounting": "Rows read, kept and rejected (by reason)",
        "01.coverage": "{site}: clicks by category and creator tier",
        "01.coverage_over_time": "Content per week and site",
        "01.funnel": "Funnel by site: impressions to net GMV",
        "01.rate_distributions": "CTR, CVR and AOV per content piece",
        "02.calibration": "{site}: predicted vs actual CVR",
        "02.commission_response": "{site}: CVR against commission rate",
        "02.cvr_heatmap": "{site}: CVR by tier and category",
        "02.forest_plot": "{site}: what raises or lowers CVR (odds ratios)",
        "03.roi_distribution": "Profit ROI of the plan: the range of outcomes",
        "03.tornado": "Which assumption moves profit ROI most",
        "03.commission_curve": "Profit ROI by commission rate",
        "03.backtest": "Backtest: forecasts against what happened",
        "04.lift_by_tier": "CTR lift vs the US benchmark, by creator tier",
        "04.lift_by_category": "CTR lift vs the US benchmark, by category",
        "04.lift_ecdf_by_tier": "Spread of creators' CTR lift, by tier",
        "04.share_above_by_tier": "Share of creators above the benchmark, by tier",
        "04.funnel": "Funnel by site: impressions, clicks, orders",
        "04.views_vs_ctr": "Video views against CTR",
        "05.recommendations": "{site}: creators to keep, test more or drop",
        "05.cvr": "{site}: creators' CVR against what their tier and category predict",
        "05.net_roi": "{site}: creators' net ROI with intervals",
        "06.change": "{site}: this week against the weeks before",
        "06.decomposition": "{site}: what changed GMV (reach, CTR, CVR, AOV)",
        "06.pit_histogram": "Were past ROI forecasts calibrated?",
    },
    "zh": {
        "00.funnel": "示例活动的联盟转化漏斗",
        "00.cost_breakdown": "从 GMV 到利润：钱花在哪里",
        "00.mistake_views_vs_clicks": "播放量最高不等于订单最多",
        "00.mistake_roi_no_history": "历史数据少时，ROI 预估只是粗略猜测",
        "00.mistake_refunds": "退款：毛 ROI 看不到它",
        "00.mistake_mixing_sites": "混合站点会让结论反转",
        "00.mistake_high_commission": "佣金越高不等于利润越高",
        "00.mistake_no_ab_test": "A/B 测试提前下结论",
        "01.row_accounting": "读取、保留和剔除的行数（按原因）",
        "01.coverage": "{site}：按类目和达人等级的点击量",
        "01.coverage_over_time": "各站点每周内容条数",
        "01.funnel": "各站点转化漏斗：从曝光到净成交额",
        "01.rate_distributions": "每条内容的点击率、转化率和客单价",
        "02.calibration": "{site}：预测转化率与实际转化率",
        "02.commission_response": "{site}：转化率随佣金率的变化",
        "02.cvr_heatmap": "{site}：按达人等级和类目的转化率",
        "02.forest_plot": "{site}：哪些因素提高或降低转化率（优势比）",
        "03.roi_distribution": "计划的利润 ROI：可能结果的范围",
        "03.tornado": "哪个假设对利润 ROI 影响最大",
        "03.commission_curve": "不同佣金率下的利润 ROI",
        "03.backtest": "回测：预估与实际对比",
        "04.lift_by_tier": "点击率提升对比美区基准（按达人等级）",
        "04.lift_by_category": "点击率提升对比美区基准（按类目）",
        "04.lift_ecdf_by_tier": "达人点击率提升的分布（按等级）",
        "04.share_above_by_tier": "高于基准的达人占比（按等级）",
        "04.funnel": "各站点转化漏斗：曝光、点击、订单",
        "04.views_vs_ctr": "视频播放量与点击率",
        "05.recommendations": "{site}：保留、再测和淘汰的达人",
        "05.cvr": "{site}：达人转化率与其等级、类目的预期对比",
        "05.net_roi": "{site}：达人净 ROI 及其区间",
        "06.change": "{site}：本周与前几周对比",
        "06.decomposition": "{site}：GMV 变化来自哪里（触达、点击率、转化率、客单价）",
        "06.pit_histogram": "过去的 ROI 预估准不准？",
    },
}

_SITE_SUFFIX = re.compile(r"(?P<stem>.+)_(?P<site>[A-Z]{2})")


def figure_caption(stem: str, lang: str = "en") -> str:
    """A caption for the figure file ``<notebook>__<name>`` (without ``.png``), in
    ``lang``; a figure the table does not know is captioned by its name."""
    code = check_lang(lang)
    notebook, _, name = str(stem).partition("__")
    number = notebook.split("_", 1)[0]
    table = FIGURE_CAPTIONS[code]
    if f"{number}.{name}" in table:
        return table[f"{number}.{name}"].format(site="")
    m = _SITE_SUFFIX.fullmatch(name)
    if m and f"{number}.{m['stem']}" in table:
        return table[f"{number}.{m['stem']}"].format(site=m["site"])
    return (name or stem).replace("_", " ")


# ------------------------------------------------------------------ tables for people
# Tables a notebook shows whose rows mix kinds of numbers (counts, money, ROI) or whose
# names are model terms: formatted row by row here, so that every cell reads like the
# prose (12,345 · $1,234 · 5.93 % · 1.78), with headers in the report language and no
# index column. The tables written to tables/ keep the raw numbers.
_TABLE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "what": "",
        "term": "Factor",
        "odds_ratio": "Odds ratio",
        "interval": "{level} interval",
        "p_value": "p-value",
        "df": "Degrees of freedom",
        "commission_pp": "commission rate: +1 pp",
        "quantity": "Quantity",
        "mean": "Mean",
        "median": "Median",
        "p_below_1": "P(ROI < 1)",
        "driver": "Assumption",
        "low": "Median ROI at -20 %",
        "high": "Median ROI at +20 %",
        "swing": "Swing",
        "tier": "Creator tier",
        "q025": "2.5 %",
        "q10": "10 %",
        "q90": "90 %",
        "q975": "97.5 %",
    },
    "zh": {
        "what": "",
        "term": "因素",
        "odds_ratio": "优势比",
        "interval": "{level} 区间",
        "p_value": "p 值",
        "df": "自由度",
        "commission_pp": "佣金率：+1 个百分点",
        "quantity": "项目",
        "mean": "均值",
        "median": "中位数",
        "p_below_1": "ROI 低于 1 的概率",
        "driver": "假设",
        "low": "下调 20% 时的 ROI 中位数",
        "high": "上调 20% 时的 ROI 中位数",
        "swing": "变动幅度",
        "tier": "达人等级",
        "q025": "2.5%",
        "q10": "10%",
        "q90": "90%",
        "q975": "97.5%",
    },
}
_COUNT_ROWS = {"impressions", "clicks", "orders", "items_sold", "video_views", "content"}
_ROI_ROWS = {"gross_roi", "net_roi", "profit_roi"}


def _word(key: str, lang: str, **fields: Any) -> str:
    return text(_TABLE_WORDS, key, lang, **fields)


def _styled(frame: pd.DataFrame, numeric: list[str]) -> Any:
    """A Styler without the index column, numbers right-aligned (cells are text already)."""
    from helpers.formats import aligned

    styler = frame.style.hide(axis="index")  # escaped at display (helpers.outputs)
    return aligned(styler, [c for c in numeric if c in frame.columns])


def fit_info_view(info: pd.DataFrame, lang: str = "en") -> Any:
    """The per-site row accounting of the conversion fits (rows = ``FitResult.info()``
    keys, one column per site): counts with thousands separators, the dispersion with
    two decimals, row names in the report language."""
    from helpers import formats as F

    rows = []
    for key, values in info.iterrows():
        fmt = F.ratio if key == "dispersion" else F.count
        rows.append([say(f"02.info_{key}", lang), *[fmt(v) for v in values]])
    sites = [str(c) for c in info.columns]
    return _styled(pd.DataFrame(rows, columns=[_word("what", lang), *sites]), sites)


def term_name(term: str, reference: Mapping[str, Any] | None = None, lang: str = "en") -> str:
    """A model term as the forest plot names it: ``C(tier)[T.mid]`` -> ``tier: mid (vs
    nano)`` (达人等级：mid（对比 nano）), ``commission_rate`` -> ``commission rate: +1 pp``."""
    from helpers.charts.conversion import _pretty_term

    if str(term) == "commission_rate":
        return _word("commission_pp", lang)
    ref = {k: str(v) for k, v in (reference or {}).items()}
    return _pretty_term(str(term), ref, lang)


def coefficient_view(
    table: pd.DataFrame,
    reference: Mapping[str, Any] | None = None,
    *,
    alpha: float = 0.05,
    lang: str = "en",
) -> Any:
    """A conversion fit's coefficients (``FitResult.summary_frame``) for people: each
    factor named as in the forest plot (``tier: mid (vs nano)``), its odds ratio and
    interval (commission per +1 percentage point, as in the plot), p-value and degrees
    of freedom; the intercept left out (it is not a comparison)."""
    from helpers import formats as F

    body = table.drop(index="Intercept", errors="ignore")
    rows = []
    for term, r in body.iterrows():
        scale = 0.01 if str(term) == "commission_rate" else 1.0
        odds, low, high = (
            float(np.exp(r[c] * scale)) for c in ("log_odds", "ci_lower", "ci_upper")
        )
        name = term_name(str(term), reference, lang)
        p = float(r["p_value"])
        df = float(r["df"]) if "df" in r and pd.notna(r["df"]) else float("nan")
        rows.append([
            name,
            F.ratio(odds),
            f"{F.ratio(low)} – {F.ratio(high)}",
            F.pvalue(p),
            F.MISSING if not np.isfinite(df) else f"{df:,.0f}",
        ])  # fmt: skip
    cols = [
        _word("term", lang),
        _word("odds_ratio", lang),
        _word("interval", lang, level=F.pct(1 - alpha, 0)),
        _word("p_value", lang),
        _word("df", lang),
    ]
    return _styled(pd.DataFrame(rows, columns=cols), cols[1:])


def rates_view(used: pd.DataFrame, lang: str = "en") -> Any:
    """03's rates used per tier (columns CTR, CVR, impressions per piece, in that order):
    the rates as percentages, impressions as a count, the tier as a column."""
    from helpers import formats as F

    ctr, cvr, imp = used.columns[:3]
    view = pd.DataFrame({
        _word("tier", lang): [str(t) for t in used.index],
        ctr: used[ctr].map(F.pct).to_numpy(object),
        cvr: used[cvr].map(F.pct).to_numpy(object),
        imp: used[imp].map(F.count).to_numpy(object),
    })  # fmt: skip
    return _styled(view, [ctr, cvr, imp])


def forecast_summary_view(
    summary: pd.DataFrame, site: str | None = None, currency: str | None = None, lang: str = "en"
) -> Any:
    """03's forecast summary (one row per quantity, columns mean, median, quantiles and
    ``p_below_1``) formatted row by row: counts, money in the plan's currency, ROIs with
    two decimals, the chance of ROI < 1 as a percentage (blank where it does not apply)."""
    from helpers import formats as F
    from helpers.i18n import label

    frame = summary.reset_index() if "quantity" not in summary.columns else summary
    stats = [c for c in frame.columns if c not in ("quantity", "p_below_1")]
    rows = []
    for r in frame.itertuples(index=False):
        q = str(r.quantity)
        if q in _COUNT_ROWS:
            fmt = F.count
        elif q in _ROI_ROWS:
            fmt = F.ratio
        else:
            fmt = lambda v: F.money(v, site, currency)  # noqa: E731
        cells = [fmt(getattr(r, c)) for c in stats]
        p = getattr(r, "p_below_1", None)
        name = F.header(q) if check_lang(lang) == "en" else label(q, lang)
        rows.append([name, *cells, F.pct(p, 0) if q in _ROI_ROWS else ""])
    heads = [
        _word("quantity", lang),
        *[_word(c, lang) if c in _TABLE_WORDS["en"] else label(c, lang) for c in stats],
        _word("p_below_1", lang),
    ]
    return _styled(pd.DataFrame(rows, columns=heads), heads[1:])


def sensitivity_view(sensitivity: pd.DataFrame, lang: str = "en") -> Any:
    """03's sensitivity table (``driver``, ``low``, ``high``, ``base``, ``swing``): each
    assumption by the name the tornado chart uses, ROIs with two decimals."""
    from helpers import formats as F
    from helpers.charts.roi import _TEXT as CHART_TEXT

    def name(d: Any) -> str:
        return text(CHART_TEXT, str(d), lang) if str(d) in CHART_TEXT["en"] else str(d)

    heads = [_word(k, lang) for k in ("driver", "low", "high", "swing")]
    view = pd.DataFrame({
        heads[0]: sensitivity["driver"].map(name).to_numpy(object),
        heads[1]: sensitivity["low"].map(F.ratio).to_numpy(object),
        heads[2]: sensitivity["high"].map(F.ratio).to_numpy(object),
        heads[3]: sensitivity["swing"].map(F.ratio).to_numpy(object),
    })  # fmt: skip
    return _styled(view, heads[1:])


# ------------------------------------------------------- conversion warnings, shown
# helpers.conversion warns in English (ConversionWarning); 02 shows each warning in the
# report's language in its warnings note. Templates of the English messages (without
# their final period) and their twins; a message not listed is shown as it was written.
WARNING_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "thin_cr2": "level(s) resting on few creators: {desc} (effective: the number of equally "
        "sized {cluster} groups that would carry as much information; a few carry most of the "
        "clicks when it is much smaller than the count); their intervals use CR2 errors with a t "
        "reference for few creators (column df of summary_frame) and are wide; they rest on a "
        "handful of creators, so read them as rough",
        "thin_cr1": "level(s) resting on few creators: {desc} (effective: the number of equally "
        "sized {cluster} groups that would carry as much information; a few carry most of the "
        "clicks when it is much smaller than the count); CR1 errors are too small for such "
        "levels; use cov_type='CR2' (or 'auto') for bias-reduced errors with a t reference for "
        "few creators",
        "few_clusters": "only {g} clusters ({cluster}): cluster-robust standard errors rest on few "
        "creators and tend to be too small; intervals and p-values use t with {df} degrees of "
        "freedom, and are still best read as optimistic (cov_type='CR2' corrects them)",
        "few_clusters_normal": "only {g} clusters ({cluster}): cluster-robust standard errors rest "
        "on few creators and tend to be too small; intervals and p-values use t with {df} degrees "
        "of freedom only with use_t=True (now normal), and are still best read as optimistic "
        "(cov_type='CR2' corrects them)",
        "rare": "{column}: level(s) {desc} have fewer than {n} {trials}; their coefficients are "
        "imprecise. Pass merge_rare_levels=True to merge them into {other}, or lower "
        "min_trials_per_level",
        "reference": "{column}: the reference level {old} has no usable rows, so {new} is the "
        "reference of the {column2} coefficients",
        "missing": "{n} of {total} rows excluded for missing values in used columns {columns}",
        "no_site": "{n} of {total} rows have no site and are in no site's fit (a site cannot be "
        "guessed); fill the site column (or load the file with site=) to use them",
        "nan_predictions": "{n} of {total} rows have a missing value in {columns}; their "
        "predictions are NaN",
    },
    "zh": {
        "thin_cr2": "以下水平只靠少数达人支撑：{desc}（“有效”指能提供同样信息量的等规模{cluster}组"
        "数；它远小于实际人数时，说明少数达人贡献了大部分点击）；这些水平的区间使用 CR2 误差和适合少数"
        "达人的 t 分布（summary_frame 的 df 列），因此较宽；它们只靠少数几位达人，请当作粗略参考",
        "thin_cr1": "以下水平只靠少数达人支撑：{desc}（“有效”指能提供同样信息量的等规模{cluster}组"
        "数；它远小于实际人数时，说明少数达人贡献了大部分点击）；对这类水平，CR1 误差偏小；请使用 "
        "cov_type='CR2'（或 'auto'），得到偏差校正的误差和适合少数达人的 t 分布",
        "few_clusters": "只有 {g} 个聚类（{cluster}）：聚类稳健标准误只靠少数达人，往往偏小；区间和 "
        "p 值使用自由度为 {df} 的 t 分布，仍应视为偏乐观（cov_type='CR2' 可以校正）",
        "few_clusters_normal": "只有 {g} 个聚类（{cluster}）：聚类稳健标准误只靠少数达人，往往偏小；"
        "只有 use_t=True 时区间和 p 值才使用自由度为 {df} 的 t 分布（现在用的是正态分布），仍应视为"
        "偏乐观（cov_type='CR2' 可以校正）",
        "rare": "{column}：水平 {desc} 的{trials}少于 {n}；它们的系数不精确。可设置 "
        "merge_rare_levels=True 把它们合并为 {other}，或调低 min_trials_per_level",
        "reference": "{column}：参照水平 {old} 没有可用的行，因此 {column2} 系数改以 {new} 为参照",
        "missing": "{total} 行中有 {n} 行因所用列 {columns} 有缺失值而被排除",
        "no_site": "{total} 行中有 {n} 行没有站点，不进入任何站点的模型（站点无法推断）；请填写站点列"
        "（或读取文件时指定 site=）以使用这些行",
        "nan_predictions": "{total} 行中有 {n} 行在 {columns} 中有缺失值；它们的预测值为 NaN",
    },
}

_MODEL_PREFIX = re.compile(r"(CTR|conversion) model: ")
_MODEL_NAMES = {"CTR": "点击率模型：", "conversion": "转化率模型："}
_LEVEL_CREATORS = re.compile(r"(\w+)='([^']*)' \((\d+) \w+, effective ([\d.]+)\)")
_ALL_CREATORS = re.compile(r"all data \((\d+) \w+, effective ([\d.]+)\)")
_LEVEL_TRIALS = re.compile(r"('[^']*') \((\d+) (\w+)\)")


def warning_text(message: str, lang: str = "en") -> str:
    """A warning of :mod:`helpers.conversion` in ``lang`` (see :data:`WARNING_TEXT`),
    levels and column names inside it translated too; English is returned unchanged."""
    from helpers.i18n import label

    code = check_lang(lang)
    if code == "en":
        return message
    prefix = _MODEL_PREFIX.match(message)  # 03's notes name the model a warning came from
    if prefix:
        rest = warning_text(message[prefix.end() :], code)
        return _MODEL_NAMES[prefix[1]] + rest if rest != message[prefix.end() :] else message
    out = translate(message, WARNING_TEXT, code, sep="\0")
    if out.rstrip("。.") == message.rstrip("."):
        return message  # not a known message: as written, never half translated
    out = _LEVEL_CREATORS.sub(
        lambda m: f"{label(m[1], code)} {m[2]}（{m[3]} 位达人，有效 {m[4]} 位）", out
    )
    out = _ALL_CREATORS.sub(lambda m: f"全部数据（{m[1]} 位达人，有效 {m[2]} 位）", out)
    out = _LEVEL_TRIALS.sub(lambda m: f"{m[1]}（{m[2]} {label(m[3], code)}）", out)
    for column in ("tier", "category", "clicks"):
        out = out.replace(f"{column}：", f"{label(column, code)}：").replace(
            f"的{column}", f"的{label(column, code)}"
        )
    for column in ("creator_id", "content_id"):  # the cluster column, inside a sentence
        out = out.replace(f"规模{column}组", f"规模{label(column, code)}组")
        out = out.replace(f"（{column}）", f"（{label(column, code)}）")
    return out


def table_view(
    frame: pd.DataFrame, kinds: Mapping[str, str], lang: str = "en", *, max_rows: int = 20
) -> Any:
    """A table whose columns' kinds the caller knows (where the column names would
    mislead :func:`helpers.formats.show`: in a GMV decomposition ``ctr`` is money).

    Parameters
    ----------
    frame : DataFrame
        The table (its index is dropped).
    kinds : mapping
        Column -> ``"count"``, ``"money"`` (in each row's site currency when the table
        has a ``site`` column), ``"pct"``, ``"signed_pct"``, ``"ratio"``, ``"number"`` or
        ``"label"`` (a kit name such as a metric, said in the report language); other
        columns are written by :func:`helpers.formats.human` (yes/no, dates, text).
    lang : {"en", "zh"}
        Report language of headers and labels.
    max_rows : int
        Rows shown (the full table is in the XLSX).
    """
    from helpers import formats as F
    from helpers.i18n import LABELS, label

    code = check_lang(lang)
    df = frame.head(max_rows).reset_index(drop=True)
    sites = df["site"].astype(str).tolist() if "site" in df.columns else [None] * len(df)

    def name(v: Any) -> str:  # a kit name (metric, status): translated, or written out
        if code != "en":
            return label(v, code)
        return F.header(v) if str(v) in LABELS["zh"] else str(v)

    fmt = {
        "count": F.count, "pct": F.pct, "signed_pct": F.signed_pct, "ratio": F.ratio,
        "number": F.number, "label": name,
    }  # fmt: skip
    shown = pd.DataFrame(index=df.index)
    for col in df.columns:
        kind = kinds.get(str(col))
        if kind == "money":
            values = [F.money(v, s) for v, s in zip(df[col], sites, strict=True)]
        elif kind in fmt:
            values = [fmt[kind](v) for v in df[col]]
        else:
            values = [F.human(v, code) for v in df[col]]
        head = label(col, code) if code != "en" else F.header(col)
        shown[head] = pd.Series(values, index=df.index, dtype=object)
    right = [
        label(c, code) if code != "en" else F.header(c)
        for c in df.columns
        if kinds.get(str(c)) not in (None, "label")
    ]
    return _styled(shown, right)


# The primer's A/A test rows (helpers.glossary.demo_aa_false_positives), as shown.
AA_TESTS: dict[str, dict[str, str]] = {
    "en": {
        "impression": "impression-level (as if each impression were randomised)",
        "video": "video-level (the unit that was randomised)",
    },
    "zh": {
        "impression": "按曝光计（好像每次曝光都是随机分配的）",
        "video": "按视频计（真正随机分配的单位）",
    },
}


def aa_view(aa: pd.DataFrame, lang: str = "en") -> Any:
    """The A/A test of the primer: each way of counting in the report language, the
    false-positive rate as a percentage, the whole text of every cell."""
    code = check_lang(lang)
    english = {v: k for k, v in AA_TESTS["en"].items()}
    view = aa.assign(test=[AA_TESTS[code].get(english.get(str(t), ""), str(t)) for t in aa["test"]])
    return table_view(view, {"false_positive_rate": "pct", "sims": "count", "alpha": "pct"}, code)


def comparison_view(cmp: pd.DataFrame, lang: str = "en") -> Any:
    """06's period comparison (one row per site and metric): ``current``, ``comparison``
    and ``change`` in each metric's own unit (money in the site's currency, rates as
    percentages, counts, ROI), the relative change and its interval as percentages."""
    from helpers import formats as F

    rates = {"ctr", "cvr", "return_rate"}
    money = {"gmv", "net_gmv", "aov", "refunds", "profit"}

    def unit(metric: str, site: str) -> Any:
        if metric in rates:
            return F.pct
        if metric in money or metric.endswith("_gmv"):
            return lambda v: F.money(v, site)
        if metric.endswith("roi"):
            return F.ratio
        return F.count

    def points(v: Any) -> str:  # a difference of two rates is in percentage points
        if F.is_missing(v):
            return F.MISSING
        shown = f"{100 * float(v):+.2f}"
        shown = shown[1:] if float(shown) == 0 else shown  # no "-0.00"
        return f"{shown} {'pp' if check_lang(lang) == 'en' else '个百分点'}"

    view = cmp.copy()
    for col in ("current", "comparison", "change"):
        if col in view:
            view[col] = [
                points(v) if col == "change" and m in rates else unit(str(m), str(s))(v)
                for m, s, v in zip(view["metric"], view["site"], view[col], strict=True)
            ]
    kinds = {"metric": "label", "n_creators": "count"}
    kinds |= dict.fromkeys(("change_pct", "low_pct", "high_pct"), "signed_pct")
    return table_view(view, kinds, lang, max_rows=len(view))
