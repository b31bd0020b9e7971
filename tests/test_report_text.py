"""What a reader sees in the report's language: rejected-row reasons, conversion warnings,
figure captions and notebook titles, tables formatted for people; and, end to end, no
English sentence left on a Chinese page outside code."""

from __future__ import annotations

import html.parser
import re
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from helpers import formats as F
from helpers import notebook_text as T
from helpers.i18n import missing_keys
from helpers.outputs import escape_styler
from helpers.paths import NOTEBOOKS

_CJK = re.compile(r"[\u4e00-\u9fff]")
# An English phrase: three or more words of lower-case letters in a row.
_ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ ,'-]+[a-z][a-z]+){2,}")


def test_every_table_has_chinese_for_every_english_key() -> None:
    for table in (
        T.REASON_KINDS,
        T.REASON_DETAILS,
        T.NOTEBOOK_TITLES,
        T.FIGURE_CAPTIONS,
        T.WARNING_TEXT,
        T._TABLE_WORDS,
    ):
        assert missing_keys(table) == {"zh": []}


# ------------------------------------------------------------------- rejected rows

REASONS = [
    "orders > clicks (9 > 6)",
    "duplicate row (same as row 18548)",
    "creator not in creators export (creator '@c1' on site 'XX' not in "
    "/home/someone/exports/affiliate_creators.xlsx); unknown site ('XX' is not one of US, UK, "
    "GB means UK)",
    "impressions not a number (视频商品曝光次数: 'n/a?' is not a number); missing impressions",
    "clicks negative (-3)",
]


def test_rejection_reasons_read_in_chinese_without_local_paths() -> None:
    for reason in REASONS:
        zh = T.reason_text(reason, "zh")
        assert _CJK.search(zh), zh
        assert not _ENGLISH.search(zh), zh  # no English phrase left
        assert "/home/" not in zh and "/home/" not in T.reason_text(reason, "en")
    assert T.reason_text(REASONS[0], "zh") == "订单 > 点击（9 > 6）"
    assert T.reason_text(REASONS[1], "zh") == "重复行（与第 18548 行相同）"
    assert "affiliate_creators.xlsx" in T.reason_text(REASONS[2], "zh")
    assert T.reason_text(REASONS[1], "en") == REASONS[1]  # English as the loader wrote it
    # a wording the tables do not know stays as written, never half translated
    assert T.reason_text("weird new problem (detail)", "zh") == "weird new problem (detail)"


def test_rejected_rows_are_translated_for_display_only() -> None:
    rejected = pd.DataFrame(
        {
            "file": ["/home/someone/exports/v.csv", "/home/someone/exports/v.csv"],
            "row": [3, 9],
            "reason": REASONS[:2],
            "Creator name": ["@a", "@b"],
        }
    )
    before = rejected.copy()
    view = T.rejected_view(rejected, "zh")
    pd.testing.assert_frame_equal(rejected, before)  # the data keep the loader's text
    assert list(view.columns) == ["file", "row", "reason"]
    assert view["file"].tolist() == ["v.csv", "v.csv"]
    assert view["reason"].tolist() == ["订单 > 点击（9 > 6）", "重复行（与第 18548 行相同）"]


def test_row_accounting_stages_in_chinese() -> None:
    accounting = pd.DataFrame(
        {"stage": ["read", "kept", "rejected", "rejected: duplicate row"], "rows": [10, 9, 1, 1]}
    )
    view = T.accounting_view(accounting, "zh")
    assert view["stage"].tolist() == ["读取", "保留", "剔除", "剔除：重复行"]
    assert T.accounting_view(accounting, "en") is accounting


# ------------------------------------------------------------ conversion warnings


def _thin_data(seed: int = 0) -> pd.DataFrame:
    """Clicks and orders by creator: many nano and micro creators, macro on three."""
    rng = np.random.default_rng(seed)
    tiers = ["nano"] * 30 + ["micro"] * 30 + ["macro"] * 3
    rows = []
    for i, tier in enumerate(tiers):
        for _ in range(4):
            clicks = int(rng.integers(20, 200))
            rows.append(
                {
                    "creator_id": f"@c{i}",
                    "tier": tier,
                    "clicks": clicks,
                    "orders": int(rng.binomial(clicks, 0.05)),
                }
            )
    return pd.DataFrame(rows)


def test_conversion_warnings_are_shown_in_chinese() -> None:
    """The warnings helpers.conversion really raises (not copies of their text) translate."""
    from helpers.conversion import ConversionWarning, fit_conversion

    df = _thin_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConversionWarning)
        fit_conversion(df, "C(tier)", cluster="creator_id", min_trials_per_level=100_000)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConversionWarning)]
    assert any("resting on few creators" in m for m in messages), messages
    assert any("have fewer than" in m for m in messages), messages
    for message in messages:
        zh = T.warning_text(message, "zh")
        assert _CJK.search(zh), message
        assert not re.search(r"resting on|fewer than|their coefficients|effective", zh), zh
        assert T.warning_text(message, "en") == message
        # 03's notes prefix the model's name
        assert T.warning_text(f"CTR model: {message}", "zh").startswith("点击率模型：")
    assert T.warning_text("An unknown warning.", "zh") == "An unknown warning."


# --------------------------------------------------------- captions and titles


def _saved_figure_names() -> set[tuple[str, str]]:
    """(notebook number, figure name) of every out.figure(...) call in the notebooks; a
    name built per site (f"coverage_{s}") is given with a site code."""
    names = set()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for start in (m.end() for m in re.finditer(r"out\.figure\(", source)):
            depth, end = 1, start
            while depth:  # to the call's closing parenthesis
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                end += 1
            name = re.findall(r'f?"([^"]+)"', source[start:end])[-1]
            names.add((path.stem[:2], name.replace("{s}", "US")))
    return names


def test_every_saved_figure_has_a_caption_in_both_languages() -> None:
    names = _saved_figure_names()
    assert len(names) >= 25  # the parse found the notebooks' figures
    for number, name in names:
        stem = f"{number}_x__{name}"
        en, zh = T.figure_caption(stem, "en"), T.figure_caption(stem, "zh")
        assert en != name.replace("_", " "), f"no caption for {number} {name}"
        assert _CJK.search(zh), (number, name, zh)
    assert T.figure_caption("01_data_health__coverage_UK", "zh").startswith("UK：")
    assert T.figure_caption("99_mine__my_chart", "en") == "my chart"  # unknown: its name


def test_notebook_titles() -> None:
    assert T.notebook_title("04_ctr_lift", "zh") == "04 · 点击率提升对比美区"
    assert T.notebook_title("03_roi_estimate") == "03 · ROI estimate"
    assert T.notebook_title("99_mine") == "99_mine"


# ---------------------------------------------------------- tables for people


def test_numbers_for_people_never_scientific() -> None:
    assert F.number(1_374_047.2) == "1,374,047" and F.number(0.012345) == "0.0123"
    assert F.pvalue(5.12e-148) == "< 0.001" and F.pvalue(0.0123) == "0.012"
    assert F.money(-1e-9, "US") == "$0.00"  # never "-$0.00"
    assert F.signed_pct(-0.004) == "0 %" and F.signed_pct(0.02) == "+2 %"  # never "-0 %"
    assert F.signed_pct(17.35) == "+1,735 %"
    assert F.human(np.bool_(True), "zh") == "是" and F.human(False) == "no"
    page = F.show(pd.DataFrame({"q_value": [1e-148], "x": [1.374e6], "ok": [True]})).to_html()
    assert "e-148" not in page and "e+06" not in page and ">yes<" in page


def _html(styler) -> str:
    """The Styler as a kit notebook displays it (every text escaped)."""
    return escape_styler(styler).to_html()


def test_forecast_summary_and_coefficients_are_formatted() -> None:
    summary = pd.DataFrame(
        {
            "quantity": ["impressions", "gmv", "profit_roi"],
            "mean": [20963.9, 1_374_047.2, 1.08],
            "median": [18870.0, 468.2, 1.02],
            "p_below_1": [np.nan, np.nan, 0.49],
        }
    )
    zh = _html(T.forecast_summary_view(summary, "US", None, "zh"))
    for cell in (">曝光<", ">20,964<", ">$1,374,047<", ">利润 ROI<", ">1.08<", ">49 %<"):
        assert cell in zh, cell
    assert "nan" not in zh.lower() and "e+06" not in zh and "level0 row0" not in zh
    en = _html(T.forecast_summary_view(summary, "UK", None, "en"))
    assert ">Profit ROI<" in en and ">£468.20<" in en and ">P(ROI &lt; 1)<" in en

    coef = pd.DataFrame(
        {
            "log_odds": [-3.7, 0.234, 2.86],
            "ci_lower": [-3.8, 0.137, 1.9],
            "ci_upper": [-3.5, 0.331, 3.8],
            "p_value": [0.0, 8e-6, 0.2],
            "df": [np.inf, 73.3, np.inf],
        },
        index=["Intercept", "C(tier)[T.mid]", "commission_rate"],
    )
    page = _html(T.coefficient_view(coef, {"tier": "nano"}, lang="zh"))
    assert "Intercept" not in page and "C(tier)" not in page
    assert "达人等级：mid（对比 nano）" in page and ">1.26<" in page and "&lt; 0.001" in page
    assert "佣金率：+1 个百分点" in page and ">1.03<" in page  # exp(2.86 / 100)


def test_table_view_formats_by_the_kind_given() -> None:
    dec = pd.DataFrame({"site": ["ID", "US"], "ctr": [-9.3e7, -1.2e-8], "in_80": [True, False]})
    page = T.table_view(dec, {"ctr": "money"}, "zh").to_html()
    assert "-93,000,000 IDR" in page and "$0.00" in page and ">是<" in page
    assert ">点击率<" in page and "e+07" not in page and "-$0.00" not in page


# ------------------------------------------------------------------- end to end


class _Text(html.parser.HTMLParser):
    """Visible text outside code, preformatted output, scripts and styles."""

    SKIP = {"script", "style", "pre", "code", "title", "footer"}

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def english_left(page: str) -> list[str]:
    """Texts of a page with an English phrase (3+ lower-case words) outside code; the
    versions line (package names) is not prose."""
    parser = _Text()
    parser.feed(page)
    return [
        t
        for t in parser.parts
        if _ENGLISH.search(t) and not t.startswith(("python ", "Reproducibility"))
    ]


@pytest.mark.notebook
@pytest.mark.parametrize("name", ["01_data_health", "02_conversion_drivers", "03_roi_estimate"])
def test_chinese_pages_have_no_english_sentence(run_notebook, name: str) -> None:
    folder: Path = run_notebook(name, {"lang": "zh", "data": "data/smoke/zh"})
    page = (folder / f"{name}.html").read_text(encoding="utf-8")
    assert english_left(page) == []
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert english_left(index) == []
    assert "<figcaption>" in index and not re.search(r"<figcaption>[a-z ]+</figcaption>", index)


def test_calibration_legend_in_chinese() -> None:
    """The calibration chart's legend says how its intervals were computed in the report
    language (it was the English method text on a Chinese page)."""
    import matplotlib.pyplot as plt

    from helpers.charts.conversion import calibration_plot
    from helpers.conversion import fit_conversion
    from helpers.synth import make_affiliate_data

    data = make_affiliate_data(4000, seed=3, sites=("US",)).data
    fit = fit_conversion(data, "C(tier) + commission_rate", site="US")
    cal = fit.calibration()
    fig = calibration_plot(cal, lang="zh")
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)
    assert "聚类" in legend and "cluster-robust" not in legend, legend
    assert "CR2" in legend or "正态" in legend or "t(" in legend
    assert cal.attrs["interval"].startswith("cluster-robust")  # English for the data
