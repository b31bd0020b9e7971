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
        # 01 data health
        "01.kept": "{rows:,} content rows kept for site(s) {sites}",
        "01.coverage_title": "{site}: clicks by category and creator tier",
        "01.no_rejected": "No row was rejected.",
        "01.no_issues": "No issues found.",
        # 04 CTR lift
        "04.no_category": "*The data have no product category: the benchmark is the pooled CTR of all "
        "{site} rows, shown as the single category “all”.*",
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
    },
    "zh": {
        "01.kept": "保留 {rows:,} 行内容数据，站点：{sites}",
        "01.coverage_title": "{site}：按类目和达人等级的点击量",
        "01.no_rejected": "没有被剔除的行。",
        "01.no_issues": "没有发现问题。",
        "04.no_category": "*数据中没有商品类目：基准是所有 {site} 行的合并点击率，显示为单一类目“all”。*",
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
