"""Report languages: one check and one lookup shared by every module that writes text.

Each module keeps its own sentences next to the code that uses them, as a table
``{"en": {...}, "zh": {...}}``; :func:`text` picks the entry for a language and fills
its fields. Keeping the tables beside their code (rather than one global catalogue)
keeps a sentence and the numbers it talks about in one place.

The Chinese wording follows how sellers talk in the seed articles: 达人 (creator),
佣金 (commission), 点击率 (CTR), 转化率 (CVR), 客单价 (AOV), 退货率 (refund rate),
ROI 预估 (ROI forecast), 止损线 (stop-loss line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from helpers.errors import ParameterError

__all__ = ["LANGS", "check_lang", "header", "label", "missing_keys", "relabel", "text", "translate"]

LANGS: tuple[str, ...] = ("en", "zh")


def check_lang(lang: str) -> str:
    """Return ``lang`` if the kit can write it, else raise a ValueError listing the choices.

    Parameters
    ----------
    lang : str
        Language code, ``"en"`` or ``"zh"`` (case and surrounding spaces are ignored).
    """
    code = str(lang).strip().lower()
    if code in ("zh-cn", "zh_cn", "zh-hans", "cn"):
        code = "zh"
    if code not in LANGS:
        raise ParameterError(
            f"lang={lang!r} is not a report language; accepted: {', '.join(LANGS)}"
        )
    return code


def text(table: Mapping[str, Mapping[str, str]], key: str, lang: str = "en", **fields: Any) -> str:
    """The sentence ``key`` of ``table`` in ``lang``, with ``fields`` filled in.

    Falls back to English when a language lacks the key, so a missing translation
    shows English text rather than failing a report (tests check full coverage).

    Parameters
    ----------
    table : mapping
        ``{"en": {key: template}, "zh": {key: template}}``.
    key : str
        Which sentence.
    lang : str
        Report language (see :func:`check_lang`).
    **fields
        Values for the template's ``{name}`` fields (already formatted for people).
    """
    code = check_lang(lang)
    template = table.get(code, {}).get(key)
    if template is None:
        template = table["en"][key]
    return template.format(**fields) if fields else template


def missing_keys(table: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """Keys present in English but absent in another language (for coverage tests)."""
    english = set(table["en"])
    return {code: sorted(english - set(table.get(code, {}))) for code in LANGS if code != "en"}


# Names of the canonical columns and of the kit's computed columns, as a reader sees them
# in table headers and chart axes. One table for every report, so that a column reads the
# same in every notebook; a name not listed is shown as it is (user columns, formulas).
LABELS: dict[str, dict[str, str]] = {
    "en": {},
    "zh": {
        "site": "站点",
        "date": "日期",
        "creator_id": "达人",
        "followers": "粉丝数",
        "tier": "达人等级",
        "category": "类目",
        "product_id": "商品",
        "content_id": "内容",
        "content_type": "内容类型",
        "commission_rate": "佣金率",
        "impressions": "曝光",
        "clicks": "点击",
        "orders": "订单",
        "items_sold": "成交件数",
        "gmv": "GMV（成交额）",
        "refunds": "退款",
        "net_gmv": "净成交额",
        "commission_paid": "佣金支出",
        "sample_cost": "样品成本",
        "flat_fee": "坑位费",
        "video_views": "播放量",
        "ctr": "点击率",
        "cvr": "转化率",
        "aov": "客单价",
        "return_rate": "退货率",
        "CTR": "点击率",
        "CVR": "转化率",
        "AOV": "客单价",
        "content": "内容条数",
        "creators": "达人数",
        "products": "商品数",
        "rows": "行数",
        "stage": "环节",
        "share": "占比",
        "share_of_clicks": "点击占比",
        "issue": "问题",
        "how_to_fix": "怎么改",
        "metric": "指标",
        "value": "数值",
        "setting": "设置项",
        "period": "周期",
        "reason": "原因",
        "read": "读取",
        "kept": "保留",
        "rejected": "剔除",
        "units": "单元数",
        "eligible_units": "达标单元数",
        "benchmark_ctr": "基准点击率",
        "ci_low": "区间下限",
        "ci_high": "区间上限",
        "n_creators": "达人数",
        "design_effect": "设计效应",
        "source": "来源",
        "pooled_lift": "合并提升",
        "pooled_lift_low": "提升下限",
        "pooled_lift_high": "提升上限",
        "reference": "基准组",
        "median_lift": "提升中位数",
        "median_shrunk_lift": "收缩后提升中位数",
        "share_above": "高于基准占比",
        "share_above_low": "占比下限",
        "share_above_high": "占比上限",
        "flag_above": "显著高于",
        "flag_below": "显著低于",
        "share_flag_above": "显著高于占比",
        "share_flag_below": "显著低于占比",
        "lift": "提升",
        "shrunk_lift": "收缩后提升",
        "shrunk_lift_low": "收缩后下限",
        "shrunk_lift_high": "收缩后上限",
        "q_value": "q 值",
        "benchmark_limited": "受基准精度限制",
        "above": "显著高于",
        "below": "显著低于",
        "flag": "标记",
        "median": "中位数",
        "mean": "均值",
        "count": "数量",
        "std": "标准差",
        "min": "最小值",
        "max": "最大值",
        "10%": "10%",
        "50%": "50%",
        "90%": "90%",
        "analysis": "分析",
        "supported": "是否支持",
        "missing": "缺少的列",
        "estimate": "估计值",
        "odds_ratio": "优势比",
        "p_value": "p 值",
        "df": "自由度",
        "quantity": "项目",
        "plan": "计划",
        "main_category": "主类目",
        "n_content": "内容条数",
        "shrunk_ctr_lift": "收缩后点击率提升",
        "shrunk_cvr": "收缩后转化率",
        "expected_cvr": "预期转化率",
        "cvr_flag": "转化率提示",
        "net_roi": "净 ROI",
        "profit_roi": "利润 ROI",
        "profit_roi_median": "利润 ROI 中位数",
        "profit_roi_low": "利润 ROI 下限",
        "profit_roi_high": "利润 ROI 上限",
        "p_loss": "亏损概率",
        "expected_error_cost": "错误决策预期代价",
        "recommendation": "建议",
        "keeps": "保留数",
        "drops": "淘汰数",
        "test_more": "再测数",
        "expected_wrong_keeps": "预计误留人数",
        "expected_loss_wrong_keeps": "误留的预计损失",
        "expected_wrong_drops": "预计误淘汰人数",
        "expected_forgone_wrong_drops": "误淘汰的预计少赚",
        "test_more_loss_if_all_kept": "“再测”全部保留的预计损失",
        "test_more_forgone_if_all_dropped": "“再测”全部淘汰的预计少赚",
        "not distinguishable": "无显著差异",
        "too few impressions": "曝光太少",
        "file": "文件",
        "row": "行号",
        "n_rows": "行数",
        "lift_interval": "提升区间",
        "test": "检验方式",
        "false_positive_rate": "假阳性率",
        "sims": "模拟次数",
        "alpha": "显著性水平",
        "current": "本期",
        "comparison": "对比期",
        "change": "变化",
        "change_pct": "变化率",
        "low_pct": "变化率下限",
        "high_pct": "变化率上限",
        "se_log": "对数标准误",
        "direction": "方向",
        "gmv_comparison": "对比期 GMV",
        "gmv_current": "本期 GMV",
        "reach": "触达",
        "other": "其他",
        "status": "状态",
        "pieces": "内容条数",
        "new": "新增",
        "lost": "流失",
        "actual_roi": "实际 ROI",
        "forecast_median": "预估中位数",
        "error": "误差",
        "pit": "PIT",
        "in_80": "落在 80% 区间内",
        "in_95": "落在 95% 区间内",
        "period_start": "起始日",
        "period_end": "结束日",
        "unit": "对象",
        "weeks": "周数",
        "first_alert_week": "首次提醒周",
        "roi_to_date": "累计利润 ROI",
        "roi_high": "乐观上限",
        "profit_so_far": "累计利润",
        "weekly_cost": "每周成本",
        "cost_so_far": "累计成本",
        "rolling backtest": "滚动回测",
        "past run": "以往运行",
        "keep": "保留",
        "test more": "再测",
        "drop": "淘汰",
        "total": "合计",
        "site_cvr": "站点转化率",
        "test_more_clicks_per_day": "“再测”达人日点击",
        "creators_per_version": "每版本达人数",
        "clicks_per_version": "每版本点击数",
        "days": "天数",
        "what_is_missing": "缺什么",
        "name": "名称",
        "new_category": "新类目",
        "creators_per_tier": "各等级达人数",
        "pieces_per_creator": "每位达人内容条数",
        "impressions_per_piece": "每条内容曝光",
        "unit_cost_rate": "商品成本率",
        "refund_recovery": "退货回收率",
        "post_rate": "发布率",
        "platform_fee_rate": "平台佣金率",
        "ads_spend": "广告预算",
        "currency": "币种",
        "gross_roi": "毛 ROI",
        "contribution": "贡献毛利",
        "profit": "利润",
        "commission": "佣金",
        "promotion_cost": "推广成本",
        "product_cost": "商品成本",
        "platform_fee": "平台佣金",
        "samples": "样品",
        "flat_fees": "坑位费",
        "ads": "广告",
        "q025": "2.5%",
        "q10": "10%",
        "q90": "90%",
        "q975": "97.5%",
        "p_below_1": "低于 1 的概率",
        "cost": "代价",
        "decision": "决策",
    },
}


def label(name: object, lang: str = "en") -> str:
    """How a column or term ``name`` reads in ``lang`` (the name itself when not listed)."""
    return LABELS.get(check_lang(lang), {}).get(str(name), str(name))


# Words that are acronyms or need their own spelling in a header.
_HEADER_WORDS = {
    "ctr": "CTR",
    "cvr": "CVR",
    "gmv": "GMV",
    "aov": "AOV",
    "roi": "ROI",
    "id": "ID",
    "p": "P",
    "q": "q",
    "pct": "%",
    "ci": "CI",
}


_HEADERS = {
    "p_loss": "P(loss)",
    "n_content": "content",
    "how_to_fix": "how to fix",
    "pit": "PIT",
    "se_log": "SE (log)",
    "in_80": "in 80 % interval",
    "in_95": "in 95 % interval",
    "roi_high": "ROI (optimistic)",
    "sims": "simulations",
}


def header(name: Any) -> str:
    """A column name for people: ``"net_gmv"`` -> ``"Net GMV"``, ``"p_loss"`` -> ``"P(loss)"``."""
    if str(name) in _HEADERS:
        name = _HEADERS[str(name)]
    words = [_HEADER_WORDS.get(w.lower(), w) for w in str(name).replace("_", " ").split()]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _shown(name: object, lang: str) -> str:
    """A header for people: the translation, or in English the known column names
    written out (``net_gmv`` -> ``Net GMV``); any other name (data such as a tier or a
    handle used as a column) is left exactly as it is."""
    if check_lang(lang) != "en":
        return label(name, lang)
    if str(name) not in LABELS["zh"]:
        return str(name)
    return header(name)


def relabel(obj: Any, lang: str = "en", *, index: bool = False) -> Any:
    """A table ready to show in ``lang``: its column headers (and index names) translated.

    Takes a DataFrame (returns a renamed copy) or a pandas Styler (headers are relabelled
    at display, HTML-escaped, so the cell formats keyed by column name still apply).
    In English the known column names are written out for people (``net_gmv`` ->
    ``Net GMV``); names the kit does not know (data values) are left as they are.

    Parameters
    ----------
    obj : DataFrame or Styler
        The table to show.
    lang : {"en", "zh"}
        Report language.
    index : bool
        Also translate the row labels that are known names (a table of metrics or plan
        settings); off by default, since row labels are usually data (creator handles).
    """
    if hasattr(obj, "format_index"):  # a Styler: formats stay keyed by the real names
        styled = obj.format_index(lambda name: _shown(name, lang), axis="columns", escape="html")
        if index:
            styled = styled.format_index(
                lambda name: _shown(name, lang), axis="index", escape="html"
            )
        return styled
    renamed = obj.rename(columns=lambda name: _shown(name, lang))
    if index:
        renamed = renamed.rename(index=lambda name: _shown(name, lang))
    names = [_shown(n, lang) if n is not None else None for n in renamed.index.names]
    return renamed.rename_axis(index=names)


_FIELD = re.compile(r"{(\w+)(?:[:!][^}]*)?}")


@lru_cache(maxsize=512)
def _pattern(template: str) -> re.Pattern[str]:
    """A regex matching what ``template.format(...)`` produced, one named group per field."""
    out, pos = [], 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^;]+?)")  # a field never spans clauses
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out), re.S)


def _plain_fields(template: str) -> str:
    """``template`` with its format specs dropped (fields are filled with matched text)."""
    return _FIELD.sub(lambda m: "{" + m.group(1) + "}", template)


def translate(
    sentence: str, table: Mapping[str, Mapping[str, str]], lang: str = "en", *, sep: str = "; "
) -> str:
    """A sentence a module wrote in English, said in ``lang`` through its template table.

    For sentences built deep inside a computation (notes, per-row reasons), where passing
    a language down would mean threading it through every step: the module keeps its
    English templates in ``table["en"]`` and their twins in ``table[lang]``; the sentence
    is matched against each English template and the twin is filled with the matched
    values. A sentence made of clauses joined by ``sep`` is translated clause by clause;
    a clause that matches no template stays as it is (never a wrong translation).

    Parameters
    ----------
    sentence : str
        The English sentence as the module produced it.
    table : mapping
        ``{"en": {key: template}, lang: {key: template}}``; the same keys as for :func:`text`.
    lang : {"en", "zh"}
        Report language; English returns ``sentence`` unchanged.
    sep : str
        Separator between clauses.
    """
    code = check_lang(lang)
    if code == "en" or not sentence:
        return sentence
    end = sentence.endswith(".")
    body = sentence[:-1] if end else sentence
    whole = _match(body, table, code) or _match(sentence, table, code)
    if whole is not None:
        return whole + ("。" if end and code == "zh" else "." if end else "")
    clauses = [_match(c, table, code) or c for c in body.split(sep)]
    joined = "；".join(clauses) if code == "zh" else sep.join(clauses)
    return joined + ("。" if end and code == "zh" else "." if end else "")


def _match(part: str, table: Mapping[str, Mapping[str, str]], code: str) -> str | None:
    for key, template in table["en"].items():
        twin = table.get(code, {}).get(key)
        m = _pattern(template).fullmatch(part) if twin else None
        if m:
            # a field may itself be a templated phrase ("a mid creator mostly in beauty")
            values = {k: _match(v, table, code) or v for k, v in m.groupdict().items()}
            return _plain_fields(twin).format(**values)
    return None
