"""Tests of helpers.synth: the generator, its truth, the export writer and the CLI."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from helpers import synth
from helpers.schema import CANONICAL_COLUMNS, SITES, TIER_DTYPE, TIERS, canonical_name
from helpers.synth import expected_rates, make_affiliate_data, write_exports

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small() -> synth.SynthResult:
    return make_affiliate_data(2_000, seed=1)


@pytest.fixture(scope="module")
def big() -> synth.SynthResult:
    # Many products per group so the realised commission rates average out to the
    # uniform ranges the expected rates assume; then creators are the only clusters.
    return make_affiliate_data(200_000, seed=7, products_per_group=2_000)


def _cluster_ratio(df: pd.DataFrame, num: str, den: str) -> tuple[float, float]:
    """Pooled ratio sum(num)/sum(den) and its creator-clustered (linearised) SE."""
    per = df.groupby("creator_id", observed=True)[[num, den]].sum()
    n = len(per)
    r = per[num].sum() / per[den].sum()
    resid = per[num] - r * per[den]
    se = np.sqrt(n / (n - 1) * (resid**2).sum()) / per[den].sum()
    return float(r), float(se)


# --------------------------------------------------------------------------- frame


def test_same_seed_same_frame_other_seed_differs() -> None:
    a = make_affiliate_data(3_000, seed=5)
    b = make_affiliate_data(3_000, seed=5)
    c = make_affiliate_data(3_000, seed=6)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.latent, b.latent)
    pd.testing.assert_frame_equal(a.creators, b.creators)
    assert a.truth == b.truth
    assert not a.data[["clicks", "orders", "gmv"]].equals(c.data[["clicks", "orders", "gmv"]])


def test_columns_and_dtypes_match_schema(small: synth.SynthResult) -> None:
    df = small.data
    assert list(df.columns) == list(CANONICAL_COLUMNS)
    for name, col in CANONICAL_COLUMNS.items():
        dtype = df[name].dtype
        if col.dtype == "tier":
            assert dtype == TIER_DTYPE, name
        elif col.dtype == "category":
            assert isinstance(dtype, pd.CategoricalDtype), name
        elif col.dtype == "string":
            assert isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA, name
        else:
            assert dtype == pd.api.types.pandas_dtype(col.dtype), (name, dtype, col.dtype)
    assert len(small.latent) == len(df)
    assert small.latent.index.equals(df.index)
    required_missing = df[[c for c, col in CANONICAL_COLUMNS.items() if col.required]].isna().sum()
    assert required_missing.sum() == 0


def test_invariants(big: synth.SynthResult) -> None:
    df = big.data
    assert (df["impressions"] >= 1).all()
    assert (df["clicks"] <= df["impressions"]).all()
    assert (df["orders"] <= df["clicks"]).all()
    assert (df["items_sold"] >= df["orders"]).all()
    assert (df["refunds"] >= 0).all() and (df["refunds"] <= df["gmv"]).all()
    assert ((df["orders"] == 0) == (df["gmv"] == 0)).all()
    assert (df["followers"] >= 1_000).all()
    # commission only on the net paid amount, rounded to the currency's minor unit
    dec = df["site"].astype(str).map(lambda s: synth.CURRENCY_DECIMALS.get(SITES[s].currency, 2))
    half_unit = 0.5 * 10.0 ** (-dec.astype("float64")) + 1e-9
    err = (df["commission_paid"] - df["commission_rate"] * (df["gmv"] - df["refunds"])).abs()
    assert (err <= half_unit).all()
    # money on the currency grid
    for c in ("gmv", "refunds", "commission_paid", "sample_cost", "flat_fee"):
        scaled = df[c] * 10.0 ** dec.astype("float64")
        assert np.allclose(scaled, np.round(scaled), atol=1e-6), c
    # views are not clicks: 3-20 per impression, missing only for showcase
    vv = df["video_views"]
    assert (vv.isna() == (df["content_type"] == "showcase")).all()
    ratio = vv.dropna().astype("float64") / df.loc[vv.notna(), "impressions"]
    assert ratio.between(2.5, 20.5).all()
    # samples on the first row of each creator-product pair, flat fees only mid and up
    first = ~df.duplicated(["creator_id", "product_id"])
    assert ((df["sample_cost"] > 0) == first).all()
    fee = df["flat_fee"] > 0
    assert df.loc[fee, "tier"].isin(["mid", "macro", "mega"]).all()
    assert not df.loc[fee, "creator_id"].duplicated().any()
    assert df["content_id"].is_unique
    assert df["date"].is_monotonic_increasing
    # one site and one follower count per creator; one site/category/rate per product
    assert (
        (df.groupby("creator_id", observed=True)[["site", "followers"]].nunique() == 1).all().all()
    )
    assert (
        (
            df.groupby("product_id", observed=True)[
                ["site", "category", "commission_rate"]
            ].nunique()
            == 1
        )
        .all()
        .all()
    )
    # latent probabilities are the model's
    assert big.latent["true_ctr"].between(0, 1).all() and big.latent["true_cvr"].between(0, 1).all()


def test_commission_rates_in_domain_ranges(big: synth.SynthResult) -> None:
    for cat, spec in synth.CATEGORY_DEFAULTS.items():
        rates = big.products.loc[big.products["category"] == cat, "commission_rate"]
        lo, hi = spec.commission
        assert rates.between(lo / 100, hi / 100).all(), cat
        assert np.allclose(rates * 100, np.round(rates * 100)), "whole percent"


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_tier_site_category_in_2k_rows(seed: int) -> None:
    df = make_affiliate_data(2_000, seed=seed).data
    assert set(df["tier"]) == set(TIERS)
    assert set(df["site"]) == {"US", "UK", "ID", "TH"}
    assert set(df["category"]) == set(synth.CATEGORY_DEFAULTS)
    assert df["site"].value_counts().idxmax() == "US"
    assert df.groupby("creator_id", observed=True).size().mean() >= 5


def test_heavy_tails(big: synth.SynthResult) -> None:
    df = big.data
    assert (df["impressions"] < 500).mean() > 0.3
    assert (df["impressions"] > 100_000).sum() > 0
    assert big.creators["followers"].max() >= 1_000_000


def test_money_scale_by_currency(big: synth.SynthResult) -> None:
    aov = big.data.groupby("site", observed=True).apply(
        lambda g: g["gmv"].sum() / g["orders"].sum(), include_groups=False
    )
    # IDR ~ 15,000x and THB ~ 35x the USD order value, GBP ~ 0.8x
    assert 5_000 < aov["ID"] / aov["US"] < 40_000
    assert 15 < aov["TH"] / aov["US"] < 80
    assert 0.5 < aov["UK"] / aov["US"] < 1.2


def test_bad_arguments_say_what_is_accepted() -> None:
    with pytest.raises(ValueError, match="accepted codes"):
        make_affiliate_data(100, sites=("US", "XX"))
    with pytest.raises(ValueError, match="accepted names"):
        make_affiliate_data(100, categories=["beauty", "toys"])
    with pytest.raises(ValueError, match="n_rows"):
        make_affiliate_data(0)
    with pytest.raises(ValueError, match="increase"):
        make_affiliate_data(100, tier_thresholds={"micro": 5, "mid": 4, "macro": 6, "mega": 7})


def test_custom_thresholds_and_sites() -> None:
    th = {"micro": 5_000, "mid": 50_000, "macro": 250_000, "mega": 800_000}
    res = make_affiliate_data(5_000, seed=2, sites=("US", "VN", "MY"), tier_thresholds=th)
    cre = res.creators
    assert ((cre["followers"] >= 800_000) == (cre["tier"] == "mega")).all()
    assert set(res.data["site"]) == {"US", "VN", "MY"}
    assert res.truth["creators"]["tier_thresholds"] == th


# --------------------------------------------------------------------------- truth


def test_truth_json_serialisable_and_complete(small: synth.SynthResult) -> None:
    truth = small.truth
    back = json.loads(json.dumps(truth))
    assert back == truth
    conv = truth["conversion"]
    for key in ("intercept", "site_offset", "tier", "category", "commission_rate", "creator_sd"):
        assert key in conv
    assert set(conv["tier"]) == set(TIERS) and conv["tier"]["nano"] == 0.0
    assert conv["category"]["beauty"] == 0.0 and set(conv["category"]) == set(
        synth.CATEGORY_DEFAULTS
    )
    assert set(conv["site_offset"]) == {"US", "UK", "ID", "TH"}
    ctr = truth["ctr"]
    for key in (
        "intercept",
        "site_offset",
        "tier",
        "category",
        "content_type",
        "creator_sd",
        "video_sd",
    ):
        assert key in ctr
    marg = truth["conversion_marginal"]
    assert set(marg["by_site"]) == {"US", "UK", "ID", "TH"}
    for fit in [*marg["by_site"].values(), marg["pooled"]]:
        assert set(fit["tier"]) == set(TIERS) and set(fit["category"]) == set(conv["category"])
    # marginal coefficients are attenuated towards 0, by about 1/sqrt(1 + 0.346 sd^2)
    att = marg["pooled"]["commission_rate"] / conv["commission_rate"]
    assert att < 1 and att == pytest.approx(marg["approx_attenuation"], abs=0.01)
    for site, by_site in truth["ctr_expected"].items():
        for cat, v in by_site.items():
            assert 0.005 < v < 0.06, (site, cat)
    for cat, spec in truth["categories"].items():
        assert 0.01 <= spec["baseline_ctr"] <= 0.04, cat
        assert 0.02 <= spec["baseline_cvr"] <= 0.08, cat
    assert truth["ctr_lift_vs_US_expected"]["US"]["beauty"] == 0.0
    assert sum(truth["creators"]["tier_share"].values()) == pytest.approx(1.0)


def test_marginal_attenuation_grows_with_creator_sd() -> None:
    atts, rules = [], []
    for sd in (0.25, 0.75, 1.5):
        t = make_affiliate_data(200, seed=0, creator_sd=sd).truth
        marg = t["conversion_marginal"]["pooled"]
        atts.append(marg["commission_rate"] / t["conversion"]["commission_rate"])
        rules.append(t["conversion_marginal"]["approx_attenuation"])
    assert atts[0] > atts[1] > atts[2]
    # For rare outcomes (CVR of a few %) attenuation is weaker than the
    # 1/sqrt(1 + 0.346 sd^2) rule of thumb, which holds for probabilities near 0.5.
    assert all(r < a < 1 for a, r in zip(atts, rules, strict=True))


@pytest.mark.parametrize("by", ["tier", "category", "site"])
def test_pooled_rates_match_expected(big: synth.SynthResult, by: str) -> None:
    exp = expected_rates(big.truth, by).set_index(by)
    for level, g in big.data.groupby(by, observed=True):
        for num, den, col in (("clicks", "impressions", "ctr"), ("orders", "clicks", "cvr")):
            r, se = _cluster_ratio(g, num, den)
            # 4 creator-clustered SEs: ~6e-5 two-sided per check, ~2e-3 over the 28 checks
            assert abs(r - exp.loc[level, col]) < 4 * se, (
                by,
                level,
                col,
                r,
                exp.loc[level, col],
                se,
            )


def test_counts_follow_latent_probabilities(big: synth.SynthResult) -> None:
    df, lat = big.data, big.latent
    # given the row probabilities, clicks and orders are binomial: compare sums
    exp_clicks = (df["impressions"] * lat["true_ctr"]).sum()
    var_clicks = (df["impressions"] * lat["true_ctr"] * (1 - lat["true_ctr"])).sum()
    assert abs(df["clicks"].sum() - exp_clicks) < 4 * np.sqrt(var_clicks)
    exp_orders = (df["clicks"] * lat["true_cvr"]).sum()
    var_orders = (df["clicks"] * lat["true_cvr"] * (1 - lat["true_cvr"])).sum()
    assert abs(df["orders"].sum() - exp_orders) < 4 * np.sqrt(var_orders)


def test_return_rate_matches_category_truth(big: synth.SynthResult) -> None:
    df = big.data.assign(usd_gmv=0.0, usd_ref=0.0)
    for cat, spec in big.truth["categories"].items():
        g = df[(df["category"] == cat) & (df["site"] == "US")]
        r, se = _cluster_ratio(g, "refunds", "gmv")
        assert abs(r - spec["return_rate"]) < 4 * se, cat


def test_glm_without_random_effect_recovers_marginal_truth(big: synth.SynthResult) -> None:
    df = big.data[big.data["site"] == "US"]
    agg = (
        df.groupby(["creator_id", "tier", "category", "commission_rate"], observed=True)[
            ["orders", "clicks"]
        ]
        .sum()
        .reset_index()
    )
    agg = agg[agg["clicks"] > 0]
    X = pd.get_dummies(agg[["tier", "category"]], drop_first=True, dtype="float64")
    X.insert(0, "Intercept", 1.0)
    X["commission_rate"] = agg["commission_rate"]
    y = np.column_stack([agg["orders"], agg["clicks"] - agg["orders"]])
    codes = agg["creator_id"].astype("category").cat.codes.to_numpy()
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": codes}
    )
    truth = big.truth["conversion_marginal"]["by_site"]["US"]
    expected = {"Intercept": truth["intercept"], "commission_rate": truth["commission_rate"]}
    expected |= {f"tier_{t}": v for t, v in truth["tier"].items() if t != "nano"}
    expected |= {f"category_{c}": v for c, v in truth["category"].items() if c != "beauty"}
    for name, value in expected.items():
        assert abs(fit.params[name] - value) < 4 * fit.bse[name], (name, fit.params[name], value)


def test_expected_rates_rejects_unknown_grouping(small: synth.SynthResult) -> None:
    with pytest.raises(ValueError, match="site"):
        expected_rates(small.truth, "creator")


# --------------------------------------------------------------------------- writer

_MONEY = re.compile(r"^(\$|£|Rp |฿)\d{1,3}([,.]\d{3})*([.]\d{2})?$")


def _parse_money(text: str, site: str) -> float:
    if text == "--":
        return 0.0
    info = SITES[site]
    body = text.removeprefix(info.symbol).strip()
    body = body.replace(info.thousands_sep, "").replace(info.decimal_sep, ".")
    return float(body)


def _parse_count(text: str) -> float:
    return np.nan if text in ("--", "") else float(text.replace(",", ""))


def test_writer_english_csv_headers_and_quirks(small: synth.SynthResult, tmp_path) -> None:
    paths = write_exports(small, tmp_path, language="en", fmt="csv")
    assert set(paths) == {"videos", "creators", "products"}
    raw = paths["videos"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    v = pd.read_csv(paths["videos"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    expected_headers = [h for h, _ in synth.VIDEO_HEADERS.values()]
    assert [c.strip() for c in v.columns] == expected_headers
    assert any(c != c.strip() for c in v.columns), "a header with a stray space"
    for h in v.columns:
        if h.strip() != "CTR":
            assert canonical_name(h) is not None, h
    v.columns = [c.strip() for c in v.columns]
    df = small.data
    # money: symbols and separators; "--" only where the value is 0
    assert v["Creator video-attributed GMV"].str.match(_MONEY).all()
    for header, col in (("Refunds", "refunds"), ("Est. flat fee", "flat_fee")):
        dash = v[header] == "--"
        assert dash.any() and (df.loc[dash.to_numpy(), col] == 0).all()
    assert (v["Video views"] == "--").sum() == df["video_views"].isna().sum()
    assert v["Creator video-attributed GMV"].str.contains(",").any()
    assert v.loc[v["Site"] == "ID", "Creator video-attributed GMV"].str.startswith("Rp ").all()
    assert v["CTR"].str.fullmatch(r"\d+\.\d{2}%").all()
    # dates MM/DD/YYYY, unambiguous (some day > 12)
    d = pd.to_datetime(v["Post date"], format="%m/%d/%Y")
    assert (d.dt.day > 12).any()
    assert (d.to_numpy() == df["date"].to_numpy()).all()
    # values read back to the canonical ones
    site = v["Site"].to_numpy()
    for header, col in (
        ("Creator video-attributed GMV", "gmv"),
        ("Refunds", "refunds"),
        ("Est. commission", "commission_paid"),
        ("Est. flat fee", "flat_fee"),
        ("Sample cost", "sample_cost"),
    ):
        got = np.array([_parse_money(t, s) for t, s in zip(v[header], site, strict=True)])
        assert np.allclose(got, df[col].to_numpy(), rtol=0, atol=1e-9), header
    for header, col in (
        ("Video-attributed orders", "orders"),
        ("Video-attributed items sold", "items_sold"),
        ("Video views", "video_views"),
        ("Video product impressions", "impressions"),
        ("Video product clicks", "clicks"),
    ):
        got = v[header].map(_parse_count).to_numpy(dtype="float64")
        want = df[col].astype("float64").to_numpy()
        assert np.array_equal(got, want, equal_nan=True), header
    assert (v["Video ID"] == df["content_id"].to_numpy()).all()
    assert (v["Product ID"] == df["product_id"].to_numpy()).all()
    # products and creators exports
    p = pd.read_csv(paths["products"], dtype=str, encoding="utf-8-sig")
    assert list(p.columns) == ["Product ID", "Product name", "Category", "Commission rate", "Site"]
    assert p["Commission rate"].str.fullmatch(r"\d+%").all()
    rate = (
        p.set_index(["Product ID", "Site"])["Commission rate"].str.rstrip("%").astype(float) / 100
    )
    keys = pd.MultiIndex.from_arrays(
        [df["product_id"].to_numpy(), df["site"].astype(str).to_numpy()]
    )
    assert np.allclose(rate.reindex(keys).to_numpy(), df["commission_rate"].to_numpy())
    c = pd.read_csv(paths["creators"], dtype=str, encoding="utf-8-sig")
    assert list(c.columns) == ["Creator name", "Site", "Followers"]
    assert len(c) == df["creator_id"].nunique()
    assert c["Followers"].str.contains(",").any()


def test_writer_chinese_csv_is_gb18030(small: synth.SynthResult, tmp_path) -> None:
    paths = write_exports(small, tmp_path, language="zh", fmt="csv")
    raw = paths["videos"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    header = next(csv.reader([text.splitlines()[0]]))
    assert header[0] == "视频 ID" and "联盟视频归因GMV" in header and "视频商品点击量" in header
    for h in header:
        if h.strip() != "商品点击率":
            assert canonical_name(h) is not None, h
    v = pd.read_csv(paths["videos"], dtype=str, encoding="gb18030")
    assert pd.to_datetime(v["发布日期"], format="%Y-%m-%d").notna().all()
    p = pd.read_csv(paths["products"], dtype=str, encoding="gb18030")
    assert list(p.columns) == ["商品 ID", "商品名称", "类目", "佣金率", "站点"]


def test_writer_xlsx_has_title_rows(small: synth.SynthResult, tmp_path) -> None:
    paths = write_exports(small, tmp_path, language="zh", fmt="xlsx")
    top = pd.read_excel(paths["videos"], header=None, nrows=3, dtype=object)
    assert top.iloc[0, 0] == "联盟视频表现" and str(top.iloc[1, 0]).startswith("日期范围")
    assert top.iloc[2, 0] == "视频 ID"
    v = pd.read_excel(paths["videos"], header=2, dtype=str)
    assert len(v) == len(small.data)
    # 19-digit ids stay exact text
    assert (v["视频 ID"].to_numpy() == small.data["content_id"].to_numpy()).all()
    en = write_exports(small, tmp_path / "en", language="en", fmt="xlsx", old_names=True)
    top = pd.read_excel(en["videos"], header=None, nrows=3, dtype=object)
    assert top.iloc[0, 0] == "Affiliate video performance"
    assert "Affiliate video-attributed GMV" in list(top.iloc[2])
    cre = pd.read_excel(en["creators"], header=2, dtype=object)
    assert "Affiliate followers" in cre.columns


def test_writer_without_quirks_is_plain(small: synth.SynthResult, tmp_path) -> None:
    paths = write_exports(small.data, tmp_path, quirks=False)
    v = pd.read_csv(paths["videos"], encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert not v.apply(lambda s: s.eq("--")).any().any()
    gmv = v["Creator video-attributed GMV"].astype(float).to_numpy()
    assert np.allclose(gmv, small.data["gmv"].to_numpy())
    assert all(c == c.strip() for c in v.columns)


def test_writer_writes_missing_values_as_blanks(small: synth.SynthResult, tmp_path) -> None:
    df = small.data.copy()
    df.loc[df.index[:5], "refunds"] = np.nan
    df.loc[df.index[:5], "items_sold"] = pd.NA
    for quirks, blank in ((True, "--"), (False, "")):
        paths = write_exports(df, tmp_path / str(quirks), quirks=quirks)
        v = pd.read_csv(paths["videos"], encoding="utf-8-sig", keep_default_na=False, dtype=str)
        v.columns = [c.strip() for c in v.columns]
        assert (v.loc[:4, "Refunds"] == blank).all()
        assert (v.loc[:4, "Video-attributed items sold"] == blank).all()


def test_writer_rejects_bad_input(small: synth.SynthResult, tmp_path) -> None:
    with pytest.raises(ValueError, match="language"):
        write_exports(small, tmp_path, language="fr")
    with pytest.raises(ValueError, match="fmt"):
        write_exports(small, tmp_path, fmt="parquet")
    with pytest.raises(ValueError, match="gmv"):
        write_exports(small.data.drop(columns="gmv"), tmp_path)


def test_cli_writes_folder(tmp_path) -> None:
    out = tmp_path / "s"
    assert synth.main(["--rows", "300", "--seed", "3", "--out", str(out)]) == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "affiliate_videos.csv",
        "affiliate_creators.csv",
        "affiliate_products.csv",
        "zh/affiliate_videos.xlsx",
        "truth.json",
        "README.md",
    } <= names
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["n_rows"] == 300 and truth["seed"] == 3
    assert truth["generator_version"] == synth.GENERATOR_VERSION
    assert "synthetic" in (out / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- round trip


def _assert_close_nested(a: object, b: object, path: str = "truth") -> None:
    """Equal structure and values; floats to 1e-8 relative (GLM projections may differ in
    the last bits between BLAS builds)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _assert_close_nested(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close_nested(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-8, abs=1e-12), path
    else:
        assert a == b, path


def _assert_same_canonical(got: pd.DataFrame, want: pd.DataFrame) -> None:
    missing = [c for c in CANONICAL_COLUMNS if c not in got.columns]
    assert not missing, f"loader lost columns {missing}"
    assert len(got) == len(want)
    got = got.set_index(got["content_id"].astype(str)).loc[
        want["content_id"].astype(str).to_numpy()
    ]
    got = got[list(CANONICAL_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got,
        want.reset_index(drop=True),
        check_categorical=False,
        check_exact=False,
        rtol=0,
        atol=1e-9,
    )


@pytest.mark.parametrize(
    ("language", "fmt", "old_names"),
    [("en", "csv", False), ("en", "xlsx", True), ("zh", "csv", False), ("zh", "xlsx", False)],
)
def test_round_trip_through_loader(
    small: synth.SynthResult, tmp_path, language: str, fmt: str, old_names: bool
) -> None:
    from helpers.load import load_dataset

    write_exports(small, tmp_path, language=language, fmt=fmt, old_names=old_names, seed=3)
    loaded = load_dataset(tmp_path)
    assert len(loaded.rejected) == 0, loaded.summary
    _assert_same_canonical(loaded.data, small.data)


@pytest.mark.parametrize(
    ("folder", "rows", "seed", "subfolders"),
    [
        ("smoke", 2_000, 1, ("", "zh")),
        # the 30k-row XLSX takes long to read; its writer path is covered above
        pytest.param("sample", 30_000, 0, ("",), marks=pytest.mark.slow),
    ],
)
def test_committed_data_is_current(
    folder: str, rows: int, seed: int, subfolders: tuple[str, ...]
) -> None:
    """data/smoke and data/sample read back to what the generator gives today
    (regenerate with `make sample-data` when this fails after a generator change)."""
    from helpers import paths
    from helpers.load import load_dataset

    res = make_affiliate_data(rows, seed=seed)
    base = paths.DATA / folder
    truth = json.loads((base / "truth.json").read_text(encoding="utf-8"))
    assert truth["generator_version"] == synth.GENERATOR_VERSION
    _assert_close_nested(truth, json.loads(json.dumps(res.truth)))
    for sub in subfolders:
        _assert_same_canonical(load_dataset(base / sub).data, res.data)


@pytest.mark.parametrize(("language", "fmt"), [("en", "csv"), ("zh", "xlsx")])
def test_flawed_rows_are_each_rejected_with_their_reason(
    tmp_path: Path, language: str, fmt: str
) -> None:
    from helpers.load import load_dataset

    res = make_affiliate_data(600, seed=5)
    write_exports(res, tmp_path, language=language, fmt=fmt, flawed_rows=True)
    loaded = load_dataset(tmp_path)
    n_flawed = sum(synth.FLAWED_ROWS.values())
    assert loaded.summary.rows_read == 600 + n_flawed
    assert loaded.summary.rows_rejected == n_flawed
    for fault, count in synth.FLAWED_ROWS.items():
        hits = loaded.rejected["reason"].str.contains(fault, regex=False).sum()
        assert hits == count, f"{fault}: {hits} rows rejected, expected {count}"
    canon = list(CANONICAL_COLUMNS)  # the loader adds extra columns and source_file/row
    pd.testing.assert_frame_equal(loaded.data[canon], res.data, check_categorical=False)
