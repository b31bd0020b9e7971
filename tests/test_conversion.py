"""Tests of helpers.conversion: exactness against row-level statsmodels fits, a published
R result, recovery of the synthetic truth, interval coverage, bad input, charts and the
notebook."""

from __future__ import annotations

import json
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from matplotlib.figure import Figure
from scipy import stats
from scipy.special import expit
from statsmodels.stats.proportion import proportion_confint

from helpers import charts
from helpers.conversion import (
    ConversionWarning,
    fit_conversion,
    fit_conversion_by_site,
)
from helpers.errors import ModelError
from helpers.synth import make_affiliate_data

EXACT = {"rtol": 1e-8, "atol": 1e-10}


@pytest.fixture(scope="module")
def us() -> pd.DataFrame:
    """20k US rows with creator effects (some rows have zero clicks)."""
    return make_affiliate_data(20_000, seed=11, sites=("US",), creator_sd=0.5).data


@pytest.fixture(scope="module")
def multi() -> pd.DataFrame:
    return make_affiliate_data(12_000, seed=5, sites=("US", "UK", "ID")).data


def _rows_used(df: pd.DataFrame) -> pd.DataFrame:
    """The rows a row-level fit sees: clicks > 0, unused category levels removed."""
    d = df[df["clicks"] > 0].copy()
    for c in ("tier", "category"):
        d[c] = d[c].cat.remove_unused_categories()
    return d


def _truth_vector(truth: dict, site: str, names: list[str]) -> np.ndarray:
    m = truth["conversion_marginal"]["by_site"][site]
    out = []
    for name in names:
        if name == "Intercept":
            out.append(m["intercept"])
        elif name.startswith("C(tier)[T."):
            out.append(m["tier"][name[len("C(tier)[T.") : -1]])
        elif name.startswith("C(category)[T."):
            out.append(m["category"][name[len("C(category)[T.") : -1]])
        elif name == "commission_rate":
            out.append(m["commission_rate"])
        else:  # pragma: no cover - the default formula has no other terms
            raise KeyError(name)
    return np.asarray(out)


# --------------------------------------------------------------------------- exactness
FORMULAS = [
    "C(tier) + C(category) + commission_rate",
    "C(tier) * commission_rate + C(category)",
    "C(tier) + C(category) + bs(commission_rate, df=4)",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("cluster", ["creator_id", None])
def test_collapsed_fit_equals_row_level_statsmodels(us, formula, cluster):
    fit = fit_conversion(us, formula, cluster=cluster, cov_type="CR1")
    rows = _rows_used(us)
    model = smf.glm(f"orders + I(clicks - orders) ~ {formula}", rows, family=sm.families.Binomial())
    if cluster is None:
        # tight IRLS so that statsmodels' own bread (taken from the last IRLS step) is
        # at the optimum too
        ref = model.fit(tol=1e-13, tol_criterion="params")
    else:
        groups = pd.factorize(rows["creator_id"])[0]
        ref = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert list(fit.params.index) == list(ref.params.index)
    np.testing.assert_allclose(fit.params, ref.params, **EXACT)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-8, atol=1e-12)
    if cluster is None:
        np.testing.assert_allclose(fit.bse_model, fit.bse, rtol=1e-12)
    # row-level Pearson dispersion, as statsmodels reports it on the rows
    np.testing.assert_allclose(fit.pearson_chi2, ref.pearson_chi2, rtol=1e-9)
    np.testing.assert_allclose(fit.dispersion, ref.pearson_chi2 / ref.df_resid, rtol=1e-9)
    assert fit.n_rows_used == len(rows) == ref.nobs
    assert fit.n_rows_zero_trials == int((us["clicks"] == 0).sum()) > 0
    assert fit.n_patterns < fit.n_rows_used / 20  # the point of collapsing
    # predictions and their logit-scale standard errors match statsmodels' too
    new = rows.iloc[:50]
    pi = fit.predict_interval(new)
    sf = ref.get_prediction(new, which="linear").summary_frame()
    np.testing.assert_allclose(pi["logit"], sf["predicted"], **EXACT)
    np.testing.assert_allclose(pi["logit_se"], sf["se"], **EXACT)
    np.testing.assert_allclose(fit.predict(new), ref.predict(new), **EXACT)


def test_cluster_correction_uses_row_count(us):
    fit = fit_conversion(us, cov_type="CR1")
    k = len(fit.params)
    g, n = fit.n_clusters, fit.n_rows_used
    assert fit.correction == pytest.approx(g / (g - 1) * (n - 1) / (n - k))
    assert fit.n_clusters == _rows_used(us)["creator_id"].nunique()


def test_default_formula_uses_treatment_contrasts_with_nano_reference(us):
    fit = fit_conversion(us)
    tier_terms = [t for t in fit.params.index if t.startswith("C(tier)")]
    assert tier_terms == [f"C(tier)[T.{t}]" for t in ("micro", "mid", "macro", "mega")]
    X = fit.design(fit.patterns)
    cols = [fit.params.index.get_loc(t) for t in tier_terms]
    assert set(np.unique(X[:, cols])) <= {0.0, 1.0}  # dummies, not polynomial scores
    assert fit.reference_levels() == {"tier": "nano", "category": "beauty"}
    nano = (fit.patterns["tier"] == "nano").to_numpy()
    assert np.all(X[nano][:, cols] == 0)


def test_matches_published_r_glm_on_star98():
    """R's glm(cbind(NABOVE, NBELOW) ~ ., binomial) on star98, as shipped in statsmodels'
    own test suite (results_glm.Star98): model-based errors, scale 1."""
    from statsmodels.datasets.star98 import load_pandas
    from statsmodels.genmod.tests.results.results_glm import Star98

    data = load_pandas()
    df = data.exog.copy()
    df["above"] = data.endog["NABOVE"]
    df["total"] = data.endog["NABOVE"] + data.endog["NBELOW"]
    formula = " + ".join(data.exog.columns)
    fit = fit_conversion(df, formula, successes="above", trials="total", cluster=None)
    r = Star98()
    # R lists the constant last
    order = [*data.exog.columns, "Intercept"]
    np.testing.assert_allclose(fit.params[order], r.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.bse[order], r.bse, rtol=1e-5)
    np.testing.assert_allclose(fit.pearson_chi2, r.pearson_chi2, rtol=1e-6)  # R prints 10 digits
    assert fit.n_rows_used == 303


# --------------------------------------------------------------------------- truth
def test_estimates_within_three_standard_errors_of_truth():
    sim = make_affiliate_data(200_000, seed=3, sites=("US",))
    fit = fit_conversion(sim.data)
    truth = _truth_vector(sim.truth, "US", list(fit.params.index))
    z = (fit.params.to_numpy() - truth) / fit.bse.to_numpy()
    assert np.all(np.abs(z) < 3), dict(zip(fit.params.index, np.round(z, 2), strict=True))
    # the creator effect shows up as over-dispersion at row level
    assert fit.dispersion > 1


@pytest.mark.slow
def test_interval_coverage_with_creator_effects():
    """Cluster-robust 95 % intervals cover the population-averaged truth about 95 % of
    the time; model-based intervals under-cover badly (the reason for clustering).

    200 replications of 20k rows (about 1,700 creators, creator_sd 0.6). Per coefficient
    the coverage has binomial standard error sqrt(.95 * .05 / 200) = 0.015; each must be
    within 4 of them of 0.95, and the average within 3 (treating the 10 coefficients of a
    replication as one draw, which is conservative).
    """
    reps, n_rows = 200, 20_000
    hit_c, hit_m = [], []
    names = None
    for r in range(reps):
        sim = make_affiliate_data(n_rows, seed=1000 + r, sites=("US",), creator_sd=0.6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConversionWarning)
            fit = fit_conversion(sim.data)
        names = list(fit.params.index)
        truth = _truth_vector(sim.truth, "US", names)
        beta = fit.params.to_numpy()
        for se, hits in ((fit.bse, hit_c), (fit.bse_model, hit_m)):
            half = stats.norm.ppf(0.975) * se.to_numpy()
            hits.append(np.abs(beta - truth) <= half)
    cov_c = np.mean(hit_c, axis=0)
    cov_m = np.mean(hit_m, axis=0)
    se = np.sqrt(0.95 * 0.05 / reps)
    report = pd.DataFrame({"cluster": cov_c, "model_based": cov_m}, index=names)
    print("\ncoverage of 95 % intervals over", reps, "replications\n", report.round(3))
    print("mean: cluster", cov_c.mean().round(3), "model-based", cov_m.mean().round(3))
    assert np.all(np.abs(cov_c - 0.95) < 4 * se), report
    assert abs(cov_c.mean() - 0.95) < 3 * se
    assert cov_m.mean() < 0.80  # model-based errors ignore the creator effect


# --------------------------------------------------------------------------- results
def test_summary_frame_conf_int_and_odds_ratios_agree(us):
    fit = fit_conversion(us)
    sf = fit.summary_frame()
    ci = fit.conf_int(0.05)
    orr = fit.odds_ratios()
    np.testing.assert_allclose(sf["ci_lower"], ci["lower"])
    np.testing.assert_allclose(orr["odds_ratio"], np.exp(fit.params))
    np.testing.assert_allclose(np.log(orr["upper"]), ci["upper"])
    assert (sf["p_value"].between(0, 1)).all()
    # a 90 % interval is narrower than a 95 % one
    ci90 = fit.conf_int(0.10)
    assert ((ci90["upper"] - ci90["lower"]) < (ci["upper"] - ci["lower"])).all()
    with pytest.raises(ModelError, match="alpha"):
        fit.conf_int(1.5)


def test_cvr_grid_matches_predict_and_brackets(us):
    fit = fit_conversion(us)
    grid = fit.cvr_grid([0.05, 0.15])
    n_tiers = fit.patterns["tier"].cat.categories.size
    n_cats = fit.patterns["category"].cat.categories.size
    assert len(grid) == n_tiers * n_cats * 2
    assert ((grid["lower"] < grid["cvr"]) & (grid["cvr"] < grid["upper"])).all()
    np.testing.assert_allclose(grid["cvr"], fit.predict(grid), rtol=1e-12)
    # higher commission, higher predicted CVR, as the positive coefficient says
    wide = grid.pivot_table(
        index=["tier", "category"], columns="commission_rate", values="cvr", observed=True
    )
    assert (np.sign(wide[0.15] - wide[0.05]) == np.sign(fit.params["commission_rate"])).all()
    with pytest.raises(ModelError, match="fractions"):
        fit.cvr_grid([15])


def test_marginal_effect_is_trials_weighted_row_mean_with_delta_method(us):
    fit = fit_conversion(us)
    me = fit.marginal_effect("commission_rate", delta=0.01)
    rows = _rows_used(us)
    up = rows.assign(commission_rate=rows["commission_rate"] + 0.01)
    w = rows["clicks"].to_numpy(dtype=float)
    direct = np.average(fit.predict(up) - fit.predict(rows), weights=w)
    assert me["ame"] == pytest.approx(direct, rel=1e-10)
    # delta method: numerical gradient of the AME in the coefficients
    X0, X1 = fit.design(rows), fit.design(up)
    beta = fit.params.to_numpy()

    def ame(b: np.ndarray) -> float:
        return float(np.average(expit(X1 @ b) - expit(X0 @ b), weights=w))

    eps = 1e-6
    grad = np.array(
        [(ame(beta + eps * e) - ame(beta - eps * e)) / (2 * eps) for e in np.eye(len(beta))]
    )
    se = float(np.sqrt(grad @ fit.cov.to_numpy() @ grad))
    assert me["se"] == pytest.approx(se, rel=1e-5)
    assert me["lower"] < me["ame"] < me["upper"]
    with pytest.raises(ModelError, match="numeric column"):
        fit.marginal_effect("tier")


def test_calibration_bins_add_up_and_match_overall_rate(us):
    fit = fit_conversion(us)
    cal = fit.calibration(10)
    assert cal["trials"].sum() == fit.trials
    assert cal["successes"].sum() == fit.successes
    assert cal["predicted"].is_monotonic_increasing
    # with an intercept, the logistic MLE reproduces the overall rate exactly
    overall_pred = np.average(cal["predicted"], weights=cal["trials"])
    assert overall_pred == pytest.approx(fit.successes / fit.trials, rel=1e-8)
    assert ((cal["obs_lower"] <= cal["observed"]) & (cal["observed"] <= cal["obs_upper"])).all()


def test_commission_response_band_and_observed(us):
    fit = fit_conversion(us)
    curve = fit.commission_response(np.linspace(0.05, 0.2, 7))
    assert ((curve["lower"] <= curve["cvr"]) & (curve["cvr"] <= curve["upper"])).all()
    assert curve["cvr"].is_monotonic_increasing == (fit.params["commission_rate"] > 0)
    obs = fit.observed_by("commission_rate")
    assert obs["trials"].sum() == fit.trials


# --------------------------------------------------------------------------- sites
def test_several_sites_are_never_pooled_silently(multi):
    with pytest.raises(ModelError, match=r"ID.*UK.*US.*fit_conversion_by_site"):
        fit_conversion(multi)
    fits = fit_conversion_by_site(multi)
    assert sorted(fits) == ["ID", "UK", "US"]
    for site, fit in fits.items():
        assert fit.site == site
        assert fit.n_rows == int((multi["site"] == site).sum())
    one = fit_conversion(multi, site="UK")
    np.testing.assert_allclose(one.params, fits["UK"].params)
    pooled = fit_conversion(multi, pool_sites=True)
    assert pooled.site == "pooled"
    assert any(t.startswith("C(site)") for t in pooled.params.index)
    with pytest.raises(ModelError, match="sites present"):
        fit_conversion(multi, site="FR")


def test_by_site_records_failures_instead_of_dropping(multi):
    bad = multi.copy()
    # UK: no order at all in the electronics category -> separation
    mask = (bad["site"] == "UK") & (bad["category"] == "electronics")
    bad.loc[mask, "orders"] = 0
    with pytest.raises(ModelError, match="site UK"):
        fit_conversion_by_site(bad)
    fits = fit_conversion_by_site(bad, on_error="record")
    assert "UK" not in fits and "electronics" in fits.errors["UK"]
    assert sorted(fits) == ["ID", "US"]


# --------------------------------------------------------------------------- bad input
def test_missing_formula_column_lists_available_columns(us):
    with pytest.raises(ModelError, match=r"followerz.*Available columns.*creator_id"):
        fit_conversion(us, "C(tier) + followerz")
    with pytest.raises(ModelError, match="cluster column"):
        fit_conversion(us, cluster="agency")
    with pytest.raises(ModelError, match="left-hand side"):
        fit_conversion(us, "orders ~ C(tier)")


def test_any_column_and_foreign_names_work(us):
    d = us.assign(**{"video length": np.where(us.index % 2 == 0, 15.0, 60.0)})
    fit = fit_conversion(
        d,
        "C(tier) + commission_rate + C(content_type) + np.log(Q('video length'))",
        cov_type="CR1",
    )
    assert "np.log(Q('video length'))" in fit.params.index
    assert "video length" in fit.columns()
    rows = _rows_used(d)
    rows["content_type"] = rows["content_type"].cat.remove_unused_categories()
    ref = smf.glm(
        "orders + I(clicks - orders) ~ C(tier) + commission_rate + C(content_type) + np.log(Q('video length'))",
        rows,
        family=sm.families.Binomial(),
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["creator_id"])[0]})
    np.testing.assert_allclose(fit.params, ref.params, **EXACT)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)


def test_nans_are_counted_and_reported_not_silently_dropped(us):
    d = us.copy()
    d.loc[d.index[:7], "commission_rate"] = np.nan
    d["tier"] = d["tier"].astype(object)
    d.loc[d.index[10:13], "tier"] = None
    d["tier"] = pd.Categorical(
        d["tier"], categories=["nano", "micro", "mid", "macro", "mega"], ordered=True
    )
    with pytest.warns(ConversionWarning, match="10 of 20000 rows excluded"):
        fit = fit_conversion(d)
    assert fit.n_rows_missing == 10
    assert fit.missing_by_column == {"commission_rate": 7, "tier": 3}
    assert fit.n_rows == fit.n_rows_missing + fit.n_rows_zero_trials + fit.n_rows_used


def test_invalid_counts_raise_with_row_labels(us):
    d = us.copy()
    d.loc[d.index[5], "orders"] = d.loc[d.index[5], "clicks"] + 3
    with pytest.raises(ModelError, match=r"orders > clicks.*\[5\]"):
        fit_conversion(d)


def test_rare_level_warns_or_merges(us):
    d = us.copy()
    rare = d.index[(d["clicks"] > 0) & (d["orders"] > 0)][:3]
    d["category"] = d["category"].cat.add_categories(["pets"])
    d.loc[rare, "category"] = "pets"
    clicks = int(d.loc[rare, "clicks"].sum())
    with pytest.warns(ConversionWarning, match=rf"'pets' \({clicks} clicks\)"):
        fit_conversion(d, min_trials_per_level=clicks + 1)
    fit = fit_conversion(d, min_trials_per_level=clicks + 1, merge_rare_levels=True)
    assert fit.merged_levels == {"category": ["pets"]}
    assert "C(category)[T.other]" in fit.params.index
    # predictions for the merged level use the "other" coefficient
    new = d.loc[rare[:1]]
    assert fit.predict(new).iloc[0] == pytest.approx(
        fit.predict(new.assign(category=pd.Categorical(["other"]))).iloc[0]
    )


def test_separation_names_the_level(us):
    d = us.copy()
    d.loc[d["category"] == "home", "orders"] = 0
    with pytest.raises(ModelError, match=r"separation: category='home' \(0 orders of \d+ clicks\)"):
        fit_conversion(d)
    # merging a zero-order level alone cannot help, and the message says so
    with pytest.raises(ModelError, match=r"'other'.*merged from \['home'\].*merging did not help"):
        fit_conversion(d, merge_rare_levels=True)
    # merged together with a thin level that has orders, it becomes estimable
    pets = d.index[(d["category"] == "beauty") & (d["orders"] > 0)][:30]
    d["category"] = d["category"].cat.add_categories(["pets"])
    d.loc[pets, "category"] = "pets"
    fit = fit_conversion(
        d, merge_rare_levels=True, min_trials_per_level=int(d.loc[pets, "clicks"].sum()) + 1
    )
    assert fit.merged_levels == {"category": ["pets", "home"]}
    assert fit.level_clicks.query("level == 'other'")["successes"].item() > 0


def test_perfect_prediction_by_a_numeric_covariate_is_an_error():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    clicks = rng.integers(1, 20, size=n)
    orders = np.where(x > 0, clicks, 0)
    df = pd.DataFrame(
        {"x": x, "clicks": clicks, "orders": orders, "creator_id": (np.arange(n) % 40).astype(str)}
    )
    with pytest.raises(ModelError, match="separation"):
        fit_conversion(df, "x", cluster=None)


def test_empty_interaction_cell_is_named(us):
    d = us[~((us["tier"] == "mega") & (us["category"] == "home"))]
    with pytest.raises(ModelError, match=r"mega.*home.*no clicks"):
        fit_conversion(d, "C(tier) * C(category) + commission_rate")


def test_unknown_level_in_newdata_lists_levels(us):
    fit = fit_conversion(us)
    new = pd.DataFrame({"tier": ["nano"], "category": ["toys"], "commission_rate": [0.1]})
    with pytest.raises(ModelError, match="Accepted levels"):
        fit.predict(new)


def test_info_is_json_serialisable(us):
    info = fit_conversion(us).info()
    json.dumps(info)
    assert info["dispersion_level"] == "row"


# --------------------------------------------------------------------------- charts
def test_charts_return_figures(us):
    fit = fit_conversion(us)
    figs = [
        charts.forest_plot(
            fit.summary_frame(), per={"commission_rate": 0.01}, reference={"tier": "nano"}
        ),
        charts.cvr_heatmap(fit.cvr_grid([0.05, 0.10, 0.15]), commission=0.10),
        charts.commission_response(
            fit.commission_response(), observed=fit.observed_by("commission_rate")
        ),
        charts.calibration_plot(fit.calibration()),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        assert fig.axes and fig.axes[0].has_data()
        plt.close(fig)
    fig, ax = plt.subplots()
    assert charts.forest_plot(fit.summary_frame(), ax=ax) is fig
    plt.close(fig)
    with pytest.raises(ValueError, match="lacks columns"):
        charts.calibration_plot(pd.DataFrame({"x": [1]}))


# --------------------------------------------------------------------------- notebook
@pytest.mark.notebook
def test_notebook_runs_on_smoke_data(run_notebook):
    folder = run_notebook("02_conversion_drivers")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    res = results["02_conversion_drivers"] if "02_conversion_drivers" in results else results
    fitted = res["sites_fitted"]
    assert fitted, res
    figures = {p.name for p in (folder / "figures").glob("*.png")}
    for site in fitted:
        for chart in ("forest_plot", "cvr_heatmap", "commission_response", "calibration"):
            assert f"02_conversion_drivers__{chart}_{site}.png" in figures
        info = res["sites"][site]["info"]
        assert (
            info["n_rows"]
            == info["n_rows_missing"] + info["n_rows_zero_trials"] + info["n_rows_used"]
        )
    if not res["sites_failed"]:  # every row is in one site's fit or counted without a site
        total = sum(res["sites"][s]["info"]["n_rows"] for s in fitted)
        assert total + res["rows_without_site"] == res["rows_in_data"]


def test_absent_reference_level_is_announced(us):
    d = us[us["tier"] != "nano"]
    with pytest.warns(
        ConversionWarning, match="'nano' has no usable rows.*'micro' is the reference"
    ):
        fit = fit_conversion(d)
    assert not any("micro" in t for t in fit.params.index)


def test_pooled_fit_equals_row_level_with_site_term(multi):
    fit = fit_conversion(multi, pool_sites=True, cov_type="CR1")
    rows = _rows_used(multi)
    rows["site"] = rows["site"].cat.remove_unused_categories()
    groups = pd.factorize(rows["creator_id"])[0]
    ref = smf.glm(
        "orders + I(clicks - orders) ~ C(tier) + C(category) + commission_rate + C(site)",
        rows,
        family=sm.families.Binomial(),
    ).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(fit.params, ref.params, **EXACT)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)


def test_tier_as_text_keeps_nano_as_reference(us):
    d = us.assign(tier=us["tier"].astype(str), category=us["category"].astype(str))
    fit = fit_conversion(d)
    ref = fit_conversion(us)
    assert fit.reference_levels()["tier"] == "nano"
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-10)
    assert fit.predict(d.iloc[:5]).tolist() == pytest.approx(ref.predict(us.iloc[:5]).tolist())


def test_cluster_codes_when_every_row_is_used(us):
    """All rows usable (no zero clicks): string and categorical cluster columns (with
    unused categories) give the same clusters and the row-level result."""
    rows = _rows_used(us)
    fit = fit_conversion(rows, cov_type="CR1")
    cat = rows.assign(
        creator_id=pd.Categorical(
            rows["creator_id"], categories=[*us["creator_id"].unique(), "ghost"]
        )
    )
    fit_cat = fit_conversion(cat, cov_type="CR1")
    assert fit.n_rows_used == fit.n_rows == len(rows)
    assert fit.n_clusters == fit_cat.n_clusters == rows["creator_id"].nunique()
    np.testing.assert_allclose(fit_cat.bse, fit.bse, rtol=1e-12)
    ref = smf.glm(
        "orders + I(clicks - orders) ~ C(tier) + C(category) + commission_rate",
        rows,
        family=sm.families.Binomial(),
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["creator_id"])[0]})
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)


def test_non_convergence_is_an_error_naming_a_coefficient(us):
    with pytest.raises(
        ModelError, match=r"did not converge in 1 iterations; the largest coefficient is \S+ ="
    ):
        fit_conversion(us, maxiter=1)


def test_predict_gives_nan_for_rows_with_missing_covariates(us):
    fit = fit_conversion(us)
    new = us.iloc[:6].copy()
    new.loc[new.index[2], "commission_rate"] = np.nan
    with pytest.warns(ConversionWarning, match="1 of 6 rows have a missing value"):
        pred = fit.predict(new)
    assert np.isnan(pred.iloc[2]) and pred.drop(new.index[2]).notna().all()
    np.testing.assert_allclose(pred.drop(new.index[2]), fit.predict(new.drop(new.index[2])))
    with pytest.raises(ModelError, match="lacks columns"):
        fit.predict(new.drop(columns="tier"))


# --------------------------------------------------------------------------- review fixes
@pytest.mark.parametrize("scale", [100.0, 0.01])
def test_separation_check_does_not_depend_on_covariate_scale(us, scale):
    """Review finding 8: commission in other units (I(commission_rate / 100) makes its
    coefficient 100 times larger) is the same model, not separation."""
    ref = fit_conversion(us)
    fit = fit_conversion(us, f"C(tier) + C(category) + I(commission_rate / {scale})")
    term = f"I(commission_rate / {scale})"
    assert abs(fit.params[term]) > 15 or scale < 1  # the raw coefficient can be huge
    np.testing.assert_allclose(fit.params[term], ref.params["commission_rate"] * scale, rtol=1e-8)
    np.testing.assert_allclose(fit.bse[term], ref.bse["commission_rate"] * scale, rtol=1e-8)
    others = [t for t in ref.params.index if t != "commission_rate"]
    np.testing.assert_allclose(fit.params[others], ref.params[others], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_perfect_prediction_is_caught_at_any_covariate_scale(scale):
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=n)
    clicks = rng.integers(1, 20, size=n)
    orders = np.where(x > 0, clicks, 0)
    df = pd.DataFrame(
        {
            "x": x * scale,
            "clicks": clicks,
            "orders": orders,
            "creator_id": (np.arange(n) % 40).astype(str),
        }
    )
    with pytest.raises(ModelError, match="separation.*fitted CVR|separation.*run off"):
        fit_conversion(df, "x", cluster=None)


def _few_creators(df: pd.DataFrame, per_tier: int) -> pd.DataFrame:
    """Rows of the per_tier creators with the most clicks in each tier."""
    clicks = df.groupby(["tier", "creator_id"], observed=True)["clicks"].sum()
    top = clicks.groupby(level="tier", observed=True, group_keys=False).nlargest(per_tier)
    return df[df["creator_id"].isin(top.index.get_level_values("creator_id"))]


def test_no_more_clusters_than_coefficients_is_an_error(us):
    """Review finding 17: with G <= K the sandwich is singular."""
    d = _few_creators(us, 2)  # 10 creators, 10 coefficients
    with pytest.raises(ModelError, match=r"10 clusters.*10 coefficients.*singular"):
        fit_conversion(d, "C(tier) + C(category) + commission_rate")
    fit = fit_conversion(d, "C(tier) + C(category) + commission_rate", cluster=None)
    assert fit.cov_type == "nonrobust"


def test_few_clusters_use_t_with_g_minus_1_df_as_statsmodels(us):
    """Below 50 clusters, intervals and p-values use t(G - 1): equal to statsmodels'
    cluster fit with use_t=True on the raw rows."""
    d = _few_creators(us, 6)
    formula = "C(tier) + commission_rate"
    with pytest.warns(ConversionWarning, match=r"only 30 clusters.*t with 29 degrees"):
        fit = fit_conversion(d, formula, cov_type="CR1")
    assert fit.df_inference == 29.0
    rows = d[d["clicks"] > 0].copy()
    rows["tier"] = rows["tier"].cat.remove_unused_categories()
    ref = smf.glm(
        f"orders + I(clicks - orders) ~ {formula}", rows, family=sm.families.Binomial()
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["creator_id"])[0]}, use_t=True)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)
    np.testing.assert_allclose(fit.conf_int().to_numpy(), ref.conf_int().to_numpy(), **EXACT)
    np.testing.assert_allclose(fit.pvalues, ref.pvalues, rtol=1e-7)
    # normal reference on request; a t interval is wider
    with pytest.warns(ConversionWarning, match="only with use_t=True"):
        fit_z = fit_conversion(d, formula, use_t=False, cov_type="CR1")
    assert fit_z.df_inference is None
    assert ((fit.conf_int()["upper"] - fit_z.conf_int()["upper"]) > 0).all()
    # many clusters: normal by default, as before
    assert fit_conversion(us, cov_type="CR1").df_inference is None
    assert (
        fit_conversion(us, use_t=True, cov_type="CR1").df_inference
        == fit_conversion(us).n_clusters - 1
    )


def test_calibration_single_bin_equals_statsmodels_cluster_ratio(us):
    """Review finding 10: the observed interval of a bin is the cluster-robust interval
    of the ratio orders / clicks: for one bin, a clicks-weighted intercept-only WLS of
    the row CVR with cluster-robust errors (statsmodels)."""
    fit = fit_conversion(us, cov_type="CR1")
    cal = fit.calibration(1)
    rows = _rows_used(us)
    y = (rows["orders"] / rows["clicks"]).to_numpy(dtype=float)
    ref = sm.WLS(y, np.ones(len(rows)), weights=rows["clicks"].to_numpy(dtype=float)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["creator_id"])[0]}
    )
    lo, hi = np.asarray(ref.conf_int())[0]
    assert cal["observed"].item() == pytest.approx(ref.params[0], rel=1e-12)
    assert cal["obs_lower"].item() == pytest.approx(lo, rel=1e-9)
    assert cal["obs_upper"].item() == pytest.approx(hi, rel=1e-9)
    assert "in-sample" in cal.attrs["note"] and "cluster-robust" in cal.attrs["interval"]


def test_calibration_cluster_intervals_are_wider_than_wilson_with_creator_effects(us):
    fit = fit_conversion(us)
    cl = fit.calibration(10)
    wi = fit.calibration(10, interval="wilson")
    np.testing.assert_allclose(cl["observed"], wi["observed"])
    width_cl = cl["obs_upper"] - cl["obs_lower"]
    width_wi = wi["obs_upper"] - wi["obs_lower"]
    assert (width_cl / width_wi).median() > 1.1, pd.DataFrame({"cl": width_cl, "wi": width_wi})
    assert (cl["deff"] > 0).all() and (wi["deff"] == 1).all()
    lo, hi = proportion_confint(wi["successes"], wi["trials"], method="wilson")
    np.testing.assert_allclose(wi["obs_lower"], lo)
    model_based = fit_conversion(us, cluster=None)
    assert "Wilson" in model_based.calibration().attrs["interval"]
    with pytest.raises(ModelError, match="clustered fit"):
        model_based.calibration(interval="cluster")


def _with_missing_site(df: pd.DataFrame, n: int) -> pd.DataFrame:
    d = df.copy()
    d.loc[d.index[:n], "site"] = np.nan
    return d


def test_rows_with_missing_site_are_counted_not_assigned(us):
    """Review finding 18: one site present, some rows without a site."""
    d = _with_missing_site(us, 25)
    with pytest.warns(ConversionWarning, match="25 of 20000 rows excluded"):
        fit = fit_conversion(d)
    assert fit.site == "US"
    assert fit.n_rows == len(d)
    assert fit.missing_by_column == {"site": 25}
    assert fit.n_rows == fit.n_rows_missing + fit.n_rows_zero_trials + fit.n_rows_used
    ref = fit_conversion(us.iloc[25:])
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    # with site= chosen the same rows are counted, not lost
    with pytest.warns(ConversionWarning, match="25 of 20000 rows excluded"):
        chosen = fit_conversion(d, site="US")
    assert chosen.n_rows == len(d) and chosen.missing_by_column == {"site": 25}


def test_by_site_counts_missing_site_rows_once(multi):
    d = _with_missing_site(multi, 40)
    with pytest.warns(ConversionWarning, match="40 of 12000 rows have no site"):
        fits = fit_conversion_by_site(d)
    assert fits.n_rows_missing_site == 40 and "<missing site>" in fits.errors
    assert sum(f.n_rows for f in fits.values()) + 40 == len(d)
    assert all("site" not in f.missing_by_column for f in fits.values())
    with pytest.warns(ConversionWarning, match="no site"):
        two = fit_conversion_by_site(d, sites=["UK", "US"])
    assert list(two) == [s for s in fits if s in ("UK", "US")]
    assert two.n_rows_missing_site == 40
    with pytest.raises(ModelError, match=r"\['FR'\] are not in the data"):
        fit_conversion_by_site(multi, sites=["FR"])


# --------------------------------------------------------------------------- separation
def _row_level_reference(rows: pd.DataFrame, formula: str):
    rows = rows[rows["clicks"] > 0].copy()
    for c in ("tier", "category"):
        rows[c] = rows[c].cat.remove_unused_categories()
    return smf.glm(
        f"orders + I(clicks - orders) ~ {formula}", rows, family=sm.families.Binomial()
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["creator_id"])[0]})


@pytest.fixture(scope="module")
def sample_us() -> pd.DataFrame:
    """The bundled sample export (data/sample), US rows, as the loader reads it."""
    from helpers.load import load_dataset

    d = load_dataset("data/sample").data
    return d[d["site"] == "US"]


SATURATED = ["C(tier)", "C(category)", "C(tier) * C(category)"]


@pytest.mark.parametrize("formula", SATURATED)
def test_saturated_models_fit_on_the_bundled_sample(sample_us, formula):
    """Issue 11 item 4: a model that fits each pattern exactly is not separation (each
    pattern has orders and non-orders), and it equals statsmodels' row-level fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        fit = fit_conversion(sample_us, formula, cov_type="CR1")
    ref = _row_level_reference(sample_us, formula)
    np.testing.assert_allclose(fit.params, ref.params, **EXACT)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)
    # saturated: fitted CVR = observed CVR on every pattern
    p = fit.patterns
    np.testing.assert_allclose(p["mu"], p["successes"] / p["trials"], rtol=1e-9)


@pytest.mark.parametrize("formula", SATURATED)
def test_saturated_models_fit_on_synthetic_data(us, formula):
    fit = fit_conversion(us, formula, cov_type="CR1")
    ref = _row_level_reference(us, formula)
    np.testing.assert_allclose(fit.params, ref.params, **EXACT)
    np.testing.assert_allclose(fit.bse, ref.bse, **EXACT)


def test_interaction_cell_without_orders_is_separation_naming_the_cell(us):
    d = us.copy()
    d.loc[(d["tier"] == "mega") & (d["category"] == "home"), "orders"] = 0
    with pytest.raises(
        ModelError,
        match=r"separation: 1 covariate pattern.*tier='mega', category='home' \(0 orders of "
        r"\d+ clicks\).*merge_rare_levels=True.*drop the term",
    ):
        fit_conversion(d, "C(tier) * C(category)")
    # without the interaction the cell is not separated (mega and home have orders)
    fit = fit_conversion(d, "C(tier) + C(category)")
    assert np.isfinite(fit.params).all()


def test_quasi_separation_by_a_threshold_is_caught():
    """Quasi-complete separation: below x = 0 no click converts, above every click
    does, at x = 0 both happen (the fitted CVR there stays finite)."""
    rng = np.random.default_rng(3)
    n = 300
    x = rng.integers(-3, 4, size=n).astype(float)
    clicks = rng.integers(5, 30, size=n)
    orders = np.where(x > 0, clicks, 0)
    orders = np.where(x == 0, rng.binomial(clicks, 0.5), orders)
    df = pd.DataFrame({"x": x, "clicks": clicks, "orders": orders, "creator_id": np.arange(n) % 50})
    with pytest.raises(ModelError, match="separation.*fitted CVR of exactly 0 or 1"):
        fit_conversion(df, "x", cluster=None)
    # one non-order above 0 and one order below: the MLE is finite again
    df.loc[np.flatnonzero(x > 0)[0], "orders"] -= 1
    df.loc[np.flatnonzero(x < 0)[0], "orders"] += 1
    fit = fit_conversion(df, "x", cluster=None)
    assert np.isfinite(fit.params).all() and fit.params["x"] > 1


# --------------------------------------------------------------------------- CR2
def _cr2_row_level(rows: pd.DataFrame, formula: str, contrasts: np.ndarray, tau2: float):
    """CR2 covariance, Satterthwaite df and ``E R_g^2`` computed directly on the rows,
    with the n x n hat matrix (Pustejovsky and Tipton 2018, eqs. 7 and 11; working model
    ``Phi``: independent rows plus a cluster effect of variance tau2 on the transformed
    scale, used for the adjustment matrices and the df; ``A_g = D' (D M_g D')^(-1/2) D``
    with ``D`` the Cholesky factor of ``Phi_g``, as clubSandwich)."""
    ref = smf.glm(
        f"orders + I(clicks - orders) ~ {formula}", rows, family=sm.families.Binomial()
    ).fit(tol=1e-13, tol_criterion="params")
    X = np.asarray(ref.model.exog)
    n = rows["clicks"].to_numpy(dtype=float)
    y = rows["orders"].to_numpy(dtype=float)
    mu = expit(X @ ref.params.to_numpy())
    w = n * mu * (1 - mu)
    Xt = X * np.sqrt(w)[:, None]
    et = (y - n * mu) / np.sqrt(w)
    B = np.linalg.inv(Xt.T @ Xt)
    IH = np.eye(len(y)) - Xt @ B @ Xt.T
    g = pd.factorize(rows["creator_id"])[0]
    Phi = np.eye(len(y))
    members = [np.flatnonzero(g == c) for c in range(g.max() + 1)]
    for i in members:
        Phi[np.ix_(i, i)] += tau2 * np.outer(np.sqrt(w[i]), np.sqrt(w[i]))
    meat = np.zeros((X.shape[1], X.shape[1]))
    blocks, expected_r2 = [], []
    for i in members:
        D = np.linalg.cholesky(Phi[np.ix_(i, i)]).T  # upper triangular, D' D = Phi_g
        Mg = IH[i] @ Phi @ IH[:, i]
        lam, R = np.linalg.eigh(D @ Mg @ D.T)
        A = D.T @ ((R / np.sqrt(lam)) @ R.T) @ D
        u = Xt[i].T @ A @ et[i]
        meat += np.outer(u, u)
        blocks.append((i, A))
        expected_r2.append(np.sqrt(w[i]) @ Mg @ np.sqrt(w[i]))  # E (sum_i y_i - n_i mu_i)^2
    dfs = []
    for cvec in contrasts:
        Q = np.array([IH[i].T @ (A @ Xt[i] @ B @ cvec) for i, A in blocks])
        M = Q @ Phi @ Q.T
        dfs.append(np.trace(M) ** 2 / np.sum(M * M))
    labels = pd.factorize(rows["creator_id"])[1]
    parts = {"X": X, "n": n, "mu": mu, "Xt": Xt, "B": B, "w": w, "IH": IH, "blocks": blocks}
    er2 = pd.Series(expected_r2, index=np.asarray(labels))
    return B @ meat @ B, np.asarray(dfs), er2, parts


def _cr2_row_level_quantiles(parts, contrasts, tau2, alpha, draws, seed):
    """The ``1 - alpha`` quantiles of the CR2 |t| statistics in the working model's
    world, simulated on the rows: creator ``g``'s rows expect ``n_i mu_i X_g`` orders
    (``X_g = exp(s z - s^2 / 2)``, ``s^2 = log(1 + tau2)``) plus Gaussian binomial noise
    ``sqrt(w_i) eps_i``; the GLM refitted on the rows by Newton steps, residuals
    ``y - n m`` at the refit, the row-level ``A_g`` of the fit and the bread at the
    refit."""
    X, n, mu, Xt, w, blocks = (parts[k] for k in ("X", "n", "mu", "Xt", "w", "blocks"))
    rng = np.random.default_rng(seed)
    s2 = np.log1p(tau2)
    y = np.sqrt(w)[:, None] * rng.standard_normal((len(w), draws))
    for i, _A in blocks:
        y[i] += (n[i] * mu[i])[:, None] * np.exp(np.sqrt(s2) * rng.standard_normal(draws) - s2 / 2)
    K = X.shape[1]
    outer = (X[:, :, None] * X[:, None, :]).reshape(len(X), K * K)
    eta0 = np.log(mu / (1 - mu))
    delta = np.zeros((K, draws))
    for _ in range(30):
        m = expit(eta0[:, None] + X @ delta)
        H = ((n[:, None] * m * (1 - m)).T @ outer).reshape(draws, K, K)
        step = np.linalg.solve(H, (X.T @ (y - n[:, None] * m)).T[:, :, None])[:, :, 0]
        big = np.abs(step).max(axis=1, keepdims=True)
        delta += (step / np.maximum(big, 1.0)).T
    ok = big[:, 0] < 1e-6  # draws with a finite estimate (the fit's reference keeps these)
    y, delta = y[:, ok], delta[:, ok]
    draws = int(ok.sum())
    m = expit(eta0[:, None] + X @ delta)
    H = ((n[:, None] * m * (1 - m)).T @ outer).reshape(draws, K, K)
    et = (y - n[:, None] * m) / np.sqrt(w)[:, None]
    Bc = np.linalg.solve(H, np.broadcast_to(contrasts.T, (draws, *contrasts.T.shape)))
    var = np.zeros((len(contrasts), draws))
    for i, A in blocks:
        u = Xt[i].T @ A @ et[i]  # K x draws
        var += np.einsum("kd,dkl->ld", u, Bc) ** 2
    t = np.abs(contrasts @ delta) / np.sqrt(var)
    return np.quantile(t, 1 - alpha, axis=1)


@pytest.mark.parametrize("formula", ["C(tier) + commission_rate", "C(tier) * C(category)"])
def test_cr2_equals_a_direct_row_level_computation(us, formula):
    """The pattern-level CR2 ((K + 1) x (K + 1) per creator) equals the textbook
    row-level one with the same working model, for the covariance, the Satterthwaite df
    of the coefficients and of predicted CVRs, and the moments ``E R_g^2`` behind the
    creator-effect variance, with and without a creator effect in the working model.
    The intervals' critical values (working-model Monte Carlo) agree with a row-level
    simulation of the same statistic within Monte Carlo error."""
    d = _few_creators(us, 8)
    d = d[d["clicks"] > 0].iloc[:700].copy()
    for c in ("tier", "category"):
        d[c] = d[c].cat.remove_unused_categories()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        fit = fit_conversion(d, formula, cov_type="CR2")
    cr2 = fit._cr2
    K = len(fit.params)
    new = d.iloc[:7]
    contrasts = np.vstack([np.eye(K), fit.design(new)])
    assert cr2.tau2 > 0  # synth has creator effects
    a, k = cr2.moment_terms
    # the fit's clusters: the creators with clicks, in the order of their category codes
    creators = np.asarray(d["creator_id"].cat.remove_unused_categories().cat.categories)
    for tau2 in (0.0, cr2.tau2, 2.0):
        cov, df, er2, parts = _cr2_row_level(d, formula, contrasts, tau2)
        np.testing.assert_allclose(cr2.covariance(tau2), cov, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(cr2.df(contrasts, tau2=tau2), df, rtol=1e-7)
        np.testing.assert_allclose(a + tau2 * k, er2.loc[creators], rtol=1e-7)
        if tau2 == cr2.tau2:
            fit_parts = parts
    np.testing.assert_allclose(fit.cov, cr2.covariance(cr2.tau2), rtol=1e-12)
    # critical values: a row-level simulation of the CR2 |t| in the working model's
    # world, refitted on the rows (8,000 draws; the fit's 4,000: each quantile's Monte
    # Carlo SD is about 2 %, and the mean ratio over three seeds of the reference was
    # 1.010-1.021 for the first formula)
    crit = cr2.critical(contrasts)
    ref = _cr2_row_level_quantiles(fit_parts, contrasts, cr2.tau2, 0.05, 8_000, seed=5)
    np.testing.assert_allclose(crit, ref, rtol=0.07)
    assert np.mean(crit / ref) == pytest.approx(1, abs=0.03)
    # df_params and predict_interval's df: the t whose quantile is the critical value
    # (a critical value below the normal quantile, which Monte Carlo error allows for a
    # well-supported contrast, is read as df = inf, the normal)
    crit = np.maximum(crit, stats.norm.ppf(0.975))
    np.testing.assert_allclose(stats.t.ppf(0.975, fit.df_params), crit[:K], rtol=1e-9)
    pi = fit.predict_interval(new)
    np.testing.assert_allclose(stats.t.ppf(0.975, pi["df"]), crit[K:], rtol=1e-9)
    tq = stats.t.ppf(0.975, pi["df"])
    np.testing.assert_allclose(pi["upper"], expit(pi["logit"] + tq * pi["logit_se"]), rtol=1e-12)
    # another level: df for that level, the same simulation
    ci90 = fit.conf_int(0.10)
    q90 = np.maximum(cr2.critical(np.eye(K), 0.10), stats.norm.ppf(0.95))
    np.testing.assert_allclose(ci90["upper"], fit.params + q90 * fit.bse, rtol=1e-9)


def test_cr2_is_default_with_few_creators_and_warns_naming_levels(us):
    d = _few_creators(us, 8)
    with pytest.warns(ConversionWarning, match=r"tier='mega' \(8 creator_id, effective"):
        fit = fit_conversion(d, "C(tier) + commission_rate")
    assert fit.cov_type == "CR2" and fit.correction == 1.0
    assert (fit.df_params < fit.n_clusters - 1).all()
    sf = fit.summary_frame()
    crit = stats.t.ppf(0.975, sf["df"])
    np.testing.assert_allclose(sf["ci_upper"], sf["log_odds"] + crit * sf["std_err"])
    lc = fit.level_creators.set_index(["column", "level"])
    assert lc.loc[("tier", "mega"), "clusters"] == 8
    assert lc.loc[("(all)", "(all)"), "clusters"] == fit.n_clusters == 40
    # CR1 stays available, and CR2's bias reduction makes the errors larger
    cr1 = fit_conversion(d, "C(tier) + commission_rate", cov_type="CR1")
    assert cr1.cov_type == "CR1"
    assert (fit.bse / cr1.bse).median() > 1
    # marginal effect and commission curve use their own Satterthwaite df
    me = fit.marginal_effect("commission_rate")
    # (the df whose t quantile is the working-model critical value: not bounded by G)
    assert me["df"] > 1 and np.isfinite(me["df"])
    curve = fit.commission_response([0.05, 0.1])
    assert (curve["df"] > 1).all()
    assert fit.reference.startswith("CR2 t statistic under the working model")
    with pytest.raises(ModelError, match="cov_type must be"):
        fit_conversion(d, cov_type="HC1")


def test_auto_rule_uses_cr1_only_with_many_creators_on_every_level():
    from helpers.conversion import _choose_cov_type

    lc = pd.DataFrame({"effective_clusters": [80.0, 400.0]})
    assert _choose_cov_type("auto", 30_000, lc) == "CR1"
    assert _choose_cov_type("auto", 5_000, lc) == "CR2"
    thin = pd.DataFrame({"effective_clusters": [12.0, 400.0]})
    assert _choose_cov_type("auto", 30_000, thin) == "CR2"
    assert _choose_cov_type("CR1", 50, thin) == "CR1"


def test_calibration_cr2_single_bin_is_the_ratio_cr2(us):
    """One bin: the CR2 ratio interval equals CR2 of an intercept-only fit weighted by
    clicks (the direct row-level formula with the hat matrix of that fit)."""
    d = _few_creators(us, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        fit = fit_conversion(d, "C(tier)")
    cal = fit.calibration(1)
    rows = d[d["clicks"] > 0]
    n = rows["clicks"].to_numpy(dtype=float)
    r = rows["orders"].sum() / n.sum()
    z = rows["orders"].to_numpy(dtype=float) - r * n
    g = pd.factorize(rows["creator_id"])[0]
    var, inv_terms = 0.0, []
    for c in range(g.max() + 1):
        i = g == c
        h = np.sqrt(n[i])[:, None] * np.sqrt(n[i])[None, :] / n.sum()
        lam, R = np.linalg.eigh(np.eye(int(i.sum())) - h)
        A = (R / np.sqrt(lam)) @ R.T
        s = np.sqrt(n[i]) @ A @ (z[i] / np.sqrt(n[i]))
        var += s**2 / n.sum() ** 2
        inv_terms.append(n[i].sum() / n.sum())
    pi = np.asarray(inv_terms)
    a, s2 = pi / (1 - pi), pi**2 / (1 - pi)
    df = 1 / (np.sum(a * a) - 2 * np.sum(a * s2) + np.sum(s2) ** 2)
    half = stats.t.ppf(0.975, df) * np.sqrt(var)
    assert cal["obs_lower"].item() == pytest.approx(r - half, rel=1e-9)
    assert cal["obs_upper"].item() == pytest.approx(r + half, rel=1e-9)
    assert "CR2" in cal.attrs["interval"]


# --------------------------------------------------------------------------- hard-case coverage
def _hard_case_coverage(reps: int, seed: int, traffic: str = "lognormal"):
    from sim.conversion_sim import Scenario, coverage

    res = coverage(Scenario(traffic=traffic), reps, seed=seed)
    print(f"\n{traffic}, {reps} reps\n", res["coef"].round(3), "\n", res["cvr"].round(3))
    return res


def test_hard_case_coverage_reduced():
    """Issue 11 item 3, reduced: 150 creators (6 and 12 in the two top tiers), lognormal
    clicks, creator effects; an independent simulator (tests/sim). 40 replications:
    enough to tell CR2 with its working-model reference (about 0.95) from CR1 (about
    0.83 for coefficients, 0.78 for predicted CVRs) and from a badly conservative
    reference (Satterthwaite's t covered 0.98), not to measure the level exactly."""
    res = _hard_case_coverage(40, seed=11)
    coef, cvr = res["coef"], res["cvr"]
    assert 0.91 <= coef["auto"].mean() <= 0.98, coef
    assert 0.90 <= cvr["auto"].mean() <= 0.98, cvr
    assert coef["auto"].min() >= 0.80 and cvr["auto"].min() >= 0.80
    assert coef["CR1"].mean() < coef["auto"].mean() - 0.04  # the reason for CR2
    tiers = res["df"].filter(like="C(tier)")
    assert (tiers < 40).all() and res["df"]["C(tier)[T.mega]"] < 10, res["df"]
    assert 0.2 < np.median(res["tau2"]) < 0.6  # creator sd 0.6: variance 0.36 (0.43 on counts)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("traffic", "reps", "seed"),
    [
        ("lognormal", 1000, 2026),
        ("pareto", 500, 7),
    ],
)
def test_hard_case_coverage_full(traffic, reps, seed):
    """Issue 11's Done-when: 95 % intervals cover 93-97 % per coefficient and for
    predicted CVRs with 150 creators and heavy-tailed clicks (binomial SE of one
    coverage: 0.7 points with 1000 reps, 1 point with 500). Measured with the refitted
    working-model reference: lognormal (1000 reps, seed 2026) coefficients 94.4-96.3 %
    (mean 95.3 %), CVRs 94.5-97.0 % (95.3 %; mega/home at the upper edge); Pareto (500
    reps, seed 7) coefficients 93.8-96.6 % (95.1 %), CVRs 93.4-96.6 % (95.2 %). The
    linearised Gaussian reference it replaces
    gave 91.6 % for the mega tier (misses on both sides, 3.8 % and 4.6 %) and 91.2 % for
    mega/fashion. CR1: 73-88 % and 65-87 %."""
    res = _hard_case_coverage(reps, seed=seed, traffic=traffic)
    coef, cvr = res["coef"]["auto"], res["cvr"]["auto"]
    assert coef.between(0.93, 0.97).all(), coef
    assert cvr.between(0.93, 0.97).all(), cvr
