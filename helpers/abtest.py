"""A/B tests of two content variants (script, thumbnail, price) on CTR or CVR.

Two questions a seller asks before and after a test:

* **After**: did variant B get a different click-through rate (CTR = clicks /
  impressions) or conversion rate (CVR = orders / clicks) than variant A, by how much,
  and how sure are we? :func:`compare_proportions` (or :func:`compare_variants` on a
  canonical frame) returns the difference B - A and the ratio B / A with confidence
  intervals and a p-value.
* **Before**: how much traffic, and how many days, does a test need to detect a given
  lift? :func:`plan_sample_size` answers in impressions (CTR tests) or clicks (CVR
  tests) per arm, and in days given the daily traffic.

Statistical methods (all from :mod:`statsmodels.stats.proportion`):

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
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    samplesize_proportions_2indep_onetail,
    test_proportions_2indep,
)

__all__ = [
    "METRICS",
    "ABResult",
    "SampleSizePlan",
    "compare_proportions",
    "compare_variants",
    "plan_sample_size",
]

Metric = Literal["ctr", "cvr"]

METRICS: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "impressions"),
    "cvr": ("orders", "clicks"),
}
"""Metric -> (successes column, trials column) of the canonical frame."""

_ALTERNATIVES = ("two-sided", "larger", "smaller")


def _check_metric(metric: str) -> tuple[str, str]:
    if metric not in METRICS:
        raise ValueError(
            f"metric must be one of {list(METRICS)} (ctr = clicks / impressions, "
            f"cvr = orders / clicks); got {metric!r}"
        )
    return METRICS[metric]


def _check_probability(name: str, value: float, *, open_interval: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number strictly between 0 and 1; got {value!r}")
    v = float(value)
    if open_interval and not 0.0 < v < 1.0:
        raise ValueError(
            f"{name} must be strictly between 0 and 1 (e.g. 0.05 for 5 %); got {value!r}. "
            "Pass fractions, not percentages."
        )
    return v


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral | Real):
        raise ValueError(f"{name} must be a whole, non-negative count; got {value!r}")
    f = float(value)
    if not math.isfinite(f) or f < 0 or f != int(f):
        raise ValueError(f"{name} must be a whole, non-negative count; got {value!r}")
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


@dataclass(frozen=True)
class ABResult:
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
        d = asdict(self)
        d["lift"] = self.lift
        d["significant"] = self.significant
        return d

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

    def summary(self) -> str:
        """A plain-language sentence for a seller."""
        conf = 1 - self.alpha
        verdict = (
            "The difference is statistically significant"
            if self.significant
            else "The data cannot tell the variants apart"
        )
        return (
            f"{self.metric.upper()}: {self.name_a} {self.rate_a:.2%} vs {self.name_b} "
            f"{self.rate_b:.2%}; {self.name_b} - {self.name_a} = {self.diff * 100:+.2f} "
            f"points ({conf:.0%} CI {self.diff_low * 100:+.2f} to {self.diff_high * 100:+.2f}), "
            f"lift {self.lift:+.1%} ({conf:.0%} CI {self.ratio_low - 1:+.1%} to "
            f"{self.ratio_high - 1:+.1%}), p = {self.pvalue:.3g}. {verdict} at alpha = "
            f"{self.alpha:g}."
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
    alpha = _check_probability("alpha", alpha)
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {list(_ALTERNATIVES)}; got {alternative!r}")
    xa = _check_count(f"{s_col} of {names[0]}", successes_a)
    na = _check_count(f"{t_col} of {names[0]}", trials_a)
    xb = _check_count(f"{s_col} of {names[1]}", successes_b)
    nb = _check_count(f"{t_col} of {names[1]}", trials_b)
    for name, x, n in ((names[0], xa, na), (names[1], xb, nb)):
        if n == 0:
            raise ValueError(
                f"variant {name!r} has 0 {t_col}: a rate needs at least one trial. "
                "Run the variant longer or drop it from the comparison."
            )
        if x > n:
            raise ValueError(
                f"variant {name!r} has more {s_col} ({x}) than {t_col} ({n}); "
                f"{metric.upper()} = {s_col} / {t_col} cannot exceed 100 %. Check that the "
                "columns are not swapped and come from the same period."
            )
    pooled = (xa + xb) / (na + nb)
    if pooled in (0.0, 1.0):
        raise ValueError(
            f"both variants have {pooled:.0%} {metric.upper()} ({xa}/{na} and {xb}/{nb}): "
            "there is no variation to test. Collect more traffic before comparing."
        )
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


def compare_variants(
    df: pd.DataFrame,
    by: str,
    *,
    metric: Metric = "ctr",
    a: object | None = None,
    b: object | None = None,
    alpha: float = 0.05,
    alternative: Literal["two-sided", "larger", "smaller"] = "two-sided",
) -> ABResult:
    """Sum a canonical frame by a variant column and compare two of its values.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with ``clicks`` and ``impressions`` (CTR) or ``orders`` and ``clicks``
        (CVR), and the column ``by``. Use one site only: the function refuses to pool
        several sites.
    by : str
        Column naming the variant of each row, e.g. ``"thumbnail"``.
    metric : {"ctr", "cvr"}
        Rate to compare.
    a, b : optional
        The two variant values (A is the control). When omitted, the column must
        hold exactly two values, taken in sorted order.
    alpha, alternative
        As in :func:`compare_proportions`.

    Returns
    -------
    ABResult

    Raises
    ------
    ValueError
        If a column is missing, the frame mixes sites, or the variants are unclear.
    """
    s_col, t_col = _check_metric(metric)
    missing = [c for c in (by, s_col, t_col) if c not in df.columns]
    if missing:
        raise ValueError(
            f"compare_variants needs the columns {missing}; the frame has {list(df.columns)}. "
            f"Pass by= the column that names the variant."
        )
    if "site" in df.columns and df["site"].nunique(dropna=True) > 1:
        sites = sorted(map(str, df["site"].dropna().unique()))
        raise ValueError(
            f"the frame mixes sites {sites}; an A/B test must run within one site. "
            "Filter first, e.g. df[df['site'] == 'US']."
        )
    if df[by].isna().any():
        n = int(df[by].isna().sum())
        raise ValueError(f"{n} row(s) have no value in {by!r}; label every row with its variant.")
    values = sorted(df[by].unique(), key=str)
    if a is None and b is None:
        if len(values) != 2:
            raise ValueError(
                f"column {by!r} has {len(values)} values {values[:10]}; pass a= and b= to "
                "choose the two variants to compare."
            )
        a, b = values
    if a not in values or b not in values or a == b:
        raise ValueError(
            f"a and b must be two different values of {by!r}: {values[:20]}; got {a!r}, {b!r}"
        )
    sums = df.groupby(by, observed=True)[[s_col, t_col]].sum()
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


@dataclass(frozen=True)
class SampleSizePlan:
    """How much traffic a two-arm test needs (see :func:`plan_sample_size`)."""

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

    def to_dict(self) -> dict[str, object]:
        """All fields, JSON-friendly."""
        return asdict(self)

    def summary(self) -> str:
        """A plain-language sentence for a seller."""
        text = (
            f"To detect a {self.min_detectable_lift:+.0%} change in {self.metric.upper()} from "
            f"{self.baseline_rate:.2%} to {self.target_rate:.2%} with {self.power:.0%} power at "
            f"alpha = {self.alpha:g} ({self.alternative}), each variant needs about "
            f"{self.n_a:,} {self.unit} (A) and {self.n_b:,} (B), {self.n_total:,} in total"
        )
        if self.days is not None:
            text += f": about {self.days} day(s) at {self.daily_traffic:,.0f} {self.unit} a day"
        return text + "."


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
) -> SampleSizePlan:
    """Traffic per arm (and days) needed to detect a relative lift in CTR or CVR.

    Uses ``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail`` (see
    the module docstring), the planning counterpart of :func:`compare_proportions`.

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

    Returns
    -------
    SampleSizePlan
        ``n_a``, ``n_b`` (rounded up), ``n_total`` and ``days`` (rounded up; None without
        ``daily_traffic``).

    Raises
    ------
    ValueError
        If a rate, alpha or power is outside (0, 1), power <= alpha, the lift is 0 or
        pushes the rate outside (0, 1), the lift contradicts a one-sided alternative,
        ratio <= 0, or daily traffic <= 0.
    """
    _, unit = _check_metric(metric)
    p1 = _check_probability("baseline_rate", baseline_rate)
    alpha = _check_probability("alpha", alpha)
    power = _check_probability("power", power)
    if power <= alpha:
        raise ValueError(f"power ({power}) must exceed alpha ({alpha}); 0.8 or 0.9 is usual.")
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {list(_ALTERNATIVES)}; got {alternative!r}")
    if isinstance(min_detectable_lift, bool) or not isinstance(min_detectable_lift, Real):
        raise ValueError(
            f"min_detectable_lift must be a number such as 0.2 for +20 %; got {min_detectable_lift!r}"
        )
    lift = float(min_detectable_lift)
    if not math.isfinite(lift) or lift == 0.0:
        raise ValueError(
            f"min_detectable_lift must be a non-zero relative change such as 0.2 (+20 %); got {lift!r}"
        )
    p2 = p1 * (1.0 + lift)
    if not 0.0 < p2 < 1.0:
        raise ValueError(
            f"baseline {p1:.4g} with lift {lift:+.0%} gives a target rate {p2:.4g} outside (0, 1); "
            "choose a smaller lift (it is relative: 0.2 means +20 %, not +20 points)."
        )
    if (alternative == "larger" and lift < 0) or (alternative == "smaller" and lift > 0):
        raise ValueError(
            f"alternative={alternative!r} contradicts min_detectable_lift={lift:+.0%}; use "
            "'larger' for an increase, 'smaller' for a decrease, or 'two-sided'."
        )
    if (
        isinstance(ratio, bool)
        or not isinstance(ratio, Real)
        or not math.isfinite(ratio)
        or ratio <= 0
    ):
        raise ValueError(
            f"ratio (size of arm B over arm A) must be a positive number; got {ratio!r}"
        )
    if daily_traffic is not None and (
        isinstance(daily_traffic, bool)
        or not isinstance(daily_traffic, Real)
        or not math.isfinite(daily_traffic)
        or daily_traffic <= 0
    ):
        raise ValueError(
            f"daily_traffic must be a positive number of {unit} a day; got {daily_traffic!r}"
        )

    # statsmodels' diff is prop1 - prop2 where prop2 is the reference; nobs1 is arm B,
    # nobs2 = nobs1 * ratio_sm, so its ratio is A over B.
    n_b_raw = samplesize_proportions_2indep_onetail(
        diff=p2 - p1, prop2=p1, power=power, ratio=1.0 / ratio, alpha=alpha, alternative=alternative
    )
    n_b = math.ceil(float(n_b_raw) - 1e-9)
    n_a = math.ceil(float(n_b_raw) / ratio - 1e-9)
    days = None
    if daily_traffic is not None:
        share_a = 1.0 / (1.0 + ratio)
        days = math.ceil(
            max(n_a / (daily_traffic * share_a), n_b / (daily_traffic * (1 - share_a))) - 1e-9
        )
    return SampleSizePlan(
        metric=metric,
        unit=unit,
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
        method="statsmodels samplesize_proportions_2indep_onetail (normal approximation)",
    )
