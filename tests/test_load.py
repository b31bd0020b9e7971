"""helpers.load: reading exports (CSV/XLSX/Parquet/DataFrame), rejections, joins, folders."""

from __future__ import annotations

import ast
import csv
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers import load, paths
from helpers.errors import ExportError
from helpers.load import LoadResult, assemble, load_dataset, read_export
from helpers.schema import CANONICAL_COLUMNS, TIER_DTYPE

EN = {
    "content_id": "Video ID",
    "date": "Post date",
    "creator_id": "Creator name",
    "product_id": "Product ID",
    "site": "Site",
    "followers": "Followers",
    "category": "Category",
    "commission_rate": "Commission rate",
    "impressions": "Video product impressions",
    "clicks": "Video product clicks",
    "orders": "Video-attributed orders",
    "gmv": "Creator-attributed GMV",
}
# Stray spaces, as real Chinese exports have them.
ZH = {
    "content_id": " 视频 ID ",
    "date": "发布日期",
    "creator_id": "达人名称 ",
    "product_id": "商品 ID",
    "site": "站点",
    "followers": "粉丝数",
    "category": "类目",
    "commission_rate": "佣金率",
    "impressions": "视频商品曝光次数",
    "clicks": "视频商品点击量",
    "orders": "归因于视频的订单数",
    "gmv": "达人归因GMV",
}
HEADERS = {"en": EN, "zh": ZH}


def row(**kw: str) -> dict[str, str]:
    base = {
        "content_id": "7300000000000000001",
        "date": "2024-01-05",
        "creator_id": "@alice",
        "product_id": "1729000000000000001",
        "site": "US",
        "followers": "12,000",
        "category": "beauty",
        "commission_rate": "12.5%",
        "impressions": "1,000",
        "clicks": "50",
        "orders": "3",
        "gmv": "$1,234.56",
    }
    base.update(kw)
    return base


GOOD = [
    row(),
    row(
        content_id="7300000000000000002",
        creator_id="@bob",
        followers="500",
        category="home",
        commission_rate="0.15",
        impressions="200",
        clicks="20",
        orders="2",
        gmv="$40.00",
        date="2024-01-06",
    ),
    row(
        content_id="7300000000000000003",
        creator_id="@carl",
        followers="1.2M",
        site="UK",
        commission_rate="20%",
        gmv="£980",
        impressions="5000",
        clicks="100",
        orders="0",
    ),
]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    lang: str = "en",
    encoding: str = "utf-8-sig",
    title_rows: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
) -> Path:
    headers = HEADERS[lang]
    cols = list(rows[0])
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        for t in title_rows:
            w.writerow([t])
        w.writerow([headers.get(c, c) for c in cols] + list(extra or {}))
        for r in rows:
            w.writerow([r[c] for c in cols] + list((extra or {}).values()))
    return path


def write_xlsx(
    path: Path, rows: list[dict[str, str]], lang: str = "en", title_rows: int = 2
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for i in range(title_rows):
        ws.append([f"Affiliate video performance {i}"])
    cols = list(rows[0])
    ws.append([HEADERS[lang][c] for c in cols])
    for r in rows:
        ws.append([r[c] for c in cols])
    wb.save(path)
    return path


def reasons_by_row(result: LoadResult) -> dict[int, str]:
    return dict(
        zip(result.rejected["row"].tolist(), result.rejected["reason"].tolist(), strict=True)
    )


def assert_canonical(df: pd.DataFrame) -> None:
    """Canonical columns in canonical order, then extra columns, then provenance."""
    names = [c for c in CANONICAL_COLUMNS if c in df.columns]
    assert list(df.columns[: len(names)]) == names
    assert list(df.columns[-2:]) == ["source_file", "source_row"]
    assert isinstance(df["source_file"].dtype, pd.CategoricalDtype)
    assert df["source_row"].dtype == "int64"
    for c in df.columns[len(names) : -2]:
        assert c.isidentifier() and c not in CANONICAL_COLUMNS, c
    for c in names:
        want = CANONICAL_COLUMNS[c].dtype
        if want == "tier":
            assert df[c].dtype == TIER_DTYPE
        elif want == "category":
            assert isinstance(df[c].dtype, pd.CategoricalDtype), c
        else:
            assert df[c].dtype == pd.api.types.pandas_dtype(want), (c, df[c].dtype, want)


def same_rows(a: pd.DataFrame, b: pd.DataFrame, *, rows: bool = True) -> None:
    """The same data read from different files: equal but for ``source_file`` (and
    ``source_row`` when the layouts differ) and the extra columns' names."""
    canon = [c for c in CANONICAL_COLUMNS if c in a.columns]
    assert canon == [c for c in CANONICAL_COLUMNS if c in b.columns]
    keep = canon + (["source_row"] if rows else [])
    pd.testing.assert_frame_equal(a[keep], b[keep])


def assert_accounted(result: LoadResult) -> None:
    s = result.summary
    assert s.rows_read == s.rows_kept + s.rows_rejected
    assert len(result.data) == s.rows_kept
    assert len(result.rejected) == s.rows_rejected


# ------------------------------------------------------------------ happy paths


def test_english_csv_with_bom(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "videos.csv", GOOD, extra={"Likes": "5"})
    r = read_export(p)
    assert_canonical(r.data)
    assert_accounted(r)
    assert r.summary.encoding == "utf-8-sig"
    assert r.summary.header_row == 1
    assert r.summary.rows_kept == 3
    assert r.summary.extra_columns == {"Likes": "likes"}
    assert r.data["likes"].tolist() == [5, 5, 5]
    assert r.data["source_row"].tolist() == [2, 3, 4]
    assert r.summary.column_mapping["Creator-attributed GMV"] == "gmv"
    d = r.data
    assert d["gmv"].tolist() == pytest.approx([1234.56, 40.0, 980.0])
    assert d["commission_rate"].iloc[0] == pytest.approx(0.125)
    assert d["commission_rate"].iloc[1] == pytest.approx(0.15)
    assert d["followers"].tolist() == [12000, 500, 1_200_000]
    assert d["tier"].tolist() == ["micro", "nano", "mega"]
    assert d["impressions"].tolist() == [1000, 200, 5000]
    assert d["site"].tolist() == ["US", "US", "UK"]
    assert d["product_id"].iloc[0] == "1729000000000000001"  # 19-digit id kept exactly
    assert (d["refunds"] == 0.0).all()
    assert any("refunds" in n for n in r.summary.notes)


def test_missing_commission_rate_is_rejected_with_reason(tmp_path: Path) -> None:
    r = read_export(
        write_csv(tmp_path / "v.csv", [*GOOD, row(content_id="4", commission_rate="--")])
    )
    assert reasons_by_row(r) == {5: "missing commission_rate"}


def test_gb18030_chinese_headers_equal_english(tmp_path: Path) -> None:
    en = read_export(write_csv(tmp_path / "en.csv", GOOD[:2]))
    zh = read_export(write_csv(tmp_path / "zh.csv", GOOD[:2], lang="zh", encoding="gb18030"))
    assert zh.summary.encoding == "gb18030"
    assert zh.summary.column_mapping["视频 ID"] == "content_id"
    same_rows(en.data, zh.data)


def test_plain_utf8_without_bom(tmp_path: Path) -> None:
    r = read_export(write_csv(tmp_path / "v.csv", GOOD[:2], encoding="utf-8"))
    assert r.summary.encoding == "utf-8"
    assert r.summary.rows_kept == 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_xlsx_with_two_title_rows(tmp_path: Path, lang: str) -> None:
    rows = [*GOOD[:2], row(content_id="9", clicks="abc")]
    r = read_export(write_xlsx(tmp_path / "v.xlsx", rows, lang=lang))
    assert r.summary.header_row == 3
    assert r.summary.rows_kept == 2
    # title rows + header = 3 lines, so data row 3 is spreadsheet row 6
    reasons = reasons_by_row(r)
    assert list(reasons) == [6]
    assert "'abc'" in reasons[6] and reasons[6].startswith("clicks not a number (")
    csv_version = read_export(write_csv(tmp_path / "v.csv", GOOD[:2], lang=lang))
    same_rows(r.data, csv_version.data, rows=False)
    assert r.data["source_row"].tolist() == [4, 5]


def test_csv_with_title_rows_finds_header(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "v.csv", GOOD[:2], title_rows=("Affiliate video performance", "Date range: x")
    )
    r = read_export(p)
    assert r.summary.header_row == 3
    assert r.summary.rows_kept == 2


def test_quirky_values(tmp_path: Path) -> None:
    rows = [
        row(site="ID", gmv="Rp 1.234.567", commission_rate="12.5%"),
        row(content_id="2", site="ID", gmv="Rp 25.000", commission_rate="--", clicks="--"),
        row(content_id="3", site="DE", gmv="1.234,56 €"),
    ]
    r = read_export(write_csv(tmp_path / "v.csv", rows))
    assert r.data["gmv"].tolist() == pytest.approx([1234567.0, 1234.56])
    reasons = reasons_by_row(r)
    assert set(reasons) == {3}
    assert "missing clicks" in reasons[3] and "missing commission_rate" in reasons[3]


def test_api_unit_commission_column(tmp_path: Path) -> None:
    rows = [row(commission_rate="1500"), row(content_id="2", commission_rate="800")]
    r = read_export(write_csv(tmp_path / "v.csv", rows))
    assert r.data["commission_rate"].tolist() == pytest.approx([0.15, 0.08])
    assert any("API units" in n for n in r.summary.notes)


@pytest.mark.parametrize(
    "header", ["Affiliate-attributed GMV", "Creator-attributed GMV", " creator-attributed  gmv "]
)
def test_old_and_new_gmv_names(tmp_path: Path, header: str) -> None:
    df = (
        pd.DataFrame([GOOD[0]])
        .rename(columns=EN)
        .rename(columns={"Creator-attributed GMV": header})
    )
    p = tmp_path / "v.csv"
    df.to_csv(p, index=False)
    r = read_export(p)
    assert r.data["gmv"].iloc[0] == pytest.approx(1234.56)


def test_two_headers_for_one_column_keep_priority(tmp_path: Path) -> None:
    df = pd.DataFrame([GOOD[0]]).rename(columns=EN)
    df.insert(0, "GMV", "$1.00")  # lower alias priority than Creator-attributed GMV
    p = tmp_path / "v.csv"
    df.to_csv(p, index=False)
    r = read_export(p)
    assert r.data["gmv"].iloc[0] == pytest.approx(1234.56)
    assert "GMV" in r.summary.duplicate_columns


def test_column_map(tmp_path: Path) -> None:
    df = (
        pd.DataFrame([GOOD[0]])
        .rename(columns=EN)
        .rename(columns={"Video product clicks": "Klicks"})
    )
    unmapped = read_export(df)  # clicks is optional: the column is kept as an extra
    assert "clicks" not in unmapped.data and unmapped.data["klicks"].iloc[0] == 50
    r = read_export(df, column_map={"Klicks": "clicks"})
    assert r.data["clicks"].iloc[0] == 50
    with pytest.raises(ExportError, match="Did you mean 'clicks'") as err:
        read_export(df, column_map={"Klicks": "klicks"})
    assert "column_map={'Klicks': 'clicks'}" in str(err.value)
    renamed = read_export(df, column_map={"Klicks": "raw_clicks"})  # an extra, renamed
    assert renamed.data["raw_clicks"].iloc[0] == 50
    assert renamed.summary.extra_columns == {"Klicks": "raw_clicks"}
    with pytest.raises(ExportError, match="source_row"):
        read_export(df, column_map={"Klicks": "source_row"})


def test_site_argument_fills_and_disagreement_is_rejected(tmp_path: Path) -> None:
    df = pd.DataFrame(GOOD[:2]).rename(columns=EN)
    # pound amounts: "$" on a UK row would be a currency mismatch
    no_site = df.drop(columns=["Site"]).assign(**{EN["gmv"]: ["£1,234.56", "£40.00"]})
    r = read_export(no_site, site="gb")
    assert r.data["site"].tolist() == ["UK", "UK"]
    mixed = df.copy()
    mixed.loc[1, "Site"] = "UK"
    r2 = read_export(mixed, site="US")
    assert r2.summary.rows_rejected == 1
    assert "site disagrees with site= argument" in r2.rejected["reason"].iloc[0]
    assert "'UK'" in r2.rejected["reason"].iloc[0]
    with pytest.raises(ExportError, match="accepted"):
        read_export(no_site, site="Mars")


def test_explicit_tier_column(tmp_path: Path) -> None:
    df = (
        pd.DataFrame(GOOD[:2] + [row(content_id="x")])
        .rename(columns=EN)
        .drop(columns=["Followers"])
    )
    df["Creator tier"] = ["Nano", "中腰部", "giant"]
    r = read_export(df)
    assert r.data["tier"].tolist() == ["nano", "mid"]
    assert r.data["tier"].dtype == TIER_DTYPE
    reason = r.rejected["reason"].iloc[0]
    assert "'giant'" in reason and "nano" in reason and "mega" in reason and ";" not in reason


def test_tier_from_followers_with_custom_thresholds() -> None:
    df = pd.DataFrame([GOOD[0]]).rename(columns=EN)
    r = read_export(
        df, tiers={"micro": 20_000, "mid": 100_000, "macro": 500_000, "mega": 1_000_000}
    )
    assert r.data["tier"].iloc[0] == "nano"


def test_dataframe_and_parquet_fast_path(tmp_path: Path) -> None:
    base = read_export(write_csv(tmp_path / "v.csv", GOOD[:2])).data
    again = read_export(base)
    pd.testing.assert_frame_equal(again.data, base)
    pq = tmp_path / "canon.parquet"
    base.to_parquet(pq)
    from_pq = read_export(pq)
    pd.testing.assert_frame_equal(from_pq.data, base)
    assert from_pq.summary.encoding == "parquet"


def test_dataframe_messages_say_dataframe() -> None:
    df = pd.DataFrame([GOOD[0]]).rename(columns=EN).drop(columns=["Site"])
    with pytest.raises(ExportError, match="<DataFrame>"):
        read_export(df)


# ------------------------------------------------------------------ broken files


MEASURES = ("impressions", "clicks", "orders", "gmv")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_column_error_names_file_column_and_found(tmp_path: Path, lang: str) -> None:
    rows = [{k: v for k, v in GOOD[0].items() if k not in MEASURES}]
    p = write_csv(tmp_path / "my_export.csv", rows, lang=lang)
    with pytest.raises(ExportError) as err:
        read_export(p)
    msg = str(err.value)
    assert "my_export.csv" in msg
    assert "clicks" in msg and "impressions" in msg
    assert HEADERS[lang]["creator_id"].strip() in msg  # found columns are listed
    assert "column_map" in msg
    # No header looks like a measure: no mapping is suggested (no "ad_id -> clicks").
    assert "column_map={" not in msg


def test_optional_columns_absent_stay_absent() -> None:
    df = pd.DataFrame([GOOD[0]]).rename(columns=EN).drop(columns=["Category", "Commission rate"])
    r = read_export(df)
    assert r.summary.rows_kept == 1
    assert "category" not in r.data and "commission_rate" not in r.data
    assert r.data["refunds"].tolist() == [0.0]  # refunds: 0.0 when absent, with a note
    only = read_export(pd.DataFrame({"Clicks": ["5", "7"]}), site="US")
    assert list(only.data.columns) == ["site", "clicks", "refunds", "source_file", "source_row"]


def test_ambiguous_dates_raise_and_date_format_fixes(tmp_path: Path) -> None:
    rows = [row(date="01/02/2024"), row(content_id="2", date="03/04/2024")]
    p = write_csv(tmp_path / "v.csv", rows)
    with pytest.raises(ExportError) as err:
        read_export(p)
    assert (
        "date_format" in str(err.value)
        and "v.csv" in str(err.value)
        and "Post date" in str(err.value)
    )
    r = read_export(p, date_format="%d/%m/%Y")
    assert r.data["date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-03")]


def test_unparseable_date_is_rejected(tmp_path: Path) -> None:
    rows = [row(), row(content_id="2", date="someday")]
    r = read_export(write_csv(tmp_path / "v.csv", rows))
    reasons = reasons_by_row(r)
    assert list(reasons) == [3] and "'someday'" in reasons[3] and "date" in reasons[3]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(ExportError, match="empty"):
        read_export(p)


def test_header_only_file(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text(",".join(EN.values()) + "\n", encoding="utf-8")
    r = read_export(p)
    assert len(r.data) == 0 and r.summary.rows_read == 0
    assert_canonical(r.data)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found"):
        read_export(tmp_path / "nope.csv")
    p = tmp_path / "v.json"
    p.write_text("{}")
    with pytest.raises(ExportError, match="accepted"):
        read_export(p)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_rejections_with_reasons_and_row_numbers(tmp_path: Path, lang: str) -> None:
    rows = [
        row(),  # line 2: kept
        row(content_id="2", impressions="10", clicks="20", orders="1"),  # 3
        row(content_id="3", clicks="2", orders="5"),  # 4
        row(content_id="4", orders="-1"),  # 5
        row(content_id="5", commission_rate="95%"),  # 6
        row(content_id="6", site="XX"),  # 7
        row(),  # 8: duplicate of line 2
        row(content_id="8", clicks="abc"),  # 9
        row(content_id="9", impressions="10", clicks="20", orders="30"),  # 10: two reasons
        row(content_id="10", orders="2.5"),  # 11
    ]
    p = write_csv(tmp_path / "v.csv", rows, lang=lang)
    r = read_export(p)
    assert_accounted(r)
    assert r.summary.rows_read == 10 and r.summary.rows_kept == 1
    reasons = reasons_by_row(r)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert reasons[3] == "clicks > impressions (20 > 10)"
    assert reasons[4] == "orders > clicks (5 > 2)"
    assert reasons[5] == "orders negative (-1)"
    assert reasons[6] == "commission rate outside 0-80 % (0.95)"
    assert reasons[7].startswith("unknown site ('XX'") and "US" in reasons[7]
    assert reasons[8] == "duplicate row (same as row 2)"
    assert "'abc' is not a number" in reasons[9] and HEADERS[lang]["clicks"] in reasons[9]
    assert reasons[10] == "clicks > impressions (20 > 10); orders > clicks (30 > 20)"
    assert reasons[11] == "orders not a whole number (2.5)"
    by = r.summary.rejected_by_reason
    assert by["clicks > impressions"] == 2 and by["duplicate row"] == 1
    # every reason reads "<kind> (<detail>)", and the kinds are what the summary counts
    kinds = [part.split(" (")[0] for text in reasons.values() for part in text.split("; ")]
    assert set(kinds) == set(by)
    assert sum(by.values()) == len(kinds)
    # rejected rows keep the original raw values and headers
    assert r.rejected.loc[r.rejected["row"] == 9, HEADERS[lang]["clicks"]].iloc[0] == "abc"


def test_blank_and_malformed_lines(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "v.csv", GOOD[:2])
    text = p.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    lines.insert(2, "")  # blank line 3
    lines.append("Total,3")  # a footer with too few fields: line 5
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = read_export(p)
    assert_accounted(r)
    assert r.summary.blank_rows == 1
    assert r.summary.rows_kept == 2
    reasons = reasons_by_row(r)
    assert list(reasons) == [5] and reasons[5].startswith("malformed line (2 field(s)")


def test_input_file_untouched(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "v.csv", [*GOOD, row(clicks="abc")])
    before = p.read_bytes()
    os.utime(p, (1_000_000_000, 1_000_000_000))
    mtime = p.stat().st_mtime_ns
    read_export(p)
    load_dataset(tmp_path)
    assert p.read_bytes() == before
    assert p.stat().st_mtime_ns == mtime


def test_report_and_repr() -> None:
    r = read_export(pd.DataFrame([GOOD[0], row(clicks="x")]).rename(columns=EN))
    text = repr(r)
    assert "kept 1" in text and "rejected 1" in text and "not a number" in text
    assert "<pre>" in r._repr_html_()
    assert r.summary["rows_kept"] == 1
    assert r.summary.to_dict()["rows_read"] == 2


# --------------------------------------------------------------------- assemble


def _split_exports(tmp_path: Path) -> tuple[Path, Path, Path]:
    vids = pd.DataFrame(
        {
            "Creator name": ["@a", "@b", "@zed", "@a"],
            "Product ID": ["p1", "p2", "p1", "p9"],
            "Video product impressions": ["100", "200", "300", "400"],
            "Video product clicks": ["10", "20", "30", "40"],
            "Video-attributed orders": ["1", "2", "3", "4"],
            "Creator video-attributed GMV": ["$10", "$20", "$30", "$40"],
        }
    )
    cre = pd.DataFrame({"Creator name": ["@a", "@b"], "Followers": ["1,000", "200K"]})
    prod = pd.DataFrame(
        {
            "Product ID": ["p1", "p2"],
            "Category": ["beauty", "home"],
            "Commission rate": ["10%", "20%"],
        }
    )
    paths_ = tmp_path / "videos.csv", tmp_path / "creators.csv", tmp_path / "products.csv"
    for df, p in zip((vids, cre, prod), paths_, strict=True):
        df.to_csv(p, index=False)
    return paths_


def test_assemble_joins_and_counts_failures(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    r = assemble(v, c, p, site="US")
    assert_accounted(r)
    assert_canonical(r.data)
    assert r.summary.rows_read == 4 and r.summary.rows_kept == 2
    assert r.data["tier"].tolist() == ["nano", "mid"]
    assert r.data["commission_rate"].tolist() == pytest.approx([0.1, 0.2])
    reasons = reasons_by_row(r)
    assert reasons[4].startswith("creator not in creators export (creator '@zed'")
    assert reasons[5].startswith("product not in products export (product 'p9'")
    assert r.summary.rejected_by_reason["creator not in creators export"] == 1
    assert r.summary.rejected_by_reason["product not in products export"] == 1


def test_assemble_duplicate_lookup_keys_raise(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    pd.DataFrame({"Creator name": ["@a", "@b", "@a"], "Followers": ["1", "2", "3"]}).to_csv(
        c, index=False
    )
    with pytest.raises(ExportError) as err:
        assemble(v, c, p, site="US")
    msg = str(err.value)
    assert "creators.csv" in msg and "@a" in msg and "row 2" in msg and "row 4" in msg


def test_assemble_accepts_frames_and_results(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    r1 = assemble(
        pd.read_csv(v, dtype=str), pd.read_csv(c, dtype=str), pd.read_csv(p, dtype=str), site="US"
    )
    r2 = assemble(v, c, p, site="US")
    same_rows(r1.data, r2.data, rows=False)
    assert r1.data["source_file"].unique().tolist() == ["<DataFrame>"]
    assert r2.data["source_file"].unique().tolist() == [v.name]


def _one_workbook(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """The split exports (CSV), and their videos and creators as two sheets of one
    workbook after a notes sheet: ``(book, videos, creators, products)``."""
    v, c, p = _split_exports(tmp_path)
    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xw:
        pd.DataFrame({"Notes": ["exported 2026-11-30"]}).to_excel(
            xw, sheet_name="Notes", index=False
        )
        pd.read_csv(v, dtype=str).to_excel(xw, sheet_name="Videos", index=False)
        pd.read_csv(c, dtype=str).to_excel(xw, sheet_name="Creators", index=False)
    return book, v, c, p


def test_assemble_and_read_export_take_a_sheet_per_file(tmp_path: Path) -> None:
    from helpers.io.spec import DataSpec, SpecFile

    book, v, c, p = _one_workbook(tmp_path)
    want = assemble(v, c, p, site="US")
    pairs = assemble([(book, "Videos")], [(str(book), "Creators")], p, site="US")
    specs = assemble([SpecFile(book, "Videos")], [SpecFile(book, 2)], [SpecFile(p)], site="US")
    default = assemble([book], [(book, "Creators")], p, site="US", sheet="Videos")
    for r in (pairs, specs, default):
        assert_accounted(r)
        same_rows(r.data, want.data, rows=False)
        assert r.summary.rows_kept == 2 and r.summary.rows_rejected == 2
    one = read_export(SpecFile(book, "Videos"), site="US")
    assert one.data.equals(read_export((book, "Videos"), site="US").data)
    assert one.data.equals(read_export(book, site="US", sheet="Videos").data)
    assert read_export(SpecFile(book, None), site="US", sheet=1).data.equals(one.data)
    assert load.export_role(book) == "videos"  # the first sheet with a known header
    assert load.export_role(book, sheet="Notes") is None
    assert load.export_role(book, sheet="Videos") == "videos"
    assert load.export_role(book, sheet="Creators") == "creators"
    # A spec's entries (SpecFile: path, sheet, role) go to assemble as they are.
    (tmp_path / "data.yaml").write_text(
        "files:\n  - {path: book.xlsx, sheet: Videos}\n"
        "  - {path: book.xlsx, sheet: Creators, role: creators}\n"
        "  - {path: products.csv, role: products}\nsite: US\n"
    )
    entries = DataSpec.resolve(tmp_path).entries()
    by_role = {r: [e for e in entries if (e.role or "videos") == r] for r in ("videos", "creators")}
    r = assemble(by_role["videos"], by_role["creators"], [entries[2]], site="US")
    same_rows(r.data, want.data, rows=False)


def test_assemble_without_join_key_raises(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    vids = pd.read_csv(v, dtype=str).drop(columns=["Product ID"])
    with pytest.raises(ExportError, match="product_id"):
        assemble(vids, c, p, site="US")


# ------------------------------------------------------------------ load_dataset


def test_load_dataset_folder_and_file(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    (tmp_path / "truth.json").write_text("{}")
    r = load_dataset(tmp_path, site="US")
    assert r.summary.rows_kept == 2
    single = load_dataset(write_csv(tmp_path / "sub.csv", GOOD[:2]))
    assert single.summary.rows_kept == 2


def test_load_dataset_identifies_files_by_headers(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    v.rename(tmp_path / "week1.csv")
    c.rename(tmp_path / "a.csv")
    p.rename(tmp_path / "b.csv")
    r = load_dataset(tmp_path, site="US")
    assert r.summary.rows_kept == 2 and r.summary.rows_read == 4


def test_load_dataset_concatenates_weekly_videos(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    df = pd.read_csv(v, dtype=str)
    df.iloc[:2].to_csv(tmp_path / "videos_w1.csv", index=False)
    df.iloc[2:].to_csv(tmp_path / "videos_w2.csv", index=False)
    v.unlink()
    r = load_dataset(tmp_path, site="US")
    assert r.summary.rows_read == 4 and r.summary.rows_kept == 2
    assert len(r.summary.parts) == 2
    rej = r.rejected.set_index("row")
    # row numbers are per file: both rejects are in the second weekly file
    assert set(rej["file"].map(lambda f: Path(f).name)) == {"videos_w2.csv"}
    assert sorted(rej.index) == [2, 3]


def test_load_dataset_folder_without_videos(tmp_path: Path) -> None:
    _, c, _ = _split_exports(tmp_path)
    (tmp_path / "videos.csv").unlink()
    with pytest.raises(ExportError) as err:
        load_dataset(tmp_path)
    assert "no video export" in str(err.value) and "creators.csv" in str(err.value)


def test_load_dataset_relative_path_and_missing() -> None:
    with pytest.raises(ExportError, match="no such file or folder"):
        load_dataset("data/does-not-exist")


# ----------------------------------------------------------------- bundled sample


@pytest.mark.skipif(not (paths.SMOKE_DATA / "zh").exists(), reason="data/smoke not generated yet")
def test_smoke_english_and_chinese_read_the_same() -> None:
    en = load_dataset("data/smoke")
    zh = load_dataset("data/smoke/zh")
    assert_accounted(en)
    assert_accounted(zh)
    same_rows(en.data, zh.data, rows=False)


@pytest.mark.slow
@pytest.mark.skipif(not (paths.SAMPLE_DATA / "zh").exists(), reason="data/sample not generated yet")
def test_sample_english_and_chinese_read_the_same_and_match_synth() -> None:
    from helpers.synth import FLAWED_ROWS, make_affiliate_data

    en = load_dataset("data/sample")
    zh = load_dataset("data/sample/zh")
    assert_accounted(en)
    assert en.summary.rows_read == len(en.data) + len(en.rejected)
    same_rows(en.data, zh.data, rows=False)
    generated = json.loads((paths.SAMPLE_DATA / "truth.json").read_text(encoding="utf-8"))
    truth_rows = make_affiliate_data(generated["n_rows"], seed=generated["seed"]).data
    # The export adds a few faulty rows (synth.FLAWED_ROWS); each is rejected, none kept.
    assert en.summary.rows_rejected == sum(FLAWED_ROWS.values())
    canon = list(CANONICAL_COLUMNS)
    pd.testing.assert_frame_equal(en.data[canon], truth_rows, check_categorical=False)


def test_semicolon_csv_with_european_numbers(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    header = ";".join(EN[c] for c in GOOD[0])
    values = row(site="DE", gmv="1.234,56 €", commission_rate="12,5%", impressions="1.000")
    p.write_text(header + "\n" + ";".join(values.values()) + "\n", encoding="utf-8")
    r = read_export(p)
    assert r.summary.rows_kept == 1
    assert r.data["gmv"].iloc[0] == pytest.approx(1234.56)
    assert r.data["commission_rate"].iloc[0] == pytest.approx(0.125)
    assert r.data["impressions"].iloc[0] == 1000


def test_lookup_row_rejected_is_explained_on_the_video_row(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    pd.DataFrame({"Creator name": ["@a", "@b"], "Followers": ["1,000", "lots"]}).to_csv(
        c, index=False
    )
    r = assemble(v, c, p, site="US")
    assert_accounted(r)
    reasons = reasons_by_row(r)
    assert reasons[3].startswith("creator not in creators export (creator '@b'")
    assert "'lots' is not a number" in reasons[3] and "row 3" in reasons[3]


def test_rows_repeated_across_weekly_files_are_rejected(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    df = pd.read_csv(v, dtype=str)
    df.iloc[:2].to_csv(tmp_path / "videos_w1.csv", index=False)
    df.iloc[1:2].to_csv(tmp_path / "videos_w2.csv", index=False)  # overlaps week 1
    v.unlink()
    r = load_dataset(tmp_path, site="US")
    assert_accounted(r)
    assert r.summary.rows_read == 3 and r.summary.rows_kept == 2
    reason = r.rejected["reason"].iloc[0]
    assert (
        reason.startswith("duplicate row (same values as row 3 in ") and "videos_w1.csv" in reason
    )


def test_xlsx_numeric_and_date_cells(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([])  # a blank first row: Excel row numbers must still be right
    ws.append([EN[c] for c in GOOD[0]])
    values = dict(GOOD[0])
    values.update(
        impressions=1000,
        clicks=50,
        orders=3,
        gmv=1234.56,
        commission_rate=0.125,
        followers=12000,
        date=dt.datetime(2024, 1, 5),
    )
    ws.append([values[c] for c in GOOD[0]])
    bad = dict(values, content_id="2", clicks="abc")
    ws.append([bad[c] for c in GOOD[0]])
    p = tmp_path / "v.xlsx"
    wb.save(p)
    r = read_export(p)
    assert r.summary.header_row == 2
    d = r.data
    assert d["impressions"].iloc[0] == 1000 and d["gmv"].iloc[0] == pytest.approx(1234.56)
    assert d["commission_rate"].iloc[0] == pytest.approx(0.125)
    assert d["date"].iloc[0] == pd.Timestamp("2024-01-05")
    assert reasons_by_row(r).keys() == {4}


# ------------------------------------------------------------- fast paths, same results


def test_gb18030_bytes_after_an_ascii_head_are_decoded(tmp_path: Path) -> None:
    """UTF-8 is checked on the file's head in Python and on the body by Arrow: a
    GB18030 file whose first few hundred kB are plain ASCII is still read as GB18030."""
    rows = [row(content_id=str(i)) for i in range(4000)]
    rows.append(row(content_id="last", category="美妆"))
    p = write_csv(tmp_path / "v.csv", rows, encoding="gb18030")
    assert p.stat().st_size > 4 * 65536
    r = read_export(p)
    assert r.summary.encoding == "gb18030"
    assert r.summary.rows_kept == len(rows)
    assert r.data["category"].iloc[-1] == "美妆"
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")


def test_validation_precheck_flags_exactly_the_rows_pandera_fails() -> None:
    """pandera runs only on the rows the vectorised pre-check flags: the pre-check must
    flag every row the full schema would fail (and no other)."""
    import numpy as np
    import pandera.pandas as pa

    from helpers.load import _validation_precheck, validation_schema

    rng = np.random.default_rng(3)
    n = 400

    def col(scale: float) -> np.ndarray:
        v = rng.integers(0, 100, n).astype(float) * scale
        pick = rng.random(n)
        v[pick < 0.03] = np.nan
        v[(pick >= 0.03) & (pick < 0.05)] *= -1
        v[(pick >= 0.05) & (pick < 0.07)] += 0.5
        v[(pick >= 0.07) & (pick < 0.075)] = np.inf
        return v

    frame = pd.DataFrame(
        {
            "impressions": col(10),
            "clicks": col(1),
            "orders": col(0.1),
            "video_views": col(100),
            "followers": col(1000),
            "gmv": col(3.3),
            "refunds": col(0.7),
            "commission_rate": rng.choice([0.1, 0.5, 0.8, 0.81, -0.1, np.nan, 2.0], n),
            "site": pd.Series(rng.choice(["US", "UK", "XX", None], n), dtype=object),
        }
    )
    pre = _validation_precheck(frame)
    try:
        validation_schema().validate(frame, lazy=True)
        failing: set[int] = set()
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        failing = set(fc.loc[fc["index"].notna(), "index"].astype(int))
    assert 0 < len(failing) < n
    assert set(np.flatnonzero(pre)) == failing


# ------------------------------------------------- issue 9: shape of the frame


def facebook_ads(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A Facebook-ads style export (as the public KAG conversion data), with a few
    view-through rows whose approved conversions exceed clicks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    impressions = rng.integers(1_000, 50_000, n)
    clicks = rng.binomial(impressions, 0.002)
    approved = rng.binomial(clicks, 0.3)
    approved[:3] = clicks[:3] + 1  # view-through attribution
    return pd.DataFrame(
        {
            "ad_id": 708_746 + np.arange(n),
            "xyz_campaign_id": rng.choice([916, 936, 1178], n),
            "fb_campaign_id": 103_916 + rng.integers(0, 40, n),
            "age": rng.choice(["30-34", "35-39", "40-44", "45-49"], n),
            "gender": rng.choice(["M", "F"], n),
            "interest": rng.choice([2, 10, 15, 16], n),
            "Impressions": impressions,
            "Clicks": clicks,
            "Spent": np.round(rng.uniform(0, 50, n), 2),
            "Total_Conversion": approved + rng.integers(0, 3, n),
            "Approved_Conversion": approved,
        }
    )


FB_MAP = {"Approved_Conversion": "orders"}


def test_facebook_ads_export_loads_without_invented_columns(tmp_path: Path) -> None:
    import patsy

    src = tmp_path / "KAG_conversion_data.csv"
    facebook_ads().to_csv(src, index=False)
    r = read_export(src, column_map=FB_MAP, site="US")
    assert_accounted(r)
    assert_canonical(r.data)
    d = r.data
    for invented in ("tier", "category", "commission_rate", "gmv", "creator_id", "followers"):
        assert invented not in d, invented
    assert list(d.columns[:5]) == ["site", "impressions", "clicks", "orders", "refunds"]
    assert r.summary.extra_columns == {
        "ad_id": "ad_id",
        "xyz_campaign_id": "xyz_campaign_id",
        "fb_campaign_id": "fb_campaign_id",
        "age": "age",
        "gender": "gender",
        "interest": "interest",
        "Spent": "spent",
        "Total_Conversion": "total_conversion",
    }
    assert d["age"].dtype == "category" and d["gender"].dtype == "category"
    assert d["ad_id"].dtype == "int64" and d["interest"].dtype == "int64"
    assert d["spent"].dtype == "float64"
    # Three view-through rows: rejected by default, with the reason ...
    assert r.summary.rows_rejected == 3
    assert r.summary.rejected_by_reason == {"orders > clicks": 3}
    assert r.rejected["row"].tolist() == [2, 3, 4]
    # ... kept and counted with orders_above_clicks="keep".
    keep = read_export(src, column_map=FB_MAP, site="US", orders_above_clicks="keep")
    assert keep.summary.rows_kept == 60 and keep.summary.orders_above_clicks_kept == 3
    assert any("orders above clicks kept" in n for n in keep.summary.notes)
    assert keep.data["source_row"].tolist() == list(range(2, 62))
    # Extra columns work in formulas.
    X = patsy.dmatrix("C(age) + C(gender) + C(interest)", keep.data, return_type="dataframe")
    assert len(X) == 60 and "C(gender)[T.M]" in X.columns
    with pytest.raises(ExportError, match="orders_above_clicks"):
        read_export(src, column_map=FB_MAP, site="US", orders_above_clicks="yes")


def test_fit_conversion_on_extra_columns(tmp_path: Path) -> None:
    from helpers.conversion import fit_conversion

    # Default policy: view-through rows are rejected (a binomial fit cannot take them).
    r = read_export(facebook_ads(400, seed=1), column_map=FB_MAP, site="US")
    fit = fit_conversion(r.data, "C(age) + C(gender)", cluster="fb_campaign_id")
    assert any("age" in str(k) for k in fit.params.index)
    assert fit.bse.notna().all()


def test_age_band_as_tier_raises_with_a_labels_fix_that_works() -> None:
    df = facebook_ads()
    cmap = {**FB_MAP, "age": "tier"}
    with pytest.raises(ExportError) as err:
        read_export(df, column_map=cmap, site="US")
    msg = str(err.value)
    assert "'age'" in msg and "'30-34'" in msg and "tiers" in msg
    assert "tiers={'labels': ['30-34', '35-39', '40-44', '45-49']}" in msg
    assert '`tiers: {labels: ["30-34", "35-39", "40-44", "45-49"]}`' in msg
    r = read_export(
        df, column_map=cmap, site="US", tiers={"labels": ["30-34", "35-39", "40-44", "45-49"]}
    )
    assert r.data["tier"].dtype == pd.CategoricalDtype(
        ["30-34", "35-39", "40-44", "45-49"], ordered=True
    )
    assert r.data["tier"].min() == "30-34"
    assert "age" not in r.data  # the column became the tier


def test_tier_labels_reject_other_values_and_skip_followers() -> None:
    df = pd.DataFrame(
        {
            "Segment": ["low", "High ", "mid", "gold", "--"],
            "Followers": ["10", "20", "30", "40", "50"],
            "Clicks": ["1", "2", "3", "4", "5"],
        }
    )
    r = read_export(
        df,
        site="US",
        column_map={"Segment": "tier"},
        tiers={"labels": ["low", "mid", "high"]},
    )
    assert_accounted(r)
    assert r.data["tier"].tolist() == ["low", "high", "mid"]
    assert r.data["tier"].cat.ordered
    reasons = reasons_by_row(r)
    assert reasons[4].startswith("unknown tier label (Segment: 'gold'")
    assert "low, mid, high" in reasons[4]
    assert reasons[5] == "missing tier"
    with pytest.raises(ExportError, match="no column is read as the tier"):
        read_export(df.drop(columns=["Segment"]), site="US", tiers={"labels": ["a"]})


def test_tiers_forms() -> None:
    df = pd.DataFrame({"Followers": ["5,000", "15,000", "2,000,000"], "Clicks": ["1", "2", "3"]})
    want = ["nano", "micro", "mega"]
    forms = [
        None,
        {"thresholds": [10_000, 100_000, 500_000, 1_000_000]},
        {"thresholds": {"micro": 10_000, "mid": 100_000, "macro": 500_000, "mega": 1_000_000}},
        {"micro": 10_000, "mid": 100_000, "macro": 500_000, "mega": 1_000_000},
    ]
    for tiers in forms:
        r = read_export(df, site="US", tiers=tiers)
        assert r.data["tier"].tolist() == want, tiers
        assert r.data["tier"].dtype == TIER_DTYPE
    shifted = read_export(df, site="US", tiers={"thresholds": [1_000, 20_000, 30_000, 40_000]})
    assert shifted.data["tier"].tolist() == ["micro", "micro", "mega"]
    for bad in (
        {"thresholds": [3, 2, 1, 0]},
        {"thresholds": [1, 2]},
        {"labels": []},
        {"labels": ["a"], "thresholds": [1, 2, 3, 4]},
        {"giant": 5},
        [1, 2, 3, 4],
    ):
        with pytest.raises(ExportError, match="accepted|distinct|increase"):
            read_export(df, site="US", tiers=bad)


def test_extra_columns_parse_alike_batched_and_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wide exports parse their text extras stacked in batches; each column must come
    out exactly as when parsed alone (per-row site separators included)."""
    df = pd.DataFrame(
        {
            "Site": ["US", "DE", "US", "ID"],
            "Clicks": ["1", "2", "3", "4"],
            "Amount": ["1.234", "1.234", "1,5", "2.000"],
            "Share": ["1.5%", "2%", "--", "0%"],
            "Zip": ["00123", "1", "2", "3"],
            "Label": ["a", "b", "", "c"],
            "Count": ["1", "2", "3", "4"],
            "Ratio": ["0.5", "inf", "1", "2"],
            "Empty": ["", "--", "", ""],
        }
    )
    batched = read_export(df)
    monkeypatch.setattr(load, "_EXTRA_BATCH_CELLS", 1)  # one column per batch
    alone = read_export(df)
    pd.testing.assert_frame_equal(batched.data, alone.data)
    d = batched.data
    assert d["amount"].tolist()[:2] == [1.234, 1234.0]  # US: decimal; DE: thousands
    assert d["count"].dtype == "int64" and d["share"].iloc[:2].tolist() == [0.015, 0.02]
    assert d["zip"].dtype == "category" and d["ratio"].dtype == "category"


def test_extra_column_names_and_types() -> None:
    df = pd.DataFrame(
        {
            "Clicks": ["1", "2", "3"],
            "Age Band": ["18-24", "25-34", "18-24"],
            "age band": ["1,234", "5", "--"],
            "Class": ["a", "b", "c"],
            "2nd metric": ["0.5", "1.5", "2"],
            "Source file": ["x", "y", "z"],
            "Zip": ["00123", "00456", "01000"],
            "CTR": ["1.5%", "2%", "--"],
            "Order ID": ["5770000000000000001", "5770000000000000002", "5770000000000000003"],
            "年龄": ["18-24", "25-34", "35-44"],
        }
    )
    r = read_export(df, site="US")
    assert r.summary.extra_columns == {
        "Age Band": "age_band",
        "age band": "age_band_2",
        "Class": "class_",
        "2nd metric": "col_2nd_metric",
        "Source file": "source_file_2",
        "Zip": "zip",
        "CTR": "ctr",
        "Order ID": "order_id",
        "年龄": "年龄",
    }
    d = r.data
    assert_canonical(d)
    assert d["age_band"].dtype == "category"
    assert d["age_band_2"].tolist()[:2] == [1234.0, 5.0] and pd.isna(d["age_band_2"].iloc[2])
    assert d["col_2nd_metric"].tolist() == [0.5, 1.5, 2.0]
    assert d["zip"].astype(str).tolist() == ["00123", "00456", "01000"]  # ids stay text
    assert d["order_id"].astype(str).iloc[0] == "5770000000000000001"
    assert d["ctr"].iloc[:2].tolist() == pytest.approx([0.015, 0.02])
    assert d["source_file"].astype(str).unique().tolist() == ["<DataFrame>"]
    assert d["source_row"].tolist() == [1, 2, 3]
    # A frame the loader made reads back the same (provenance kept, not renamed).
    again = read_export(d)
    pd.testing.assert_frame_equal(again.data, d)


def test_key_columns_are_categoricals(tmp_path: Path) -> None:
    r = read_export(write_csv(tmp_path / "v.csv", GOOD))
    for c in ("site", "creator_id", "product_id", "content_id", "category", "source_file"):
        assert isinstance(r.data[c].dtype, pd.CategoricalDtype), c
    assert r.data["tier"].dtype == TIER_DTYPE
    assert r.data["product_id"].astype(str).iloc[0] == "1729000000000000001"


def test_repeated_content_id_keeps_most_impressions(tmp_path: Path) -> None:
    rows = [
        row(content_id="v1", impressions="100", clicks="5"),
        row(content_id="v1", impressions="300", clicks="5"),  # most impressions: kept
        row(content_id="v1", impressions="300", clicks="4"),
        row(content_id="v2"),
        row(content_id="v2"),  # exact duplicate: "duplicate row" as before
        row(content_id="v3", date="2024-01-06"),  # another day: not a repeat
        row(content_id="v3", date="2024-01-07", impressions="2,000"),
        row(content_id="v4", impressions="1", clicks="9"),  # rejected: takes no part
        row(content_id="v4", impressions="50"),
    ]
    r = read_export(write_csv(tmp_path / "v.csv", rows))
    assert_accounted(r)
    reasons = reasons_by_row(r)
    assert set(reasons) == {2, 4, 6, 9}
    assert reasons[2].startswith("repeated content id (same site/content_id/product_id/date")
    assert "as row 3" in reasons[2] and "as row 3" in reasons[4]
    assert reasons[6] == "duplicate row (same as row 5)"
    assert reasons[9].startswith("clicks > impressions")
    assert r.summary.rejected_by_reason["repeated content id"] == 2
    kept = r.data.set_index(r.data["content_id"].astype(str))
    assert kept.loc["v1", "impressions"] == 300 and kept.loc["v1", "clicks"] == 5
    assert kept.loc["v4", "impressions"] == 50
    assert sorted(r.data["source_row"].tolist()) == [3, 5, 7, 8, 10]


def test_provenance_through_assemble(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    r = assemble(v, c, p, site="US")
    assert r.data["source_file"].astype(str).tolist() == [v.name, v.name]
    assert r.data["source_row"].tolist() == [2, 3]
    assert set(r.rejected["row"]) == {4, 5}


# ------------------------------------- every fix a message suggests actually works


FIX = re.compile(r"\b(site|column_map|tiers|orders_above_clicks)=(\{[^{}]*\}|'[^']*')")


def suggested_fixes(message: str) -> list[dict[str, object]]:
    """The Python keyword fixes a message suggests, each as a dict of keywords."""
    return [{k: ast.literal_eval(v)} for k, v in FIX.findall(message)]


def apply_fix(kwargs: dict[str, object], fix: dict[str, object]) -> dict[str, object]:
    out = dict(kwargs)
    for k, v in fix.items():
        if k == "column_map":
            out[k] = {**(out.get(k) or {}), **v}  # type: ignore[dict-item]
        else:
            out[k] = v
    return out


def _no_measures_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ad_id": ["708746", "708749"],
            "Creator name": ["@a", "@b"],
            "Conversions": ["3", "1"],
            "Revenue": ["$10.00", "$4.50"],
            "Site": ["US", "US"],
        }
    )


FIX_CASES = {
    "no site": (facebook_ads().drop(columns=["xyz_campaign_id"]), {"column_map": FB_MAP}, 1),
    "country column": (
        facebook_ads().assign(Market="United States"),
        {"column_map": FB_MAP},
        2,
    ),
    "no measure": (_no_measures_frame(), {}, 2),
    "age as tier": (facebook_ads(), {"column_map": {**FB_MAP, "age": "tier"}, "site": "US"}, 1),
    "typo target": (
        facebook_ads(),
        {"column_map": {**FB_MAP, "Clicks": "click"}, "site": "US"},
        1,
    ),
    "labels without tier column": (
        facebook_ads(),
        {
            "column_map": FB_MAP,
            "site": "US",
            "tiers": {"labels": ["30-34", "35-39", "40-44", "45-49"]},
        },
        1,
    ),
}


@pytest.mark.parametrize("case", list(FIX_CASES))
def test_each_suggested_fix_makes_the_load_succeed(case: str) -> None:
    df, kwargs, n_fixes = FIX_CASES[case]
    with pytest.raises(ExportError) as err:
        read_export(df, **kwargs)
    fixes = suggested_fixes(str(err.value))
    assert len(fixes) == n_fixes, str(err.value)
    for fix in fixes:
        r = read_export(df, **apply_fix(kwargs, fix))
        assert_accounted(r)
        assert r.summary.rows_kept > 0, fix


def test_no_mapping_suggested_from_an_unrelated_header() -> None:
    with pytest.raises(ExportError) as err:
        read_export(_no_measures_frame())
    msg = str(err.value)
    assert "'ad_id'" not in msg.split("Found columns")[0]  # ad_id is never a suggestion
    assert {"Conversions": "orders"} in [f.get("column_map") for f in suggested_fixes(msg)]
    assert {"Revenue": "gmv"} in [f.get("column_map") for f in suggested_fixes(msg)]
    assert "optional" in msg


def test_lookup_without_key_suggests_a_fitting_header(tmp_path: Path) -> None:
    v, c, p = _split_exports(tmp_path)
    pd.DataFrame({"Influencer": ["@a", "@b"], "Followers": ["1,000", "200K"]}).to_csv(
        c, index=False
    )
    with pytest.raises(ExportError) as err:
        assemble(v, c, p, site="US")
    fixes = suggested_fixes(str(err.value))
    assert fixes == [{"column_map": {"Influencer": "creator_id"}}]
    r = assemble(v, c, p, site="US", **fixes[0])
    assert r.summary.rows_kept == 2
