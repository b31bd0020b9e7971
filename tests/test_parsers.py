"""Value parsers of helpers.load: examples of every quirk, plus property-based round trips."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.errors import ExportError
from helpers.load import (
    MISSING_TOKENS,
    is_missing,
    normalise_content_type,
    normalise_site,
    normalise_tier,
    parse_count,
    parse_dates,
    parse_money,
    parse_rate,
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
