"""The one-page answer: per site, the period's KPIs and the decisions, with their evidence.

Each notebook saves the few numbers its answer needs in its results file (the
``*_facts`` functions below build them from the analysis objects); the same facts give

- the answer that opens each notebook (:func:`notebook_answer`, Markdown),
- the per-site cards of the report's ``index.html`` (:func:`compose`), each decision
  linked to the notebook and the XLSX behind it,
- the few lines the runner prints after a run (:func:`console_lines`).

So the index never parses HTML and a sentence is written once, in English and Chinese.
Names from the data (creators, categories) stay plain text here: the index template
escapes them, and Markdown output goes through :func:`helpers.outputs.escape_markdown`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import formats as F
from helpers.i18n import check_lang, text

__all__ = [
    "GO_MAX_P_LOSS",
    "NO_GO_MIN_P_LOSS",
    "Decision",
    "SiteAnswer",
    "compose",
    "conversion_facts",
    "console_lines",
    "export_note",
    "health_facts",
    "human",
    "lift_facts",
    "notebook_answer",
    "plan_facts",
    "plan_name",
    "plan_table",
    "scorecard_facts",
    "site_kpis",
]

human = F.human  # a setting for a table cell (no reprs of dicts or None)

GO_MAX_P_LOSS = 0.2
"""A plan is a *go* when the chance it loses money (after product cost, platform fee,
commission, samples and fees) is at most this."""
NO_GO_MIN_P_LOSS = 0.5
"""... and a *no-go* when it is at least this (the median profit ROI is then below 1);
in between: run a small test first."""
TOP_NAMES = 3
"""Names quoted in a decision sentence (the full lists are in the XLSX)."""

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "plan_name": "{site} {category}, {who} creators at {rate}",
        "kpi_gmv": "GMV",
        "kpi_net_gmv": "net GMV",
        "kpi_orders": "orders",
        "kpi_ctr": "CTR",
        "kpi_cvr": "CVR",
        "kpi_profit_roi": "profit ROI",
        "period": "{start} to {end}",
        "plan_go": "Plan “{name}”: GO. Profit ROI median {median} (80 % interval {low} to "
        "{high}), P(loss) {p_loss}; expected profit {profit}.",
        "plan_nogo": "Plan “{name}”: NO-GO. Profit ROI median {median} (80 % interval {low} to "
        "{high}), P(loss) {p_loss}; expected profit {profit}.",
        "plan_test": "Plan “{name}”: TEST SMALL FIRST. Profit ROI median {median} (80 % interval "
        "{low} to {high}), P(loss) {p_loss}; expected profit {profit}.",
        "plan_rule": "Go when P(loss) ≤ {go}, no-go when ≥ {nogo}; refunded items assumed "
        "{recovery} resold.",
        "creators": "Creators: keep {keep}{keep_names}, drop {drop}{drop_names}, test more {test}.",
        "names": " ({names})",
        "ctr_creators": "Creators whose CTR beats {bench} with confidence: {above}{above_names}; "
        "trails it: {below}{below_names}.",
        "ctr_categories": "Categories above {bench}: {above}; below: {below}.",
        "none": "none",
        "ctr_categories_none": "No category's CTR differs from {bench} with confidence.",
        "data_fix": "Data: {rejected} of {read} rows rejected; fix first: {issues}.",
        "data_clean": "Data: {rejected} of {read} rows rejected; no other issue found.",
        "issue_item": "{issue} ({rows})",
        "evidence": "notebook {nb}",
        "full_table": "{name}.xlsx",
        "data_title": "Whole export",
        "site_issues": "Data to check on this site: {issues}.",
        "roi_answer_rule": "The verdict is judged on profit ROI (sales after product cost and "
        "platform fee, over commission, samples and fees; 1 is break-even) and on P(loss), "
        "the chance the campaign loses money.",
        "kpi_line": "{site}: GMV {gmv}, net GMV {net}, {orders} orders, CTR {ctr}, CVR {cvr}, "
        "profit ROI {roi}.",
        "cvr_drivers": "{site}: CVR higher with confidence for {up}; lower for {down}.",
        "cvr_none": "{site}: no tier, category or commission level converts differently from its "
        "reference with confidence.",
        "commission_pp": "commission +1 pp",
    },
    "zh": {
        "plan_name": "{site} {category} 类目，{who} 达人，佣金 {rate}",
        "kpi_gmv": "GMV",
        "kpi_net_gmv": "净 GMV",
        "kpi_orders": "订单数",
        "kpi_ctr": "点击率",
        "kpi_cvr": "转化率",
        "kpi_profit_roi": "利润 ROI",
        "period": "{start} 至 {end}",
        "plan_go": "计划“{name}”：可以投放。利润 ROI 中位数 {median}（80 % 区间 {low} 至 {high}），"
        "亏损概率 {p_loss}；预期利润 {profit}。",
        "plan_nogo": "计划“{name}”：不建议投放。利润 ROI 中位数 {median}（80 % 区间 {low} 至 "
        "{high}），亏损概率 {p_loss}；预期利润 {profit}。",
        "plan_test": "计划“{name}”：先小规模测试。利润 ROI 中位数 {median}（80 % 区间 {low} 至 "
        "{high}），亏损概率 {p_loss}；预期利润 {profit}。",
        "plan_rule": "亏损概率 ≤ {go} 可投放，≥ {nogo} 不建议投放；假设退款商品 {recovery} 可二次销售。",
        "creators": "达人：保留 {keep}{keep_names}，停止合作 {drop}{drop_names}，继续观察 {test}。",
        "names": "（{names}）",
        "ctr_creators": "点击率显著高于 {bench} 基准的达人：{above}{above_names}；"
        "显著低于的：{below}{below_names}。",
        "ctr_categories": "高于 {bench} 基准的类目：{above}；低于的类目：{below}。",
        "none": "无",
        "ctr_categories_none": "没有哪个类目的点击率与 {bench} 基准有显著差异。",
        "data_fix": "数据：{read} 行中 {rejected} 行被拒；优先修复：{issues}。",
        "data_clean": "数据：{read} 行中 {rejected} 行被拒；未发现其他问题。",
        "issue_item": "{issue}（{rows}）",
        "evidence": "报告 {nb}",
        "full_table": "{name}.xlsx",
        "data_title": "整个导出文件",
        "site_issues": "本站点需检查的数据：{issues}。",
        "roi_answer_rule": "结论依据利润 ROI（扣除商品成本和平台佣金后的销售额，除以达人佣金、样品和坑位费；"
        "1 为盈亏平衡）和亏损概率。",
        "kpi_line": "{site}：GMV {gmv}，净 GMV {net}，订单 {orders}，点击率 {ctr}，转化率 {cvr}，"
        "利润 ROI {roi}。",
        "cvr_drivers": "{site}：转化率显著更高的是 {up}；显著更低的是 {down}。",
        "cvr_none": "{site}：没有哪个达人层级、类目或佣金水平的转化率与参照组有显著差异。",
        "commission_pp": "佣金每 +1 个百分点",
    },
}


# ------------------------------------------------------------------ facts (notebooks)


def site_kpis(
    df: pd.DataFrame, *, unit_cost_rate: float = 0.35, platform_fee_rate: float | None = None
) -> dict[str, dict[str, Any]]:
    """The period's KPIs of each site: GMV, net GMV, orders, CTR, CVR, profit ROI.

    Uses :func:`helpers.metrics.campaign_summary` (one site at a time; sites are
    never pooled) with the kit's refund-recovery default.

    Parameters
    ----------
    df : DataFrame
        Canonical frame with ``site`` and the funnel and commission columns.
    unit_cost_rate : float
        Product cost as a share of the price (for profit ROI).
    platform_fee_rate : float, optional
        Referral fee; None uses each site's default.

    Returns
    -------
    dict
        ``{site: {currency, start, end, gmv, net_gmv, orders, ctr, cvr, profit_roi, ...}}``.
    """
    from helpers.metrics import campaign_summary

    out: dict[str, dict[str, Any]] = {}
    for site, part in df.groupby(df["site"].astype(str), sort=True, observed=True):
        try:
            s = campaign_summary(
                part, product_cost_rate=unit_cost_rate, platform_fee_rate=platform_fee_rate
            )
        except (KeyError, ValueError):  # a column the ROI needs is absent: funnel only
            s = {"currency": F.currency_of(site)}
            for col in ("gmv", "refunds", "orders", "clicks", "impressions"):
                if col in part.columns:
                    s[col] = float(part[col].sum())
            s["net_gmv"] = s.get("gmv", float("nan")) - s.get("refunds", 0.0)
            s["ctr"] = s.get("clicks", float("nan")) / max(s.get("impressions", 0.0), 1.0)
            s["cvr"] = s.get("orders", float("nan")) / max(s.get("clicks", 0.0), 1.0)
        keys = ("currency", "gmv", "net_gmv", "orders", "ctr", "cvr", "profit_roi", "net_roi")
        row = {k: s.get(k) for k in keys}
        row["currency"] = row["currency"] or F.currency_of(site)
        if "date" in part.columns and part["date"].notna().any():
            row["start"] = str(pd.Timestamp(part["date"].min()).date())
            row["end"] = str(pd.Timestamp(part["date"].max()).date())
        row["unit_cost_rate"] = unit_cost_rate
        out[str(site)] = row
    return out


def health_facts(loaded: Any, issues: pd.DataFrame) -> dict[str, Any]:
    """Row accounting and the data issues, largest first (for 01's answer)."""
    s = loaded.summary
    top = issues.sort_values("rows", ascending=False) if len(issues) else issues
    return {
        "rows_read": int(s.rows_read),
        "rows_kept": int(s.rows_kept),
        "rows_rejected": int(s.rows_rejected),
        "top_issues": [
            {"issue": str(r.issue), "rows": int(r.rows), "site": str(getattr(r, "site", "") or "")}
            for r in top.head(5).itertuples()
        ],
    }


def plan_name(
    site: str,
    category: str,
    creators_per_tier: Mapping[str, int],
    commission_rate: float,
    lang: str = "en",
) -> str:
    """A plan's label from its settings: ``"UK beauty, 20 micro creators at 15 %"``
    (``"UK beauty 类目，20 位 micro 达人，佣金 15 %"`` in Chinese)."""
    joint = " + " if lang == "en" else "、"
    unit = "" if lang == "en" else " 位"
    who = joint.join(f"{n}{unit} {t}" for t, n in creators_per_tier.items())
    return text(
        _TEXT,
        "plan_name",
        lang,
        site=site,
        category=category,
        who=who,
        rate=F.pct(commission_rate),
    )


def plan_table(plan: Any, lang: str = "en") -> pd.DataFrame:
    """A plan's settings for people: rates as percentages, money in the site's currency,
    mappings and empty settings written out (no reprs of dicts or None); setting names
    in ``lang`` where :data:`helpers.i18n.LABELS` knows them."""
    from helpers.i18n import label

    d = plan.to_dict()
    rows = {}
    for key, value in d.items():
        is_share = key.endswith("_rate") or key == "refund_recovery"
        if is_share and isinstance(value, int | float) and not isinstance(value, bool):
            rows[key] = F.pct(value)
        elif key in ("sample_cost", "flat_fee", "ads_spend", "aov") and value is not None:
            rows[key] = F.money(value, d.get("site"), d.get("currency"))
        else:
            rows[key] = F.human(value, lang)
    return pd.DataFrame(
        {
            label("setting", lang): [label(key, lang) for key in rows],
            label("value", lang): list(rows.values()),
        }
    )


def plan_facts(fc: Any) -> dict[str, Any]:
    """Profit ROI and P(loss) of a forecast (whatever its headline ROI), for the verdict."""
    d = fc.draws
    roi = d["profit_roi"].dropna()
    p_loss = float((d["profit"] < 0).mean())
    verdict = "go" if p_loss <= GO_MAX_P_LOSS else "nogo" if p_loss >= NO_GO_MIN_P_LOSS else "test"
    return {
        "name": fc.plan.name,
        "site": fc.plan.site,
        "currency": fc.plan.currency,
        "profit_roi_median": float(roi.median()) if len(roi) else None,
        "profit_roi_q10": float(roi.quantile(0.1)) if len(roi) else None,
        "profit_roi_q90": float(roi.quantile(0.9)) if len(roi) else None,
        "p_loss": p_loss,
        "expected_profit": float(d["profit"].mean()),
        "refund_recovery": float(fc.plan.refund_recovery),
        "verdict": verdict,
    }


def scorecard_facts(card: pd.DataFrame, top: int = TOP_NAMES) -> dict[str, Any]:
    """Per site: counts per recommendation and the top names to keep and drop (most
    clicks first, as the scorecard is sorted)."""
    out: dict[str, Any] = {}
    for site, g in card.groupby(card["site"].astype(str), sort=True):
        rec = g["recommendation"].astype(str)
        out[site] = {
            "keep": int((rec == "keep").sum()),
            "drop": int((rec == "drop").sum()),
            "test more": int((rec == "test more").sum()),
            "keep_names": g.loc[rec == "keep", "creator_id"].astype(str).head(top).tolist(),
            "drop_names": g.loc[rec == "drop", "creator_id"].astype(str).head(top).tolist(),
        }
    return out


def lift_facts(
    res_creator: Any, by_category: pd.DataFrame | None, benchmark_site: str, top: int = TOP_NAMES
) -> dict[str, Any]:
    """Per site: creators beating / trailing the benchmark with confidence (counts and
    top names) and the categories whose pooled lift interval excludes 0."""
    out: dict[str, Any] = {}
    units = res_creator.units if res_creator is not None else None
    sites: set[str] = set()
    if units is not None:
        sites |= set(units["site"].astype(str))
    if by_category is not None and len(by_category):
        sites |= set(by_category["site"].astype(str))
    for site in sorted(sites):
        row: dict[str, Any] = {"benchmark_site": benchmark_site}
        if units is not None:
            u = units[units["site"].astype(str) == site]
            for flag in ("above", "below"):
                f = u[u["flag"] == flag].sort_values("shrunk_lift", ascending=flag != "above")
                # a creator unit is (site, creator, category): count and name creators once
                names = f["creator_id"].astype(str).drop_duplicates()
                row[f"creators_{flag}"] = int(len(names))
                row[f"creators_{flag}_names"] = names.head(top).tolist()
        if by_category is not None and len(by_category):
            c = by_category[by_category["site"].astype(str) == site]
            if "reference" in c.columns:
                c = c[~c["reference"].fillna(False).astype(bool)]
            above = c[c["pooled_lift_low"] > 0].sort_values("pooled_lift", ascending=False)
            below = c[c["pooled_lift_high"] < 0].sort_values("pooled_lift")
            row["categories_above"] = [
                {"category": str(r.category), "lift": float(r.pooled_lift)}
                for r in above.itertuples()
            ]
            row["categories_below"] = [
                {"category": str(r.category), "lift": float(r.pooled_lift)}
                for r in below.itertuples()
            ]
        out[site] = row
    return out


def _term_label(term: str, lang: str = "en") -> str:
    """``C(tier)[T.mid]`` -> ``tier mid`` (达人等级 mid); other terms as written."""
    import re

    from helpers.i18n import label

    m = re.fullmatch(r"C\((\w+)[^)]*\)\[T\.(.+)\]", term)
    return f"{label(m.group(1), lang)} {m.group(2)}" if m else term


def conversion_facts(fits: Mapping[str, Any], alpha: float = 0.05) -> dict[str, Any]:
    """Per site: the terms whose odds-ratio interval excludes 1, strongest first
    (commission as the odds ratio per +1 percentage point)."""
    out: dict[str, Any] = {}
    for site, fit in fits.items():
        table = fit.summary_frame(alpha).drop(index="Intercept", errors="ignore")
        rows = []
        for term, r in table.iterrows():
            scale = 0.01 if str(term) == "commission_rate" else 1.0  # per +1 pp
            odds = float(np.exp(r["log_odds"] * scale))
            low, high = float(np.exp(r["ci_lower"] * scale)), float(np.exp(r["ci_upper"] * scale))
            if low > 1 or high < 1:
                rows.append({"term": str(term), "label": _term_label(str(term)),
                             "odds_ratio": odds, "low": low, "high": high})  # fmt: skip
        rows.sort(key=lambda x: -abs(np.log(x["odds_ratio"])))
        out[str(site)] = {
            "up": [x for x in rows if x["low"] > 1],
            "down": [x for x in rows if x["high"] < 1],
        }
    return out


def conversion_sentence(
    site: str, f: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str
) -> str:
    """Tiers, categories and commission levels that convert better or worse with confidence."""
    if not f.get("up") and not f.get("down"):
        return text(_TEXT, "cvr_none", lang, site=q(site))

    def terms(rows: list[Mapping[str, Any]]) -> str:
        if not rows:
            return text(_TEXT, "none", lang)
        parts = []
        for r in rows[:TOP_NAMES]:
            label = (
                text(_TEXT, "commission_pp", lang)
                if r["term"] == "commission_rate"
                else _term_label(str(r["term"]), lang)
            )
            parts.append(f"{q(label)} ×{q(F.ratio(r['odds_ratio']))}")
        return ", ".join(parts)

    return text(_TEXT, "cvr_drivers", lang, site=q(site), up=terms(f["up"]), down=terms(f["down"]))


# ------------------------------------------------------------------------- sentences


def _names(names: list[str], total: int, lang: str, q: Callable[[Any], str]) -> str:
    if not names:
        return ""
    shown = ", ".join(q(n) for n in names) + (", …" if total > len(names) else "")
    return text(_TEXT, "names", lang, names=shown)


def plan_sentence(p: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str) -> str:
    """The plan's go/no-go in one sentence, judged on profit ROI and P(loss)."""
    site, cur = p.get("site"), p.get("currency")
    return text(
        _TEXT,
        f"plan_{p.get('verdict', 'test')}",
        lang,
        name=q(p.get("name", "")),
        median=q(F.ratio(p.get("profit_roi_median"))),
        low=q(F.ratio(p.get("profit_roi_q10"))),
        high=q(F.ratio(p.get("profit_roi_q90"))),
        p_loss=q(F.pct(p.get("p_loss"), 0)),
        profit=q(F.money(p.get("expected_profit"), site, cur)),
    )


def plan_rule(p: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str) -> str:
    """The go/no-go rule and the refund assumption, stated."""
    return text(
        _TEXT,
        "plan_rule",
        lang,
        go=q(F.pct(GO_MAX_P_LOSS, 0)),
        nogo=q(F.pct(NO_GO_MIN_P_LOSS, 0)),
        recovery=q(F.pct(p.get("refund_recovery", 1.0), 0)),
    )


def creators_sentence(c: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str) -> str:
    """Keep / drop / test more counts with the top names."""
    return text(
        _TEXT,
        "creators",
        lang,
        keep=q(F.count(c.get("keep", 0))),
        drop=q(F.count(c.get("drop", 0))),
        test=q(F.count(c.get("test more", 0))),
        keep_names=_names(c.get("keep_names", []), c.get("keep", 0), lang, q),
        drop_names=_names(c.get("drop_names", []), c.get("drop", 0), lang, q),
    )


def lift_sentences(
    f: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str
) -> list[str]:
    """Creators and categories whose CTR beats or trails the benchmark with confidence."""
    bench = q(f.get("benchmark_site", "US"))
    out = []
    if "creators_above" in f:
        out.append(
            text(
                _TEXT,
                "ctr_creators",
                lang,
                bench=bench,
                above=q(F.count(f["creators_above"])),
                below=q(F.count(f["creators_below"])),
                above_names=_names(f["creators_above_names"], f["creators_above"], lang, q),
                below_names=_names(f["creators_below_names"], f["creators_below"], lang, q),
            )
        )
    if "categories_above" in f:

        def cats(rows: list[Mapping[str, Any]]) -> str:
            if not rows:
                return text(_TEXT, "none", lang)
            return ", ".join(f"{q(r['category'])} {q(F.signed_pct(r['lift']))}" for r in rows)

        if not f["categories_above"] and not f["categories_below"]:
            out.append(text(_TEXT, "ctr_categories_none", lang, bench=bench))
            return out
        out.append(
            text(
                _TEXT,
                "ctr_categories",
                lang,
                bench=bench,
                above=cats(f["categories_above"]),
                below=cats(f["categories_below"]),
            )
        )
    return out


def data_sentence(h: Mapping[str, Any], lang: str = "en", q: Callable[[Any], str] = str) -> str:
    """Rows rejected and the data issues to fix first."""
    issues = h.get("top_issues") or []
    fields = dict(rejected=q(F.count(h.get("rows_rejected"))), read=q(F.count(h.get("rows_read"))))
    if not issues:
        return text(_TEXT, "data_clean", lang, **fields)
    items = "; ".join(
        text(_TEXT, "issue_item", lang, issue=q(i["issue"]), rows=q(F.count(i["rows"])))
        for i in issues[:3]
    )
    return text(_TEXT, "data_fix", lang, issues=items, **fields)


# ----------------------------------------------------------------------- the index


@dataclass
class Decision:
    """One decision line of a site card: the sentence and where its evidence is."""

    kind: str  # plan, creators, ctr, data
    sentences: list[str]
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, relative href)


@dataclass
class SiteAnswer:
    """What a seller should do on one site: the period's KPIs and the decisions."""

    site: str
    currency: str | None
    period: str
    kpis: list[tuple[str, str]]
    decisions: list[Decision]


def _links(folder: Path | None, prefix: str, lang: str, items: list[str]) -> list:
    """(label, href) for the evidence files that exist (all of them when ``folder`` is
    None): a notebook's HTML is labelled by its number, an XLSX by its table name."""
    out = []
    for rel in items:
        if folder is not None and not (folder / rel).exists():
            continue
        stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if rel.endswith(".html"):
            label = text(_TEXT, "evidence", lang, nb=stem[:2])
        else:
            label = text(_TEXT, "full_table", lang, name=stem.split("__", 1)[-1])
        out.append((label, prefix + rel))
    return out


def _kpis(k: Mapping[str, Any], site: str, lang: str) -> list[tuple[str, str]]:
    cur = k.get("currency")

    def tile(value: Any) -> str:  # the card's header names the currency; tiles keep symbols
        return F.money(value, site, cur, compact=True).removesuffix(f" {cur}")

    return [
        (text(_TEXT, "kpi_gmv", lang), tile(k.get("gmv"))),
        (text(_TEXT, "kpi_net_gmv", lang), tile(k.get("net_gmv"))),
        (text(_TEXT, "kpi_orders", lang), F.count(k.get("orders"))),
        (text(_TEXT, "kpi_ctr", lang), F.pct(k.get("ctr"))),
        (text(_TEXT, "kpi_cvr", lang), F.pct(k.get("cvr"))),
        (text(_TEXT, "kpi_profit_roi", lang), F.ratio(k.get("profit_roi"))),
    ]


def _sites(results: Mapping[str, Any]) -> list[str]:
    found: set[str] = set()
    found |= set(results.get("01_data_health", {}).get("kpis_by_site", {}) or {})
    found |= set(results.get("04_ctr_lift", {}).get("answer", {}) or {})
    found |= set(results.get("05_creator_scorecard", {}).get("answer", {}) or {})
    plan = results.get("03_roi_estimate", {}).get("answer")
    if plan and plan.get("site"):
        found.add(str(plan["site"]))
    return sorted(found)


_EVIDENCE = {
    "plan": ["03_roi_estimate.html", "tables/03_roi_estimate__forecast_summary.xlsx"],
    "creators": ["05_creator_scorecard.html", "tables/05_creator_scorecard__scorecard_{site}.xlsx"],
    "ctr": [
        "04_ctr_lift.html",
        "tables/04_ctr_lift__creators_above_benchmark.xlsx",
        "tables/04_ctr_lift__summary_by_category.xlsx",
    ],
    "data": ["01_data_health.html", "tables/01_data_health__data_issues.xlsx"],
}
"""Where each decision's evidence is, relative to the report folder."""


def _site_decisions(
    site: str, results: Mapping[str, Any], lang: str, link: Callable[[str, str], list]
) -> list[Decision]:
    """The decisions of one site card, in the order a seller acts on them."""
    plan = (results.get("03_roi_estimate") or {}).get("answer")
    lift = (results.get("04_ctr_lift") or {}).get("answer") or {}
    card = (results.get("05_creator_scorecard") or {}).get("answer") or {}
    health = (results.get("01_data_health") or {}).get("answer") or {}
    out = []
    if plan and str(plan.get("site")) == site:
        sentences = [plan_sentence(plan, lang), plan_rule(plan, lang)]
        out.append(Decision("plan", sentences, link("plan", site)))
    if site in card:
        out.append(
            Decision("creators", [creators_sentence(card[site], lang)], link("creators", site))
        )
    if site in lift:
        out.append(Decision("ctr", lift_sentences(lift[site], lang), link("ctr", site)))
    own = [i for i in health.get("top_issues", []) if i.get("site") == site]
    if own:
        items = "; ".join(
            text(_TEXT, "issue_item", lang, issue=i["issue"], rows=F.count(i["rows"])) for i in own
        )
        out.append(
            Decision("data", [text(_TEXT, "site_issues", lang, issues=items)], link("data", site))
        )
    return out


def compose(
    results: Mapping[str, Any],
    *,
    lang: str = "en",
    folder: str | Path | None = None,
    prefix: str = "",
) -> list[SiteAnswer]:
    """The per-site answers of one report, from its merged ``results.json``.

    Parameters
    ----------
    results : mapping
        ``{notebook stem: results}`` (the run's ``results.json``).
    lang : {"en", "zh"}
        Language of the sentences.
    folder : str or Path, optional
        The report folder: links are given only to files that exist there.
    prefix : str
        Prepended to every link (a sub-report's folder, for the top index of ``--each``).

    Returns
    -------
    list of SiteAnswer
        One per site found in any notebook's answer, sorted by site code. Data issues
        of the whole export (rejected rows have no site) are in :func:`export_note`.
    """
    lang = check_lang(lang)
    root = Path(folder) if folder is not None else None

    def link(kind: str, site: str) -> list:
        return _links(root, prefix, lang, [p.format(site=site) for p in _EVIDENCE[kind]])

    kpis = (results.get("01_data_health") or {}).get("kpis_by_site") or {}
    answers = []
    for site in _sites(results):
        k = kpis.get(site, {})
        period = (
            text(_TEXT, "period", lang, start=k["start"], end=k["end"]) if k.get("start") else ""
        )
        decisions = _site_decisions(site, results, lang, link)
        answers.append(SiteAnswer(site, k.get("currency"), period, _kpis(k, site, lang), decisions))
    return answers


def export_note(
    results: Mapping[str, Any],
    *,
    lang: str = "en",
    folder: str | Path | None = None,
    prefix: str = "",
) -> Decision | None:
    """What to fix in the export as a whole: rejected rows and the largest issues."""
    health = (results.get("01_data_health") or {}).get("answer")
    if not health:
        return None
    root = Path(folder) if folder is not None else None
    return Decision(
        "data", [data_sentence(health, lang)], _links(root, prefix, lang, _EVIDENCE["data"])
    )


def console_lines(answers: list[SiteAnswer], note: Decision | None = None) -> list[str]:
    """The same answer as a few plain lines for the terminal."""
    lines = [" ".join(note.sentences)] if note is not None else []
    for a in answers:
        kpis = ", ".join(f"{label} {value}" for label, value in a.kpis)
        head = " · ".join(x for x in (a.site, a.currency, a.period) if x)
        lines.append(f"[{head}] {kpis}")
        for d in a.decisions:
            lines.append("  - " + " ".join(d.sentences))
    return lines


# -------------------------------------------------------------------- notebook answer


def notebook_answer(notebook: str, results: Mapping[str, Any], *, lang: str = "en") -> str:
    """The few sentences that open a notebook (Markdown; data values escaped).

    Parameters
    ----------
    notebook : str
        ``"01"`` ... ``"05"`` or the notebook's stem.
    results : mapping
        That notebook's results (``out.results``), holding its ``answer``.
    lang : {"en", "zh"}
    """
    from helpers.outputs import escape_markdown

    lang = check_lang(lang)
    key = notebook[:2]
    a = results.get("answer") or {}
    q = escape_markdown
    lines: list[str] = []
    if key == "01":
        lines.append(data_sentence(a, lang, q))
        for site, k in (results.get("kpis_by_site") or {}).items():
            lines.append(_kpi_line(site, k, lang, q))
    elif key == "02":
        lines += [conversion_sentence(site, f, lang, q) for site, f in a.items()]
    elif key == "03":
        lines += ["**" + plan_sentence(a, lang, q) + "**", text(_TEXT, "roi_answer_rule", lang)]
        lines.append(plan_rule(a, lang, q))
    elif key == "04":
        for site, f in a.items():
            lines.append(f"**{q(site)}**: " + " ".join(lift_sentences(f, lang, q)))
    elif key == "05":
        for site, c in a.items():
            lines.append(f"**{q(site)}**: " + creators_sentence(c, lang, q))
    return "\n\n".join(lines)


def _kpi_line(site: str, k: Mapping[str, Any], lang: str, q: Callable[[Any], str]) -> str:
    cur = k.get("currency")
    return text(
        _TEXT,
        "kpi_line",
        lang,
        site=q(site),
        gmv=q(F.money(k.get("gmv"), site, cur)),
        net=q(F.money(k.get("net_gmv"), site, cur)),
        orders=q(F.count(k.get("orders"))),
        ctr=q(F.pct(k.get("ctr"))),
        cvr=q(F.pct(k.get("cvr"))),
        roi=q(F.ratio(k.get("profit_roi"))),
    )
