"""Sentences the notebooks write from code (numbers filled in), in every report language.

The notebooks' prose lives in their Markdown cells (an English cell tagged ``lang-en``
followed by its Chinese twin tagged ``lang-zh``); the sentences a code cell builds
around computed numbers live here, keyed ``"<notebook number>.<name>"``, so that the
notebooks stay thin and a test checks that every sentence exists in every language.
"""

from __future__ import annotations

from typing import Any

from helpers.i18n import text

__all__ = ["say"]

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
        "02.info_n_rows": "n_rows",
        "02.info_n_rows_missing": "n_rows_missing",
        "02.info_n_rows_zero_trials": "n_rows_zero_trials",
        "02.info_n_rows_used": "n_rows_used",
        "02.info_n_clusters": "n_clusters",
        "02.info_n_patterns": "n_patterns",
        "02.info_trials": "trials",
        "02.info_successes": "successes",
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
