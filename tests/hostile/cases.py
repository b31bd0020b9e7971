"""The hostile corpus: one declarative :class:`~.case.Case` per hostile file.

Expectations come from issue 9 and its contract (/work/wt/CONTRACT-issue9.md at the
time of writing: ``source="issue"`` / ``"contract"``); cases this corpus adds have
``source="extra"`` and an expectation that follows the same rules (a clean read, a
counted rejection with its reason, or an ExportError naming the file and the fix).

The base file (:func:`.build.base_rows`) is a 10-row Seller Center style export with
every column today's loader requires, so a case fails only on the hostile thing it
carries. Row ``i`` has impressions ``1000 + 100 i``, clicks ``50 + i``, orders 5 and
GMV ``100 + i``.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import build as b
from .case import Case, Expect
from .run import unreadable_skip

__all__ = ["BY_ID", "CASES"]

H = b.COL  # header name -> column position in the base rows
Rows = list[list[str]]
Mutate = Callable[[list[str], Rows], tuple[list[str], Rows]]


# ------------------------------------------------------------------ builders


def csv_file(
    mutate: Mutate | None = None,
    *,
    name: str = "videos.csv",
    header: Sequence[str] = tuple(b.HEADER),
    n: int = 10,
    site: str = "US",
    sep: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
    prefix: str = "",
) -> Callable[[Path], Path]:
    """A builder writing the base rows (changed by ``mutate``) as one CSV file."""

    def build(folder: Path) -> Path:
        hdr, rows = list(header), b.base_rows(n, site=site)
        if mutate is not None:
            hdr, rows = mutate(hdr, rows)
        return b.write_csv(
            folder / name, hdr, rows, sep=sep, encoding=encoding, newline=newline, prefix=prefix
        )

    return build


def raw_file(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    """A builder writing ``data`` verbatim."""

    def build(folder: Path) -> Path:
        p = folder / name
        p.write_bytes(data() if callable(data) else data)
        return p

    return build


def cells(**changes: dict[int, str]) -> Mutate:
    """Set cells: ``cells(clicks={2: "abc"})`` with keys of :data:`SHORT`."""

    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        for short, by_row in changes.items():
            c = hdr.index(SHORT[short])
            for i, v in by_row.items():
                rows[i][c] = v
        return hdr, rows

    return mutate


def drop(*shorts: str) -> Mutate:
    """Remove columns."""

    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        keep = [i for i, h in enumerate(hdr) if h not in {SHORT[s] for s in shorts}]
        return [hdr[i] for i in keep], [[r[i] for i in keep] for r in rows]

    return mutate


def add_column(name: str, values: Callable[[int], str]) -> Mutate:
    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        return hdr + [name], [r + [values(i)] for i, r in enumerate(rows)]

    return mutate


def chain(*ms: Mutate) -> Mutate:
    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        for m in ms:
            hdr, rows = m(hdr, rows)
        return hdr, rows

    return mutate


SHORT = {
    "video": "Video ID",
    "creator": "Creator name",
    "site": "Site",
    "product": "Product ID",
    "followers": "Followers",
    "category": "Category",
    "commission": "Commission rate",
    "impressions": "Video product impressions",
    "clicks": "Video product clicks",
    "orders": "Video-attributed orders",
    "gmv": "Creator video-attributed GMV",
    "date": "Post date",
}


def total_row(label: str, rows: Rows, *, column: str = "creator") -> list[str]:
    """A filled "Total" row: sums of the count and money columns, ``label`` in
    ``column``, other text cells empty."""
    out = [""] * len(b.HEADER)
    out[H[SHORT[column]]] = label
    for short in ("followers", "impressions", "clicks", "orders"):
        c = H[SHORT[short]]
        out[c] = str(sum(int(r[c]) for r in rows))
    g = H[SHORT["gmv"]]
    out[g] = "${:,.2f}".format(sum(float(r[g].strip("$").replace(",", "")) for r in rows))
    return out


def zh(rows_mutate: Mutate | None = None) -> Mutate:
    """Chinese headers (and Chinese total labels come through ``rows_mutate``)."""

    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        if rows_mutate is not None:
            hdr, rows = rows_mutate(hdr, rows)
        return [b.HEADER_ZH[b.HEADER.index(h)] for h in hdr], rows

    return mutate


# ------------------------------------------------------------------ checks


def values(
    column: str, expected: Sequence[Any], *, rel: float = 1e-9
) -> Callable[[Any], list[str]]:
    """Check that ``result.data[column]`` equals ``expected`` (floats to ``rel``)."""

    def check(res: Any) -> list[str]:
        if column not in res.data:
            return [f"no column {column!r} in data (columns: {list(res.data.columns)})"]
        got = res.data[column].tolist()
        if len(got) != len(expected):
            return [f"{column}: {len(got)} values, expected {len(expected)}"]
        bad = []
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            if isinstance(e, float) and not isinstance(g, str):
                ok = g is not None and not (isinstance(g, float) and math.isnan(g))
                ok = ok and math.isclose(float(g), e, rel_tol=rel, abs_tol=1e-12)
            else:
                ok = str(g) == str(e)
            if not ok:
                bad.append(f"row {i}: {g!r} != {e!r}")
        return [f"{column}: " + "; ".join(bad[:3])] if bad else []

    return check


def all_of(*checks: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        return [p for c in checks for p in c(res)]

    return check


def has_columns(*cols: str) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        missing = [c for c in cols if c not in res.data.columns]
        return [f"missing columns {missing} (have {list(res.data.columns)})"] if missing else []

    return check


def lacks_columns(*cols: str) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        invented = [c for c in cols if c in res.data.columns]
        return [f"columns invented (not in the file): {invented}"] if invented else []

    return check


def notes_mention(*words: str) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        text = " ".join(str(n) for n in res.summary.notes)
        missing = [w for w in words if w not in text]
        return [f"summary.notes do not mention {missing}: {res.summary.notes}"] if missing else []

    return check


def summary_attr(name: str, expected: Any) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        if not hasattr(res.summary, name):
            return [f"summary has no {name!r}"]
        got = getattr(res.summary, name)
        return [] if got == expected else [f"summary.{name} = {got!r}, expected {expected!r}"]

    return check


def categorical(*cols: str) -> Callable[[Any], list[str]]:
    def check(res: Any) -> list[str]:
        import pandas as pd

        bad = [
            f"{c}: {res.data[c].dtype}"
            for c in cols
            if c in res.data and not isinstance(res.data[c].dtype, pd.CategoricalDtype)
        ]
        absent = [c for c in cols if c not in res.data]
        out = [f"not categorical: {bad}"] if bad else []
        return out + ([f"absent: {absent}"] if absent else [])

    return check


CLICKS = list(range(50, 60))
GMV = [100.0 + i for i in range(10)]


# ------------------------------------------------------------------ the cases

CASES: list[Case] = []


def case(id: str, what: str, build: Callable[[Path], Path], expect: Expect, **kw: Any) -> None:
    CASES.append(Case(id=id, what=what, build=build, expect=expect, **kw))


def clean(n: int = 10, check: Any = None) -> Expect:
    return Expect("clean", kept=n, check=check)


def rejected(kept: int, reasons: dict[str, int], check: Any = None, **kw: Any) -> Expect:
    return Expect("rejected", kept=kept, reasons=reasons, check=check, **kw)


def error(*has: str, pattern: str | None = None) -> Expect:
    return Expect("error", error_has=has, error_re=pattern)


# --- encodings, framing ------------------------------------------------------------

case(
    "clean_csv",
    "baseline: a clean 10-row export",
    csv_file(),
    clean(10, all_of(values("clicks", CLICKS), values("gmv", GMV))),
    source="extra",
)
case(
    "utf8_bom",
    "UTF-8 with BOM (Excel's CSV UTF-8)",
    csv_file(encoding="utf-8-sig"),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)
MULLER = cells(creator={0: "Müller", 1: "Sørensen", 2: "José"})
case(
    "utf16_tab_txt",
    "UTF-16 LE with BOM, tab separated (Excel 'Unicode text')",
    csv_file(MULLER, name="videos.txt", sep="\t", encoding="utf-16"),
    clean(
        10,
        values(
            "creator_id",
            ["Müller", "Sørensen", "José"] + [f"creator_{i % 4}" for i in range(3, 10)],
        ),
    ),
    source="extra",
)
case(
    "latin1_muller",
    "Latin-1 file (issue: decoded as GB18030, Müller -> M黮ler)",
    csv_file(MULLER, encoding="latin-1"),
    clean(
        10,
        values(
            "creator_id",
            ["Müller", "Sørensen", "José"] + [f"creator_{i % 4}" for i in range(3, 10)],
        ),
    ),
    source="issue",
)
case(
    "cp1252_quotes",
    "cp1252 file with curly quote and en dash",
    csv_file(cells(creator={0: "Café’s – shop"}), encoding="cp1252"),
    clean(10, values("creator_id", ["Café’s – shop"] + [f"creator_{i % 4}" for i in range(1, 10)])),
    source="contract",
)


def _mixed_encoding(folder: Path) -> Path:
    rows = b.base_rows(10)
    for i in range(10):
        rows[i][H["Creator name"]] = f"Müller_{i}"
    head = b.csv_text(b.HEADER, rows[:5]).encode("utf-8")
    tail = b.csv_text(None, rows[5:]).encode("latin-1")
    p = folder / "videos.csv"
    p.write_bytes(head + tail)
    return p


case(
    "mixed_encoding",
    "UTF-8 rows then Latin-1 rows: no single decoding is right (mojibake)",
    _mixed_encoding,
    error("encoding"),
    fix={"encoding": "latin-1"},
    after=clean(10),
    source="contract",
)
ZH_CATS = cells(category={0: "美妆", 1: "家居", 2: "玩具"}, creator={0: "达人一"})
case(
    "gb18030_chinese",
    "Chinese headers and values in GB18030 (Chinese Excel)",
    csv_file(zh(ZH_CATS), encoding="gb18030"),
    clean(
        10,
        values("category", ["美妆", "家居", "玩具"] + [b.CATEGORIES[i % 3] for i in range(3, 10)]),
    ),
    source="extra",
)
case(
    "cr_only_endings",
    "old-Mac CR-only line endings (issue: csv module crash)",
    csv_file(newline="\r"),
    clean(10, values("clicks", CLICKS)),
    source="issue",
)
case(
    "crlf_endings",
    "Windows CRLF line endings",
    csv_file(newline="\r\n"),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)


def _eu(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    for i, r in enumerate(rows):
        r[H["Video product impressions"]] = f"{1000 + 100 * i:,}".replace(",", ".")
        r[H["Followers"]] = f"{5000 * (i + 1):,}".replace(",", ".")
        r[H["Creator video-attributed GMV"]] = f"{1234 + i:,}".replace(",", ".") + ",50 €"
        r[H["Commission rate"]] = "15 %"
    return hdr, rows


case(
    "semicolon_eu_decimal_comma",
    "EU export: ';' separator, '1.234,50 €' money, '1.000' counts (DE)",
    csv_file(_eu, site="DE", sep=";"),
    clean(
        10,
        all_of(
            values("impressions", [1000 + 100 * i for i in range(10)]),
            values("gmv", [1234.5 + i for i in range(10)]),
            values("commission_rate", [0.15] * 10),
        ),
    ),
    source="extra",
)
case(
    "tsv_file",
    "tab separated .tsv",
    csv_file(name="videos.tsv", sep="\t"),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)
case(
    "title_rows_csv",
    "two title rows and a blank line above the header",
    csv_file(prefix="Video performance\nDate range: 11/01/2026 - 11/30/2026\n\n"),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)
case("empty_file", "0-byte file", raw_file("videos.csv", b""), error(), source="contract")
case(
    "bom_only",
    "only a UTF-8 byte order mark",
    raw_file("videos.csv", b"\xef\xbb\xbf"),
    error(),
    source="extra",
)
case(
    "whitespace_only",
    "blank lines and spaces only",
    raw_file("videos.csv", b"\n  \n\t\n\n"),
    error(),
    source="extra",
)
case(
    "header_only",
    "a header and no rows (an export of an empty week)",
    csv_file(n=0),
    clean(0),
    source="extra",
)


def _dup_header(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    c = H["Video product clicks"]
    return hdr + [hdr[c]], [r + [r[c]] for r in rows]


def _dup_recorded(res: Any) -> list[str]:
    s = res.summary
    where = " ".join(
        repr(getattr(s, k, "")) for k in ("duplicate_columns", "extra_columns", "notes")
    )
    return (
        []
        if "clicks" in where.lower()
        else ["the duplicated 'Video product clicks' header is not recorded in the summary"]
    )


case(
    "duplicated_header",
    "the clicks header twice (same values)",
    csv_file(_dup_header),
    clean(10, all_of(values("clicks", CLICKS), _dup_recorded)),
    source="extra",
)


def _header_again(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    return hdr, rows[:5] + [list(hdr)] + rows[5:]


case(
    "header_repeated_midfile",
    "the header row repeated after row 5 (two exports pasted together)",
    csv_file(_header_again),
    rejected(10, {r"not a number|header": 1}),
    source="extra",
)
case(
    "long_cell",
    "a 2 MB description cell",
    csv_file(add_column("Description", lambda i: "x" * 2_000_000 if i == 3 else "ok")),
    clean(10),
    source="extra",
)
case(
    "wide_10k_columns",
    "10,000 columns (9,988 extra numeric columns)",
    csv_file(
        lambda h, r: (h + [f"metric_{j}" for j in range(9988)], [x + ["1"] * 9988 for x in r])
    ),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)


def _blank_lines(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    empty = [""] * len(hdr)
    return hdr, rows[:3] + [empty] + rows[3:7] + [empty, empty] + rows[7:]


case(
    "blank_rows",
    "three blank rows between the data",
    csv_file(_blank_lines),
    clean(10, values("clicks", CLICKS)),
    source="extra",
)
case(
    "quoted_newline",
    "a creator name with a newline inside quotes",
    csv_file(cells(creator={2: "line one\nline two"})),
    clean(
        10,
        values(
            "creator_id",
            ["creator_0", "creator_1", "line one\nline two"]
            + [f"creator_{i % 4}" for i in range(3, 10)],
        ),
    ),
    source="extra",
)


def _ragged(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    rows[4] = rows[4] + ["extra", "cells"]
    return hdr, rows


case(
    "ragged_row",
    "one row with two more fields than the header",
    csv_file(_ragged),
    rejected(9, {r"malformed": 1}),
    source="extra",
)


def _unbalanced_quote(folder: Path) -> Path:
    text = b.csv_text(b.HEADER, b.base_rows(10))
    lines = text.split("\n")
    lines[5] = lines[5].replace("creator_0", '"creator_0', 1)  # a quote opened, never closed
    p = folder / "videos.csv"
    p.write_text("\n".join(lines), encoding="utf-8")
    return p


case(
    "unbalanced_quote",
    "a quote opened on row 6 and never closed (swallows the rest of the file)",
    _unbalanced_quote,
    error(pattern=r"quot"),
    source="extra",
)

# --- total rows ----------------------------------------------------------------------


def _with_total(label: str, column: str = "creator", lang: str = "en") -> Mutate:
    def mutate(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
        return hdr, rows + [total_row(label, rows, column=column)]

    return zh(mutate) if lang == "zh" else mutate


case(
    "total_row",
    "a filled 'Total' row (issue: kept as a creator, doubles every total)",
    csv_file(_with_total("Total")),
    rejected(10, {r"^total row": 1}),
    source="issue",
)
case(
    "grand_total_colon",
    "'Grand total:' row",
    csv_file(_with_total("Grand total:")),
    rejected(10, {r"^total row": 1}),
    source="contract",
)
case(
    "total_upper",
    "'TOTAL' row",
    csv_file(_with_total("TOTAL")),
    rejected(10, {r"^total row": 1}),
    source="contract",
)
case(
    "sum_row",
    "'Sum' row",
    csv_file(_with_total("Sum")),
    rejected(10, {r"^total row": 1}),
    source="contract",
)
case(
    "heji_first_column",
    "'合计' in the first column (Video ID), creator empty",
    csv_file(_with_total("合计", column="video", lang="zh")),
    rejected(10, {r"^total row": 1}),
    source="issue",
)


def _zh_subtotals(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    a, c = rows[:5], rows[5:]
    return hdr, a + [total_row("小计", a)] + c + [total_row("小计：", c), total_row("总计", rows)]


case(
    "zh_subtotals",
    "two '小计' subtotal rows and a '总计' grand total",
    csv_file(zh(_zh_subtotals)),
    rejected(10, {r"^total row": 3}),
    source="issue",
)
case(
    "huizong_row",
    "'汇总' row",
    csv_file(_with_total("汇总", lang="zh")),
    rejected(10, {r"^total row": 1}),
    source="contract",
)

# --- formulas, odd characters ----------------------------------------------------------

FORMULA_IDS = ["=1+1", "+SUM(A1:A9)", "@cmd", "-2+3"]
case(
    "formula_in_id",
    "cells starting with = + @ - in the creator column",
    csv_file(cells(creator=dict(enumerate(FORMULA_IDS)))),
    clean(10, values("creator_id", FORMULA_IDS + [f"creator_{i % 4}" for i in range(4, 10)])),
    source="extra",
)
case(
    "formula_in_count",
    "'=1+1' in a count column",
    csv_file(cells(clicks={3: "=1+1"})),
    rejected(9, {r"^clicks not a number": 1}),
    source="extra",
)
ODD_IDS = [
    "creator\u200b_0",
    "\u202ecreator_1",
    "\u05e2\u05d1\u05e8\u05d9\u05ea",
    "\u200fcreator_3",
]
case(
    "zero_width_rtl_ids",
    "zero-width space, RTL override and Hebrew in creator ids",
    csv_file(cells(creator=dict(enumerate(ODD_IDS)))),
    clean(10, values("creator_id", ODD_IDS + [f"creator_{i % 4}" for i in range(4, 10)])),
    source="extra",
)
case(
    "emoji",
    "emoji in creator and category",
    csv_file(cells(creator={0: "💄queen"}, category={0: "beauty💅"})),
    clean(
        10,
        all_of(
            values("creator_id", ["💄queen"] + [f"creator_{i % 4}" for i in range(1, 10)]),
            values("category", ["beauty💅"] + [b.CATEGORIES[i % 3] for i in range(1, 10)]),
        ),
    ),
    source="extra",
)

# --- sites and currencies ----------------------------------------------------------------

MIXED = {
    0: ("US", "$1,234.50", 1234.5),
    1: ("UK", "£980.00", 980.0),
    2: ("ID", "Rp 1.234.567", 1234567.0),
    3: ("DE", "1.234,56 €", 1234.56),
    4: ("TH", "฿1,234.00", 1234.0),
    5: ("VN", "₫1.234.567", 1234567.0),
    6: ("MY", "RM 12.50", 12.5),
    7: ("UK", "GBP 75.20", 75.2),
    8: ("US", "USD 9.99", 9.99),
    9: ("PH", "₱1,000.00", 1000.0),
}
case(
    "mixed_sites_currencies",
    "ten rows over eight sites, each money cell in its site's currency",
    csv_file(
        cells(
            site={i: s for i, (s, _, _) in MIXED.items()},
            gmv={i: m for i, (_, m, _) in MIXED.items()},
        )
    ),
    clean(10, values("gmv", [v for _, _, v in MIXED.values()])),
    source="extra",
)
case(
    "pound_on_us_row",
    "'£980' on a US row (issue: kept as 980 dollars)",
    csv_file(cells(gmv={3: "£980.00"})),
    rejected(9, {r"^currency mismatch": 1}),
    source="issue",
)
case(
    "euro_on_uk_rp_on_us",
    "'€50.00' on a UK row and 'Rp 50.000' on a US row",
    csv_file(cells(site={1: "UK"}, gmv={1: "€50.00", 2: "Rp 50.000"})),
    rejected(8, {r"^currency mismatch": 2}),
    source="contract",
)
case(
    "currency_option_mismatch",
    "currency='USD' given; one '€12.00' cell, one 'USD 105.00' cell",
    csv_file(cells(gmv={4: "€12.00", 5: "USD 105.00"})),
    rejected(9, {r"^currency mismatch": 1}),
    kwargs={"currency": "USD"},
    source="contract",
)
case(
    "unknown_site_code",
    "site code 'XX'",
    csv_file(cells(site={6: "XX"})),
    rejected(9, {r"^unknown site": 1}),
    source="extra",
)
case(
    "site_option_disagrees",
    "site='US' given, one row says UK",
    csv_file(cells(site={2: "UK"}, gmv={2: "£102.00"})),
    rejected(9, {r"^site disagrees": 1}),
    kwargs={"site": "US"},
    source="extra",
)
case(
    "no_site",
    "no site column and no site option",
    csv_file(drop("site")),
    error("site"),
    fix={"site": "US"},
    after=clean(10),
    source="contract",
)
case(
    "unknown_site_option",
    "site='ZZ' (not a site code)",
    csv_file(),
    error("US"),
    kwargs={"site": "ZZ"},
    names="ZZ",
    source="extra",
)

# --- counts --------------------------------------------------------------------------------

case(
    "negative_count",
    "clicks -3",
    csv_file(cells(clicks={2: "-3"})),
    rejected(9, {r"negative": 1}),
    source="extra",
)
case(
    "clicks_above_impressions",
    "clicks > impressions on two rows",
    csv_file(cells(clicks={1: "5000", 2: "5001"})),
    rejected(8, {r"^clicks > impressions": 2}),
    source="extra",
)
case(
    "orders_above_clicks_reject",
    "orders > clicks on two rows, default policy",
    csv_file(cells(orders={3: "999", 7: "998"})),
    rejected(8, {r"^orders > clicks": 2}),
    source="issue",
)
case(
    "orders_above_clicks_keep",
    "orders > clicks with orders_above_clicks='keep' (view-through)",
    csv_file(cells(orders={3: "999", 7: "998"})),
    clean(10, all_of(summary_attr("orders_above_clicks_kept", 2), notes_mention("orders"))),
    kwargs={"orders_above_clicks": "keep"},
    source="issue",
)
case(
    "orders_above_clicks_invalid",
    "orders_above_clicks='maybe'",
    csv_file(),
    error("keep", "reject"),
    kwargs={"orders_above_clicks": "maybe"},
    names="maybe",
    source="contract",
)
case(
    "percent_in_count",
    "'12%' in the clicks column",
    csv_file(cells(clicks={5: "12%"})),
    rejected(9, {r"^clicks not a number": 1}),
    source="extra",
)
case(
    "one_two_three",
    "'1,2,3' in clicks (issue: read as 123)",
    csv_file(cells(clicks={4: "1,2,3"})),
    rejected(9, {r"^clicks not a number": 1}),
    source="issue",
)
case(
    "malformed_separators_money",
    "'1.2.3,4' as GMV",
    csv_file(cells(gmv={4: "1.2.3,4"})),
    rejected(9, {r"^gmv not a number": 1}),
    source="contract",
)
case(
    "indian_grouping_us",
    "'12,34,567' as GMV on a US row",
    csv_file(cells(gmv={6: "12,34,567"})),
    rejected(9, {r"^gmv not a number": 1}),
    source="contract",
)
case(
    "bool_text_counts",
    "TRUE / false in the orders column (issue: kept)",
    csv_file(cells(orders={1: "TRUE", 8: "false"})),
    rejected(8, {r"^orders not a number": 2}),
    source="issue",
)
case(
    "chinese_bool_counts",
    "是 / 否 in the orders column",
    csv_file(cells(orders={1: "是", 8: "否"})),
    rejected(8, {r"^orders not a number": 2}),
    source="contract",
)
case(
    "int64_overflow",
    "impressions 99999999999999999999 (issue: became -9223372036854775808)",
    csv_file(cells(impressions={0: "99999999999999999999"})),
    rejected(9, {r"^impressions out of range": 1}),
    source="issue",
)
case(
    "count_above_1e15",
    "impressions 2,000,000,000,000,000",
    csv_file(cells(impressions={0: "2,000,000,000,000,000"})),
    rejected(9, {r"^impressions out of range": 1}),
    source="contract",
)
case(
    "followers_1e20",
    "followers '1e20' and 100000000000000000000 (issue: bare TypeError)",
    csv_file(cells(followers={2: "1e20", 5: "100000000000000000000"})),
    rejected(8, {r"^followers out of range": 2}),
    source="issue",
)
case(
    "inf_gmv",
    "GMV inf, -inf, Infinity (issue: inf GMV kept)",
    csv_file(cells(gmv={1: "inf", 2: "-inf", 3: "Infinity"})),
    rejected(7, {r"^gmv not finite": 3}),
    source="issue",
)
case(
    "nan_text_count",
    "'NaN' in clicks",
    csv_file(cells(clicks={6: "NaN"})),
    rejected(9, {r"^clicks not finite": 1}),
    source="contract",
)
case(
    "abbreviated_counts",
    "followers 1.2M / 35.4K / 1.5万 / 512.3K (512.3 * 1000 is not whole in floats), impressions 1.2K",
    csv_file(
        cells(followers={0: "1.2M", 1: "35.4K", 2: "1.5万", 3: "512.3K"}, impressions={0: "1.2K"})
    ),
    clean(
        10,
        all_of(
            values(
                "followers",
                [1_200_000, 35_400, 15_000, 512_300] + [5000 * (i + 1) for i in range(4, 10)],
            ),
            values("impressions", [1200] + [1000 + 100 * i for i in range(1, 10)]),
        ),
    ),
    source="extra",
)
case(
    "decimal_count",
    "clicks 12.5",
    csv_file(cells(clicks={7: "12.5"})),
    rejected(9, {r"clicks.*whole|clicks not a number": 1}),
    source="extra",
)
case(
    "accounting_negative_gmv",
    "GMV '($12.50)' (accounting negative)",
    csv_file(cells(gmv={2: "($12.50)"})),
    rejected(9, {r"gmv.*negative": 1}),
    source="extra",
)

# --- commission --------------------------------------------------------------------------------

case(
    "commission_percent_cells",
    "'12.5%' commission cells",
    csv_file(cells(commission={i: "12.5%" for i in range(10)})),
    clean(10, values("commission_rate", [0.125] * 10)),
    source="contract",
)
case(
    "commission_15_and_150",
    "commission 15 (percent points) with one 150 (issue: read as API units, 15 % -> 0.15 %)",
    csv_file(cells(commission={**{i: "15" for i in range(10)}, 6: "150"})),
    error("commission_scale", "percent", "Commission rate", pattern=r"row[s]?[^.;]{0,40}\b8\b"),
    fix={"commission_scale": "percent"},
    after=rejected(9, {r"commission": 1}),
    source="issue",
)
case(
    "commission_fraction_and_percent",
    "0.15 on five rows, 15 on five rows, no '%'",
    csv_file(cells(commission={i: ("0.15" if i < 5 else "15") for i in range(10)})),
    error("commission_scale", "Commission rate"),
    fix={"commission_scale": "fraction"},
    after=rejected(5, {r"commission": 5}),
    source="contract",
)
case(
    "commission_api_units",
    "commission in API units 1500 / 2000 / 800",
    csv_file(cells(commission={i: ("1500", "2000", "800")[i % 3] for i in range(10)})),
    clean(10, values("commission_rate", [(0.15, 0.2, 0.08)[i % 3] for i in range(10)])),
    source="contract",
)
case(
    "commission_scale_given",
    "commission 15 with commission_scale='percent'",
    csv_file(cells(commission={i: "15" for i in range(10)})),
    clean(10, values("commission_rate", [0.15] * 10)),
    kwargs={"commission_scale": "percent"},
    source="contract",
)
case(
    "commission_scale_invalid",
    "commission_scale='permille'",
    csv_file(),
    error("fraction", "percent", "api"),
    kwargs={"commission_scale": "permille"},
    names="permille",
    source="contract",
)

# --- dates --------------------------------------------------------------------------------------

DMY = {i: f"{(i % 12) + 1:02d}/{((i + 3) % 12) + 1:02d}/2026" for i in range(10)}
DMY_ISO = [f"2026-{((i + 3) % 12) + 1:02d}-{(i % 12) + 1:02d}" for i in range(10)]


def _dates(res: Any) -> list[str]:
    got = [str(x)[:10] for x in res.data["date"].tolist()] if "date" in res.data else []
    return [] if got == DMY_ISO else [f"dates {got[:3]} != {DMY_ISO[:3]} (read as %d/%m/%Y)"]


case(
    "dates_ambiguous",
    "dates whose day and month are all 1-12 (issue: only notebook 01 accepts date_format)",
    csv_file(cells(date=DMY)),
    error("date_format", "Post date"),
    fix={"date_format": "%d/%m/%Y"},
    after=clean(10, _dates),
    source="issue",
)
case(
    "dates_with_format",
    "ambiguous dates with date_format='%d/%m/%Y'",
    csv_file(cells(date=DMY)),
    clean(10, _dates),
    kwargs={"date_format": "%d/%m/%Y"},
    source="issue",
)
case(
    "dates_wrong_format",
    "date_format='%Y-%m-%d' for slash dates",
    csv_file(cells(date=DMY)),
    rejected(0, {r"date": 10}),
    kwargs={"date_format": "%Y-%m-%d"},
    source="extra",
)

# --- repeated ids, duplicates ------------------------------------------------------------------


def _repeats(hdr: list[str], rows: Rows) -> tuple[list[str], Rows]:
    keep_cols = [
        H[SHORT[s]]
        for s in (
            "video",
            "creator",
            "site",
            "product",
            "followers",
            "category",
            "commission",
            "date",
        )
    ]
    for src, dst in ((0, 3), (0, 6), (1, 8)):
        for c in keep_cols:
            rows[dst][c] = rows[src][c]
    return hdr, rows


def _repeat_kept(res: Any) -> list[str]:
    out = []
    imps = sorted(res.data["impressions"].tolist()) if "impressions" in res.data else []
    want = sorted([1200, 1400, 1500, 1600, 1700, 1800, 1900])
    if imps != want:
        out.append(
            f"kept impressions {imps}, expected the most-impressions copy of each id: {want}"
        )
    reasons = res.rejected["reason"].astype(str).tolist() if "reason" in res.rejected else []
    # Data row 6 is Excel row 8, data row 8 is row 10: the kept copies.
    if not all(("row 8" in r or "row 10" in r) for r in reasons):
        out.append(f"rejections do not name the kept row: {reasons}")
    return out


case(
    "repeated_content_id",
    "a video id three times and one twice with different counts (issue: plays +4.8 %)",
    csv_file(_repeats),
    rejected(7, {r"^repeated content id": 3}, check=_repeat_kept),
    source="issue",
)
case(
    "exact_duplicate_row",
    "a row exported twice",
    csv_file(lambda h, r: (h, r + [list(r[2])])),
    rejected(10, {r"^duplicate row": 1}),
    source="extra",
)
case(
    "same_video_other_product",
    "one video id promoting two products (not a repeat)",
    csv_file(cells(video={5: "73000000000000" + "00000"}, product={5: "P2"})),
    clean(10),
    source="contract",
)


def _two_weeks(folder: Path) -> Path:
    d = folder / "export"
    rows = b.base_rows(10)
    b.write_csv(d / "videos_week1.csv", b.HEADER, rows[:8])
    b.write_csv(d / "videos_week2.csv", b.HEADER, rows[3:])
    return d


case(
    "overlapping_weekly_files",
    "two weekly video exports sharing 5 rows",
    _two_weeks,
    rejected(10, {r"^duplicate row": 5}),
    call="load_dataset",
    source="extra",
)

# --- tiers, columns ----------------------------------------------------------------------------

AGES = ["18-24", "25-34", "35-44", "45-54"]


def _tier_labels(res: Any) -> list[str]:
    import pandas as pd

    t = res.data.get("tier")
    if t is None:
        return ["no tier column"]
    dt = t.dtype
    if not (isinstance(dt, pd.CategoricalDtype) and dt.ordered and list(dt.categories) == AGES):
        return [f"tier dtype {dt!r}, expected ordered categories {AGES}"]
    return []


case(
    "tier_labels_age",
    "age bands as tier via tiers={'labels': [...]}, one '65+' not listed (issue: 100 % rejected silently)",
    csv_file(
        chain(drop("followers"), add_column("Age", lambda i: "65+" if i == 4 else AGES[i % 4]))
    ),
    rejected(9, {r"^unknown tier label": 1}, check=_tier_labels),
    kwargs={"column_map": {"Age": "tier"}, "tiers": {"labels": AGES}},
    source="contract",
)
case(
    "tier_thresholds_list",
    "tiers={'thresholds': [10000, 20000, 30000, 40000]}",
    csv_file(),
    clean(
        10,
        values(
            "tier",
            ["nano", "micro", "micro", "mid", "mid", "macro", "macro", "mega", "mega", "mega"],
        ),
    ),
    kwargs={"tiers": {"thresholds": [10000, 20000, 30000, 40000]}},
    source="contract",
)
case(
    "minimal_columns",
    "only Site and clicks (issue: tier, commission, GMV, category required)",
    csv_file(lambda h, r: (["Site", "Video product clicks"], [[x[2], x[8]] for x in r])),
    clean(
        10,
        all_of(
            values("clicks", CLICKS),
            lacks_columns("gmv", "commission_rate", "tier", "category", "impressions", "orders"),
        ),
    ),
    source="issue",
)


def _extras(res: Any) -> list[str]:
    import pandas as pd

    out = has_columns("age", "gender", "interest_id")(res)
    if not out:
        if not pd.api.types.is_numeric_dtype(res.data["interest_id"].dtype):
            out.append(f"interest_id is {res.data['interest_id'].dtype}, expected numbers")
        if res.data["age"].astype(str).tolist()[:2] != AGES[:2]:
            out.append("age values changed")
    mapping = getattr(res.summary, "extra_columns", None)
    if not mapping or mapping.get("Interest ID") != "interest_id":
        out.append(f"summary.extra_columns = {mapping!r}, expected 'Interest ID' -> 'interest_id'")
    return out


case(
    "extra_columns_kept",
    "Age, Gender and Interest ID columns (issue: dropped)",
    csv_file(
        chain(
            add_column("Age", lambda i: AGES[i % 4]),
            add_column("Gender", lambda i: "MF"[i % 2]),
            add_column("Interest ID", lambda i: str(10 + i)),
        )
    ),
    clean(10, _extras),
    source="issue",
)


def _provenance(res: Any) -> list[str]:
    out = has_columns("source_file", "source_row")(res)
    if out:
        return out
    want = [4, 5, 6, 7, 9, 10, 11, 12, 13, 14]
    rows = [int(x) for x in res.data["source_row"].tolist()]
    files = set(map(str, res.data["source_file"].astype(str)))
    if rows != want:
        out.append(f"source_row {rows}, expected Excel row numbers {want}")
    if files != {"videos.csv"}:
        out.append(f"source_file {files}, expected {{'videos.csv'}}")
    return out + categorical("source_file")(res)


case(
    "provenance_rows",
    "title rows and a blank line: every kept row keeps file and Excel row number",
    csv_file(
        lambda h, r: (h, r[:4] + [[""] * len(h)] + r[4:]),
        prefix="Video performance\nDate range: 11/01/2026 - 11/30/2026\n",
    ),
    clean(10, _provenance),
    source="contract",
)
case(
    "key_categoricals",
    "key columns come out as categoricals",
    csv_file(),
    clean(10, categorical("site", "creator_id", "product_id", "content_id", "category")),
    source="contract",
)
case(
    "no_count_columns",
    "no impressions, clicks, orders or GMV column",
    csv_file(drop("impressions", "clicks", "orders", "gmv")),
    error("impressions", "column_map"),
    source="contract",
)

# --- XLSX -----------------------------------------------------------------------------------------


def _xlsx_rows(n: int = 10) -> list[list[Any]]:
    rows: list[list[Any]] = [list(b.HEADER)]
    for r in b.base_rows(n):
        r = list(r)
        for short in ("followers", "impressions", "clicks", "orders"):
            r[H[SHORT[short]]] = int(r[H[SHORT[short]]])
        rows.append(r)
    return rows


def _xlsx(
    name: str,
    sheets: Callable[[], dict[str, list[list[Any]]]],
    writer: Callable[..., Path] = b.write_xlsx_openpyxl,
) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return writer(folder / name, sheets())

    return build


TITLE = [["Video performance"], ["Date range: 11/01/2026 - 11/30/2026"]]
case(
    "xlsx_title_rows",
    "XLSX with two title rows above the header",
    _xlsx("videos.xlsx", lambda: {"Videos": TITLE + _xlsx_rows()}),
    clean(10, values("clicks", CLICKS)),
    source="issue",
)
NOTES_SHEET = [["Read me"], ["This workbook was exported on 2026-12-01"]]
case(
    "xlsx_sheet_option",
    "data on the second sheet, sheet='Data'",
    _xlsx("videos.xlsx", lambda: {"Notes": NOTES_SHEET, "Data": _xlsx_rows()}),
    clean(10, values("clicks", CLICKS)),
    kwargs={"sheet": "Data"},
    source="contract",
)
case(
    "xlsx_sheet_index",
    "data on the second sheet, sheet=1",
    _xlsx("videos.xlsx", lambda: {"Notes": NOTES_SHEET, "Data": _xlsx_rows()}),
    clean(10, values("clicks", CLICKS)),
    kwargs={"sheet": 1},
    source="contract",
)
case(
    "xlsx_sheet_missing",
    "sheet='Nope' (the workbook has Notes and Data)",
    _xlsx("videos.xlsx", lambda: {"Notes": NOTES_SHEET, "Data": _xlsx_rows()}),
    error("Nope", "Data"),
    kwargs={"sheet": "Nope"},
    source="contract",
)


def _formula_rows() -> dict[str, list[list[Any]]]:
    rows = _xlsx_rows()
    rows[1][H["Video product clicks"]] = ("=", "40+10", 50)
    rows[2][H["Creator name"]] = "=1+1"
    return {"Videos": rows}


case(
    "xlsx_formula_cached",
    "a formula cell with its cached value, and '=1+1' as text",
    _xlsx("videos.xlsx", _formula_rows, b.write_xlsx),
    clean(
        10,
        all_of(
            values("clicks", CLICKS),
            values(
                "creator_id", ["creator_0", "=1+1"] + [f"creator_{i % 4}" for i in range(2, 10)]
            ),
        ),
    ),
    source="extra",
)


def _bool_rows() -> dict[str, list[list[Any]]]:
    rows = _xlsx_rows()
    rows[2][H["Video-attributed orders"]] = True
    rows[9][H["Video-attributed orders"]] = False
    return {"Videos": rows}


case(
    "xlsx_bool_cells",
    "boolean cells in the orders column",
    _xlsx("videos.xlsx", _bool_rows, b.write_xlsx),
    rejected(8, {r"^orders not a number": 2}),
    source="contract",
)
LIMIT = r"limit|exceed|too (large|big|many)|at most|more than"
case(
    "xlsx_zip_bomb",
    "3.7 MB XLSX whose shared strings expand to 1 GiB (issue: 3 min, 3.2 GB)",
    raw_file("videos.xlsx", b.xlsx_shared_strings_bomb),
    error(pattern=LIMIT),
    time_limit=10,
    memory_mb=300,
    source="issue",
)
case(
    "xlsx_rows_bomb",
    "0.6 MB XLSX with 6,000,000 rows (156 MB of XML, no <dimension>)",
    raw_file("videos.xlsx", b.xlsx_rows_bomb),
    error(pattern=LIMIT),
    kwargs={"site": "US"},
    time_limit=10,
    memory_mb=300,
    source="contract",
)


def _wide_xlsx() -> dict[str, list[list[Any]]]:
    rows = _xlsx_rows()
    return {
        "Videos": [
            r + ([f"m{j}" for j in range(600)] if i == 0 else [1] * 600) for i, r in enumerate(rows)
        ]
    }


case(
    "xlsx_600_columns",
    "XLSX with 612 columns (limit 500)",
    _xlsx("videos.xlsx", _wide_xlsx, b.write_xlsx),
    error(pattern=r"column"),
    source="contract",
)
case(
    "xlsx_not_zip",
    "a CSV saved with an .xlsx name",
    raw_file("videos.xlsx", b.csv_text(b.HEADER, b.base_rows(3)).encode()),
    error(),
    source="contract",
)


def _truncated(folder: Path) -> Path:
    p = b.write_xlsx_openpyxl(folder / "videos.xlsx", {"Videos": _xlsx_rows()})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


case(
    "xlsx_truncated",
    "an .xlsx cut in half (interrupted download)",
    _truncated,
    error(),
    source="extra",
)
case(
    "xlsx_ole_encrypted",
    "an OLE2 compound file named .xlsx (password-protected workbook)",
    raw_file("videos.xlsx", b.OLE2_HEADER),
    error(),
    source="extra",
)
case(
    "xls_legacy",
    "an old binary .xls",
    raw_file("videos.xls", b.OLE2_HEADER),
    error("xlsx"),
    source="extra",
)
case(
    "png_as_csv",
    "a PNG image named videos.csv",
    raw_file("videos.csv", b.png_bytes),
    error(),
    source="contract",
)
case(
    "pdf_as_csv",
    "a PDF named videos.csv",
    raw_file("videos.csv", b.PDF_BYTES),
    error(),
    source="extra",
)
case(
    "random_bytes_csv",
    "4 KB of random bytes named videos.csv",
    raw_file("videos.csv", lambda: random.Random(9).randbytes(4096)),
    error(),
    source="contract",
)

# --- Parquet and DataFrames -----------------------------------------------------------------------


def _pq_columns(**over: Any) -> dict[str, Any]:
    import pyarrow as pa

    rows = b.base_rows(10)
    cols: dict[str, Any] = {
        "Video ID": [r[0] for r in rows],
        "Creator name": [r[1] for r in rows],
        "Site": [r[2] for r in rows],
        "Product ID": [r[3] for r in rows],
        "Followers": pa.array([5000 * (i + 1) for i in range(10)], pa.int64()),
        "Category": [r[5] for r in rows],
        "Commission rate": pa.array([0.15] * 10, pa.float64()),
        "Video product impressions": pa.array([1000 + 100 * i for i in range(10)], pa.int64()),
        "Video product clicks": pa.array(CLICKS, pa.int64()),
        "Video-attributed orders": pa.array([5] * 10, pa.int64()),
        "Creator video-attributed GMV": pa.array(GMV, pa.float64()),
    }
    cols.update(over)
    return cols


def _parquet(**over: Callable[[], Any]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return b.write_parquet(
            folder / "videos.parquet",
            _pq_columns(**{k.replace("_", " "): v() for k, v in over.items()}),
        )

    return build


def _pa(values: list[Any], typ: str) -> Callable[[], Any]:
    def make() -> Any:
        import pyarrow as pa

        return pa.array(values, getattr(pa, typ)())

    return make


# Keyword names use "_" for " " (see _parquet).
ORDERS_BOOL = {"Video-attributed_orders": _pa([True, False] * 5, "bool_")}
case(
    "parquet_clean",
    "typed Parquet export",
    _parquet(),
    clean(10, all_of(values("clicks", CLICKS), values("gmv", GMV))),
    source="extra",
)
case(
    "parquet_bool_counts",
    "orders stored as bool in Parquet (issue: boolean order counts kept)",
    _parquet(**ORDERS_BOOL),
    rejected(0, {r"^orders not a number": 10}),
    source="issue",
)
case(
    "parquet_inf_gmv",
    "GMV inf and -inf in a float Parquet column",
    _parquet(**{"Creator_video-attributed_GMV": _pa([math.inf, -math.inf] + GMV[2:], "float64")}),
    rejected(8, {r"^gmv not finite": 2}),
    source="contract",
)
case(
    "parquet_nan_clicks",
    "clicks NaN (a float NaN, not a null) in Parquet",
    _parquet(
        **{
            "Video_product_clicks": _pa(
                [50.0, math.nan] + [float(c) for c in CLICKS[2:]], "float64"
            )
        }
    ),
    rejected(9, {r"^clicks not finite": 1}),
    source="contract",
)
case(
    "parquet_uint64_overflow",
    "impressions 2**63 + 1 in a uint64 column",
    _parquet(
        **{
            "Video_product_impressions": _pa(
                [2**63 + 1] + [1000 + 100 * i for i in range(1, 10)], "uint64"
            )
        }
    ),
    rejected(9, {r"^impressions out of range": 1}),
    source="contract",
)
case(
    "parquet_followers_1e20",
    "followers 1e20 in a float column",
    _parquet(Followers=_pa([1e20] + [5000.0 * (i + 1) for i in range(1, 10)], "float64")),
    rejected(9, {r"^followers out of range": 1}),
    source="issue",
)
case(
    "dataframe_bool_counts",
    "a DataFrame with a bool orders column (must come back unmodified)",
    _parquet(**ORDERS_BOOL),
    rejected(0, {r"^orders not a number": 10}),
    call="read_export_frame",
    source="contract",
)

# --- folders, paths, permissions --------------------------------------------------------------------


def _folder(*extra: tuple[str, bytes | Callable[[], bytes]]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        d = folder / "export"
        b.write_csv(d / "videos.csv", b.HEADER, b.base_rows(10))
        for name, data in extra:
            (d / name).write_bytes(data() if callable(data) else data)
        return d

    return build


case(
    "folder_with_notes",
    "a data folder with a stray notes.txt (issue: stops the folder)",
    _folder(("notes.txt", b"remember to ask about the UK fees\n")),
    clean(10, notes_mention("notes.txt")),
    call="load_dataset",
    source="issue",
)
JUNK = [
    ("README.md", b"# exports\n"),
    ("logo.png", b.png_bytes),
    ("report.pdf", b.PDF_BYTES),
    ("~$videos.xlsx", b"\x0bowner\x00" * 10),
    (".DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 64),
]
case(
    "folder_with_junk",
    "README.md, a PNG, a PDF, an Excel lock file and .DS_Store next to the export",
    _folder(*JUNK),
    clean(10, notes_mention(*(n for n, _ in JUNK))),
    call="load_dataset",
    source="contract",
)


def _empty_dir(folder: Path) -> Path:
    d = folder / "export"
    d.mkdir()
    return d


def _only_notes(folder: Path) -> Path:
    d = _empty_dir(folder)
    (d / "notes.txt").write_text("nothing here yet\n")
    return d


case(
    "folder_empty", "an empty data folder", _empty_dir, error(), call="load_dataset", source="extra"
)
case(
    "folder_only_notes",
    "a data folder holding only notes.txt",
    _only_notes,
    error(pattern=r"video|data|export"),
    call="load_dataset",
    source="extra",
)


def _locked(build: Callable[[Path], Path], member: str | None = None) -> Callable[[Path], Path]:
    def locked(folder: Path) -> Path:
        p = build(folder)
        os.chmod(p / member if member else p, 0)
        return p

    return locked


case(
    "unreadable_file",
    "a chmod 000 export (issue: bare PermissionError)",
    _locked(csv_file()),
    error(),
    skip=unreadable_skip,
    source="issue",
)
case(
    "folder_unreadable_member",
    "a folder whose videos.csv is chmod 000",
    _locked(_folder(), "videos.csv"),
    error(),
    call="load_dataset",
    names="videos.csv",
    skip=unreadable_skip,
    source="issue",
)
case("folder_to_read_export", "read_export given a folder", _folder(), error(), source="contract")
case(
    "missing_file",
    "a path that does not exist",
    lambda folder: folder / "nope.csv",
    error(),
    source="extra",
)

BY_ID: dict[str, Case] = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"
