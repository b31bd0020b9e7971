"""A/B tests of two content variants (script, thumbnail, price) on CTR, CVR, sales,
spend or order value.

Two questions a seller asks before and after a test:

* **After**: did variant B get a different click-through rate (CTR = clicks /
  impressions) or conversion rate (CVR = orders / clicks) than variant A, by how much,
  and how sure are we? :func:`compare_proportions` (or :func:`compare_variants` on a
  canonical frame) returns the difference B - A and the ratio B / A with confidence
  intervals and a p-value; :func:`compare_means` does the same for sales, spend per
  video or creator and AOV.
* **Before**: how much traffic, and how many days, does a test need to detect a given
  lift? :func:`plan_sample_size` answers in impressions (CTR tests) or clicks (CVR
  tests) per arm, and in days given the daily traffic.

Statistical methods of the impression-level test and the planner (all from
:mod:`statsmodels.stats.proportion`; unit-level tests: see the next section):

* test: ``test_proportions_2indep(method="score", correction=False)``. At the null of
  no difference its statistic is exactly the classic pooled two-proportion z-test
  (the score test's constrained estimate is the pooled proportion), for both
  ``compare="diff"`` and ``compare="ratio"``.
* intervals: ``confint_proportions_2indep(method="score", correction=False)`` with
  ``compare="diff"`` (Mee's score interval) and ``compare="ratio"`` (Koopman /
  Miettinen-Nurminen score interval). They invert the same score statistic, so the
  interval excludes 0 (diff) or 1 (ratio) exactly when p < alpha. Where statsmodels'
  root search fails to bracket the bound (it starts from the Wald interval), the same
  statsmodels score test is inverted with ``scipy.optimize.brentq``.
* sample size: ``samplesize_proportions_2indep_onetail``, the normal-approximation
  formula with the pooled variance under the null and the unpooled variance under the
  alternative (Fleiss' formula without continuity correction, the one most online
  calculators use); it ignores the far tail of a two-sided test, which is negligible.
  It is the planning counterpart of the score test above.

The unit of randomisation (read this before using the results)
--------------------------------------------------------------
The score test and the plain sample size treat every impression (CTR) or click (CVR)
as an independent coin flip. That is only true when the variant is drawn **per
impression or per click** (e.g. the platform shows thumbnail A or B at random to each
viewer, or a price test randomises each visitor). Sellers usually assign a variant
**per video** (this video uses script B) or **per creator** (these creators get the
new brief). CTR and CVR differ a lot between videos and creators, so impressions of
one video are not independent: the impression-level test is then far too confident
(in A/A simulations with heterogeneous videos and heavy-tailed traffic it declared a
"significant" difference in 37-83 % of runs (CVR and CTR, 80 videos or 40 creators) at alpha 5 %; see
tests/test_abtest_sim.py) and the plain planner asks for far too little traffic. For such tests:

* :func:`compare_variants` tests at the level of the unit. By default the unit is read
  from the data: the coarsest id column (``creator_id``, then ``content_id``) within
  which the variant never changes; when the variant changes within videos too, or
  there is no id column, ``unit=`` must be given (``"impression"`` only for a
  platform split test). Testing at a coarser unit than the one randomised is valid,
  only less powerful; a finer one is not. The point estimates are the same pooled
  rates as the plain test (total clicks / total impressions per arm); only the
  uncertainty changes. Each arm's pooled rate is a ratio of unit totals; its variance
  is the CR2 (Bell-McCaffrey) cluster-robust variance of that ratio, and the interval
  refers the difference to a t distribution with Satterthwaite degrees of freedom
  computed under a working variance fitted to the units (between-unit spread plus
  within-unit noise): a few units that carry most of the traffic leave few degrees of
  freedom. The p-value is a studentized randomisation test: the t statistic is
  recomputed over re-randomisations of the units (all of them when there are at most
  ``permutations``), which is exact under no difference whatever the spread of the
  units, and close to the t approximation otherwise (``test="t"`` gives the latter).
  A few thousand impressions more on one video count as one unit of evidence.
* :func:`compare_means` compares a mean per unit (GMV or spend per video or creator)
  or a ratio of means (AOV = GMV per order, GMV per video of a creator-level test) with
  the same machinery: for a mean per unit the interval is exactly Welch's.
* Counts (impressions, clicks, orders) must be whole and non-negative: a fractional
  or missing count is an :class:`~helpers.errors.ExportError` naming the column and
  rows, never silently truncated.
* Size and power are checked against an independent simulator (tests/sim/ab_sim.py,
  tests/test_abtest_sim.py): A/A tests at video and creator level with heterogeneous
  units and heavy-tailed traffic, 2000 runs each: the default tests reject 4.4-5.6 %
  of true nulls at alpha 5 % for CTR, CVR, GMV per unit and AOV (the t approximation
  2.9-5.0 %; Welch's t on GMV per unit is conservative under heavy tails).
* :func:`estimate_design_effect` measures on your own history how much clustering
  inflates the variance of a pooled rate: the design effect
  ``deff = cluster-robust variance / binomial variance`` (about ``1 + (m - 1) ICC``
  with m the traffic per unit and ICC the intra-unit correlation).
* :func:`plan_sample_size` with ``unit="video"`` or ``"creator"`` and ``history=`` (or
  ``design_effect=`` and ``trials_per_unit=``) inflates the impression-level size by
  the design effect and converts it to videos or creators per arm. More traffic per
  video raises the design effect too: past a point only more videos help.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import brentq, nnls
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    samplesize_proportions_2indep_onetail,
    test_proportions_2indep,
)

from helpers.errors import ExportError, ParameterError
from helpers.i18n import check_lang, text

__all__ = [
    "METRICS",
    "UNITS",
    "MEAN_METRICS",
    "ABResult",
    "DesignEffect",
    "MeanResult",
    "SampleSizePlan",
    "compare_means",
    "compare_proportions",
    "compare_variants",
    "estimate_design_effect",
    "plan_sample_size",
]

Metric = Literal["ctr", "cvr"]

METRICS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cvr": ("orders", "clicks"),
}
"""Metric -> (successes column, trials column) of the canonical frame."""

Unit = Literal["impression", "video", "creator"]

UNITS: dict[str, str | None] = {
    "impression": None,
    "video": "content_id",
    "creator": "creator_id",
}
"""Unit of randomisation -> the canonical column identifying it. ``"impression"``
means each impression (CTR) or click (CVR) got its variant independently."""

_ALTERNATIVES = ("two-sided", "larger", "smaller")
_TESTS = ("permutation", "t")

COUNT_COLUMNS = ("impressions", "clicks", "orders", "items_sold")
"""Canonical columns that are counts: whole and non-negative."""

SPEND_COLUMNS = ("commission_paid", "sample_cost", "flat_fee")
"""Cost columns summed by ``compare_means(value="spend")``."""

MEAN_METRICS: dict[str, str] = {
    "aov": "GMV per order (gmv / orders), a ratio of means over units",
    "spend": "the sum of the cost columns present (" + ", ".join(SPEND_COLUMNS) + ")",
}
"""Named values of :func:`compare_means` besides plain columns."""


def _check_metric(metric: str) -> tuple[str, str]:
    if metric not in METRICS:
        raise ParameterError(
            f"metric must be one of {list(METRICS)} (ctr = clicks / impressions, "
            f"cvr = orders / clicks); got {metric!r}"
        )
    return METRICS[metric]


def _check_alpha_alternative(alpha: float, alternative: str) -> float:
    """A checked significance level, and the alternative among the accepted ones."""
    if alternative not in _ALTERNATIVES:
        raise ParameterError(
            f"alternative must be one of {list(_ALTERNATIVES)}; got {alternative!r}"
        )
    return _check_probability("alpha", alpha)


def _check_probability(name: str, value: float, *, open_interval: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ParameterError(
            f"{name} must be a finite number strictly between 0 and 1; got {value!r}"
        )
    v = float(value)
    if open_interval and not 0.0 < v < 1.0:
        raise ParameterError(
            f"{name} must be strictly between 0 and 1 (e.g. 0.05 for 5 %); got {value!r}. "
            "Pass fractions, not percentages."
        )
    return v


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral | Real):
        raise ParameterError(f"{name} must be a whole, non-negative count; got {value!r}")
    f = float(value)
    if not math.isfinite(f) or f < 0 or f != int(f):
        raise ParameterError(f"{name} must be a whole, non-negative count; got {value!r}")
    return int(f)


def _score_pvalue(x1: int, n1: int, x2: int, n2: int, compare: str, value: float) -> float:
    p = test_proportions_2indep(
        x1, n1, x2, n2, value=value, compare=compare, method="score", correction=False
    ).pvalue
    # At the edge of the parameter space statsmodels returns NaN; the data are then
    # far from that value, i.e. it is rejected.
    return 0.0 if not np.isfinite(p) else float(p)


def _score_confint(
    x1: int, n1: int, x2: int, n2: int, compare: str, alpha: float
) -> tuple[float, float]:
    """Score interval for p1 - p2 or p1 / p2 from statsmodels.

    ``confint_proportions_2indep(method="score")`` brackets its root search from the
    Wald interval, which misses the root for some ordinary tables (statsmodels raises
    "f(a) and f(b) must have different signs"). Then the same statsmodels score test
    is inverted here over the whole parameter range with scipy's brentq, which gives
    the interval statsmodels would have returned.
    """
    try:
        low, high = confint_proportions_2indep(
            x1, n1, x2, n2, compare=compare, method="score", correction=False, alpha=alpha
        )
        low, high = float(np.real(low)), float(np.real(high))
        if np.isfinite(low) and np.isfinite(high):
            return low, high
    except (ValueError, ZeroDivisionError):
        pass
    p1, p2 = x1 / n1, x2 / n2
    if compare == "diff":
        est, lo_edge, hi_edge = p1 - p2, -1.0 + 1e-12, 1.0 - 1e-12
    else:
        est, lo_edge, hi_edge = p1 / p2, 1e-12, 1e12

    def f(v: float) -> float:
        return _score_pvalue(x1, n1, x2, n2, compare, v) - alpha

    low = lo_edge if f(lo_edge) >= 0 else brentq(f, lo_edge, est, xtol=1e-12, rtol=1e-10)
    high = hi_edge if f(hi_edge) >= 0 else brentq(f, est, hi_edge, xtol=1e-12, rtol=1e-10)
    if compare == "ratio" and high >= hi_edge:
        high = np.inf
    return float(low), float(high)


class _Comparison:
    """What every A/B result shares: the lift of B over A, significance, a dict."""

    ratio: float
    pvalue: float
    alpha: float
    notes: tuple[str, ...]

    @property
    def lift(self) -> float:
        """Relative lift of B over A: ``ratio - 1`` (0.2 means +20 %)."""
        return self.ratio - 1.0

    @property
    def significant(self) -> bool:
        """True when ``pvalue < alpha``."""
        return bool(self.pvalue < self.alpha)

    def to_dict(self) -> dict[str, object]:
        """All fields plus ``lift`` and ``significant``, JSON-friendly."""
        d = asdict(self)  # type: ignore[call-overload]
        d["notes"] = list(self.notes)
        d["lift"] = self.lift
        d["significant"] = self.significant
        return d


@dataclass(frozen=True)
class ABResult(_Comparison):
    """The outcome of comparing variant B with variant A on one rate.

    Differences and ratios are B relative to A: ``diff = rate_b - rate_a``,
    ``ratio = rate_b / rate_a`` and ``lift = ratio - 1``.
    """

    metric: str
    name_a: str
    name_b: str
    successes_a: int
    trials_a: int
    successes_b: int
    trials_b: int
    rate_a: float
    rate_b: float
    diff: float
    diff_low: float
    diff_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    statistic: float
    pvalue: float
    alpha: float
    alternative: str
    method: str
    unit: str = "impression"
    units_a: int | None = None
    units_b: int | None = None
    design_effect: float | None = None
    notes: tuple[str, ...] = ()
    dof: float | None = None
    pvalue_t: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """A two-row table (A, B) with successes, trials and rate, for display."""
        s_col, t_col = METRICS[self.metric]
        return pd.DataFrame(
            {
                "variant": [self.name_a, self.name_b],
                t_col: [self.trials_a, self.trials_b],
                s_col: [self.successes_a, self.successes_b],
                self.metric: [self.rate_a, self.rate_b],
            }
        )

    def summary(self, lang: str = "en") -> str:
        """A plain-language sentence for a seller, in ``lang`` ("en" or "zh")."""
        conf = 1 - self.alpha
        if check_lang(lang) == "zh":
            return _zh_comparison(
                self,
                "proportions",
                metric=self.metric.upper(),
                rate_a=f"{self.rate_a:.2%}",
                rate_b=f"{self.rate_b:.2%}",
                diff=f"{self.diff * 100:+.2f}",
                low=f"{self.diff_low * 100:+.2f}",
                high=f"{self.diff_high * 100:+.2f}",
            )
        verdict = text(_AB_TEXT, "sig" if self.significant else "not_sig", "en")
        return (
            f"{self.metric.upper()}: {self.name_a} {self.rate_a:.2%} vs {self.name_b} "
            f"{self.rate_b:.2%}; {self.name_b} - {self.name_a} = {self.diff * 100:+.2f} "
            f"points ({conf:.0%} CI {self.diff_low * 100:+.2f} to {self.diff_high * 100:+.2f}), "
            f"lift {self.lift:+.1%} ({conf:.0%} CI {self.ratio_low - 1:+.1%} to "
            f"{self.ratio_high - 1:+.1%}), p = {self.pvalue:.3g}. {verdict} at alpha = "
            f"{self.alpha:g}"
            + (
                f" (tested over {self.units_a} + {self.units_b} {self.unit}s, the unit the "
                "variants were assigned to)."
                if self.unit != "impression"
                else " (assumes each impression or click was randomised on its own)."
            )
        )


def compare_proportions(
    successes_a: int,
    trials_a: int,
    successes_b: int,
    trials_b: int,
    *,
    metric: Metric = "ctr",
    alpha: float = 0.05,
    alternative: Literal["two-sided", "larger", "smaller"] = "two-sided",
    names: tuple[str, str] = ("A", "B"),
) -> ABResult:
    """Compare the rate of variant B with variant A (two independent binomial samples).

    Parameters
    ----------
    successes_a, trials_a : int
        Variant A's successes and trials: clicks and impressions for ``metric="ctr"``,
        orders and clicks for ``metric="cvr"``.
    successes_b, trials_b : int
        The same for variant B.
    metric : {"ctr", "cvr"}
        Which rate is compared; only used for labels and validation messages.
    alpha : float
        Significance level, strictly between 0 and 1; intervals have coverage
        ``1 - alpha``.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" tests whether B's rate is larger than A's. Intervals are always
        two-sided.
    names : tuple of str
        Labels of the two variants, e.g. ``("old script", "new script")``.

    Returns
    -------
    ABResult
        Rates, difference and ratio (B vs A) with score intervals, z statistic and
        p-value.

    Raises
    ------
    ValueError
        If a count is negative or not whole, successes exceed trials, an arm has no
        trials, alpha is outside (0, 1), or neither arm varies (both 0 % or both
        100 %), where no test is possible.

    Examples
    --------
    >>> r = compare_proportions(30, 1000, 45, 1000, metric="ctr")
    >>> round(r.diff, 3), round(r.pvalue, 3)
    (0.015, 0.077)
    """
    s_col, t_col = _check_metric(metric)
    alpha = _check_alpha_alternative(alpha, alternative)
    xa, na, xb, nb = _checked_counts(metric, names, successes_a, trials_a, successes_b, trials_b)
    # statsmodels compares sample 1 with sample 2: pass B first so diff = B - A.
    with warnings.catch_warnings():
        # A zero count gives a harmless divide warning in the odds ratio it also reports.
        warnings.simplefilter("ignore", RuntimeWarning)
        test = test_proportions_2indep(
            xb,
            nb,
            xa,
            na,
            compare="diff",
            method="score",
            correction=False,
            alternative=alternative,
        )
        d_low, d_high = _score_confint(xb, nb, xa, na, "diff", alpha)
        if xa > 0:
            r_low, r_high = _score_confint(xb, nb, xa, na, "ratio", alpha)
            ratio = (xb / nb) / (xa / na)
        else:
            # A has no successes: B / A is unbounded above; its lower bound is the
            # reciprocal of the upper bound of A / B (the score interval is invariant).
            _, inv_high = _score_confint(xa, na, xb, nb, "ratio", alpha)
            r_low = 1.0 / inv_high if inv_high > 0 else np.inf
            r_high, ratio = np.inf, np.inf
    return ABResult(
        metric=metric,
        name_a=str(names[0]),
        name_b=str(names[1]),
        successes_a=xa,
        trials_a=na,
        successes_b=xb,
        trials_b=nb,
        rate_a=xa / na,
        rate_b=xb / nb,
        diff=xb / nb - xa / na,
        diff_low=float(np.real(d_low)),
        diff_high=float(np.real(d_high)),
        ratio=float(ratio),
        ratio_low=float(np.real(r_low)),
        ratio_high=float(np.real(r_high)),
        statistic=float(test.statistic),
        pvalue=float(test.pvalue),
        alpha=alpha,
        alternative=alternative,
        method="score test and score intervals (statsmodels, correction=False)",
    )


def _checked_counts(
    metric: Metric,
    names: tuple[str, str],
    successes_a: int,
    trials_a: int,
    successes_b: int,
    trials_b: int,
) -> tuple[int, int, int, int]:
    """Whole, consistent counts of both variants, with some variation to test."""
    s_col, t_col = _check_metric(metric)
    xa = _check_count(f"{s_col} of {names[0]}", successes_a)
    na = _check_count(f"{t_col} of {names[0]}", trials_a)
    xb = _check_count(f"{s_col} of {names[1]}", successes_b)
    nb = _check_count(f"{t_col} of {names[1]}", trials_b)
    for name, x, n in ((names[0], xa, na), (names[1], xb, nb)):
        if n == 0:
            raise ParameterError(
                f"variant {name!r} has 0 {t_col}: a rate needs at least one trial. "
                "Run the variant longer or drop it from the comparison."
            )
        if x > n:
            raise ParameterError(
                f"variant {name!r} has more {s_col} ({x}) than {t_col} ({n}); "
                f"{metric.upper()} = {s_col} / {t_col} cannot exceed 100 %. Check that the "
                "columns are not swapped and come from the same period."
            )
    pooled = (xa + xb) / (na + nb)
    if pooled in (0.0, 1.0):
        raise ParameterError(
            f"both variants have {pooled:.0%} {metric.upper()} ({xa}/{na} and {xb}/{nb}): "
            "there is no variation to test. Collect more traffic before comparing."
        )
    return xa, na, xb, nb


def _check_unit(unit: str, unit_col: str | None) -> str | None:
    if unit not in UNITS:
        raise ParameterError(
            f"unit must be one of {list(UNITS)} (the unit each variant was assigned to: "
            "'impression' when every impression or click was randomised on its own, "
            "'video' when each video got one variant, 'creator' when each creator did); "
            f"got {unit!r}"
        )
    if unit == "impression":
        if unit_col is not None:
            raise ParameterError(
                "unit_col names the video or creator column; it needs unit='video' or "
                f"unit='creator', not unit={unit!r}."
            )
        return None
    return unit_col if unit_col is not None else UNITS[unit]


def _infer_unit(
    df: pd.DataFrame, by: str, unit: str | None, unit_col: str | None
) -> tuple[str, str | None, str | None]:
    """The unit of randomisation: as given, or the coarsest id within which ``by`` is constant.

    Returns ``(unit, column or None, note or None)``. Testing at a coarser unit than the
    one randomised is still valid (only less powerful); a finer one is not. So the
    creator is tried first, then the video.
    """
    if unit is not None:
        return unit, _check_unit(unit, unit_col), None
    if unit_col is not None:
        raise ParameterError(
            f"unit_col={unit_col!r} needs unit= too: pass unit='video' or unit='creator' "
            "(whichever the column identifies)."
        )
    reasons = []
    for name in ("creator", "video"):
        col = UNITS[name]
        assert col is not None
        if col not in df.columns:
            reasons.append(f"no {col!r} column")
            continue
        if df[col].isna().any():
            reasons.append(f"{int(df[col].isna().sum())} row(s) without {col!r}")
            continue
        mixed = _mixed_units(df, col, by)
        if not mixed:
            return (
                name,
                col,
                f"unit of randomisation inferred from the data: {name} ({by!r} is constant "
                f"within each {col}); pass unit= to say so explicitly.",
            )
        reasons.append(f"{len(mixed)} {col}(s) carry both variants, e.g. {list(mixed[:3])}")
    raise ParameterError(
        f"cannot tell which unit the variants in {by!r} were assigned to ({'; '.join(reasons)}). "
        f"Pass unit= one of {list(UNITS)}: 'creator' or 'video' when each creator or video "
        "got one variant (with unit_col= if the id column has another name), 'impression' "
        "only when every impression or click was randomised on its own (a platform split "
        "test); counting per impression what was assigned per video or creator gives "
        "false 'wins' in most A/A tests."
    )


def _check_numbers(
    df: pd.DataFrame, columns: list[str], *, counts: bool, nonneg: bool = False
) -> None:
    """Refuse missing, non-numeric, (for counts) fractional and (for counts or
    ``nonneg``) negative values.

    Raises :class:`~helpers.errors.ExportError` naming the column and the rows.
    """
    what = (
        "whole, non-negative counts"
        if counts
        else ("finite, non-negative numbers" if nonneg else "finite numbers")
    )
    for col in columns:
        s = df[col]
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            raise ExportError(
                f"column {col!r} must hold {what}; it has dtype {s.dtype}. Load the export "
                "with helpers.load.read_export (it parses '1,234' and '--'), or convert the "
                f"column with pd.to_numeric(df[{col!r}])."
            )
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(v)
        with np.errstate(invalid="ignore"):
            if counts or nonneg:
                bad |= v < 0
            if counts:
                bad |= v != np.round(v)
        if bad.any():
            rows = s.index[bad][:5].tolist()
            vals = v[bad][:5].tolist()
            fix = (
                "A count cannot be fractional or negative: check that the column is a "
                "count (not a rate, an average or an estimate) and map the right export "
                "column to it; round deliberately (df[col].round()) only if you know why "
                "the values are fractional."
                if counts
                else "Fill or remove those rows first (and say so): nothing is dropped silently."
            )
            raise ExportError(
                f"column {col!r} must hold {what}; {int(bad.sum())} row(s) do not, e.g. rows "
                f"{rows} with {vals}. {fix}"
            )


def _select_variants(
    df: pd.DataFrame, by: str, needed: list[str], a: object | None, b: object | None
) -> tuple[pd.DataFrame, object, object]:
    """The rows of variants ``a`` and ``b`` after checking columns, sites and labels."""
    missing = [c for c in (by, *needed) if c not in df.columns]
    if missing:
        raise ParameterError(
            f"the comparison needs the columns {missing}; the frame has {list(df.columns)}. "
            "Pass by= the column that names the variant."
        )
    if "site" in df.columns and df["site"].nunique(dropna=True) > 1:
        sites = sorted(map(str, df["site"].dropna().unique()))
        raise ParameterError(
            f"the frame mixes sites {sites}; an A/B test must run within one site. "
            "Filter first, e.g. df[df['site'] == 'US']."
        )
    if df[by].isna().any():
        n = int(df[by].isna().sum())
        raise ParameterError(
            f"{n} row(s) have no value in {by!r}; label every row with its variant."
        )
    values = sorted(df[by].unique(), key=str)
    if a is None and b is None:
        if len(values) != 2:
            raise ParameterError(
                f"column {by!r} has {len(values)} values {values[:10]}; pass a= and b= to "
                "choose the two variants to compare."
            )
        a, b = values
    if a not in values or b not in values or a == b:
        raise ParameterError(
            f"a and b must be two different values of {by!r}: {values[:20]}; got {a!r}, {b!r}"
        )
    return df[df[by].isin([a, b])], a, b


def _mixed_units(df: pd.DataFrame, col: str, by: str) -> list[object]:
    """Ids of ``col`` whose rows carry more than one value of ``by``."""
    units, ids = pd.factorize(df[col])
    variants, labels = pd.factorize(df[by])
    pairs = np.unique(units.astype(np.int64) * max(len(labels), 1) + variants)
    per_unit = np.bincount(pairs // max(len(labels), 1), minlength=len(ids))
    return list(ids[per_unit > 1])


def _per_unit(
    df: pd.DataFrame, unit: str, col: str, by: str | None, columns: list[str]
) -> pd.DataFrame:
    """Sum ``columns`` per unit (one row per unit, in order of appearance), refusing
    units without an id or units that carry both variants."""
    missing = [c for c in (col, *columns) if c not in df.columns]
    if missing:
        raise ParameterError(
            f"a {unit}-level analysis needs the columns {missing}; the frame has "
            f"{list(df.columns)}. Pass unit_col= the column that identifies each {unit}."
        )
    if df[col].isna().any():
        n = int(df[col].isna().sum())
        raise ParameterError(
            f"{n} row(s) have no {unit} id in {col!r}: every row must belong to a {unit} "
            "to test at that level. Fill the ids or remove those rows first (and say so)."
        )
    if by is not None and (mixed := _mixed_units(df, col, by)):
        ids = [str(i) for i in mixed]
        raise ParameterError(
            f"{len(ids)} {unit}(s) carry both variants (e.g. {ids[:5]}); a {unit}-level test "
            f"needs each {unit} to have one variant. Check {by!r}, or pass the unit the "
            "variants were really assigned to."
        )
    # factorize + bincount: much faster than a groupby on string ids, and exact for
    # the whole counts and money sums used here.
    codes, ids = pd.factorize(df[col])
    out = {col: ids}
    if by is not None:
        first = np.unique(codes, return_index=True)[1]
        out[by] = df[by].to_numpy()[first]
    for c in columns:
        out[c] = np.bincount(codes, weights=df[c].to_numpy(dtype=float), minlength=len(ids))
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# Unit-level inference: one engine for rates (CTR, CVR), means per unit and ratios of
# means (AOV). Each arm's estimate is a ratio of unit totals R = sum y / sum x (x = 1
# for a mean per unit); its variance is cluster-robust at the unit.
# ---------------------------------------------------------------------------

_PERM_CELLS = 2_000_000  # permutations x units held in memory at once


def _arm_stats(x: np.ndarray, y: np.ndarray, in_arm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio ``R = sum y / sum x`` of the units in an arm and its CR2 variance, for every
    row of ``in_arm`` (assignments x units, True = the unit is in the arm).

    CR2 (Bell-McCaffrey) for the ratio estimator, i.e. the weighted mean of ``y / x``
    with weights ``x``: ``V = sum (y_i - R x_i)^2 / (1 - h_i) / X^2`` with leverage
    ``h_i = x_i / X``. For a mean per unit (``x = 1``) it is exactly Welch's ``s^2 / G``.
    """
    s = in_arm.astype(float)
    big_x = s @ x
    r = (s @ y) / big_x
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(in_arm, 1.0 / (1.0 - x[None, :] / big_x[:, None]), 0.0)
    v = (w @ y**2 - 2.0 * r * (w @ (x * y)) + r**2 * (w @ x**2)) / big_x**2
    return r, np.maximum(v, 0.0)


def _t_statistics(x: np.ndarray, y: np.ndarray, arm_b: np.ndarray) -> np.ndarray:
    """``(R_B - R_A) / sqrt(V_A + V_B)`` for every row of ``arm_b`` (assignments x units)."""
    rb, vb = _arm_stats(x, y, arm_b)
    ra, va = _arm_stats(x, y, ~arm_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (rb - ra) / np.sqrt(va + vb)


def _working_variance(x: np.ndarray, resid2: np.ndarray) -> np.ndarray:
    """Working variance ``omega_i = tau2 x_i^2 + phi x_i`` of each unit's residual, by
    non-negative least squares of ``e_i^2 / (1 - h_i)`` on it (between-unit spread
    ``tau2`` plus within-unit noise ``phi``, as for a beta-binomial). Only its shape
    matters: it weights the units in the degrees of freedom."""
    if np.ptp(x) == 0:
        return np.ones_like(x)
    coef, _ = nnls(np.column_stack([x, np.ones_like(x)]), resid2 / x)
    if not coef.any():
        coef = np.array([0.0, 1.0])
    return coef[0] * x**2 + coef[1] * x


def _effective_df(x: np.ndarray, omega: np.ndarray) -> float:
    """Satterthwaite degrees of freedom of one arm's CR2 variance under the working
    variance ``omega`` (Bell and McCaffrey 2002): ``tr(A)^2 / tr(A^2)`` with
    ``A = C^(1/2) P Omega P' C^(1/2)``, ``P = I - x 1' / X`` the residual maker and
    ``C = diag(1 / (X^2 (1 - h)))``. ``P Omega P'`` is diagonal plus rank two, so this
    costs O(G). With equal ``x`` and ``omega`` it is ``G - 1`` (Welch)."""
    big_x, s_w = x.sum(), omega.sum()
    c = 1.0 / (big_x**2 * (1.0 - x / big_x))
    d = c * omega
    u = np.column_stack([np.sqrt(c) * x, np.sqrt(c) * omega])
    m = np.array([[s_w / big_x**2, -1.0 / big_x], [-1.0 / big_x, 0.0]])
    low_diag = np.einsum("ij,jk,ik->i", u, m, u)
    mk = m @ (u.T @ u)
    tr_a = d.sum() + low_diag.sum()
    tr_a2 = (d**2).sum() + 2.0 * (d * low_diag).sum() + np.trace(mk @ mk)
    return float(tr_a**2 / tr_a2) if tr_a2 > 0 else float(len(x) - 1)


def _assignments(
    arm_b: np.ndarray, permutations: int, seed: int
) -> tuple[Iterator[np.ndarray], int, bool]:
    """Re-randomisations of the units (same arm sizes): all of them when there are at
    most ``permutations``, else ``permutations`` random ones. Yields blocks of rows."""
    g, gb = len(arm_b), int(arm_b.sum())
    total = math.comb(g, gb)
    rows = max(1, _PERM_CELLS // g)
    if total <= permutations:

        def exact() -> Iterator[np.ndarray]:
            combos = itertools.combinations(range(g), gb)
            while block := list(itertools.islice(combos, rows)):
                out = np.zeros((len(block), g), dtype=bool)
                out[np.repeat(np.arange(len(block)), gb), np.asarray(block).ravel()] = True
                yield out

        return exact(), total, True
    rng = np.random.default_rng(seed)

    def drawn() -> Iterator[np.ndarray]:
        for start in range(0, permutations, rows):
            n = min(rows, permutations - start)
            yield rng.permuted(np.tile(arm_b, (n, 1)), axis=1)

    return drawn(), permutations, False


def _permutation_pvalue(
    x: np.ndarray,
    y: np.ndarray,
    arm_b: np.ndarray,
    t_obs: float,
    alternative: str,
    permutations: int,
    seed: int,
) -> tuple[float, str]:
    """Studentized randomisation test: the share of re-randomisations of the units whose
    t statistic is at least as extreme as the observed one."""
    blocks, total, exact = _assignments(arm_b, permutations, seed)
    tol = 1e-9 * max(1.0, abs(t_obs))
    hits = 0
    for block in blocks:
        t = _t_statistics(x, y, block)
        if alternative == "two-sided":
            hits += int(np.sum(np.abs(t) >= abs(t_obs) - tol))
        elif alternative == "larger":
            hits += int(np.sum(t >= t_obs - tol))
        else:
            hits += int(np.sum(t <= t_obs + tol))
    if exact:
        return hits / total, f"exact randomisation test over all {total:,} assignments"
    return (hits + 1) / (total + 1), f"randomisation test with {total:,} re-randomisations"


@dataclass(frozen=True)
class _Inference:
    rate_a: float
    rate_b: float
    var_a: float
    var_b: float
    se: float
    dof: float
    statistic: float
    pvalue: float
    pvalue_t: float
    diff_low: float
    diff_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    method: str
    notes: tuple[str, ...]


def _unit_inference(
    x: np.ndarray,
    y: np.ndarray,
    arm_b: np.ndarray,
    *,
    alpha: float,
    alternative: str,
    test: str,
    permutations: int,
    seed: int,
    what: str,
) -> _Inference:
    """Estimates, t interval and p-value of ``R_B - R_A`` and ``R_B / R_A`` over units."""
    (ra,), (va,) = _arm_stats(x, y, ~arm_b[None, :])
    (rb,), (vb,) = _arm_stats(x, y, arm_b[None, :])
    se = math.sqrt(va + vb)
    if se == 0.0:
        raise ParameterError(
            f"every unit of both variants has exactly the same {what}: the between-unit "
            "variance is 0 and no test is possible. Check the data."
        )
    resid2 = np.empty_like(x)
    for mask, r in ((~arm_b, ra), (arm_b, rb)):
        resid2[mask] = (y[mask] - r * x[mask]) ** 2 / (1.0 - x[mask] / x[mask].sum())
    omega = _working_variance(x, resid2)
    nu_a, nu_b = (_effective_df(x[m], omega[m]) for m in (~arm_b, arm_b))
    # Welch-Satterthwaite with each arm's effective df: arms may differ in size, spread
    # and in how unevenly their units carry the traffic.
    dof = (va + vb) ** 2 / (va**2 / nu_a + vb**2 / nu_b)
    dof = float(min(max(dof, 1.0), len(x) - 2))
    t_stat = (rb - ra) / se
    p_t = _pvalue_t(t_stat, dof, alternative)
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    notes: list[str] = []
    if ra > 0 and rb > 0:
        ratio = rb / ra
        # Delta method on the log scale keeps the ratio's interval positive.
        se_log = math.sqrt(va / ra**2 + vb / rb**2)
        r_low, r_high = ratio * math.exp(-q * se_log), ratio * math.exp(q * se_log)
    else:
        ratio, r_low, r_high = (np.inf if ra == 0 < rb else np.nan), np.nan, np.nan
        notes.append(f"variant A's {what} is not positive: the ratio B / A is undefined.")
    method = (
        f"CR2 cluster-robust variance per arm, t with {dof:.1f} Satterthwaite df "
        "(Bell-McCaffrey, working variance fitted to the units)"
    )
    pvalue = p_t
    if test == "permutation":
        pvalue, how = _permutation_pvalue(x, y, arm_b, t_stat, alternative, permutations, seed)
        method = f"p-value: {how} of the t statistic; interval: {method}"
        excludes = rb - ra - q * se > 0 or rb - ra + q * se < 0
        if alternative == "two-sided" and excludes != (pvalue < alpha):
            notes.append(
                f"borderline: the randomisation p-value ({pvalue:.3g}) and the t interval "
                f"(p = {p_t:.3g}) fall on different sides of alpha = {alpha:g}."
            )
    return _Inference(
        rate_a=float(ra),
        rate_b=float(rb),
        var_a=float(va),
        var_b=float(vb),
        se=se,
        dof=dof,
        statistic=float(t_stat),
        pvalue=float(pvalue),
        pvalue_t=p_t,
        diff_low=float(rb - ra - q * se),
        diff_high=float(rb - ra + q * se),
        ratio=float(ratio),
        ratio_low=float(r_low),
        ratio_high=float(r_high),
        method=method,
        notes=tuple(notes),
    )


def _pvalue_t(t: float, dof: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2 * stats.t.sf(abs(t), dof))
    if alternative == "larger":
        return float(stats.t.sf(t, dof))
    return float(stats.t.cdf(t, dof))


def _min_units_check(
    ga: int, gb: int, a: object, b: object, unit: str, what: str, notes: list[str]
) -> None:
    for name, g in ((a, ga), (b, gb)):
        if g < 2:
            raise ParameterError(
                f"variant {name!r} has {g} {unit}(s) with {what}: a {unit}-level test needs at "
                f"least 2 per variant (20 or more for a trustworthy answer). Assign the "
                f"variants to more {unit}s, or pass unit='impression' only if every impression "
                "was randomised on its own."
            )
    if min(ga, gb) < 10:
        notes.append(
            f"only {min(ga, gb)} {unit}s in the smaller arm: the interval is approximate; "
            f"aim for 20+ {unit}s per variant."
        )


def _drop_empty_units(
    units: pd.DataFrame, col: str, unit: str, what: str, notes: list[str]
) -> pd.DataFrame:
    """``units`` without those whose ``col`` is 0: a unit with no trials (or nothing to
    average over) carries no information; it is counted in ``notes``, not silently
    kept in the unit count."""
    empty = units[col] == 0
    if not empty.any():
        return units
    notes.append(f"{int(empty.sum())} {unit}(s) with 0 {what} left out (no information).")
    return units[~empty]


def _compare_units(
    per_unit: pd.DataFrame,
    by: str,
    a: object,
    b: object,
    *,
    metric: str,
    unit: str,
    alpha: float,
    alternative: str,
    test: str,
    permutations: int,
    seed: int,
    notes: list[str],
) -> ABResult:
    s_col, t_col = METRICS[metric]
    per_unit = _drop_empty_units(per_unit, t_col, unit, t_col, notes)
    x = per_unit[t_col].to_numpy(dtype=float)
    y = per_unit[s_col].to_numpy(dtype=float)
    if (y > x).any():
        bad = per_unit.loc[y > x].iloc[0]
        raise ParameterError(
            f"{unit} {bad.iloc[0]!r} has more {s_col} ({bad[s_col]}) than {t_col} ({bad[t_col]}); "
            "check that the columns are not swapped and come from the same period."
        )
    arm_b = (per_unit[by] == b).to_numpy()
    ga, gb = int((~arm_b).sum()), int(arm_b.sum())
    _min_units_check(ga, gb, a, b, unit, t_col, notes)
    xa, na, xb, nb = y[~arm_b].sum(), x[~arm_b].sum(), y[arm_b].sum(), x[arm_b].sum()
    pooled = (xa + xb) / (na + nb)
    if pooled in (0.0, 1.0):
        raise ParameterError(
            f"both variants have {pooled:.0%} {metric.upper()}: there is no variation to "
            "test. Collect more traffic before comparing."
        )
    inf = _unit_inference(
        x,
        y,
        arm_b,
        alpha=alpha,
        alternative=alternative,
        test=test,
        permutations=permutations,
        seed=seed,
        what=metric.upper(),
    )
    # Binomial (impression-level) variance of the same difference, for the design effect.
    var_binom = pooled * (1 - pooled) * (1 / na + 1 / nb)
    return ABResult(
        metric=metric,
        name_a=str(a),
        name_b=str(b),
        successes_a=int(xa),
        trials_a=int(na),
        successes_b=int(xb),
        trials_b=int(nb),
        rate_a=inf.rate_a,
        rate_b=inf.rate_b,
        diff=inf.rate_b - inf.rate_a,
        diff_low=inf.diff_low,
        diff_high=inf.diff_high,
        ratio=inf.ratio,
        ratio_low=inf.ratio_low,
        ratio_high=inf.ratio_high,
        statistic=inf.statistic,
        pvalue=inf.pvalue,
        alpha=alpha,
        alternative=alternative,
        method=f"{unit}-level test, pooled rate per arm; {inf.method}",
        unit=unit,
        units_a=ga,
        units_b=gb,
        design_effect=float(inf.se**2 / var_binom),
        notes=tuple(notes) + inf.notes,
        dof=inf.dof,
        pvalue_t=inf.pvalue_t,
    )


def _check_test(test: str, permutations: int) -> None:
    if test not in _TESTS:
        raise ParameterError(
            f"test must be one of {list(_TESTS)} ('permutation': a randomisation test over "
            "the units, exact under no difference; 't': the t approximation that matches "
            f"the interval); got {test!r}"
        )
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, Integral)
        or permutations < 99
    ):
        raise ParameterError(
            f"permutations must be a whole number >= 99 (4999 is usual); got {permutations!r}"
        )


def compare_variants(
    df: pd.DataFrame,
    by: str,
    *,
    metric: Metric = "ctr",
    a: object | None = None,
    b: object | None = None,
    alpha: float = 0.05,
    alternative: Literal["two-sided", "larger", "smaller"] = "two-sided",
    unit: Unit | None = None,
    unit_col: str | None = None,
    test: Literal["permutation", "t"] = "permutation",
    permutations: int = 4999,
    seed: int = 0,
) -> ABResult:
    """Compare the CTR or CVR of two variants at the unit they were assigned to.

    ``unit`` is the unit of randomisation:

    * ``None`` (default): taken from the data, the coarsest id column within which
      ``by`` is constant: ``creator_id`` (each creator got one variant), else
      ``content_id`` (each video did). When the variant varies within videos too, or
      there is no id column, ``unit`` must be given. The choice is stated in ``notes``.
    * ``"video"`` / ``"creator"``: test over videos (``content_id``) or creators
      (``creator_id``), or over ``unit_col``.
    * ``"impression"``: only when every impression (CTR) or click (CVR) was randomised
      on its own, e.g. a platform split test. Applied to per-video or per-creator
      assignment it is far too confident (false "wins" in most A/A tests).

    At video or creator level the rates are the pooled rates (total clicks / total
    impressions per arm); the interval uses a CR2 cluster-robust variance over units
    with Satterthwaite degrees of freedom, and the p-value (``test="permutation"``)
    comes from re-randomising the units, studentized by the same variance.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with ``clicks`` and ``impressions`` (CTR) or ``orders`` and ``clicks``
        (CVR), and the column ``by``. One site only. The counts must be whole and
        non-negative.
    by : str
        Column naming the variant of each row, e.g. ``"thumbnail"``.
    metric : {"ctr", "cvr"}
        Rate to compare.
    a, b : optional
        The two variant values (A is the control). When omitted, the column must
        hold exactly two values, taken in sorted order.
    alpha, alternative
        As in :func:`compare_proportions`.
    unit : {"video", "creator", "impression"}, optional
        The unit of randomisation (see above).
    unit_col : str, optional
        Column identifying the unit when it is not ``content_id`` / ``creator_id``
        (needs ``unit``).
    test : {"permutation", "t"}
        Unit-level p-value: a randomisation test (exact under no difference, whatever
        the spread of the units) or the t approximation (agrees with the interval).
    permutations : int
        Re-randomisations for ``test="permutation"``; all assignments are enumerated
        when there are fewer.
    seed : int
        Seed of the re-randomisations (the result is reproducible).

    Returns
    -------
    ABResult
        For unit-level tests also ``units_a``, ``units_b``, ``dof``, ``pvalue_t``, the
        ``design_effect`` of this comparison (its variance over the impression-level
        one) and ``notes``.

    Raises
    ------
    ValueError
        If a column is missing, the frame mixes sites, the variants are unclear, the
        unit cannot be inferred, a unit carries both variants or has no id, or an arm
        has fewer than 2 units.
    helpers.errors.ExportError
        If a count is missing, negative or fractional (names the column and rows).
    """
    s_col, t_col = _check_metric(metric)
    alpha = _check_alpha_alternative(alpha, alternative)
    _check_test(test, permutations)
    sub, a, b = _select_variants(df, by, [s_col, t_col], a, b)
    _check_numbers(sub, [s_col, t_col], counts=True)
    unit, col, inferred = _infer_unit(sub, by, unit, unit_col)
    if col is None:
        sums = sub.groupby(by, observed=True)[[s_col, t_col]].sum()
        return compare_proportions(
            int(sums.loc[a, s_col]),
            int(sums.loc[a, t_col]),
            int(sums.loc[b, s_col]),
            int(sums.loc[b, t_col]),
            metric=metric,
            alpha=alpha,
            alternative=alternative,
            names=(str(a), str(b)),
        )
    per_unit = _per_unit(sub, unit, col, by, [s_col, t_col])
    return _compare_units(
        per_unit,
        by,
        a,
        b,
        metric=metric,
        unit=unit,
        alpha=alpha,
        alternative=alternative,
        test=test,
        permutations=permutations,
        seed=seed,
        notes=[inferred] if inferred else [],
    )


@dataclass(frozen=True)
class MeanResult(_Comparison):
    """The outcome of comparing a mean per unit, or a ratio of means, between two variants
    (see :func:`compare_means`).

    ``mean_a`` is arm A's total ``value`` over its total ``per`` (over its number of
    units when ``per`` is the unit): GMV per video, spend per creator, AOV = GMV per
    order. Differences and ratios are B relative to A.
    """

    metric: str
    value: str
    per: str
    name_a: str
    name_b: str
    unit: str
    units_a: int
    units_b: int
    total_a: float
    total_b: float
    per_total_a: float
    per_total_b: float
    mean_a: float
    mean_b: float
    diff: float
    diff_low: float
    diff_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    statistic: float
    dof: float
    pvalue: float
    pvalue_t: float
    alpha: float
    alternative: str
    method: str
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """A two-row table (A, B) with units, totals and the mean, for display."""
        return pd.DataFrame(
            {
                "variant": [self.name_a, self.name_b],
                f"{self.unit}s": [self.units_a, self.units_b],
                self.value: [self.total_a, self.total_b],
                self.per: [self.per_total_a, self.per_total_b],
                self.metric: [self.mean_a, self.mean_b],
            }
        )

    def summary(self, lang: str = "en") -> str:
        """A plain-language sentence for a seller, in ``lang`` ("en" or "zh")."""
        conf = 1 - self.alpha
        if check_lang(lang) == "zh":
            return _zh_comparison(
                self,
                "means",
                metric=self.metric,
                mean_a=f"{self.mean_a:,.2f}",
                mean_b=f"{self.mean_b:,.2f}",
                diff=f"{self.diff:+,.2f}",
                low=f"{self.diff_low:+,.2f}",
                high=f"{self.diff_high:+,.2f}",
            )
        verdict = text(_AB_TEXT, "sig" if self.significant else "not_sig", "en")
        return (
            f"{self.metric}: {self.name_a} {self.mean_a:,.2f} vs {self.name_b} {self.mean_b:,.2f}; "
            f"{self.name_b} - {self.name_a} = {self.diff:+,.2f} ({conf:.0%} CI "
            f"{self.diff_low:+,.2f} to {self.diff_high:+,.2f}), lift {self.lift:+.1%} "
            f"({conf:.0%} CI {self.ratio_low - 1:+.1%} to {self.ratio_high - 1:+.1%}), "
            f"p = {self.pvalue:.3g}. {verdict} at alpha = {self.alpha:g} (tested over "
            f"{self.units_a} + {self.units_b} {self.unit}s, the unit the variants were "
            "assigned to)."
        )


# Chinese sentences of the A/B summaries (English ones are written inline above).
_AB_TEXT = {
    "en": {
        "sig": "The difference is statistically significant",
        "not_sig": "The data cannot tell the variants apart",
    },
    "zh": {
        "sig": "差异在统计上显著",
        "not_sig": "数据还分不出两个版本的高下",
        "proportions": (
            "{metric}：{a} {rate_a}，{b} {rate_b}；{b} − {a} = {diff} 个百分点"
            "（{conf} 置信区间 {low} 至 {high}），提升 {lift}（{conf} 置信区间 {lift_low} 至 "
            "{lift_high}），p = {p}。在 alpha = {alpha} 下，{verdict}{units}"
        ),
        "means": (
            "{metric}：{a} {mean_a}，{b} {mean_b}；{b} − {a} = {diff}（{conf} 置信区间 {low} 至 "
            "{high}），提升 {lift}（{conf} 置信区间 {lift_low} 至 {lift_high}），p = {p}。"
            "在 alpha = {alpha} 下，{verdict}{units}"
        ),
        "units": "（按分组单位检验：{units_a} + {units_b} 个{unit}）。",
        "units_impression": "（假设每次曝光或点击都是单独随机分组的）。",
        "plan": (
            "要在 {power} 的检验功效、alpha = {alpha} 下发现 {metric} 从 {base} 变到 {target}"
            "（{lift}）的变化，每个版本大约需要 {n_a}（A）和 {n_b}（B）次{unit}，共 {n} 次"
        ),
        "plan_units": (
            "，即大约 {units_a}（A）和 {units_b}（B）个{by}，每个{by}约 {per} 次{unit}"
            "（设计效应 {deff}：版本按{by}分配，而各{by}的比率本来就不同，所以需要逐次随机检验"
            "每组 {n_ind} 次{unit}的 {deff} 倍）"
        ),
        "plan_impression": "（假设每次曝光或点击都是单独随机分组的）",
        "plan_days": "：按每天 {rate} 计，大约需要 {days} 天",
    },
}
_UNIT_ZH = {
    "impression": "曝光",
    "impressions": "曝光",
    "click": "点击",
    "clicks": "点击",
    "video": "视频",
    "videos": "视频",
    "content": "视频",
    "creator": "达人",
    "creators": "达人",
}


def _zh_comparison(result: ABResult | MeanResult, key: str, **shown: str) -> str:
    """The Chinese sentence of an A/B comparison: ``shown`` holds the figures written
    differently for rates and for means; the rest is common to both results."""
    conf = 1 - result.alpha
    return text(
        _AB_TEXT,
        key,
        "zh",
        a=result.name_a,
        b=result.name_b,
        conf=f"{conf:.0%}",
        lift=f"{result.lift:+.1%}",
        lift_low=f"{result.ratio_low - 1:+.1%}",
        lift_high=f"{result.ratio_high - 1:+.1%}",
        p=f"{result.pvalue:.3g}",
        verdict=text(_AB_TEXT, "sig" if result.significant else "not_sig", "zh"),
        alpha=f"{result.alpha:g}",
        units=_units_sentence(result.unit, result.units_a, result.units_b, "zh"),
        **shown,
    )


def _units_sentence(unit: str, units_a: int, units_b: int, lang: str) -> str:
    """How the test treated its units, for the Chinese summaries."""
    if unit == "impression":
        return text(_AB_TEXT, "units_impression", lang)
    return text(
        _AB_TEXT, "units", lang, units_a=units_a, units_b=units_b, unit=_UNIT_ZH.get(unit, unit)
    )


def _per_label(per: str | None) -> str:
    """What one unit of the denominator is called in labels."""
    if per is None:
        return "{unit}"
    return "video" if per == "videos" else per


def _resolve_value(
    df: pd.DataFrame, value: str, per: str | None
) -> tuple[list[str], str | None, str, list[str]]:
    """``value`` and ``per`` -> (value columns, per column, label, notes)."""
    if value == "aov":
        if per is not None:
            raise ParameterError("value='aov' is GMV per order already; leave per= unset.")
        return ["gmv"], "orders", "AOV (gmv per order)", []
    if value == "spend":
        cols = [c for c in SPEND_COLUMNS if c in df.columns]
        if not cols:
            raise ParameterError(
                f"value='spend' sums the cost columns {list(SPEND_COLUMNS)}; the frame has "
                f"none of them. Pass value= the column that holds the spend."
            )
        notes = [f"spend = {' + '.join(cols)} (the cost columns present)."]
        return cols, per, "spend per " + _per_label(per), notes
    if not isinstance(value, str) or value not in df.columns:
        raise ParameterError(
            f"value must be a column of the frame or one of {list(MEAN_METRICS)}; got "
            f"{value!r}. Columns: {list(df.columns)}."
        )
    return [value], per, f"{value} per " + _per_label(per), []


def _mean_inputs(
    sub: pd.DataFrame, by: str, value: str, per: str | None, unit: str, col: str
) -> tuple[pd.DataFrame, str, list[str]]:
    """Per-unit totals ``_value`` and ``_per`` (1 per unit when ``per`` is None)."""
    value_cols, per_col, label, notes = _resolve_value(sub, value, per)
    for c in value_cols:
        _check_numbers(sub, [c], counts=c in COUNT_COLUMNS)
    frame = sub.assign(_value=sub[value_cols].sum(axis=1))
    if per_col == "videos":
        if "content_id" not in sub.columns:
            raise ParameterError(
                "per='videos' counts distinct content_id per unit; the frame has none."
            )
        frame = frame.assign(_per=0.0)
    elif per_col is not None:
        if per_col not in sub.columns:
            raise ParameterError(
                f"per must be None (per {unit}), 'videos' or a column of the frame; got "
                f"{per_col!r}. Columns: {list(sub.columns)}."
            )
        _check_numbers(sub, [per_col], counts=per_col in COUNT_COLUMNS, nonneg=True)
        frame = frame.assign(_per=sub[per_col].astype(float))
    else:
        frame = frame.assign(_per=0.0)
    units = _per_unit(frame, unit, col, by, ["_value", "_per"])
    if per_col == "videos":
        n_videos = frame.groupby(col, observed=True)["content_id"].nunique()
        units["_per"] = units[col].map(n_videos).astype(float)
    elif per_col is None:
        units["_per"] = 1.0
    return units, label.format(unit=unit), notes


def compare_means(
    df: pd.DataFrame,
    by: str,
    value: str,
    *,
    per: str | None = None,
    a: object | None = None,
    b: object | None = None,
    alpha: float = 0.05,
    alternative: Literal["two-sided", "larger", "smaller"] = "two-sided",
    unit: Literal["video", "creator"] | None = None,
    unit_col: str | None = None,
    test: Literal["permutation", "t"] = "permutation",
    permutations: int = 4999,
    seed: int = 0,
) -> MeanResult:
    """Compare a mean per unit (GMV, spend per video or creator) or a ratio of means (AOV)
    between two variants, at the unit they were assigned to.

    Each arm's estimate is ``sum(value) / sum(per)`` over its units: with ``per=None``
    the mean of the unit totals (GMV per video), with ``per="orders"`` GMV per order
    (AOV), with ``per="videos"`` per distinct video of a creator-level test. The
    interval uses a CR2 cluster-robust variance over units with Satterthwaite degrees
    of freedom (for a mean per unit this is exactly Welch's t interval); the p-value
    (``test="permutation"``) comes from re-randomising the units, studentized by the
    same variance, which keeps its size under heavy-tailed sales where Welch's t is
    conservative.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of one site with the column ``by``, the value column(s) and the unit id.
    by : str
        Column naming the variant of each row.
    value : str
        A numeric column (``"gmv"``, ``"refunds"``, ``"orders"``, ...), ``"spend"`` (the
        sum of whichever of commission_paid, sample_cost and flat_fee are present) or
        ``"aov"`` (GMV per order: ``value="gmv", per="orders"``).
    per : str, optional
        Denominator: None for per unit, a column for a ratio of means (its unit totals
        must be >= 0; units whose total is 0 carry no information and are left out,
        counted in ``notes``), or ``"videos"`` (distinct ``content_id`` per unit).
    a, b, alpha, alternative, unit, unit_col, test, permutations, seed
        As in :func:`compare_variants`; ``unit="impression"`` is not possible for means.

    Returns
    -------
    MeanResult

    Raises
    ------
    ValueError
        As :func:`compare_variants`, or when ``value`` / ``per`` are unknown.
    helpers.errors.ExportError
        If a value is missing or not finite, or a count column (orders, clicks, ...)
        holds a fractional or negative value (names the column and rows).
    """
    alpha = _check_alpha_alternative(alpha, alternative)
    _check_test(test, permutations)
    sub, a, b = _select_variants(df, by, [], a, b)
    unit, col, inferred = _infer_unit(sub, by, unit, unit_col)
    if col is None:
        raise ParameterError(
            "a mean per unit needs the unit the variants were assigned to: pass unit='video' "
            "or unit='creator' (impressions carry no sales of their own)."
        )
    units, label, notes = _mean_inputs(sub, by, value, per, unit, col)
    notes = ([inferred] if inferred else []) + notes
    units = _drop_empty_units(units, "_per", unit, per or "orders", notes)
    arm_b = (units[by] == b).to_numpy()
    ga, gb = int((~arm_b).sum()), int(arm_b.sum())
    _min_units_check(ga, gb, a, b, unit, "data", notes)
    x = units["_per"].to_numpy(dtype=float)
    y = units["_value"].to_numpy(dtype=float)
    inf = _unit_inference(
        x,
        y,
        arm_b,
        alpha=alpha,
        alternative=alternative,
        test=test,
        permutations=permutations,
        seed=seed,
        what=label,
    )
    per_name = "orders" if value == "aov" else (per or unit + "s")
    return MeanResult(
        metric=label,
        value="gmv" if value == "aov" else value,
        per=per_name,
        name_a=str(a),
        name_b=str(b),
        unit=unit,
        units_a=ga,
        units_b=gb,
        total_a=float(y[~arm_b].sum()),
        total_b=float(y[arm_b].sum()),
        per_total_a=float(x[~arm_b].sum()),
        per_total_b=float(x[arm_b].sum()),
        mean_a=inf.rate_a,
        mean_b=inf.rate_b,
        diff=inf.rate_b - inf.rate_a,
        diff_low=inf.diff_low,
        diff_high=inf.diff_high,
        ratio=inf.ratio,
        ratio_low=inf.ratio_low,
        ratio_high=inf.ratio_high,
        statistic=inf.statistic,
        dof=inf.dof,
        pvalue=inf.pvalue,
        pvalue_t=inf.pvalue_t,
        alpha=alpha,
        alternative=alternative,
        method=f"{unit}-level comparison of {label}; {inf.method}",
        notes=tuple(notes) + inf.notes,
    )


@dataclass(frozen=True)
class DesignEffect:
    """How much clustering by unit inflates the variance of a pooled rate
    (see :func:`estimate_design_effect`)."""

    metric: str
    unit: str
    rate: float
    units: int
    trials: int
    mean_trials_per_unit: float
    weighted_trials_per_unit: float
    design_effect: float
    icc: float

    def to_dict(self) -> dict[str, object]:
        """All fields, JSON-friendly."""
        return asdict(self)

    def at_trials_per_unit(self, trials_per_unit: float) -> float:
        """The design effect for another amount of traffic per unit.

        ``1 + (m_w - 1) ICC`` where ``m_w`` is the size-weighted traffic per unit, scaled
        from the history's ``weighted_trials_per_unit`` in proportion to the mean (the
        spread of traffic between units is assumed to stay the same).
        """
        m_w = trials_per_unit * self.weighted_trials_per_unit / self.mean_trials_per_unit
        return max(1.0, 1.0 + (m_w - 1.0) * self.icc)


def estimate_design_effect(
    history: pd.DataFrame,
    *,
    metric: Metric = "ctr",
    unit: Literal["video", "creator"] = "video",
    unit_col: str | None = None,
) -> DesignEffect:
    """Design effect of a pooled CTR or CVR when traffic comes in videos or creators.

    ``design_effect`` is the cluster-robust variance of the pooled rate (CR2 over units,
    the variance :func:`compare_variants` uses for unit-level tests) divided
    by its binomial variance ``p (1 - p) / N``. It says how many times more impressions
    (or clicks) a test randomised by ``unit`` needs than one randomised per impression.
    ``icc`` is the implied intra-unit correlation, ``(deff - 1) / (m_w - 1)`` with
    ``m_w = sum(n_i^2) / sum(n_i)`` the size-weighted traffic per unit.

    Parameters
    ----------
    history : pandas.DataFrame
        Past rows of one site (no variant needed), with the unit column and the
        metric's successes and trials columns. Use comparable content: the product
        or category you will test.
    metric : {"ctr", "cvr"}
        Rate whose design effect is wanted.
    unit : {"video", "creator"}
        The unit the variants will be assigned to.
    unit_col : str, optional
        Column identifying the unit, when not ``content_id`` / ``creator_id``.

    Returns
    -------
    DesignEffect

    Raises
    ------
    ValueError
        If columns are missing, sites are mixed, fewer than 10 units have traffic, or
        the history has no successes.
    """
    s_col, t_col = _check_metric(metric)
    if unit == "impression":
        raise ParameterError(
            "a design effect is only needed for unit='video' or unit='creator'; with "
            "impression-level randomisation it is 1."
        )
    col = _check_unit(unit, unit_col)
    assert col is not None
    if "site" in history.columns and history["site"].nunique(dropna=True) > 1:
        sites = sorted(map(str, history["site"].dropna().unique()))
        raise ParameterError(
            f"the history mixes sites {sites}; estimate the design effect within the site "
            "you will test, e.g. history[history['site'] == 'US']."
        )
    _check_numbers(history, [c for c in (s_col, t_col) if c in history.columns], counts=True)
    per_unit = _per_unit(history, unit, col, None, [s_col, t_col])
    per_unit = per_unit[per_unit[t_col] > 0]
    if len(per_unit) < 10:
        raise ParameterError(
            f"the history has {len(per_unit)} {unit}(s) with {t_col}; at least 10 are needed "
            "to estimate a design effect (more is better). Pass design_effect= from a "
            "larger history instead."
        )
    x = per_unit[s_col].to_numpy(dtype=float)
    n = per_unit[t_col].to_numpy(dtype=float)
    if (x > n).any():
        raise ParameterError(f"some {unit}s have more {s_col} than {t_col}; check the columns.")
    p = x.sum() / n.sum()
    if p in (0.0, 1.0):
        raise ParameterError(f"the history's {metric.upper()} is {p:.0%}: no variation to measure.")
    _, (var_cluster,) = _arm_stats(n, x, np.ones((1, len(x)), dtype=bool))
    var_binom = p * (1 - p) / n.sum()
    deff = var_cluster / var_binom
    m_mean = float(n.mean())
    m_w = float((n**2).sum() / n.sum())
    icc = (deff - 1.0) / (m_w - 1.0) if m_w > 1 else 0.0
    return DesignEffect(
        metric=metric,
        unit=unit,
        rate=float(p),
        units=len(x),
        trials=int(n.sum()),
        mean_trials_per_unit=m_mean,
        weighted_trials_per_unit=m_w,
        design_effect=float(deff),
        icc=float(max(icc, 0.0)),
    )


@dataclass(frozen=True)
class SampleSizePlan:
    """How much traffic a two-arm test needs (see :func:`plan_sample_size`).

    ``unit`` is the traffic unit counted by ``n_a`` / ``n_b`` (impressions or clicks);
    ``randomised_by`` is the unit the variants are assigned to. For video- or
    creator-level tests ``n_a`` / ``n_b`` are already inflated by ``design_effect``
    (``n_a_independent`` is the size if every impression were randomised on its own)
    and ``units_a`` / ``units_b`` count the videos or creators each arm needs.
    """

    metric: str
    unit: str
    baseline_rate: float
    min_detectable_lift: float
    target_rate: float
    alpha: float
    power: float
    alternative: str
    ratio: float
    n_a: int
    n_b: int
    n_total: int
    daily_traffic: float | None
    days: int | None
    expected_successes_a: float
    method: str
    randomised_by: str = "impression"
    design_effect: float = 1.0
    design_effect_source: str = "impression-level randomisation"
    n_a_independent: int | None = None
    n_b_independent: int | None = None
    trials_per_unit: float | None = None
    units_a: int | None = None
    units_b: int | None = None
    units_total: int | None = None
    daily_units: float | None = None

    def to_dict(self) -> dict[str, object]:
        """All fields, JSON-friendly."""
        return asdict(self)

    def summary(self, lang: str = "en") -> str:
        """A plain-language sentence for a seller, in ``lang`` ("en" or "zh")."""
        if check_lang(lang) == "zh":
            return self._summary_zh()
        sentence = (
            f"To detect a {self.min_detectable_lift:+.0%} change in {self.metric.upper()} from "
            f"{self.baseline_rate:.2%} to {self.target_rate:.2%} with {self.power:.0%} power at "
            f"alpha = {self.alpha:g} ({self.alternative}), each variant needs about "
            f"{self.n_a:,} {self.unit} (A) and {self.n_b:,} (B), {self.n_total:,} in total"
        )
        if self.randomised_by != "impression":
            sentence += (
                f", i.e. about {self.units_a:,} {self.randomised_by}s (A) and {self.units_b:,} "
                f"(B) at {self.trials_per_unit:,.0f} {self.unit} per {self.randomised_by} "
                f"(design effect {self.design_effect:.1f}: the variants are assigned per "
                f"{self.randomised_by}, whose {self.metric.upper()}s differ, so it needs "
                f"{self.design_effect:.1f} times the {self.n_a_independent:,} {self.unit} per "
                "arm of a per-impression test)"
            )
        else:
            sentence += " (assumes every impression or click is randomised on its own)"
        if self.days is not None:
            if self.daily_traffic is not None:
                sentence += (
                    f": about {self.days} day(s) at {self.daily_traffic:,.0f} {self.unit} a day"
                )
                if self.daily_units is not None:
                    sentence += f" and {self.daily_units:,.0f} new {self.randomised_by}s a day"
            else:
                sentence += f": about {self.days} day(s) at {self.daily_units:,.0f} new {self.randomised_by}s a day"
        return sentence + "."

    def _summary_zh(self) -> str:
        sentence = text(
            _AB_TEXT,
            "plan",
            "zh",
            lift=f"{self.min_detectable_lift:+.0%}",
            metric=self.metric.upper(),
            base=f"{self.baseline_rate:.2%}",
            target=f"{self.target_rate:.2%}",
            power=f"{self.power:.0%}",
            alpha=f"{self.alpha:g}",
            n_a=f"{self.n_a:,}",
            n_b=f"{self.n_b:,}",
            n=f"{self.n_total:,}",
            unit=_UNIT_ZH.get(self.unit, self.unit),
        )
        if self.randomised_by != "impression":
            sentence += text(
                _AB_TEXT,
                "plan_units",
                "zh",
                units_a=f"{self.units_a:,}",
                units_b=f"{self.units_b:,}",
                by=_UNIT_ZH.get(self.randomised_by, self.randomised_by),
                per=f"{self.trials_per_unit:,.0f}",
                unit=_UNIT_ZH.get(self.unit, self.unit),
                deff=f"{self.design_effect:.1f}",
                n_ind=f"{self.n_a_independent:,}",
            )
        else:
            sentence += text(_AB_TEXT, "plan_impression", "zh")
        if self.days is not None:
            rates = []
            if self.daily_traffic is not None:
                rates.append(f"{self.daily_traffic:,.0f} 次{_UNIT_ZH.get(self.unit, self.unit)}")
            if self.daily_units is not None:
                by = _UNIT_ZH.get(self.randomised_by, self.randomised_by)
                rates.append(f"{self.daily_units:,.0f} 个新{by}")
            sentence += text(_AB_TEXT, "plan_days", "zh", days=self.days, rate="、".join(rates))
        return sentence + "。"


def _check_positive(name: str, value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(float(value))
        or float(value) <= 0
    ):
        raise ParameterError(f"{name} must be a positive number of {what}; got {value!r}")
    return float(value)


def plan_sample_size(
    baseline_rate: float,
    min_detectable_lift: float,
    *,
    metric: Metric = "ctr",
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Literal["two-sided", "larger", "smaller"] = "two-sided",
    daily_traffic: float | None = None,
    unit: Unit = "impression",
    design_effect: float | None = None,
    history: pd.DataFrame | None = None,
    trials_per_unit: float | None = None,
    unit_col: str | None = None,
    daily_units: float | None = None,
) -> SampleSizePlan:
    """Traffic per arm (and days) needed to detect a relative lift in CTR or CVR.

    Uses ``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail`` (see
    the module docstring), the planning counterpart of :func:`compare_proportions`.
    That size is right only when every impression (CTR) or click (CVR) is randomised
    on its own (``unit="impression"``, the default). When the variants are assigned
    per video or per creator (the usual case), pass ``unit="video"`` or
    ``unit="creator"`` with ``history=`` (past rows of the same site and kind of
    content): the size is multiplied by the design effect measured on that history
    (:func:`estimate_design_effect`) and converted to videos or creators per arm.
    Without history, pass ``design_effect=`` and ``trials_per_unit=`` yourself.
    Analyse such a test with :func:`compare_variants` and the same ``unit``.

    Parameters
    ----------
    baseline_rate : float
        Variant A's expected rate, strictly between 0 and 1 (e.g. 0.03 for a 3 % CTR).
        Take it from your own history, not from a benchmark.
    min_detectable_lift : float
        Smallest relative change worth detecting: 0.2 for +20 % (B's rate = baseline
        * 1.2), -0.2 for a 20 % drop. Must not be 0 and must keep B's rate in (0, 1).
    metric : {"ctr", "cvr"}
        "ctr" counts traffic in impressions, "cvr" in clicks.
    alpha : float
        Significance level in (0, 1).
    power : float
        Probability of detecting the lift when it is real, in (0, 1); must exceed
        alpha (0.8 is customary).
    ratio : float
        Arm B's size over arm A's (1 for an even split).
    alternative : {"two-sided", "larger", "smaller"}
        The test you will run; "larger" means B > A.
    daily_traffic : float, optional
        Impressions (CTR) or clicks (CVR) a day available to the whole test, split
        between the arms in proportion 1 : ratio. Gives ``days``.
    unit : {"impression", "video", "creator"}
        The unit the variants are assigned to (see above).
    design_effect : float, optional
        Variance inflation (>= 1) from clustering, when no ``history`` is given.
    history : pandas.DataFrame, optional
        Past rows (one site) with the unit column and the metric's columns; the design
        effect and the traffic per unit are estimated from it.
    trials_per_unit : float, optional
        Impressions (CTR) or clicks (CVR) you expect per video / creator during the
        test. Defaults to the history's mean; required with ``design_effect``. With
        history, the design effect is rescaled to it (``1 + (m - 1) ICC``): more
        traffic per unit means a larger design effect, so past a point only more
        units help.
    unit_col : str, optional
        Column of ``history`` identifying the unit, when not ``content_id`` /
        ``creator_id``.
    daily_units : float, optional
        New videos / creators that can join the test per day (both arms together);
        ``days`` is then the longer of the traffic-limited and unit-limited duration.

    Returns
    -------
    SampleSizePlan
        ``n_a``, ``n_b`` (rounded up), ``n_total`` and ``days`` (rounded up; None without
        ``daily_traffic`` or ``daily_units``); for unit-level plans also
        ``design_effect``, ``units_a``, ``units_b`` and ``n_a_independent``.

    Raises
    ------
    ValueError
        If a rate, alpha or power is outside (0, 1), power <= alpha, the lift is 0 or
        pushes the rate outside (0, 1), the lift contradicts a one-sided alternative,
        ratio <= 0, daily traffic <= 0, or the unit-level inputs are missing or
        inconsistent (see the messages).
    """
    _, traffic_unit = _check_metric(metric)
    p1, p2, lift, alpha, power = _check_plan_rates(
        baseline_rate, min_detectable_lift, alpha, power, alternative, ratio
    )
    if daily_traffic is not None:
        daily_traffic = _check_positive("daily_traffic", daily_traffic, f"{traffic_unit} a day")
    col, deff, m, source, daily_units = _unit_design(
        unit,
        unit_col,
        metric,
        design_effect=design_effect,
        history=history,
        trials_per_unit=trials_per_unit,
        daily_units=daily_units,
    )
    # statsmodels' diff is prop1 - prop2 where prop2 is the reference; nobs1 is arm B,
    # nobs2 = nobs1 * ratio_sm, so its ratio is A over B.
    n_b_raw = float(
        samplesize_proportions_2indep_onetail(
            diff=p2 - p1,
            prop2=p1,
            power=power,
            ratio=1.0 / ratio,
            alpha=alpha,
            alternative=alternative,
        )
    )
    n_b_ind = math.ceil(n_b_raw - 1e-9)
    n_a_ind = math.ceil(n_b_raw / ratio - 1e-9)
    n_b = math.ceil(n_b_raw * deff - 1e-9)
    n_a = math.ceil(n_b_raw * deff / ratio - 1e-9)
    units_a, units_b, days = _units_and_days(n_a, n_b, m, ratio, daily_traffic, daily_units)
    method = "statsmodels samplesize_proportions_2indep_onetail (normal approximation)"
    if col is not None:
        method += f", times the design effect of {unit}-level randomisation ({source})"
    return SampleSizePlan(
        metric=metric,
        unit=traffic_unit,
        baseline_rate=p1,
        min_detectable_lift=lift,
        target_rate=p2,
        alpha=alpha,
        power=power,
        alternative=alternative,
        ratio=float(ratio),
        n_a=n_a,
        n_b=n_b,
        n_total=n_a + n_b,
        daily_traffic=None if daily_traffic is None else float(daily_traffic),
        days=days,
        expected_successes_a=n_a * p1,
        method=method,
        randomised_by=unit,
        design_effect=float(deff),
        design_effect_source=source,
        n_a_independent=n_a_ind,
        n_b_independent=n_b_ind,
        trials_per_unit=None if m is None else float(m),
        units_a=units_a,
        units_b=units_b,
        units_total=None if units_a is None or units_b is None else units_a + units_b,
        daily_units=daily_units,
    )


def _check_plan_rates(
    baseline_rate: float,
    min_detectable_lift: float,
    alpha: float,
    power: float,
    alternative: str,
    ratio: float,
) -> tuple[float, float, float, float, float]:
    """Checked baseline and target rates, lift, alpha and power of a sample-size plan."""
    p1 = _check_probability("baseline_rate", baseline_rate)
    alpha = _check_probability("alpha", alpha)
    power = _check_probability("power", power)
    if power <= alpha:
        raise ParameterError(f"power ({power}) must exceed alpha ({alpha}); 0.8 or 0.9 is usual.")
    if alternative not in _ALTERNATIVES:
        raise ParameterError(
            f"alternative must be one of {list(_ALTERNATIVES)}; got {alternative!r}"
        )
    if isinstance(min_detectable_lift, bool) or not isinstance(min_detectable_lift, Real):
        raise ParameterError(
            f"min_detectable_lift must be a number such as 0.2 for +20 %; got {min_detectable_lift!r}"
        )
    lift = float(min_detectable_lift)
    if not math.isfinite(lift) or lift == 0.0:
        raise ParameterError(
            f"min_detectable_lift must be a non-zero relative change such as 0.2 (+20 %); got {lift!r}"
        )
    p2 = p1 * (1.0 + lift)
    if not 0.0 < p2 < 1.0:
        raise ParameterError(
            f"baseline {p1:.4g} with lift {lift:+.0%} gives a target rate {p2:.4g} outside (0, 1); "
            "choose a smaller lift (it is relative: 0.2 means +20 %, not +20 points)."
        )
    if (alternative == "larger" and lift < 0) or (alternative == "smaller" and lift > 0):
        raise ParameterError(
            f"alternative={alternative!r} contradicts min_detectable_lift={lift:+.0%}; use "
            "'larger' for an increase, 'smaller' for a decrease, or 'two-sided'."
        )
    if (
        isinstance(ratio, bool)
        or not isinstance(ratio, Real)
        or not math.isfinite(ratio)
        or ratio <= 0
    ):
        raise ParameterError(
            f"ratio (size of arm B over arm A) must be a positive number; got {ratio!r}"
        )
    return p1, p2, lift, alpha, power


def _unit_design(
    unit: Unit,
    unit_col: str | None,
    metric: Metric,
    *,
    design_effect: float | None,
    history: pd.DataFrame | None,
    trials_per_unit: float | None,
    daily_units: float | None,
) -> tuple[str | None, float, float | None, str, float | None]:
    """The unit column, design effect, traffic per unit and where the design effect
    comes from, for impression-, video- or creator-level randomisation."""
    _, traffic_unit = _check_metric(metric)
    col = _check_unit(unit, unit_col)
    deff, m, source = 1.0, None, "impression-level randomisation"
    if col is None:
        given = [
            k
            for k, v in (
                ("design_effect", design_effect),
                ("history", history),
                ("trials_per_unit", trials_per_unit),
                ("daily_units", daily_units),
            )
            if v is not None
        ]
        if given:
            raise ParameterError(
                f"{given} only apply to unit='video' or unit='creator'; pass the unit the "
                "variants are assigned to (unit='impression' means each impression or "
                "click is randomised on its own, with no design effect)."
            )
    else:
        if trials_per_unit is not None:
            trials_per_unit = _check_positive(
                "trials_per_unit", trials_per_unit, f"{traffic_unit} per {unit}"
            )
        if daily_units is not None:
            daily_units = _check_positive("daily_units", daily_units, f"new {unit}s a day")
        if history is not None and design_effect is not None:
            raise ParameterError(
                "pass either history= (the design effect is estimated from it) or "
                "design_effect=, not both."
            )
        if history is not None:
            de = estimate_design_effect(history, metric=metric, unit=unit, unit_col=unit_col)
            m = trials_per_unit if trials_per_unit is not None else de.mean_trials_per_unit
            deff = de.design_effect if trials_per_unit is None else de.at_trials_per_unit(m)
            source = (
                f"estimated from history ({de.units:,} {unit}s, {de.trials:,} {traffic_unit}, "
                f"ICC {de.icc:.2g})"
            )
        elif design_effect is not None:
            deff = _check_positive("design_effect", design_effect, "(variance inflation)")
            if deff < 1.0:
                raise ParameterError(
                    f"design_effect must be >= 1 (1 means no clustering); got {design_effect!r}"
                )
            if trials_per_unit is None:
                raise ParameterError(
                    f"with design_effect= also pass trials_per_unit= (expected {traffic_unit} "
                    f"per {unit}) to convert the size into {unit}s per arm."
                )
            m = trials_per_unit
            source = "given"
        else:
            raise ParameterError(
                f"unit={unit!r} needs the design effect: pass history= (past rows of this "
                f"site with {col!r}) or design_effect= and trials_per_unit=. Without it the "
                "plan would assume independent impressions and be far too small."
            )
    return col, deff, m, source, daily_units


def _units_and_days(
    n_a: int,
    n_b: int,
    m: float | None,
    ratio: float,
    daily_traffic: float | None,
    daily_units: float | None,
) -> tuple[int | None, int | None, int | None]:
    """Units per arm (with ``m`` trials per unit) and the days the test needs: the
    longer of the traffic- and unit-limited durations."""
    units_a = units_b = None
    if m is not None:
        units_a = max(2, math.ceil(n_a / m - 1e-9))
        units_b = max(2, math.ceil(n_b / m - 1e-9))
    days = None
    share_a = 1.0 / (1.0 + ratio)
    if daily_traffic is not None:
        days = math.ceil(
            max(n_a / (daily_traffic * share_a), n_b / (daily_traffic * (1 - share_a))) - 1e-9
        )
    if daily_units is not None and units_a is not None and units_b is not None:
        unit_days = math.ceil((units_a + units_b) / daily_units - 1e-9)
        days = unit_days if days is None else max(days, unit_days)
    return units_a, units_b, days
