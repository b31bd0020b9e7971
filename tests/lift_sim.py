"""Independent simulator for creator-level CTR lift with heterogeneous videos.

Not built on :mod:`helpers.synth`: its own generating model, written down here, so that
the kit's creator-level test, shrinkage and intervals are checked against a truth they
were not fitted to.

Model (one run = one category ``c<d>`` and one test site ``S<d>``; each site is one
Benjamini-Hochberg family of :func:`helpers.lift.ctr_lift`):

* Benchmark population (site US, category ``c<d>``): ``n_bench_creators`` creators with
  a logit-normal creator effect (SD ``bench_creator_sd``) around ``base_ctr``; each has
  ``1 + NegBin`` videos (mean ``videos_mean``) whose CTRs vary around the creator's as
  below. The true benchmark is the population's mean video CTR (impressions are
  independent of CTR, so the pooled CTR estimates it), by Gauss-Hermite integration.
* Test site: ``n_creators`` creators. Under the null every creator's true CTR ``pi``
  (the mean CTR of its videos) equals the true benchmark; a share ``share_different``
  has ``pi = benchmark * effect`` or ``benchmark / effect`` (half each).
* Videos: ``p_j`` with mean exactly ``pi`` and spread ``video_sd`` on the logit scale,
  either logit-normal (``video_dist="logitnormal"``: ``expit(loc + video_sd * z)``, loc
  solved so that the mean is ``pi``) or beta with the same squared coefficient of
  variation (``video_dist="beta"``: ``var p_j = (exp(video_sd^2) - 1) pi^2``).
* Impressions are heavy-tailed: ``1 + floor(exp(imp_log_mean + a_u + e_j))`` with a
  creator reach ``a_u ~ N(0, imp_creator_sd)`` and ``e_j ~ N(0, imp_video_sd)``; clicks
  ``k_j ~ Binomial(n_j, p_j)``.

Run ``python -m tests.lift_sim`` (with the worktree on PYTHONPATH) for the full-rep
figures; :func:`run_study` is what the tests call.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from statsmodels.stats.multitest import multipletests

__all__ = ["SimSettings", "evaluate", "run_study", "simulate"]

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(80)
_GH_W = _GH_W / _GH_W.sum()


@dataclass(frozen=True)
class SimSettings:
    """Parameters of one simulated study (see the module docstring)."""

    n_runs: int = 400
    n_creators: int = 100
    n_bench_creators: int = 150
    videos_mean: float = 6.0
    base_ctr: float = 0.02
    bench_creator_sd: float = 0.3
    video_sd: float = 0.5
    video_dist: str = "logitnormal"
    share_different: float = 0.0
    effect: float = 1.5
    imp_log_mean: float = 6.5
    imp_creator_sd: float = 1.0
    imp_video_sd: float = 1.2
    fdr: float = 0.05
    min_impressions: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


def _mean_expit(loc: float, sd: float) -> float:
    return float(np.sum(_GH_W * special.expit(loc + sd * _GH_X)))


def _logit_location(mean: float, sd: float) -> float:
    """Location of a logit-normal with SD ``sd`` whose mean is ``mean``."""
    return optimize.brentq(lambda m: _mean_expit(m, sd) - mean, -30.0, 30.0, xtol=1e-12)


def _video_ctrs(
    rng: np.random.Generator, pi: np.ndarray, settings: SimSettings, cache: dict[float, float]
) -> np.ndarray:
    """One CTR per video with mean ``pi`` (per video) and the settings' spread."""
    sd = settings.video_sd
    if sd == 0:
        return pi
    if settings.video_dist == "logitnormal":
        uniq, inv = np.unique(pi, return_inverse=True)
        for p in uniq.tolist():
            if p not in cache:
                cache[p] = _logit_location(p, sd)
        loc = np.array([cache[p] for p in uniq.tolist()])[inv]
        return special.expit(loc + sd * rng.standard_normal(len(pi)))
    if settings.video_dist == "beta":
        cv2 = math.expm1(sd * sd)  # the logit-normal's squared CV at small CTRs
        strength = (1 - pi) / (pi * cv2) - 1
        if np.any(strength <= 0):
            raise ValueError("video_sd too large for a beta with this mean")
        return rng.beta(pi * strength, (1 - pi) * strength)
    raise ValueError(f"video_dist={settings.video_dist!r}; accepted: 'logitnormal', 'beta'")


def _videos(rng: np.random.Generator, n_creators: int, settings: SimSettings) -> np.ndarray:
    """Creator index of each video: 1 + negative-binomial videos per creator."""
    extra_mean = settings.videos_mean - 1
    per = 1 + rng.negative_binomial(2, 2 / (2 + extra_mean), n_creators)
    return np.repeat(np.arange(n_creators), per)


def _impressions(
    rng: np.random.Generator, creator: np.ndarray, settings: SimSettings
) -> np.ndarray:
    reach = rng.normal(0, settings.imp_creator_sd, creator.max() + 1)
    log_imp = (
        settings.imp_log_mean + reach[creator] + rng.normal(0, settings.imp_video_sd, len(creator))
    )
    return 1 + np.floor(np.exp(log_imp)).astype(np.int64)


def true_benchmark(settings: SimSettings) -> float:
    """The benchmark population's mean video CTR."""
    mu = special.logit(settings.base_ctr)
    if settings.video_dist == "logitnormal":
        return _mean_expit(mu, math.hypot(settings.bench_creator_sd, settings.video_sd))
    return _mean_expit(mu, settings.bench_creator_sd)  # beta videos keep the creator's mean


def simulate(settings: SimSettings, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical frame (one row per video) and the truth per test-site creator.

    Returns
    -------
    frame : pandas.DataFrame
        site, category, creator_id, content_id, impressions, clicks.
    truth : pandas.DataFrame
        site, category, creator_id, true_ctr, true_benchmark, true_lift, different.
    """
    rng = np.random.default_rng(seed)
    b_true = true_benchmark(settings)
    mu = special.logit(settings.base_ctr)
    cache: dict[float, float] = {}
    frames, truths = [], []
    for d in range(settings.n_runs):
        cat = f"c{d:04d}"
        # benchmark population (US)
        c = _videos(rng, settings.n_bench_creators, settings)
        pi_c = special.expit(
            mu + rng.normal(0, settings.bench_creator_sd, settings.n_bench_creators)
        )
        if settings.video_dist == "logitnormal":
            # the creator's location is mu + effect; its videos add logit-normal noise
            eta = special.logit(pi_c)[c] + settings.video_sd * rng.standard_normal(len(c))
            p = special.expit(eta)
        else:
            p = _video_ctrs(rng, pi_c[c], settings, cache)
        imp = _impressions(rng, c, settings)
        frames.append(_frame("US", cat, f"u{d}_", c, imp, rng.binomial(imp, p)))
        # test site
        n_c = settings.n_creators
        direction = np.zeros(n_c)
        n_diff = int(round(settings.share_different * n_c))
        if n_diff:
            direction[rng.choice(n_c, n_diff, replace=False)] = rng.choice([-1.0, 1.0], n_diff)
        pi = b_true * settings.effect**direction
        c = _videos(rng, n_c, settings)
        p = _video_ctrs(rng, pi[c], settings, cache)
        imp = _impressions(rng, c, settings)
        site = f"S{d:04d}"
        frames.append(_frame(site, cat, f"s{d}_", c, imp, rng.binomial(imp, p)))
        truths.append(
            pd.DataFrame(
                {
                    "site": site,
                    "category": cat,
                    "creator_id": [f"s{d}_{i}" for i in range(n_c)],
                    "true_ctr": pi,
                    "true_benchmark": b_true,
                    "true_lift": pi / b_true - 1,
                    "different": direction != 0,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["content_id"] = pd.array([f"v{i}" for i in range(len(frame))], dtype="string")
    frame = frame.astype({"site": "category", "category": "category", "creator_id": "string"})
    return frame, pd.concat(truths, ignore_index=True)


def _frame(
    site: str, cat: str, prefix: str, c: np.ndarray, imp: np.ndarray, clk: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": site,
            "category": cat,
            "creator_id": [f"{prefix}{i}" for i in c],
            "impressions": imp,
            "clicks": clk,
        }
    )


def _naive_flags(units: pd.DataFrame, bench: pd.DataFrame, fdr: float) -> np.ndarray:
    """Flags of the test that treats every impression as independent (the kit before
    the design effect: binomial test with the benchmark's variance only), BH per site."""
    from helpers import lift

    b = bench.set_index(bench["category"].astype(str))
    lv = ((b["se"] / b["benchmark_ctr"]) ** 2).reindex(units["category"].astype(str)).to_numpy()
    el = units["eligible"].to_numpy()
    k = units["clicks"].to_numpy()
    n = units["impressions"].to_numpy()
    p0 = units["benchmark_ctr"].to_numpy()
    p = np.full(len(units), np.nan)
    p[el] = lift._binom_two_sided(k[el], n[el], p0[el], lv[el])
    flag = np.zeros(len(units), dtype=bool)
    for _, idx in units.groupby("site", observed=True).indices.items():
        idx = idx[el[idx]]
        if len(idx):
            flag[idx] = multipletests(p[idx], alpha=fdr, method="fdr_bh")[0]
    return flag


def evaluate(settings: SimSettings, frame: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Run the kit at creator level and score it against the truth.

    Returns
    -------
    dict
        ``runs``; ``any_false_flag`` (share of sites with at least one flag on a
        creator whose true CTR equals the benchmark) and its naive counterpart;
        ``fdr_mean`` (mean false-discovery proportion, 0 when nothing is flagged);
        ``power`` (share of truly different eligible creators flagged in the right
        direction); ``coverage`` of the 95 % shrunk-lift interval (all creators, those
        with one video and with 5+ videos, the truly different ones);
        ``median_design_effect``, ``video_dispersion`` (median estimate).
    """
    from helpers import lift

    bench = lift.benchmark(frame)
    sites = [s for s in frame["site"].cat.categories if s != "US"]
    res = lift.ctr_lift(
        frame,
        bench,
        level="creator",
        sites=sites,
        min_impressions=settings.min_impressions,
        fdr=settings.fdr,
    )
    u = res.units.merge(truth, on=["site", "category", "creator_id"], how="left", validate="1:1")
    assert u["true_ctr"].notna().all()
    flagged = u["flag"].isin(["above", "below"]).to_numpy()
    right_way = ((u["flag"] == "above") & (u["true_lift"] > 0)) | (
        (u["flag"] == "below") & (u["true_lift"] < 0)
    )
    null = ~u["different"].to_numpy()
    naive = _naive_flags(u, bench, settings.fdr)
    by_site = pd.DataFrame(
        {
            "site": u["site"].astype(str),
            "false": flagged & null,
            "naive_false": naive & null,
            "flagged": flagged,
        }
    ).groupby("site")
    per = by_site.sum()
    fdp = np.where(per["flagged"] > 0, per["false"] / per["flagged"].clip(lower=1), 0.0)
    tl = u["true_lift"].to_numpy()
    cover = (u["shrunk_lift_low"].to_numpy() <= tl) & (tl <= u["shrunk_lift_high"].to_numpy())
    n_rows = u["n_rows"].to_numpy()
    diff = u["different"].to_numpy()
    el = u["eligible"].to_numpy()
    runs = len(per)
    out = {
        "runs": runs,
        "units": len(u),
        "any_false_flag": float((per["false"] > 0).mean()),
        "any_false_flag_se": float(
            math.sqrt(max((per["false"] > 0).mean(), 1e-9) * (1 - (per["false"] > 0).mean()) / runs)
        ),
        "naive_any_false_flag": float((per["naive_false"] > 0).mean()),
        "fdr_mean": float(np.mean(fdp)),
        "power": float(right_way[diff & el].mean()) if (diff & el).any() else math.nan,
        "coverage": float(cover.mean()),
        "coverage_one_video": float(cover[n_rows == 1].mean()) if (n_rows == 1).any() else math.nan,
        "coverage_5plus_videos": float(cover[n_rows >= 5].mean()),
        "coverage_different": float(cover[diff].mean()) if diff.any() else math.nan,
        "median_design_effect": float(np.median(u["design_effect"])),
        "p90_design_effect": float(np.quantile(u["design_effect"], 0.9)),
        "video_dispersion": float(
            res.priors.loc[res.priors["site"].astype(str) != "US", "video_dispersion"].median()
        ),
        "true_video_dispersion": math.expm1(settings.video_sd**2),
    }
    return out


def run_study(settings: SimSettings, seed: int = 0) -> dict[str, Any]:
    """Simulate and evaluate one study; adds the settings and the seconds taken."""
    t0 = time.perf_counter()
    frame, truth = simulate(settings, seed)
    out = evaluate(settings, frame, truth)
    out["rows"] = len(frame)
    out["seconds"] = time.perf_counter() - t0
    out["settings"] = {k: v for k, v in settings.__dict__.items() if k != "extra"}
    return out


def _fmt(r: dict[str, Any]) -> str:
    s = r["settings"]
    return (
        f"{s['video_dist']:11s} video_sd {s['video_sd']:.2f} different {s['share_different']:.0%} "
        f"effect x{s['effect']}: runs {r['runs']}, creators {r['units']:,}, rows {r['rows']:,}; "
        f"any false flag {r['any_false_flag']:.3f} (+-{1.96 * r['any_false_flag_se']:.3f}; naive "
        f"{r['naive_any_false_flag']:.3f}); mean FDP {r['fdr_mean']:.3f}; power {r['power']:.3f}; "
        f"coverage {r['coverage']:.3f} (1 video {r['coverage_one_video']:.3f}, 5+ videos "
        f"{r['coverage_5plus_videos']:.3f}, different {r['coverage_different']:.3f}); design "
        f"effect median {r['median_design_effect']:.1f}, p90 {r['p90_design_effect']:.1f}; "
        f"dispersion est. {r['video_dispersion']:.3f} vs true {r['true_video_dispersion']:.3f} "
        f"[{r['seconds']:.0f} s]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lift_sim", description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for dist in ("logitnormal", "beta"):
        for share in (0.0, 0.2):
            s = SimSettings(n_runs=args.runs, video_dist=dist, share_different=share)
            print(_fmt(run_study(s, args.seed)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
