"""Benchmark of helpers.lift: benchmark + CTR lift + shrinkage on millions of rows.

``python -m bench.bench_lift [--quick] [--rows N ...] [--levels content creator]``

Each (rows, level) case runs in a fresh subprocess so that its peak memory
(``resource.getrusage`` max RSS) is its own. The frame is a lean canonical frame built
with numpy (site, category, creator_id, content_id, tier, impressions, clicks; string ids
as in a loaded export) with CTRs that vary by creator and video, so the prior fit and the
tests see realistic data. Printed: seconds per stage, total, rows per second, peak RSS,
the share of units whose posterior interval came from the Cornish-Fisher expansion (the
rest are exact ``betaincinv``), and the 10x rows -> time ratio. The run without
intervals comes after the main one and after its result is freed, so the peak RSS is
that of one ``ctr_lift`` call (plus the frame and the benchmark).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["make_frame", "main", "run_case"]


def make_frame(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A lean canonical frame with heterogeneous CTRs (about 12 rows per creator)."""
    import pyarrow as pa
    from scipy.special import expit

    from helpers.schema import TIER_DTYPE

    rng = np.random.default_rng(seed)
    n_creators = max(1, n_rows // 12)
    sites = np.array(["US", "UK", "ID", "TH"])
    c_site = rng.choice(4, n_creators, p=[0.45, 0.2, 0.2, 0.15])
    c_tier = rng.choice(5, n_creators, p=[0.45, 0.3, 0.15, 0.05, 0.05])
    c_eff = rng.normal(0, 0.35, n_creators)
    r_c = rng.integers(0, n_creators, n_rows)
    r_cat = rng.integers(0, 5, n_rows)
    cat_eff = np.array([0.2, -0.3, 0.35, 0.0, -0.1])
    site_eff = np.array([0.0, -0.15, 0.25, 0.1])
    eta = -3.9 + site_eff[c_site[r_c]] + cat_eff[r_cat] + c_eff[r_c] + rng.normal(0, 0.15, n_rows)
    mu_imp = np.array([4.8, 6.0, 7.2, 8.3, 9.9])[c_tier[r_c]]
    imp = 1 + np.floor(rng.lognormal(mu_imp, 1.1)).astype(np.int64)
    clicks = rng.binomial(imp, expit(eta))

    def strings(prefix: str, ints: np.ndarray) -> pd.arrays.ArrowStringArray:
        arr = pa.compute.binary_join_element_wise(prefix, pa.array(ints).cast(pa.string()), "")
        return pd.arrays.ArrowStringArray(arr)

    return pd.DataFrame(
        {
            "site": pd.Categorical.from_codes(c_site[r_c], categories=sites),
            "creator_id": strings("@creator_", r_c),
            "tier": pd.Categorical.from_codes(c_tier[r_c], dtype=TIER_DTYPE),
            "category": pd.Categorical.from_codes(
                r_cat, categories=["beauty", "electronics", "fashion", "health", "home"]
            ),
            "content_id": strings("73", rng.permutation(n_rows) + 10**12),
            "impressions": imp,
            "clicks": clicks,
        }
    )


def run_case(n_rows: int, level: str, seed: int = 0) -> dict[str, float]:
    """Time the stages on one frame (call in a fresh process for a clean peak RSS)."""
    import resource

    from helpers import lift

    t0 = time.perf_counter()
    df = make_frame(n_rows, seed)
    out: dict[str, float] = {"rows": n_rows, "make_frame_s": time.perf_counter() - t0}
    out["rss_after_frame_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    bench = lift.benchmark(df)
    out["benchmark_s"] = time.perf_counter() - t
    t = time.perf_counter()
    res = lift.ctr_lift(df, bench, level=level, seed=seed)
    out["lift_and_shrinkage_s"] = time.perf_counter() - t
    out["total_s"] = out["benchmark_s"] + out["lift_and_shrinkage_s"]
    out["units"] = len(res.units)
    for stage, sec in res.params["timings"].items():
        out[f"stage_{stage}"] = sec
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["flags_above"] = int((res.units["flag"] == "above").sum())
    info = res.params.get("intervals") or {}
    out["intervals_approximated"] = info.get("units_approximated", float("nan"))
    out["intervals_exact"] = info.get("units_exact", float("nan"))
    del res  # the run without intervals must not hold two results (peak RSS above)
    t = time.perf_counter()
    lift.ctr_lift(df, bench, level=level, intervals=False, seed=seed)
    out["lift_and_shrinkage_no_intervals_s"] = time.perf_counter() - t
    return out


def _child(n_rows: int, level: str, seed: int) -> dict[str, float]:
    code = (
        "import json, sys; from bench.bench_lift import run_case; "
        f"print(json.dumps(run_case({n_rows}, {level!r}, {seed})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench case rows={n_rows} level={level} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print a table and ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_lift", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k and 1M rows")
    parser.add_argument(
        "--rows", type=int, nargs="*", default=None, help="sizes (default 1M and 10M)"
    )
    parser.add_argument(
        "--levels", nargs="*", default=["content", "creator"], help="content, creator"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = args.rows or ([100_000, 1_000_000] if args.quick else [1_000_000, 10_000_000])
    results = []
    for level in args.levels:
        for n in sizes:
            r = _child(n, level, args.seed)
            r["level"] = level
            results.append(r)
            print(
                f"{level:8s} rows={n:>11,d} units={int(r['units']):>11,d}  benchmark {r['benchmark_s']:6.2f} s  "
                f"lift+shrinkage {r['lift_and_shrinkage_s']:6.2f} s [units {r['stage_units_s']:.2f}, prior "
                f"{r['stage_prior_s']:.2f}, shrinkage+intervals {r['stage_shrinkage_s']:.2f}, tests+BH "
                f"{r['stage_tests_s']:.2f}; without intervals {r['lift_and_shrinkage_no_intervals_s']:.2f}]  "
                f"total {r['total_s']:6.2f} s  "
                f"{n / r['total_s'] / 1e6:5.2f} M rows/s  peak RSS {r['peak_rss_mb']:7.0f} MB "
                f"(frame alone {r['rss_after_frame_mb']:6.0f} MB); intervals: "
                f"{r['intervals_approximated'] / max(r['units'], 1):.0%} Cornish-Fisher, "
                f"{int(r['intervals_exact']):,d} units exact",
                flush=True,
            )
    for level in args.levels:
        rs = [r for r in results if r["level"] == level]
        if len(rs) >= 2:
            small, big = rs[0], rs[-1]
            print(
                f"{level}: {big['rows'] / small['rows']:.0f}x rows -> {big['total_s'] / small['total_s']:.1f}x time, "
                f"{big['peak_rss_mb'] / small['peak_rss_mb']:.1f}x peak RSS"
            )
        big = rs[-1]
        print(
            f"{level}: at {int(big['rows']):,d} rows benchmark + lift + shrinkage take {big['total_s']:.1f} s "
            f"({big['benchmark_s'] + big['lift_and_shrinkage_no_intervals_s']:.1f} s without the posterior "
            "intervals)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
