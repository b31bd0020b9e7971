"""Chinese text in the kit's charts: the bundled CJK font is registered on import of
:mod:`helpers.charts`, every Chinese glyph is found (no "Glyph ... missing from font"
warning) and drawn with Noto Sans CJK SC, while Latin text keeps DejaVu Sans."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers import charts
from helpers.charts._style import cjk_font_path

CATEGORIES = ["美妆", "家居", "服饰", "食品"]
TIERS = ["纳米达人", "小达人", "中腰部", "头部"]
TITLE = "点击率提升对比美区"
AXIS_LABEL = "转化率（订单/点击）"
LEGEND = ["保留", "再测", "淘汰"]


def _render(fig: Figure) -> list[str]:
    """Draw ``fig`` to PNG as a report does; return the missing-glyph warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=80)
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def _chinese_texts(fig: Figure) -> list[Text]:
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and any("\u4e00" <= ch <= "\u9fff" for ch in t.get_text())
    ]


def _font_for(char: str, text: Text) -> str:
    """The font file matplotlib's per-glyph fallback draws ``char`` of ``text`` with:
    the first family in the text's list whose font has the glyph."""
    props = text.get_fontproperties()
    for family in props.get_family():
        candidate = props.copy()
        candidate.set_family(family)
        path = font_manager.findfont(candidate, fallback_to_default=False)
        if ord(char) in font_manager.get_font(path).get_charmap():
            return Path(path).name
    return "none"


@pytest.fixture
def units() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 240
    return pd.DataFrame(
        {
            "site": np.repeat(["US", "UK"], n // 2),
            "category": rng.choice(CATEGORIES, n),
            "tier": pd.Categorical(rng.choice(TIERS, n), categories=TIERS),
            "lift": rng.lognormal(0, 0.5, n) - 1,
            "shrunk_lift": rng.lognormal(0, 0.3, n) - 1,
            "eligible": True,
        }
    )


def _forest(units: pd.DataFrame) -> Figure:
    terms = [f"C(category)[T.{c}]" for c in CATEGORIES[1:]] + ["commission_rate"]
    table = pd.DataFrame(
        {"log_odds": [0.2, -0.1, 0.05, 0.8], "ci_lower": [0.1, -0.3, -0.1, 0.2]},
        index=terms,
    ).assign(ci_upper=lambda t: 2 * t["log_odds"] - t["ci_lower"])
    fig = charts.forest_plot(table, per={"commission_rate": 0.01}, reference={"category": "美妆"})
    fig.axes[0].set_title(TITLE)
    fig.axes[0].set_xlabel("优势比（对数刻度）")
    return fig


def _lift(units: pd.DataFrame) -> Figure:
    fig = charts.lift_distribution(units, by="category")
    fig.suptitle(TITLE)
    return fig


def _coverage(units: pd.DataFrame) -> Figure:
    table = units.assign(clicks=1).groupby(["category", "tier"], observed=True).size()
    fig = charts.coverage_heatmap(table.rename("点击").reset_index(), value="点击")
    fig.axes[0].set_xlabel("达人层级")
    return fig


def _counts(units: pd.DataFrame) -> Figure:
    card = units.loc[units["site"] == "US"].assign(
        recommendation=lambda d: np.resize(["keep", "test more", "drop"], len(d))
    )
    fig = charts.scorecard_counts_chart(card)
    ax = fig.axes[0]
    ax.legend(ax.get_legend_handles_labels()[0], LEGEND, title="建议")
    ax.set_ylabel(AXIS_LABEL)
    return fig


CHARTS = {
    "forest_plot": _forest,
    "lift_distribution": _lift,
    "coverage_heatmap": _coverage,
    "scorecard_counts_chart": _counts,
}


@pytest.fixture(params=sorted(CHARTS))
def chinese_figure(request: pytest.FixtureRequest, units: pd.DataFrame) -> Iterator[Figure]:
    fig = CHARTS[request.param](units)
    yield fig
    plt.close(fig)


def test_font_ships_with_the_requirements() -> None:
    path = cjk_font_path()
    assert path is not None and Path(path).is_file()
    assert charts.CJK_FAMILY in {f.name for f in font_manager.fontManager.ttflist}
    assert "noto-cjk-sans-otc==" in (Path(__file__).parents[1] / "requirements.txt").read_text()


def test_chinese_charts_render_without_missing_glyphs(chinese_figure: Figure) -> None:
    texts = _chinese_texts(chinese_figure)
    assert len(texts) >= 3, "the chart should carry Chinese labels, title or legend"
    assert _render(chinese_figure) == []


def test_chinese_glyphs_use_the_cjk_font_and_latin_keeps_dejavu(chinese_figure: Figure) -> None:
    for text in _chinese_texts(chinese_figure):
        for char in {c for c in text.get_text() if "\u4e00" <= c <= "\u9fff"}:
            assert _font_for(char, text) == "NotoSansCJK-Regular.ttc", (char, text.get_text())
    latin = next(t for t in chinese_figure.findobj(Text) if t.get_text()[:1].isascii())
    assert _font_for("A", latin) == "DejaVuSans.ttf"


def test_detector_sees_a_glyph_no_font_has() -> None:
    # U+1F9F4 (lotion bottle emoji) is in neither DejaVu Sans nor Noto Sans CJK:
    # the check above must be able to fail.
    fig, ax = plt.subplots()
    ax.set_title("美妆 \N{LOTION BOTTLE}")
    missing = _render(fig)
    assert missing and all("\N{LOTION BOTTLE}" in m or "129524" in m for m in missing)


def test_font_survives_an_rc_reset() -> None:
    import matplotlib as mpl

    with mpl.rc_context():
        mpl.rcdefaults()
        assert charts.CJK_FAMILY not in mpl.rcParams["font.family"]
        assert charts.use_cjk_font() is True
        assert list(mpl.rcParams["font.family"])[-1] == charts.CJK_FAMILY
        fig, ax = plt.subplots()
        ax.set_title(TITLE)
        assert _render(fig) == []


def test_import_selects_no_backend() -> None:
    # papermill-run notebooks lose their figures when a backend is forced.
    code = (
        "import matplotlib as mpl, helpers.charts; from matplotlib import rcsetup;"
        "print(mpl.rcParams._get('backend') is rcsetup._auto_backend_sentinel)"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "True"
