"""Value parsers of helpers.load: examples of every quirk, plus property-based round trips."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers.load as load
from helpers.errors import ExportError
from helpers.load import (
    _P_BOOLEAN,
    _P_CURRENCY,
    _P_NOT_FINITE,
    _P_OK,
    _P_OUT_OF_RANGE,
    _P_SEPARATORS,
    _P_SIGN,
    MAX_MAGNITUDE,
    MISSING_TOKENS,
    LoadResult,
    _number_cells,
    _total_rows,
    assemble,
    is_missing,
    normalise_content_type,
    normalise_site,
    normalise_tier,
    parse_count,
    parse_dates,
    parse_money,
    parse_rate,
    read_export,
)
from helpers.schema import SITES

# ------------------------------------------------------------------ missing tokens


@pytest.mark.parametrize("token", ["", "  ", "--", "-", "N/A", "n/a", "NA", "null", " -- ", "—"])
def test_missing_tokens_are_missing(token: str) -> None:
    assert bool(is_missing(pd.Series([token], dtype="str")).iloc[0])
    assert math.isnan(parse_money([token]).iloc[0])
    assert math.isnan(parse_count([token]).iloc[0])
    assert math.isnan(parse_rate([token]).iloc[0])
    assert pd.isna(parse_dates([token]).iloc[0])


def test_values_are_not_missing() -> None:
    s = pd.Series(["0", "abc", "$0.00", "0%"])
    assert not is_missing(s).any()


# -------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "site", "expected"),
    [
        ("$1,234.56", None, 1234.56),
        ("$1,234.56", "US", 1234.56),
        ("£980", "UK", 980.0),
        ("£980.00", "GB", 980.0),
        ("Rp 1.234.567", "ID", 1234567.0),
        ("Rp 1.234", "ID", 1234.0),
        ("1.234", "US", 1.234),
        ("1.234,56 €", "DE", 1234.56),
        ("12,5 €", "FR", 12.5),
        ("1 234,56 €", "FR", 1234.56),
        ("RM 12.50", "MY", 12.5),
        ("฿1,234.00", "TH", 1234.0),
        ("₫ 25.000", "VN", 25000.0),
        ("S$3.20", "SG", 3.2),
        ("USD 7", None, 7.0),
        ("1,234,567", None, 1234567.0),
        ("(12.50)", None, -12.5),
        ("-$5.00", None, -5.0),
        ("  42 ", None, 42.0),
        ("0.5", None, 0.5),
    ],
)
def test_parse_money_examples(text: str, site: str | None, expected: float) -> None:
    assert parse_money([text], site=site).iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("junk", ["abc", "12abc34", "$$", "1-2", "12/05"])
def test_parse_money_junk_is_nan_not_missing(junk: str) -> None:
    assert math.isnan(parse_money([junk]).iloc[0])
    assert not is_missing([junk]).iloc[0]


def test_parse_money_per_row_sites() -> None:
    out = parse_money(["1.234", "1.234", "1,234"], site=["ID", "US", "US"])
    assert out.tolist() == pytest.approx([1234.0, 1.234, 1234.0])


def test_parse_money_numbers_pass_through() -> None:
    s = pd.Series([1.5, np.nan, 3.0])
    out = parse_money(s)
    assert out.iloc[0] == 1.5 and math.isnan(out.iloc[1])


# ------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,345", 12345),
        ("12345", 12345),
        ("1.234", 1234),
        ("1.234.567", 1234567),
        ("1.2K", 1200),
        ("3.4M", 3_400_000),
        ("15k", 15_000),
        ("1.2万", 12_000),
        ("3亿", 300_000_000),
        ("2B", 2_000_000_000),
        ("0", 0),
        ("12.5", 12.5),
    ],
)
def test_parse_count_examples(text: str, expected: float) -> None:
    assert parse_count([text]).iloc[0] == pytest.approx(expected)


def test_abbreviated_counts_scale_exactly() -> None:
    """K/M/B/万/亿 scale the written decimal exactly: 512.3K is 512300 (in floats
    512.3 * 1000 is 512299.99999999994, which a whole-number check refuses)."""
    texts = ["512.3K", "35.4K", "1.15M", "0.29B", "1.5万", "2.01亿", "-1.1K", "4.35 k", "1.0005K"]
    out = parse_count(texts).tolist()
    assert out == [
        512_300,
        35_400,
        1_150_000,
        290_000_000,
        15_000,
        201_000_000,
        -1_100,
        4_350,
        1000.5,
    ]
    assert all(float(x).is_integer() for x in out[:-1])


def test_parse_count_keeps_index() -> None:
    s = pd.Series(["1", "2"], index=[10, 20])
    assert parse_count(s).index.tolist() == [10, 20]


# -------------------------------------------------------------------------- rates


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["12.5%"], [0.125]),
        (["12,5%"], [0.125]),
        ([" 5.93 % "], [0.0593]),
        ([0.125, 0.2], [0.125, 0.2]),
        (["0.125", "0.2"], [0.125, 0.2]),
        ([1500, 800, 2000], [0.15, 0.08, 0.2]),
        (["1500", "100"], [0.15, 0.01]),
        ([15, 20], [0.15, 0.2]),
        (["15%", 0.15, "--"], [0.15, 0.15, np.nan]),
        (["15%", "1500"], [0.15, 0.15]),
    ],
)
def test_parse_rate_rules(values: list[object], expected: list[float]) -> None:
    out = parse_rate(pd.Series(values, dtype=object))
    np.testing.assert_allclose(out.to_numpy(), np.asarray(expected, dtype=float), rtol=1e-12)


def test_parse_rate_force_units() -> None:
    assert parse_rate([50], api_units=True).iloc[0] == pytest.approx(0.005)
    assert parse_rate([500], api_units=False).iloc[0] == pytest.approx(5.0)


# -------------------------------------------------------------------------- dates


def test_parse_dates_iso_and_year_first() -> None:
    out = parse_dates(["2024-01-31", "2024/2/1", "2024年3月5日", "2024-01-31 13:45:00", "--"])
    assert out.dtype == "datetime64[s]"
    assert out.iloc[0] == pd.Timestamp("2024-01-31")
    assert out.iloc[1] == pd.Timestamp("2024-02-01")
    assert out.iloc[2] == pd.Timestamp("2024-03-05")
    assert out.iloc[3] == pd.Timestamp("2024-01-31 13:45")
    assert pd.isna(out.iloc[4])


def test_parse_dates_infers_day_first() -> None:
    out = parse_dates(["31/01/2024", "01/02/2024"])
    assert out.tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]


def test_parse_dates_infers_month_first() -> None:
    out = parse_dates(["01/31/2024", "02/01/2024"])
    assert out.tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]


def test_parse_dates_ambiguous_raises_with_advice() -> None:
    with pytest.raises(ExportError) as err:
        parse_dates(["01/02/2024", "03/04/2024"], column="Post date", file="videos.csv")
    msg = str(err.value)
    assert "date_format" in msg and "videos.csv" in msg and "Post date" in msg


def test_parse_dates_contradicting_orders_raise() -> None:
    with pytest.raises(ExportError, match="date_format"):
        parse_dates(["31/01/2024", "01/31/2024"])


def test_parse_dates_explicit_format_wins() -> None:
    out = parse_dates(["01/02/2024", "garbage"], date_format="%d/%m/%Y")
    assert out.iloc[0] == pd.Timestamp("2024-02-01")
    assert pd.isna(out.iloc[1])


def test_parse_dates_excel_serial_and_datetime_input() -> None:
    assert parse_dates(["45292"]).iloc[0] == pd.Timestamp("2024-01-01")
    s = pd.Series(pd.to_datetime(["2024-05-06"]))
    assert parse_dates(s).dtype == "datetime64[s]"


def test_parse_dates_unparseable_is_nat() -> None:
    out = parse_dates(["2024-01-05", "soon"])
    assert pd.isna(out.iloc[1]) and not is_missing(["soon"]).iloc[0]


# -------------------------------------------------------------- labels (site, tier)


def test_normalise_site() -> None:
    out = normalise_site(["us", " GB ", "uk", "美国", "United Kingdom", "Indonesia", "xx", "--"])
    assert out.tolist() == ["US", "UK", "UK", "US", "UK", "ID", "XX", None]


def test_normalise_tier() -> None:
    out = normalise_tier(
        [
            "Nano",
            "MICRO",
            "Mid",
            "中腰部",
            "头部",
            "超头部",
            "纳米",
            "Micro influencer",
            "giant",
            "",
        ]
    )
    assert out.tolist()[:8] == ["nano", "micro", "mid", "mid", "macro", "mega", "nano", "micro"]
    assert out.iloc[8] == "?giant"
    assert out.iloc[9] is None


def test_normalise_content_type() -> None:
    out = normalise_content_type(["Video", "LIVE", "Showcase", "直播", "Product card", "Other"])
    assert out.tolist() == ["video", "live", "showcase", "live", "showcase", "other"]


# ---------------------------------------------------------------- property-based


def _format_money(value: float, site: str, decimals: int, symbol_first: bool) -> str:
    info = SITES[site]
    text = f"{value:,.{decimals}f}"
    text = text.replace(",", "\0").replace(".", info.decimal_sep).replace("\0", info.thousands_sep)
    return f"{info.symbol} {text}" if symbol_first else f"{text} {info.symbol}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cents=st.integers(min_value=0, max_value=10**11),
    site=st.sampled_from(sorted(SITES)),
    decimals=st.sampled_from([0, 2]),
    symbol_first=st.booleans(),
)
def test_money_round_trip(cents: int, site: str, decimals: int, symbol_first: bool) -> None:
    value = cents / 100 if decimals else float(cents // 100)
    text = _format_money(value, site, decimals, symbol_first)
    parsed = parse_money([text], site=site).iloc[0]
    assert parsed == pytest.approx(value, abs=0.005), text


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=10**12),
    sep=st.sampled_from([",", ".", " ", ""]),
)
def test_count_round_trip(n: int, sep: str) -> None:
    text = f"{n:,}".replace(",", sep)
    assert parse_count([text]).iloc[0] == n


@settings(max_examples=150, deadline=None)
@given(bp=st.integers(min_value=0, max_value=8000))
def test_rate_round_trip_percent_text(bp: int) -> None:
    rate = bp / 10_000
    assert parse_rate([f"{rate * 100:.2f}%"]).iloc[0] == pytest.approx(rate, abs=1e-9)
    assert parse_rate([rate]).iloc[0] == pytest.approx(rate)


@settings(max_examples=100, deadline=None)
@given(bps=st.lists(st.integers(min_value=100, max_value=8000), min_size=1, max_size=20))
def test_rate_round_trip_api_units(bps: list[int]) -> None:
    out = parse_rate(bps)
    np.testing.assert_allclose(out.to_numpy(), np.asarray(bps) / 10_000)


@settings(max_examples=100, deadline=None)
@given(
    token=st.sampled_from(sorted(MISSING_TOKENS)),
    left=st.sampled_from(["", " ", "  ", "\t"]),
    right=st.sampled_from(["", " ", "\u00a0"]),
    upper=st.booleans(),
)
def test_missing_tokens_with_whitespace_and_case(
    token: str, left: str, right: str, upper: bool
) -> None:
    text = left + (token.upper() if upper else token) + right
    assert is_missing([text]).iloc[0]
    assert math.isnan(parse_count([text]).iloc[0])


# ------------------------------------------------------- fast paths agree with the rules


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=10**9).map("{:,}".format),
            st.integers(min_value=0, max_value=10**9).map(lambda c: f"${c / 100:,.2f}"),
            st.integers(min_value=0, max_value=10**7).map(lambda c: f"{c / 10:.1f}"),
            st.integers(min_value=0, max_value=10**9).map(lambda c: f"0{c:,}"),
            st.integers(min_value=0, max_value=10**6).map(lambda c: f"{c:,}.{c % 1000:03d}"),
            st.sampled_from(["1,234", "1.234", "$980", "12", "--", "abc", "1,2345", "$1,234"]),
        ),
        min_size=1,
        max_size=30,
    ),
    site=st.sampled_from(["US", "ID", "DE", "FR"]),
)
def test_fast_number_path_matches_general_rules(cells: list[str], site: str) -> None:
    """The shortcut for the usual spellings ("$1,234.56", "12,345") gives exactly what
    the general separator rules give (run with the shortcut switched off)."""
    import helpers.load as load

    fast_money = parse_money(cells, site=site)
    fast_count = parse_count(cells, site=site)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(load, "_FAST_MONEY_RE", "NEVER")
        m.setattr(load, "_FAST_COUNT_RE", "NEVER")
        pd.testing.assert_series_equal(fast_money, parse_money(cells, site=site))
        pd.testing.assert_series_equal(fast_count, parse_count(cells, site=site))


def test_per_row_sites_parse_each_row_with_its_convention() -> None:
    cells = ["1.234", "1.234", "1,234", "1,234", "Rp 1.234.567", "--"]
    sites = ["US", "ID", "US", "ID", "ID", "US"]
    got = parse_money(cells, site=sites)
    assert got.iloc[:5].tolist() == pytest.approx([1.234, 1234.0, 1234.0, 1.234, 1234567.0])
    assert math.isnan(got.iloc[5])
    assert parse_count(cells, site=sites).iloc[:4].tolist() == [1234.0] * 4


@pytest.mark.parametrize("cell", ["x", " x", "x ", "\tx", "\u00a0x", "x\u3000", "\u202fx", " ", ""])
def test_strip_shortcut_equals_str_strip(cell: str) -> None:
    from helpers.load import _strip

    t = pd.Series([cell, "plain", None], dtype="str")
    pd.testing.assert_series_equal(_strip(t), t.str.strip())


# ------------------------------------------------- hostile values (issue 9), per parser


def _problems(cells: list[object], **kw: object) -> list[int]:
    return _number_cells(pd.Series(cells, dtype=object), **kw).problem.tolist()


@pytest.mark.parametrize(
    "text",
    [
        "99999999999999999999",
        "-99999999999999999999",
        "1e20",
        "1E+20",
        "1000000000000001",
        "1" * 400,
    ],
)
def test_beyond_the_limit_is_out_of_range_never_wrapped(text: str) -> None:
    assert math.isnan(parse_count([text]).iloc[0])
    assert math.isnan(parse_money([text]).iloc[0])
    assert _problems([text], limit=MAX_MAGNITUDE) == [_P_OUT_OF_RANGE]


def test_limit_is_inclusive_and_scientific_notation_parses() -> None:
    assert parse_count(["1000000000000000", "1e15", "1.5E+06", "2e3"]).tolist() == [
        1e15,
        1e15,
        1_500_000,
        2000,
    ]


def test_numeric_input_out_of_range_and_not_finite() -> None:
    s = pd.Series([1e20, np.inf, -np.inf, np.nan, 5.0])
    cells = _number_cells(s, limit=MAX_MAGNITUDE)
    assert cells.problem.tolist() == [_P_OUT_OF_RANGE, _P_NOT_FINITE, _P_NOT_FINITE, _P_OK, _P_OK]
    assert np.isnan(cells.values[:4]).all() and cells.values[4] == 5.0
    big = pd.Series(np.array([2**63 + 5, 7], dtype=np.uint64))
    assert _number_cells(big, limit=MAX_MAGNITUDE).problem.tolist() == [_P_OUT_OF_RANGE, _P_OK]


@pytest.mark.parametrize("dtype", ["Float64", "double[pyarrow]", "Float32"])
def test_nullable_float_nan_is_not_finite_and_null_is_missing(dtype: str) -> None:
    """Nullable and Arrow floats keep a NaN value apart from a null: NaN (a failed
    computation) is "not finite", null is missing. numpy float64 cannot tell (above)."""
    import pyarrow as pa

    values = pa.array([5.0, float("nan"), None, 2.0], type=pa.float64())
    data = np.array([5.0, np.nan, 0.0, 2.0])
    s = pd.Series(pd.arrays.FloatingArray(data, np.array([False, False, True, False])))
    if dtype == "double[pyarrow]":
        s = pd.Series(pd.arrays.ArrowExtensionArray(values))
    elif dtype == "Float32":
        s = s.astype("Float32")
    assert s.isna().tolist() == [False, False, True, False]  # the NaN survived as a value
    cells = _number_cells(s, limit=MAX_MAGNITUDE)
    assert cells.problem.tolist() == [_P_OK, _P_NOT_FINITE, _P_OK, _P_OK]
    assert cells.values[[0, 3]].tolist() == [5.0, 2.0] and np.isnan(cells.values[1:3]).all()
    _out, problem, _note = load._rate_core(s, scale="percent")
    assert problem.tolist() == [_P_OK, _P_NOT_FINITE, _P_OK, _P_OK]


@pytest.mark.parametrize(
    "text", ["inf", "-inf", "+inf", "Infinity", "-Infinity", "INF", "NaN", "nan", " NaN ", "∞"]
)
def test_non_finite_words_are_not_finite_in_number_columns(text: str) -> None:
    assert _problems([text]) == [_P_NOT_FINITE]
    assert math.isnan(parse_count([text]).iloc[0])
    assert math.isnan(parse_money([text]).iloc[0])
    assert math.isnan(parse_rate([text, "15%"]).iloc[0])
    _out, problem, _note = load._rate_core(pd.Series([text, "15%"]))
    assert problem.tolist() == [_P_NOT_FINITE, _P_OK]


def test_nan_and_none_words_stay_missing_as_text() -> None:
    """In a text column "NaN" / "None" mean no value, as before."""
    assert is_missing(["NaN", "None", "nan", "none", "NULL"]).all()


@pytest.mark.parametrize("text", ["TRUE", "FALSE", "true", "false", "True", "是", "否", "yes"])
def test_boolean_words_are_not_numbers(text: str) -> None:
    assert _problems([text]) == [_P_BOOLEAN]
    assert math.isnan(parse_count([text]).iloc[0])
    assert math.isnan(parse_money([text]).iloc[0])


@pytest.mark.parametrize("dtype", ["bool", "boolean"])
def test_boolean_columns_are_not_numbers(dtype: str) -> None:
    values = [True, False] if dtype == "bool" else [True, False, None]
    s = pd.Series(values, dtype=dtype)
    problems = _number_cells(s).problem.tolist()
    assert problems[:2] == [_P_BOOLEAN, _P_BOOLEAN]
    if dtype == "boolean":
        assert problems[2] == _P_OK  # <NA> is missing, not a boolean
    assert parse_count(s).isna().all() and parse_money(s).isna().all()
    assert parse_rate(s).isna().all()
    # object cells holding Python booleans (a DataFrame built from records)
    assert _problems([True, 3]) == [_P_BOOLEAN, _P_OK]


@pytest.mark.parametrize(
    "text", ["1,2,3", "1.2.3,4", "12,34,567", "1,234,56", "12 34", "1,23,456.78", "$1,2,3"]
)
def test_misplaced_separators_are_refused(text: str) -> None:
    assert _problems([text], three_digit_group="thousands") == [_P_SEPARATORS]
    assert _problems([text]) == [_P_SEPARATORS]
    assert math.isnan(parse_count([text]).iloc[0])
    assert math.isnan(parse_money([text]).iloc[0])


@pytest.mark.parametrize(
    ("text", "site", "expected"),
    [
        ("1,234,567", "US", 1234567.0),
        ("1.234.567,89", "DE", 1234567.89),
        ("1 234 567,89", "FR", 1234567.89),
        ("1'234.50", None, 1234.5),
        ("12,5", "DE", 12.5),
        ("0,5", None, 0.5),
        ("1.234.567", "US", 1234567.0),
    ],
)
def test_well_grouped_numbers_still_parse(text: str, site: str | None, expected: float) -> None:
    assert parse_money([text], site=site).iloc[0] == pytest.approx(expected)


@settings(max_examples=150, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=3, max_size=12).filter(lambda d: d[0] != "0"),
    cuts=st.sets(st.integers(min_value=1, max_value=11), min_size=2, max_size=5),
    sep=st.sampled_from([",", "."]),
)
def test_separators_never_silently_merge_digits(digits: str, cuts: set[int], sep: str) -> None:
    """A count with two or more separators is either grouped in threes (and then reads
    as its digits) or refused: "1,2,3" is never 123."""
    cuts = {c for c in cuts if c < len(digits)}
    text = "".join(sep + d if i in cuts else d for i, d in enumerate(digits))
    got = parse_count([text]).iloc[0]
    groups = text.split(sep)
    well_grouped = 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if len(cuts) >= 2 and not well_grouped:
        assert math.isnan(got), text
    elif len(cuts) >= 2:
        assert got == int(digits), text


def test_signs_in_counts_and_unknown_signs_in_money() -> None:
    assert _problems(["$12", "12 pcs", "1.2K", "3万", "USD 7"], signs_allowed=False) == [
        _P_SIGN,
        _P_SIGN,
        _P_OK,
        _P_OK,
        _P_SIGN,
    ]
    assert math.isnan(parse_count(["$12"]).iloc[0])
    assert _problems(["12 kg", "USD 7", "$7", "7 €", "Rp 7"]) == [_P_SIGN] + [_P_OK] * 4


@pytest.mark.parametrize(
    ("text", "site", "ok"),
    [
        ("£980", "US", False),
        ("£980", "UK", True),
        ("$980", "UK", False),
        ("$12", "SG", True),
        ("$12", "MX", True),
        ("S$12", "US", False),
        ("US$12", "SG", False),
        ("R$ 12,50", "BR", True),
        ("R$ 12,50", "US", False),
        ("Rp 1.234.567", "ID", True),
        ("Rp 1.234.567", "MY", False),
        ("1.234,56 €", "DE", True),
        ("1.234,56 €", "UK", False),
        ("GBP 980", "UK", True),
        ("USD 980", "UK", False),
        ("¥1,200", "JP", True),
        ("980", "UK", True),
        ("£980", "XX", True),  # unknown site: not judged
        ("£980", None, True),  # no site at all: not judged
    ],
)
def test_currency_sign_must_fit_the_site(text: str, site: str | None, ok: bool) -> None:
    got = parse_money([text], site=site).iloc[0]
    assert math.isnan(got) != ok, (text, site, got)
    expected = load._expected_currency(site, None, 1)
    if expected is not None:
        assert _problems([text], currency=expected) == [_P_OK if ok else _P_CURRENCY]


def test_currency_option_overrides_the_site_currency_per_row() -> None:
    got = parse_money(["£980", "$5", "12"], site=["US", "US", "US"], currency="gbp")
    assert math.isnan(got.iloc[1])
    assert got.iloc[[0, 2]].tolist() == [980.0, 12.0]
    per_row = parse_money(["£980", "£980", "$5", "$5"], site=["UK", "US", "US", "XX"])
    assert per_row.isna().tolist() == [False, True, False, False]
    with pytest.raises(ExportError, match="accepted") as err:
        parse_money(["1"], currency="dollars")
    assert "currency: USD" in str(err.value)


# ------------------------------------------------------------- commission scale


@pytest.mark.parametrize(
    ("values", "scale", "expected"),
    [
        ([0.15, 0.2], "fraction", [0.15, 0.2]),
        ([15, 20, 150], "percent", [0.15, 0.2, 1.5]),
        ([1500, 800], "api", [0.15, 0.08]),
        (["12.5%", "1500"], "api", [0.125, 0.15]),
        (["12.5%", "15"], "fraction", [0.125, 15.0]),
    ],
)
def test_explicit_commission_scale(values: list[object], scale: str, expected: list[float]) -> None:
    out = parse_rate(pd.Series(values, dtype=object), scale=scale)
    np.testing.assert_allclose(out.to_numpy(), expected)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1], [0.01, 0.01]),
        ([0, 0.1], [0.0, 0.1]),
        ([0, 15], [0.0, 0.15]),
        ([100, 8000], [0.01, 0.8]),
        (["15%", 150], [0.15, 0.015]),
    ],
)
def test_commission_scale_inferred_when_unambiguous(
    values: list[object], expected: list[float]
) -> None:
    out = parse_rate(pd.Series(values, dtype=object))
    np.testing.assert_allclose(out.to_numpy(), expected)


@pytest.mark.parametrize(
    ("values", "suggest"),
    [([15, 20, 12, 150], "percent"), ([0.15, 15], "percent"), ([0.1, 0.2, 0.3, 1500], "fraction")],
)
def test_mixed_commission_scales_raise_with_the_fix(values: list[float], suggest: str) -> None:
    with pytest.raises(ExportError) as err:
        load._rate_core(
            pd.Series(values, dtype=object),
            file="videos.csv",
            column="Commission",
            rownum=np.arange(5, 5 + len(values)),
        )
    msg = str(err.value)
    assert "videos.csv" in msg and "'Commission'" in msg
    last = 5 + len(values) - 1
    assert f"row {last} " in msg  # the odd value's Excel row
    assert f"commission_scale: {suggest}" in msg and f'commission_scale="{suggest}"' in msg
    assert "'fraction'" in msg and "'api'" in msg  # accepted values listed


def test_unknown_commission_scale_lists_accepted() -> None:
    with pytest.raises(ExportError, match="accepted.*fraction.*percent.*api"):
        parse_rate([15], scale="percentage")


# -------------------------------------------------------------------- total rows


@pytest.mark.parametrize(
    "cell",
    [
        "Total",
        "TOTAL",
        "total:",
        "Grand total",
        "Grand Total：",
        "Subtotal",
        "Sub-total",
        "Sum",
        "合计",
        "总计：",
        "小计",
        "汇总",
        " Totals ",
    ],
)
def test_total_words_are_found(cell: str) -> None:
    raw = pd.DataFrame({"Creator name": ["@a", cell], "Clicks": ["1", "2"]})
    found = _total_rows(raw, {"Creator name": "creator_id", "Clicks": "clicks"})
    assert [(h, m.tolist()) for h, m in found] == [("Creator name", [False, True])]


def test_total_rows_in_first_text_column_only() -> None:
    raw = pd.DataFrame(
        {
            "Clicks": ["1", "Total"],  # a number column is not the first text column
            "Date": ["Sum", "2024-01-05"],
            "Category": ["beauty", "total"],  # not the first text column: a real value
            "Creator name": ["@alice", "@total_fan"],
        }
    )
    mapping = {
        "Clicks": "clicks",
        "Date": "date",
        "Category": "category",
        "Creator name": "creator_id",
    }
    found = _total_rows(raw, mapping)
    assert [(h, m.tolist()) for h, m in found] == [("Date", [True, False])]


# ------------------------------------------------ hostile values end to end (read_export)

_HEADERS = {
    "content_id": "Video ID",
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


def _row(i: int, **kw: str) -> dict[str, str]:
    base = {
        "content_id": f"73000000000{i:04d}",
        "creator_id": f"@creator{i}",
        "product_id": f"1729{i:04d}",
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


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    cols = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([_HEADERS[c] for c in cols])
        for r in rows:
            w.writerow([r[c] for c in cols])
    return path


def _read(path: Path, **kw: object) -> LoadResult:
    """read_export with the checks every hostile load must pass: rows read = kept +
    rejected, every reason counted, and the input file untouched."""
    before = path.read_bytes()
    r = read_export(path, **kw)
    s = r.summary
    assert s.rows_read == s.rows_kept + s.rows_rejected
    assert len(r.data) == s.rows_kept and len(r.rejected) == s.rows_rejected
    kinds = [p.split(" (")[0] for text in r.rejected["reason"] for p in text.split("; ")]
    assert set(kinds) == set(s.rejected_by_reason)
    assert path.read_bytes() == before
    return r


def _reasons(r: LoadResult) -> dict[int, str]:
    return dict(zip(r.rejected["row"].tolist(), r.rejected["reason"].tolist(), strict=True))


def test_read_export_out_of_range_counts_and_followers(tmp_path: Path) -> None:
    rows = [
        _row(1),
        _row(2, impressions="99999999999999999999"),  # line 3: beyond int64
        _row(3, followers="1e20"),  # 4: was a bare TypeError
        _row(4, followers="99999999999999999999"),  # 5
        _row(5, clicks="2000000000000000"),  # 6: > 1e15
        _row(6, gmv="$99,999,999,999,999,999"),  # 7: money beyond 1e15
    ]
    r = _read(_write(tmp_path / "v.csv", rows))
    assert r.summary.rows_read == 6 and r.summary.rows_kept == 1
    by = r.summary.rejected_by_reason
    assert by["impressions out of range"] == 1 and by["followers out of range"] == 2
    assert by["clicks out of range"] == 1 and by["gmv out of range"] == 1
    reasons = _reasons(r)
    assert "Video product impressions: '99999999999999999999' is beyond 1e+15" in reasons[3]
    assert "followers out of range (Followers: '1e20'" in reasons[4]
    assert int(r.data["impressions"].min()) >= 0  # nothing wrapped to -9223372036854775808


def test_read_export_non_finite_and_booleans(tmp_path: Path) -> None:
    rows = [
        _row(1),
        _row(2, gmv="inf"),
        _row(3, gmv="-Infinity"),
        _row(4, gmv="NaN"),
        _row(5, orders="TRUE"),
        _row(6, orders="是"),
        _row(7, impressions="false"),
        _row(8, commission_rate="Infinity"),
    ]
    r = _read(_write(tmp_path / "v.csv", rows))
    assert r.summary.rows_kept == 1
    by = r.summary.rejected_by_reason
    assert by["gmv not finite"] == 3 and by["commission_rate not finite"] == 1
    assert by["orders not a number"] == 2 and by["impressions not a number"] == 1
    reasons = _reasons(r)
    assert "gmv not finite (Creator-attributed GMV: 'inf' is not a finite number)" in reasons[3]
    assert "Video-attributed orders: 'TRUE' is a yes/no value" in reasons[6]


def test_read_export_malformed_separators(tmp_path: Path) -> None:
    rows = [
        _row(1),
        _row(2, clicks="1,2,3"),
        _row(3, impressions="1.2.3,4"),
        _row(4, gmv="12,34,567"),
        _row(5, impressions="12,345", clicks="1,234"),  # well-formed: kept
    ]
    r = _read(_write(tmp_path / "v.csv", rows))
    assert r.summary.rows_kept == 2
    assert 123 not in r.data["clicks"].tolist()
    by = r.summary.rejected_by_reason
    assert by["clicks not a number"] == 1 and by["impressions not a number"] == 1
    assert by["gmv not a number"] == 1
    assert "'1,2,3' has misplaced separators" in _reasons(r)[3]
    assert r.data["impressions"].tolist() == [1000, 12345]


def test_read_export_currency_mismatch(tmp_path: Path) -> None:
    rows = [
        _row(1),
        _row(2, gmv="£980"),  # line 3: pounds on a US row
        _row(3, site="UK", gmv="£980"),  # 4: fine
        _row(4, site="UK", gmv="$980"),  # 5: dollars on a UK row
        _row(5, site="XX", gmv="£980"),  # 6: unknown site (rejected for that), not judged
        _row(6, site="ID", gmv="Rp 1.234.567"),  # 7: fine
    ]
    p = _write(tmp_path / "v.csv", rows)
    r = _read(p)
    reasons = _reasons(r)
    assert r.summary.rejected_by_reason["currency mismatch"] == 2
    assert reasons[3].split("; ")[0] == (
        "currency mismatch (Creator-attributed GMV: '£980' is not in USD, the currency of site US)"
    )
    assert reasons[5].startswith("currency mismatch (Creator-attributed GMV: '$980' is not in GBP")
    assert "currency mismatch" not in reasons[6] and "unknown site" in reasons[6]
    assert sorted(r.data["gmv"].tolist()) == [980.0, 1234.56, 1234567.0]
    # currency= overrides the site currency: now the dollar rows are the odd ones
    r2 = _read(p, currency="GBP")
    mismatched = {k for k, v in _reasons(r2).items() if "currency mismatch" in v}
    assert mismatched == {2, 5, 7}
    assert "the currency= option" in _reasons(r2)[2]
    with pytest.raises(ExportError, match="currency: USD"):
        read_export(p, currency="pounds")


def test_read_export_commission_scale(tmp_path: Path) -> None:
    rows = [_row(i, commission_rate=str(v)) for i, v in enumerate([15, 20, 12, 150, 10], 1)]
    p = _write(tmp_path / "v.csv", rows)
    with pytest.raises(ExportError) as err:
        read_export(p)
    msg = str(err.value)
    assert str(p) in msg and "'Commission rate'" in msg
    assert "row 5 '150'" in msg  # Excel row: header on line 1, the 4th data row on line 5
    assert "commission_scale: percent" in msg and 'commission_scale="percent"' in msg
    r = _read(p, commission_scale="percent")
    assert r.data["commission_rate"].tolist() == pytest.approx([0.15, 0.2, 0.12, 0.1])
    assert _reasons(r) == {5: "commission rate outside 0-80 % (1.5)"}
    assert any("commission_scale='percent'" in n for n in r.summary.notes)
    api = _read(_write(tmp_path / "api.csv", [_row(1, commission_rate="1500")]))
    assert api.data["commission_rate"].tolist() == pytest.approx([0.15])


def test_assemble_passes_commission_scale_to_the_products_export(tmp_path: Path) -> None:
    videos = [
        {k: v for k, v in _row(i, product_id=f"P{i}").items() if k != "commission_rate"}
        for i in (1, 2)
    ]
    vp = _write(tmp_path / "videos.csv", videos)
    pp = tmp_path / "products.csv"
    pp.write_text("Product ID,Commission rate\nP1,15\nP2,150\n", encoding="utf-8")
    with pytest.raises(ExportError, match="commission_scale"):
        assemble(vp, products=pp)
    r = assemble(vp, products=pp, commission_scale="api")
    assert r.data["commission_rate"].tolist() == pytest.approx([0.0015, 0.015])


def test_read_export_total_rows(tmp_path: Path) -> None:
    rows = [
        _row(1),
        _row(2),
        _row(3, creator_id="Total", impressions="2,000", clicks="100", orders="6"),
        _row(4, creator_id="Grand total:", followers="--", category="--"),
        _row(5, creator_id="小计"),
        _row(6, creator_id="合计：", site="--"),
        _row(7, content_id="Sum", creator_id="--"),
    ]
    r = _read(_write(tmp_path / "v.csv", rows))
    assert r.summary.rows_kept == 2 and r.summary.rejected_by_reason == {"total row": 5}
    reasons = _reasons(r)
    assert reasons[4] == (
        "total row (Creator name: 'Total' marks a total or subtotal line, not data: "
        "excluded so that it is not added in)"
    )
    assert "; " not in "".join(reasons.values())  # a total row has no other reason
    assert reasons[8].startswith("total row (Video ID: 'Sum'")
    assert int(r.data["impressions"].sum()) == 2000  # the totals were not added in


def test_read_export_text_tokens_stay_missing(tmp_path: Path) -> None:
    rows = [_row(1, product_id="NaN"), _row(2, product_id="None")]
    r = _read(_write(tmp_path / "v.csv", rows))
    assert r.summary.rows_kept == 2
    assert r.data["product_id"].isna().all()


def test_read_export_frame_and_parquet_with_booleans_and_inf(tmp_path: Path) -> None:
    df = pd.DataFrame([_row(i) for i in range(1, 5)]).rename(columns=_HEADERS)
    df["Video-attributed orders"] = [True, False, True, False]
    df["Creator-attributed GMV"] = [1.0, np.inf, 3.0, 4.0]
    df["Video product impressions"] = np.array([1000, 1000, 1000, 2**63 + 1], dtype=np.uint64)
    r = read_export(df)
    assert r.summary.rows_kept == 0 and r.summary.rows_read == 4
    by = r.summary.rejected_by_reason
    assert by["orders not a number"] == 4 and by["gmv not finite"] == 1
    assert by["impressions out of range"] == 1
    p = tmp_path / "v.parquet"
    df.to_parquet(p)
    rp = _read(p)
    assert rp.summary.rejected_by_reason["orders not a number"] == 4
    assert "'True' is a yes/no value" in rp.rejected["reason"].iloc[0]
