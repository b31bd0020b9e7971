"""The Chinese edition: every sentence table has a Chinese twin for every English key,
every notebook's prose comes in an English cell and its Chinese twin, the runner shows
only the run's language, and a notebook run with ``lang=zh`` gives a Chinese page whose
charts draw every glyph."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import helpers
from helpers import charts, glossary, i18n, paths
from helpers.report import _one_language, _words

_CJK = re.compile(r"[\u4e00-\u9fff]")
NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))


def _text_tables() -> Iterator[tuple[str, dict]]:
    """Every module-level sentence table of the helpers package (charts included)."""
    for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
        module = importlib.import_module(info.name)
        for attr in ("_TEXT", "NOTE_TEXT", "REASON_TEXT", "_RULES_TEXT"):
            table = getattr(module, attr, None)
            if isinstance(table, dict) and "en" in table:
                yield f"{info.name}.{attr}", table


def test_every_text_table_has_chinese_for_every_english_key() -> None:
    tables = dict(_text_tables())
    # the modules that write what a reader sees must all be there
    for name in (
        "helpers.report",
        "helpers.health",
        "helpers.notebook_text",
        "helpers.charts.health",
        "helpers.charts.lift",
        "helpers.charts.roi",
        "helpers.charts.conversion",
        "helpers.charts.scorecard",
        "helpers.charts.primer",
    ):
        assert f"{name}._TEXT" in tables, f"{name} has no _TEXT table"
    for name in (
        "helpers.roi.NOTE_TEXT",
        "helpers.scorecard.NOTE_TEXT",
        "helpers.health.REASON_TEXT",
    ):
        assert name in tables, name
    for name, table in tables.items():
        assert i18n.missing_keys(table) == {"zh": []}, name
        for key, template in table["zh"].items():
            assert _CJK.search(template) or not _CJK.search(table["en"][key]), (name, key)
            # the same fields in both languages, so a sentence never fails in one of them
            fields = set(re.findall(r"{(\w+)", table["en"][key]))
            assert fields == set(re.findall(r"{(\w+)", template)), (name, key)


def test_glossary_and_metrics_are_explained_in_chinese() -> None:
    table = glossary.glossary_table("zh")
    assert list(table.columns) == ["中文", "English", "释义", "公式"]
    assert len(table) == len(glossary.GLOSSARY)
    assert all(_CJK.search(d) for d in table["释义"])
    campaign = glossary.toy_campaign()
    metrics = glossary.metric_table(campaign, "zh")
    english = glossary.metric_table(campaign)
    assert metrics["数值"].tolist() == english["value"].tolist()  # same numbers
    lines = glossary.worked_examples(campaign, ["CTR", "profit ROI"], "zh").splitlines()
    assert lines[0].startswith("- **点击率**（CTR）= 点击 / 曝光 = ")
    assert "贡献毛利 / 推广成本" in lines[1]


def test_labels_translate_tables_and_write_english_headers_for_people() -> None:
    frame = pd.DataFrame({"site": ["US"], "ctr": [0.02], "my_column": [1], "micro": [2]})
    # known column names read as words; anything else (data used as a header) is untouched
    assert list(i18n.relabel(frame, "en").columns) == ["Site", "CTR", "my_column", "micro"]
    assert list(frame.columns) == ["site", "ctr", "my_column", "micro"]  # a copy
    assert list(i18n.relabel(frame, "zh").columns) == ["站点", "点击率", "my_column", "micro"]
    html = i18n.relabel(frame.style.format({"ctr": "{:.1%}"}), "zh").to_html()
    assert "点击率" in html and "2.0%" in html  # formats stay keyed by the real names
    with pytest.raises(ValueError, match="accepted: en, zh"):
        i18n.label("ctr", "fr")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_prose_comes_in_both_languages(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r'^lang: str = "en"', params.source, re.M), "no lang parameter"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "collect_warnings(lang=lang)" in code
    cells = nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        tags = cell.metadata.get("tags", [])
        assert "lang-en" in tags or "lang-zh" in tags, f"cell {i} is in no language"
        if "lang-en" in tags:
            twin = cells[i + 1]
            assert "lang-zh" in twin.metadata.get("tags", []), f"cell {i} has no Chinese twin"
            assert _CJK.search(twin.source)
            # same headings, so the two editions have the same outline
            assert len(re.findall(r"^#+ ", cell.source, re.M)) == len(
                re.findall(r"^#+ ", twin.source, re.M)
            ), f"cell {i}"
            # "$" in Markdown is math: dollar amounts must not be written with it
            assert "$" not in twin.source


def test_report_keeps_only_the_run_language() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("English", metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_markdown_cell("中文", metadata={"tags": ["lang-zh"]}),
        nbformat.v4.new_code_cell("x = 1"),
    ]
    nb.metadata["papermill"] = {"parameters": {"lang": "zh"}}
    assert [c.source for c in _one_language(nb).cells] == ["中文", "x = 1"]
    nb2 = nbformat.v4.new_notebook()
    nb2.cells = [
        nbformat.v4.new_markdown_cell("English", metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_markdown_cell("中文", metadata={"tags": ["lang-zh"]}),
    ]
    assert [c.source for c in _one_language(nb2).cells] == ["English"]  # default: en
    assert _words("zh")["ok"] == "成功" and _words("en")["ok"] == "ok"


def _render_warnings(fig: Figure) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def _titles(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_charts_speak_chinese_without_missing_glyphs() -> None:
    campaign = glossary.toy_campaign()
    rng = np.random.default_rng(0)
    units = pd.DataFrame(
        {
            "site": np.repeat(["US", "UK"], 60),
            "tier": rng.choice(["nano", "micro", "mid"], 120),
            "category": rng.choice(["beauty", "home"], 120),
            "lift": rng.lognormal(0, 0.5, 120) - 1,
            "shrunk_lift": rng.lognormal(0, 0.3, 120) - 1,
            "eligible": True,
        }
    )
    figures = {
        "primer_funnel": charts.primer_funnel_chart(campaign, lang="zh"),
        "primer_costs": charts.primer_cost_breakdown_chart(campaign, lang="zh"),
        "primer_refunds": charts.primer_refunds_roi_chart(
            glossary.demo_refunds(campaign), lang="zh"
        ),
        "lift_distribution": charts.lift_distribution(units, by="tier", lang="zh"),
        "lift_ecdf": charts.lift_ecdf(units, hue="tier", lang="zh"),
    }
    english = charts.primer_funnel_chart(campaign)
    assert "Funnel: counts" in _titles(english)
    plt.close(english)
    for name, fig in figures.items():
        texts = _titles(fig)
        assert sum(bool(_CJK.search(t)) for t in texts) >= 3, (name, texts)
        # no English sentence left: any text with 3+ lowercase words is a miss
        # (tier and category names are data, and single words)
        leftovers = [t for t in texts if re.search(r"[a-z]+ [a-z]+ [a-z]+", t)]
        assert leftovers == [], (name, leftovers)
        assert _render_warnings(fig) == [], name


def test_notebook_in_chinese(run_notebook) -> None:
    """Notebook 01 with lang=zh on the Chinese smoke export: a Chinese page, no English
    prose cells, Chinese figures, no missing glyphs, and an index in Chinese."""
    folder = run_notebook("01_data_health", {"lang": "zh", "data": "data/smoke/zh"})
    page = (folder / "01_data_health.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    assert "数据体检" in page and "行数核对" in page and "转化漏斗" in page
    assert "Data health: can this export be trusted" not in page
    assert "Row accounting" not in page and "How to read this report" not in page
    assert "missing from font" not in page and "Glyph" not in page
    assert "<th>站点</th>" in page or ">站点<" in page  # table headers in Chinese
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "LinkStar 达人联盟营销报告" in index and "全部 1 个笔记本运行成功" in index
    executed = nbformat.read(folder / "01_data_health.ipynb", as_version=4)
    stderr = "".join(
        o.get("text", "")
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("name") == "stderr"
    )
    assert "missing from font" not in stderr
    assert list((folder / "figures").glob("*.png"))


def test_module_sentences_translate_clause_by_clause() -> None:
    from helpers import roi, scorecard
    from helpers.scorecard import ScorecardRules, recommend

    card = pd.DataFrame(
        {
            "clicks": [50, 150, 400, 900],
            "n_content": [2, 5, 8, 12],
            "profit_roi_low": [np.nan, 0.6, 1.3, 0.2],
            "profit_roi_high": [np.nan, 2.4, 3.0, 0.7],
            "tier": ["nano", "micro", "mid", "macro"],
            "main_category": ["beauty"] * 4,
        }
    )
    reasons = recommend(card, ScorecardRules())["reason"]
    assert reasons.str.contains("clicks").all()  # English as the module writes it
    for reason in reasons:
        zh = i18n.translate(reason, scorecard.NOTE_TEXT, "zh")
        assert zh.endswith("。") and _CJK.search(zh)
        assert not re.search(r"[a-z]+ [a-z]+ [a-z]+", zh), zh  # no English clause left
        assert i18n.translate(reason, scorecard.NOTE_TEXT, "en") == reason
    note = (
        "Assumed 35% of the 20 creators post (post_rate; domain.md: about 30-40 % of gifted "
        "samples lead to a post): samples are paid for every creator, flat fees and sales come "
        "only from those who post."
    )
    zh = i18n.translate(note, roi.NOTE_TEXT, "zh")
    assert zh.startswith("假设 20 位达人中有 35% 会发布") and zh.endswith("。")
    # a sentence no template knows stays as written rather than being mistranslated
    assert i18n.translate("Something new.", roi.NOTE_TEXT, "zh") == "Something new。"
