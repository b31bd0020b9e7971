"""What drives conversion: a binomial GLM of orders out of clicks, fitted on sufficient statistics.

:func:`fit_conversion` fits ``logit P(order | click) = x' beta`` for a patsy formula of
covariates (default ``C(tier) + C(category) + commission_rate``) with statsmodels'
``GLM(family=Binomial())``. It is exact and fast because the binomial log-likelihood,
score and Hessian are sums over rows, and rows with the same covariate pattern add up:

* the point estimate is fitted on one row per distinct covariate *pattern* (successes and
  trials summed; a few hundred rows however large the export);
* the cluster-robust "meat" needs the score of each cluster,
  ``S_g = sum_p x_p (Y_gp - N_gp mu_p)``: the successes and trials of each
  (cluster x pattern) cell, times the pattern design, without refitting;
* the row-level Pearson chi-square needs one more sum per pattern,
  ``sum_i y_i^2 / n_i`` (``sum_i (y_i - n_i mu)^2 / n_i = sum_i y_i^2 / n_i - 2 mu Y + mu^2 N``);
* the bread is the inverse Fisher information at the final estimate, as statsmodels uses
  for ``cov_type="cluster"``.

Cluster-robust covariance (``cov_type``):

* ``"CR2"``: Bell and McCaffrey's bias-reduced sandwich, computed per creator on its
  (creator x pattern) cells (:mod:`helpers.cr2`), under a working model of independent
  binomial rows plus a random intercept per creator (logit scale; its variance
  estimated by moments, ``info()["cluster_effect_var"]``), as Pustejovsky and Tipton
  (2018) propose: the CR2 adjustment then makes the variance unbiased when one level's
  clicks come from a few large creators. Critical values of every interval and p-value
  (coefficients, predicted CVRs, marginal effects, commission-curve points) are the
  quantiles of the CR2 t statistic in that working model's world (each creator's
  effect multiplies its expected orders as a logit-scale random intercept does, the GLM
  refitted per draw), computed by Monte Carlo (4,000 draws, fixed seed), and reported
  as the t degrees of freedom that give the same 95 % critical value (the ``df``
  columns); Satterthwaite's degrees of freedom (the fallback when the Monte Carlo is
  too costly, thousands of creators with many coefficients) are conservative there.
  With 150 creators, tiers resting on 6-12 creators and creator effects, 95 %
  intervals cover 94.4-96.3 % per coefficient and 94.5-97.0 % for predicted CVRs with
  lognormal clicks (1000 simulated exports), 93.8-96.6 % and 93.4-96.6 % with
  Pareto(1.3) clicks (500; the linearised Gaussian reference gave 91.6 % for the mega
  tier) where CR1 covers 65-88 % (tests/sim/conversion_sim.py).
* ``"CR1"``: equals statsmodels' row-level fit
  ``smf.glm("orders + I(clicks - orders) ~ <formula>", rows, family=Binomial())
  .fit(cov_type="cluster", cov_kwds={"groups": creator_codes})`` on the rows the fit uses
  (rows with clicks > 0 and no missing value in a used column), to about 1e-10: the
  small-sample factor ``G/(G-1) * (N-1)/(N-K)`` with ``G`` clusters, ``N`` *rows* (not
  patterns) and ``K`` coefficients; normal reference, or t(G - 1) below 50 clusters.
* ``"auto"`` (default): CR2, except with more than 20,000 creators when every level of
  every categorical covariate (and the site) has at least 50 *effective* creators,
  ``(sum_g N_g)^2 / sum_g N_g^2`` with ``N_g`` a creator's clicks there; then CR1 and
  CR2 differ by about 1/50 and CR1 saves the per-creator work on very large exports.

What the coefficients estimate: with creator effects, the click-weighted fit without a
creator term estimates *population-averaged* log-odds, the logit of the expected orders
per click over the creators of a level (and its share of the other covariates), not the
log-odds of a typical creator, which is lower by about half the creator-effect variance
at small CVRs (0.18 for a creator SD of 0.6). That is the number a seller multiplies by
the clicks expected from new creators of a tier, category and commission to forecast
orders; the typical (median) creator of the tier converts less. The simulation checks
intervals against exactly this target (the large-sample limit of the fit with creator
effects, clicks and covariates independent). With a level resting on a few creators,
the estimate is the logit of a click-weighted mean of a few creators' CVRs: unbiased for
the CVR, biased low and skewed on the logit scale, which the working-model reference
includes. When large creators convert differently from small ones, the target weights
creators by their clicks, what orders follow if the click mix stays alike.

A level resting on fewer than 20 creators, or fewer than 10 effective ones, gets a
ConversionWarning naming it (``fit.level_creators`` has the counts). A fit with no more
clusters than coefficients is refused (the sandwich would be singular).

Separation is decided on the patterns by Konis' linear program (a finite maximum
likelihood estimate exists exactly when no direction separates the patterns with
orders from those with non-orders); a model that fits every pattern exactly
(``C(tier)``, ``C(tier) * C(category)``) is not separation.

Those sums come from the reduction layer (:mod:`helpers.reduce`), which runs them where
the rows are: on DuckDB for a pandas frame (scanned in place), a Parquet file or folder
or a DuckDB relation, on Spark for a Spark DataFrame; only the sums reach Python.

Stateful transforms (``bs()``, ``cr()``, ``center()``, ``standardize()``) learn their
state (knots, means) from the row-level data the fit uses, exactly as the row-level
formula fit does, so a spline formula gives the same coefficients; they need the rows,
so they work on pandas frames and are refused (ModelError) on engine sources.

Sites are never pooled silently: with several sites in the data, choose one
(``site="US"``), fit each (:func:`fit_conversion_by_site`) or pool explicitly
(``pool_sites=True`` adds ``C(site)``).
"""

from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import patsy
import scipy.sparse as sp
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog
from scipy.special import expit, stdtridf
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from helpers.cr2 import CR2
from helpers.errors import KitWarning, ModelError
from helpers.reduce import Accounting, Source, as_source
from helpers.reduce.totals import (
    cluster_pattern_totals,
    distinct_values,
    pattern_totals,
    row_accounting,
    site_filter,
)
from helpers.schema import TIER_DTYPE, TIERS

__all__ = [
    "DEFAULT_FORMULA",
    "ConversionFit",
    "ConversionWarning",
    "SiteFits",
    "fit_conversion",
    "fit_conversion_by_site",
]

DEFAULT_FORMULA = "C(tier) + C(category) + commission_rate"
"""Tier (reference level: nano, the first level of :data:`helpers.schema.TIER_DTYPE`),
category (reference: the first level, alphabetical for text) and commission rate as a
fraction (its coefficient is the change in log-odds for +100 percentage points)."""

# Below this many clusters the sandwich covariance is known to be biased downwards;
# intervals and p-values then use t(G - 1) critical values by default (use_t=None).
_FEW_CLUSTERS = 50
# cov_type="auto" uses CR2 (bias-reduced, with Satterthwaite t) unless the data has more
# than _CR2_MAX_CLUSTERS clusters AND every categorical level (and the whole site) has
# an effective number of clusters, (sum_g N_g)^2 / sum_g N_g^2 with N_g a cluster's
# trials, of at least _CR2_MIN_EFFECTIVE: then CR1 and CR2 agree to about 1 / 50 in
# variance and CR1 saves the per-cluster work on very large exports.
_CR2_MAX_CLUSTERS = 20_000
_CR2_MIN_EFFECTIVE = 50.0
# A level (or site) resting on fewer creators than this, or on fewer effective creators
# than _FEW_EFFECTIVE, gets a ConversionWarning naming it.
_FEW_PER_LEVEL = 20
_FEW_EFFECTIVE = 10.0


class ConversionWarning(KitWarning):
    """A conversion fit ran but rests on thin data (rare levels, dropped rows)."""


# ----------------------------------------------------------------------------- formula
def _split_formula(formula: str) -> str:
    """Return the right-hand side of ``formula`` (with or without a ``~``)."""
    if not isinstance(formula, str) or not formula.strip():
        raise ModelError(
            f"formula must be a non-empty string such as {DEFAULT_FORMULA!r}; got {formula!r}"
        )
    if "~" in formula:
        lhs, rhs = formula.split("~", 1)
        if lhs.strip():
            raise ModelError(
                f"formula {formula!r} has a left-hand side; give only the covariates (e.g. "
                f"{DEFAULT_FORMULA!r}) and name the counts with successes= and trials="
            )
        formula = rhs
    return formula.strip()


def _patsy_names() -> set[str]:
    """Names patsy and Python resolve without the data (C, I, Q, bs, np, abs, ...)."""
    return set(dir(patsy.builtins)) | set(dir(builtins))


def _formula_columns(
    rhs: str, columns: Sequence[str], env: patsy.EvalEnvironment
) -> tuple[list[str], set[str]]:
    """Data columns a formula uses, and those it wraps in ``C()`` (categorical).

    Raises ModelError when the formula names something that is neither a column of the
    data nor a name patsy or the caller's namespace can resolve.
    """
    try:
        desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise ModelError(f"cannot parse formula {rhs!r}: {exc}") from exc
    colset = set(columns)
    known = _patsy_names()
    used: list[str] = []
    in_c: set[str] = set()
    unknown: list[str] = []
    for term in desc.rhs_termlist:
        for factor in term.factors:
            tree = ast.parse(factor.code, mode="eval")
            for node in ast.walk(tree):
                name: str | None = None
                if isinstance(node, ast.Name):
                    name = node.id
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Q"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    name = node.args[0].value
                if name is None:
                    continue
                if name in colset:
                    if name not in used:
                        used.append(name)
                elif isinstance(node, ast.Call):  # Q("missing column")
                    unknown.append(name)
                elif name not in known:
                    try:
                        env.namespace[name]
                    except KeyError:
                        unknown.append(name)
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "C"
                    and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in colset
                ):
                    in_c.add(node.args[0].id)
    if unknown:
        raise ModelError(
            f"formula {rhs!r} names {sorted(set(unknown))}, which are not columns of the data. "
            f"Available columns: {list(columns)}. Fix the formula (use Q('name') for a column "
            "name with spaces) or rename the column."
        )
    return used, in_c


def _is_stateful(rhs: str, env: patsy.EvalEnvironment) -> bool:
    desc = patsy.ModelDesc.from_formula(rhs)
    for term in desc.rhs_termlist:
        for factor in term.factors:
            if factor.memorize_passes_needed({}, env) > 0:
                return True
    return False


# ----------------------------------------------------------------------------- pattern tables
def _level_sums(
    values: pd.Series, Np: np.ndarray, Yp: np.ndarray
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Levels of a pattern-level column in sorted order (category order for categoricals,
    as ``groupby(sort=True, observed=True)``) with their summed trials and successes."""
    codes, uniques = pd.factorize(values, sort=True)
    k = len(uniques)
    return (
        pd.Index(uniques).tolist(),
        np.bincount(codes, weights=Np, minlength=k),
        np.bincount(codes, weights=Yp, minlength=k),
    )


# ----------------------------------------------------------------------------- separation
def _separated_patterns(X: np.ndarray, Yp: np.ndarray, Np: np.ndarray) -> np.ndarray:
    """Patterns whose fitted CVR the maximum likelihood drives to exactly 0 or 1.

    The binomial MLE on patterns is finite exactly when no direction ``b != 0`` has
    ``x_p b >= 0`` on every pattern with a success and ``x_p b <= 0`` on every pattern
    with a failure (Albert and Anderson 1984; patterns with both get ``x_p b = 0``):
    along such a ``b`` the log-likelihood never stops increasing. Konis' (2007) linear
    program looks for one: maximise ``sum(z_i b)`` subject to ``z_i b >= 0`` and
    ``-1 <= b <= 1``, with ``z_i = x_p`` for each pattern with a success and
    ``z_i = -x_p`` for each with a failure. The optimum is 0 when the MLE is finite;
    otherwise the rows with ``z_i b > 0`` are the separated patterns.

    A model that fits every pattern exactly (``C(tier)``, ``C(tier) * C(category)``) is
    *not* separated when each pattern has successes and failures, although its fitted
    proportions equal the observed ones (statsmodels' perfect-prediction warning).

    Returns
    -------
    numpy.ndarray
        Indices of separated patterns (empty when the MLE is finite).
    """
    scale = np.max(np.abs(X), axis=0)
    Xs = X / np.where(scale > 0, scale, 1.0)  # columns in [-1, 1]: the tolerance is scale-free
    has_y, has_f = Yp > 0, (Np - Yp) > 0
    Z = np.vstack([Xs[has_y], -Xs[has_f]])
    owner = np.concatenate([np.flatnonzero(has_y), np.flatnonzero(has_f)])
    K = X.shape[1]
    res = linprog(
        -Z.sum(axis=0),
        A_ub=-Z,
        b_ub=np.zeros(len(Z)),
        bounds=[(-1.0, 1.0)] * K,
        method="highs",
    )
    if res.status != 0:  # pragma: no cover - the LP is feasible (b = 0) and bounded
        raise ModelError(f"the separation check failed: {res.message}")
    zb = Z @ res.x
    # HiGHS' feasibility tolerance is 1e-7 per constraint; a real separating direction
    # moves the log-odds of a pattern by order one in these units
    if -res.fun <= 1e-6 * max(1, len(Z)) ** 0.5 or zb.max() <= 1e-6:
        return np.empty(0, dtype=np.int64)
    return np.unique(owner[zb > 1e-6])


def _raise_if_separated(
    X: np.ndarray,
    Yp: np.ndarray,
    Np: np.ndarray,
    pat: pd.DataFrame,
    used: Sequence[str],
    level_desc: Sequence[str],
    successes: str,
    trials: str,
    merged: bool,
    other_label: str,
) -> None:
    """Raise ModelError naming the levels or patterns when the MLE is infinite
    (:func:`_separated_patterns`); return quietly when it is finite."""
    bad = _separated_patterns(X, Yp, Np)
    if bad.size == 0:
        return
    if merged:
        fix = (
            "merging did not help: drop that level (or column) from the data, or drop the "
            "term (or interaction) from the formula"
        )
    else:
        fix = (
            f"pass merge_rare_levels=True to merge it with other thin levels into "
            f"{other_label!r}, or drop that level (or column) from the data, or drop the "
            "term (or interaction) from the formula"
        )
    if level_desc:
        raise ModelError(
            f"separation: {', '.join(level_desc)}. A level where every click converts or "
            f"none does has an infinite log-odds, so the fit would be nonsense; {fix}."
        )
    worst = bad[np.argsort(-Np[bad], kind="stable")][:5]
    pats = "; ".join(
        ", ".join(f"{c}={pat[c].iloc[i]!r}" for c in used)
        + f" ({int(Yp[i])} {successes} of {int(Np[i])} {trials})"
        for i in worst
    )
    raise ModelError(
        f"perfect or quasi-perfect separation: {bad.size} covariate pattern(s) would get a "
        f"fitted CVR of exactly 0 or 1 (the maximum likelihood estimate is infinite), e.g. "
        f"{pats}. Some level, combination of levels (an interaction cell) or range of a "
        f"covariate converts always or never; {fix}."
    )


# ----------------------------------------------------------------------------- the fit
@dataclass
class ConversionFit:
    """A fitted conversion model (orders out of clicks, logit link).

    Attributes
    ----------
    params, bse : pandas.Series
        Coefficients and standard errors on the log-odds scale.
    cov : pandas.DataFrame
        Covariance of ``params`` (cluster-robust unless ``cluster`` is None).
    formula : str
        The right-hand side fitted (with ``C(site)`` added when sites were pooled).
    cluster : str or None
        Column whose groups the robust covariance clusters on.
    cov_type : str
        ``"CR2"`` (bias-reduced cluster-robust, t reference from its working model), ``"CR1"``
        (statsmodels' cluster-robust) or ``"nonrobust"`` (model-based, scale 1).
    site : str or None
        The site fitted, ``"pooled"`` when pooled, None when the data has no site column.
    n_rows : int
        Rows in the data given (after choosing the site).
    n_rows_missing : int
        Rows excluded because a used column (or the counts) was missing; per column in
        ``missing_by_column``.
    n_rows_zero_trials : int
        Complete rows with zero trials (no clicks): they carry no information.
    n_rows_used : int
        Rows the likelihood is a sum over (``N`` in the small-sample correction).
    n_patterns, n_clusters : int
        Distinct covariate patterns and clusters (0 when model-based).
    successes, trials : int
        Total orders and clicks used.
    pearson_chi2 : float
        Row-level Pearson chi-square, ``sum_i (y_i - n_i mu_i)^2 / (n_i mu_i (1 - mu_i))``.
    dispersion : float
        ``pearson_chi2 / (n_rows_used - K)``: about 1 when rows are binomial; well above 1
        means extra-binomial variation (creator effects), which the clustered errors
        allow for and model-based errors do not.
    cov_model : pandas.DataFrame
        Model-based covariance (inverse Fisher information, scale 1), kept for
        comparison: with creator effects it is too small (see ``bse_model``).
    correction : float
        The small-sample factor applied to the CR1 covariance (1 for CR2, where the
        per-creator adjustment replaces it, and when model-based).
    df_inference : float or None
        Degrees of freedom of the t reference distribution of intervals and p-values,
        ``G - 1`` (clusters minus one) when ``use_t`` applies (by default: clustered
        errors with fewer than 50 clusters), or None for the normal reference (as
        statsmodels' GLM with ``use_t=False``). CR1 only; CR2 uses ``df_params``.
    df_params : pandas.Series or None
        Degrees of freedom of each coefficient's t reference at the 95 % level (CR2: the
        t degrees of freedom whose critical value equals the working-model quantile,
        or Satterthwaite's, see :attr:`reference`; CR1 with ``use_t``: G - 1), None for
        the normal reference.
    level_creators : pandas.DataFrame or None
        Clusters, effective clusters and trials per level of each categorical covariate
        (column ``"(all)"``: the whole fit); None when model-based.
    merged_levels : dict
        ``{column: [levels merged into "other"]}`` when ``merge_rare_levels=True``.
    level_clicks : pandas.DataFrame
        Trials and successes per level of each categorical covariate.
    patterns : pandas.DataFrame
        One row per covariate pattern: the covariate values, ``successes``, ``trials``
        and the fitted probability ``mu``.
    """

    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    cov_model: pd.DataFrame
    formula: str
    cluster: str | None
    cov_type: str
    site: str | None
    n_rows: int
    n_rows_missing: int
    missing_by_column: dict[str, int]
    n_rows_zero_trials: int
    n_rows_used: int
    n_patterns: int
    n_clusters: int
    successes: int
    trials: int
    pearson_chi2: float
    dispersion: float
    correction: float
    converged: bool
    iterations: int
    merged_levels: dict[str, list[Any]]
    level_clicks: pd.DataFrame
    patterns: pd.DataFrame
    design_info: Any = field(repr=False)
    successes_col: str = "orders"
    trials_col: str = "clicks"
    other_label: str = "other"
    warnings: list[str] = field(default_factory=list)
    df_inference: float | None = None
    # row-level (cluster code, pattern code, residual, trials) of the complete rows
    # (rows without trials have weight 0) and the number of cluster codes, for
    # cluster-robust calibration intervals; None when model-based
    _rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int] | None = field(
        default=None, repr=False
    )

    df_params: pd.Series | None = None
    level_creators: pd.DataFrame | None = None
    _cr2: CR2 | None = field(default=None, repr=False)

    def _crit(self, alpha: float, df: np.ndarray | float | None = None) -> Any:
        """Two-sided critical value(s): t with ``df`` when given (per contrast, from
        :meth:`contrast_df` at the same ``alpha``), else normal or t(G - 1) when
        ``df_inference`` is set."""
        if df is not None:
            return stats.t.ppf(1 - alpha / 2, df)
        if self.df_inference is None:
            return float(stats.norm.ppf(1 - alpha / 2))
        return float(stats.t.ppf(1 - alpha / 2, self.df_inference))

    @property
    def reference(self) -> str:
        """The reference distribution of intervals and p-values, in words."""
        if self._cr2 is not None and self.df_params is not None:
            return _cr2_reference(self._cr2)
        if self.df_inference is not None:
            return f"t({self.df_inference:g})"
        return "normal"

    def contrast_df(self, contrasts: np.ndarray, alpha: float = 0.05) -> np.ndarray | None:
        """Degrees of freedom of the t reference for contrasts ``c' beta`` (rows of an
        L x K array) at level ``1 - alpha``: with CR2 errors the t degrees of freedom
        whose ``1 - alpha/2`` quantile is the working-model critical value (so they
        depend a little on ``alpha``), or Satterthwaite's (see :attr:`reference`);
        ``G - 1`` with CR1 errors and ``use_t``; None for the normal reference.

        Rows with a missing value get NaN; identical rows are computed once."""
        C = np.atleast_2d(np.asarray(contrasts, dtype=np.float64))
        if self._cr2 is None or self.df_params is None:  # (CR2 with use_t=False: normal)
            if self.df_inference is None:
                return None
            return np.full(len(C), self.df_inference)
        out = np.full(len(C), np.nan)
        ok = np.all(np.isfinite(C), axis=1)
        if ok.any():
            uniq, inverse = np.unique(C[ok], axis=0, return_inverse=True)
            out[ok] = _cr2_df(self._cr2, uniq, alpha)[inverse.reshape(-1)]
        return out

    # ------------------------------------------------------------------ coefficient tables
    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals of the coefficients (log-odds scale).

        Parameters
        ----------
        alpha : float
            1 - confidence level (0.05 for 95 %).

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, indexed by coefficient name.
        """
        _check_alpha(alpha)
        df = None if self.df_params is None else self.df_params.to_numpy()
        if self._cr2 is not None and df is not None and alpha != 0.05:  # df_params: 95 %
            df = self.contrast_df(np.eye(len(self.params)), alpha)
        z = self._crit(alpha, df)
        return pd.DataFrame(
            {"lower": self.params - z * self.bse, "upper": self.params + z * self.bse}
        )

    def odds_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """Odds ratios ``exp(coef)`` with their intervals (the intercept row is the
        baseline odds, not a ratio).

        Returns
        -------
        pandas.DataFrame
            Columns ``odds_ratio``, ``lower``, ``upper``.
        """
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "odds_ratio": np.exp(self.params),
                "lower": np.exp(ci["lower"]),
                "upper": np.exp(ci["upper"]),
            }
        )

    @property
    def bse_model(self) -> pd.Series:
        """Model-based standard errors (what ``cluster=None`` reports), for comparison
        with the cluster-robust ``bse``."""
        return pd.Series(
            np.sqrt(np.diag(self.cov_model.to_numpy())),
            index=self.params.index,
            name="std_err_model",
        )

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided Wald p-values: t with each coefficient's ``df_params`` (CR2: the
        degrees of freedom matched to the working-model quantile at 95 %, so p < 0.05
        exactly when the 95 % interval excludes 0, and an approximation elsewhere; CR1
        with ``use_t``: G - 1), or the normal reference (as statsmodels' GLM) when
        ``df_params`` is None."""
        t = np.abs(self.params / self.bse)
        if self.df_params is None:
            return pd.Series(2 * stats.norm.sf(t), index=self.params.index)
        return pd.Series(2 * stats.t.sf(t, self.df_params.to_numpy()), index=self.params.index)

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """The coefficient table.

        Returns
        -------
        pandas.DataFrame
            Indexed by coefficient: ``log_odds``, ``std_err``, ``z`` (the Wald statistic;
            compared with t(``df``) when ``df_params`` is set), ``p_value``,
            ``ci_lower``, ``ci_upper`` (log-odds), ``odds_ratio``, ``or_lower``,
            ``or_upper`` and ``df`` (degrees of freedom of the t reference; infinite for
            the normal).
        """
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "log_odds": self.params,
                "std_err": self.bse,
                "z": self.params / self.bse,
                "p_value": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
                "odds_ratio": np.exp(self.params),
                "or_lower": np.exp(ci["lower"]),
                "or_upper": np.exp(ci["upper"]),
                "df": np.inf if self.df_params is None else self.df_params,
            }
        ).rename_axis("term")

    # ------------------------------------------------------------------ predictions
    def design(self, newdata: pd.DataFrame) -> np.ndarray:
        """The design matrix of ``newdata`` (same coding and spline knots as the fit).

        Rows with a missing value in a column the formula uses get a row of NaN (so their
        predictions are NaN), with a :class:`ConversionWarning` counting them.
        """
        if not isinstance(newdata, pd.DataFrame):
            raise ModelError(f"newdata must be a pandas DataFrame; got {type(newdata).__name__}")
        missing_cols = [c for c in self.columns() if c not in newdata.columns]
        if missing_cols:
            raise ModelError(
                f"newdata lacks columns {missing_cols} that the formula uses; it has "
                f"{list(newdata.columns)}"
            )
        incomplete = np.zeros(len(newdata), dtype=bool)
        for col in self.columns():
            incomplete |= newdata[col].isna().to_numpy(dtype=bool)
        frame = newdata[~incomplete] if incomplete.any() else newdata
        if incomplete.any():
            warnings.warn(
                f"{int(incomplete.sum())} of {len(newdata)} rows have a missing value in "
                f"{self.columns()}; their predictions are NaN",
                ConversionWarning,
                stacklevel=3,
            )
        if self.merged_levels:
            frame = frame.copy()
            for col, levels in self.merged_levels.items():
                if col in frame.columns:
                    frame[col] = _merge_values(frame[col], levels, self.other_label)
        if incomplete.all():
            return np.full((len(newdata), len(self.params)), np.nan)
        try:
            (X,) = patsy.build_design_matrices([self.design_info], frame, NA_action="raise")
        except patsy.PatsyError as exc:
            raise ModelError(
                f"cannot build the design for newdata: {exc}. Accepted levels: "
                f"{self.levels()}; columns needed: {self.columns()}"
            ) from exc
        except NotImplementedError as exc:  # patsy bs() outside its boundary knots
            raise ModelError(
                f"cannot evaluate the formula on newdata: {exc}. A spline cannot extrapolate "
                "beyond the data; give bs(..., lower_bound=, upper_bound=) explicitly"
            ) from exc
        X = np.asarray(X, dtype=np.float64)
        if incomplete.any():
            full = np.full((len(newdata), X.shape[1]), np.nan)
            full[~incomplete] = X
            return full
        return X

    def columns(self) -> list[str]:
        """Data columns the formula uses."""
        return [c for c in self.patterns.columns if c not in ("successes", "trials", "mu")]

    def levels(self) -> dict[str, list[Any]]:
        """Accepted levels of each categorical factor of the formula."""
        out: dict[str, list[Any]] = {}
        for factor, info in self.design_info.factor_infos.items():
            if info.type == "categorical":
                out[factor.name()] = list(info.categories)
        return out

    def reference_levels(self) -> dict[str, Any]:
        """Reference (first) level of each categorical factor, keyed by column where the
        factor is a column or ``C(column)`` (e.g. ``{"tier": "nano"}``)."""
        out: dict[str, Any] = {}
        for name, levels in self.levels().items():
            key = name[2:-1].split(",")[0].strip() if name.startswith("C(") else name
            if levels:
                out[key] = levels[0]
        return out

    def predict(self, newdata: pd.DataFrame) -> pd.Series:
        """Predicted conversion probability (CVR) for each row of ``newdata``.

        Parameters
        ----------
        newdata : pandas.DataFrame
            Rows with the covariate columns of the formula; categorical values must be
            levels the fit has seen (see :meth:`levels`).

        Returns
        -------
        pandas.Series
            Probabilities, indexed like ``newdata``.
        """
        X = self.design(newdata)
        return pd.Series(expit(X @ self.params.to_numpy()), index=newdata.index, name="cvr")

    def predict_interval(self, newdata: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
        """Predicted CVR with a confidence interval for the expected CVR.

        The interval is a delta-method (Wald) interval on the logit scale with the fit's
        covariance (cluster-robust by default), mapped through the inverse logit, so it
        stays inside (0, 1). It is the uncertainty of the *expected* conversion of such
        rows, not the spread of single videos.

        Returns
        -------
        pandas.DataFrame
            ``newdata``'s rows with ``cvr``, ``lower``, ``upper``, ``logit``,
            ``logit_se`` and ``df`` columns appended (``df``: degrees of freedom of the t
            critical value, per row with CR2 errors, see :meth:`contrast_df`; infinite
            for normal).
        """
        _check_alpha(alpha)
        X = self.design(newdata)
        eta = X @ self.params.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, self.cov.to_numpy(), X))
        df = self.contrast_df(X, alpha)
        z = self._crit(alpha, df)
        out = newdata.copy()
        out["cvr"] = expit(eta)
        out["lower"] = expit(eta - z * se)
        out["upper"] = expit(eta + z * se)
        out["logit"] = eta
        out["logit_se"] = se
        out["df"] = np.inf if df is None else df
        return out

    def reference_values(self, exclude: Iterable[str] = ()) -> dict[str, Any]:
        """Typical values of the covariates: the level with most trials (categorical)
        or the trials-weighted mean (numeric). Used to hold other covariates fixed."""
        excl = set(exclude)
        w = self.patterns["trials"].to_numpy(dtype=np.float64)
        cats = self._categorical_columns()
        out: dict[str, Any] = {}
        for col in self.columns():
            if col in excl:
                continue
            s = self.patterns[col]
            if _is_numeric(s) and col not in cats:
                out[col] = float(np.average(s.to_numpy(dtype=np.float64), weights=w))
            else:
                by_level = pd.Series(w, index=pd.Index(s)).groupby(level=0, observed=True).sum()
                out[col] = by_level.idxmax()
        return out

    def _categorical_columns(self) -> set[str]:
        return set(self.level_clicks["column"].unique()) if len(self.level_clicks) else set()

    def cvr_grid(
        self,
        commission_rates: Sequence[float] = (0.05, 0.10, 0.15, 0.20),
        *,
        by: Sequence[str] = ("tier", "category"),
        commission: str = "commission_rate",
        alpha: float = 0.05,
    ) -> pd.DataFrame:
        """Predicted CVR for every combination of levels of ``by`` at chosen commissions.

        Covariates of the formula that are neither in ``by`` nor ``commission`` are held
        at their typical value (:meth:`reference_values`; listed in ``.attrs["held"]``).
        Combinations never observed are still predicted (from the additive model) and
        marked with ``observed_trials == 0``.

        Parameters
        ----------
        commission_rates : sequence of float
            Commission fractions (0.10 for 10 %).
        by : sequence of str
            Categorical columns of the formula to cross.
        commission : str
            The commission column.
        alpha : float
            1 - confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``commission``, ``cvr``, ``lower``, ``upper``, ``logit``,
            ``logit_se``, ``df`` (of the t reference), ``observed_trials`` (trials in that level combination, any
            commission).
        """
        cols = self.columns()
        missing = [c for c in (*by, commission) if c not in cols]
        if missing:
            raise ModelError(
                f"cvr_grid: {missing} not in the formula's columns {cols}; choose by= from them"
            )
        rates = np.asarray(list(commission_rates), dtype=np.float64)
        if rates.size == 0 or not np.all(np.isfinite(rates)) or np.any((rates < 0) | (rates > 1)):
            raise ModelError(
                f"commission_rates must be fractions in [0, 1] (0.10 for 10 %); got {list(commission_rates)}"
            )
        level_lists = []
        for col in by:
            s = self.patterns[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                level_lists.append(list(s.cat.categories))
            else:
                level_lists.append(sorted(s.unique()))
        index = pd.MultiIndex.from_product([*level_lists, rates], names=[*by, commission])
        grid = index.to_frame(index=False)
        for col in by:
            s = self.patterns[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                grid[col] = pd.Categorical(grid[col], dtype=s.dtype)
        held = self.reference_values(exclude=(*by, commission))
        for col, value in held.items():
            grid[col] = value
            if isinstance(self.patterns[col].dtype, pd.CategoricalDtype):
                grid[col] = pd.Categorical(grid[col], dtype=self.patterns[col].dtype)
        out = self.predict_interval(grid, alpha=alpha)
        obs = (
            self.patterns.groupby(list(by), observed=True)["trials"].sum().rename("observed_trials")
        )
        out = out.merge(obs.reset_index(), on=list(by), how="left")
        out["observed_trials"] = out["observed_trials"].fillna(0).astype(np.int64)
        out = out[
            [*by, commission, "cvr", "lower", "upper", "logit", "logit_se", "df", "observed_trials"]
        ]
        out.attrs["held"] = held
        return out

    def marginal_effect(
        self, column: str = "commission_rate", delta: float = 0.01, alpha: float = 0.05
    ) -> dict[str, float]:
        """Average marginal effect of raising ``column`` by ``delta`` on CVR.

        The trials-weighted mean over the rows used of ``mu(x + delta) - mu(x)`` (each
        row weighted by its clicks, so it is the change in orders per click), with a
        delta-method interval from the fit's covariance. With ``delta=0.01`` and the
        commission as a fraction this is the effect of +1 percentage point.

        Returns
        -------
        dict
            ``ame`` (probability change), ``se``, ``lower``, ``upper``, ``baseline_cvr``
            (trials-weighted mean fitted CVR), ``delta``, ``column``, ``df`` (of the t
            critical value for the gradient contrast, see :meth:`contrast_df`).
        """
        _check_alpha(alpha)
        if column not in self.columns() or column in self._categorical_columns():
            raise ModelError(
                f"marginal_effect needs a numeric column of the formula; got {column!r}. "
                f"Numeric columns: {[c for c in self.columns() if c not in self._categorical_columns()]}"
            )
        base = self.patterns[self.columns()]
        shifted = base.copy()
        shifted[column] = shifted[column].astype(np.float64) + delta
        X0 = self.design(base)
        X1 = self.design(shifted)
        beta = self.params.to_numpy()
        w = self.patterns["trials"].to_numpy(dtype=np.float64)
        w = w / w.sum()
        mu0, mu1 = expit(X0 @ beta), expit(X1 @ beta)
        ame = float(w @ (mu1 - mu0))
        grad = (w * mu1 * (1 - mu1)) @ X1 - (w * mu0 * (1 - mu0)) @ X0
        se = float(np.sqrt(grad @ self.cov.to_numpy() @ grad))
        df = self.contrast_df(grad, alpha)
        z = float(self._crit(alpha, None if df is None else df[0]))
        return {
            "column": column,
            "delta": float(delta),
            "ame": ame,
            "se": se,
            "lower": ame - z * se,
            "upper": ame + z * se,
            "baseline_cvr": float(w @ mu0),
            "df": float("inf") if df is None else float(df[0]),
        }

    def commission_response(
        self,
        commission_rates: Sequence[float] | np.ndarray | None = None,
        *,
        commission: str = "commission_rate",
        alpha: float = 0.05,
    ) -> pd.DataFrame:
        """Average predicted CVR over the observed mix of other covariates, as the
        commission is set to each value of a grid (a partial-dependence curve).

        At each commission ``c`` every covariate pattern is set to ``c`` and the fitted
        CVRs are averaged with the patterns' trials as weights; the interval is the delta
        method on that average (probability scale, clipped to [0, 1]).

        Returns
        -------
        pandas.DataFrame
            ``commission``, ``cvr``, ``lower``, ``upper``, ``se``, ``df`` (of the t
            critical value per point, see :meth:`contrast_df`).
        """
        _check_alpha(alpha)
        if commission not in self.columns():
            raise ModelError(f"{commission!r} is not a column of the formula {self.columns()}")
        c_obs = self.patterns[commission].astype(np.float64)
        if commission_rates is None:
            commission_rates = np.linspace(c_obs.min(), c_obs.max(), 25)
        base = self.patterns[self.columns()].copy()
        w = self.patterns["trials"].to_numpy(dtype=np.float64)
        w = w / w.sum()
        beta, V = self.params.to_numpy(), self.cov.to_numpy()
        rates = np.asarray(commission_rates, dtype=np.float64)
        means, grads = np.empty(len(rates)), np.empty((len(rates), len(beta)))
        for i, c in enumerate(rates):
            base[commission] = c
            X = self.design(base)
            mu = expit(X @ beta)
            grads[i] = (w * mu * (1 - mu)) @ X
            means[i] = w @ mu
        se = np.sqrt(np.einsum("ij,jk,ik->i", grads, V, grads))
        df = self.contrast_df(grads, alpha)
        z = self._crit(alpha, df)
        return pd.DataFrame(
            {
                commission: rates,
                "cvr": means,
                "lower": np.maximum(means - z * se, 0.0),
                "upper": np.minimum(means + z * se, 1.0),
                "se": se,
                "df": np.inf if df is None else df,
            }
        )

    def observed_by(self, columns: str | Sequence[str]) -> pd.DataFrame:
        """Raw observed CVR (sum of successes / sum of trials) by one or more columns of
        the formula, unadjusted for the other covariates.

        Returns
        -------
        pandas.DataFrame
            ``columns``, ``successes``, ``trials``, ``cvr``.
        """
        cols = [columns] if isinstance(columns, str) else list(columns)
        bad = [c for c in cols if c not in self.columns()]
        if bad:
            raise ModelError(f"{bad} are not columns of the formula; choose from {self.columns()}")
        out = (
            self.patterns.groupby(cols, observed=True)[["successes", "trials"]].sum().reset_index()
        )
        out["cvr"] = out["successes"] / out["trials"]
        return out

    def calibration(
        self,
        n_bins: int = 10,
        alpha: float = 0.05,
        *,
        interval: Literal["cluster", "wilson"] | None = None,
    ) -> pd.DataFrame:
        """Predicted against observed CVR by bins of predicted CVR (deciles by default).

        Covariate patterns are sorted by fitted CVR and cut into ``n_bins`` groups of
        about equal clicks (a pattern is never split, so groups are approximately equal).

        This is a weak, **in-sample** check. The model was fitted on the same clicks,
        and the score equations of a logistic GLM with an intercept force the fitted
        orders to equal the observed orders in total and within every level of each
        categorical main effect (``C(tier)``, ``C(category)``): on those margins the
        match holds by construction and proves nothing. Bins of predicted CVR cut across
        levels, so they can reveal a missing interaction or a wrong commission shape,
        but a good-looking plot does not show that the model predicts new creators.

        Observed intervals:

        * ``"cluster"`` (default when the fit is clustered): a cluster-robust interval
          for the bin's ratio ``orders / clicks``: linearised per cluster,
          ``z_g = Y_gb - r_b N_gb`` (``Y``, ``N``: the cluster's orders and clicks in the
          bin). With CR1 errors: variance ``G/(G-1) * sum_g z_g^2 / N_b^2`` and the
          fit's critical value (normal, or t(G - 1) with few clusters). With CR2 errors:
          the CR2 variance of the ratio, ``sum_g z_g^2 / (1 - pi_g) / N_b^2`` with
          ``pi_g = N_gb / N_b`` (the cluster's leverage), and t with its Satterthwaite
          degrees of freedom ``1 / (sum a_g^2 - 2 sum a_g s_g + (sum s_g)^2)``,
          ``a_g = pi_g / (1 - pi_g)``, ``s_g = pi_g^2 / (1 - pi_g)`` (see
          :mod:`helpers.cr2`). Clipped to [0, 1]. It allows one creator's clicks to be
          correlated, as the coefficients' errors do.
        * ``"wilson"`` (default when model-based): Wilson intervals on the pooled clicks,
          which treat every click as independent and are too narrow when creators differ.

        Returns
        -------
        pandas.DataFrame
            ``bin``, ``predicted``, ``observed``, ``obs_lower``, ``obs_upper``,
            ``trials``, ``successes``, ``patterns``, and ``deff`` (variance of the
            observed ratio over its binomial variance; 1 for Wilson). ``.attrs``
            holds ``interval`` (the method) and ``note`` (the in-sample caveat).
        """
        _check_alpha(alpha)
        if not isinstance(n_bins, int | np.integer) or n_bins < 1:
            raise ModelError(f"n_bins must be a positive integer; got {n_bins!r}")
        if interval is None:
            interval = "cluster" if self._rows is not None else "wilson"
        if interval not in ("cluster", "wilson"):
            raise ModelError(f"interval must be 'cluster', 'wilson' or None; got {interval!r}")
        if interval == "cluster" and self._rows is None:
            raise ModelError(
                "interval='cluster' needs a clustered fit (cluster='creator_id'); this fit "
                "is model-based. Use interval='wilson' or refit with a cluster column."
            )
        p = self.patterns.sort_values("mu", kind="stable")
        n = p["trials"].to_numpy(dtype=np.float64)
        cum = (np.cumsum(n) - n / 2) / n.sum()
        bins = np.minimum((cum * n_bins).astype(np.int64), n_bins - 1)
        g = pd.DataFrame(
            {
                "bin": bins,
                "mu_n": p["mu"].to_numpy() * n,
                "trials": n,
                "successes": p["successes"].to_numpy(),
            }
        ).groupby("bin")
        out = g.agg(
            mu_n=("mu_n", "sum"),
            trials=("trials", "sum"),
            successes=("successes", "sum"),
            patterns=("trials", "size"),
        )
        out["predicted"] = out["mu_n"] / out["trials"]
        out["observed"] = out["successes"] / out["trials"]
        r = out["observed"].to_numpy()
        N_b = out["trials"].to_numpy(dtype=np.float64)
        if interval == "wilson":
            lo, hi = proportion_confint(
                out["successes"], out["trials"], alpha=alpha, method="wilson"
            )
            out["obs_lower"], out["obs_upper"] = np.asarray(lo), np.asarray(hi)
            out["deff"] = 1.0
            method, parts = "Wilson (clicks treated as independent)", {"kind": "wilson"}
        else:
            g_row, p_row, resid, n_row, k_g = self._rows  # type: ignore[misc]
            G = self.n_clusters
            bin_codes = pd.Index(out.index).get_indexer(bins)
            bin_of_pattern = np.empty(len(self.patterns), dtype=np.int64)
            bin_of_pattern[p.index.to_numpy()] = bin_codes
            B = len(out)
            key = g_row.astype(np.int64) * B + bin_of_pattern[p_row]
            mu = self.patterns["mu"].to_numpy(dtype=np.float64)
            y_row = resid + n_row * mu[p_row]  # the row's successes
            # k_g >= G cluster codes: codes of clusters without trials have zero rows
            Y_gb = np.bincount(key, weights=y_row, minlength=k_g * B).reshape(k_g, B)
            N_gb = np.bincount(key, weights=n_row, minlength=k_g * B).reshape(k_g, B)
            z_gb = Y_gb - r * N_gb
            if self._cr2 is not None:
                var, df = _ratio_cr2(z_gb, N_gb, N_b)
                crit = self._crit(alpha, df)
            else:
                var = G / (G - 1) * np.sum(z_gb**2, axis=0) / N_b**2
                crit = self._crit(alpha)
            half = crit * np.sqrt(var)
            out["obs_lower"] = np.clip(r - half, 0.0, 1.0)
            out["obs_upper"] = np.clip(r + half, 0.0, 1.0)
            binom = r * (1 - r) / N_b
            with np.errstate(divide="ignore", invalid="ignore"):
                out["deff"] = np.where(binom > 0, var / binom, np.nan)
            ref = "normal" if self.df_inference is None else f"t({self.df_inference:g})"
            ref = "CR2, t with Satterthwaite df" if self._cr2 is not None else ref
            method = f"cluster-robust ratio by {self.cluster} ({G} clusters, {ref})"
            parts = {"kind": "cluster", "cluster": self.cluster, "clusters": int(G)}
            parts["reference"] = "cr2" if self._cr2 is not None else ref
        out = out.reset_index()
        out["trials"] = out["trials"].astype(np.int64)
        out["successes"] = out["successes"].astype(np.int64)
        out = out[
            [
                "bin",
                "predicted",
                "observed",
                "obs_lower",
                "obs_upper",
                "trials",
                "successes",
                "patterns",
                "deff",
            ]
        ]
        out.attrs["interval"], out.attrs["interval_parts"] = method, parts
        out.attrs["note"] = (
            "in-sample check: the model was fitted on these clicks, and with an intercept "
            "and categorical main effects it matches observed orders on those margins by "
            "construction; agreement here does not show it predicts new creators"
        )
        return out

    def info(self) -> dict[str, Any]:
        """Row accounting and fit diagnostics as a JSON-friendly dict."""
        return {
            "site": self.site,
            "formula": self.formula,
            "cluster": self.cluster,
            "cov_type": self.cov_type,
            "n_rows": self.n_rows,
            "n_rows_missing": self.n_rows_missing,
            "missing_by_column": dict(self.missing_by_column),
            "n_rows_zero_trials": self.n_rows_zero_trials,
            "n_rows_used": self.n_rows_used,
            "n_patterns": self.n_patterns,
            "n_clusters": self.n_clusters,
            "successes": self.successes,
            "trials": self.trials,
            "pearson_chi2": self.pearson_chi2,
            "dispersion": self.dispersion,
            "dispersion_level": "row",
            "correction": self.correction,
            "df_inference": self.df_inference,
            "df_min": None if self.df_params is None else float(self.df_params.min()),
            "cluster_effect_var": None if self._cr2 is None else self._cr2.tau2,
            "reference": self.reference,
            "converged": self.converged,
            "merged_levels": {k: [str(v) for v in vs] for k, vs in self.merged_levels.items()},
            "warnings": list(self.warnings),
        }


class SiteFits(dict):
    """``{site: ConversionFit}`` from :func:`fit_conversion_by_site`; sites whose fit
    failed are in ``.errors`` (``{site: message}``), never silently missing. Rows with
    no site are counted once in ``.n_rows_missing_site`` (and reported in ``.errors``
    under ``"<missing site>"``), not in any site's fit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}
        self.n_rows_missing_site: int = 0


def _ratio_cr2(z_gb: np.ndarray, N_gb: np.ndarray, N_b: np.ndarray) -> tuple[Any, Any]:
    """CR2 variance and Satterthwaite df of ratios ``r_b = Y_b / N_b`` (columns b), from
    cluster residuals ``z_gb = Y_gb - r_b N_gb``: an intercept-only regression weighted
    by trials, whose cluster leverages are ``pi_g = N_gb / N_b`` (see :mod:`helpers.cr2`;
    leverage-1 clusters get weight 0, a pseudo-inverse)."""
    pi = N_gb / N_b
    gap = 1.0 - pi
    inv = np.zeros_like(pi)
    np.divide(1.0, gap, out=inv, where=gap > 1e-10)
    var = np.sum(z_gb**2 * inv, axis=0) / N_b**2
    a, s = pi * inv, pi * pi * inv
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 1.0 / (np.sum(a * a, axis=0) - 2 * np.sum(a * s, axis=0) + np.sum(s, axis=0) ** 2)
    return var, df


def _cr2_reference(cr2: CR2) -> str:
    """How CR2 critical values are computed, in words."""
    if cr2.mc_draws():
        return (
            f"CR2 t statistic under the working model (creator effect variance "
            f"{cr2.tau2:.3g}, refitted per draw), Monte Carlo with {cr2.mc_draws()} draws"
        )
    return "t with Satterthwaite degrees of freedom (conservative)"


def _cr2_df(cr2: CR2, contrasts: np.ndarray, alpha: float) -> np.ndarray:
    """Degrees of freedom of the t reference of CR2 contrasts at level ``1 - alpha``:
    those whose critical value is the working-model quantile (:meth:`CR2.critical`),
    or Satterthwaite's when the Monte Carlo is not affordable."""
    crit = cr2.critical(contrasts, alpha)
    if crit is None:
        return cr2.df(contrasts)
    return _equivalent_df(crit, alpha)


def _equivalent_df(crit: np.ndarray, alpha: float) -> np.ndarray:
    """``df`` with ``t.ppf(1 - alpha / 2, df) = crit`` (infinite at or below the normal
    quantile; NaN stays NaN): scipy's inverse of the t distribution function in ``df``."""
    crit = np.asarray(crit, dtype=np.float64)
    p = 1 - alpha / 2
    out = np.full(crit.shape, np.inf)
    out[np.isnan(crit)] = np.nan
    todo = np.flatnonzero(crit > stats.norm.ppf(p))
    out[todo] = stdtridf(p, crit[todo])
    return out


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ModelError(f"alpha must be in (0, 1), e.g. 0.05 for 95 % intervals; got {alpha!r}")


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _merge_values(s: pd.Series, levels: Sequence[Any], other: str) -> pd.Series:
    """Replace ``levels`` of ``s`` by ``other`` (categorical dtypes keep their order,
    with ``other`` appended)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [c for c in s.cat.categories if c not in set(levels)]
        if other not in cats:
            cats.append(other)
        s2 = s.astype("object").where(~s.isin(levels), other)
        return pd.Series(
            pd.Categorical(s2, categories=cats, ordered=s.cat.ordered), index=s.index, name=s.name
        )
    return s.where(~s.isin(levels), other)


# ----------------------------------------------------------------------------- data steps
_COUNT_KINDS = ("float", "decimal", "int", "bool")


@dataclass
class _Rows:
    """The rows a fit reads, on their engine, and what the formula needs of them."""

    src: Source
    rhs: str
    used: list[str]
    in_c: set[str]
    check: list[str]  # columns whose missing value excludes a row
    where: str | None  # the chosen site's rows (and rows without a site)
    site: str | None  # the site chosen (None: all rows)
    site_label: str | None


@dataclass
class _Sums:
    """Pattern totals (``pat`` holds the covariate values) and, with a cluster, the
    (cluster x pattern) cells: cluster code ``g``, pattern code ``p``, successes ``y``
    and trials ``n`` of each cell, ``G`` clusters."""

    pat: pd.DataFrame
    Yp: np.ndarray
    Np: np.ndarray
    Qp: np.ndarray  # sum over the pattern's rows of successes^2 / trials (Pearson)
    g: np.ndarray | None = None
    p: np.ndarray | None = None
    y: np.ndarray | None = None
    n: np.ndarray | None = None
    G: int = 0

    def recollapse(self, used: Sequence[str]) -> None:
        """Sum patterns (and cells) that coincide after levels were merged."""
        codes = self.pat.groupby(list(used), sort=False, observed=True, dropna=False).ngroup()
        codes = codes.to_numpy(dtype=np.int64)
        _, first = np.unique(codes, return_index=True)
        P = len(first)
        self.pat = self.pat.iloc[first].reset_index(drop=True)
        self.Yp, self.Np, self.Qp = (
            np.bincount(codes, weights=v, minlength=P) for v in (self.Yp, self.Np, self.Qp)
        )
        if self.p is not None:
            self.p = codes[self.p]
        self.canonical()

    def canonical(self) -> None:
        """Patterns in the order of their values (categories in category order) and
        cells by (cluster, pattern), whatever order the engine returned them in: the
        fit's arithmetic, and so its Monte Carlo intervals, are then the same on every
        engine and run."""
        try:
            order = self.pat.sort_values(list(self.pat.columns), kind="stable").index
        except TypeError:  # values that do not sort (mixed types): keep the engine's
            order = self.pat.index
        order = np.asarray(order, dtype=np.int64)
        if not np.array_equal(order, np.arange(len(order))):
            self.pat = self.pat.iloc[order].reset_index(drop=True)
            self.Yp, self.Np, self.Qp = self.Yp[order], self.Np[order], self.Qp[order]
            if self.p is not None:
                rank = np.empty_like(order)
                rank[order] = np.arange(len(order))
                self.p = rank[self.p]
        if self.p is not None:
            by_cell = np.argsort(self.g * len(self.pat) + self.p, kind="stable")
            self.g, self.p, self.y, self.n = (a[by_cell] for a in (self.g, self.p, self.y, self.n))


def _check_counts_and_cluster(
    columns: Sequence[str], successes: str, trials: str, cluster: str | None
) -> None:
    for col, role in ((successes, "successes"), (trials, "trials")):
        if col not in columns:
            raise ModelError(
                f"{role} column {col!r} is not in the data; available columns: {list(columns)}. "
                f"Pass {role}='<column>'."
            )
    if cluster is not None and cluster not in columns:
        raise ModelError(
            f"cluster column {cluster!r} is not in the data; available columns: {list(columns)}. "
            "Pass cluster='<column>' or cluster=None for model-based errors."
        )


def _check_options(cov_type: str, use_t: bool | None, min_trials_per_level: int) -> None:
    if cov_type not in ("auto", "CR2", "CR1"):
        raise ModelError(
            f"cov_type must be 'auto', 'CR2' or 'CR1'; got {cov_type!r} (cluster=None gives "
            "model-based errors)"
        )
    if use_t not in (None, True, False):
        raise ModelError(f"use_t must be True, False or None (automatic); got {use_t!r}")
    if not isinstance(min_trials_per_level, int | np.integer) or min_trials_per_level < 0:
        raise ModelError(
            f"min_trials_per_level must be a non-negative integer; got {min_trials_per_level!r}"
        )


@contextmanager
def _open_rows(
    source: Any,
    rhs: str,
    env: patsy.EvalEnvironment,
    successes: str,
    trials: str,
    cluster: str | None,
) -> Iterator[tuple[Source, list[str], set[str]]]:
    """The source on its engine (a pandas frame: only the columns the fit reads), with
    the formula's columns (checked against the data's) and those wrapped in ``C()``."""
    if isinstance(source, pd.DataFrame):
        columns: list[str] = list(source.columns)
        src = None
    else:
        src = as_source(source)  # KitError for other types, ExportError for bad paths
        columns = src.columns
    try:
        _check_counts_and_cluster(columns, successes, trials, cluster)
        used, in_c = _formula_columns(rhs, columns, env)
        if src is None:
            needed = [*used, successes, trials, *([cluster] if cluster else [])]
            if "site" in columns:
                needed.append("site")
            src = as_source(source, columns=list(dict.fromkeys(needed)))
        elif _is_stateful(rhs, env):
            raise ModelError(
                f"formula {rhs!r} has a term that learns from the rows (a spline's knots, "
                f"centring's mean: bs, cr, cc, te, center, standardize), which a fit on a "
                f"{src.kind} source cannot learn from pattern sums. Fix: use fixed "
                "transforms (I(commission_rate - 0.15), C(...), interactions), or fit a "
                "pandas frame (read the columns the formula uses into pandas)."
            )
        yield src, used, in_c
    finally:
        if src is not None:
            src.close()


def _choose_site(src: Source, site: str | None, pool_sites: bool) -> tuple[str | None, str | None]:
    """The SQL filter of one site's rows (rows without a site stay in, so that the fit
    counts them as missing) and the site label; never pools sites silently."""
    if "site" not in src.columns:
        if site is not None:
            raise ModelError(
                f"site={site!r} was given but the data has no 'site' column; "
                "pass site=None or add the column"
            )
        return None, None
    sites = sorted({str(v) for v in distinct_values(src, "site")})
    if site is not None:
        if pool_sites:
            raise ModelError("give either site= (one site) or pool_sites=True, not both")
        if str(site) not in sites:
            raise ModelError(f"site={site!r} is not in the data; sites present: {sites}")
        return (site_filter(src, "site", str(site)) if len(sites) > 1 else None), str(site)
    if len(sites) > 1 and not pool_sites:
        raise ModelError(
            f"the data holds {len(sites)} sites {sites}; sites are never pooled silently. "
            "Choose one with site='US', fit each with fit_conversion_by_site(df, ...), "
            "or pool explicitly with pool_sites=True (adds C(site) to the formula)."
        )
    return None, ("pooled" if len(sites) > 1 else (sites[0] if sites else None))


def _prepare(
    src: Source,
    rhs: str,
    used: list[str],
    in_c: set[str],
    cluster: str | None,
    site: str | None,
    pool_sites: bool,
) -> _Rows:
    """Choose the site's rows and list the columns a complete row needs."""
    where, site_label = _choose_site(src, site, pool_sites)
    if site_label == "pooled" and "site" not in used:
        rhs = f"{rhs} + C(site)"
        used = [*used, "site"]
        in_c = {*in_c, "site"}
    check = [*used] + ([cluster] if cluster is not None and cluster not in used else [])
    if "site" in src.columns and "site" not in check:
        # a row without a site belongs to no site's fit: counted as missing, never
        # assigned to the (only or chosen) site
        check.append("site")
    return _Rows(src, rhs, used, in_c, check, where, site, site_label)


def _pandas_usable(frame: pd.DataFrame, rows: _Rows, successes: str, trials: str) -> np.ndarray:
    """Complete rows of the chosen site in a pandas frame (for labels and row-level
    state only; the sums run on the engine)."""
    ok = np.ones(len(frame), dtype=bool)
    for col in [*rows.check, successes, trials]:
        s = frame[col]
        if _is_numeric(s):
            ok &= np.isfinite(s.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            ok &= s.notna().to_numpy(dtype=bool)
    if rows.where is not None:
        ok &= (frame["site"].astype("str") == rows.site).to_numpy(dtype=bool, na_value=False)
    return ok


def _account(rows: _Rows, successes: str, trials: str, warn_msgs: list[str]) -> Accounting:
    """Count rows (missing values per column, zero trials); refuse invalid counts."""
    src = rows.src
    kinds = src.kinds()
    for name in (successes, trials):
        if kinds[name] not in _COUNT_KINDS:
            dtype = src.frame[name].dtype if src.frame is not None else kinds[name]
            raise ModelError(f"column {name!r} must be numeric counts; it has dtype {dtype}")
    acct = row_accounting(src, rows.check, successes, trials, where=rows.where)
    if acct.invalid:
        where = ""
        if src.frame is not None:
            f = src.frame
            y, n = (f[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in (successes, trials))
            with np.errstate(invalid="ignore"):
                bad = _pandas_usable(f, rows, successes, trials) & ((y < 0) | (n < 0) | (y > n))
            where = f" (first row labels: {f.index[bad][:5].tolist()})"
        raise ModelError(
            f"{acct.invalid} rows have negative counts or {successes} > {trials}{where}. Fix "
            "the export (orders cannot exceed clicks on the same row) or drop those rows "
            "before fitting."
        )
    if acct.missing:
        msg = (
            f"{acct.missing} of {acct.rows} rows excluded for missing values in used columns "
            f"{acct.missing_by}"
        )
        warn_msgs.append(msg)
        warnings.warn(msg, ConversionWarning, stacklevel=3)
    if acct.used == 0:
        raise ModelError(
            f"no usable rows: {acct.rows} rows, {acct.missing} with missing values (by column: "
            f"{acct.missing_by}), {acct.zero_trials} with zero {trials}. Check the {trials!r} "
            "column and the columns with missing values."
        )
    return acct


def _pattern_columns(
    keys: pd.DataFrame, frame: pd.DataFrame | None, warn_msgs: list[str]
) -> pd.DataFrame:
    """Covariate values of the patterns with the data's dtypes: a pandas source's own
    dtypes, the kit's tier order for tiers read as text, no unused categories."""
    pat = keys.copy()
    for col in pat.columns:
        if frame is not None and pat[col].dtype != frame[col].dtype:
            try:
                pat[col] = pat[col].astype(frame[col].dtype)
            except (TypeError, ValueError):  # keep the engine's type
                pass
    if "tier" in pat.columns and not isinstance(pat["tier"].dtype, pd.CategoricalDtype):
        # tiers read as text would sort alphabetically (reference "macro"); use the
        # kit's order so that nano stays the reference
        if set(pat["tier"].astype(str)) <= set(TIERS):
            pat["tier"] = pat["tier"].astype(str).astype(TIER_DTYPE)
    for col in pat.columns:
        if isinstance(pat[col].dtype, pd.CategoricalDtype):
            # a level without usable rows would be an all-zero design column
            before = list(pat[col].cat.categories)
            pat[col] = pat[col].cat.remove_unused_categories()
            after = list(pat[col].cat.categories)
            if before and after and before[0] != after[0]:
                msg = (
                    f"{col}: the reference level {before[0]!r} has no usable rows, so "
                    f"{after[0]!r} is the reference of the {col} coefficients"
                )
                warn_msgs.append(msg)
                warnings.warn(msg, ConversionWarning, stacklevel=4)
    return pat


def _reduce(
    rows: _Rows, successes: str, trials: str, cluster: str | None, warn_msgs: list[str]
) -> _Sums:
    """Pattern totals, and (cluster x pattern) cells with a cluster, on the engine."""
    args = (rows.used, successes, trials)
    kw = {"complete": rows.check, "where": rows.where}
    if cluster is None:
        pt, cells = pattern_totals(rows.src, *args, **kw), None
    else:
        cells = cluster_pattern_totals(rows.src, cluster, *args, **kw)
        pt = cells.patterns
    sums = _Sums(
        _pattern_columns(pt.keys, rows.src.frame, warn_msgs), pt.successes, pt.trials, pt.sum_sq
    )
    if cells is not None:
        sums.g, sums.p, sums.y, sums.n = cells.cluster, cells.pattern, cells.successes, cells.trials
        sums.G = cells.n_clusters
    sums.canonical()
    if cells is not None:
        if sums.G < 2:
            raise ModelError(
                f"cluster-robust errors need at least 2 clusters of {cluster!r}; the data has "
                f"{sums.G}. Pass cluster=None for model-based errors."
            )
    return sums


def _levels(
    sums: _Sums,
    cat_cols: Sequence[str],
    used: Sequence[str],
    trials: str,
    successes: str,
    min_trials_per_level: int,
    merge_rare_levels: bool,
    other_label: str,
    warn_msgs: list[str],
) -> tuple[dict[str, list[Any]], pd.DataFrame, list[str]]:
    """Warn about (or merge) thin levels; name the levels that convert always or never.

    Returns the merged levels, trials and successes per level, and the descriptions of
    separated levels (for the separation error)."""
    merged: dict[str, list[Any]] = {}
    for col in cat_cols:
        levels, lv_n, lv_y = _level_sums(sums.pat[col], sums.Np, sums.Yp)
        rare = [v for v, t in zip(levels, lv_n, strict=True) if t < min_trials_per_level]
        no_succ = [v for v, t, k in zip(levels, lv_n, lv_y, strict=True) if k == 0 or k == t]
        if merge_rare_levels:
            to_merge = list(dict.fromkeys([*rare, *no_succ]))
            if to_merge and len(to_merge) < len(levels):
                merged[col] = to_merge
                sums.pat[col] = _merge_values(sums.pat[col], to_merge, other_label)
        elif rare:
            trials_of = dict(zip(levels, lv_n, strict=True))
            desc = ", ".join(f"{v!r} ({int(trials_of[v])} {trials})" for v in rare)
            msg = (
                f"{col}: level(s) {desc} have fewer than {min_trials_per_level} {trials}; "
                "their coefficients are imprecise. Pass merge_rare_levels=True to merge "
                f"them into {other_label!r}, or lower min_trials_per_level."
            )
            warn_msgs.append(msg)
            warnings.warn(msg, ConversionWarning, stacklevel=3)
    if merged:  # merging can make patterns (and cells) coincide
        sums.recollapse(used)
    level_rows, sep_desc = [], []
    for col in cat_cols:
        levels, lv_n, lv_y = _level_sums(sums.pat[col], sums.Np, sums.Yp)
        for v, t, k in zip(levels, lv_n, lv_y, strict=True):
            level_rows.append((col, v, int(t), int(k)))
            if k == 0 or k == t:
                # a level that converts always or never separates when its indicator is
                # in the design's span (the usual case); the linear program decides
                tail = f" [merged from {merged[col]}]" if col in merged and v == other_label else ""
                sep_desc.append(f"{col}={v!r} ({int(k)} {successes} of {int(t)} {trials}){tail}")
    level_clicks = pd.DataFrame(level_rows, columns=["column", "level", "trials", "successes"])
    if len(level_clicks):
        level_clicks["cvr"] = level_clicks["successes"] / level_clicks["trials"]
    return merged, level_clicks, sep_desc


def _learning_rows(
    rows: _Rows,
    pat: pd.DataFrame,
    merged: dict[str, list[Any]],
    successes: str,
    trials: str,
    other_label: str,
) -> pd.DataFrame:
    """The usable rows of a pandas source in data order, with the patterns' dtypes and
    merged levels: what a row-level fit learns a stateful transform's state from."""
    frame = rows.src.frame
    assert frame is not None  # engine sources refuse stateful formulas (_open_rows)
    ok = _pandas_usable(frame, rows, successes, trials)
    ok &= frame[trials].to_numpy(dtype=np.float64, na_value=np.nan) > 0
    out = frame.loc[ok, rows.used].reset_index(drop=True)
    for col in rows.used:
        if col in merged:
            out[col] = _merge_values(out[col], merged[col], other_label)
        if isinstance(pat[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(pat[col].dtype)
    return out


def _design(
    rows: _Rows, env: patsy.EvalEnvironment, pat: pd.DataFrame, learn: Callable[[], pd.DataFrame]
) -> tuple[Any, np.ndarray, list[str]]:
    """The pattern design; stateful transforms learn their state from ``learn()`` (the
    rows), as the row-level fit does. Refuses non-finite, empty or collinear designs."""
    rhs = rows.rhs
    try:
        data = learn() if _is_stateful(rhs, env) else pat
        design_info = patsy.incr_dbuilder(rhs, lambda: iter([data]), env)
        (Xd,) = patsy.build_design_matrices([design_info], pat, NA_action="raise")
    except (patsy.PatsyError, NameError, TypeError, ValueError) as exc:
        raise ModelError(f"cannot build the design of formula {rhs!r}: {exc}") from exc
    X = np.asarray(Xd, dtype=np.float64)
    names = list(design_info.column_names)
    K = X.shape[1]
    if not np.all(np.isfinite(X)):
        bad = [names[j] for j in np.flatnonzero(~np.all(np.isfinite(X), axis=0))]
        raise ModelError(
            f"the formula gives non-finite values in {bad} (e.g. log(0)); fix the transform"
        )
    empty = [names[j] for j in range(K) if not np.any(X[:, j] != 0)]
    if empty:
        raise ModelError(
            f"design columns {empty} are zero for every row: that level (or level "
            "combination of an interaction) has no clicks. Simplify the formula, merge "
            "levels (merge_rare_levels=True) or drop the empty level."
        )
    rank = np.linalg.matrix_rank(X)
    if rank < K:
        raise ModelError(
            f"the design of {rhs!r} is collinear (rank {rank} < {K} columns: {names}); a "
            "covariate is a combination of others (e.g. a category sold at one commission "
            "only). Remove a redundant term."
        )
    return design_info, X, names


def _pearson(sums: _Sums, mu: np.ndarray) -> float:
    """Row-level Pearson chi-square from pattern sums: per pattern,
    ``sum_i (y_i - n_i mu)^2 / n_i = sum_i y_i^2 / n_i - 2 mu Y + mu^2 N``."""
    num = sums.Qp - 2 * mu * sums.Yp + mu * mu * sums.Np
    return float(np.sum(num / (mu * (1 - mu))))


def _level_creators(
    pat: pd.DataFrame, cat_cols: Sequence[str], cells: sp.csr_array
) -> pd.DataFrame:
    """Clusters with trials per level of each categorical column, and their effective
    number ``(sum_g N_g)^2 / sum_g N_g^2`` (N_g: the cluster's trials in the level; equal
    to the count when clusters carry equal trials, near 1 when one carries most).

    The last row (column ``"(all)"``) is the whole fit."""
    P = len(pat)
    rows = []
    specs: list[tuple[str, list[Any], np.ndarray]] = [
        (col, *_factorize_sorted(pat[col])) for col in cat_cols
    ]
    specs.append(("(all)", ["(all)"], np.zeros(P, dtype=np.int64)))
    for col, levels, codes in specs:
        onehot = sp.csr_array((np.ones(P), (np.arange(P), codes)), shape=(P, max(len(levels), 1)))
        by_level = sp.csc_array(cells @ onehot)
        for j, level in enumerate(levels):
            t = by_level.data[by_level.indptr[j] : by_level.indptr[j + 1]]
            t = t[t > 0]
            eff = float(t.sum() ** 2 / np.sum(t * t)) if t.size else 0.0
            rows.append((col, level, int(t.size), eff, float(t.sum())))
    return pd.DataFrame(
        rows, columns=["column", "level", "clusters", "effective_clusters", "trials"]
    )


def _factorize_sorted(values: pd.Series) -> tuple[list[Any], np.ndarray]:
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Index(uniques).tolist(), codes


def _choose_cov_type(requested: str, G: int, level_creators: pd.DataFrame) -> str:
    """``"CR2"`` or ``"CR1"`` for ``cov_type`` (``"auto"``: see _CR2_MAX_CLUSTERS)."""
    if requested != "auto":
        return requested
    thin = level_creators["effective_clusters"].min() < _CR2_MIN_EFFECTIVE
    return "CR2" if G <= _CR2_MAX_CLUSTERS or thin else "CR1"


def _thin_cluster_messages(
    level_creators: pd.DataFrame,
    cluster: str,
    cov_type: str,
    G: int,
    df_inference: float | None,
) -> list[str]:
    """Warnings for levels (and a whole fit) that rest on few clusters."""
    msgs = []
    few = level_creators[
        (level_creators["clusters"] < _FEW_PER_LEVEL)
        | (level_creators["effective_clusters"] < _FEW_EFFECTIVE)
    ]
    if len(few):
        desc = ", ".join(
            ("all data" if r.column == "(all)" else f"{r.column}={r.level!r}")
            + f" ({r.clusters} {cluster}, effective {r.effective_clusters:.1f})"
            for r in few.itertuples()
        )
        if cov_type == "CR2":
            tail = (
                "their intervals use CR2 errors with a t reference for few creators "
                "(column df of summary_frame) and are wide; they rest on a handful of "
                "creators, so read them as rough"
            )
        else:
            tail = (
                "CR1 errors are too small for such levels; use cov_type='CR2' (or 'auto') "
                "for bias-reduced errors with a t reference for few creators"
            )
        msgs.append(
            f"level(s) resting on few creators: {desc} (effective: the number of equally "
            f"sized {cluster} groups that would carry as much information; a few carry most "
            f"of the clicks when it is much smaller than the count); {tail}."
        )
    if cov_type == "CR1" and G < _FEW_CLUSTERS:
        msgs.append(
            f"only {G} clusters ({cluster}): cluster-robust standard errors rest on few "
            "creators and tend to be too small; intervals and p-values use t with "
            f"{G - 1} degrees of freedom"
            + ("" if df_inference is not None else " only with use_t=True (now normal)")
            + ", and are still best read as optimistic (cov_type='CR2' corrects them)"
        )
    return msgs


def _cluster_setup(
    sums: _Sums,
    X: np.ndarray,
    cat_cols: Sequence[str],
    cluster: str,
    rhs: str,
    cov_type: str,
    use_t: bool | None,
    warn_msgs: list[str],
) -> tuple[sp.csr_array, pd.DataFrame, str, float | None]:
    """Trials per (cluster x pattern) cell, clusters per level, the covariance type and
    the CR1 t degrees of freedom; refuses fits with no more clusters than coefficients."""
    G, K = sums.G, X.shape[1]
    if G <= K:
        # the meat is a sum of G score outer products that sum to zero: rank <= G - 1,
        # so with G <= K the sandwich is singular and some standard errors are
        # meaningless (zero or from rounding noise)
        raise ModelError(
            f"cluster-robust errors need more clusters of {cluster!r} than coefficients: "
            f"the data has {G} clusters and the formula {rhs!r} has {K} coefficients, so "
            "the robust covariance is singular. Use a simpler formula (fewer levels or "
            "terms), more data (more creators), or cluster=None for model-based errors "
            "(which ignore that one creator's videos are correlated)."
        )
    cells = sp.csr_array((sums.n, (sums.g, sums.p)), shape=(G, len(sums.pat)))
    level_creators = _level_creators(sums.pat, cat_cols, cells)
    cov_type = _choose_cov_type(cov_type, G, level_creators)
    df_inference = None
    if cov_type == "CR1" and (use_t or (use_t is None and G < _FEW_CLUSTERS)):
        df_inference = float(G - 1)
    for msg in _thin_cluster_messages(level_creators, cluster, cov_type, G, df_inference):
        warn_msgs.append(msg)
        warnings.warn(msg, ConversionWarning, stacklevel=4)
    return cells, level_creators, cov_type, df_inference


def _fit_glm(
    X: np.ndarray, Yp: np.ndarray, Np: np.ndarray, names: list[str], maxiter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """The binomial GLM on pattern sums: coefficients, fitted CVRs, the bread (inverse
    Fisher information at the estimate, as statsmodels' cluster covariance uses) and
    the statsmodels result. Refuses a fit that did not converge."""
    model = sm.GLM(np.column_stack([Yp, Np - Yp]), X, family=sm.families.Binomial())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(maxiter=maxiter, tol=tol, tol_criterion="params")
    beta = np.asarray(res.params, dtype=np.float64)
    # statsmodels' PerfectSeparationWarning fires whenever fitted proportions equal the
    # observed ones, as they do for any model that fits each pattern (C(tier)); the
    # linear program has shown that the MLE is finite, so it is not separation
    conv = bool(res.converged) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    if not conv:
        j = int(np.argmax(np.abs(beta)))
        raise ModelError(
            f"the fit did not converge in {maxiter} iterations; the largest coefficient is "
            f"{names[j]} = {beta[j]:.3g} (a level or combination close to separation?). Merge "
            "rare levels (merge_rare_levels=True), simplify the formula or raise maxiter."
        )
    # observed = expected information under the canonical logit link
    bread = np.linalg.inv(-model.hessian(beta))
    return beta, expit(X @ beta), bread, res


def _robust_cov(
    sums: _Sums,
    X: np.ndarray,
    mu: np.ndarray,
    bread: np.ndarray,
    cells: sp.csr_array,
    cov_type: str,
    use_t: bool | None,
    df_inference: float | None,
    n_used: int,
) -> tuple[np.ndarray, float, CR2 | None, np.ndarray | None, np.ndarray]:
    """Cluster-robust covariance from the cells: CR2 (helpers.cr2) or CR1 with the
    small-sample factor. Returns it with the factor, the CR2 object, the coefficients'
    t degrees of freedom and the cells' residuals ``Y_gp - N_gp mu_p``."""
    K = X.shape[1]
    resid = sums.y - sums.n * mu[sums.p]
    # cluster scores S_g = sum_p x_p (Y_gp - N_gp mu_p)
    R = sp.coo_array((resid, (sums.g, sums.p)), shape=cells.shape)
    S = np.asarray(R @ X)
    df_params = None
    if cov_type == "CR2":
        # residual totals per cluster: the working model has a creator effect whose
        # variance they estimate (helpers.cr2)
        totals = np.bincount(sums.g, weights=resid, minlength=sums.G)
        cr2 = CR2(X, mu, bread, cells, S, totals)
        if use_t is not False:
            df_params = _cr2_df(cr2, np.eye(K), 0.05)
        return cr2.cov, 1.0, cr2, df_params, resid
    correction = sums.G / (sums.G - 1) * (n_used - 1) / (n_used - K)
    if df_inference is not None:
        df_params = np.full(K, df_inference)
    return correction * bread @ (S.T @ S) @ bread, correction, None, df_params, resid


def fit_conversion(
    source: Any,
    formula: str = DEFAULT_FORMULA,
    *,
    successes: str = "orders",
    trials: str = "clicks",
    cluster: str | None = "creator_id",
    site: str | None = None,
    pool_sites: bool = False,
    min_trials_per_level: int = 100,
    merge_rare_levels: bool = False,
    other_label: str = "other",
    maxiter: int = 100,
    tol: float = 1e-11,
    use_t: bool | None = None,
    eval_env: patsy.EvalEnvironment | int = 0,
    cov_type: Literal["auto", "CR2", "CR1"] = "auto",
) -> ConversionFit:
    """Fit a binomial GLM (logit link) of ``successes`` out of ``trials`` on a formula.

    Rows are collapsed to sufficient statistics (successes and trials summed per
    distinct covariate pattern, and per cluster x pattern for the robust covariance)
    before fitting; estimates and standard errors equal the row-level statsmodels fit.

    Parameters
    ----------
    source : pandas.DataFrame, str, pathlib.Path, DuckDB relation or Spark DataFrame
        The rows: a canonical frame (or any frame with the formula's columns and the
        counts), a Parquet file or folder (the run's dataset), a DuckDB relation or a
        Spark DataFrame. The rows are reduced to pattern and (creator x pattern) sums
        where they are (:mod:`helpers.reduce`: DuckDB, or Spark); only those sums reach
        Python. Formulas with terms that learn from rows (``bs()``, ``center()`` ...)
        need a pandas frame.
    formula : str
        Right-hand side of a patsy formula (``"~ ..."`` is accepted too). Default
        ``C(tier) + C(category) + commission_rate``: treatment contrasts with the first
        level as reference (tier: nano; category: the first category, alphabetical for
        text). Categorical levels with no usable rows are dropped (a warning says so
        when that changes the reference level). Interactions (``C(tier):commission_rate``), splines
        (``bs(commission_rate, df=4)``) and any other column work.
    successes, trials : str
        Count columns (orders out of clicks by default).
    cluster : str or None
        Column to cluster the robust covariance on (default ``creator_id``: one
        creator's videos are not independent trials). None gives model-based errors
        (scale fixed at 1, as R's ``glm(family=binomial)``).
    site : str, optional
        Fit this site only. Required when the data holds several sites, unless
        ``pool_sites=True``. Rows whose site is missing are never assigned to a site:
        they are counted in ``n_rows`` and ``n_rows_missing`` (``missing_by_column
        ["site"]``) and left out, with a warning.
    pool_sites : bool
        Pool several sites in one fit, adding ``C(site)`` to the formula.
    min_trials_per_level : int
        A level of a categorical covariate with fewer trials gets a
        :class:`ConversionWarning` naming it (or is merged, see below).
    merge_rare_levels : bool
        Merge levels with fewer than ``min_trials_per_level`` trials, or with no
        successes at all, into ``other_label`` instead of warning / failing.
    other_label : str
        Name of the merged level.
    maxiter, tol : int, float
        IRLS limits (convergence on the change in coefficients).
    use_t : bool or None
        Reference distribution of intervals and p-values with clustered errors. CR2:
        the working-model reference (see the module docstring) unless False (normal,
        for every interval). CR1: True uses t
        with ``G - 1`` degrees of freedom (``G`` clusters; statsmodels' ``use_t=True``
        for ``cov_type="cluster"``), False the normal, None (default) t(G - 1) below 50
        clusters and the normal otherwise. Ignored (normal) for model-based errors.
    eval_env : patsy.EvalEnvironment or int
        Where the formula looks up names that are not columns (an int is a depth
        relative to the caller, as in patsy).
    cov_type : {"auto", "CR2", "CR1"}
        Cluster-robust covariance (see the module docstring): ``"auto"`` is CR2 unless
        the export has more than 20,000 creators and at least 50 effective creators on
        every level.

    Returns
    -------
    ConversionFit

    Raises
    ------
    ModelError
        Missing column (lists the available ones), several sites without a choice,
        a stateful term on an engine source, an unsupported source type,
        invalid counts, separation (a level with no orders, or perfect prediction),
        collinear design, no convergence, or no more clusters than coefficients
        (the cluster-robust covariance would be singular).
    """
    env = patsy.EvalEnvironment.capture(eval_env + 1) if isinstance(eval_env, int) else eval_env
    rhs = _split_formula(formula)
    _check_options(cov_type, use_t, min_trials_per_level)
    warn_msgs: list[str] = []
    with _open_rows(source, rhs, env, successes, trials, cluster) as (src, used, in_c):
        rows = _prepare(src, rhs, used, in_c, cluster, site, pool_sites)
        acct = _account(rows, successes, trials, warn_msgs)
        sums = _reduce(rows, successes, trials, cluster, warn_msgs)
        cat_cols = [c for c in rows.used if c in rows.in_c or not _is_numeric(sums.pat[c])]
        merged, level_clicks, sep_desc = _levels(
            sums,
            cat_cols,
            rows.used,
            trials,
            successes,
            min_trials_per_level,
            merge_rare_levels,
            other_label,
            warn_msgs,
        )
        design_info, X, names = _design(
            rows,
            env,
            sums.pat,
            lambda: _learning_rows(rows, sums.pat, merged, successes, trials, other_label),
        )
    return _fit_patterns(
        rows,
        acct,
        sums,
        X,
        names,
        design_info,
        cat_cols,
        sep_desc,
        merged,
        level_clicks,
        cluster=cluster,
        cov_type=cov_type,
        use_t=use_t,
        maxiter=maxiter,
        tol=tol,
        successes=successes,
        trials=trials,
        merge_rare_levels=merge_rare_levels,
        other_label=other_label,
        warn_msgs=warn_msgs,
    )


def _fit_patterns(
    rows: _Rows,
    acct: Accounting,
    sums: _Sums,
    X: np.ndarray,
    names: list[str],
    design_info: Any,
    cat_cols: list[str],
    sep_desc: list[str],
    merged: dict[str, list[Any]],
    level_clicks: pd.DataFrame,
    *,
    cluster: str | None,
    cov_type: str,
    use_t: bool | None,
    maxiter: int,
    tol: float,
    successes: str,
    trials: str,
    merge_rare_levels: bool,
    other_label: str,
    warn_msgs: list[str],
) -> ConversionFit:
    """Separation check, the GLM on pattern sums, its covariance and the result."""
    K = X.shape[1]
    _raise_if_separated(
        X,
        sums.Yp,
        sums.Np,
        sums.pat,
        rows.used,
        sep_desc,
        successes,
        trials,
        merge_rare_levels,
        other_label,
    )
    if acct.used <= K:
        raise ModelError(f"{acct.used} usable rows cannot identify {K} coefficients; add data")
    df_inference, level_creators, cells = None, None, None
    if cluster is not None:
        cells, level_creators, cov_type, df_inference = _cluster_setup(
            sums, X, cat_cols, cluster, rows.rhs, cov_type, use_t, warn_msgs
        )
    beta, mu, bread, res = _fit_glm(X, sums.Yp, sums.Np, names, maxiter, tol)
    cr2, df_params, resid = None, None, None
    if cells is not None:
        cov, correction, cr2, df_params, resid = _robust_cov(
            sums, X, mu, bread, cells, cov_type, use_t, df_inference, acct.used
        )
    else:
        cov, correction, cov_type = bread, 1.0, "nonrobust"
    cov = (cov + cov.T) / 2
    pearson = _pearson(sums, mu)
    pat_out = sums.pat.copy()
    pat_out["successes"], pat_out["trials"], pat_out["mu"] = sums.Yp, sums.Np, mu
    return ConversionFit(
        params=pd.Series(beta, index=names, name="log_odds"),
        bse=pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_err"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        cov_model=pd.DataFrame(bread, index=names, columns=names),
        formula=rows.rhs,
        cluster=cluster,
        cov_type=cov_type,
        site=rows.site_label,
        n_rows=acct.rows,
        n_rows_missing=acct.missing,
        missing_by_column=acct.missing_by,
        n_rows_zero_trials=acct.zero_trials,
        n_rows_used=acct.used,
        n_patterns=len(sums.pat),
        n_clusters=sums.G,
        successes=int(round(sums.Yp.sum())),
        trials=int(round(sums.Np.sum())),
        pearson_chi2=pearson,
        dispersion=float(pearson / (acct.used - K)),
        correction=float(correction),
        df_inference=df_inference,
        df_params=None if df_params is None else pd.Series(df_params, index=names, name="df"),
        level_creators=level_creators,
        _cr2=cr2,
        # the (cluster x pattern) cells stand in for rows: calibration's sums per
        # cluster and bin are the same
        _rows=None if resid is None else (sums.g, sums.p, resid, sums.n, sums.G),
        converged=True,
        iterations=int(getattr(res, "fit_history", {}).get("iteration", 0)),
        merged_levels=merged,
        level_clicks=level_clicks,
        patterns=pat_out,
        design_info=design_info,
        successes_col=successes,
        trials_col=trials,
        other_label=other_label,
        warnings=warn_msgs,
    )


def fit_conversion_by_site(
    df: pd.DataFrame,
    formula: str = DEFAULT_FORMULA,
    *,
    on_error: Literal["raise", "record"] = "raise",
    sites: Sequence[str] | None = None,
    eval_env: patsy.EvalEnvironment | int = 0,
    **kwargs: Any,
) -> SiteFits:
    """Fit :func:`fit_conversion` separately for every site in ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        Frame with a ``site`` column.
    formula : str
        As in :func:`fit_conversion`.
    on_error : {"raise", "record"}
        ``"raise"`` stops at the first site that cannot be fitted; ``"record"`` keeps
        going and puts the message in the result's ``.errors``.
    sites : sequence of str, optional
        Fit only these sites (each must be present; fitted in the data's site order);
        default every site in the data.
        Rows with no site are counted once (``.n_rows_missing_site``, with a warning)
        whichever sites are fitted; they are in no site's ``n_rows``.
    **kwargs
        Passed to :func:`fit_conversion` (not ``site`` or ``pool_sites``).

    Returns
    -------
    SiteFits
        ``{site: ConversionFit}`` in site order, with ``.errors`` for failed sites.
    """
    if on_error not in ("raise", "record"):
        raise ModelError(f"on_error must be 'raise' or 'record'; got {on_error!r}")
    if "site" in kwargs or "pool_sites" in kwargs:
        raise ModelError("fit_conversion_by_site fits every site; do not pass site= or pool_sites=")
    if not isinstance(df, pd.DataFrame):
        raise ModelError(
            f"fit_conversion_by_site takes a pandas DataFrame; got {type(df).__name__}. For "
            "a Parquet, DuckDB or Spark source, fit each site with fit_conversion(source, "
            "site='US') (rows without a site are then counted as missing in each fit)."
        )
    if "site" not in df.columns:
        raise ModelError(
            f"the data has no 'site' column; available columns: {list(df.columns)}. "
            "Use fit_conversion(df) for single-site data."
        )
    env = patsy.EvalEnvironment.capture(eval_env + 1) if isinstance(eval_env, int) else eval_env
    out = SiteFits()
    present = set(df["site"].dropna().astype(str).unique())
    if isinstance(df["site"].dtype, pd.CategoricalDtype):  # keep the data's site order
        all_sites = [str(c) for c in df["site"].cat.categories if str(c) in present]
    else:
        all_sites = sorted(present)
    if sites is None:
        chosen = all_sites
    else:
        wanted = [str(s) for s in ([sites] if isinstance(sites, str) else sites)]
        absent = [s for s in wanted if s not in present]
        if absent:
            raise ModelError(
                f"sites {absent} are not in the data; sites present: {all_sites}. "
                "Pass sites=None to fit every site."
            )
        chosen = [s for s in all_sites if s in set(wanted)]  # in the data's site order
    na = df["site"].isna().to_numpy(dtype=bool)
    n_na = int(na.sum())
    if n_na:
        out.n_rows_missing_site = n_na
        out.errors["<missing site>"] = (
            f"{n_na} of {len(df)} rows have no site and are in no site's fit (a site "
            "cannot be guessed); fill the site column (or load the file with site=) to use them"
        )
        warnings.warn(out.errors["<missing site>"], ConversionWarning, stacklevel=2)
        # counted here once, so each site's fit does not count them again
        df = df.loc[~na]
    for s in chosen:
        try:
            out[s] = fit_conversion(df, formula, site=s, eval_env=env, **kwargs)
        except ModelError as exc:
            if on_error == "raise":
                raise ModelError(f"site {s}: {exc}") from exc
            out.errors[s] = str(exc)
    return out
