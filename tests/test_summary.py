"""The one-page answer (helpers.summary), numbers for people (helpers.formats), typed XLSX
(helpers.xlsx) and per-site data-health checks; the index on the smoke data."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers import formats as F
from helpers import health, summary
from helpers.i18n import missing_keys
from helpers.xlsx import COUNT, MONEY, PERCENT, SIGNED_PERCENT, write_xlsx

# ------------------------------------------------------------------------ formats


def test_formats_for_people() -> None:
    assert F.money(1234.5, "US") == "$1,234"
    assert F.money(980.5, "UK") == "£980.50"
    assert F.money(1_234_567, "ID") == "1,234,567 IDR"
    assert F.money(-12.5, "US") == "-$12.50"
    assert F.md_money(5, "US") == "\\$5.00"
    assert F.pct(0.0593) == "5.93 %" and F.pct(0.5912) == "59.1 %" and F.pct(0.59, 0) == "59 %"
    assert F.signed_pct(1.5) == "+150 %" and F.signed_pct(-0.12) == "-12 %"
    assert F.count(12345.0) == "12,345" and F.ratio(1.7834) == "1.78"
    for missing in (None, float("nan"), pd.NA):
        assert F.money(missing) == F.pct(missing) == F.count(missing) == F.MISSING
    assert F.human({"micro": 15, "mid": 3}) == "micro: 15, mid: 3"
    assert F.human(None) == F.MISSING and "None" not in F.human([None, 1])


def test_tables_for_people_have_human_headers_and_no_index() -> None:
    frame = pd.DataFrame(
        {
            "site": ["US", "UK"],
            "net_gmv": [1234.5, 99.0],
            "ctr": [0.05, 0.2],
            "p_loss": [0.1, None],
            "settings": [{"micro": 2}, None],
        },  # fmt: skip
        index=[7, 8],
    )
    page = F.show(frame).to_html()
    for head in ("Site", "Net GMV", "CTR", "P(loss)", "Settings"):
        assert f">{head}</th>" in page
    for cell in ("$1,234", "£99.00", "20 %", "micro: 2"):
        assert f">{cell}</td>" in page
    assert "None" not in page and "nan" not in page and ">7</th>" not in page


def test_every_sentence_has_chinese() -> None:
    assert missing_keys(summary._TEXT) == {"zh": []}


# ---------------------------------------------------------------------------- XLSX


def test_xlsx_cells_are_typed_filtered_and_frozen(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "creator_id": ["@shop_girl", '=HYPERLINK("http://x","y")', "+1+1", "plain"],
            "clicks": np.array([1200, 5, 0, 7], dtype="int64"),
            "ctr": [0.05, 0.1, np.nan, 0.02],
            "shrunk_ctr_lift": [0.5, -0.2, 0.0, 1.5],
            "gmv": [1234.5, 0.0, 10.0, 3.0],
            "profit_roi": [1.2, 0.8, np.nan, 2.0],
            "flagged": [True, False, True, False],
        }
    )
    path = write_xlsx(frame, tmp_path / "t.xlsx", sheet_name="scores")
    ws = openpyxl.load_workbook(path)["scores"]
    assert [c.value for c in ws[1]] == list(frame.columns)
    names = [ws.cell(row=r, column=1) for r in range(2, 6)]
    assert [c.value for c in names] == frame["creator_id"].tolist()  # "@" and "=" kept
    assert all(c.data_type == "s" for c in names)  # text, never a formula
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws.cell(row=2, column=2).value == 1200 and ws.cell(row=2, column=2).data_type == "n"
    assert ws.cell(row=4, column=3).value is None  # NaN stays blank, never "nan"
    formats = {
        ws.cell(row=1, column=i).value: ws.cell(row=2, column=i).number_format for i in (2, 3, 4, 5)
    }
    assert formats == {
        "clicks": COUNT,
        "ctr": PERCENT,
        "shrunk_ctr_lift": SIGNED_PERCENT,
        "gmv": MONEY,
    }
    assert ws.cell(row=2, column=7).data_type == "b"
    assert ws.auto_filter.ref == "A1:G5"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width > len("creator_id")


def test_xlsx_text_shaped_like_rich_text_is_written_literally(tmp_path: Path) -> None:
    """xlsxwriter copies text shaped like ``<r>...</r>`` into the file as rich-text XML
    (a blank cell, or the text's own markup): such cells must read back unchanged."""
    from python_calamine import CalamineWorkbook

    texts = ["<r>x</r>", "<r><t>evil</t></r>", "<r> a &amp; <b> </r>", "<r>", "plain"]
    frame = pd.DataFrame({"creator_id": texts, "<r>h</r>": range(len(texts))})
    path = write_xlsx(frame, tmp_path / "rich.xlsx", sheet_name="t")
    ws = openpyxl.load_workbook(path)["t"]
    assert [c.value for c in ws[1]] == ["creator_id", "<r>h</r>"]
    assert [ws.cell(row=r, column=1).value for r in range(2, 7)] == texts
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in range(2, 7))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in rows] == ["creator_id", *texts]


def test_report_table_writes_csv_and_xlsx(tmp_path: Path) -> None:
    from helpers.outputs import ReportOutputs

    out = ReportOutputs(tmp_path, notebook="99_test")
    csv = out.table(pd.DataFrame({"creator_id": ["@a"], "orders": [3]}), "t")
    assert csv.read_text(encoding="utf-8-sig").splitlines()[1] == "'@a,3"  # CSV neutralised
    ws = openpyxl.load_workbook(csv.with_suffix(".xlsx")).active
    assert ws["A2"].value == "@a" and ws["B2"].value == 3  # XLSX typed


# ---------------------------------------------------------------------- data health


def test_outliers_and_thin_groups_are_checked_per_site() -> None:
    n = 40
    df = pd.DataFrame(
        {
            "site": pd.Categorical(["US"] * n + ["UK"] * n),
            "category": pd.Categorical(["beauty"] * n + ["beauty"] * (n - 2) + ["home"] * 2),
            "orders": np.ones(2 * n, dtype="int64"),
            "clicks": np.full(2 * n, 20, dtype="int64"),
            "gmv": np.r_[np.full(n, 20.0), np.full(n, 15.0)],
        }
    )
    df.loc[n + 1, "gmv"] = 400.0  # a UK order 27x the UK beauty median (20x US would not flag)
    issues = health.data_issues(df)
    aov = issues[issues["issue"].str.startswith("AOV")]
    assert aov[["site", "rows"]].values.tolist() == [["UK", 1]]
    thin = issues[issues["issue"].str.contains("category home")]
    assert thin["site"].tolist() == ["UK"] and thin["rows"].tolist() == [2]
    assert thin["share"].iloc[0] == pytest.approx(2 / n)  # share of the site's rows


# -------------------------------------------------------------------------- answers


def _results(nasty: str) -> dict:
    return {
        "01_data_health": {
            "kpis_by_site": {
                "US": {
                    "currency": "USD",
                    "gmv": 12345.0,
                    "net_gmv": 11000.0,
                    "orders": 321,
                    "ctr": 0.0412,
                    "cvr": 0.031,
                    "profit_roi": 1.234,
                    "start": "2026-11-01",
                    "end": "2026-11-30",
                },  # fmt: skip
                "UK": {
                    "currency": "GBP",
                    "gmv": 980.5,
                    "net_gmv": 900.0,
                    "orders": 40,
                    "ctr": 0.02,
                    "cvr": 0.02,
                    "profit_roi": None,
                },  # fmt: skip
            },
            "answer": {
                "rows_read": 100,
                "rows_kept": 97,
                "rows_rejected": 3,
                "top_issues": [{"issue": "AOV more than 10x", "rows": 2, "site": "UK"}],
            },  # fmt: skip
        },
        "03_roi_estimate": {
            "answer": {
                "name": "UK beauty, 20 micro creators at 15 %",
                "site": "UK",
                "currency": "GBP",
                "profit_roi_median": 0.88,
                "profit_roi_q10": 0.4,
                "profit_roi_q90": 1.6,
                "p_loss": 0.59,
                "expected_profit": -120.0,
                "refund_recovery": 1.0,
                "verdict": "nogo",
            }  # fmt: skip
        },
        "05_creator_scorecard": {
            "answer": {
                "US": {
                    "keep": 5,
                    "drop": 4,
                    "test more": 30,
                    "keep_names": [nasty, "@b", "c"],
                    "drop_names": ["x"],
                }
            }  # fmt: skip
        },
    }


def test_compose_per_site_kpis_and_decisions(tmp_path: Path) -> None:
    nasty = "<script>$1</script>"
    (tmp_path / "05_creator_scorecard.html").write_text("x")
    answers = {a.site: a for a in summary.compose(_results(nasty), folder=tmp_path)}
    assert list(answers) == ["UK", "US"]
    us, uk = answers["US"], answers["UK"]
    assert dict(us.kpis)["GMV"] == "$12,345" and dict(us.kpis)["CTR"] == "4.12 %"
    assert dict(uk.kpis)["GMV"] == "£980.50" and dict(uk.kpis)["profit ROI"] == F.MISSING
    assert us.period == "2026-11-01 to 2026-11-30"
    kinds = {a.site: [d.kind for d in a.decisions] for a in answers.values()}
    assert kinds == {"US": ["creators"], "UK": ["plan", "data"]}  # the UK issue on UK only
    plan = uk.decisions[0].sentences[0]
    assert "NO-GO" in plan and "0.88" in plan and "59 %" in plan and "-£120.00" in plan
    assert "AOV" in uk.decisions[-1].sentences[0]
    creators = us.decisions[0]
    assert "keep 5" in creators.sentences[0] and nasty in creators.sentences[0]
    # links only to files that exist in the report folder
    assert creators.links == [("notebook 05", "05_creator_scorecard.html")]
    note = summary.export_note(_results(nasty), folder=tmp_path)
    assert note is not None and "3 of 100 rows rejected" in note.sentences[0]
    zh = summary.compose(_results(nasty), lang="zh")
    assert "不建议投放" in zh[0].decisions[0].sentences[0]
    lines = summary.console_lines(list(answers.values()), note)
    assert lines[0] == " ".join(note.sentences) and lines[1].startswith("[UK · GBP]")
    assert any("NO-GO" in line for line in lines)


def test_notebook_answer_escapes_data_and_dollars() -> None:
    nasty = "<script>$1</script>"
    md = summary.notebook_answer("05", _results(nasty)["05_creator_scorecard"])
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert re.search(r"(?<!\\)\$", md) is None  # no bare dollar: never math
    md = summary.notebook_answer("01", _results(nasty)["01_data_health"])
    assert "\\$12,345" in md and re.search(r"(?<!\\)\$", md) is None


# ------------------------------------------------------------------ index on smoke


def _hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"#]+)', page)]


@pytest.mark.notebook
def test_index_answers_each_site_on_the_smoke_data(tmp_path: Path) -> None:
    from helpers.report import run_report

    result = run_report(
        "params/smoke.yaml", only="01,03,04,05", out=tmp_path, jobs=2, progress=False
    )
    assert result.ok, result.failure_messages()
    folder = result.reports[0].folder
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    sites = sorted(results["01_data_health"]["kpis_by_site"])
    assert len(sites) >= 2
    page = result.index.read_text(encoding="utf-8")
    for site in sites:
        card = page.split(f'id="site-{site}"', 1)[1].split("</section>", 1)[0]
        for label in ("GMV", "net GMV", "orders", "CTR", "CVR", "profit ROI"):
            assert f'<div class="l">{label}</div>' in card
        assert 'class="creators"' in card and 'class="ctr"' in card  # decisions per site
    assert page.count('class="export-note"') == 1 and "rows rejected" in page  # data, once
    plan_site = results["03_roi_estimate"]["answer"]["site"]
    plan_card = page.split(f'id="site-{plan_site}"', 1)[1].split("</section>", 1)[0]
    assert 'class="plan"' in plan_card and "P(loss)" in plan_card
    for href in _hrefs(page):
        assert (folder / href).exists(), href
    assert any(h.endswith(".xlsx") for h in _hrefs(page))
    for table in (folder / "tables").glob("*.xlsx"):  # the index links every XLSX
        assert table.relative_to(folder).as_posix() in _hrefs(page)
    html_03 = (folder / "03_roi_estimate.html").read_text(encoding="utf-8")
    assert (
        "PosixPath" not in html_03
        and "PosixPath" not in (folder / "01_data_health.html").read_text()
    )


@pytest.mark.notebook
def test_each_site_restricts_every_notebook(tmp_path: Path) -> None:
    from helpers.report import run_report

    result = run_report(
        "params/smoke.yaml", only="01,04", each=["site=UK"], out=tmp_path, jobs=2, progress=False
    )
    assert result.ok, result.failure_messages()
    results = result.reports[0].results
    assert set(results["01_data_health"]["kpis_by_site"]) == {"UK"}
    assert set(results["04_ctr_lift"]["answer"]) == {"UK"}
    assert {r["site"] for r in results["04_ctr_lift"]["pooled_lift_by_site"]} == {"UK"}
    top = result.index.read_text(encoding="utf-8")
    assert 'id="site-UK"' in top and 'id="site-US"' not in top
