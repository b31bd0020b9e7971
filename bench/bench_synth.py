"""Benchmark of helpers.synth: time and peak memory of make_affiliate_data.

``python -m bench.bench_synth`` measures 1M and 10M rows; ``--quick`` 100k and 1M.
Each size runs in a fresh subprocess so its peak RSS (``resource.getrusage``) is its
own. Targets (task brief): 1M rows in a few seconds, 10M rows in under a minute on 2
cores, with reasonable memory. Also times the CSV export writer on 30k rows (the
size of data/sample).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["main", "measure"]

_CHILD = r"""
import json, resource, sys, time
import psutil
from helpers.synth import make_affiliate_data
n = int(sys.argv[1])
make_affiliate_data(1_000, seed=0)  # imports, caches and the truth projections (same for every n)
base = psutil.Process().memory_info().rss
t0 = time.perf_counter()
res = make_affiliate_data(n, seed=0)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
frame = int(res.data.memory_usage(deep=True).sum())
print(json.dumps({"rows": n, "seconds": dt, "peak_rss": peak, "base_rss": base, "frame_bytes": frame}))
"""

_CHILD_WRITER = r"""
import json, sys, tempfile, time
from helpers.synth import make_affiliate_data, write_exports
n = int(sys.argv[1])
res = make_affiliate_data(n, seed=0)
with tempfile.TemporaryDirectory() as d:
    t0 = time.perf_counter()
    write_exports(res, d, language="en", fmt="csv")
    csv_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_exports(res, d + "/zh", language="zh", fmt="xlsx")
    xlsx_s = time.perf_counter() - t0
print(json.dumps({"rows": n, "csv_seconds": csv_s, "xlsx_seconds": xlsx_s}))
"""


def _run(code: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(n_rows: int) -> dict[str, float]:
    """Time and peak RSS of ``make_affiliate_data(n_rows)`` in a fresh process.

    Parameters
    ----------
    n_rows : int
        Rows to generate.

    Returns
    -------
    dict
        rows, seconds, peak_rss and base_rss (bytes), frame_bytes (deep memory of
        ``.data``).
    """
    return _run(_CHILD, n_rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Print time, throughput and peak memory for two sizes and their ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_synth", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="100k and 1M rows instead of 1M and 10M"
    )
    args = parser.parse_args(argv)
    sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    mib = 1024**2
    results = []
    print(
        f"{'rows':>12} {'seconds':>8} {'rows/s':>12} {'peak RSS MiB':>13} {'+RSS MiB':>9} {'frame MiB':>10} {'B/row':>6}"
    )
    for n in sizes:
        r = measure(n)
        results.append(r)
        print(
            f"{n:>12,} {r['seconds']:>8.2f} {n / r['seconds']:>12,.0f} {r['peak_rss'] / mib:>13,.0f} "
            f"{(r['peak_rss'] - r['base_rss']) / mib:>9,.0f} {r['frame_bytes'] / mib:>10,.0f} "
            f"{r['frame_bytes'] / n:>6.0f}",
            flush=True,
        )
    a, b = results
    print(
        f"ratio {b['rows'] // a['rows']}x rows: time x{b['seconds'] / a['seconds']:.1f}, "
        f"peak RSS x{b['peak_rss'] / a['peak_rss']:.1f}, "
        f"peak RSS / frame size at {b['rows']:,} rows: {b['peak_rss'] / b['frame_bytes']:.1f}"
    )
    w = _run(_CHILD_WRITER, 30_000)
    print(
        f"writer, 30,000 rows: en CSV {w['csv_seconds']:.2f} s, zh XLSX {w['xlsx_seconds']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
